package analysis

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHalfTypedFiles: every edit state of a file gets a report, never a panic. Each line
// of the test programs is deleted in turn, and each program is cut at several places;
// every report answers hovers and code actions at every offset, and every fix applies.
func TestHalfTypedFiles(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(repoRoot(), "testdata", "analysis", "*.bpf.c"))
	if testing.Short() {
		files = files[:2]
	}
	kernels := synthKernels(t, "4.18.0-synth", "5.14.0-synth")
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitAfter(string(src), "\n")
		var variants []string
		for i := range lines {
			variants = append(variants, strings.Join(lines[:i], "")+strings.Join(lines[i+1:], ""))
		}
		for _, frac := range []int{3, 2} {
			variants = append(variants, string(src[:len(src)/frac]))
		}
		for _, v := range variants {
			b := []byte(v)
			rep := Analyze(compileText(t, path, b), b, Options{Kernels: kernels})
			for off := 0; off <= len(b); off += 7 {
				rep.HoverAt(off)
				rep.FindingsIn(off, off+20)
				rep.HintsIn(off, off+20)
			}
			for _, f := range rep.Findings {
				for _, fx := range f.Fixes {
					if _, err := ApplyEdits(b, fx.Edits); err != nil {
						t.Errorf("%s: fix %q: %v", filepath.Base(path), fx.Title, err)
					}
				}
				if strings.Contains(f.Message, "internal error") {
					t.Errorf("%s: %s", filepath.Base(path), f.Message)
				}
				if f.Range.Start.Offset < 0 || f.Range.End.Offset > len(b) || f.Range.End.Offset < f.Range.Start.Offset {
					t.Errorf("%s: finding outside the file: %+v", filepath.Base(path), f)
				}
			}
		}
	}
}
