package lsp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A file that includes vmlinux.h when none is on the include path is compiled against
// one generated from the first kernel, and says so; with vmlinuxFallback off it does not
// compile; with a vmlinux.h on the include path the fallback is not used.
func TestVmlinuxFallback(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	text := "#include \"vmlinux.h\"\n#define SEC(n) __attribute__((section(n), used))\nSEC(\"kprobe/x\") int f(struct task_struct *t) { return t->tgid; }\n"
	path := filepath.Join(dir, "gen.bpf.c")
	for _, fallback := range []bool{true, false} {
		e := newEnv(t, envOptions{init: map[string]any{
			"kernels": []string{synthKernel(t, "5.14.0-synth")}, "vmlinuxFallback": fallback, "relocationHints": "diagnostic",
		}})
		u := e.open(path, text)
		p := e.waitDiagnostics(0, u, 1)
		notes := findDiag(p.Diagnostics, CodeVmlinuxGenerated)
		errs := findDiag(p.Diagnostics, "parse-error")
		if !fallback {
			if len(notes) != 0 || len(errs) == 0 {
				t.Errorf("fallback off: %v", codes(p.Diagnostics))
			}
			continue
		}
		if len(notes) != 1 || len(errs) != 0 || notes[0].Range.Start.Line != 0 || !strings.Contains(diagMessage(notes[0]), "5.14.0-synth") {
			t.Fatalf("fallback on: %+v", p.Diagnostics)
		}
		h := hoverText(e.hover(u, posOf(t, text, "->tgid", 0, 3)))
		if !strings.Contains(h, "task_struct") {
			t.Errorf("hover with the generated header: %q", h)
		}
		loc := e.definition(u, posOf(t, text, "->tgid", 0, 3))
		if loc == nil {
			t.Fatal("no definition in the generated header")
		}
		data, err := os.ReadFile(loc.URI.FsPath())
		if err != nil || !strings.Contains(strings.Split(string(data), "\n")[loc.Range.Start.Line], "tgid;") {
			t.Errorf("definition %v: %v", loc, err)
		}
	}

	needVmlinux(t)
	e := newEnv(t, envOptions{init: map[string]any{
		"kernels": []string{synthKernel(t, "5.14.0-synth")}, "compileFlags": testFlags(t),
	}})
	u := e.open(path, text)
	if p := e.waitDiagnostics(0, u, 1); len(findDiag(p.Diagnostics, CodeVmlinuxGenerated)) != 0 || len(findDiag(p.Diagnostics, "parse-error")) != 0 {
		t.Errorf("with vmlinux.h on the include path: %v", codes(p.Diagnostics))
	}
}
