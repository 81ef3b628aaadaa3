package lsp

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/corels/corels/analysis"
	"github.com/corels/corels/btf"
	"github.com/corels/corels/compiler"
)

// Scheduling. Every change to a document (or to what it depends on: configuration,
// kernels, headers) increments its generation and schedules a run after a short debounce;
// a newer generation cancels the older run. A run's result is kept, and published, only
// if its generation is still the file's current one when it finishes, under a per-file
// publication lock: diagnostics are never stale and never out of order, and each carries
// the document version it was computed from. Requests wait for the result of the
// generation current when they arrived.

var resultSeq atomic.Uint64

// file is the server's state for one open document.
type file struct {
	uri  uri.URI
	path string

	mu      sync.Mutex
	doc     *document
	gen     uint64
	timer   *time.Timer
	cancel  context.CancelFunc
	running int // analyses of this file in flight
	last    *result
	ready   chan struct{} // closed when last changes (then replaced)

	pubMu sync.Mutex // orders publications

	memo analysis.Memo // the last analysis's resolutions, for the next
}

// result is the analysis of one version of one file.
type result struct {
	seq      uint64 // unique per server process: the pull diagnostics result id
	gen      uint64
	doc      *document
	path     string
	version  int32
	text     []byte
	cfg      *config
	kernels  []*btf.Kernel
	compile  *compiler.Result
	report   *analysis.Report
	hover    func(offset int) (analysis.Hover, bool)
	notes    []analysis.Finding // the server's own findings (generated vmlinux.h, compile failure)
	took     time.Duration
	diskTime time.Time // files that are not open: the modification time analysed
	vmlinux  string    // the generated vmlinux.h the file was compiled against, on disk
	unit     string    // a header's: the translation unit it was compiled in

	mapOnce sync.Once
	m       *mapper
}

// newResult starts the result of analysing doc under cfg.
func newResult(doc *document, cfg *config) *result {
	return &result{seq: resultSeq.Add(1), doc: doc, path: doc.path, version: doc.version, text: doc.text, cfg: cfg}
}

func (r *result) mapper(enc posEncoding) *mapper {
	r.mapOnce.Do(func() { r.m = newMapper(r.text, enc) })
	return r.m
}

// findings returns the analysis findings and the server's notes.
func (r *result) findings() []analysis.Finding {
	var out []analysis.Finding
	if r.report != nil {
		out = append(out, r.report.Findings...)
	}
	return append(out, r.notes...)
}

func (s *Server) fileFor(u uri.URI, path string) *file {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files[u]
	if f == nil {
		f = &file{uri: u, path: path, ready: make(chan struct{})}
		s.files[u] = f
	}
	return f
}

// schedule starts a new generation of f, analysed after delay.
func (s *Server) schedule(f *file, delay time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.doc == nil || !f.doc.served() {
		return
	}
	f.gen++
	gen := f.gen
	if f.cancel != nil {
		f.cancel()
		f.cancel = nil
	}
	// The debounce only coalesces bursts: an edit that finds the file idle (no analysis
	// in flight, none pending) is analysed at once, so a single edit costs the analysis
	// alone.
	pending := f.timer != nil
	if f.timer != nil {
		f.timer.Stop()
		f.timer = nil
	}
	if delay <= 0 || f.running == 0 && !pending {
		s.goSafe("analyze", func() { s.run(f, gen) })
		return
	}
	f.timer = time.AfterFunc(delay, func() {
		f.mu.Lock()
		if f.gen == gen {
			f.timer = nil // fired: no longer pending
		}
		f.mu.Unlock()
		s.goSafe("analyze", func() { s.run(f, gen) })
	})
}

// wake wakes whoever waits for f.last to change. f.mu is held.
func (f *file) wake() {
	close(f.ready)
	f.ready = make(chan struct{})
}

// stop cancels f's pending work and wakes its waiters.
func (f *file) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.timer != nil {
		f.timer.Stop()
		f.timer = nil
	}
	if f.cancel != nil {
		f.cancel()
		f.cancel = nil
	}
	f.wake()
}

// stopAll cancels every pending analysis (shutdown).
func (s *Server) stopAll() {
	s.mu.Lock()
	files := make([]*file, 0, len(s.files))
	for _, f := range s.files {
		files = append(files, f)
	}
	s.mu.Unlock()
	for _, f := range files {
		f.stop()
	}
}

