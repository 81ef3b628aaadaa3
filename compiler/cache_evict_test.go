package compiler

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A Cache keeps at most maxPreambles preambles, evicting the least recently used, and
// forgets the header texts only evicted preambles used; an evicted preamble is rebuilt
// when needed, with the same result.
func TestPreambleEviction(t *testing.T) {
	dir := t.TempDir()
	n := maxPreambles + 4
	for i := range n {
		h := fmt.Sprintf("struct s%d { int a%d; } __attribute__((preserve_access_index));\n", i, i)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("h%d.h", i)), []byte(h), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	main := filepath.Join(dir, "main.bpf.c")
	src := func(i int) []byte {
		return []byte(fmt.Sprintf("#include \"h%d.h\"\nint f(struct s%d *p) { return __builtin_preserve_access_index(p->a%d); }\n", i, i, i))
	}
	c := NewCache()
	compile := func(i int) *Result {
		t.Helper()
		res, err := c.Compile(context.Background(), Input{Path: main, Source: src(i), Flags: &Flags{}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Relocations) != 1 || res.Relocations[0].Type != fmt.Sprintf("s%d", i) {
			t.Fatalf("h%d: relocations %v, diagnostics %v", i, res.Relocations, res.Diagnostics)
		}
		return res
	}
	for i := range n {
		compile(i)
		compile(0) // h0 stays the most recently used
	}
	c.mu.Lock()
	kept := len(c.preambles)
	c.mu.Unlock()
	if kept != maxPreambles {
		t.Errorf("%d preambles kept, want %d", kept, maxPreambles)
	}
	c.intern.mu.Lock()
	var texts []string
	for k := range c.intern.contents {
		texts = append(texts, filepath.Base(strings.Split(k, "\x00")[0]))
	}
	c.intern.mu.Unlock()
	if len(texts) != maxPreambles {
		t.Errorf("interned texts %v, want the %d of the kept preambles", texts, maxPreambles)
	}
	builds := c.Stats().Builds
	compile(0) // kept
	if got := c.Stats().Builds; got != builds {
		t.Errorf("h0 was rebuilt: it was the most recently used")
	}
	compile(1) // evicted: rebuilt
	if got := c.Stats().Builds; got != builds+1 {
		t.Errorf("builds %d → %d: the evicted h1 should be rebuilt once", builds, got)
	}
}
