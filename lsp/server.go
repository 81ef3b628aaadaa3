// Package lsp is corels' language server: a thin adapter from editor events to the
// compiler → btf → analysis pipeline, and from analysis values to LSP 3.18 values
// (go.lsp.dev/protocol v1.0.1 over go.lsp.dev/jsonrpc2 v1.0.1).
//
// One file per feature: lifecycle.go (initialize, capabilities, shutdown), documents.go
// (the document store and incremental sync), analyze.go (debounced, cancellable analysis
// runs per file), diagnostics.go (push and pull), hover.go, code_action.go,
// inlay_hint.go, code_lens.go, definition.go, symbols.go, config.go (settings, kernels,
// progress) and position.go (UTF-16/UTF-8 positions).
//
// Concurrency: notifications are handled in wire order on the connection's read loop
// (they only update state and schedule work); requests are released to run concurrently,
// so a slow request on one file never blocks another. Every handler runs under recover: a
// bug answers the request with an error instead of killing the server.
package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/corels/corels/btf"
	"github.com/corels/corels/compiler"
)

// Version is reported in serverInfo.
var Version = "0.1.0-dev"

// FrontEnd compiles one file. The server calls it with a context that is cancelled when
// the run is superseded by a newer edit.
type FrontEnd interface {
	Compile(ctx context.Context, in compiler.Input) (*compiler.Result, error)
}

// PlainFrontEnd is compiler.Compile: no preamble cache, no cancellation.
type PlainFrontEnd struct{}

func (PlainFrontEnd) Compile(_ context.Context, in compiler.Input) (*compiler.Result, error) {
	return compiler.Compile(in)
}

// defaultFrontEnd is the compiler every server uses unless Options.FrontEnd says
// otherwise: one preamble cache per process, shared by every server and open file.
var defaultFrontEnd = sync.OnceValue(func() FrontEnd { return compiler.NewCache() })

// invalidator is implemented by front ends that cache headers: a header changed on disk.
type invalidator interface {
	Invalidate(path string)
}

// Options configure a server. The zero value is the production configuration.
type Options struct {
	Logger   *slog.Logger  // nil: discard
	Debounce time.Duration // delay between an edit and its analysis; 0: 50ms, <0: none
	FrontEnd FrontEnd      // nil: a process-wide compiler.Cache
	Kernels  *btf.Cache    // nil: btf.SharedCache()
	// MaxParallel bounds concurrent analyses (each may hold a full vmlinux.h parse);
	// 0: GOMAXPROCS.
	MaxParallel int
	// AnalysisBudget is how long an edit's analysis may run before the file is answered
	// with partial results (see analyze.go); 0: 5s, <0: no budget.
	AnalysisBudget time.Duration
	// Started, when set, is called once, when the first analysis of a file is done: the
	// end of the server's start (corels serve tunes the collector for it).
	Started func()
}

// Server is one client's language server. Create it with NewServer and run it with Serve;
// its exported methods are the protocol.Server the connection dispatches to.
type Server struct {
	protocol.UnimplementedServer

	log      *slog.Logger
	debounce time.Duration
	budget   time.Duration
	front    FrontEnd
	kcache   *btf.Cache
	sem      chan struct{}
	started  func() // Options.Started, called at most once

	ctx    context.Context // server lifetime; cancelled at exit
	cancel context.CancelFunc
	conn   jsonrpc2.Conn
	client protocol.Client

	cfgMu       sync.Mutex // serializes configuration reloads
	mu          sync.Mutex
	state       lifecycle
	caps        clientCaps
	enc         posEncoding
	root        string
	cfg         *config      // effective configuration
	layers      configLayers // its sources
	kernels     *kernelSet
	files       map[uri.URI]*file
	flags       map[string]*compiler.Flags // discovered flags by file path
	shown       map[string]bool            // window/showMessage texts already shown
	closed      map[string]*result         // analyses of files that are not open, by path
	progress    int                        // progress token counter
	pendingErrs []string                   // configuration errors found at initialize
	initDone    chan struct{}              // closed when initialize has been handled

	exit     chan struct{}
	exitOnce sync.Once
	shutdown bool // shutdown was received before exit
}

