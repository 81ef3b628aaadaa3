package analysis

import (
	"fmt"
	"maps"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/corels/corels/btf"
	"github.com/corels/corels/compiler"
)

// Analyze turns one compile of a file and its source text into a Report: findings (parse
// errors, one core-reloc hint per relocation, unresolved and unguarded relocations,
// non-relocatable probe reads, direct kernel reads), inlay hints and per-program lenses.
// src must be the text res was compiled from; ranges are byte offsets into it.
func Analyze(res *compiler.Result, src []byte, opts Options) *Report {
	a := newAnalyzer(res, src, opts)
	rep := &Report{Path: res.Path, Compile: res, src: src, kernels: opts.Kernels, an: a}
	a.resolveAll()
	rep.Verdicts = a.verdicts
	rep.Findings = append(rep.Findings, a.parseErrors()...)
	rep.Findings = append(rep.Findings, a.relocFindings()...)
	rep.Findings = append(rep.Findings, a.unresolvedFindings()...)
	rep.Findings = append(rep.Findings, a.probeReadFindings()...)
	rep.Findings = append(rep.Findings, a.directReadFindings()...)
	sortFindings(rep.Findings)
	rep.Hints = a.hints()
	rep.Lenses = a.lenses()
	if opts.Memo != nil {
		opts.Memo.keep(maps.Clone(a.memo)) // a clone: hovers go on adding to a.memo
	}
	return rep
}

// analyzer is the state of one Analyze call.
type analyzer struct {
	res      *compiler.Result
	src      []byte
	lines    []int // offsets of line starts
	kernels  []*btf.Kernel
	verdicts [][]btf.Result
	memo     map[memoKey]btf.Result
	prev     map[memoKey]btf.Result // the last analysis's (Options.Memo), read only
	carried  int                    // resolutions taken from prev
	// kernelNames memoizes kernelType's look-ups by name.
	kernelNames map[string]bool
}

type memoKey struct {
	kind   compiler.Kind
	local  any // the btf.Type pointer
	access string
	kernel *btf.Kernel
}

// Memo keeps the resolutions of one analysis of a file for the next. A compile that
// reuses the last one's functions (compiler/reuse.go) keeps their relocations' local types,
// the same btf.Type values, and what a local type resolves to on a kernel does not change:
// most relocations of an edit were resolved by the analysis before it. The zero Memo is
// empty; it is safe for concurrent use.
type Memo struct {
	mu   sync.Mutex
	last map[memoKey]btf.Result // never written once kept
}

func (m *Memo) keep(last map[memoKey]btf.Result) {
	m.mu.Lock()
	m.last = last
	m.mu.Unlock()
}

func (m *Memo) get() map[memoKey]btf.Result {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last
}

func newAnalyzer(res *compiler.Result, src []byte, opts Options) *analyzer {
	a := &analyzer{res: res, src: src, kernels: opts.Kernels, memo: map[memoKey]btf.Result{}}
	if opts.Memo != nil {
		a.prev = opts.Memo.get()
	}
	a.lines = []int{0}
	for i, c := range src {
		if c == '\n' {
			a.lines = append(a.lines, i+1)
		}
	}
	return a
}

// resolve is btf.Resolve with a memo: guards, hovers and lenses ask about the same records.
func (a *analyzer) resolve(r compiler.Relocation, k *btf.Kernel) btf.Result {
	key := memoKey{r.Kind, r.Local, r.Access, k}
	if v, ok := a.memo[key]; ok {
		return v
	}
	v, ok := a.prev[key]
	if ok {
		a.carried++
	} else {
		v = btf.Resolve(btf.Relocation{Kind: btf.Kind(r.Kind), Local: r.Local, Access: r.Access}, k)
	}
	a.memo[key] = v
	return v
}

func (a *analyzer) resolveAll() {
	a.verdicts = make([][]btf.Result, len(a.res.Relocations))
	for i, r := range a.res.Relocations {
		if r.Local == nil {
			continue
		}
		vs := make([]btf.Result, len(a.kernels))
		for j, k := range a.kernels {
			vs[j] = a.resolve(r, k)
		}
		a.verdicts[i] = vs
	}
}

// inFile reports whether a range lies in the analysed file.
func (a *analyzer) inFile(r compiler.Range) bool {
	return r.Start.File != "" && samePath(r.Start.File, a.res.Path) &&
		r.Start.Offset >= 0 && r.End.Offset <= len(a.src) && r.Start.Offset <= r.End.Offset
}

func samePath(a, b string) bool { return a == b || filepath.Clean(a) == filepath.Clean(b) }

// pos is the position of a byte offset of the file.
func (a *analyzer) pos(off int) compiler.Position {
	return PositionOf(a.src, a.lines, a.res.Path, off)
}

