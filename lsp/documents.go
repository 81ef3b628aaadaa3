package lsp

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// The document store. An open document's text is an immutable []byte: every change makes
// a new slice, so an analysis can keep reading the version it started from while the
// editor moves on. Files that are not open are read from disk when a request needs them.

// maxDocumentSize bounds what the server accepts into its store.
const maxDocumentSize = 64 << 20

// document is one version of an open file.
type document struct {
	uri     uri.URI
	path    string // file system path
	lang    string
	version int32
	text    []byte
}

// analyzable reports whether the document is a C translation unit corels analyses:
// languageId c or bpf (or none at all, for a *.c file: some clients send "" when they know
// no filetype), and not a header — headers are analysed through the files that include
// them.
func (d *document) analyzable() bool {
	switch {
	case d.lang == "c" || d.lang == "bpf":
		return !strings.HasSuffix(d.path, ".h")
	case d.lang == "":
		return strings.HasSuffix(d.path, ".c")
	}
	return false
}

// isHeader reports whether the document is a C header: analysed in the context of a
// translation unit that includes it (header.go).
func (d *document) isHeader() bool {
	return (d.lang == "c" || d.lang == "bpf" || d.lang == "") && strings.HasSuffix(d.path, ".h")
}

// served reports whether corels publishes diagnostics and answers requests for the
// document: translation units and headers.
func (d *document) served() bool { return d.analyzable() || d.isHeader() }

// applyChanges applies LSP content changes, in order, to text.
func applyChanges(text []byte, changes []protocol.TextDocumentContentChangeEvent, enc posEncoding) ([]byte, error) {
	for _, ch := range changes {
		switch c := ch.(type) {
		case *protocol.TextDocumentContentChangeWholeDocument:
			text = []byte(c.Text)
		case *protocol.TextDocumentContentChangePartial:
			m := newMapper(text, enc)
			start, end := m.offsetRange(c.Range)
			out := make([]byte, 0, len(text)-(end-start)+len(c.Text))
			out = append(out, text[:start]...)
			out = append(out, c.Text...)
			out = append(out, text[end:]...)
			text = out
		default:
			return nil, fmt.Errorf("unknown content change %T", ch)
		}
		if len(text) > maxDocumentSize {
			return nil, fmt.Errorf("document larger than %d MB", maxDocumentSize>>20)
		}
	}
	return text, nil
}

func filePath(u uri.URI) (string, error) {
	if !u.IsFile() {
		return "", jsonrpc2.Errorf(jsonrpc2.InvalidParams, "corels serves file:// documents only, not %q", string(u))
	}
	return filepath.Clean(u.FsPath()), nil
}

// DidOpen stores the document and analyses it at once.
func (s *Server) DidOpen(ctx context.Context, params *protocol.DidOpenTextDocumentParams) error {
	td := params.TextDocument
	path, err := filePath(td.URI)
	if err != nil {
		return err
	}
	if len(td.Text) > maxDocumentSize {
		s.showMessageOnce(protocol.MessageTypeWarning, fmt.Sprintf("corels: %s is larger than %d MB and is not analysed", path, maxDocumentSize>>20))
		return nil
	}
	doc := &document{uri: td.URI, path: path, lang: string(td.LanguageID), version: td.Version, text: []byte(td.Text)}
	s.log.Debug("open", "path", path, "languageId", doc.lang, "version", doc.version, "analysed", doc.analyzable())
	f := s.fileFor(td.URI, path)
	f.mu.Lock()
	f.doc = doc
	f.mu.Unlock()
	s.forgetClosed(path)
	if doc.analyzable() {
		s.schedule(f, 0)
		s.scheduleHeaders() // a header opened first gets its translation unit now
	} else {
		s.dependentsChanged(path)
	}
	return nil
}

// DidChange applies incremental (or full) changes and schedules a debounced analysis.
func (s *Server) DidChange(ctx context.Context, params *protocol.DidChangeTextDocumentParams) error {
	u := params.TextDocument.URI
	s.mu.Lock()
	f := s.files[u]
	enc := s.enc
	s.mu.Unlock()
	if f == nil {
		return fmt.Errorf("didChange for %s, which is not open", u)
	}
	f.mu.Lock()
	doc := f.doc
	if doc == nil {
		f.mu.Unlock()
		return fmt.Errorf("didChange for %s, which is not open", u)
	}
	text, err := applyChanges(doc.text, params.ContentChanges, enc)
	if err != nil {
		f.mu.Unlock()
		s.showMessageOnce(protocol.MessageTypeError, fmt.Sprintf("corels: %s: %v; reopen the file", doc.path, err))
		return err
	}
	nd := *doc
	nd.text = text
	nd.version = params.TextDocument.Version
	f.doc = &nd
	f.mu.Unlock()
	if nd.analyzable() {
		s.schedule(f, s.debounce)
		s.scheduleHeaders()
	} else {
		s.dependentsChanged(nd.path)
	}
	return nil
}

