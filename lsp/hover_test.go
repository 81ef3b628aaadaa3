package lsp

import (
	"strings"
	"testing"

	"go.lsp.dev/protocol"
)

// Hover is markdown, or plain text for clients that only take plain text.
func TestHoverFormats(t *testing.T) {
	text := readTestdata(t, "seed.bpf.c")
	for _, kind := range []protocol.MarkupKind{protocol.MarkupKindMarkdown, protocol.MarkupKindPlainText} {
		caps := protocol.ClientCapabilities{TextDocument: &protocol.TextDocumentClientCapabilities{
			Hover: &protocol.HoverClientCapabilities{ContentFormat: []protocol.MarkupKind{kind}}}}
		e := newEnv(t, envOptions{caps: caps})
		u := e.open(testdata(t, "seed.bpf.c"), text)
		h := e.hover(u, posOf(t, text, "->ifindex", 0, 5))
		mc, ok := h.Contents.(*protocol.MarkupContent)
		if !ok || mc.Kind != kind || !strings.Contains(mc.Value, "net_device") || !strings.Contains(mc.Value, "0:1") {
			t.Errorf("%s: %#v", kind, h.Contents)
		}
	}
}

// A file that is not open is analysed from disk for requests.
func TestHoverClosedFile(t *testing.T) {
	e := newEnv(t, envOptions{})
	text := readTestdata(t, "seed.bpf.c")
	h := e.hover(fileURI(testdata(t, "seed.bpf.c")), posOf(t, text, "->ifindex", 0, 5))
	if !strings.Contains(hoverText(h), "net_device") {
		t.Errorf("hover on a closed file: %q", hoverText(h))
	}
}