// invalidateAll analyses every open file again (configuration, kernels or headers
// changed) and asks pull clients to refresh.
func (s *Server) invalidateAll() {
	s.mu.Lock()
	files := make([]*file, 0, len(s.files))
	for _, f := range s.files {
		files = append(files, f)
	}
	caps := s.caps
	clear(s.closed)
	s.mu.Unlock()
	for _, f := range files {
		s.schedule(f, s.debounce)
	}
	s.goSafe("refresh", func() {
		ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
		defer cancel()
		if caps.pullDiagnostics && caps.diagnosticRefresh {
			s.logErr("diagnostic/refresh", s.client.DiagnosticRefresh(ctx))
		}
		if caps.inlayHintRefresh {
			s.logErr("inlayHint/refresh", s.client.InlayHintRefresh(ctx))
		}
		if caps.codeLensRefresh {
			s.logErr("codeLens/refresh", s.client.CodeLensRefresh(ctx))
		}
	})
}

// run analyses generation gen of f, if it is still current.
func (s *Server) run(f *file, gen uint64) {
	f.mu.Lock()
	if f.gen != gen || f.doc == nil || s.ctx.Err() != nil {
		f.mu.Unlock()
		return
	}
	doc := f.doc
	ctx, cancel := context.WithCancel(s.ctx)
	f.cancel = cancel
	f.running++
	f.mu.Unlock()
	defer cancel()
	counted := true
	defer func() {
		if counted {
			f.mu.Lock()
			f.running--
			f.mu.Unlock()
		}
	}()

	stop := s.progressIfSlow(slowAnalysis, "Analysing "+filepath.Base(doc.path), "parsing its headers")
	done := make(chan *result, 1)
	s.goSafe("analyze", func() {
		var r *result
		defer func() { done <- r }() // nil if analyze panicked (goSafe logs it)
		r = s.analyze(ctx, doc, &f.memo)
	})
	var r *result
	if s.budget > 0 {
		budget := time.NewTimer(s.budget)
		select {
		case r = <-done:
		case <-budget.C:
			s.partial(f, gen, doc)
		}
		budget.Stop()
	}
	if r == nil {
		r = <-done
	}
	stop()
	if r == nil || ctx.Err() != nil {
		return // superseded (the newer generation publishes), or a bug, logged
	}
	r.gen = gen
	f.mu.Lock()
	if f.gen != gen || f.doc == nil {
		f.mu.Unlock()
		return
	}
	prev := f.last
	f.last = r
	f.wake()
	// No longer running once its result is in: an edit the client sends as soon as it
	// sees these diagnostics finds the file idle and is analysed without a debounce.
	f.running--
	counted = false
	f.mu.Unlock()
	s.log.Debug("analysed", "file", doc.path, "version", doc.version, "took", r.took,
		"relocations", len(r.compile.Relocations), "findings", len(r.findings()))
	s.publish(f, r)
	if s.started != nil {
		s.started()
	}
	if !sameLenses(prev, r) {
		s.refreshLenses()
	}
}

// sameLenses reports whether a and b show the same code lenses.
func sameLenses(a, b *result) bool {
	titles := func(r *result) []string {
		var out []string
		if r != nil && r.report != nil {
			for _, l := range r.report.Lenses {
				out = append(out, l.Title)
			}
		}
		return out
	}
	return slices.Equal(titles(a), titles(b))
}

// refreshLenses asks the client to request code lenses again. Clients ask for lenses when
// a document changes, often before the analysis of the change is done; without this, a
// lens can keep saying what the previous version had.
func (s *Server) refreshLenses() {
	s.mu.Lock()
	ok := s.caps.codeLensRefresh
	s.mu.Unlock()
	if !ok {
		return
	}
	s.goSafe("codeLens/refresh", func() {
		ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
		defer cancel()
		s.logErr("codeLens/refresh", s.client.CodeLensRefresh(ctx))
	})
}

// defaultAnalysisBudget is how long an analysis runs before its file gets partial results.
// A cold first analysis parses every header in about a second; an edit takes milliseconds.
const defaultAnalysisBudget = 5 * time.Second

// CodeAnalysisPartial is the code of the server's note that an analysis is over budget.
const CodeAnalysisPartial = "analysis-partial"

// partial answers generation gen of f, whose analysis is over budget, with what the
// server has: no compiler results, and a note saying so. Requests waiting for gen are
// answered with it; the analysis goes on (the C front end cannot be interrupted; its work
// is bounded by the expansion and size limits) and replaces it when it finishes, if gen
// is still current. Never stale: it carries gen's own document.
func (s *Server) partial(f *file, gen uint64, doc *document) {
	s.mu.Lock()
	r := newResult(doc, s.cfg)
	s.mu.Unlock()
	r.gen, r.compile = gen, &compiler.Result{Path: doc.path}
	p := compiler.Position{File: doc.path, Line: 1, Col: 1}
	r.notes = []analysis.Finding{{Code: CodeAnalysisPartial, Severity: analysis.Warning, Range: compiler.Range{Start: p, End: p},
		Message: fmt.Sprintf("corels: results are partial: analysing this version has taken more than %v so far "+
			"(a very large file, or macros that expand enormously?); they will appear when it finishes", s.budget)}}
	f.mu.Lock()
	if f.gen != gen || f.doc == nil || f.last != nil && f.last.gen >= gen {
		f.mu.Unlock()
		return
	}
	f.last = r
	f.wake()
	f.mu.Unlock()
	s.log.Warn("analysis over budget", "file", doc.path, "version", doc.version, "budget", s.budget)
	s.publish(f, r)
}

