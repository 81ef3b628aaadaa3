package analysis

import (
	"testing"

	"github.com/corels/corels/compiler"
)

func edit(start, end int, text string) Edit {
	return Edit{Range: compiler.Range{Start: compiler.Position{Offset: start}, End: compiler.Position{Offset: end}}, NewText: text}
}

func TestApplyEdits(t *testing.T) {
	src := []byte("abcdef")
	tests := []struct {
		edits []Edit
		want  string
		err   bool
	}{
		{[]Edit{edit(1, 3, "X")}, "aXdef", false},
		{[]Edit{edit(4, 4, "<"), edit(0, 0, ">")}, ">abcd<ef", false},
		{[]Edit{edit(2, 2, "1"), edit(2, 2, "2")}, "ab12cdef", false},
		{[]Edit{edit(1, 2, "X"), edit(1, 2, "X")}, "aXcdef", false}, // identical: once
		{[]Edit{edit(1, 3, "X"), edit(2, 4, "Y")}, "", true},
		{[]Edit{edit(1, 3, "X"), edit(1, 3, "Y")}, "", true},
		{[]Edit{edit(5, 9, "X")}, "", true},
	}
	for i, tt := range tests {
		got, err := ApplyEdits(src, tt.edits)
		if (err != nil) != tt.err || err == nil && string(got) != tt.want {
			t.Errorf("%d: got %q, %v; want %q (error %v)", i, got, err, tt.want, tt.err)
		}
	}
	if !Conflicts([]Edit{edit(1, 3, "X")}, []Edit{edit(2, 2, "Y")}) || Conflicts([]Edit{edit(0, 0, "I")}, []Edit{edit(0, 0, "I"), edit(3, 4, "Z")}) {
		t.Error("Conflicts")
	}
}

func TestIncludePoint(t *testing.T) {
	tests := []struct {
		src   string
		want  string // the text before the insertion point
		after bool
	}{
		{"#include \"vmlinux.h\"\n#include <bpf/bpf_helpers.h>\n\nint x;\n", "#include \"vmlinux.h\"\n#include <bpf/bpf_helpers.h>\n", true},
		{"// c\n#define A(x) \\\n\t(x)\n\nstatic int y;\n", "// c\n#define A(x) \\\n\t(x)\n\n", false},
		{"/* a\n * b */\n#include <x.h> /* c */\nint z;", "/* a\n * b */\n#include <x.h> /* c */\n", true},
		{"int only;\n", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		off, after := includePoint([]byte(tt.src))
		if tt.src[:off] != tt.want || after != tt.after {
			t.Errorf("%q: point after %q (after include %v), want %q (%v)", tt.src, tt.src[:off], after, tt.want, tt.after)
		}
	}
}

func TestPositionOf(t *testing.T) {
	src := []byte("ab\ncd\n")
	for off, want := range map[int][2]int{0: {1, 1}, 2: {1, 3}, 3: {2, 1}, 5: {2, 3}, 6: {3, 1}, 99: {3, 1}} {
		p := PositionOf(src, nil, "f", off)
		if p.Line != want[0] || p.Col != want[1] {
			t.Errorf("offset %d: %d:%d, want %d:%d", off, p.Line, p.Col, want[0], want[1])
		}
	}
}

// TestParseErrorPlacement: compiler errors get an offset and the extent of the word.
func TestParseErrorPlacement(t *testing.T) {
	src := []byte("int f(void)\n{\n\treturn undefined_name;\n}\n")
	res := &compiler.Result{Path: "/x/f.c", Diagnostics: []compiler.Diagnostic{
		{Severity: "error", Message: "undefined: undefined_name", Range: compiler.Range{
			Start: compiler.Position{File: "/x/f.c", Line: 3, Col: 9}, End: compiler.Position{File: "/x/f.c", Line: 3, Col: 9}}},
		{Severity: "error", Message: "bad", Range: compiler.Range{Start: compiler.Position{File: "/usr/include/h.h", Line: 7, Col: 2}}},
	}}
	rep := Analyze(res, src, Options{})
	if len(rep.Findings) != 2 {
		t.Fatalf("%v", rep.Findings)
	}
	f := rep.Findings[1]
	if f.Code != CodeParseError || f.Severity != Error || string(src[f.Range.Start.Offset:f.Range.End.Offset]) != "undefined_name" {
		t.Errorf("%+v", f)
	}
	if h := rep.Findings[0]; h.Range.Start.Offset != 0 || h.Message != "/usr/include/h.h:7:2: bad" {
		t.Errorf("header error: %+v", h)
	}
}
