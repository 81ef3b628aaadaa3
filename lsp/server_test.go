package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/corels/corels/analysis"
	"github.com/corels/corels/compiler"
)

// gatedFront is a front end whose compiles of some files wait for a gate.
type gatedFront struct {
	mu    sync.Mutex
	gates map[string]chan struct{}
	calls map[string]int
}

func newGatedFront() *gatedFront {
	return &gatedFront{gates: map[string]chan struct{}{}, calls: map[string]int{}}
}

func (g *gatedFront) hold(path string) {
	g.mu.Lock()
	g.gates[path] = make(chan struct{})
	g.mu.Unlock()
}

func (g *gatedFront) release(path string) {
	g.mu.Lock()
	if ch, ok := g.gates[path]; ok {
		close(ch)
		delete(g.gates, path)
	}
	g.mu.Unlock()
}

func (g *gatedFront) Compile(ctx context.Context, in compiler.Input) (*compiler.Result, error) {
	g.mu.Lock()
	ch := g.gates[in.Path]
	g.calls[in.Path]++
	g.mu.Unlock()
	if ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return compiler.Compile(in)
}

// response waits for the response to a raw request with the given id ("null" for
// answers to malformed messages).
func (e *env) response(from int, id string) wireMsg {
	e.t.Helper()
	m, _ := e.waitMsg(from, "response "+id, func(m wireMsg) bool {
		return m.FromServer && m.Method == "" && string(m.ID) == id
	})
	return m
}

func errCode(t *testing.T, m wireMsg) int {
	t.Helper()
	var e struct{ Code int }
	if err := json.Unmarshal(m.Error, &e); err != nil {
		t.Fatalf("no error in %s", m.Raw)
	}
	return e.Code
}

// Malformed frames and messages are answered with JSON-RPC errors and the server goes on.
func TestMalformedMessages(t *testing.T) {
	e := newEnv(t, envOptions{})
	text := readTestdata(t, "seed.bpf.c")
	u := e.open(testdata(t, "seed.bpf.c"), text)
	e.waitDiagnostics(0, u, 1)
	for _, tc := range []struct {
		name, body, id string
		code           int
	}{
		{"invalid JSON", `{"jsonrpc":"2.0","id":`, "null", int(jsonrpc2.ParseError)},
		{"not a message", `{"hello":"world"}`, "null", int(jsonrpc2.InvalidRequest)},
		{"bad batch", `[{"jsonrpc":"2.0",`, "null", int(jsonrpc2.ParseError)},
		{"unknown method", `{"jsonrpc":"2.0","id":71,"method":"corels/nope","params":{}}`, "71", int(jsonrpc2.MethodNotFound)},
		{"bad params", `{"jsonrpc":"2.0","id":72,"method":"textDocument/hover","params":{"textDocument":5}}`, "72", int(jsonrpc2.InvalidParams)},
		{"second initialize", `{"jsonrpc":"2.0","id":73,"method":"initialize","params":{"capabilities":{}}}`, "73", int(jsonrpc2.InvalidRequest)},
	} {
		from := e.mark()
		e.rawWrite(frame(tc.body))
		if got := errCode(t, e.response(from, tc.id)); got != tc.code {
			t.Errorf("%s: code %d, want %d", tc.name, got, tc.code)
		}
	}
	// Notifications with bad params and unknown notifications are dropped.
	e.rawWrite(frame(`{"jsonrpc":"2.0","method":"textDocument/didChange","params":[1,2]}`))
	e.rawWrite(frame(`{"jsonrpc":"2.0","method":"$/unknown","params":{}}`))
	e.rawWrite([]byte("Content-Type: nothing\r\nno colon here\r\n\r\n"))
	// Still serving.
	if h := e.hover(u, posOf(t, text, "->dev", 0, 3)); !strings.Contains(hoverText(h), "sk_buff") {
		t.Errorf("hover after malformed input: %q", hoverText(h))
	}
}

func TestNotInitialized(t *testing.T) {
	e := newEnv(t, envOptions{noInit: true})
	_, err := e.server.Hover(e.ctx, &protocol.HoverParams{})
	var je *jsonrpc2.Error
	if !errors.As(err, &je) || je.Code != jsonrpc2.ServerNotInitialized {
		t.Errorf("hover before initialize: %v", err)
	}
	e.initialize(envOptions{})
	if err := e.exit(); err != nil {
		t.Errorf("exit after shutdown: %v", err)
	}
}

