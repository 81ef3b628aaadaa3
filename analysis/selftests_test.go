package analysis

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/corels/corels/btf"
	"github.com/corels/corels/compiler"
)

// layoutCodes are the findings whose every occurrence on the kernel's selftests is
// reviewed by hand in testdata/selftests/findings.review.
var layoutCodes = map[string]bool{CodeProbeReadNotReloc: true, CodeDirectKernelRead: true}

// TestSelftestsFindings analyses every program of the kernel's BPF selftests (`make
// selftests`: build/selftests, with its compile_flags.txt) against the embedded Debian 6.1
// kernel and compares the probe-read-not-relocatable and direct-kernel-read findings with
// testdata/selftests/findings.review, where each has a verdict saying why it is true. A
// finding not in the file (a false warning, or a true one nobody reviewed) fails, and so
// does an entry no longer found (a true warning lost).
func TestSelftestsFindings(t *testing.T) {
	root := repoRoot()
	progs := filepath.Join(root, "build", "selftests", "tools", "testing", "selftests", "bpf", "progs")
	files, _ := filepath.Glob(filepath.Join(progs, "*.c"))
	if len(files) == 0 {
		t.Skip("build/selftests is absent: run `make selftests` to review the findings on the kernel's BPF selftests")
	}
	if testing.Short() {
		t.Skip("analyses ~500 selftests programs")
	}
	want := readReview(t, filepath.Join(root, "testdata", "selftests", "findings.review"))
	def, err := btf.DefaultKernel()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []string
	compiled := 0
	t.Run("programs", func(t *testing.T) {
		for _, path := range files {
			t.Run(filepath.Base(path), func(t *testing.T) {
				t.Parallel()
				src, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				res, err := compiler.Compile(compiler.Input{Path: path, Source: src})
				if err != nil {
					t.Fatal(err)
				}
				rep := Analyze(res, src, Options{Kernels: []*btf.Kernel{def}})
				mu.Lock()
				defer mu.Unlock()
				if !res.HasErrors() {
					compiled++
				}
				for _, f := range rep.Findings {
					if layoutCodes[f.Code] {
						got = append(got, fmt.Sprintf("progs/%s:%d %s", filepath.Base(path), f.Range.Start.Line, f.Code))
					}
				}
			})
		}
	})
	sort.Strings(got)
	t.Logf("%d of %d programs compile without errors; %d reviewed findings", compiled, len(files), len(got))
	var wantKeys []string
	for _, e := range want {
		wantKeys = append(wantKeys, e.key)
	}
	sort.Strings(wantKeys)
	for _, k := range multisetMinus(got, wantKeys) {
		t.Errorf("finding not in findings.review (review it: a true warning gets a verdict there, a false one is a bug): %s", k)
	}
	for _, k := range multisetMinus(wantKeys, got) {
		t.Errorf("findings.review lists a finding no longer reported (a true warning lost?): %s", k)
	}
}

type reviewEntry struct {
	key     string // "progs/loop6.c:81 probe-read-not-relocatable"
	verdict string
}

// readReview parses findings.review: `progs/FILE:LINE CODE — true: why`, one finding a
// line (a line's findings of one code are listed once each), `#` comments.
func readReview(t *testing.T, path string) []reviewEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []reviewEntry
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		head, verdict, ok := strings.Cut(line, " — ")
		fields := strings.Fields(head)
		if !ok || len(fields) != 2 || !layoutCodes[fields[1]] || !strings.HasPrefix(verdict, "true: ") || len(verdict) < 20 {
			t.Fatalf("%s:%d: want `progs/FILE:LINE CODE — true: why the kernel would misread it`, got %q", path, n, line)
		}
		out = append(out, reviewEntry{key: fields[0] + " " + fields[1], verdict: verdict})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// multisetMinus lists the elements of a not matched one for one in b (both sorted).
func multisetMinus(a, b []string) []string {
	var out []string
	b = slices.Clone(b)
	for _, x := range a {
		if i, ok := slices.BinarySearch(b, x); ok {
			b = slices.Delete(b, i, i+1)
			continue
		}
		out = append(out, x)
	}
	return out
}