// analyze runs compiler → btf → analysis on one document version; memo (nil: none) carries
// resolutions between the analyses of one file. It never panics: a bug becomes a finding.
func (s *Server) analyze(ctx context.Context, doc *document, memo *analysis.Memo) (r *result) {
	start := time.Now()
	s.mu.Lock()
	cfg, ks := s.cfg, s.kernels
	s.mu.Unlock()
	r = newResult(doc, cfg)
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic in analysis", "file", doc.path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			r.report, r.hover = nil, nil
			r.notes = append(r.notes, internalError(doc.path, fmt.Sprintf("corels: internal error while analysing this file: %v", p)))
		}
		if r.compile == nil {
			r.compile = &compiler.Result{Path: doc.path}
		}
		r.took = time.Since(start)
	}()

	// A header is compiled as part of a translation unit that includes it, and shown
	// through its part of the result.
	unitPath, unitText := doc.path, doc.text
	if doc.isHeader() {
		if unitPath, unitText = s.headerUnit(doc); unitPath == "" {
			return r
		}
		r.unit = unitPath
	}
	flags, err := s.flagsFor(unitPath, cfg)
	if err != nil {
		r.notes = append(r.notes, internalError(doc.path, "corels: build flags: "+err.Error()))
	}
	src := unitText
	if src == nil {
		src = []byte{} // nil would make the compiler read the disk
	}
	in := compiler.Input{Path: unitPath, Source: src, Flags: flags, Overlay: s.overlay(unitPath)}
	if ks == nil { // before initialized: the default configuration
		ks = &kernelSet{done: make(chan struct{})}
		close(ks.done)
	}
	var fbKernel *btf.Kernel
	var fbHeader *generatedHeader
	if cfg.vmlinuxFallback && includesVmlinux(src) && !vmlinuxOnPath(unitPath, flags) {
		kernels, err := ks.wait(ctx)
		if err != nil {
			return r
		}
		fbKernel, fbHeader = s.offerVmlinux(&in, kernels)
	}

	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return r
	}
	res, err := s.front.Compile(ctx, in)
	<-s.sem
	if ctx.Err() != nil {
		return r
	}
	if err != nil || res == nil {
		msg := "corels: cannot compile this file"
		if err != nil {
			msg += ": " + err.Error()
		}
		res = &compiler.Result{Path: unitPath, Flags: flags}
		r.notes = append(r.notes, internalError(doc.path, msg))
	}
	if unitPath != doc.path {
		res = res.ForFile(doc.path)
	}
	r.compile = res
	if fbKernel != nil && slices.Contains(res.FallbacksUsed, "vmlinux.h") {
		r.notes = append(r.notes, vmlinuxNote(doc, fbKernel, fbHeader))
		r.vmlinux = fbHeader.path
	}
	kernels, err := ks.wait(ctx)
	if err != nil {
		return r
	}
	r.kernels = kernels
	r.report, r.hover = analyzeFunc(res, doc.text, analysis.Options{Kernels: kernels, Memo: memo})
	return r
}

func internalError(path, msg string) analysis.Finding {
	p := compiler.Position{File: path, Line: 1, Col: 1}
	return analysis.Finding{Code: analysis.CodeParseError, Severity: analysis.Error, Message: msg, Range: compiler.Range{Start: p, End: p}}
}

// flagsFor returns the compiler flags for path: the configured compileFlags, else those
// of the nearest compile_commands.json / compile_flags.txt (cached until one changes).
func (s *Server) flagsFor(path string, cfg *config) (*compiler.Flags, error) {
	if cfg.flags != nil {
		return cfg.flags, nil
	}
	s.mu.Lock()
	f, ok := s.flags[path]
	s.mu.Unlock()
	if ok {
		return f, nil
	}
	f, err := compiler.FindFlags(path)
	if err != nil {
		return &compiler.Flags{Source: "none"}, err
	}
	if f == nil {
		f = &compiler.Flags{Source: "none"}
	}
	s.mu.Lock()
	s.flags[path] = f
	s.mu.Unlock()
	return f, nil
}

