package compiler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"modernc.org/cc/v4"
)

// ccBugs are cc/v4 v4.31.0 front-end bugs that real BPF programs hit, each with a minimal
// reproducer (our own code) for an upstream report. The test insists that cc/v4 alone still
// fails on each, so a fixed cc/v4 is noticed, and that corels compiles the reproducer where
// it works around the bug.
var ccBugs = []struct {
	name, src string
	ccError   string // what cc/v4 says
	worked    bool   // corels compiles it (a workaround in target.go or frontend.go)
	why       string
}{
	{
		name:    "bswap in a case label",
		src:     "int f(int v) { switch (v) { case __builtin_bswap16(0x0800): return 1; } return 0; }\n",
		ccError: "cannot evaluate constant expression",
		worked:  true,
		why: "cc/v4 does not fold __builtin_bswap16/32/64 of a constant (clang does; libbpf's __bpf_htons " +
			"in a case label, kernel selftest test_tc_dtime.c); the prelude folds them",
	},
	{
		name:    "function type name",
		src:     "int g(void *);\nstruct s { __typeof__(int (void *)) *values[2]; } m = { .values = { [1] = (void *)&g } };\n",
		ccError: "unexpected '(', expected abstract declarator",
		worked:  false, // only libbpf's __array(name, T (params)) spelling is rewritten
		why: "cc/v4 cannot parse an abstract function declarator without a pointer in a type name, " +
			"`int (void *)`; libbpf's __array(values, int (void *)) of prog-array maps (kernel " +
			"selftest test_prog_array_init.c) is rewritten as __typeof__(*(int (*)(void *))0)",
	},
	{
		name:    "function type name in __array",
		src:     "#define __array(name, val) __typeof__(val) *name[]\nint g(void *);\nstruct { int type; __array(values, int (void *)); } m = { .values = { [1] = (void *)&g } };\n",
		ccError: "unexpected '(', expected abstract declarator",
		worked:  true,
		why:     "the same bug through libbpf's __array macro, which corels rewrites",
	},
	{
		name:    "__builtin_constant_p of __builtin_choose_expr",
		src:     "int f(void);\n_Static_assert(__builtin_constant_p(__builtin_choose_expr(1, 2, f())), \"\");\n",
		ccError: "assertion failed",
		worked:  false,
		why: "cc/v4's __builtin_constant_p counts a call in the operand __builtin_choose_expr does not " +
			"take; corels' own folding macros use a conditional instead, which cc/v4 gets right",
	},
	{
		name:    "typeof of a type name in a file-scope declaration",
		src:     "typedef __typeof__(int) i_t;\n",
		ccError: "missed/failed type check",
		worked:  false,
		why: "cc/v4 fails to type-check __typeof__(type-name) in the declaration specifiers of a " +
			"file-scope declaration (a struct member with the same specifiers is fine)",
	},
}

