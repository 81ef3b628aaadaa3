package lsp

import (
	"strings"
	"testing"

	"go.lsp.dev/protocol"
)

func TestCodeLens(t *testing.T) {
	e := newEnv(t, envOptions{init: map[string]any{"kernels": []string{synthKernel(t, "5.14.0-synth")}}})
	text := readTestdata(t, "multi_prog.bpf.c")
	needVmlinux(t)
	e.server.DidChangeConfiguration(e.ctx, &protocol.DidChangeConfigurationParams{Settings: []byte(`{"compileFlags": ["-I", "` + testdata(t, "include") + `", "-D__TARGET_ARCH_x86"]}`)})
	u := e.open(testdata(t, "multi_prog.bpf.c"), text)
	lenses, err := e.server.CodeLens(e.ctx, &protocol.CodeLensParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}})
	if err != nil {
		t.Fatal(err)
	}
	var secs []string
	var progs []outlineItem
	for _, it := range outline([]byte(text)) {
		if it.kind == outlineProgram {
			secs = append(secs, it.section)
			progs = append(progs, it)
		}
	}
	m := newMapper([]byte(text), encUTF16)
	if len(lenses) != len(secs) || len(secs) != 3 {
		t.Fatalf("%d lenses for programs %v", len(lenses), secs)
	}
	for i, l := range lenses {
		if !strings.Contains(l.Command.Title, secs[i]) || !strings.Contains(l.Command.Title, "relocation") {
			t.Errorf("lens %d: %q", i, l.Command.Title)
		}
		// On the program: its SEC() line or its name.
		if line := l.Range.Start.Line; line != m.position(progs[i].start).Line && line != m.position(progs[i].nameStart).Line {
			t.Errorf("lens %d at %v", i, l.Range.Start)
		}
		t.Logf("%d:%d %s", l.Range.Start.Line+1, l.Range.Start.Character+1, l.Command.Title)
	}
}

// When an analysis changes what the lenses say, clients that support it are asked to
// request them again (they ask on each change, usually before the analysis is done).
func TestCodeLensRefreshedWhenTheyChange(t *testing.T) {
	yes := true
	caps := protocol.ClientCapabilities{Workspace: &protocol.WorkspaceClientCapabilities{CodeLens: &protocol.CodeLensWorkspaceClientCapabilities{RefreshSupport: &yes}}}
	e := newEnv(t, envOptions{caps: caps})
	text := readTestdata(t, "seed.bpf.c")
	u := e.open(testdata(t, "seed.bpf.c"), text)
	e.waitDiagnostics(0, u, 1)
	refreshes := func() int {
		msgs, _ := e.tap.snapshot()
		n := 0
		for _, m := range msgs {
			if m.FromServer && m.Method == protocol.MethodWorkspaceCodeLensRefresh {
				n++
			}
		}
		return n
	}
	isRefresh := func(m wireMsg) bool { return m.FromServer && m.Method == protocol.MethodWorkspaceCodeLensRefresh }
	e.waitMsg(0, "codeLens/refresh", isRefresh)
	// A blank line changes no lens.
	from := e.mark()
	e.edit(u, 2, protocol.Range{Start: pos(0, 0), End: pos(0, 0)}, "\n")
	e.waitDiagnostics(from, u, 2)
	// One relocation fewer: the lens says so.
	at := posOf(t, text, "->dev", 0, 0)
	at.Line++
	from = e.mark()
	e.edit(u, 3, protocol.Range{Start: at, End: protocol.Position{Line: at.Line, Character: at.Character + 2}}, "")
	e.waitDiagnostics(from, u, 3)
	e.waitMsg(from, "codeLens/refresh", isRefresh)
	if n := refreshes(); n != 2 {
		t.Errorf("%d refreshes, want 2 (first analysis, lens change)", n)
	}
}
