package compiler

import (
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

// The pruned builtin header keeps every line (positions in it do not move), every
// directive, and exactly the function declarations asked for or named by its macros.
func TestPrunedBuiltin(t *testing.T) {
	got := prunedBuiltin(map[string]bool{"__builtin_strlen": true})
	if a, b := strings.Count(got, "\n"), strings.Count(cc.Builtin, "\n")+1; a != b {
		t.Fatalf("pruned builtin has %d lines, cc.Builtin %d", a, b)
	}
	for _, want := range []string{
		"__builtin_strlen(const char *s);",
		"#define __builtin_offsetof(type, member)",
		"typedef __SIZE_TYPE__ __predefined_size_t;",
		"int __predefined_declarator;",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("pruned builtin lost %q", want)
		}
	}
	if strings.Contains(got, "__builtin_acos(") {
		t.Error("pruned builtin kept __builtin_acos, which nothing reached")
	}
	if directivesOnly(got) != directivesOnly(cc.Builtin+"\n") {
		t.Error("pruning changed the builtin header's directives")
	}
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
	if a, b := strings.Count(got, "\n"), strings.Count(pre, "\n")+1; a != b {
		t.Fatalf("pruned predefined macros have %d lines, the whole %d", a, b)
	}
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
