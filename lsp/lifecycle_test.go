package lsp

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.lsp.dev/protocol"
)

// initialize advertises what is implemented and nothing else.
func TestCapabilities(t *testing.T) {
	e := newEnv(t, envOptions{noInit: true})
	res := e.initialize(envOptions{})
	raw, err := protocol.Marshal(&res.Capabilities)
	if err != nil {
		t.Fatal(err)
	}
	var caps map[string]json.RawMessage
	json.Unmarshal(raw, &caps)
	var keys []string
	for k := range caps {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := []string{"codeActionProvider", "codeLensProvider", "definitionProvider", "documentSymbolProvider",
		"hoverProvider", "inlayHintProvider", "positionEncoding", "textDocumentSync"}
	if !slices.Equal(keys, want) {
		t.Errorf("capabilities %v, want %v", keys, want)
	}
	if res.Capabilities.PositionEncoding != protocol.PositionEncodingKindUTF16 {
		t.Errorf("default encoding %s", res.Capabilities.PositionEncoding)
	}
	sync, ok := res.Capabilities.TextDocumentSync.(*protocol.TextDocumentSyncOptions)
	if !ok || *sync.Change != protocol.TextDocumentSyncKindIncremental || !*sync.OpenClose {
		t.Errorf("textDocumentSync %#v", res.Capabilities.TextDocumentSync)
	}
	if res.ServerInfo.Name != "corels" {
		t.Errorf("serverInfo %+v", res.ServerInfo)
	}
}

// UTF-8 is used when the client offers it, and then for every position in and out.
func TestPositionEncodingHonoured(t *testing.T) {
	text := strings.Replace(readTestdata(t, "seed.bpf.c"), "bpf_probe_read(&dev,", "/* é😀 */ bpf_probe_read(&dev,", 1)
	for _, enc := range []protocol.PositionEncodingKind{protocol.PositionEncodingKindUTF8, protocol.PositionEncodingKindUTF16} {
		caps := protocol.ClientCapabilities{General: &protocol.GeneralClientCapabilities{PositionEncodings: []protocol.PositionEncodingKind{enc}}}
		e := newEnv(t, envOptions{caps: caps, noInit: true})
		res := e.initialize(envOptions{caps: caps, init: map[string]any{"relocationHints": "diagnostic"}})
		if res.Capabilities.PositionEncoding != enc {
			t.Fatalf("negotiated %s, want %s", res.Capabilities.PositionEncoding, enc)
		}
		u := e.open(filepath.Join(t.TempDir(), "enc.bpf.c"), text)
		p := e.waitDiagnostics(0, u, 1)
		bytePos := posOf(t, text, "->dev", 0, 2) // byte column: posOf counts bytes
		want := bytePos
		if enc == protocol.PositionEncodingKindUTF16 {
			want.Character -= 1 + 2 // é: 2 bytes, 1 unit; 😀: 4 bytes, 2 units
		}
		var got *protocol.Range
		for _, d := range p.Diagnostics {
			if strings.Contains(diagMessage(d), "sk_buff") {
				got = &d.Range
			}
		}
		if got == nil || got.Start != want {
			t.Errorf("%s: sk_buff.dev diagnostic at %v, want %v", enc, got, want)
		}
		h := e.hover(u, want)
		if h == nil || h.Range.Start != want {
			t.Errorf("%s: hover at %v: %v", enc, want, h)
		}
	}
}

// Clients with dynamic registration are asked to watch headers; a header that changes on
// disk re-analyses the files that include it. An open header's unsaved buffer is what
// the including files see.
func TestHeaderChanges(t *testing.T) {
	dir := t.TempDir()
	header := filepath.Join(dir, "local.h")
	write := func(body string) {
		if err := os.WriteFile(header, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("struct thing { int a; int b; } __attribute__((preserve_access_index));\n")
	main := filepath.Join(dir, "main.bpf.c")
	text := "#include \"local.h\"\n#define SEC(n) __attribute__((section(n), used))\nSEC(\"kprobe/x\") int f(struct thing *t) { return t->b; }\n"
	os.WriteFile(main, []byte(text), 0o644)

	yes := true
	caps := protocol.ClientCapabilities{Workspace: &protocol.WorkspaceClientCapabilities{
		DidChangeWatchedFiles: &protocol.DidChangeWatchedFilesClientCapabilities{DynamicRegistration: &yes}}}
	e := newEnv(t, envOptions{caps: caps, root: dir})
	deadline := time.Now().Add(10 * time.Second)
	for {
		e.client.mu.Lock()
		n := len(e.client.registry)
		e.client.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no client/registerCapability")
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.client.mu.Lock()
	reg := e.client.registry[0]
	e.client.mu.Unlock()
	if reg.Method != protocol.MethodWorkspaceDidChangeWatchedFiles || !strings.Contains(string(reg.RegisterOptions), "**/*.h") {
		t.Errorf("registration %+v %s", reg, reg.RegisterOptions)
	}

	u := e.open(main, text)
	e.waitDiagnostics(0, u, 1)
	at := posOf(t, text, "->b", 0, 2)
	if h := hoverText(e.hover(u, at)); localOffset(h) != "4" {
		t.Fatalf("before: %s", h)
	}
	write("struct thing { long pad; int a; int b; } __attribute__((preserve_access_index));\n")
	from := e.mark()
	e.server.DidChangeWatchedFiles(e.ctx, &protocol.DidChangeWatchedFilesParams{Changes: []protocol.FileEvent{{URI: fileURI(header), Type: protocol.FileChangeTypeChanged}}})
	e.waitDiagnostics(from, u, 1)
	if h := hoverText(e.hover(u, at)); localOffset(h) != "12" {
		t.Errorf("after the header changed on disk: %s", h)
	}
	// The header opened with unsaved changes.
	from = e.mark()
	e.server.DidOpen(e.ctx, &protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{
		URI: fileURI(header), LanguageID: "c", Version: 1,
		Text: "struct thing { char c[32]; int a; int b; } __attribute__((preserve_access_index));\n",
	}})
	e.waitDiagnostics(from, u, 1)
	if h := hoverText(e.hover(u, at)); localOffset(h) != "36" {
		t.Errorf("with the header's buffer: %s", h)
	}
}

var localOffsetRe = regexp.MustCompile(`(?i)local offset\W*(\d+)`)

// localOffset returns the local offset a hover shows.
func localOffset(hover string) string {
	if m := localOffsetRe.FindStringSubmatch(hover); m != nil {
		return m[1]
	}
	return ""
}

// TestStartedOnce: Options.Started is called once, when the first analysis is done, not
// before it and not again for later analyses or files.
func TestStartedOnce(t *testing.T) {
	var calls atomic.Int32
	e := newEnv(t, envOptions{server: Options{Started: func() { calls.Add(1) }}})
	if n := calls.Load(); n != 0 {
		t.Fatalf("Started called %d times before any file was opened", n)
	}
	text := readTestdata(t, "seed.bpf.c")
	u := e.open(testdata(t, "seed.bpf.c"), text)
	e.waitDiagnostics(0, u, 1)
	if n := calls.Load(); n != 1 {
		t.Fatalf("Started called %d times after the first analysis, want 1", n)
	}
	from := e.mark()
	e.edit(u, 2, protocol.Range{Start: pos(0, 0), End: pos(0, 0)}, "\n")
	e.waitDiagnostics(from, u, 2)
	other := e.open(filepath.Join(t.TempDir(), "other.bpf.c"), text)
	e.waitDiagnostics(from, other, 1)
	if n := calls.Load(); n != 1 {
		t.Errorf("Started called %d times after more analyses, want 1", n)
	}
}