func TestExitWithoutShutdown(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.server.Exit(e.ctx)
	e.exited = true
	select {
	case err := <-e.done:
		if !errors.Is(err, ErrExitWithoutShutdown) {
			t.Errorf("Serve = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit")
	}
}

// A panic in a handler answers that request with an internal error; a panic in the
// compiler becomes a diagnostic. The server keeps serving.
func TestPanicsAreContained(t *testing.T) {
	saved := analyzeFunc
	defer func() { analyzeFunc = saved }()
	analyzeFunc = func(res *compiler.Result, src []byte, opts analysis.Options) (*analysis.Report, func(int) (analysis.Hover, bool)) {
		rep, _ := analyze(res, src, opts)
		return rep, func(int) (analysis.Hover, bool) { panic("hover bug") }
	}
	e := newEnv(t, envOptions{server: Options{FrontEnd: panicFront{}}})
	text := readTestdata(t, "seed.bpf.c")
	u := e.open(testdata(t, "seed.bpf.c"), text)
	p := e.waitDiagnostics(0, u, 1)
	if len(p.Diagnostics) != 1 || !strings.Contains(diagMessage(p.Diagnostics[0]), "internal error") {
		t.Errorf("compiler panic: %+v", p.Diagnostics)
	}
	e2 := newEnv(t, envOptions{})
	u2 := e2.open(testdata(t, "seed.bpf.c"), text)
	_, err := e2.server.Hover(e2.ctx, &protocol.HoverParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: u2}, Position: posOf(t, text, "->dev", 0, 3),
	}})
	var je *jsonrpc2.Error
	if !errors.As(err, &je) || je.Code != jsonrpc2.InternalError || !strings.Contains(je.Message, "hover bug") {
		t.Errorf("hover panic: %v", err)
	}
	if _, err := e2.server.DocumentSymbol(e2.ctx, &protocol.DocumentSymbolParams{TextDocument: protocol.TextDocumentIdentifier{URI: u2}}); err != nil {
		t.Errorf("after a panic: %v", err)
	}
}

type panicFront struct{}

func (panicFront) Compile(context.Context, compiler.Input) (*compiler.Result, error) {
	panic("front end bug")
}

// $/cancelRequest cancels a request waiting for an analysis; requests for another file
// are not held up by it.
func TestCancelAndParallel(t *testing.T) {
	front := newGatedFront()
	slow, fast := testdata(t, "seed.bpf.c"), testdata(t, "seed_unwrapped.bpf.c")
	front.hold(slow)
	defer front.release(slow)
	e := newEnv(t, envOptions{server: Options{FrontEnd: front}})
	slowText := readTestdata(t, "seed.bpf.c")
	us := e.open(slow, slowText)
	uf := e.open(fast, readTestdata(t, "seed_unwrapped.bpf.c"))

	// The slow file's hover waits; cancelling it answers RequestCancelled.
	ctx, cancel := context.WithCancel(e.ctx)
	errc := make(chan error, 1)
	from := e.mark()
	go func() {
		_, err := e.server.Hover(ctx, &protocol.HoverParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
			TextDocument: protocol.TextDocumentIdentifier{URI: us}, Position: posOf(t, slowText, "->dev", 0, 3),
		}})
		errc <- err
	}()
	hoverMsg, _ := e.waitMsg(from, "hover request", func(m wireMsg) bool { return m.Method == protocol.MethodTextDocumentHover })

	// Meanwhile the other file is analysed and answers.
	start := time.Now()
	e.waitDiagnostics(0, uf, 1)
	if _, err := e.server.DocumentSymbol(e.ctx, &protocol.DocumentSymbolParams{TextDocument: protocol.TextDocumentIdentifier{URI: uf}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.server.InlayHint(e.ctx, &protocol.InlayHintParams{TextDocument: protocol.TextDocumentIdentifier{URI: uf}, Range: protocol.Range{End: pos(99, 0)}}); err != nil {
		t.Fatal(err)
	}
	t.Logf("other file answered in %v while the first waits", time.Since(start))

	cancel()
	if err := <-errc; err == nil {
		t.Error("cancelled hover returned no error")
	}
	resp := e.response(from, string(hoverMsg.ID))
	if code := errCode(t, resp); code != int(protocol.CodeRequestCancelled) {
		t.Errorf("cancelled hover answered with code %d", code)
	}
	msgs, _ := e.tap.snapshot()
	sawCancel := false
	for _, m := range msgs {
		sawCancel = sawCancel || m.Method == protocol.MethodCancelRequest
	}
	if !sawCancel {
		t.Error("client sent no $/cancelRequest")
	}
	front.release(slow)
	e.waitDiagnostics(0, us, 1)
}

// Out-of-range positions are clamped, never an error.
func TestOutOfRangePositions(t *testing.T) {
	e := newEnv(t, envOptions{})
	text := readTestdata(t, "seed.bpf.c")
	u := e.open(testdata(t, "seed.bpf.c"), text)
	far := protocol.Range{Start: pos(5000, 7), End: pos(9000, 1)}
	if _, err := e.server.Hover(e.ctx, &protocol.HoverParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: u}, Position: far.Start}}); err != nil {
		t.Error(err)
	}
	if _, err := e.server.CodeAction(e.ctx, &protocol.CodeActionParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}, Range: far}); err != nil {
		t.Error(err)
	}
	if _, err := e.server.InlayHint(e.ctx, &protocol.InlayHintParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}, Range: far}); err != nil {
		t.Error(err)
	}
	from := e.mark()
	e.edit(u, 2, far, "\nint tail;\n")
	e.waitDiagnostics(from, u, 2)
}
