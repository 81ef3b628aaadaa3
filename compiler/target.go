package compiler

import (
	_ "embed"
	"strings"

	"modernc.org/cc/v4"
)

// clang's predefined macros for -target bpf, captured from clang-16 (make predefined).
//
//go:embed bpf_predefined.h
var bpfPredefined string

// preludeName is the source name of the builtin prelude; diagnostics in it are ours, not the
// user's.
const preludeName = "<corels-prelude>"

// prelude declares what clang's BPF target has built in and cc/v4 does not.
//
// cc/v4 rejects variadic prototypes for builtins, so the CO-RE builtins are declared without
// a prototype. __builtin_preserve_access_index must keep its argument's type, which no C
// declaration can say; it expands to a __builtin_choose_expr (which does keep the type)
// whose third operand is a marker the relocation walker recognises. __builtin_offsetof gets
// a marker too: clang folds it to a constant, so member accesses inside it never relocate.
const prelude = `
unsigned int __builtin_preserve_field_info();
unsigned int __builtin_preserve_type_info();
unsigned long long __builtin_preserve_enum_value();
unsigned long long __builtin_btf_type_id();
extern int __corels_preserve_access_index;
extern int __corels_offsetof;
#define __builtin_preserve_access_index(x) __builtin_choose_expr(1, (x), __corels_preserve_access_index)
#undef __builtin_offsetof
#define __builtin_offsetof(type, member) __builtin_choose_expr(1, ((__SIZE_TYPE__)&(((type*)0)->member)), __corels_offsetof)
void *__builtin_memcpy(void *dst, const void *src, unsigned long n);
void *__builtin_memset(void *dst, int c, unsigned long n);
void *__builtin_memmove(void *dst, const void *src, unsigned long n);
int __builtin_memcmp(const void *a, const void *b, unsigned long n);
long __builtin_expect(long v, long expected);
void __builtin_unreachable(void);
void __builtin_trap(void);
`

const (
	markerPreserveAccessIndex = "__corels_preserve_access_index"
	markerOffsetof            = "__corels_offsetof"
)

// predefinedFor returns the predefined-macro source: clang's BPF set followed by the -D/-U
// of the flags, in command-line order as clang applies them.
func predefinedFor(f *Flags) string {
	var b strings.Builder
	b.WriteString(bpfPredefined)
	b.WriteByte('\n')
	for _, d := range f.Macros {
		if d.Undef {
			b.WriteString("#undef " + d.Name + "\n")
			continue
		}
		b.WriteString("#define " + d.Name + " " + d.Value + "\n")
	}
	return b.String()
}

// DefaultSysIncludeDirs are the directories clang searches for <...> on a Debian machine
// for -target bpf (clang's own resource directory is not needed by CO-RE programs).
var DefaultSysIncludeDirs = []string{"/usr/local/include", "/usr/include"}

// expansionLimit bounds the preprocessor's work per run, so a macro blow-up in a half-typed
// file reports an error instead of exhausting memory. The whole corpus, vmlinux.h and
// libbpf's macros included, passes at 2M; a blow-up stopped at 5M costs about a second.
const expansionLimit = 5_000_000

func newConfig(f *Flags, fsys *overlayFS, pragma func([]cc.Token) error) (*cc.Config, error) {
	abi, err := cc.NewABI("linux", "amd64")
	if err != nil {
		return nil, err
	}
	cfg := &cc.Config{
		ABI:            abi,
		FS:             fsys,
		PragmaHandler:  pragma,
		Predefined:     predefinedFor(f),
		ExpansionLimit: expansionLimit,
		// Every file comes through fsys: never os.Open behind its back.
		FSOnly: true,
		// clang searches -I directories for both "..." and <...>.
		IncludePaths:    append(append([]string{""}, f.IncludeDirs...), f.SysDirs...),
		SysIncludePaths: append(append(append([]string{}, f.IncludeDirs...), f.SysDirs...), DefaultSysIncludeDirs...),
	}
	cfg.IncludePaths = append(cfg.IncludePaths, DefaultSysIncludeDirs...)
	if fsys.fallback != nil { // searched after every real directory
		cfg.IncludePaths = append(cfg.IncludePaths, fallbackDir)
		cfg.SysIncludePaths = append(cfg.SysIncludePaths, fallbackDir)
	}
	return cfg, nil
}
