package lsp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// The end-to-end harness: the real server (Serve) on one end of a net.Pipe, go.lsp.dev's
// protocol.NewClient on the other, and a tap on the client's side of the pipe that
// records every frame in wire order (the client's handlers run concurrently, so order is
// checked on the wire).

// wireMsg is one frame as seen by the client.
type wireMsg struct {
	FromServer bool
	At         time.Time
	Raw        json.RawMessage
	Method     string
	ID         json.RawMessage
	Params     json.RawMessage
	Result     json.RawMessage
	Error      json.RawMessage
}

// tap records the frames crossing an io.ReadWriteCloser.
type tap struct {
	inner io.ReadWriteCloser

	mu      sync.Mutex
	msgs    []wireMsg
	changed chan struct{}
	in, out frameParser
}

func newTap(inner io.ReadWriteCloser) *tap {
	t := &tap{inner: inner, changed: make(chan struct{})}
	t.in.fromServer = true
	return t
}

func (t *tap) Read(p []byte) (int, error) {
	n, err := t.inner.Read(p)
	if n > 0 {
		t.feed(&t.in, p[:n])
	}
	return n, err
}

// Write records before writing: the answer may be read before Write returns.
func (t *tap) Write(p []byte) (int, error) {
	t.feed(&t.out, p)
	return t.inner.Write(p)
}

func (t *tap) Close() error { return t.inner.Close() }

func (t *tap) feed(fp *frameParser, p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fp.buf = append(fp.buf, p...)
	for {
		body, ok := fp.next()
		if !ok {
			break
		}
		m := wireMsg{FromServer: fp.fromServer, At: time.Now(), Raw: append(json.RawMessage(nil), body...)}
		var env struct {
			Method string          `json:"method"`
			ID     json.RawMessage `json:"id"`
			Params json.RawMessage `json:"params"`
			Result json.RawMessage `json:"result"`
			Error  json.RawMessage `json:"error"`
		}
		if json.Unmarshal(body, &env) == nil {
			m.Method, m.ID, m.Params, m.Result, m.Error = env.Method, env.ID, env.Params, env.Result, env.Error
		}
		t.msgs = append(t.msgs, m)
		close(t.changed)
		t.changed = make(chan struct{})
	}
}

type frameParser struct {
	fromServer bool
	buf        []byte
}

// next returns the next complete frame body in buf.
func (f *frameParser) next() ([]byte, bool) {
	i := bytes.Index(f.buf, []byte("\r\n\r\n"))
	if i < 0 {
		return nil, false
	}
	n := -1
	for _, line := range strings.Split(string(f.buf[:i]), "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "Content-Length") {
			n, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if n < 0 {
		f.buf = f.buf[i+4:]
		return nil, false
	}
	if len(f.buf) < i+4+n {
		return nil, false
	}
	body := f.buf[i+4 : i+4+n]
	f.buf = f.buf[i+4+n:]
	return body, true
}

// snapshot returns the messages so far and a channel closed at the next one.
func (t *tap) snapshot() ([]wireMsg, chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]wireMsg(nil), t.msgs...), t.changed
}

// testClient is the editor: it answers the server's requests and collects messages.
type testClient struct {
	protocol.UnimplementedClient
	mu       sync.Mutex
	settings json.RawMessage // answer to workspace/configuration
	shown    []protocol.ShowMessageParams
	registry []protocol.Registration
}

func (c *testClient) ShowMessage(ctx context.Context, p *protocol.ShowMessageParams) error {
	c.mu.Lock()
	c.shown = append(c.shown, *p)
	c.mu.Unlock()
	return nil
}

func (c *testClient) LogMessage(context.Context, *protocol.LogMessageParams) error { return nil }

func (c *testClient) PublishDiagnostics(context.Context, *protocol.PublishDiagnosticsParams) error {
	return nil // read from the wire, in order
}

func (c *testClient) Progress(context.Context, *protocol.ProgressParams) error { return nil }

func (c *testClient) WorkDoneProgressCreate(context.Context, *protocol.WorkDoneProgressCreateParams) error {
	return nil
}

func (c *testClient) RegisterCapability(ctx context.Context, p *protocol.RegistrationParams) error {
	c.mu.Lock()
	c.registry = append(c.registry, p.Registrations...)
	c.mu.Unlock()
	return nil
}

func (c *testClient) Configuration(ctx context.Context, p *protocol.ConfigurationParams) ([]protocol.LSPAny, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]protocol.LSPAny, len(p.Items))
	for i := range out {
		out[i] = protocol.LSPAny("null")
		if c.settings != nil {
			out[i] = protocol.LSPAny(c.settings)
		}
	}
	return out, nil
}

func (c *testClient) DiagnosticRefresh(context.Context) error { return nil }
func (c *testClient) InlayHintRefresh(context.Context) error  { return nil }
func (c *testClient) CodeLensRefresh(context.Context) error   { return nil }

