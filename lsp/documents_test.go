package lsp

import (
	"testing"
	"time"

	"go.lsp.dev/protocol"
)

func partial(l1, c1, l2, c2 uint32, text string) protocol.TextDocumentContentChangeEvent {
	return &protocol.TextDocumentContentChangePartial{Range: protocol.Range{Start: pos(l1, c1), End: pos(l2, c2)}, Text: text}
}

func TestApplyChanges(t *testing.T) {
	text := []byte("int a;\nint b;\n")
	for _, tc := range []struct {
		name    string
		changes []protocol.TextDocumentContentChangeEvent
		want    string
	}{
		{"insert", []protocol.TextDocumentContentChangeEvent{partial(1, 4, 1, 4, "bb")}, "int a;\nint bbb;\n"},
		{"delete line", []protocol.TextDocumentContentChangeEvent{partial(0, 0, 1, 0, "")}, "int b;\n"},
		{"sequence applies in order", []protocol.TextDocumentContentChangeEvent{
			partial(0, 4, 0, 5, "x"), partial(0, 5, 0, 5, "y"), partial(1, 0, 1, 0, "// "),
		}, "int xy;\n// int b;\n"},
		{"whole", []protocol.TextDocumentContentChangeEvent{&protocol.TextDocumentContentChangeWholeDocument{Text: "z"}}, "z"},
		{"out of range clamps", []protocol.TextDocumentContentChangeEvent{partial(7, 0, 9, 9, "tail")}, "int a;\nint b;\ntail"},
		{"reversed range", []protocol.TextDocumentContentChangeEvent{partial(0, 5, 0, 4, "Q")}, "int Q;\nint b;\n"},
		{"utf-16 surrogates", []protocol.TextDocumentContentChangeEvent{
			partial(0, 0, 0, 0, "😀"), partial(0, 2, 0, 2, "!"),
		}, "😀!int a;\nint b;\n"},
	} {
		got, err := applyChanges(text, tc.changes, encUTF16)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if string(got) != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	if string(text) != "int a;\nint b;\n" {
		t.Errorf("applyChanges modified its input")
	}
}

// languageId c and bpf are analysed; other languages are stored but not analysed; a
// header no file includes gets no diagnostics (header_test.go).
func TestLanguages(t *testing.T) {
	e := newEnv(t, envOptions{init: map[string]any{"kernels": []string{synthKernel(t, "5.14.0-synth")}}})
	text := readTestdata(t, "seed.bpf.c")
	for _, lang := range []string{"c", "bpf", ""} {
		u := protocol.TextDocumentItem{URI: fileURI(t.TempDir() + "/x.bpf.c"), LanguageID: protocol.LanguageKind(lang), Version: 3, Text: text}
		from := e.mark()
		if err := e.server.DidOpen(e.ctx, &protocol.DidOpenTextDocumentParams{TextDocument: u}); err != nil {
			t.Fatal(err)
		}
		if p := e.waitDiagnostics(from, u.URI, 3); len(p.Diagnostics) == 0 {
			t.Errorf("%s: no diagnostics", lang)
		}
	}
	from := e.mark()
	other := protocol.TextDocumentItem{URI: fileURI(t.TempDir() + "/x.cpp"), LanguageID: "cpp", Version: 1, Text: text}
	e.server.DidOpen(e.ctx, &protocol.DidOpenTextDocumentParams{TextDocument: other})
	header := protocol.TextDocumentItem{URI: fileURI(t.TempDir() + "/x.h"), LanguageID: "c", Version: 1, Text: "struct s { int a; };\n"}
	e.server.DidOpen(e.ctx, &protocol.DidOpenTextDocumentParams{TextDocument: header})
	time.Sleep(300 * time.Millisecond)
	if ps := e.publications(other.URI); len(ps) != 0 {
		t.Errorf("%s: published %d times", other.URI, len(ps))
	}
	for _, p := range e.publications(header.URI) {
		if len(p.Diagnostics) != 0 {
			t.Errorf("%s: %d diagnostics", header.URI, len(p.Diagnostics))
		}
	}
	_ = from
}

// Closing a document clears its diagnostics.
func TestCloseClears(t *testing.T) {
	e := newEnv(t, envOptions{init: map[string]any{"kernels": []string{synthKernel(t, "5.14.0-synth")}}})
	u := e.open(testdata(t, "seed.bpf.c"), readTestdata(t, "seed.bpf.c"))
	e.waitDiagnostics(0, u, 1)
	from := e.mark()
	if err := e.server.DidClose(e.ctx, &protocol.DidCloseTextDocumentParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}}); err != nil {
		t.Fatal(err)
	}
	m, _ := e.waitMsg(from, "empty diagnostics", func(m wireMsg) bool {
		return m.Method == protocol.MethodTextDocumentPublishDiagnostics
	})
	var p protocol.PublishDiagnosticsParams
	protocol.Unmarshal(m.Params, &p)
	if p.URI != u || len(p.Diagnostics) != 0 {
		t.Errorf("after close: %s %d diagnostics", p.URI, len(p.Diagnostics))
	}
}
