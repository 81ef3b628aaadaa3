package compiler

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// corpusFlags are the flags `make golden` compiles the corpus with.
func corpusFlags(t testing.TB) *Flags {
	f, err := ParseFlags([]string{"-D__TARGET_ARCH_x86", "-I", filepath.Join(goldenRoot(t), "testdata", "include")}, "")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var corpusCache sync.Map // path → *Result

// compileCorpus compiles a corpus file once per test binary.
func compileCorpus(t testing.TB, path string) *Result {
	t.Helper()
	if r, ok := corpusCache.Load(path); ok {
		return r.(*Result)
	}
	if _, err := os.Stat(filepath.Join(goldenRoot(t), "testdata", "include", "vmlinux.h")); err != nil {
		t.Fatal("testdata/include/vmlinux.h is missing: run `make vmlinux`")
	}
	res, err := Compile(Input{Path: path, Flags: corpusFlags(t)})
	if err != nil {
		t.Fatal(err)
	}
	corpusCache.Store(path, res)
	return res
}

// frontEndBugs are corpus programs clang compiles and cc/v4 v4.31.0 does not, with the
// reason. The test insists that they still fail, so a fixed cc/v4 is noticed.
var frontEndBugs = map[string]string{
	// Reproducer for an upstream report:
	//   struct s { int a; struct s *next; } __attribute__((preserve_access_index));
	//   int f(struct s *p) { return p->next->a; }
	// → "type struct s {} has no member named a": any attribute cc/v4 does not know
	// clones the record type, and the member's pointer keeps the incomplete original.
	"core_read_user": "cc/v4 loses the members of a self-referential record with an unknown attribute",
}

// checkCompiles fails the test on compiler diagnostics, or skips a known front-end bug
// after checking it is still there.
func checkCompiles(t *testing.T, name string, res *Result) {
	t.Helper()
	if why, ok := frontEndBugs[name]; ok {
		if !res.HasErrors() {
			t.Fatalf("%s compiles now: remove it from frontEndBugs (%s)", name, why)
		}
		t.Skip("known front-end bug: " + why)
	}
	for _, d := range res.Diagnostics {
		t.Errorf("%s", d)
	}
}

func keyOf(r Relocation) string {
	typ := r.Type
	if typ == "" {
		typ = goldenAnon
	}
	return r.Kind.String() + " " + typ + " " + r.Access
}

// TestCorpusMatchesClang compares, per file and as sets, the relocations corpus reports with
// the ones clang-16 emitted: every clang relocation must be found, and every extra one must
// be declared in the source with a `// corels-extra:` line (dead code clang dropped).
func TestCorpusMatchesClang(t *testing.T) {
	for _, path := range corpusFiles(t) {
		name := goldenName(path)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			golden := loadGolden(t, name)
			res := compileCorpus(t, path)
			checkCompiles(t, name, res)
			got := map[string]bool{}
			for _, r := range res.Relocations {
				got[keyOf(r)] = true
			}
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			extras := map[string]bool{}
			for _, e := range expectedExtras(src) {
				extras[e] = true
			}
			for _, k := range golden.Keys() {
				if !got[k] {
					t.Errorf("missing relocation clang emits: %s (%v)", k, golden.Where[k])
				}
			}
			for k := range got {
				if !golden.Relocs[k] && !extras[k] {
					t.Errorf("extra relocation clang does not emit: %s", k)
				}
			}
			for k := range extras {
				if !got[k] {
					t.Errorf("declared corels-extra not reported: %s", k)
				}
			}
			var ext []string
			for _, e := range res.Externs {
				ext = append(ext, e.Kind+" "+e.Name)
			}
			slices.Sort(ext)
			ext = slices.Compact(ext)
			if want := golden.ExternKeys(); strings.Join(ext, ",") != strings.Join(want, ",") {
				t.Errorf("externs: got %v, clang %v", ext, want)
			}
		})
	}
}

// TestCorpusRanges checks that every relocation points at the text that produces it: a
// field relocation at its last member name (or subscript), an enum one at the enumerator.
func TestCorpusRanges(t *testing.T) {
	for _, path := range corpusFiles(t) {
		name := goldenName(path)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := compileCorpus(t, path)
			checkCompiles(t, name, res)
			for _, r := range res.Relocations {
				// Relocations of header functions point into the header.
				src, err := os.ReadFile(r.Range.Start.File)
				if err != nil || r.Range.End.File != r.Range.Start.File || r.Range.End.Offset <= r.Range.Start.Offset || r.Range.End.Offset > len(src) {
					t.Errorf("%s in %s: no range in the file (%+v)", keyOf(r), r.Func, r.Range)
					continue
				}
				text := string(src[r.Range.Start.Offset:r.Range.End.Offset])
				switch {
				case r.Macro != "":
					if text != r.Macro {
						t.Errorf("%s: range %q is not the macro %q", keyOf(r), text, r.Macro)
					}
				case r.Kind.IsField():
					last := ""
					for i := len(r.Path) - 1; i >= 0 && last == ""; i-- {
						if !strings.HasPrefix(r.Path[i], "[") {
							last = r.Path[i]
						}
					}
					if last != "" && !strings.Contains(text, last) {
						t.Errorf("%s: range %q does not contain member %q", keyOf(r), text, last)
					}
				case r.Kind.IsEnum():
					if text != r.Path[0] {
						t.Errorf("%s: range %q is not the enumerator %q", keyOf(r), text, r.Path[0])
					}
				}
			}
		})
	}
}
