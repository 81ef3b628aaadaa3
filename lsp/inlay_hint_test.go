package lsp

import (
	"strings"
	"testing"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

func (e *env) inlayHints(text string, u uri.URI) []protocol.InlayHint {
	e.t.Helper()
	end := newMapper([]byte(text), encUTF16).position(len(text))
	hs, err := e.server.InlayHint(e.ctx, &protocol.InlayHintParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}, Range: protocol.Range{End: end}})
	if err != nil {
		e.t.Fatal(err)
	}
	return hs
}

// relocationHints chooses how relocations are shown: inlay hints after the member names,
// hint diagnostics, or nothing.
func TestRelocationHintModes(t *testing.T) {
	text := readTestdata(t, "seed.bpf.c")
	for _, mode := range []string{"inlay", "diagnostic", "off"} {
		e := newEnv(t, envOptions{init: map[string]any{"relocationHints": mode}})
		u := e.open(testdata(t, "seed.bpf.c"), text)
		p := e.waitDiagnostics(0, u, 1)
		hints := e.inlayHints(text, u)
		nDiag := len(findDiag(p.Diagnostics, "core-reloc"))
		switch mode {
		case "inlay":
			if len(hints) != 3 || nDiag != 0 {
				t.Fatalf("inlay: %d hints, %d diagnostics", len(hints), nDiag)
			}
			for i, want := range []struct{ after, label string }{{"arg1", "0x0"}, {"->dev", "0x8"}, {"->ifindex", "0x4"}} {
				h := hints[i]
				label, _ := h.Label.(protocol.String)
				needle := want.after
				at := posOf(t, text, needle+")", 0, len(needle))
				if !strings.Contains(string(label), want.label) || h.Position != at {
					t.Errorf("hint %d: %q at %v, want %s at %v", i, label, h.Position, want.label, at)
				}
			}
		case "diagnostic":
			if len(hints) != 0 || nDiag != 3 {
				t.Errorf("diagnostic: %d hints, %d diagnostics", len(hints), nDiag)
			}
		case "off":
			if len(hints) != 0 || nDiag != 0 {
				t.Errorf("off: %d hints, %d diagnostics", len(hints), nDiag)
			}
		}
	}
}
