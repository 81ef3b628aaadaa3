package compiler

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
	"modernc.org/cc/v4"
)

const slimHeader = `struct inner { long a; int b; };
struct other { char c[3]; };
struct outer {
	int x;
	struct inner in;
	struct inner arr[2], one;
	struct inner *p;
	int bf: 3;
	union { int u1; struct other o; };
	struct other al __attribute__((aligned(16)));
	char tail;
};
`

// TestSlimPlan: which members of a header record a compile can cut, and that the record
// cut down has the layout of the whole one.
func TestSlimPlan(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slim.h"), []byte(slimHeader), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "prog.c")
	src := "#include \"slim.h\"\nint f(struct outer *o) { return o->x + o->in.a; }\n"
	c := NewCache()
	if _, err := c.Compile(context.Background(), Input{Path: path, Source: []byte(src), Flags: &Flags{}}); err != nil {
		t.Fatal(err)
	}
	p := onlyPreamble(t, c)
	i, ok := p.recordDecl("outer")
	if !ok {
		t.Fatal("no declaration of struct outer")
	}
	plan := p.plan(i)
	if plan == nil {
		t.Fatal("struct outer has no plan: the compile did not learn it")
	}
	var names []string
	for _, m := range plan.members {
		names = append(names, strings.Join(m.names, ","))
	}
	// Not the pointer, the bit-field, the anonymous union (it holds members of its own)
	// nor the aligned member.
	if got := strings.Join(names, " "); got != "in arr,one" {
		t.Errorf("members to cut: %q, want %q", got, "in arr,one")
	}
	if j, ok := p.recordDecl("inner"); !ok || p.plan(j) != nil {
		t.Errorf("struct inner: a plan, but it has no record member")
	}

	for _, tc := range []struct {
		need []string
		cut  []string // the members' replacements; none: nothing cut
	}{
		{nil, []string{"long long in[2];", "long long arr[4]; long long one[2];"}},
		{[]string{"in"}, []string{"long long arr[4]; long long one[2];"}},
		{[]string{"one"}, []string{"long long in[2];"}},
		{[]string{"in", "arr"}, nil},
	} {
		need := map[string]bool{}
		for _, n := range tc.need {
			need[n] = true
		}
		s := plan.slim(p.decls[i], need)
		if tc.cut == nil {
			if s != nil {
				t.Errorf("need %v: cut to\n%s\nwant nothing cut", tc.need, s.text)
			}
			continue
		}
		if s == nil {
			t.Errorf("need %v: nothing cut, want %q", tc.need, tc.cut)
			continue
		}
		for _, r := range tc.cut {
			if !strings.Contains(s.text, r) {
				t.Errorf("need %v: %q is not in\n%s", tc.need, r, s.text)
			}
		}
		if strings.Count(s.text, "\n") != strings.Count(p.decls[i].text, "\n") {
			t.Errorf("need %v: the text has other lines than the record's", tc.need)
		}
		sameLayout(t, strings.Replace(slimHeader, p.decls[i].text, s.text, 1))
		if again := plan.slim(p.decls[i], need); again != s {
			t.Errorf("need %v: not memoized", tc.need)
		}
	}
}

// sameLayout checks that struct outer of header has the size, alignment and member
// offsets it has in slimHeader.
func sameLayout(t *testing.T, header string) {
	t.Helper()
	layout := func(text string) []int64 {
		cfg, err := newConfig(&Flags{}, newOverlayFS(nil), nil)
		if err != nil {
			t.Fatal(err)
		}
		ast, err := cc.Translate(cfg, append(baseSources(cfg), cc.Source{Name: "h.c", Value: text + "struct outer v;\n"}))
		if err != nil {
			t.Fatalf("%v\n%s", err, text)
		}
		typ := ast.Scope.Nodes["v"][0].(*cc.Declarator).Type().(*cc.StructType)
		out := []int64{typ.Size(), int64(typ.Align())}
		for j := range typ.NumFields() {
			out = append(out, typ.FieldByIndex(j).Offset())
		}
		return out
	}
	if whole, cut := layout(slimHeader), layout(header); !slices.Equal(whole, cut) {
		t.Errorf("size, alignment and offsets %v, want %v", cut, whole)
	}
}

// TestSlimPasted: a member named only by token pasting is not in the closure's names; a
// compile of one function that reached it cut down is redone with the records whole.
func TestSlimPasted(t *testing.T) {
	header := "struct inner { long a; int b; };\nstruct outer { int x; struct inner pasted_field; };\n" +
		"#define F(p, n) ((p)->n##_field.a)\n#define G(p, n) sizeof((p)->n##_field)\n"
	for _, tc := range []struct{ name, body string }{
		{"an error cut down", "return F(o, pasted);"},
		{"no error cut down", "return G(o, pasted);"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "pasted.h"), []byte(header), 0o644); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "prog.c")
			// g keeps the file more than the edited function (reuse.go compiles a file that
			// is mostly the edited function whole).
			g := "int g(struct outer *o)\n{\n" + strings.Repeat("\to->x++;\n", 40) + "\treturn o->x;\n}\n"
			text := func(body string) []byte {
				return []byte("#include \"pasted.h\"\nint f(struct outer *o)\n{\n\t" + body + "\n}\n" + g)
			}
			reusing, whole := NewCache(), NewCache()
			whole.noReuse = true
			in := Input{Path: path, Source: text("return o->x;"), Flags: &Flags{}}
			if _, err := reusing.Compile(context.Background(), in); err != nil {
				t.Fatal(err)
			}
			in.Source = text(tc.body)
			got, err := reusing.Compile(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if st := reusing.Stats(); st.Reused != 1 || st.Slim != 0 {
				t.Errorf("%+v: want the edit reused, from a compile with the records whole", st)
			}
			want, err := whole.Compile(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Diagnostics) > 0 {
				t.Errorf("diagnostics %v", got.Diagnostics)
			}
			if d := sameResultTypes(t, map[btf.Type]string{}, want, got); d != "" {
				t.Errorf("differs from a whole compile:\n%s", d)
			}
		})
	}
}