// NewServer returns a server with the given options.
func NewServer(opts Options) *Server {
	s := &Server{
		log:      opts.Logger,
		debounce: opts.Debounce,
		budget:   opts.AnalysisBudget,
		front:    opts.FrontEnd,
		kcache:   opts.Kernels,
		files:    map[uri.URI]*file{},
		flags:    map[string]*compiler.Flags{},
		shown:    map[string]bool{},
		closed:   map[string]*result{},
		exit:     make(chan struct{}),
	}
	if opts.Started != nil {
		s.started = sync.OnceFunc(opts.Started)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.debounce == 0 {
		s.debounce = 50 * time.Millisecond
	}
	if s.debounce < 0 {
		s.debounce = 0
	}
	if s.budget == 0 {
		s.budget = defaultAnalysisBudget
	}
	if s.front == nil {
		s.front = defaultFrontEnd()
	}
	if s.kcache == nil {
		s.kcache = btf.SharedCache()
	}
	n := opts.MaxParallel
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	s.sem = make(chan struct{}, n)
	s.cfg = defaultConfig()
	return s
}

// ErrExitWithoutShutdown is returned by Serve when the client sent exit before shutdown
// (the LSP asks for exit status 1 then).
var ErrExitWithoutShutdown = errors.New("exit without shutdown")

// Serve runs the server over rwc (LSP base-protocol framing) until the client sends exit,
// closes the stream, or ctx is cancelled. It returns nil after shutdown and exit.
func (s *Server) Serve(ctx context.Context, rwc io.ReadWriteCloser) error {
	s.ctx, s.cancel = context.WithCancel(ctx)
	defer s.cancel()
	stream := &robustStream{inner: newFrameStream(rwc), log: s.log}
	s.conn = jsonrpc2.NewConn(stream, jsonrpc2.WithCodec(lspCodec{}))
	s.client = protocol.ClientDispatcher(s.conn)
	handler := protocol.CancelHandler(s.middleware(protocol.ServerHandler(s, jsonrpc2.MethodNotFoundHandler)))
	s.conn.Go(s.ctx, handler)
	var err error
	select {
	case <-s.exit:
	case <-s.conn.Done():
		err = s.conn.Err()
	case <-ctx.Done():
	}
	s.cancel()
	s.stopAll()
	closeErr := make(chan error, 1)
	go func() { closeErr <- s.conn.Close() }()
	select {
	case <-closeErr:
	case <-time.After(5 * time.Second):
		s.log.Warn("connection did not close in time")
	}
	if err != nil {
		return err
	}
	s.mu.Lock()
	clean := s.shutdown
	s.mu.Unlock()
	select {
	case <-s.exit:
		if !clean {
			return ErrExitWithoutShutdown
		}
	default:
	}
	return nil
}

// Serve is NewServer(opts).Serve(ctx, rwc).
func Serve(ctx context.Context, rwc io.ReadWriteCloser, opts Options) error {
	return NewServer(opts).Serve(ctx, rwc)
}

// middleware is the boundary between the connection and the handlers: it enforces the
// lifecycle and orders work (notifications inline, in wire order; requests released to
// run concurrently), recovers panics, and never lets a notification's error tear the
// connection down.
//
// Every request is released with jsonrpc2.Async, initialize and shutdown included: the
// lifecycle transitions happen here, inline, before the release, and messages that
// arrive while initialize runs wait for it. (A request handled inline is recycled by
// jsonrpc2 as soon as it returns, while the context CancelHandler derived from it may
// still be watched by a context goroutine: that crashes in jsonrpc2 v1.0.1.)
func (s *Server) middleware(next jsonrpc2.Handler) jsonrpc2.Handler {
	return func(ctx context.Context, req *jsonrpc2.Request) (result any, err error) {
		method := req.Method()
		isCall := req.IsCall()
		admitErr := s.admit(method, isCall)
		if isCall {
			jsonrpc2.Async(ctx)
			method = req.Method() // the request was cloned by Async
		}
		if admitErr != nil {
			if !isCall {
				s.log.Debug("dropped notification", "method", method, "why", admitErr)
				return nil, nil
			}
			return nil, admitErr
		}
		start := time.Now()
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("panic in handler", "method", method, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				result = nil
				err = nil
				if isCall {
					err = jsonrpc2.Errorf(jsonrpc2.InternalError, "corels: internal error in %s: %v", method, r)
				}
			}
			if method == protocol.MethodInitialize {
				s.initialized()
			}
			if !isCall && err != nil {
				if strings.HasPrefix(method, "$/") {
					s.log.Debug("notification ignored", "method", method, "err", err)
				} else {
					s.log.Warn("notification failed", "method", method, "err", err)
				}
				err = nil
			}
			if isCall && errors.Is(err, jsonrpc2.ErrParse) {
				// The message parsed; its params did not.
				err = jsonrpc2.Errorf(jsonrpc2.InvalidParams, "corels: invalid params for %s: %v", method, err)
			}
			if isCall && err == nil && ctx.Err() != nil {
				result, err = nil, protocol.ErrRequestCancelled
			}
			s.log.Debug("handled", "method", method, "call", isCall, "took", time.Since(start), "err", err)
		}()
		return next(ctx, req)
	}
}