// publish sends r's diagnostics if r is still the file's current result. Clients that
// pull diagnostics get them from textDocument/diagnostic instead.
func (s *Server) publish(f *file, r *result) {
	s.mu.Lock()
	pull := s.caps.pullDiagnostics
	s.mu.Unlock()
	if pull {
		return
	}
	f.pubMu.Lock()
	defer f.pubMu.Unlock()
	f.mu.Lock()
	current := f.gen == r.gen && f.doc != nil
	f.mu.Unlock()
	if !current {
		return
	}
	params := &protocol.PublishDiagnosticsParams{
		URI:         f.uri,
		Version:     protocol.NewOptional(r.version),
		Diagnostics: s.diagnostics(r),
	}
	s.logErr("publishDiagnostics", s.client.PublishDiagnostics(s.ctx, params))
}

// slowAnalysis is how long an analysis runs before the user is shown progress (the
// first analysis of a file parses all its headers).
const slowAnalysis = 400 * time.Millisecond

// progressIfSlow shows $/progress if the work it brackets takes longer than d; call the
// returned function when the work is done.
func (s *Server) progressIfSlow(d time.Duration, title, msg string) (stop func()) {
	var mu sync.Mutex
	var p *progress
	done := false
	t := time.AfterFunc(d, func() {
		s.goSafe("progress", func() {
			q := s.beginProgress(title, msg)
			mu.Lock()
			defer mu.Unlock()
			if done {
				q.end("done")
				return
			}
			p = q
		})
	})
	return func() {
		t.Stop()
		mu.Lock()
		defer mu.Unlock()
		done = true
		if p != nil {
			p.end("done")
		}
	}
}

// errFileClosed answers requests for a file closed while they waited.
var errFileClosed = jsonrpc2.NewError(protocol.CodeContentModified, "document was closed")

// waitGen waits for a result of generation gen or newer.
func (f *file) waitGen(ctx, serverCtx context.Context, gen uint64) (*result, error) {
	for {
		f.mu.Lock()
		r, ready, open := f.last, f.ready, f.doc != nil
		f.mu.Unlock()
		if r != nil && r.gen >= gen {
			return r, nil
		}
		if !open {
			return nil, errFileClosed
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, protocol.ErrRequestCancelled
		case <-serverCtx.Done():
			return nil, protocol.ErrRequestCancelled
		}
	}
}

// current returns the analysis of the document as the client sees it now: for an open
// file, the result of its current generation (waiting for it); for a file that is not
// open, an analysis of the file on disk. It returns nil, nil for documents corels does not
// analyse (headers, other languages).
func (s *Server) current(ctx context.Context, u uri.URI) (*result, error) {
	s.mu.Lock()
	f := s.files[u]
	s.mu.Unlock()
	if f != nil {
		f.mu.Lock()
		doc, gen := f.doc, f.gen
		f.mu.Unlock()
		if doc != nil {
			if !doc.served() {
				return nil, nil
			}
			r, err := f.waitGen(ctx, s.ctx, gen)
			if err != nil {
				return nil, err
			}
			if r.doc != doc {
				f.mu.Lock()
				now := f.doc
				f.mu.Unlock()
				if now != r.doc {
					return nil, protocol.ErrContentModified
				}
			}
			return r, nil
		}
	}
	path, err := filePath(u)
	if err != nil {
		return nil, err
	}
	if !(&document{path: path, lang: "c"}).analyzable() {
		return nil, nil // headers are analysed through the files that include them
	}
	return s.analyzeClosed(ctx, u, path)
}

// analyzeClosed analyses a file that is not open, from disk, caching the result until the
// file, the configuration or a header changes.
func (s *Server) analyzeClosed(ctx context.Context, u uri.URI, path string) (*result, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "corels: %v", err)
	}
	s.mu.Lock()
	r := s.closed[path]
	cfg := s.cfg
	s.mu.Unlock()
	if r != nil && r.cfg == cfg && r.diskTime.Equal(st.ModTime()) && len(r.text) == int(st.Size()) {
		return r, nil
	}
	text, err := readDisk(path)
	if err != nil {
		return nil, err
	}
	doc := &document{uri: u, path: path, lang: "c", text: text}
	r = s.analyze(ctx, doc, nil)
	r.diskTime = st.ModTime()
	if ctx.Err() != nil {
		return nil, protocol.ErrRequestCancelled
	}
	s.mu.Lock()
	if len(s.closed) > 16 {
		clear(s.closed)
	}
	s.closed[path] = r
	s.mu.Unlock()
	return r, nil
}

func (s *Server) forgetClosed(path string) {
	s.mu.Lock()
	delete(s.closed, path)
	s.mu.Unlock()
}