// DidSave: the buffer already is what the server analyses; a saved header may change
// what other files see on disk.
func (s *Server) DidSave(ctx context.Context, params *protocol.DidSaveTextDocumentParams) error {
	path, err := filePath(params.TextDocument.URI)
	if err != nil {
		return err
	}
	if strings.HasSuffix(path, ".h") {
		s.invalidatePaths([]string{path})
	}
	return nil
}

// DidClose forgets the document and clears its diagnostics.
func (s *Server) DidClose(ctx context.Context, params *protocol.DidCloseTextDocumentParams) error {
	u := params.TextDocument.URI
	s.mu.Lock()
	f := s.files[u]
	delete(s.files, u)
	pull := s.caps.pullDiagnostics
	s.mu.Unlock()
	if f == nil {
		return nil
	}
	f.mu.Lock()
	doc := f.doc
	f.doc = nil
	f.mu.Unlock()
	f.stop()
	if doc == nil {
		return nil
	}
	if doc.served() && !pull {
		f.pubMu.Lock()
		s.logErr("publishDiagnostics", s.client.PublishDiagnostics(s.ctx, &protocol.PublishDiagnosticsParams{URI: u, Diagnostics: []protocol.Diagnostic{}}))
		f.pubMu.Unlock()
	} else if !doc.analyzable() {
		s.dependentsChanged(doc.path) // the disk version applies again
	}
	return nil
}

// DidChangeWatchedFiles: headers, build flags or .corels.json changed on disk.
func (s *Server) DidChangeWatchedFiles(ctx context.Context, params *protocol.DidChangeWatchedFilesParams) error {
	var paths []string
	config := false
	for _, ev := range params.Changes {
		if !ev.URI.IsFile() {
			continue
		}
		p := filepath.Clean(ev.URI.FsPath())
		switch filepath.Base(p) {
		case configFileName:
			config = true
		case "compile_commands.json", "compile_flags.txt":
			s.mu.Lock()
			clear(s.flags)
			s.mu.Unlock()
		}
		paths = append(paths, p)
	}
	if config {
		s.goSafe("reload .corels.json", func() { s.reloadConfig(false) })
	}
	if len(paths) > 0 {
		s.invalidatePaths(paths)
	}
	return nil
}

// invalidatePaths tells the front end that files changed on disk and analyses every open
// file again (any of them may include the changed headers).
func (s *Server) invalidatePaths(paths []string) {
	if inv, ok := s.front.(invalidator); ok {
		for _, p := range paths {
			inv.Invalidate(p)
		}
	}
	s.mu.Lock()
	clear(s.closed)
	s.mu.Unlock()
	s.invalidateAll()
}

// dependentsChanged is called when an open non-analysed document (a header) changed: the
// files that include it see its buffer through the overlay, so analyse them again.
func (s *Server) dependentsChanged(path string) {
	if inv, ok := s.front.(invalidator); ok {
		inv.Invalidate(path)
	}
	s.mu.Lock()
	clear(s.closed)
	s.mu.Unlock()
	s.invalidateAll()
}

// currentText returns the text of an open document, or the file on disk.
func (s *Server) currentText(u uri.URI) ([]byte, error) {
	s.mu.Lock()
	f := s.files[u]
	s.mu.Unlock()
	if f != nil {
		f.mu.Lock()
		doc := f.doc
		f.mu.Unlock()
		if doc != nil {
			return doc.text, nil
		}
	}
	path, err := filePath(u)
	if err != nil {
		return nil, err
	}
	return readDisk(path)
}

func readDisk(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "corels: %v", err)
	}
	if st.Size() > maxDocumentSize {
		return nil, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "corels: %s is larger than %d MB", path, maxDocumentSize>>20)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "corels: %v", err)
	}
	return data, nil
}

// overlay returns the unsaved buffers of open headers (documents corels does not analyse
// by themselves) other than path, for the compiler. Other open C files are left out: the
// compiler's preamble cache keys on the overlay, and a keystroke in one program must not
// invalidate another's headers.
func (s *Server) overlay(except string) map[string][]byte {
	s.mu.Lock()
	files := make([]*file, 0, len(s.files))
	for _, f := range s.files {
		files = append(files, f)
	}
	s.mu.Unlock()
	var ov map[string][]byte
	for _, f := range files {
		f.mu.Lock()
		doc := f.doc
		f.mu.Unlock()
		if doc == nil || doc.path == except || doc.analyzable() {
			continue
		}
		if ov == nil {
			ov = map[string][]byte{}
		}
		ov[doc.path] = doc.text
	}
	return ov
}
