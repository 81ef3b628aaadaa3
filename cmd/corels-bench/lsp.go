package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// serverResult is one language server's run of the edit script.
type serverResult struct {
	first time.Duration   // didOpen → first diagnostics
	lat   []time.Duration // didChange → diagnostics of that version
	rssKB int             // the server's peak RSS (VmHWM) after the script, before shutdown
}

// serverRun is what one start of a language server is given.
type serverRun struct {
	cmdline string   // e.g. "bin/corels serve"
	env     []string // added to this process's environment
	name    string   // the file's name in the workspace
	src     []byte
	args    []string // clang flags for compile_commands.json (absolute directories)
	script  []string // nil: open, first diagnostics, shut down
	dir     string   // the workspace; "" for a temporary one
}

// pipe joins a child's stdout and stdin into the stream jsonrpc2 reads and writes.
type pipe struct {
	io.Reader
	io.WriteCloser
}

// diagWaiter hands each publishDiagnostics to whoever waits for that version.
type diagWaiter struct {
	protocol.UnimplementedClient
	mu      sync.Mutex
	version int32
	seen    chan int32
}

func (w *diagWaiter) PublishDiagnostics(_ context.Context, p *protocol.PublishDiagnosticsParams) error {
	v, ok := p.Version.Get()
	if !ok {
		// Servers that omit the version: attribute it to the newest edit.
		w.mu.Lock()
		v = w.version
		w.mu.Unlock()
	}
	select {
	case w.seen <- v:
	default:
	}
	return nil
}

func (w *diagWaiter) Configuration(context.Context, *protocol.ConfigurationParams) ([]protocol.LSPAny, error) {
	return nil, nil
}

func (w *diagWaiter) WorkDoneProgressCreate(context.Context, *protocol.WorkDoneProgressCreateParams) error {
	return nil
}

func (w *diagWaiter) Progress(context.Context, *protocol.ProgressParams) error     { return nil }
func (w *diagWaiter) LogMessage(context.Context, *protocol.LogMessageParams) error { return nil }
func (w *diagWaiter) ShowMessage(context.Context, *protocol.ShowMessageParams) error {
	return nil
}

// wait blocks until diagnostics for version v (or newer) arrive.
func (w *diagWaiter) wait(v int32, timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		select {
		case got := <-w.seen:
			if got >= v {
				return nil
			}
		case <-deadline:
			return fmt.Errorf("no diagnostics for version %d within %v", v, timeout)
		}
	}
}

// benchServer runs the edit script against a language server, in a workspace holding a
// copy of the file and its compile_commands.json.
func benchServer(run serverRun) (*serverResult, error) {
	dir := run.dir
	var err error
	if dir == "" {
		if dir, err = os.MkdirTemp("", "corels-bench-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	}
	file := filepath.Join(dir, run.name)
	if err := os.WriteFile(file, run.src, 0o644); err != nil {
		return nil, err
	}
	if err := compileCommands(dir, file, run.args); err != nil {
		return nil, err
	}
	args := strings.Fields(run.cmdline)
	if len(args) == 0 {
		return nil, fmt.Errorf("empty server command")
	}
	// The server runs in the workspace: a relative command (bin/corels) must
	// name the file as seen from here.
	if strings.Contains(args[0], "/") {
		if args[0], err = filepath.Abs(args[0]); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), run.env...)
	cmd.Stderr = io.Discard
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	defer func() {
		// After shutdown and exit the server ends by itself (and writes its profile, if
		// asked to); one that does not is killed.
		go func() { exited <- cmd.Wait() }()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	w := &diagWaiter{seen: make(chan int32, 64)}
	ctx, conn, server := protocol.NewClient(ctx, w, jsonrpc2.NewStream(pipe{stdout, stdin}))
	defer conn.Close()

	root := uri.File(dir)
	init, err := server.Initialize(ctx, &protocol.InitializeParams{RootURI: &root})
	if err != nil {
		return nil, fmt.Errorf("initialize: %w", err)
	}
	incremental := !fullSync && syncsIncrementally(init.Capabilities.TextDocumentSync)
	if err := server.Initialized(ctx, &protocol.InitializedParams{}); err != nil {
		return nil, err
	}
	doc := uri.File(file)
	r := &serverResult{}
	start := time.Now()
	if err := server.DidOpen(ctx, &protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{
		URI: doc, LanguageID: "c", Version: 1, Text: string(run.src),
	}}); err != nil {
		return nil, err
	}
	if err := w.wait(1, 5*time.Minute); err != nil {
		return nil, err
	}
	r.first = time.Since(start)
	prev := string(run.src)
	for i, text := range run.script {
		v := int32(i + 2)
		w.mu.Lock()
		w.version = v
		w.mu.Unlock()
		t := time.Now()
		if err := server.DidChange(ctx, &protocol.DidChangeTextDocumentParams{
			TextDocument:   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: doc}, Version: v},
			ContentChanges: []protocol.TextDocumentContentChangeEvent{contentChange(prev, text, incremental)},
		}); err != nil {
			return nil, err
		}
		prev = text
		if err := w.wait(v, time.Minute); err != nil {
			return nil, err
		}
		r.lat = append(r.lat, time.Since(t))
	}
	r.rssKB, err = peakRSSKB(cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	server.Shutdown(ctx)
	server.Exit(ctx)
	return r, nil
}

// fullSync sends every edit as the whole document (-full-sync), as a client of a server
// that does not sync incrementally must.
var fullSync bool

// syncsIncrementally reports whether a server takes ranged changes.
func syncsIncrementally(s protocol.TextDocumentSync) bool {
	switch s := s.(type) {
	case *protocol.TextDocumentSyncOptions:
		return s.Change != nil && *s.Change == protocol.TextDocumentSyncKindIncremental
	case protocol.TextDocumentSyncKind:
		return s == protocol.TextDocumentSyncKindIncremental
	}
	return false
}

// contentChange is the change from prev to next as an editor sends it: to a server that
// syncs incrementally, the one range that differs (between the common prefix and suffix)
// and its new text; else the whole document.
func contentChange(prev, next string, incremental bool) protocol.TextDocumentContentChangeEvent {
	if !incremental {
		return &protocol.TextDocumentContentChangeWholeDocument{Text: next}
	}
	pre := 0
	for pre < len(prev) && pre < len(next) && prev[pre] == next[pre] {
		pre++
	}
	for pre > 0 && pre < len(prev) && !utf8.RuneStart(prev[pre]) {
		pre--
	}
	suf := 0
	for suf < len(prev)-pre && suf < len(next)-pre && prev[len(prev)-1-suf] == next[len(next)-1-suf] {
		suf++
	}
	for suf > 0 && !utf8.RuneStart(prev[len(prev)-suf]) {
		suf--
	}
	return &protocol.TextDocumentContentChangePartial{
		Range: protocol.Range{Start: lspPosition(prev, pre), End: lspPosition(prev, len(prev)-suf)},
		Text:  next[pre : len(next)-suf],
	}
}

// lspPosition is byte offset off of text as an LSP position (UTF-16 columns, the default
// encoding the bench's client leaves the servers to).
func lspPosition(text string, off int) protocol.Position {
	start := strings.LastIndexByte(text[:off], '\n') + 1
	return protocol.Position{
		Line:      uint32(strings.Count(text[:start], "\n")),
		Character: uint32(len(utf16.Encode([]rune(text[start:off])))),
	}
}
