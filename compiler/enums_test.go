package compiler

import (
	"fmt"
	"strings"
	"testing"

	"modernc.org/cc/v4"
)

func TestPlanEnum(t *testing.T) {
	entries := func(n int, value func(int) string) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "\tE%d = %s,\n", i, value(i))
		}
		return b.String()
	}
	plain := "enum e {\n" + entries(9, func(i int) string { return fmt.Sprint(i) }) + "};"
	for _, tc := range []struct {
		name, text string
		need       []string
		want       string // "": no plan; "=": nothing cut
	}{
		{"kept: the needed, the least, the greatest", plain, []string{"E4"},
			"enum e {\n\tE0 = 0,\n\n\n\n\tE4 = 4,\n\n\n\n\tE8 = 8,\n};"},
		{"all needed", plain, []string{"E1", "E2", "E3", "E4", "E5", "E6", "E7"}, "="},
		{"anonymous, hex, negative, suffixes", "enum {\n" + entries(9, func(i int) string {
			return []string{"0x10", "-3", "4294967295ULL", "7u", "010", "2", "1L", "0", "5"}[i]
		}) + "}", nil, "enum {\n\n\tE1 = -3,\n\tE2 = 4294967295ULL,\n\n\n\n\n\n\n}"},
		{"an implicit value", strings.Replace(plain, "E3 = 3", "E3", 1), nil, ""},
		{"an expression", strings.Replace(plain, "= 3", "= 1 << 2", 1), nil, ""},
		{"two on a line", strings.Replace(plain, "E3 = 3,\n", "E3 = 3, E33 = 33,\n", 1), nil, ""},
		{"on one line", "enum e { E0 = 0, E1 = 1, E2 = 2, E3 = 3, E4 = 4, E5 = 5, E6 = 6, E7 = 7, E8 = 8 };", nil, ""},
		{"on the brace's line", strings.Replace(plain, "{\n", "{ ", 1), nil, ""},
		{"too few", "enum e {\n" + entries(3, func(i int) string { return fmt.Sprint(i) }) + "}", nil, ""},
		{"packed", strings.Replace(plain, "enum e", "enum __attribute__((packed)) e", 1), nil, ""},
		{"a typedef", "typedef " + plain + " e_t", nil, ""},
	} {
		pl := planEnum(tc.text)
		if tc.want == "" {
			if pl != nil {
				t.Errorf("%s: planned", tc.name)
			}
			continue
		}
		if pl == nil {
			t.Errorf("%s: no plan", tc.name)
			continue
		}
		need := map[string]bool{}
		for _, n := range tc.need {
			need[n] = true
		}
		s := pl.slim(tc.text, need)
		if tc.want == "=" {
			if s != nil {
				t.Errorf("%s: cut to\n%s", tc.name, s.text)
			}
			continue
		}
		if s == nil || s.text != tc.want {
			t.Errorf("%s: cut to %+v, want\n%s", tc.name, s, tc.want)
		}
	}
}

// TestSlimEnumsVmlinux cuts every enum of vmlinux.h it can to its least and greatest
// constants, and checks that cc gives it the same type, range and constants kept.
func TestSlimEnumsVmlinux(t *testing.T) {
	forVmlinux(t, func(t *testing.T, p *preamble, cfg *cc.Config) {
		all := make([]int, len(p.decls))
		cut := map[int]*slimmed{}
		for i := range all {
			all[i] = i
			if pl := p.enumPlanOf(i); pl != nil {
				if s := pl.slim(p.decls[i].text, nil); s != nil {
					cut[i] = s
				}
			}
		}
		enums := func(cut map[int]*slimmed) map[string]*cc.EnumType {
			ast, err := cc.Translate(cfg, append(baseSources(cfg), cc.Source{Name: "<preamble>", Value: p.renderDecls(all, cut)}))
			if err != nil {
				t.Fatal(err)
			}
			return topEnums(ast)
		}
		whole, slim := enums(nil), enums(cut)
		for i := range cut {
			key := fmt.Sprintf("%s:%d", p.decls[i].file, p.decls[i].line)
			w, s := whole[key], slim[key]
			if w == nil || s == nil {
				t.Fatalf("enum at %s: not found", key)
			}
			if w.Size() != s.Size() || w.Min() != s.Min() || w.Max() != s.Max() || w.UnderlyingType().Kind() != s.UnderlyingType().Kind() {
				t.Errorf("enum %s: size %d min %d max %d %v, whole: %d %d %d %v", key, s.Size(), s.Min(), s.Max(), s.UnderlyingType(), w.Size(), w.Min(), w.Max(), w.UnderlyingType())
			}
			values := map[string]string{}
			for _, e := range w.Enumerators() {
				values[e.Token.SrcStr()] = fmt.Sprint(e.Value(), e.Type())
			}
			for _, e := range s.Enumerators() {
				if got := fmt.Sprint(e.Value(), e.Type()); got != values[e.Token.SrcStr()] {
					t.Errorf("enum %s: %s is %s, whole: %s", key, e.Token.SrcStr(), got, values[e.Token.SrcStr()])
				}
			}
		}
		if len(cut) < 100 {
			t.Errorf("%d enums cut down, want the hundreds of vmlinux.h", len(cut))
		}
		t.Logf("%d enums cut down", len(cut))
	})
}

// topEnums are the enums an AST defines at file scope, by where they are.
func topEnums(ast *cc.AST) map[string]*cc.EnumType {
	out := map[string]*cc.EnumType{}
	fileScopeSpecifiers(ast, func(ts *cc.TypeSpecifier) {
		if ts.Case != cc.TypeSpecifierEnum || ts.EnumSpecifier == nil || ts.EnumSpecifier.Case == cc.EnumSpecifierTag {
			return
		}
		if e, ok := ts.EnumSpecifier.Type().(*cc.EnumType); ok {
			pos := ts.EnumSpecifier.Position()
			out[fmt.Sprintf("%s:%d", pos.Filename, pos.Line)] = e
		}
	})
	return out
}

// FuzzPlanEnum: any declaration text is read without panicking, and an enum cut down
// keeps its lines.
func FuzzPlanEnum(f *testing.F) {
	f.Add("enum e {\n\tA = 0,\n\tB = 1,\n\tC = 2,\n\tD = 3,\n\tE = 4,\n\tF = 5,\n\tG = 6,\n\tH = 7,\n};", "C")
	f.Add("enum { A = 1 };", "A")
	f.Add("enum e {\n", "")
	f.Fuzz(func(t *testing.T, text, name string) {
		pl := planEnum(text)
		if pl == nil {
			return
		}
		if s := pl.slim(text, map[string]bool{name: true}); s != nil && strings.Count(s.text, "\n") != strings.Count(text, "\n") {
			t.Errorf("%q cut to %q: lines differ", text, s.text)
		}
	})
}
