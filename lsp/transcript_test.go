package lsp

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.lsp.dev/protocol"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestTranscript runs a short session and compares every frame on the wire, in order,
// with testdata/transcript.golden.json, so that changes of the wire format are seen in
// review. Regenerate with: go test ./lsp -run TestTranscript -update
func TestTranscript(t *testing.T) {
	yes := true
	caps := protocol.ClientCapabilities{
		TextDocument: &protocol.TextDocumentClientCapabilities{
			Hover:     &protocol.HoverClientCapabilities{ContentFormat: []protocol.MarkupKind{protocol.MarkupKindMarkdown}},
			InlayHint: &protocol.InlayHintClientCapabilities{},
		},
		Workspace: &protocol.WorkspaceClientCapabilities{WorkspaceEdit: &protocol.WorkspaceEditClientCapabilities{DocumentChanges: &yes}},
	}
	e := newEnv(t, envOptions{caps: caps, noInit: true})
	e.initialize(envOptions{caps: caps, init: map[string]any{
		"kernels":         []string{synthKernel(t, "5.14.0-synth")},
		"relocationHints": "inlay",
	}})
	text := readTestdata(t, "seed.bpf.c")
	u := e.open(testdata(t, "seed.bpf.c"), text)
	e.waitDiagnostics(0, u, 1)
	doc := protocol.TextDocumentIdentifier{URI: u}
	at := posOf(t, text, "->dev", 0, 3)
	e.hover(u, at)
	if _, err := e.server.InlayHint(e.ctx, &protocol.InlayHintParams{TextDocument: doc, Range: protocol.Range{End: pos(40, 0)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.server.CodeLens(e.ctx, &protocol.CodeLensParams{TextDocument: doc}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.server.DocumentSymbol(e.ctx, &protocol.DocumentSymbolParams{TextDocument: doc}); err != nil {
		t.Fatal(err)
	}
	e.definition(u, at)
	from := e.mark()
	ret := posOf(t, text, "return ifindex;", 0, 0)
	e.edit(u, 2, protocol.Range{Start: ret, End: ret}, "int broken = ;\n\t")
	e.waitDiagnostics(from, u, 2)
	if _, err := e.server.CodeAction(e.ctx, &protocol.CodeActionParams{TextDocument: doc, Range: protocol.Range{Start: ret, End: ret}}); err != nil {
		t.Fatal(err)
	}
	if err := e.exit(); err != nil {
		t.Fatal(err)
	}

	got := transcript(t, e)
	golden := filepath.Join("testdata", "transcript.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the wire transcript changed (go test ./lsp -run TestTranscript -update to accept):\n%s", lineDiff(string(want), string(got)))
	}
}

// transcript renders the session's frames, paths replaced by $ROOT.
func transcript(t *testing.T, e *env) []byte {
	msgs, _ := e.tap.snapshot()
	root := repoRoot(t)
	var b bytes.Buffer
	b.WriteString("[\n")
	for i, m := range msgs {
		raw := strings.ReplaceAll(string(m.Raw), root, "$ROOT")
		raw = strings.ReplaceAll(raw, `"version":"`+Version+`"`, `"version":"$VERSION"`)
		var ind bytes.Buffer
		if err := json.Indent(&ind, []byte(raw), "  ", "  "); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		dir := "client → server"
		if m.FromServer {
			dir = "server → client"
		}
		b.WriteString("  {\"dir\": \"" + dir + "\", \"msg\": ")
		b.Write(ind.Bytes())
		b.WriteString("}")
		if i < len(msgs)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("]\n")
	return b.Bytes()
}

// lineDiff shows the first differing lines.
func lineDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	var out []string
	for i := 0; i < max(len(wl), len(gl)) && len(out) < 40; i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			out = append(out, "- "+w, "+ "+g)
		}
	}
	return strings.Join(out, "\n")
}
