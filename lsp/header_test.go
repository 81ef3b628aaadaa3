package lsp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"
)

// headerProject copies testdata programs and their headers into a directory with a
// compile_flags.txt, as a user's project is laid out.
func headerProject(t *testing.T, files ...string) string {
	t.Helper()
	needVmlinux(t)
	dir := t.TempDir()
	flags := strings.Join(append(testFlags(t), "-I", dir), "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "compile_flags.txt"), []byte(flags), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(readTestdata(t, f)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A header opened alone is analysed through a file that includes it: its relocations
// show at the header's own positions, in hover and diagnostics.
func TestHeaderOpenedAlone(t *testing.T) {
	cases := []struct {
		name, header, member, want string
		files                      []string
	}{
		{"helpers", "header_helpers.bpf.h", "real_parent", "task_struct", []string{"header_helpers.bpf.c"}},
		{"whole program in .inc.h", "inc_program.inc.h", "d_inode", "dentry", []string{"inc_program.bpf.c"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := headerProject(t, append(c.files, c.header)...)
			e := newEnv(t, envOptions{})
			text := readTestdata(t, c.header)
			from := e.mark()
			u := e.open(filepath.Join(dir, c.header), text)
			p := e.waitDiagnostics(from, u, 1)
			for _, d := range p.Diagnostics {
				if diagCode(d) == "parse-error" {
					t.Errorf("parse error in the header: %s", diagMessage(d))
				}
			}
			h := hoverText(e.hover(u, posOf(t, text, c.member, 0, 1)))
			if !strings.Contains(h, c.want) {
				t.Errorf("hover on %s in the header: %q", c.member, h)
			}
			// Relocations show as hint diagnostics for clients without inlay hints.
			if len(findDiag(p.Diagnostics, "core-reloc")) == 0 {
				t.Errorf("no relocation shown in the header: %v", codes(p.Diagnostics))
			}
		})
	}
}

// A header no file includes is served (requests answered) with no diagnostics.
func TestHeaderWithoutUnit(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, envOptions{})
	from := e.mark()
	u := e.open(filepath.Join(dir, "alone.h"), "static inline int f(int x) { return x; }\n")
	if p := e.waitDiagnostics(from, u, 1); len(p.Diagnostics) != 0 {
		t.Errorf("diagnostics for a header nothing includes: %v", codes(p.Diagnostics))
	}
	if h := e.hover(u, protocol.Position{Line: 0, Character: 20}); h != nil && hoverText(h) != "" {
		t.Errorf("hover: %q", hoverText(h))
	}
}

// Editing a header while its includer is open re-analyses both: the header shows the new
// access at once, and the includer is published again.
func TestHeaderEditedWithIncluder(t *testing.T) {
	dir := headerProject(t, "header_helpers.bpf.c", "header_helpers.bpf.h")
	e := newEnv(t, envOptions{})
	prog := readTestdata(t, "header_helpers.bpf.c")
	pu := e.open(filepath.Join(dir, "header_helpers.bpf.c"), prog)
	e.waitDiagnostics(0, pu, 1)
	text := readTestdata(t, "header_helpers.bpf.h")
	from := e.mark()
	hu := e.open(filepath.Join(dir, "header_helpers.bpf.h"), text)
	e.waitDiagnostics(from, hu, 1)
	before := len(e.publications(pu))

	edited := strings.Replace(text, "real_parent, tgid", "real_parent, pid", 1)
	from = e.mark()
	e.replaceAll(hu, 2, edited)
	e.waitDiagnostics(from, hu, 2)
	if h := hoverText(e.hover(hu, posOf(t, edited, "pid);", 0, 1))); !strings.Contains(h, "task_struct") || !strings.Contains(h, "pid") {
		t.Errorf("hover on the new access: %q", h)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(e.publications(pu)) == before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if len(e.publications(pu)) == before {
		t.Errorf("the including file was not analysed again after the header changed")
	}
}
