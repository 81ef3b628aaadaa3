package compiler

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestFallbackHeader: a vmlinux.h the build lacks is served from memory, said so in the
// result, and never shadows a real one.
func TestFallbackHeader(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "p.bpf.c")
	src := []byte("#include \"vmlinux.h\"\nint f(struct task_struct *t) { return t->pid; }\n")
	fallback := map[string][]byte{"vmlinux.h": []byte("#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\nstruct task_struct { int state; int pid; };\n#pragma clang attribute pop\n")}
	real := filepath.Join(dir, "inc")
	if err := os.MkdirAll(real, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(real, "vmlinux.h"), []byte("struct task_struct { int pid; } __attribute__((preserve_access_index));\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		flags    []string
		fallback map[string][]byte
		want     string // relocation key, or "error"
		used     string
	}{
		{"no header anywhere", nil, nil, "error", ""},
		{"fallback", nil, fallback, "byte_off task_struct 0:1", "vmlinux.h"},
		{"real header wins", []string{"-I", real}, fallback, "byte_off task_struct 0:0", ""},
	}
	for _, tt := range tests {
		for _, mode := range []string{"full", "cache"} {
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				flags, _ := ParseFlags(tt.flags, "")
				in := Input{Path: file, Source: src, Flags: flags, Fallback: tt.fallback}
				var res *Result
				var err error
				if mode == "full" {
					res, err = Compile(in)
				} else {
					c := NewCache()
					for i := 0; i < 2; i++ { // the second compile is the pruned one
						if res, err = c.Compile(context.Background(), in); err != nil {
							break
						}
					}
				}
				if err != nil {
					t.Fatal(err)
				}
				if tt.want == "error" {
					if !res.HasErrors() || !strings.Contains(res.Diagnostics[0].Message, "vmlinux.h") {
						t.Fatalf("want an error naming vmlinux.h, got %v", res.Diagnostics)
					}
					return
				}
				if res.HasErrors() || len(res.Relocations) != 1 || res.Relocations[0].Key() != tt.want {
					t.Fatalf("got %v %v, want %s", res.Relocations, res.Diagnostics, tt.want)
				}
				if got := strings.Join(res.FallbacksUsed, ","); got != tt.used {
					t.Errorf("FallbacksUsed = %q, want %q", got, tt.used)
				}
			})
		}
	}
}

// A full vmlinux.h served as a fallback (the language server's generated one) gives the
// cache the same results as the header on disk. Such a header has no disk stamp: indexing
// once read it afresh for each of its 14k declarations, tens of GB of copies.
func TestFallbackVmlinuxCached(t *testing.T) {
	lsm := filepath.Join(goldenRoot(t), "testdata", "lsm.bpf.c")
	want := compileCorpus(t, lsm)
	vm, err := os.ReadFile(filepath.Join(goldenRoot(t), "testdata", "include", "vmlinux.h"))
	if err != nil {
		t.Fatal(err)
	}
	flags, _ := ParseFlags([]string{"-D__TARGET_ARCH_x86"}, "")
	c := NewCache()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range 2 { // the cold build, then a pruned compile
		res, err := c.Compile(context.Background(), Input{Path: lsm, Flags: flags,
			Fallback: map[string][]byte{"vmlinux.h": vm}, FallbackKey: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if got := summary(res); got != summary(want) || !slices.Equal(res.FallbacksUsed, []string{"vmlinux.h"}) {
			t.Fatalf("compile %d with the fallback vmlinux.h (used %v):\n%s\nwant (from disk):\n%s", i, res.FallbacksUsed, got, summary(want))
		}
	}
	runtime.ReadMemStats(&after)
	// A cold build allocates about 1 GB; reading the header per declaration was ~30 GB.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<30 {
		t.Errorf("two compiles allocated %d MB", alloc>>20)
	}
}