// admit applies the lifecycle, inline on the read loop: before initialize only
// initialize (and exit) are served; messages that arrive while initialize runs wait for
// it; after shutdown only exit.
func (s *Server) admit(method string, isCall bool) error {
	s.mu.Lock()
	if s.state == stateInitializing && method != protocol.MethodExit {
		done := s.initDone
		s.mu.Unlock()
		select {
		case <-done:
		case <-s.ctx.Done():
			return s.ctx.Err()
		}
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	st := s.state
	switch {
	case method == protocol.MethodExit:
		return nil
	case method == protocol.MethodInitialize && st == stateNew:
		s.state = stateInitializing
		s.initDone = make(chan struct{})
		return nil
	case method == protocol.MethodInitialize:
		return jsonrpc2.NewError(jsonrpc2.InvalidRequest, "initialize was already sent")
	case st == stateNew:
		return jsonrpc2.NewError(jsonrpc2.ServerNotInitialized, "server not initialized")
	case st == stateShutdown:
		return jsonrpc2.NewError(jsonrpc2.InvalidRequest, "server is shutting down")
	case method == protocol.MethodShutdown:
		s.state = stateShutdown
		s.shutdown = true
	}
	return nil
}

// initialized ends the initializing state (whether Initialize succeeded or not).
func (s *Server) initialized() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stateInitializing {
		s.state = stateInitialized
	}
	if s.initDone != nil {
		select {
		case <-s.initDone:
		default:
			close(s.initDone)
		}
	}
}

// lspCodec marshals payloads with go.lsp.dev/protocol's union-aware codec (the same as
// protocol.NewServer's, which is unexported).
type lspCodec struct{}

func (lspCodec) Marshal(v any) ([]byte, error) {
	switch m := v.(type) {
	case jsonrpc2.RawMessage:
		if m == nil {
			return []byte("null"), nil
		}
		return m, nil
	case *jsonrpc2.RawMessage:
		if m == nil || *m == nil {
			return []byte("null"), nil
		}
		return *m, nil
	}
	return protocol.Marshal(v)
}

func (lspCodec) Unmarshal(data []byte, v any) error {
	if p, ok := v.(*jsonrpc2.RawMessage); ok {
		*p = append(jsonrpc2.RawMessage(nil), data...)
		return nil
	}
	return protocol.Unmarshal(data, v)
}

// robustStream answers frames that are not JSON-RPC messages with a JSON-RPC error and
// keeps reading, where the connection would otherwise fail and drop the editor.
type robustStream struct {
	inner jsonrpc2.Stream
	log   *slog.Logger
}

