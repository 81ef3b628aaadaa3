package lsp

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/corels/corels/compiler"
)

// A header is not a translation unit: clang compiles its code where a .c file includes
// it, so corels analyses an open header through such a file, as clangd does, and shows
// the header's part of that result (its relocations, hover, inlay hints, fixes) at the
// header's own positions. The unit is, in order: an open C file that includes the header
// (or whose last result has code in it), a file of the nearest compile_commands.json that
// includes it, a .c file next to it that includes it (*.bpf.c first).

// headerUnit picks the translation unit a header is analysed in, and its text; "" when no
// file is known to include it. The choice is logged.
func (s *Server) headerUnit(doc *document) (string, []byte) {
	path, text, how := s.findHeaderUnit(doc.path)
	if path == "" {
		s.log.Info("header not analysed: no open file, compile_commands.json entry or .c file beside it includes it", "header", doc.path)
		return "", nil
	}
	s.log.Info("header analysed through a file that includes it", "header", doc.path, "unit", path, "found", how)
	return path, text
}

func (s *Server) findHeaderUnit(header string) (path string, text []byte, how string) {
	// Open files: the one the user works on.
	s.mu.Lock()
	files := make([]*file, 0, len(s.files))
	for _, f := range s.files {
		files = append(files, f)
	}
	s.mu.Unlock()
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	for _, f := range files {
		f.mu.Lock()
		doc, last := f.doc, f.last
		f.mu.Unlock()
		if doc == nil || !doc.analyzable() {
			continue
		}
		if includesHeader(doc.path, doc.text, header) || last != nil && last.unit == "" && hasCodeIn(last.compile, header) {
			return doc.path, doc.text, "open file"
		}
	}
	// The build's own list of translation units.
	if units, db := compiler.DatabaseFiles(header); len(units) > 0 {
		for _, u := range units {
			if text, ok := includerOnDisk(u, header); ok {
				return u, text, db
			}
		}
	}
	// Files beside it.
	dir := filepath.Dir(header)
	for _, pattern := range []string{"*.bpf.c", "*.c"} {
		matches, _ := filepath.Glob(filepath.Join(dir, pattern))
		sort.Strings(matches)
		for _, m := range matches {
			if text, ok := includerOnDisk(m, header); ok {
				return m, text, "file in the same directory"
			}
		}
	}
	return "", nil, ""
}

// includerOnDisk reads a C file and reports whether it includes header.
func includerOnDisk(path, header string) ([]byte, bool) {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() || st.Size() > maxDocumentSize {
		return nil, false
	}
	text, err := os.ReadFile(path)
	if err != nil || !includesHeader(path, text, header) {
		return nil, false
	}
	return text, true
}

// includesHeader reports whether an #include of src (the file at path) names header: by
// its path relative to the file, or by a name the header's path ends with (a -I directory).
func includesHeader(path string, src []byte, header string) bool {
	for _, inc := range includes(src) {
		name := filepath.Clean(inc.name)
		if filepath.Base(name) != filepath.Base(header) {
			continue
		}
		if filepath.Join(filepath.Dir(path), name) == header || strings.HasSuffix(header, string(filepath.Separator)+name) {
			return true
		}
	}
	return false
}

// hasCodeIn reports whether a compile produced relocations in file.
func hasCodeIn(res *compiler.Result, file string) bool {
	if res == nil {
		return false
	}
	for _, r := range res.Relocations {
		if r.Range.Start.File == file {
			return true
		}
	}
	return false
}

// scheduleHeaders analyses the open headers again: a header's result is its translation
// unit's, which an edit of that file changes.
func (s *Server) scheduleHeaders() {
	s.mu.Lock()
	var headers []*file
	for _, f := range s.files {
		headers = append(headers, f)
	}
	s.mu.Unlock()
	for _, f := range headers {
		f.mu.Lock()
		h := f.doc != nil && f.doc.isHeader()
		f.mu.Unlock()
		if h {
			s.schedule(f, s.debounce)
		}
	}
}