// ccAlone translates src with cc/v4 and the target's predefined macros and cc's builtin
// header, without corels' prelude or source rewrites.
func ccAlone(t *testing.T, src string) error {
	t.Helper()
	flags, _ := ParseFlags(nil, "")
	cfg, err := newConfig(flags, newOverlayFS(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cc.Translate(cfg, []cc.Source{
		{Name: "<predefined>", Value: cfg.Predefined},
		{Name: "<builtin>", Value: cc.Builtin},
		{Name: "bug.c", Value: src},
	})
	return err
}

func TestFrontEndBugs(t *testing.T) {
	dir := t.TempDir()
	for _, bug := range ccBugs {
		t.Run(bug.name, func(t *testing.T) {
			err := ccAlone(t, bug.src)
			if err == nil || !strings.Contains(err.Error(), bug.ccError) {
				t.Fatalf("cc/v4 alone: got %v, want %q: fixed upstream? (%s)", err, bug.ccError, bug.why)
			}
			file := filepath.Join(dir, "bug.c")
			full, pruned := compileBoth(t, file, []byte(bug.src), &Flags{})
			for mode, res := range map[string]*Result{"full": full, "pruned": pruned} {
				if bug.worked && res.HasErrors() {
					t.Errorf("%s: the workaround does not work: %v", mode, res.Diagnostics)
				}
				if !bug.worked && !res.HasErrors() {
					t.Errorf("%s: compiles now: mark it worked around (%s)", mode, bug.why)
				}
			}
			if out, err, ok := clangSyntax(t, writeFile(t, file, bug.src), nil); ok && err != nil {
				t.Errorf("clang-16 rejects the reproducer: %v\n%s", err, out)
			}
		})
	}
}

func writeFile(t *testing.T, path, src string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestConstantBuiltins: __builtin_bswap* of a constant is an integer constant expression of
// the builtin's type, directly and through libbpf's bpf_endian.h, as clang folds it.
func TestConstantBuiltins(t *testing.T) {
	endian := "/usr/include/bpf/bpf_endian.h"
	_, endianErr := os.Stat(endian)
	const types = "typedef unsigned short __u16;\ntypedef unsigned int __u32;\ntypedef unsigned long long __u64;\n"
	tests := []struct {
		name   string
		libbpf bool
		src    string
	}{
		{name: "values", src: `
_Static_assert(__builtin_bswap16(0x0800) == 0x0008, "");
_Static_assert(__builtin_bswap16(0x1234) == 0x3412 && __builtin_bswap16(-1) == 0xffff, "");
_Static_assert(__builtin_bswap16(0x12345) == 0x4523, "truncated to 16 bits first");
_Static_assert(__builtin_bswap32(0x12345678) == 0x78563412 && __builtin_bswap32(-2) == 0xfeffffffu, "");
_Static_assert(__builtin_bswap32(0xff000000u) == 0xff, "");
_Static_assert(__builtin_bswap64(0x0102030405060708UL) == 0x0807060504030201UL, "");
_Static_assert(__builtin_bswap64(0xff) == 0xff00000000000000UL && __builtin_bswap64(-1) == ~0UL, "");
`},
		{name: "types", src: `
_Static_assert(__builtin_types_compatible_p(__typeof__(__builtin_bswap16(1)), unsigned short), "");
_Static_assert(__builtin_types_compatible_p(__typeof__(__builtin_bswap32(1)), unsigned int), "");
_Static_assert(__builtin_types_compatible_p(__typeof__(__builtin_bswap64(1)), unsigned long), "");
int v;
_Static_assert(__builtin_types_compatible_p(__typeof__(__builtin_bswap16(v)), unsigned short), "");
_Static_assert(__builtin_types_compatible_p(__typeof__(__builtin_bswap64(v)), unsigned long), "");
_Static_assert(!__builtin_constant_p(__builtin_bswap32(v)) && __builtin_constant_p(__builtin_bswap32(7)), "");
_Static_assert(__builtin_constant_p(0x0800) && __builtin_constant_p(sizeof(int)) && !__builtin_constant_p(v), "");
`},
		{name: "case labels and array sizes", src: `
char buf[__builtin_bswap16(0x0100)];
_Static_assert(sizeof(buf) == 1, "");
int f(int v) {
	switch (v) {
	case __builtin_bswap16(0x0800): return 1;
	case __builtin_bswap32(0x86DD0000): return 2;
	case __builtin_bswap64(0x0600000000000000): return 3;
	}
	return __builtin_bswap16(v) + __builtin_bswap32(v) + (int)__builtin_bswap64(v);
}
`},
		{name: "bpf_endian.h", libbpf: true, src: types + `#include <bpf/bpf_endian.h>
_Static_assert(bpf_htons(0x0800) == 0x0008 && bpf_ntohl(0x01000000) == 1, "");
_Static_assert(bpf_cpu_to_be64(1) == 0x0100000000000000ULL, "");
int f(int v) {
	switch (v) {
	case __bpf_htons(0x0800): return 1;
	case bpf_htons(0x86DD): return 2;
	case __bpf_constant_htonl(0x0a000001): return 3;
	}
	return bpf_ntohs(v) + bpf_htonl(v);
}
`},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.libbpf && endianErr != nil {
				t.Skipf("libbpf's headers are not installed: %v", endianErr)
			}
			file := writeFile(t, filepath.Join(dir, "c.c"), tt.src)
			full, pruned := compileBoth(t, file, []byte(tt.src), &Flags{})
			for mode, res := range map[string]*Result{"full": full, "pruned": pruned} {
				for _, d := range res.Diagnostics {
					t.Errorf("%s: %s", mode, d)
				}
			}
			if out, err, ok := clangSyntax(t, file, nil); ok && err != nil {
				t.Errorf("clang-16 rejects the test program: %v\n%s", err, out)
			}
		})
	}
}

// TestBswapRelocations: the folding arm of __builtin_bswap* is invisible to the relocation
// walker, so an access in its argument is reported once, as clang emits it.
func TestBswapRelocations(t *testing.T) {
	src := `struct s { unsigned short a; unsigned int c; unsigned long d; } __attribute__((preserve_access_index));
__attribute__((section("tc"), used)) int f(struct s *p)
{
	return __builtin_bswap16(p->a) + __builtin_bswap32(p->c) + (int)__builtin_bswap64(p->d);
}
`
	file := writeFile(t, filepath.Join(t.TempDir(), "p.bpf.c"), src)
	full, pruned := compileBoth(t, file, []byte(src), &Flags{})
	want := "byte_off s 0:0,byte_off s 0:1,byte_off s 0:2"
	for mode, res := range map[string]*Result{"full": full, "pruned": pruned} {
		var keys []string
		for _, r := range res.Relocations {
			keys = append(keys, r.Key())
		}
		if got := strings.Join(keys, ","); got != want || res.HasErrors() {
			t.Errorf("%s: relocations %s (diagnostics %v), want %s", mode, got, res.Diagnostics, want)
		}
	}
}
