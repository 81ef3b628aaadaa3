package compiler

import (
	"context"
	"os"
	"path/filepath"
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
struct gaps {
	char a;
	/* a comment ends a run */
	short b;
	long c;
	char d;
	char e[3];
	int f;
	char g[];
};
union choice { char c; struct other o; long l; int i; };
`

// headerPreamble is the preamble of a program that includes header, body after it, once
// compiled whole.
func headerPreamble(t *testing.T, header, body string) *preamble {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "h.h"), []byte(header), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "#include \"h.h\"\n" + body
	c := NewCache()
	if _, err := c.Compile(context.Background(), Input{Path: filepath.Join(dir, "prog.c"), Source: []byte(src), Flags: &Flags{}}); err != nil {
		t.Fatal(err)
	}
	return onlyPreamble(t, c)
}

// TestSlimPlan: which members of a header record a compile can cut, what replaces them,
// and that the record cut down has the layout of the whole one.
func TestSlimPlan(t *testing.T) {
	p := headerPreamble(t, slimHeader, "int f(struct outer *o, struct gaps *g, union choice *c) { return o->x + o->in.a + g->a + c->i; }\n")
	if j, ok := p.recordDecl("inner"); !ok || p.plan(j) == nil {
		t.Errorf("struct inner: no plan")
	}
	for _, tc := range []struct {
		tag     string
		members string // the members the plan can cut; runs joined by '+'
		need    []string
		want    string // the record cut down; "": nothing cut
	}{
		// Not the anonymous union (it holds members of its own) nor the aligned member.
		// The bit-field is cut as a run of its own, to where the union starts.
		{"outer", "x+in+arr,one+p+bf tail", nil, `struct outer {
	int __corels_pad0_0[2]; long long __corels_pad0_1[9]; char __corels_pad0_2[4];




	union { int u1; struct other o; };
	struct other al __attribute__((aligned(16)));
	char __corels_pad5_1[1];
};`},
		{"outer", "", []string{"in", "tail"}, `struct outer {
	int __corels_pad0_1[1];
	struct inner in;
	long long __corels_pad2_1[7]; char __corels_pad2_2[4];


	union { int u1; struct other o; };
	struct other al __attribute__((aligned(16)));
	char tail;
};`},
		{"outer", "", []string{"x", "in", "one", "tail"}, `struct outer {
	int x;
	struct inner in;
	struct inner arr[2], one;
	long long __corels_pad3_1[1]; char __corels_pad3_2[4];

	union { int u1; struct other o; };
	struct other al __attribute__((aligned(16)));
	char tail;
};`},
		// A bit-field kept keeps the member before it.
		{"outer", "", []string{"bf"}, `struct outer {
	int __corels_pad0_0[2]; long long __corels_pad0_1[8];


	struct inner *p;
	int bf: 3;
	union { int u1; struct other o; };
	struct other al __attribute__((aligned(16)));
	char __corels_pad5_1[1];
};`},
		{"outer", "", []string{"x", "in", "one", "bf", "tail"}, ""},
		// A comment between members ends a run; the flexible array is kept. The padding
		// of the run b..f covers 2..24: shorts up to c, the first 8-aligned member.
		{"gaps", "a b+c+d+e+f", nil, `struct gaps {
	char __corels_pad0_1[1];
	/* a comment ends a run */
	short __corels_pad1_0[3]; long long __corels_pad1_1[2];




	char g[];
};`},
		{"gaps", "", []string{"e"}, `struct gaps {
	char __corels_pad0_1[1];
	/* a comment ends a run */
	short __corels_pad1_0[3]; long long __corels_pad1_1[1]; char __corels_pad1_2[1];


	char e[3];
	int __corels_pad5_1[1];
	char g[];
};`},
		{"choice", "c+o+l+i", []string{"o"}, `union choice { char __corels_pad0_0[1]; struct other o; long long __corels_pad2_0[1]; };`},
		{"inner", "a+b", nil, `struct inner { long long __corels_pad0_1[1]; char __corels_pad0_2[4]; };`},
	} {
		i, ok := p.recordDecl(tc.tag)
		if !ok {
			t.Fatalf("no declaration of %s", tc.tag)
		}
		plan := p.plan(i)
		if plan == nil {
			t.Fatalf("%s has no plan", tc.tag)
		}
		if tc.members != "" {
			var b strings.Builder
			for j, m := range plan.members {
				if j > 0 && m.joins {
					b.WriteByte('+')
				} else if j > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(strings.Join(m.names, ","))
			}
			if got := b.String(); got != tc.members {
				t.Errorf("%s: members to cut %q, want %q", tc.tag, got, tc.members)
			}
		}
		need := map[string]bool{}
		for _, n := range tc.need {
			need[n] = true
		}
		s := plan.slim(p.decls[i], need)
		if tc.want == "" {
			if s != nil {
				t.Errorf("%s, need %v: cut to\n%s\nwant nothing cut", tc.tag, tc.need, s.text)
			}
			continue
		}
		if s == nil {
			t.Errorf("%s, need %v: nothing cut", tc.tag, tc.need)
			continue
		}
		if s.text != tc.want {
			t.Errorf("%s, need %v: cut to\n%s\nwant\n%s", tc.tag, tc.need, s.text, tc.want)
		}
		if strings.Count(s.text, "\n") != strings.Count(p.decls[i].text, "\n") {
			t.Errorf("%s, need %v: the text has other lines than the record's", tc.tag, tc.need)
		}
		whole := translateRecords(t, slimHeader)
		slim := translateRecords(t, strings.Replace(slimHeader, p.decls[i].text, s.text, 1))
		checkSlimLayout(t, tc.tag, plan, whole[tc.tag], slim[tc.tag])
		if again := plan.slim(p.decls[i], need); again != s {
			t.Errorf("%s, need %v: not memoized", tc.tag, tc.need)
		}
	}
}

// TestSlimVmlinux cuts every record of vmlinux.h down, once to nothing a compile names
// and once keeping every other member, and checks each against the whole record.
func TestSlimVmlinux(t *testing.T) {
	forVmlinux(t, func(t *testing.T, p *preamble, cfg *cc.Config) {
		all := make([]int, len(p.decls))
		for i := range all {
			all[i] = i
		}
		records := func(cut map[int]*slimmed) (*cc.AST, map[string]cc.Type) {
			ast, err := cc.Translate(cfg, append(baseSources(cfg), cc.Source{Name: "<preamble>", Value: p.renderDecls(all, cut)}))
			if err != nil {
				t.Fatal(err)
			}
			return ast, topRecords(ast)
		}
		ast, whole := records(nil)
		p.learnSlims(ast)
		for _, keep := range []int{0, 2} {
			cut := map[int]*slimmed{}
			for i := range p.decls {
				pl := p.plan(i)
				if pl == nil {
					continue
				}
				need := map[string]bool{}
				for j, m := range pl.members {
					if keep > 0 && j%keep == 0 {
						for _, n := range m.names {
							need[n] = true
						}
					}
				}
				if s := pl.slim(p.decls[i], need); s != nil {
					cut[i] = s
				}
			}
			_, slim := records(cut)
			var before, after int
			for i, s := range cut {
				tag := p.decls[i].declares[0]
				checkSlimLayout(t, tag, p.plan(i), whole[tag], slim[tag])
				before, after = before+len(p.decls[i].text), after+len(s.text)
			}
			if len(cut) < 1000 {
				t.Errorf("%d records cut down, want the thousands of vmlinux.h", len(cut))
			}
			t.Logf("keeping every %d: %d records cut down, %d bytes to %d", keep, len(cut), before, after)
		}
	})
}

// forVmlinux runs check on the preamble of vmlinux.h alone, testdata's and the host's
// when there is one.
func forVmlinux(t *testing.T, check func(t *testing.T, p *preamble, cfg *cc.Config)) {
	root := goldenRoot(t)
	dirs := []string{filepath.Join(root, "testdata", "include")}
	if host := filepath.Join(root, "build", "host"); fileExists(filepath.Join(host, "vmlinux.h")) {
		dirs = append(dirs, host)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			flags, err := ParseFlags([]string{"-D__TARGET_ARCH_x86", "-I", dir}, "")
			if err != nil {
				t.Fatal(err)
			}
			text := "#include \"vmlinux.h\"\n"
			u, err := prepare(Input{Path: filepath.Join(t.TempDir(), "p.bpf.c"), Source: []byte(text), Flags: flags})
			if err != nil {
				t.Fatal(err)
			}
			p := buildPreamble(u, text, newInterner())
			if p.err != nil {
				t.Fatal(p.err)
			}
			cfg, err := newConfig(u.flags, u.fsys, nil)
			if err != nil {
				t.Fatal(err)
			}
			check(t, p, cfg)
		})
	}
}

// topRecords are the records an AST defines at file scope, by tag.
func topRecords(ast *cc.AST) map[string]cc.Type {
	out := map[string]cc.Type{}
	fileScopeSpecifiers(ast, func(ts *cc.TypeSpecifier) {
		if ts.Case == cc.TypeSpecifierStructOrUnion {
			if s := ts.StructOrUnionSpecifier; s != nil && s.Case == cc.StructOrUnionSpecifierDef && s.Token.Ch == rune(cc.IDENTIFIER) {
				out[s.Token.SrcStr()] = s.Type()
			}
		}
	})
	return out
}

// fileScopeSpecifiers calls fn with the type specifiers of an AST's declarations at file
// scope.
func fileScopeSpecifiers(ast *cc.AST, fn func(*cc.TypeSpecifier)) {
	for l := ast.TranslationUnit; l != nil; l = l.TranslationUnit {
		ed := l.ExternalDeclaration
		if ed == nil || ed.Case != cc.ExternalDeclarationDecl || ed.Declaration.Case != cc.DeclarationDecl {
			continue
		}
		for ds := ed.Declaration.DeclarationSpecifiers; ds != nil; ds = ds.DeclarationSpecifiers {
			if ds.TypeSpecifier != nil {
				fn(ds.TypeSpecifier)
			}
		}
	}
}

func translateRecords(t *testing.T, header string) map[string]cc.Type {
	t.Helper()
	cfg, err := newConfig(&Flags{}, newOverlayFS(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	ast, err := cc.Translate(cfg, append(baseSources(cfg), cc.Source{Name: "h.c", Value: header}))
	if err != nil {
		t.Fatalf("%v\n%s", err, header)
	}
	return topRecords(ast)
}

// checkSlimLayout checks that the record slim, cut down by plan, has the size and the
// alignment of whole, and each member it keeps the offset, the bit offset and, mapped by
// the plan, the BTF index it has in whole.
func checkSlimLayout(t *testing.T, tag string, plan *slimPlan, whole, slim cc.Type) {
	t.Helper()
	if whole == nil || slim == nil {
		t.Fatalf("%s: not defined", tag)
	}
	if whole.Size() != slim.Size() || whole.Align() != slim.Align() {
		t.Errorf("%s: size %d, alignment %d; whole %d, %d", tag, slim.Size(), slim.Align(), whole.Size(), whole.Align())
	}
	var anon []*cc.Field
	for j := range numFields(whole) {
		if f := fieldByIndex(whole, j); isBTFMember(f) && f.Name() == "" {
			anon = append(anon, f)
		}
	}
	k := 0
	for j := range numFields(slim) {
		f := fieldByIndex(slim, j)
		if !isBTFMember(f) || strings.HasPrefix(f.Name(), "__corels_pad") {
			continue
		}
		var w *cc.Field
		if f.Name() != "" {
			w = whole.(interface{ FieldByName(string) *cc.Field }).FieldByName(f.Name())
		} else if k < len(anon) {
			w, k = anon[k], k+1
		}
		if w == nil {
			t.Errorf("%s: member %q kept is not in the whole record", tag, f.Name())
			continue
		}
		index, ok := plan.wholeIndex(slim, f)
		if f.Offset() != w.Offset() || bitOffset(slim, f) != bitOffset(whole, w) || !ok || index != btfMemberIndex(whole, w) {
			t.Errorf("%s.%s: offset %d, bit offset %d, index %d (%v); whole %d, %d, %d", tag, f.Name(),
				f.Offset(), bitOffset(slim, f), index, ok, w.Offset(), bitOffset(whole, w), btfMemberIndex(whole, w))
		}
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