// env is one client–server session.
type env struct {
	t      testing.TB
	ctx    context.Context
	server protocol.Server
	conn   jsonrpc2.Conn
	client *testClient
	tap    *tap
	raw    net.Conn // the client's end of the pipe, for raw frames
	srv    *Server
	done   chan error
	exited bool
}

type envOptions struct {
	server Options
	caps   protocol.ClientCapabilities
	init   map[string]any // initializationOptions
	root   string
	noInit bool
}

// testLogger logs to the test when -v is given.
func testLogger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, b := net.Pipe()
	if o.server.Logger == nil {
		o.server.Logger = testLogger(t)
	}
	if o.server.AnalysisBudget == 0 {
		// A loaded test machine can take seconds over a cold parse; partial results are
		// tested where a test sets a budget.
		o.server.AnalysisBudget = -1
	}
	srv := NewServer(o.server)
	e := &env{t: t, ctx: ctx, client: &testClient{}, srv: srv, done: make(chan error, 1), raw: b}
	go func() { e.done <- srv.Serve(ctx, a) }()
	e.tap = newTap(b)
	_, e.conn, e.server = protocol.NewClient(ctx, e.client, jsonrpc2.NewHeaderStream(e.tap))
	t.Cleanup(func() {
		if !e.exited {
			sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
			e.server.Shutdown(sctx)
			e.server.Exit(sctx)
			scancel()
			select {
			case <-e.done:
			case <-time.After(10 * time.Second):
				t.Errorf("server did not exit")
			}
		}
		cancel()
		e.conn.Close()
	})
	if !o.noInit {
		e.initialize(o)
	}
	return e
}

func (e *env) initialize(o envOptions) *protocol.InitializeResult {
	e.t.Helper()
	params := &protocol.InitializeParams{Capabilities: o.caps}
	if o.root != "" {
		u := uri.File(o.root)
		params.RootURI = &u
	}
	if o.init != nil {
		raw, _ := json.Marshal(o.init)
		params.InitializationOptions = raw
	}
	res, err := e.server.Initialize(e.ctx, params)
	if err != nil {
		e.t.Fatalf("initialize: %v", err)
	}
	if err := e.server.Initialized(e.ctx, &protocol.InitializedParams{}); err != nil {
		e.t.Fatalf("initialized: %v", err)
	}
	return res
}

// exit runs shutdown and exit and returns Serve's result.
func (e *env) exit() error {
	e.t.Helper()
	if err := e.server.Shutdown(e.ctx); err != nil {
		e.t.Fatalf("shutdown: %v", err)
	}
	e.server.Exit(e.ctx)
	e.exited = true
	select {
	case err := <-e.done:
		return err
	case <-time.After(10 * time.Second):
		e.t.Fatal("server did not exit")
	}
	return nil
}

const waitTimeout = 120 * time.Second

