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

	// Fallback headers, by include name ("vmlinux.h"), are found only when no include
	// directory has the header: a vmlinux.h generated from the configured kernel for a
	// program whose build has none. Result.FallbacksUsed says when one was used.
	Fallback map[string][]byte
	// FallbackKey identifies Fallback's contents for the preamble cache (a kernel's hash,
	// say); empty: the contents are hashed on every compile.
	FallbackKey string
}

// Result is what the compiler learned about one file.
type Result struct {
	Path        string
	Flags       *Flags
	Relocations []Relocation
	Externs     []Extern
	Diagnostics []Diagnostic // errors: when there is one, Relocations may be incomplete
	// FallbacksUsed names the fallback headers the file included (Input.Fallback).
	FallbacksUsed []string
	Facts         // functions, probe reads, direct reads, guards (facts.go)
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
// unreadable file, bad flags). Compile parses every header each time; Cache.Compile does
// the same work with the headers parsed once.
func Compile(in Input) (*Result, error) {
	u, err := prepare(in)
	if err != nil {
		return nil, err
	}
	return u.recovering(func(v *unit) (*Result, error) { return v.compileFull(), nil })
}

// unit is one compilation's resolved inputs.
type unit struct {
	path  string
	src   []byte // as given; mainSrc() is what cc scans
	flags *Flags
	fsys  *overlayFS

	fallbackKey string
}

func prepare(in Input) (*unit, error) {
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
	if len(src) > MaxSourceSize {
		return nil, fmt.Errorf("%s: the file is %.1f MB; corels analyses files up to %d MB", path, float64(len(src))/(1<<20), MaxSourceSize>>20)
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
	fsys := newOverlayFS(in.Overlay)
	if len(in.Fallback) > 0 {
		fsys = fsys.withFallback(in.Fallback)
	}
	return &unit{path: path, src: src, flags: flags, fsys: fsys, fallbackKey: in.FallbackKey}, nil
}

// MaxSourceSize bounds the main file: beyond it a file is not a BPF program anyone types
// (a whole vmlinux.h pasted into one file still fits).
const MaxSourceSize = 4 << 20

// mainSource is the main file as cc scans it: named variadics rewritten, newline-terminated.
func mainSource(src []byte) []byte {
	m := rewriteNamedVariadics(src)
	if len(m) == 0 || m[len(m)-1] != '\n' {
		m = append(m[:len(m):len(m)], '\n')
	}
	return m
}

// baseSources are the synthetic sources before any file: clang's predefined macros and
// flags, cc's builtins, our prelude.
func baseSources(cfg *cc.Config) []cc.Source {
	return []cc.Source{
		{Name: "<predefined>", Value: cfg.Predefined},
		{Name: "<builtin>", Value: cc.Builtin},
		{Name: preludeName, Value: prelude},
	}
}

// compileFull translates the file with every header it includes.
func (u *unit) compileFull() *Result {
	res := &Result{Path: u.path, Flags: u.flags}
	pragmas := &pragmaRanges{}
	cfg, err := newConfig(u.flags, u.fsys, pragmas.handle)
	if err != nil {
		res.Diagnostics = append(res.Diagnostics, Diagnostic{Severity: "error", Message: err.Error(), Range: Range{Start: Position{File: u.path, Line: 1, Col: 1}, End: Position{File: u.path, Line: 1, Col: 1}}})
		return res
	}
	sources := baseSources(cfg)
	for _, inc := range u.flags.Includes {
		sources = append(sources, cc.Source{Name: inc, FS: u.fsys})
	}
	mainSrc := mainSource(u.src)
	sources = append(sources, cc.Source{Name: u.path, Value: mainSrc})
	ast, err := translate(cfg, sources, sources)
	if err != nil {
		res.Diagnostics = append(res.Diagnostics, parseErrors(err, u.path, mainSrc)...)
		return res
	}
	pragmas.finish()
	extract(res, newExtractor(ast, u.path, mainSrc, pragmas, u.fsys.ReadFile), nil)
	res.FallbacksUsed = u.fsys.fallbacksUsed()
	return res
}

// extract fills in the relocations of the main file and of the header functions (walked by
// x, or given by a preamble); a bug in it becomes a diagnostic, never a crash.
func extract(res *Result, x *extractor, headerFuncs []*headerFunc) {
	path := x.path
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
	res.Relocations = x.relocations(headerFuncs)
	res.Externs = x.externs()
	x.addFacts(res)
	res.Diagnostics = append(res.Diagnostics, x.diags...)
}

// translate runs cc.Translate and turns a panic inside it into an error: a half-typed file
// must never take the server down. Unless guard is nil, it is first preprocessed to check
// the bracket nesting (see nestingGuard): guard is the sources, or what yields the same
// macro expansions more cheaply.
func translate(cfg *cc.Config, sources, guard []cc.Source) (ast *cc.AST, err error) {
	defer func() {
		if r := recover(); r != nil {
			ast, err = nil, fmt.Errorf("internal error in the C front end: %v", r)
		}
	}()
	if guard != nil {
		if err := nestingGuard(cfg, guard); err != nil {
			return nil, err
		}
	}
	return cc.Translate(cfg, sources)
}

// maxBracketDepth is clang's default -fbracket-depth.
const maxBracketDepth = 256

// nestingGuard preprocesses the sources and fails when brackets nest deeper than clang
// allows. cc/v4's parser is recursive descent: a few lines of macros expand to a few
// hundred thousand nested parentheses, which exhaust Go's stack — a fatal error that no
// recover() catches — so the depth must be known before parsing.
func nestingGuard(cfg *cc.Config, sources []cc.Source) error {
	w := &depthWriter{}
	err := cc.Preprocess(cfg, sources, w)
	if w.exceeded {
		return fmt.Errorf("bracket nesting level exceeded maximum of %d after macro expansion", maxBracketDepth)
	}
	_ = err // preprocessing errors are reported by the translation that follows
	return nil
}

// depthWriter tracks bracket depth over preprocessed C text, outside literals.
type depthWriter struct {
	depth    int
	quote    byte // inside a string or character literal
	escape   bool
	exceeded bool
}

var errTooDeep = fmt.Errorf("too deep")

func (w *depthWriter) Write(p []byte) (int, error) {
	for _, c := range p {
		switch {
		case w.quote != 0:
			switch {
			case w.escape:
				w.escape = false
			case c == '\\':
				w.escape = true
			case c == w.quote || c == '\n':
				w.quote = 0
			}
		case c == '"' || c == '\'':
			w.quote = c
		case c == '(' || c == '[' || c == '{':
			if w.depth++; w.depth > maxBracketDepth {
				w.exceeded = true
				return 0, errTooDeep // stops the preprocessor
			}
		case c == ')' || c == ']' || c == '}':
			if w.depth > 0 {
				w.depth--
			}
		}
	}
	return len(p), nil
}

var (
	errorLine = regexp.MustCompile(`^(.*?):(\d+):(\d+): (.*)$`)
	// cc/v4 appends where in its own source an error was raised: "(check.go:5317:check:)".
	ccTrailer = regexp.MustCompile(`\s*\([a-z0-9_]+\.go:\d+:[A-Za-z0-9_.]*:?\)$`)
)

// parseErrors splits cc's error list into diagnostics. Errors in a synthetic source are
// placed at the start of the main file; errors without a position ("-: unexpected EOF"),
// or past the file's last byte, at its end, where the parser ran out of input.
func parseErrors(err error, mainPath string, mainSrc []byte) []Diagnostic {
	table := newLineTable(mainSrc)
	eof := table.position(mainPath, len(mainSrc))
	if len(mainSrc) > 0 && mainSrc[len(mainSrc)-1] == '\n' {
		eof = table.position(mainPath, len(mainSrc)-1)
	}
	var out []Diagnostic
	seen := map[string]bool{}
	lines := strings.Split(err.Error(), "\n")
	for _, line := range lines {
		line = ccTrailer.ReplaceAllString(strings.TrimSpace(line), "")
		// "TODO *cc.X missed/failed type check" follows from an earlier error: noise.
		if line == "" || seen[line] || strings.Contains(line, "missed/failed type check") && len(lines) > 1 {
			continue
		}
		seen[line] = true
		d := Diagnostic{Severity: "error", Message: line, unplaced: true}
		d.Range.Start = Position{File: mainPath, Line: 1, Col: 1}
		if rest, ok := strings.CutPrefix(line, "-: "); ok {
			d.Range.Start, d.Message, d.unplaced = eof, rest, false
		} else if m := errorLine.FindStringSubmatch(line); m != nil && !strings.HasPrefix(m[1], "<") {
			ln, _ := strconv.Atoi(m[2])
			col, _ := strconv.Atoi(m[3])
			d.Range.Start = Position{File: m[1], Line: ln, Col: col}
			d.Message, d.unplaced = m[4], false
			if m[1] == mainPath && table.offset(ln, col) > eof.Offset {
				// cc places an early end of file past the last byte or not at all,
				// depending on what came before: one place for both.
				d.Range.Start = eof
			}
		}
		d.Range.End = d.Range.Start
		d.Message = clangWording(d.Message)
		out = append(out, d)
	}
	return out
}
