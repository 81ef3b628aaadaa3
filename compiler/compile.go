// Package compiler is corels' BPF C front end: it parses and type-checks a CO-RE program
// with modernc.org/cc/v4 configured like clang's BPF target, and extracts the CO-RE
// relocation records clang-16 would emit, each tied to its source range, with the local
// layout of what it reaches. It knows nothing of target kernels or of LSP.
package compiler

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"modernc.org/cc/v4"
)

// Input is one compilation: a main file and how to find what it includes.
type Input struct {
	Path    string            // main file; made absolute
	Source  []byte            // its contents; nil reads Path from disk
	Flags   *Flags            // nil: FindFlags(Path), else no flags
	Overlay map[string][]byte // absolute path → contents that replace the disk's (unsaved buffers)
}

// Result is what the compiler learned about one file.
type Result struct {
	Path        string
	Flags       *Flags
	Relocations []Relocation
	Externs     []Extern
	Diagnostics []Diagnostic // errors: when there is one, Relocations may be incomplete
}

// HasErrors reports whether the file failed to compile.
func (r *Result) HasErrors() bool {
	for _, d := range r.Diagnostics {
		if d.Severity == "error" {
			return true
		}
	}
	return false
}

// Compile parses and type-checks the file and extracts its CO-RE relocations. Problems in
// the C source are Diagnostics; the error is for problems with the input itself (an
// unreadable file, bad flags).
func Compile(in Input) (*Result, error) {
	path, err := filepath.Abs(in.Path)
	if err != nil {
		return nil, err
	}
	src := in.Source
	if src == nil {
		if data, ok := in.Overlay[path]; ok {
			src = data
		} else if src, err = os.ReadFile(path); err != nil {
			return nil, err
		}
	}
	flags := in.Flags
	if flags == nil {
		if flags, err = FindFlags(path); err != nil {
			return nil, err
		}
		if flags == nil {
			flags = &Flags{Source: "none"}
		}
	}
	res := &Result{Path: path, Flags: flags}
	fsys := newOverlayFS(in.Overlay)
	var pragmas pragmaRanges
	cfg, err := newConfig(flags, fsys, pragmas.handle)
	if err != nil {
		return nil, err
	}
	sources := []cc.Source{
		{Name: "<predefined>", Value: cfg.Predefined},
		{Name: "<builtin>", Value: cc.Builtin},
		{Name: preludeName, Value: prelude},
	}
	for _, inc := range flags.Includes {
		sources = append(sources, cc.Source{Name: inc, FS: fsys})
	}
	mainSrc := rewriteNamedVariadics(src)
	if len(mainSrc) == 0 || mainSrc[len(mainSrc)-1] != '\n' {
		mainSrc = append(mainSrc[:len(mainSrc):len(mainSrc)], '\n')
	}
	sources = append(sources, cc.Source{Name: path, Value: mainSrc})
	ast, err := translate(cfg, sources)
	if err != nil {
		res.Diagnostics = append(res.Diagnostics, parseErrors(err, path)...)
		return res, nil
	}
	pragmas.finish()
	extract(res, ast, path, mainSrc, &pragmas)
	return res, nil
}

// extract fills in the relocations; a bug in it becomes a diagnostic, never a crash.
func extract(res *Result, ast *cc.AST, path string, src []byte, pragmas *pragmaRanges) {
	defer func() {
		if r := recover(); r != nil {
			res.Relocations, res.Externs = nil, nil
			res.Diagnostics = append(res.Diagnostics, Diagnostic{
				Severity: "error",
				Message:  fmt.Sprintf("internal error while extracting relocations: %v", r),
				Range:    Range{Start: Position{File: path, Line: 1, Col: 1}, End: Position{File: path, Line: 1, Col: 1}},
			})
		}
	}()
	x := newExtractor(ast, path, src, pragmas)
	res.Relocations = x.relocations()
	res.Externs = x.externs()
	res.Diagnostics = append(res.Diagnostics, x.diags...)
}

// translate runs cc.Translate and turns a panic inside it into an error: a half-typed file
// must never take the server down.
func translate(cfg *cc.Config, sources []cc.Source) (ast *cc.AST, err error) {
	defer func() {
		if r := recover(); r != nil {
			ast, err = nil, fmt.Errorf("internal error in the C front end: %v", r)
		}
	}()
	return cc.Translate(cfg, sources)
}

var errorLine = regexp.MustCompile(`^(.*?):(\d+):(\d+): (.*)$`)

// parseErrors splits cc's error list into diagnostics. Errors without a position, or in a
// synthetic source, are placed at the start of the main file.
func parseErrors(err error, mainPath string) []Diagnostic {
	var out []Diagnostic
	seen := map[string]bool{}
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || seen[line] {
			continue
		}
		seen[line] = true
		d := Diagnostic{Severity: "error", Message: line}
		d.Range.Start = Position{File: mainPath, Line: 1, Col: 1}
		if m := errorLine.FindStringSubmatch(line); m != nil && !strings.HasPrefix(m[1], "<") {
			ln, _ := strconv.Atoi(m[2])
			col, _ := strconv.Atoi(m[3])
			d.Range.Start = Position{File: m[1], Line: ln, Col: col}
			d.Message = m[4]
		}
		d.Range.End = d.Range.Start
		out = append(out, d)
	}
	return out
}
