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
