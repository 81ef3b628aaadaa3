package compiler

import (
	"maps"
	"strconv"
	"strings"
	"testing"

	"modernc.org/cc/v4"
)

func TestDeclaredFunction(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"double __builtin_acos(double x);", "__builtin_acos"},
		{"__SIZE_TYPE__ __builtin_strlen (const char *s);", "__builtin_strlen"},
		{"char *__builtin_strchr(const char *s, int c);", "__builtin_strchr"},
		{"typedef void (*fn)(int);", ""},
		{"int (*handler)(void);", ""},
		{"int __predefined_declarator;", ""},
		{"#define __builtin_va_copy(dst, src) dst = src", ""},
		{"void f(int x)", ""},
	} {
		if got := declaredFunction(tc.line); got != tc.want {
			t.Errorf("declaredFunction(%q) = %q, want %q", tc.line, got, tc.want)
		}
	}
}

// The pruned builtin header and prelude keep every line's place, every line that does
// more than define a macro or declare a function, and exactly the definitions and
// declarations reached, or named by one kept.
func TestPrunedBase(t *testing.T) {
	builtin, pre := prunedBase(map[string]bool{"__builtin_strlen": true, "__builtin_bswap16": true, "__builtin_preserve_access_index": true})
	checkPlaces(t, cc.Builtin, builtin)
	checkPlaces(t, prelude, pre)
	for _, want := range []string{
		"__builtin_strlen(const char *s);",
		"typedef __SIZE_TYPE__ __predefined_size_t;",
		"int __predefined_declarator;",
		"#if sizeof(double) == sizeof(long double)",
		"__builtin_bswap16 (__UINT16_TYPE__ x);", // named by the prelude's macro
	} {
		if !strings.Contains(builtin, want) {
			t.Errorf("pruned builtin lost %q", want)
		}
	}
	for _, want := range []string{
		"#define __builtin_bswap16(x)",
		"#define __corels_folded(e)", // named by it
		"#define __corels_swab16(v)",
		"#define __builtin_preserve_access_index(x)",
		"extern int __corels_preserve_access_index;",
		"extern int __corels_offsetof;", // named by __corels_folded
	} {
		if !strings.Contains(pre, want) {
			t.Errorf("pruned prelude lost %q", want)
		}
	}
	for _, gone := range []string{"__builtin_acos(", "#define __builtin_offsetof", "__builtin_bswap32 ("} {
		if strings.Contains(builtin, gone) {
			t.Errorf("pruned builtin kept %q, which nothing reached", gone)
		}
	}
	for _, gone := range []string{"#define __builtin_offsetof", "#undef __builtin_offsetof", "__corels_swab32", "__builtin_memcpy", "__builtin_preserve_field_info"} {
		if strings.Contains(pre, gone) {
			t.Errorf("pruned prelude kept %q, which nothing reached", gone)
		}
	}
	all := map[string]bool{}
	for _, src := range []string{cc.Builtin, prelude} {
		scanIdents(src, func(s, e int) { all[src[s:e]] = true })
	}
	if b, p := prunedBase(all); b != cc.Builtin+"\n" || p != prelude+"\n" {
		t.Error("with every name reached, the pruned base sources are not the whole ones")
	}
}

// checkPlaces checks that each line of pruned is where it is in whole, its #line
// directives followed, and that pruned is shorter by the runs of lines dropped.
func checkPlaces(t *testing.T, whole, pruned string) {
	t.Helper()
	lines := strings.Split(whole, "\n")
	next, kept := 1, 0
	for _, l := range strings.Split(strings.TrimSuffix(pruned, "\n"), "\n") {
		if n, ok := strings.CutPrefix(l, "#line "); ok {
			next, _ = strconv.Atoi(n)
			continue
		}
		if next > len(lines) || l != lines[next-1] && l != "" {
			t.Fatalf("line %d of the pruned text is %q, not %q", next, l, lines[min(next, len(lines))-1])
		}
		next++
		kept++
	}
	if kept > len(lines)/2 {
		t.Errorf("the pruned text has %d lines of the whole's %d: dropped lines are still written", kept, len(lines))
	}
}