type frameReadWriter interface {
	ReadFrame(ctx context.Context) ([]byte, int64, error)
	WriteFrame(ctx context.Context, data []byte) (int64, error)
}

func (r *robustStream) Read(ctx context.Context) (jsonrpc2.Message, int64, error) {
	for {
		msg, n, err := r.inner.Read(ctx)
		if err == nil || !r.recoverable(ctx, err) {
			return msg, n, err
		}
	}
}

func (r *robustStream) Write(ctx context.Context, msg jsonrpc2.Message) (int64, error) {
	return r.inner.Write(ctx, msg)
}

func (r *robustStream) Close() error { return r.inner.Close() }

// ReadFrame returns the next frame that is a JSON-RPC message (or a batch), answering
// the others.
func (r *robustStream) ReadFrame(ctx context.Context) ([]byte, int64, error) {
	fs := r.inner.(frameReadWriter)
	for {
		frame, n, err := fs.ReadFrame(ctx)
		if err != nil {
			if r.recoverable(ctx, err) {
				continue
			}
			return nil, 0, err
		}
		if i := skipBlank(frame); i < len(frame) && frame[i] == '[' {
			if json.Valid(frame) {
				return frame, n, nil
			}
			r.reject(ctx, jsonrpc2.ParseError, "invalid JSON in batch")
			continue
		}
		if _, err := jsonrpc2.DecodeMessage(frame); err != nil {
			code := jsonrpc2.ParseError
			if json.Valid(frame) {
				code = jsonrpc2.InvalidRequest
			}
			r.reject(ctx, code, err.Error())
			continue
		}
		return frame, n, nil
	}
}

func (r *robustStream) WriteFrame(ctx context.Context, data []byte) (int64, error) {
	return r.inner.(frameReadWriter).WriteFrame(ctx, data)
}

// recoverable answers a malformed header and reports whether reading may go on.
func (r *robustStream) recoverable(ctx context.Context, err error) bool {
	if errors.Is(err, jsonrpc2.ErrInvalidHeader) {
		r.reject(ctx, jsonrpc2.ParseError, err.Error())
		return true
	}
	var je *jsonrpc2.Error
	if errors.As(err, &je) && (je.Code == jsonrpc2.ParseError || je.Code == jsonrpc2.InvalidRequest) {
		r.reject(ctx, je.Code, je.Message)
		return true
	}
	return false
}

func (r *robustStream) reject(ctx context.Context, code jsonrpc2.Code, msg string) {
	r.log.Warn("malformed message", "code", code, "err", msg)
	resp := jsonrpc2.NewResponse(jsonrpc2.ID{}, nil, jsonrpc2.NewError(code, "corels: "+msg))
	if _, err := r.inner.Write(ctx, resp); err != nil {
		r.log.Warn("cannot answer malformed message", "err", err)
	}
}

func skipBlank(b []byte) int {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// goSafe runs f in a goroutine that logs instead of crashing on a panic.
func (s *Server) goSafe(name string, f func()) {
	go func() {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("panic in background work", "what", name, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			}
		}()
		f()
	}()
}

// notify sends a notification to the client, logging failures (the client may be gone).
func (s *Server) logErr(what string, err error) {
	if err != nil && s.ctx.Err() == nil {
		s.log.Warn(what, "err", err)
	}
}

// showMessageOnce shows msg to the user unless the same text was shown before: a broken
// configuration is reported once, not on every keystroke.
func (s *Server) showMessageOnce(typ protocol.MessageType, msg string) {
	s.mu.Lock()
	if s.shown[msg] {
		s.mu.Unlock()
		return
	}
	s.shown[msg] = true
	s.mu.Unlock()
	s.log.Warn("show message", "msg", msg)
	s.logErr("showMessage", s.client.ShowMessage(s.ctx, &protocol.ShowMessageParams{Type: typ, Message: msg}))
}

func (s *Server) encoding() posEncoding {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.enc
}
