package compiler

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
)

// summary is what must not differ between a full and a pruned compile.
func summary(res *Result) string {
	var b strings.Builder
	for _, r := range res.Relocations {
		fmt.Fprintf(&b, "%s %s %s func=%s sec=%s macro=%s path=%q layout=%+v range=%d-%d %d:%d-%d:%d\n",
			r.Kind, r.Type, r.Access, r.Func, r.Section, r.Macro, r.Path, r.Layout,
			r.Range.Start.Offset, r.Range.End.Offset, r.Range.Start.Line, r.Range.Start.Col, r.Range.End.Line, r.Range.End.Col)
	}
	for _, e := range res.Externs {
		fmt.Fprintf(&b, "extern %s %s %s weak=%v %v\n", e.Kind, e.Name, e.Type, e.Weak, e.Range)
	}
	for _, d := range res.Diagnostics {
		fmt.Fprintf(&b, "diag %s\n", d)
	}
	return b.String()
}

// TestPrunedEqualsFull: for every corpus program, the incremental compile gives exactly the
// full compile's records, diagnostics and positions.
func TestPrunedEqualsFull(t *testing.T) {
	cache := NewCache()
	for _, path := range corpusFiles(t) {
		name := goldenName(path)
		t.Run(name, func(t *testing.T) {
			full := compileCorpus(t, path)
			// The first compile of a preamble is a full one; the second is pruned.
			in := Input{Path: path, Flags: corpusFlags(t)}
			if _, err := cache.Compile(context.Background(), in); err != nil {
				t.Fatal(err)
			}
			before := cache.Stats().Pruned
			got, err := cache.Compile(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			src, _ := os.ReadFile(path)
			hasHeaders := strings.Contains(string(src[:preambleEnd(src)]), "#include")
			if _, bug := frontEndBugs[name]; !bug && hasHeaders && cache.Stats().Pruned != before+1 {
				t.Errorf("second compile was not pruned: %+v", cache.Stats())
			}
			if a, b := summary(full), summary(got); a != b {
				t.Errorf("pruned compile differs from full compile\nfull:\n%s\npruned:\n%s", a, b)
			}
		})
	}
	st := cache.Stats()
	t.Logf("cache: %+v", st)
	if st.Fallbacks > 0 {
		t.Errorf("%d compiles fell back to a full parse", st.Fallbacks)
	}
}

// TestCacheEdits: edits reuse the preamble, errors mid-edit are reported at their place,
// and a changed header on disk is noticed.
func TestCacheEdits(t *testing.T) {
	dir := t.TempDir()
	hdr := filepath.Join(dir, "local.h")
	if err := os.WriteFile(hdr, []byte("struct loc { int a; int b; } __attribute__((preserve_access_index));\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "p.bpf.c")
	flags := corpusFlags(t)
	head := "#include \"vmlinux.h\"\n#include <bpf/bpf_helpers.h>\n#include <bpf/bpf_core_read.h>\n#include \"local.h\"\n"
	cache := NewCache()
	compile := func(body string) *Result {
		t.Helper()
		res, err := cache.Compile(context.Background(), Input{Path: file, Source: []byte(head + body), Flags: flags})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	keys := func(res *Result) string {
		var k []string
		for _, r := range res.Relocations {
			k = append(k, r.Key())
		}
		return strings.Join(k, ",")
	}
	r := compile("SEC(\"kprobe/x\") int f(struct pt_regs *ctx) { struct task_struct *t = (void *)bpf_get_current_task(); return BPF_CORE_READ(t, mm, total_vm); }\n")
	if got := keys(r); got != "byte_off task_struct 0:53,byte_off mm_struct 0:0:27" {
		t.Errorf("relocations: %s %v", got, r.Diagnostics)
	}
	r = compile("SEC(\"kprobe/x\") int f(struct loc *l) { return l->\n")
	if !r.HasErrors() || r.Diagnostics[0].Range.Start.Line < 5 {
		t.Errorf("half-typed edit: want an error in the main file, got %v", r.Diagnostics)
	}
	r = compile("SEC(\"kprobe/x\") int f(struct loc *l) { return l->b; }\n")
	if got := keys(r); got != "byte_off loc 0:1" {
		t.Errorf("after the error: %s %v", got, r.Diagnostics)
	}
	// The header changes on disk: a member is inserted before b.
	if err := os.WriteFile(hdr, []byte("struct loc { int a; int z; int b; } __attribute__((preserve_access_index));\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	future := mustStat(t, hdr).ModTime().Add(2e9)
	if err := os.Chtimes(hdr, future, future); err != nil {
		t.Fatal(err)
	}
	r = compile("SEC(\"kprobe/x\") int f(struct loc *l) { return l->b; }\n")
	if got := keys(r); got != "byte_off loc 0:2" {
		t.Errorf("after the header changed: %s %v", got, r.Diagnostics)
	}
	if st := cache.Stats(); st.Builds != 2 || st.Fallbacks != 0 {
		t.Errorf("stats %+v: want 2 preamble builds, no fallback", st)
	}
}

func mustStat(t *testing.T, p string) os.FileInfo {
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

func TestPreambleEnd(t *testing.T) {
	tests := []struct {
		src  string
		want int
	}{
		{"#include <a.h>\n\nint x;\n", 16},
		{"// c\n/* multi\nline */\n#include \"x\"\n#define A \\\n 1\nstruct s;", 50},
		// A directive after a comment on its line is rare: the preamble just ends there.
		{"/* c */ #include \"x\"\nint y;", 0},
		{"#include <a.h>\n", 15},
		{"int x;", 0},
		{"  #if X\n#endif\n  int y;\n", 15},
	}
	for _, tt := range tests {
		if got := preambleEnd([]byte(tt.src)); got != tt.want {
			t.Errorf("preambleEnd(%q) = %d, want %d", tt.src, got, tt.want)
		}
	}
}

// TestPilingGarbage: with a memory limit, a build runs with the collector paused, and the
// percentage is restored when the last of overlapping builds ends; without one, the pace
// is left alone.
func TestPilingGarbage(t *testing.T) {
	prevLimit := debug.SetMemoryLimit(-1)
	prevPercent := debug.SetGCPercent(250)
	t.Cleanup(func() {
		debug.SetMemoryLimit(prevLimit)
		debug.SetGCPercent(prevPercent)
	})
	percentNow := func() int {
		p := debug.SetGCPercent(-1)
		debug.SetGCPercent(p)
		return p
	}

	debug.SetMemoryLimit(math.MaxInt64)
	pilingGarbage(func() {
		if p := percentNow(); p != 250 {
			t.Errorf("without a memory limit: GOGC %d during the build, want 250", p)
		}
	})

	debug.SetMemoryLimit(1 << 30)
	var wg sync.WaitGroup
	inner := make(chan struct{})
	outerDone := make(chan struct{})
	pilingGarbage(func() {
		wg.Go(func() {
			pilingGarbage(func() {
				close(inner)
				<-outerDone // still building when the first build has ended
				if p := percentNow(); p != -1 {
					t.Errorf("GOGC %d in a build that outlived another, want -1 (paused)", p)
				}
			})
		})
		<-inner
		if p := percentNow(); p != -1 {
			t.Errorf("GOGC %d during the build, want -1 (paused)", p)
		}
	})
	close(outerDone)
	wg.Wait()
	if p := percentNow(); p != 250 {
		t.Errorf("GOGC %d after the builds, want 250 restored", p)
	}

	// SetGCPercent during a build sets what the build restores; outside one, the pace.
	pilingGarbage(func() {
		if old := SetGCPercent(120); old != 250 {
			t.Errorf("SetGCPercent during a build returned %d, want 250", old)
		}
		if p := percentNow(); p != -1 {
			t.Errorf("GOGC %d after SetGCPercent during a build, want -1 (paused)", p)
		}
	})
	if p := percentNow(); p != 120 {
		t.Errorf("GOGC %d after the build, want 120 set during it", p)
	}
	if old := SetGCPercent(250); old != 120 || percentNow() != 250 {
		t.Errorf("SetGCPercent outside a build returned %d and left %d, want 120 and 250", old, percentNow())
	}
}