// directiveLines are the directive lines of src, but #line.
func directiveLines(src string) string {
	var out []string
	for _, l := range strings.Split(directivesOnly(src), "\n") {
		if l != "" && !strings.HasPrefix(l, "#line ") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestDirectivesOnly(t *testing.T) {
	src := "int a;\n#define F(x) \\\n  ((x) + 1)\nint b = F(2);\n  # if 1\nint c;\n#endif\n"
	want := "\n#define F(x) \\\n  ((x) + 1)\n\n  # if 1\n\n#endif\n"
	if got := directivesOnly(src); got != want {
		t.Errorf("directivesOnly:\n got %q\nwant %q", got, want)
	}
}

// The pruned predefined macros keep what the file reaches, what the base sources use and
// what a kept definition names, every other kind of line, and every line's place.
func TestPrunedPredefined(t *testing.T) {
	pre := predefinedFor(&Flags{Macros: []Macro{{Name: "__TARGET_ARCH_x86", Value: "1"}, {Name: "UNUSED_D", Value: "2"}, {Name: "__BPF__", Undef: true}}})
	got := prunedPredefined(pre, map[string]bool{"__BYTE_ORDER__": true, "__TARGET_ARCH_x86": true, "__clang_major__": true})
	checkPlaces(t, pre, got)
	for _, want := range []string{
		"#define __BYTE_ORDER__ __ORDER_LITTLE_ENDIAN__",
		"#define __ORDER_LITTLE_ENDIAN__ 1234", // named by a kept definition
		"#define __clang_major__ 16",
		"#define __TARGET_ARCH_x86 1",
		"#define __SIZE_TYPE__ long unsigned int", // the builtin header's
		"#undef __BPF__",
		"// Regenerate with: make predefined",
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("%q dropped", want)
		}
	}
	for _, gone := range []string{"#define UNUSED_D", "#define __ATOMIC_ACQUIRE", "#define __ORDER_PDP_ENDIAN__"} {
		if strings.Contains(got, gone) {
			t.Errorf("%q kept", gone)
		}
	}
}

// Squeezing the empty lines out of a text keeps every other line's presumed line number
// (#line directives followed, the file's own and those written for the runs).
func TestSqueezeBlankLines(t *testing.T) {
	for _, c := range []struct {
		name, src string
		lines     int // of the result
	}{
		{"no directives", "a\n\n\n\nb\n\nc\n", 5},
		{"after a #line", "#line 14 \"v.h\"\nstruct s {\n\tint a;\n\n\n\n\tint b;\n};\n\n\n#line 90 \"v.h\"\nint c;\n", 9},
		{"a splice before the run", "#define M 1 \\\n\n\n\nint x;\n", 5},
		{"a #line continued is not one", "#define M \\\n#line 5\n\n\n\nint y;\n", 4},
		{"trailing empty lines", "a\n\n\n", 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := squeezeBlankLines(c.src)
			if want, have := presumedLines(c.src), presumedLines(got); !maps.Equal(want, have) {
				t.Errorf("lines moved:\n%q\n%v\n%q\n%v", c.src, want, got, have)
			}
			if n := strings.Count(got, "\n"); n != c.lines {
				t.Errorf("%d lines, want %d:\n%q", n, c.lines, got)
			}
		})
	}
}

// presumedLines maps each non-empty line of src that is not a #line directive to its
// presumed line number.
func presumedLines(src string) map[string]int {
	out := map[string]int{}
	next, cont := 1, false
	for _, l := range strings.Split(src, "\n") {
		if n, ok := lineDirective(l); ok && !cont {
			next = n
			continue
		}
		if l != "" {
			out[l] = next
		}
		cont = strings.HasSuffix(l, "\\")
		next++
	}
	return out
}