func (a *analyzer) rng(start, end int) compiler.Range {
	return compiler.Range{Start: a.pos(start), End: a.pos(end)}
}

func (a *analyzer) text(r compiler.Range) string {
	if !a.inFile(r) {
		return ""
	}
	return string(a.src[r.Start.Offset:r.End.Offset])
}

// PositionOf is the position of byte offset off in src, whose line starts are lines (nil:
// computed). Lines and columns are 1-based, columns count bytes, as in compiler.Position.
func PositionOf(src []byte, lines []int, file string, off int) compiler.Position {
	if off < 0 {
		off = 0
	}
	if off > len(src) {
		off = len(src)
	}
	if lines == nil {
		lines = []int{0}
		for i, c := range src {
			if c == '\n' {
				lines = append(lines, i+1)
			}
		}
	}
	i := sort.SearchInts(lines, off+1) - 1
	if i < 0 {
		i = 0
	}
	return compiler.Position{File: file, Line: i + 1, Col: off - lines[i] + 1, Offset: off}
}

// offsetOf is the byte offset of a 1-based line and byte column, -1 if outside the file.
func (a *analyzer) offsetOf(line, col int) int {
	if line < 1 || line > len(a.lines) {
		return -1
	}
	off := a.lines[line-1] + col - 1
	if off < 0 || off > len(a.src) {
		return -1
	}
	return off
}

// parseErrors are the compiler's diagnostics. Positions in the file get their offsets
// and the extent of the word they point at; problems in other files are shown at the top
// of this one, naming where they are.
func (a *analyzer) parseErrors() []Finding {
	var out []Finding
	for _, d := range a.res.Diagnostics {
		sev := Error
		if d.Severity == "warning" {
			sev = Warning
		}
		f := Finding{Code: CodeParseError, Severity: sev, Message: d.Message}
		start := -1
		if d.Range.Start.File == "" || samePath(d.Range.Start.File, a.res.Path) {
			start = a.offsetOf(d.Range.Start.Line, d.Range.Start.Col)
		} else {
			f.Message = fmt.Sprintf("%s:%d:%d: %s", d.Range.Start.File, d.Range.Start.Line, d.Range.Start.Col, d.Message)
		}
		if start < 0 {
			start = 0
		}
		end := start
		if d.Range.End.Line > 0 && (d.Range.End.Line != d.Range.Start.Line || d.Range.End.Col != d.Range.Start.Col) &&
			(d.Range.End.File == "" || samePath(d.Range.End.File, a.res.Path)) {
			if e := a.offsetOf(d.Range.End.Line, d.Range.End.Col); e > start {
				end = e
			}
		}
		if end == start {
			end = wordEnd(a.src, start)
		}
		f.Range = a.rng(start, end)
		out = append(out, f)
	}
	return out
}

// wordEnd extends a position over the identifier (or the one character) it points at.
func wordEnd(src []byte, off int) int {
	e := off
	for e < len(src) && isIdent(src[e]) {
		e++
	}
	if e == off && e < len(src) && src[e] != '\n' {
		e++
	}
	return e
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Range.Start.Offset != b.Range.Start.Offset {
			return a.Range.Start.Offset < b.Range.Start.Offset
		}
		if a.Severity != b.Severity {
			return a.Severity < b.Severity
		}
		return a.Code < b.Code
	})
}

// kernelNames lists kernels for messages: "4.18.0-synth, 5.10.0-synth".
func kernelNames(ks []*btf.Kernel) string {
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = k.Name
	}
	return strings.Join(names, ", ")
}

// FindingsIn returns the findings whose range overlaps [start, end] (byte offsets), with
// their fixes: what an editor offers as code actions for a selection or the cursor.
func (r *Report) FindingsIn(start, end int) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Range.Start.Offset <= end && f.Range.End.Offset >= start {
			out = append(out, f)
		}
	}
	return out
}

// FixesIn returns the quick fixes of the findings overlapping [start, end].
func (r *Report) FixesIn(start, end int) []Fix {
	var out []Fix
	for _, f := range r.FindingsIn(start, end) {
		out = append(out, f.Fixes...)
	}
	return out
}

// HintsIn returns the inlay hints placed in [start, end].
func (r *Report) HintsIn(start, end int) []InlayHint {
	var out []InlayHint
	for _, h := range r.Hints {
		if h.Position.Offset >= start && h.Position.Offset <= end {
			out = append(out, h)
		}
	}
	return out
}

// HasErrors reports whether a finding is an error (what `corels check` exits 1 on).
func (r *Report) HasErrors() bool {
	for _, f := range r.Findings {
		if f.Severity == Error {
			return true
		}
	}
	return false
}
