package compiler

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestTopLevelItems(t *testing.T) {
	src := `#include <x.h>
struct s { int a; } __attribute__((preserve_access_index));
/* a comment with ; and { */
SEC("kprobe/f") int BPF_KPROBE(f, int x)
{
	if (x) { return ';'; }
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
int g(void) { struct { int a; } v = { 1 }; return v.a; }
int open_block(void) {
	{ f(1,
	return 0;
}
int half(void) { return
`
	var got []string
	for _, it := range topLevelItems([]byte(src)) {
		s := strings.Fields(src[it.start:it.end])[0]
		if it.bodyStart >= 0 {
			s += " body=" + strings.Join(strings.Fields(src[it.bodyStart:it.bodyEnd]), " ")
		}
		got = append(got, s)
	}
	want := []string{
		"struct",
		`SEC("kprobe/f") body=if (x) { return ';'; } return 0;`,
		"char",
		"int body=struct { int a; } v = { 1 }; return v.a;",
		"int body={ f(1, return 0;",
		"int body=return",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("items:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// editedItems must give what scanning the edited text whole gives, for edits that keep
// the items (typed inside a body) and for those that do not (an unbalanced brace or
// quote, a brace in the first column, an edit across bodies, a directive).
func TestEditedItems(t *testing.T) {
	base := `#include <x.h>
struct s { int a; };
int f(int x)
{
	if (x) { return 1; }
	return 0;
}
#define M(x) x
int g(void) { return M(2); }
char LICENSE[] SEC("license") = "GPL";
int h(void)
{
	return 3;
}
`
	at := func(s string) int { return strings.Index(base, s) }
	edits := []struct {
		name     string
		pos, cut int // replace base[pos:pos+cut]
		text     string
	}{
		{"statement typed", at("return 0;"), 0, "x++;\n\t"},
		{"statement deleted", at("if (x)"), len("if (x) { return 1; }"), ""},
		{"half-typed call", at("return 0;"), 0, "g(x,"},
		{"open brace", at("return 0;"), 0, "{ "},
		{"close brace", at("return 0;"), 0, "} "},
		{"brace in the first column", at("\treturn 0;"), 1, "}"},
		{"open quote", at("return 0;"), 0, "\""},
		{"char literal", at("return 0;"), 0, "'}'; "},
		{"in the last body", at("return 3;"), len("return 3;"), "return h();"},
		{"across bodies", at("return 0;"), at("return M(2)") - at("return 0;"), ""},
		{"in a declaration", at("int a;"), 0, "int b; "},
		{"directive", at("return 0;"), 0, "#if 0\n"},
		{"at the end", len(base), 0, "int k;\n"},
		{"everything", 0, len(base), ""},
	}
	check := func(t *testing.T, old, src string) {
		pre, suf := changed([]byte(old), []byte(src))
		ed := edit{pre: pre, oldEnd: len(old) - suf, delta: len(src) - len(old)}
		got := editedItems(topLevelItems([]byte(old)), []byte(src), ed)
		if want := topLevelItems([]byte(src)); !slices.Equal(got, want) {
			t.Errorf("edited items %v, want %v", got, want)
		}
	}
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			check(t, base, base[:e.pos]+e.text+base[e.pos+e.cut:])
		})
	}
	// Every edit of the table, typed a character at a time into the corpus programs'
	// first function body.
	progs, _ := filepath.Glob("../testdata/*.bpf.c")
	for _, path := range progs {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		old := string(b)
		items := topLevelItems(b)
		for _, it := range items {
			if it.bodyStart < 0 {
				continue
			}
			t.Run(filepath.Base(path), func(t *testing.T) {
				for _, e := range edits[:9] {
					for n := 1; n <= len(e.text); n++ {
						check(t, old, old[:it.bodyStart]+e.text[:n]+old[it.bodyStart:])
					}
				}
			})
			break
		}
	}
}

// After an error, the rest of the file is still compiled: the relocations of the other
// functions are found, and so are later errors, as clang reports them.
func TestErrorRecovery(t *testing.T) {
	const header = "struct s { int a; int b; } __attribute__((preserve_access_index));\n"
	many := header
	for i := range 25 {
		many += fmt.Sprintf("int bad%d(struct s *p) { return p->a + undefined%d; }\n", i, i)
	}
	many += "int good(struct s *p) { return p->b; }\n"
	cases := []struct {
		name, src  string
		wantErrors []string // "line: message part"
		wantRelocs []string
	}{
		{"type error in one function", header + `int good(struct s *p) { return p->b; }
int bad(struct s *p) { return p->a + zz; }
int good2(struct s *p) { return p->a; }
`, []string{"3: undefined: zz"}, []string{"byte_off s 0:0", "byte_off s 0:1"}},
		{"syntax error in a declarator", header + `int good(struct s *p) { return p->b; }
int NOT_A_MACRO(probe, int x) { return x; }
int good2(struct s *p) { return p->a + zz; }
`, []string{"3: expected identifier", "4: undefined: zz"}, []string{"byte_off s 0:1"}},
		{"the broken function's callers still compile", header + `static int helper(struct s *p) { return p->a + ; }
int prog(struct s *p) { return helper(p) + p->b; }
`, []string{"2: unexpected ';'"}, []string{"byte_off s 0:1"}},
		{"half-typed last function", header + `int good(struct s *p) { return p->b; }
int typing(struct s *p) { return p->
`, []string{"3: expected identifier", "3: expected '}'"}, []string{"byte_off s 0:1"}},
		{"a block left open", header + `int typing(struct s *p) {
	{ bar(p->
	return p->b;
}
int good(struct s *p) { return p->a; }
`, []string{"4: "}, []string{"byte_off s 0:0"}},
		{"too many errors", many, append(errorLines(21), "22: too many errors emitted"), []string{"byte_off s 0:1"}},
	}
	dir := t.TempDir()
	cache := NewCache()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".c")
			if err := os.WriteFile(path, []byte(c.src), 0o644); err != nil {
				t.Fatal(err)
			}
			full, err := Compile(Input{Path: path, Flags: &Flags{}})
			if err != nil {
				t.Fatal(err)
			}
			pruned, err := cache.Compile(context.Background(), Input{Path: path, Flags: &Flags{}})
			if err != nil {
				t.Fatal(err)
			}
			if a, b := summary(full), summary(pruned); a != b {
				t.Errorf("Compile and Cache.Compile differ:\n%s\n---\n%s", a, b)
			}
			var errs []string
			for _, d := range full.Diagnostics {
				errs = append(errs, fmt.Sprintf("%d: %s", d.Range.Start.Line, d.Message))
			}
			if len(errs) != len(c.wantErrors) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(errs, "\n"), strings.Join(c.wantErrors, "\n"))
			} else {
				for i, w := range c.wantErrors {
					line, part, _ := strings.Cut(w, ": ")
					if !strings.HasPrefix(errs[i], line+": ") || !strings.Contains(errs[i], part) {
						t.Errorf("error %d: %q, want %q", i, errs[i], w)
					}
				}
			}
			got := map[string]bool{}
			for _, r := range full.Relocations {
				got[r.Key()] = true
			}
			for _, k := range c.wantRelocs {
				if !got[k] {
					t.Errorf("relocation %s lost (have %v)", k, got)
				}
			}
		})
	}
}

// errorLines are the expected errors of the "too many errors" case: one per bad function,
// lines 2.., the first 20.
func errorLines(n int) []string {
	var out []string
	for i := 0; i < n-1; i++ {
		out = append(out, fmt.Sprintf("%d: undefined: undefined%d", i+2, i))
	}
	return out
}