// waitMsg waits for the first message after index from that satisfies pred.
func (e *env) waitMsg(from int, what string, pred func(wireMsg) bool) (wireMsg, int) {
	e.t.Helper()
	deadline := time.After(waitTimeout)
	for {
		msgs, changed := e.tap.snapshot()
		for i := from; i < len(msgs); i++ {
			if pred(msgs[i]) {
				return msgs[i], i
			}
		}
		select {
		case <-changed:
		case <-deadline:
			e.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// mark returns the index of the next message, to wait for messages after now.
func (e *env) mark() int {
	msgs, _ := e.tap.snapshot()
	return len(msgs)
}

// waitDiagnostics waits for a publication for u at version.
func (e *env) waitDiagnostics(from int, u uri.URI, version int32) *protocol.PublishDiagnosticsParams {
	e.t.Helper()
	m, _ := e.waitMsg(from, fmt.Sprintf("diagnostics for %s v%d", filepath.Base(string(u)), version), func(m wireMsg) bool {
		if !m.FromServer || m.Method != protocol.MethodTextDocumentPublishDiagnostics {
			return false
		}
		var p protocol.PublishDiagnosticsParams
		if protocol.Unmarshal(m.Params, &p) != nil || p.URI != u {
			return false
		}
		v, ok := p.Version.Get()
		return ok && v == version
	})
	var p protocol.PublishDiagnosticsParams
	if err := protocol.Unmarshal(m.Params, &p); err != nil {
		e.t.Fatal(err)
	}
	return &p
}

// publications returns every publication for u so far, in wire order.
func (e *env) publications(u uri.URI) []*protocol.PublishDiagnosticsParams {
	msgs, _ := e.tap.snapshot()
	var out []*protocol.PublishDiagnosticsParams
	for _, m := range msgs {
		if m.FromServer && m.Method == protocol.MethodTextDocumentPublishDiagnostics {
			var p protocol.PublishDiagnosticsParams
			if protocol.Unmarshal(m.Params, &p) == nil && p.URI == u {
				out = append(out, &p)
			}
		}
	}
	return out
}

func (e *env) open(path, text string) uri.URI {
	e.t.Helper()
	u := uri.File(path)
	err := e.server.DidOpen(e.ctx, &protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{
		URI: u, LanguageID: "c", Version: 1, Text: text,
	}})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// edit replaces [start,end) (LSP positions) with text.
func (e *env) edit(u uri.URI, version int32, rng protocol.Range, text string) {
	e.t.Helper()
	err := e.server.DidChange(e.ctx, &protocol.DidChangeTextDocumentParams{
		TextDocument:   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: u}, Version: version},
		ContentChanges: []protocol.TextDocumentContentChangeEvent{&protocol.TextDocumentContentChangePartial{Range: rng, Text: text}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) replaceAll(u uri.URI, version int32, text string) {
	e.t.Helper()
	err := e.server.DidChange(e.ctx, &protocol.DidChangeTextDocumentParams{
		TextDocument:   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: u}, Version: version},
		ContentChanges: []protocol.TextDocumentContentChangeEvent{&protocol.TextDocumentContentChangeWholeDocument{Text: text}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) hover(u uri.URI, p protocol.Position) *protocol.Hover {
	e.t.Helper()
	h, err := e.server.Hover(e.ctx, &protocol.HoverParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: u}, Position: p,
	}})
	if err != nil {
		e.t.Fatalf("hover: %v", err)
	}
	return h
}

func hoverText(h *protocol.Hover) string {
	if h == nil {
		return ""
	}
	switch c := h.Contents.(type) {
	case *protocol.MarkupContent:
		return c.Value
	case protocol.String:
		return string(c)
	}
	return fmt.Sprint(h.Contents)
}

func diagMessage(d protocol.Diagnostic) string {
	switch m := d.Message.(type) {
	case protocol.String:
		return string(m)
	case *protocol.MarkupContent:
		return m.Value
	}
	return ""
}

func diagCode(d protocol.Diagnostic) string {
	switch c := d.Code.(type) {
	case protocol.String:
		return string(c)
	case protocol.Integer:
		return strconv.Itoa(int(c))
	}
	return ""
}

func codes(ds []protocol.Diagnostic) []string {
	var out []string
	for _, d := range ds {
		out = append(out, diagCode(d))
	}
	return out
}

// Test data.

func repoRoot(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}

func testdata(t testing.TB, name string) string {
	return filepath.Join(repoRoot(t), "testdata", name)
}

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile(testdata(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// needVmlinux skips tests that need the generated testdata/include/vmlinux.h.
func needVmlinux(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(testdata(t, "include/vmlinux.h")); err != nil {
		t.Skip("testdata/include/vmlinux.h is missing: run `make vmlinux`")
	}
}

// testFlags are the clang flags the testdata programs are compiled with.
func testFlags(t testing.TB) []string {
	return []string{"-I", testdata(t, "include"), "-D__TARGET_ARCH_x86"}
}

func synthKernel(t testing.TB, name string) string {
	return testdata(t, filepath.Join("kernels", name+".btf.o"))
}

// posOf returns the LSP position (UTF-16; the testdata is ASCII) of the n-th (0-based)
// occurrence of needle in text, plus delta bytes.
func posOf(t testing.TB, text, needle string, n, delta int) protocol.Position {
	t.Helper()
	off := -1
	from := 0
	for i := 0; i <= n; i++ {
		k := strings.Index(text[from:], needle)
		if k < 0 {
			t.Fatalf("%q not found %d times", needle, n+1)
		}
		off = from + k
		from = off + 1
	}
	off += delta
	line := strings.Count(text[:off], "\n")
	col := off - (strings.LastIndex(text[:off], "\n") + 1)
	return protocol.Position{Line: uint32(line), Character: uint32(col)}
}

// applyEdits applies LSP text edits (UTF-16 positions over ASCII text) to text.
func applyEdits(t testing.TB, text string, edits []protocol.TextEdit) string {
	t.Helper()
	m := newMapper([]byte(text), encUTF16)
	type span struct {
		a, b int
		s    string
	}
	var spans []span
	for _, e := range edits {
		a, b := m.offsetRange(e.Range)
		spans = append(spans, span{a, b, e.NewText})
	}
	// apply from the end
	for i := 0; i < len(spans); i++ {
		for j := i + 1; j < len(spans); j++ {
			if spans[j].a > spans[i].a {
				spans[i], spans[j] = spans[j], spans[i]
			}
		}
	}
	for _, s := range spans {
		text = text[:s.a] + s.s + text[s.b:]
	}
	return text
}

// rawFrame writes a raw frame body (or raw bytes when header is false) to the server.
func (e *env) rawWrite(b []byte) {
	e.t.Helper()
	if _, err := e.tap.Write(b); err != nil {
		e.t.Fatal(err)
	}
}

func frame(body string) []byte {
	return []byte(fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body))
}

func fileURI(path string) uri.URI { return uri.File(path) }
