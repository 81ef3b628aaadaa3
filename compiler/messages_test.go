package compiler

import (
	"strings"
	"testing"
)

func TestClangWording(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"type struct a {x int} has no member named y", "no member named 'y' in 'struct a'"},
		{"type struct b {in struct a; z int; u union {q int}} has no member named w", "no member named 'w' in 'struct b'"},
		{"type union {q int} has no member named nope", "no member named 'nope' in 'union (anonymous)'"},
		{"type bt has no member named v", "no member named 'v' in 'bt'"},
		{"expected a pointer: struct a {x int}", "expected a pointer: struct a"},
		{"invalid operands: pointer to struct b and struct a {x int}", "invalid operands: pointer to struct b and struct a"},
		{"expected a struct or union: pointer to struct b", "expected a struct or union: pointer to struct b"},
		{"undefined: mystruct", "undefined: mystruct"},
		{"unexpected '{'", "unexpected '{'"},
		{"type struct s {} has no member named a", "no member named 'a' in 'struct s'"},
		{"type struct broken {x int has no member named y", "type struct broken {x int has no member named y"},
	} {
		if got := clangWording(tc.in); got != tc.want {
			t.Errorf("clangWording(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestMemberErrorWording: what a compile reports for a member the record lacks, on a record
// whose members cc would print.
func TestMemberErrorWording(t *testing.T) {
	src := "struct a { int x; struct { int k; } in; };\nint f(struct a *p) { return p->y + p->in.z; }\n"
	res, err := Compile(Input{Path: "/tmp/wording.c", Source: []byte(src), Flags: &Flags{}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range res.Diagnostics {
		got = append(got, d.Message)
	}
	want := "no member named 'y' in 'struct a'\nno member named 'z' in 'struct (anonymous)'"
	if strings.Join(got, "\n") != want {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}
