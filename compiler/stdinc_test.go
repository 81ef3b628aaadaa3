package compiler

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// multiarchDir is where Debian keeps glibc's bits/ headers; BPF builds name it with
// -idirafter, since -target bpf has no multiarch directory of its own.
const multiarchDir = "/usr/include/x86_64-linux-gnu"

// compileBoth compiles src as file in full and through a Cache (the second compile is the
// pruned one) and returns both results.
func compileBoth(t *testing.T, file string, src []byte, flags *Flags) (full, pruned *Result) {
	t.Helper()
	in := Input{Path: file, Source: src, Flags: flags}
	full, err := Compile(in)
	if err != nil {
		t.Fatal(err)
	}
	c := NewCache()
	for range 2 {
		if pruned, err = c.Compile(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	return full, pruned
}

// clangSyntax runs clang-16 -fsyntax-only on file, or returns ok=false when clang-16 is not
// installed (ordinary test runs need no clang).
func clangSyntax(t *testing.T, file string, args []string) (out string, err error, ok bool) {
	t.Helper()
	clang, lerr := exec.LookPath("clang-16")
	if lerr != nil {
		return "", nil, false
	}
	cmd := exec.Command(clang, append(append([]string{"-target", "bpf", "-fsyntax-only"}, args...), file)...)
	b, err := cmd.CombinedOutput()
	return string(b), err, true
}

// TestBuiltinHeaders: every freestanding header corels provides compiles, in the full and
// the pruned compile, with the target's values; each program is also given to clang-16 when
// it is installed, so the assertions are clang's values, not ours.
func TestBuiltinHeaders(t *testing.T) {
	dir := t.TempDir()
	// glibc's headers, reached through include_next in a hosted compile, see a 32-bit
	// __WORDSIZE for -target bpf and want gnu/stubs-32.h; BPF projects supply an empty
	// gnu/stubs.h (the kernel selftests do).
	if err := os.MkdirAll(filepath.Join(dir, "stub", "gnu"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "stub", "gnu", "stubs.h"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, glibcErr := os.Stat(filepath.Join(multiarchDir, "bits", "libc-header-start.h"))
	hosted := []string{"-I", filepath.Join(dir, "stub"), "-idirafter", multiarchDir}
	free := []string{"-ffreestanding"}

	tests := []struct {
		name   string
		flags  []string
		glibc  bool // needs Debian's glibc headers
		source string
	}{
		{name: "stddef", source: `#include <stddef.h>
struct two { char c; long l; };
_Static_assert(sizeof(size_t) == 8 && (size_t)-1 > 0, "size_t");
_Static_assert(sizeof(ptrdiff_t) == 8 && (ptrdiff_t)-1 < 0, "ptrdiff_t");
_Static_assert(sizeof(wchar_t) == 4 && (wchar_t)-1 < 0, "wchar_t");
_Static_assert(sizeof(max_align_t) == 16 && _Alignof(max_align_t) == 8, "max_align_t");
_Static_assert(offsetof(struct two, l) == 8, "offsetof");
void *p = NULL;
typedef unsigned long size_t; /* vmlinux.h declares it again: a compatible redefinition */
`},
		{name: "stddef __need_ protocol", source: `#define __need_size_t
#define __need_NULL
#include <stddef.h>
size_t n;
void *p = NULL;
#if defined(offsetof) || defined(__need_size_t) || defined(__need_NULL)
#error only size_t and NULL were asked for
#endif
int ptrdiff_t; /* not declared by the first include */
`},
		{name: "stdbool", source: `#include <stdbool.h>
_Static_assert(sizeof(bool) == 1 && true == 1 && false == 0 && __bool_true_false_are_defined, "");
bool b = true;
`},
		{name: "stdint freestanding", flags: free, source: `#include <stdint.h>
_Static_assert(sizeof(int8_t) == 1 && sizeof(int16_t) == 2 && sizeof(int32_t) == 4 && sizeof(int64_t) == 8, "");
_Static_assert(sizeof(uint64_t) == 8 && (uint64_t)-1 > 0, "");
_Static_assert(sizeof(intptr_t) == 8 && sizeof(uintptr_t) == 8 && sizeof(intmax_t) == 8, "");
_Static_assert(sizeof(int_least16_t) == 2 && sizeof(int_fast8_t) == 1 && sizeof(uint_fast64_t) == 8, "");
_Static_assert(INT8_MIN == -128 && INT8_MAX == 127 && UINT8_MAX == 255, "");
_Static_assert(INT32_MIN == -2147483647 - 1 && UINT32_MAX == 4294967295U, "");
_Static_assert(INT64_MAX == 9223372036854775807L && INT64_MIN == -9223372036854775807L - 1, "");
_Static_assert(UINT64_MAX == 18446744073709551615UL && SIZE_MAX == 18446744073709551615UL, "");
_Static_assert(INTPTR_MAX == INT64_MAX && UINTPTR_MAX == UINT64_MAX && PTRDIFF_MIN == INT64_MIN, "");
_Static_assert(WCHAR_MIN == INT32_MIN && WINT_MAX == INT32_MAX && SIG_ATOMIC_MAX == INT32_MAX, "");
_Static_assert(UINT64_C(1) << 63 == 9223372036854775808UL && sizeof(INT64_C(0)) == 8, "");
_Static_assert(INT8_C(-1) == -1 && sizeof(UINT32_C(0)) == 4 && INTMAX_C(1) << 40 == 1099511627776L, "");
`},
		{name: "stdint hosted", flags: hosted, glibc: true, source: `#include <stdint.h>
/* glibc's stdint.h, which clang's reaches too: bits/wordsize.h gives 32 without __x86_64__. */
_Static_assert(sizeof(int64_t) == 8 && sizeof(uint32_t) == 4, "");
_Static_assert(SIZE_MAX == 4294967295U && sizeof(intptr_t) == 4, "");
_Static_assert(INT64_MIN == -9223372036854775807LL - 1, "");
#include <stddef.h>
typedef unsigned long size_t;
`},
		{name: "limits freestanding", flags: free, source: `#include <limits.h>
_Static_assert(CHAR_BIT == 8 && SCHAR_MIN == -128 && SCHAR_MAX == 127 && UCHAR_MAX == 255, "");
_Static_assert(CHAR_MIN == -128 && CHAR_MAX == 127 && MB_LEN_MAX == 1, "");
_Static_assert(SHRT_MIN == -32768 && SHRT_MAX == 32767 && USHRT_MAX == 65535, "");
_Static_assert(INT_MAX == 2147483647 && INT_MIN == -2147483647 - 1 && UINT_MAX == 4294967295U, "");
_Static_assert(LONG_MAX == 9223372036854775807L && LONG_MIN == -9223372036854775807L - 1, "");
_Static_assert(ULONG_MAX == 18446744073709551615UL && sizeof(ULONG_MAX) == 8, "");
_Static_assert(LLONG_MAX == 9223372036854775807LL && ULLONG_MAX == 18446744073709551615ULL, "");
`},
		{name: "limits hosted", flags: hosted, glibc: true, source: `#include <limits.h>
/* glibc's POSIX limits stay; the standard ones are the target's. */
_Static_assert(PATH_MAX == 4096, "");
_Static_assert(LONG_MAX == 9223372036854775807L && ULONG_MAX == 18446744073709551615UL, "");
_Static_assert(INT_MAX == 2147483647 && CHAR_MIN == -128, "");
`},
		{name: "float", source: `#include <float.h>
_Static_assert(FLT_RADIX == 2 && FLT_MANT_DIG == 24 && DBL_MANT_DIG == 53 && LDBL_MANT_DIG == 53, "");
_Static_assert(FLT_DIG == 6 && DBL_DIG == 15 && DBL_MAX_EXP == 1024 && DBL_MIN_EXP == -1021, "");
_Static_assert(FLT_MAX_10_EXP == 38 && DBL_MIN_10_EXP == -307 && DECIMAL_DIG == 17, "");
_Static_assert(FLT_DECIMAL_DIG == 9 && DBL_HAS_SUBNORM == 1 && FLT_EVAL_METHOD == 0, "");
double big = DBL_MAX, tiny = DBL_MIN, eps = FLT_EPSILON;
`},
		{name: "stdarg", source: `#include <stdarg.h>
va_list ap;
__gnuc_va_list gap;
#if !defined(va_start) || !defined(va_arg) || !defined(va_end) || !defined(va_copy)
#error va_ macros
#endif
`},
		{name: "stdarg __need___va_list", source: `#define __need___va_list
#include <stdarg.h>
__gnuc_va_list gap;
#ifdef va_start
#error only __gnuc_va_list was asked for
#endif
int va_list;
`},
		{name: "stdalign stdnoreturn iso646", source: `#include <stdalign.h>
#include <stdnoreturn.h>
#include <iso646.h>
_Static_assert(alignof(long) == 8 && __alignas_is_defined && __alignof_is_defined, "");
struct aligned { alignas(16) char buf[16]; };
_Static_assert(alignof(struct aligned) == 16, "");
noreturn void stop(void);
int both(int a, int b) { return a and b or not a; }
int mask(int a) { return compl a bitand 0xff xor 1; }
`},
		{name: "glibc headers through the protocol", flags: hosted, glibc: true, source: `#include <string.h>
#include <stdio.h>
#include <errno.h>
size_t n;
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.glibc && glibcErr != nil {
				t.Skipf("no Debian glibc headers: %v", glibcErr)
			}
			file := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".c")
			if err := os.WriteFile(file, []byte(tt.source), 0o644); err != nil {
				t.Fatal(err)
			}
			flags, err := ParseFlags(tt.flags, "")
			if err != nil {
				t.Fatal(err)
			}
			full, pruned := compileBoth(t, file, []byte(tt.source), flags)
			for mode, res := range map[string]*Result{"full": full, "pruned": pruned} {
				for _, d := range res.Diagnostics {
					t.Errorf("%s: %s", mode, d)
				}
			}
			if out, err, ok := clangSyntax(t, file, tt.flags); ok && err != nil {
				t.Errorf("clang-16 rejects the test program (the assertions must be clang's values): %v\n%s", err, out)
			}
		})
	}
}

// TestBuiltinHeaderFlags: -nobuiltininc drops the builtin headers, -nostdlibinc the system
// directories, -nostdinc both; a header of the same name in a -I directory comes first.
func TestBuiltinHeaderFlags(t *testing.T) {
	dir := t.TempDir()
	own := filepath.Join(dir, "own")
	if err := os.MkdirAll(own, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(own, "stdbool.h"), []byte("#define OWN_STDBOOL 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, uapiErr := os.Stat("/usr/include/linux/types.h")
	tests := []struct {
		name     string
		flags    []string
		source   string
		notFound string // the include that must fail, "" when the program compiles
	}{
		{"builtin header found", nil, "#include <stdbool.h>\nbool b;\n", ""},
		{"-nobuiltininc", []string{"-nobuiltininc"}, "#include <stdbool.h>\n", "stdbool.h"},
		{"-nobuiltininc, quoted", []string{"-nobuiltininc"}, "#include \"stddef.h\"\n", "stddef.h"},
		{"-nostdinc", []string{"-nostdinc"}, "#include <stddef.h>\n", "stddef.h"},
		{"-nostdinc drops /usr/include", []string{"-nostdinc"}, "#include <linux/types.h>\n", "linux/types.h"},
		{"-nostdlibinc keeps the builtin headers", []string{"-nostdlibinc"}, "#include <stdbool.h>\nbool b;\n", ""},
		{"-nostdlibinc drops /usr/include", []string{"-nostdlibinc"}, "#include <linux/types.h>\n", "linux/types.h"},
		{"-I comes first", []string{"-I", own}, "#include <stdbool.h>\n#ifndef OWN_STDBOOL\n#error not the -I header\n#endif\n", ""},
		{"/usr/include after the builtin headers", []string{"-idirafter", multiarchDir}, "#include <stdbool.h>\n#include <linux/types.h>\n__u32 x; bool b;\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.Contains(tt.source, "linux/types.h") && uapiErr != nil {
				t.Skipf("no kernel headers in /usr/include: %v", uapiErr)
			}
			file := filepath.Join(dir, "p.c")
			if err := os.WriteFile(file, []byte(tt.source), 0o644); err != nil {
				t.Fatal(err)
			}
			flags, err := ParseFlags(tt.flags, "")
			if err != nil {
				t.Fatal(err)
			}
			full, pruned := compileBoth(t, file, []byte(tt.source), flags)
			for mode, res := range map[string]*Result{"full": full, "pruned": pruned} {
				switch {
				case tt.notFound == "" && res.HasErrors():
					t.Errorf("%s: %v", mode, res.Diagnostics)
				case tt.notFound != "" && (!res.HasErrors() || !strings.Contains(res.Diagnostics[0].Message, "include file not found") ||
					!strings.Contains(res.Diagnostics[0].Message, tt.notFound)):
					t.Errorf("%s: want %q not found, got %v", mode, tt.notFound, res.Diagnostics)
				}
			}
			if out, err, ok := clangSyntax(t, file, tt.flags); ok && (err != nil) != (tt.notFound != "") {
				t.Errorf("clang-16 disagrees (error %v):\n%s", err, out)
			}
		})
	}
}

// TestBuiltinHeaderNames: the embedded set is the one the documentation promises.
func TestBuiltinHeaderNames(t *testing.T) {
	want := "float.h iso646.h limits.h stdalign.h stdarg.h stdbool.h stddef.h stdint.h stdnoreturn.h"
	if got := strings.Join(BuiltinHeaderNames(), " "); got != want {
		t.Errorf("BuiltinHeaderNames() = %s, want %s", got, want)
	}
	for _, name := range BuiltinHeaderNames() {
		data, ok, err := builtinHeader(builtinIncludeDir + "/" + name)
		if !ok || err != nil || len(data) == 0 {
			t.Errorf("%s: ok %v, err %v, %d bytes", name, ok, err, len(data))
		}
	}
	if _, ok, err := builtinHeader(builtinIncludeDir + "/stdio.h"); !ok || err == nil {
		t.Errorf("stdio.h under the builtin directory: ok %v, err %v; want not found", ok, err)
	}
	if _, ok, _ := builtinHeader("/usr/include/stdint.h"); ok {
		t.Error("a real path was taken for a builtin header")
	}
}

// TestBuiltinHeadersWithVmlinux: vmlinux.h declares some of the same typedefs; clashes are
// errors exactly where clang-16 reports them (vmlinux.h's wchar_t is u16, the target's is
// int), and the compatible ones (size_t, bool after vmlinux.h) are not.
func TestBuiltinHeadersWithVmlinux(t *testing.T) {
	inc := filepath.Join(goldenRoot(t), "testdata", "include")
	if _, err := os.Stat(filepath.Join(inc, "vmlinux.h")); err != nil {
		t.Fatal("testdata/include/vmlinux.h is missing: run `make vmlinux`")
	}
	tests := []struct {
		name, source string
		clash        string // the typedef both compilers reject, "" when it compiles
	}{
		{"stdbool and size_t after vmlinux.h", "#include \"vmlinux.h\"\n#include <stdbool.h>\n#define __need_size_t\n#include <stddef.h>\nbool b = true; size_t n;\n", ""},
		{"stddef.h after vmlinux.h", "#include \"vmlinux.h\"\n#include <stddef.h>\n", "wchar_t"},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writeFile(t, filepath.Join(dir, "p.bpf.c"), tt.source)
			flags := []string{"-I", inc}
			f, err := ParseFlags(flags, "")
			if err != nil {
				t.Fatal(err)
			}
			full, pruned := compileBoth(t, file, []byte(tt.source), f)
			for mode, res := range map[string]*Result{"full": full, "pruned": pruned} {
				switch {
				case tt.clash == "" && res.HasErrors():
					t.Errorf("%s: %v", mode, res.Diagnostics)
				case tt.clash != "" && (!res.HasErrors() || !strings.Contains(res.Diagnostics[0].Message, tt.clash) ||
					!strings.HasPrefix(res.Diagnostics[0].Range.Start.File, builtinIncludeDir)):
					t.Errorf("%s: want the %s clash reported in the builtin stddef.h, got %v", mode, tt.clash, res.Diagnostics)
				}
			}
			out, err, ok := clangSyntax(t, file, flags)
			if ok && (err != nil) != (tt.clash != "") || ok && tt.clash != "" && !strings.Contains(out, tt.clash) {
				t.Errorf("clang-16 disagrees (error %v):\n%s", err, out)
			}
		})
	}
}
