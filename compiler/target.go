package compiler

import (
	"embed"
	"io/fs"
	"path"
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
//
// clang folds __builtin_bswap16/32/64 of an integer constant expression to one (libbpf's
// bpf_htons, the kernel's __constant_htons, case labels such as
// `case __bpf_htons(ETH_P_IP):`); cc/v4 cannot evaluate a call. Each tests
// __builtin_constant_p(x): a constant folds through shifts, any other argument stays the
// builtin call (a macro does not expand inside its own expansion). The test and the folding
// arm sit behind the offsetof marker, so the walkers see the argument once, in the call, as
// before. A conditional rather than __builtin_choose_expr, whose arm not taken still makes
// cc/v4's __builtin_constant_p of the whole 0 (clang's is 1); the cast keeps the type.
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
#define __corels_folded(e) __builtin_choose_expr(1, (e), __corels_offsetof)
#define __corels_swab16(v) ((__UINT16_TYPE__)((v) << 8 | (v) >> 8))
#define __corels_swab32(v) ((__UINT32_TYPE__)((v) << 24 | ((v) & 0xff00U) << 8 | ((v) >> 8) & 0xff00U | (v) >> 24))
#define __corels_swab64(v) ((__UINT64_TYPE__)((v) << 56 | ((v) & 0xff00UL) << 40 | ((v) & 0xff0000UL) << 24 | ((v) & 0xff000000UL) << 8 | ((v) >> 8) & 0xff000000UL | ((v) >> 24) & 0xff0000UL | ((v) >> 40) & 0xff00UL | (v) >> 56))
#define __builtin_bswap16(x) ((__UINT16_TYPE__)(__corels_folded(__builtin_constant_p(x)) ? __corels_folded(__corels_swab16((__UINT16_TYPE__)(x))) : __builtin_bswap16(x)))
#define __builtin_bswap32(x) ((__UINT32_TYPE__)(__corels_folded(__builtin_constant_p(x)) ? __corels_folded(__corels_swab32((__UINT32_TYPE__)(x))) : __builtin_bswap32(x)))
#define __builtin_bswap64(x) ((__UINT64_TYPE__)(__corels_folded(__builtin_constant_p(x)) ? __corels_folded(__corels_swab64((__UINT64_TYPE__)(x))) : __builtin_bswap64(x)))
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
	markerOffsetof            = "__corels_offsetof" // also any operand clang folds to a constant
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
// for -target bpf, in order; clang's resource directory sits between them (see
// builtinIncludeDir).
var DefaultSysIncludeDirs = []string{"/usr/local/include", "/usr/include"}

// corels' own freestanding headers (stddef.h, stdint.h, limits.h, ...), written from the C
// standard and the target's predefined macros. They stand where clang's resource directory
// stands in clang's search order: after -I and -isystem and /usr/local/include, before
// /usr/include (clang-16 -target bpf -v -E - </dev/null).
//
//go:embed include/*.h
var builtinHeaders embed.FS

// builtinIncludeDir is the virtual directory the builtin headers are served from; no real
// path starts with it.
const builtinIncludeDir = "/<corels-include>"

// builtinHeader returns a builtin header by its path under builtinIncludeDir; ok is false
// for every other path.
func builtinHeader(name string) (data []byte, ok bool, err error) {
	rest, found := strings.CutPrefix(name, builtinIncludeDir+"/")
	if !found {
		return nil, false, nil
	}
	data, err = builtinHeaders.ReadFile(path.Join("include", rest))
	if err != nil {
		return nil, true, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return data, true, nil
}

// BuiltinHeaderNames lists the headers corels provides in place of clang's resource
// directory.
func BuiltinHeaderNames() []string {
	entries, _ := builtinHeaders.ReadDir("include") // the directory is embedded: it exists
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names
}

// searchDirs are the directories after the command line's: the system directories and the
// builtin headers, as -nostdinc, -nostdlibinc and -nobuiltininc leave them.
func searchDirs(f *Flags) []string {
	var dirs []string
	if !f.NoStdInc && !f.NoStdlibInc {
		dirs = append(dirs, DefaultSysIncludeDirs[0])
	}
	if !f.NoStdInc && !f.NoBuiltinInc {
		dirs = append(dirs, builtinIncludeDir)
	}
	if !f.NoStdInc && !f.NoStdlibInc {
		dirs = append(dirs, DefaultSysIncludeDirs[1:]...)
	}
	return dirs
}

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
		IncludePaths:    append(append(append([]string{""}, f.IncludeDirs...), f.SysDirs...), searchDirs(f)...),
		SysIncludePaths: append(append(append([]string{}, f.IncludeDirs...), f.SysDirs...), searchDirs(f)...),
	}
	if fsys.fallback != nil { // searched after every real directory
		cfg.IncludePaths = append(cfg.IncludePaths, fallbackDir)
		cfg.SysIncludePaths = append(cfg.SysIncludePaths, fallbackDir)
	}
	return cfg, nil
}
