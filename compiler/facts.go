package compiler

import (
	"fmt"
	"sort"

	"modernc.org/cc/v4"
	"modernc.org/token"
)

// Facts are what the analysis needs from the syntax tree besides the relocations: the
// functions of the main file, the calls to probe-read helpers, the loads through kernel
// pointers, and which CO-RE macros and helpers the file can use. Result embeds them; they
// are plain data like the rest of Result.
type Facts struct {
	Funcs       []Func
	ProbeReads  []ProbeRead
	DirectReads []DirectRead
	Pointers    []PointerVar // locals and parameters holding addresses, with their provenance
	// Defined tells which of DefinedNames the file can use at its end: macros of
	// bpf_core_read.h and helpers of bpf_helpers.h.
	Defined map[string]bool
}

// DefinedNames are the names Facts.Defined answers for.
var DefinedNames = []string{
	"BPF_CORE_READ", "BPF_CORE_READ_INTO", "BPF_CORE_READ_STR_INTO",
	"BPF_CORE_READ_USER", "BPF_CORE_READ_USER_INTO", "BPF_CORE_READ_USER_STR_INTO",
	"BPF_CORE_READ_BITFIELD_PROBED", "BPF_CORE_READ_BITFIELD",
	"bpf_core_read", "bpf_core_read_str", "bpf_core_read_user", "bpf_core_read_user_str",
	"bpf_core_field_exists", "bpf_core_type_exists", "bpf_core_enum_value_exists",
	"bpf_probe_read_kernel", "bpf_probe_read_kernel_str", "bpf_probe_read_user", "bpf_probe_read_user_str",
}

// Func is a function defined in the main file.
type Func struct {
	Name     string
	Section  string   // its own SEC(), "" for helpers
	Programs string   // SEC()s of the programs its code ends up in, comma-separated (as Relocation.Section)
	Range    Range    // its name
	Body     Range    // from `{` to `}`
	Static   bool     // static: its code runs only where it is called from
	Inline   bool     // inline or __always_inline
	Void     bool     // returns void
	Calls    []string // functions of the main file it calls, sorted
}

// ProbeRead is a call to a probe-read helper: bpf_probe_read, bpf_probe_read_kernel,
// bpf_probe_read_user, bpf_probe_read_str, bpf_probe_read_kernel_str,
// bpf_probe_read_user_str, by name or through a function pointer initialised with the
// helper's number (`static long (*f)(void *, __u32, const void *) = (void *) 113;`).
type ProbeRead struct {
	Helper  string // the helper's name, e.g. "bpf_probe_read_kernel"
	Name    string // the callee as written
	Func    string
	Section string   // as Relocation.Section
	Pos     Position // the callee's name, or the name of the macro that produced the call
	Call    Range    // the call, from the callee's name to `)`; zero when not written in the main file
	// Args are the destination, size and source arguments. An argument's range is set
	// only when the argument is written as such in the main file (tokens from a macro's
	// body are not), so that an edit of the range edits exactly the argument.
	Args [3]Range
	// Region: the source argument lies inside __builtin_preserve_access_index.
	Region bool
	// Unpreserved are the member and array accesses of records without
	// preserve_access_index, outside __builtin_preserve_access_index, that compute the
	// source address: offsets compiled in, wrong on kernels whose layout differs.
	Unpreserved []FixedAccess
	// Into is the call rewritten as BPF_CORE_READ_INTO(dst, base, path...), when the
	// source is `&base->a.b...` (or an array member `base->a`), the size is the
	// destination's, and the pieces are written in the main file; nil otherwise.
	Into *ReadInto
}

// FixedAccess is a member access whose offset is compiled in.
type FixedAccess struct {
	Range  Range  // the member's name (or the subscript)
	Record string // "struct sk_buff"
	Member string // "dev", or "[]" for a subscript of a pointer to a record
	// From is the provenance of the pointer the access goes through; KernelHeader is set
	// when Record is declared in a kernel header (provenance.go).
	From         Provenance
	KernelHeader bool
}

// ReadInto is the shape of a probe read as a BPF_CORE_READ_INTO.
type ReadInto struct {
	Dst     Range    // the destination argument, casts removed
	DstAddr bool     // the destination is an array: write `&dst`
	Base    Range    // the pointer the access starts from
	Path    []string // the accessors after it: "a.b", "c[2]" (each `->` starts one)
}

// DirectRead is a load through a pointer to a kernel record (a struct or union with
// preserve_access_index) that is not the program's context: legal in BTF-enabled programs
// (tp_btf, fentry, lsm, ...), rejected by the verifier elsewhere (kprobe, tracepoint, ...).
// A chain `a->b->c` is one DirectRead.
type DirectRead struct {
	Func    string
	Section string // as Relocation.Section
	Range   Range  // the expression that loads
	Member  Range  // the last member's name
	Record  string // the record of the first dereference, "struct task_struct"
	// Base and Path give the read as BPF_CORE_READ(base, path...); Base is zero when the
	// expression is not written as such in the main file.
	Base     Range
	Path     []string
	Bitfield bool // the last member is a bitfield: BPF_CORE_READ cannot read it
	// From is the provenance of the pointer the load goes through; KernelHeader is set
	// when the loaded record is declared in a kernel header (provenance.go).
	From         Provenance
	KernelHeader bool
}

// addFacts computes the Facts and the relocations' guards. It runs after relocations():
// it reuses the extractor's function sections and call graph. A bug in it loses the facts,
// never the relocations.
func (x *extractor) addFacts(res *Result) {
	defer func() {
		if r := recover(); r != nil {
			res.Facts = Facts{}
			for i := range res.Relocations {
				res.Relocations[i].Guards, res.Relocations[i].Stmt = nil, Range{}
			}
			res.Diagnostics = append(res.Diagnostics, Diagnostic{
				Severity: "warning",
				Message:  fmt.Sprintf("internal error while analysing the source (guards, probe reads): %v", r),
				Range:    Range{Start: Position{File: x.path, Line: 1, Col: 1}, End: Position{File: x.path, Line: 1, Col: 1}},
			})
		}
	}()
	w := newFactWalker(x)
	w.functions()
	if x.reuse != nil {
		w.inherited = map[string][]Guard{x.reuse.fn: x.reuse.inherited}
	}
	res.Facts.Funcs = w.funcList()
	res.Facts.Defined = w.defined()
	for _, fi := range w.order {
		w.guardsOf(fi)
	}
	res.Facts.ProbeReads = w.probeReads()
	res.Facts.DirectReads = w.directReads()
	res.Facts.Pointers = w.prov().pointerVars()
	w.attach(res.Relocations)
	if x.summarize {
		x.summaries = w.summaries()
	}
}

// factWalker holds what the fact passes learn about the main file's functions.
type factWalker struct {
	x     *extractor
	fns   map[string]*fnInfo
	order []*fnInfo
	// helperIDs maps file-scope function pointers initialised with a constant (libbpf's
	// `static long (*bpf_probe_read_kernel)(...) = (void *) 113;`) to that constant.
	helperIDs map[string]int64
	sites     map[string][]callSite  // callee → calls of it in the main file
	inherited map[string][]Guard     // memo of inheritedGuards
	extents   map[cc.Node]span       // memo of extent
	exits     map[*cc.Statement]bool // memo of exits
	provs     *provWalker            // pointer provenance, computed on first use
}

type fnInfo struct {
	name    string
	def     *cc.FunctionDefinition
	fn      Func
	regions []region
	items   []span                               // block items that start with a token of the main file
	locals  map[*cc.Declarator]cc.ExpressionNode // initialisers of locals never written again
	ret     cc.ExpressionNode                    // the body is `return ret;`
}

// span is a part of the main file, by byte offsets.
type span struct{ start, end int }

func (s span) contains(off int) bool { return off >= s.start && off < s.end }

type callSite struct {
	caller string
	off    int
}

func newFactWalker(x *extractor) *factWalker {
	return &factWalker{x: x, fns: map[string]*fnInfo{}, sites: map[string][]callSite{}}
}

// functions indexes the function definitions of the main file.
func (w *factWalker) functions() {
	x := w.x
	for l := x.ast.TranslationUnit; l != nil; l = l.TranslationUnit {
		ed := l.ExternalDeclaration
		if ed.Case != cc.ExternalDeclarationFuncDef || ed.Position().Filename != x.path {
			continue
		}
		fd := ed.FunctionDefinition
		name := fd.Declarator.Name()
		fi := &fnInfo{name: name, def: fd, locals: map[*cc.Declarator]cc.ExpressionNode{}}
		fi.fn = Func{
			Name:     name,
			Section:  x.sections[name],
			Programs: x.programSections(name),
			Static:   fd.Declarator.IsStatic(),
			Inline:   fd.Declarator.IsInline() || hasAttr(alwaysInlineNames, fd.DeclarationSpecifiers, fd.Declarator),
		}
		if r, ok := x.tokenRange(fd.Declarator.NameTok()); ok {
			fi.fn.Range = r
		} else {
			fi.fn.Range = x.rangeOf(fd.Declarator)
		}
		if cs := fd.CompoundStatement; cs != nil {
			if s, e, ok := w.extent(cs); ok {
				fi.fn.Body = Range{x.lines.position(x.path, s), x.lines.position(x.path, e)}
			}
		}
		if ft, ok := fd.Declarator.Type().(*cc.FunctionType); ok && ft.Result() != nil {
			fi.fn.Void = ft.Result().Kind() == cc.Void
		}
		if _, dup := w.fns[name]; !dup {
			w.order = append(w.order, fi)
		}
		w.fns[name] = fi
	}
	for _, fi := range w.order {
		var calls []string
		for callee, callers := range x.callers {
			if callers[fi.name] && w.fns[callee] != nil {
				calls = append(calls, callee)
			}
		}
		sort.Strings(calls)
		fi.fn.Calls = calls
	}
}

var alwaysInlineNames = map[string]bool{"always_inline": true, "__always_inline__": true}

func (w *factWalker) funcList() []Func {
	out := make([]Func, 0, len(w.order))
	for _, fi := range w.order {
		out = append(out, fi.fn)
	}
	return out
}

// defined answers DefinedNames. Helpers count as declared when bpf_helpers.h was included
// (its guard macro), which holds whether or not the file's own compile kept their
// declarations (a pruned compile keeps only what the file uses).
func (w *factWalker) defined() map[string]bool {
	ast := w.x.ast
	_, helpers := ast.Macros["__BPF_HELPERS__"]
	out := map[string]bool{}
	for _, n := range DefinedNames {
		if _, ok := ast.Macros[n]; ok {
			out[n] = true
			continue
		}
		if len(n) > 14 && n[:14] == "bpf_probe_read" && (helpers || ast.Scope != nil && len(ast.Scope.Nodes[n]) > 0) {
			out[n] = true
		}
	}
	return out
}

// attach sets each relocation's guards and statement.
func (w *factWalker) attach(relocs []Relocation) {
	for i := range relocs {
		r := &relocs[i]
		if r.Range.Start.File != w.x.path {
			continue
		}
		off := r.Range.Start.Offset
		fi := w.fns[r.Func]
		if fi == nil {
			continue
		}
		r.Guards = mergeGuards(w.regionGuards(fi, off), w.inheritedGuards(fi.name, map[string]bool{}))
		best := -1
		for j, it := range fi.items {
			if it.contains(off) && (best < 0 || it.end-it.start < fi.items[best].end-fi.items[best].start) {
				best = j
			}
		}
		if best >= 0 {
			it := fi.items[best]
			r.Stmt = Range{w.x.lines.position(w.x.path, it.start), w.x.lines.position(w.x.path, it.end)}
		}
	}
}

// extent is the part of the main file a node covers, for containment: a token expanded
// from a macro counts at the macro's name (where cc/v4 places it), a token of a macro's
// argument also at its own place. Extents are computed bottom-up once per subtree and
// remembered (factWalker.extents), so nested statements cost linear time, not quadratic.
func (w *factWalker) extent(n cc.Node) (start, end int, ok bool) {
	if w.extents == nil {
		w.extents = map[cc.Node]span{}
	}
	sp, found := w.extentOf(n)
	return sp.start, sp.end, found
}

// noSpan marks a subtree with no token in the main file.
var noSpan = span{-1, -1}

func (w *factWalker) extentOf(n cc.Node) (span, bool) {
	x := w.x
	if sp, ok := w.extents[n]; ok {
		return sp, sp != noSpan
	}
	sp, ok := noSpan, false
	add := func(s, e int) {
		if !ok || s < sp.start {
			sp.start = s
		}
		if !ok || e > sp.end {
			sp.end = e
		}
		ok = true
	}
	ownTokens(n, func(t cc.Token) {
		p := t.Position()
		if p.Filename != x.path || p.Offset < 0 || p.Offset >= len(x.src) {
			return
		}
		ts, te, real, found := x.placeOffsets(t, p)
		if real {
			add(ts, te)
			return
		}
		// From a macro: the macro's name, and the argument's own place.
		e := p.Offset
		for e < len(x.src) && isIdentByte(x.src[e]) {
			e++
		}
		add(p.Offset, max(e, p.Offset+1))
		if found && ts >= p.Offset {
			add(ts, te)
		}
	})
	children(n, func(c cc.Node) {
		if c, cok := w.extentOf(c); cok {
			add(c.start, c.end)
		}
	})
	if memoExtent(n) {
		w.extents[n] = sp
	}
	return sp, ok
}

// memoExtent: n's extent is remembered. Statements nest, and the guards pass asks for the
// extents of the statements in each; so do chains of `?:` (`a ? b : c ? d : e`), which nest
// without brackets. Other expressions are asked for once or, inside brackets, a bounded
// number of times, and remembering every node of the walk cost more than it saved (half of
// the fact passes' time on a file of long BPF_CORE_READ chains).
func memoExtent(n cc.Node) bool {
	switch n.(type) {
	case *cc.CompoundStatement, *cc.BlockItem, *cc.Statement, *cc.ConditionalExpression:
		return true
	}
	return false
}

// place is where token t is written in the main file. real is set when t is written where
// cc/v4 places it, i.e. it does not come from a macro: a macro's tokens carry the position
// of the macro's name, and its arguments' tokens lie after it. tokenRange finds a token's
// text by its address in the scanned buffer; cc/v4 copies the first token of each line
// elsewhere, so such a token is found by comparing its text with the file at its position.
func (x *extractor) place(t cc.Token) (r Range, real, ok bool) {
	p := t.Position()
	if p.Filename != x.path {
		return Range{}, false, false
	}
	if tr, found := x.tokenRange(t); found {
		return tr, tr.Start.Offset == p.Offset, true
	}
	if e, ok := x.writtenAt(t, p); ok {
		return Range{x.lines.position(x.path, p.Offset), x.lines.position(x.path, e)}, true, true
	}
	return Range{}, false, false
}

// placeOffsets is place in byte offsets, for t at position p (t's), when the walk is in
// the main file (x.cur), as the fact passes are.
func (x *extractor) placeOffsets(t cc.Token, p token.Position) (start, end int, real, ok bool) {
	if p.Filename != x.path {
		return 0, 0, false, false
	}
	if s, e, found := x.cur.tokenOffsets(t, p); found {
		return s, e, s == p.Offset, true
	}
	if e, ok := x.writtenAt(t, p); ok {
		return p.Offset, e, true, true
	}
	return 0, 0, false, false
}

// writtenAt: t's text is in the main file at its position p (cc/v4 copies the first token
// of each line out of the scanned buffer); end is where it ends there.
func (x *extractor) writtenAt(t cc.Token, p token.Position) (end int, ok bool) {
	b := t.Src()
	if len(b) > 0 && p.Offset >= 0 && p.Offset+len(b) <= len(x.src) && string(x.src[p.Offset:p.Offset+len(b)]) == string(b) {
		return p.Offset + len(b), true
	}
	return 0, false
}

// faithful is the range of n when n is written, token for token, in the main file: every
// token is written where cc/v4 places it or in a macro's argument (after the macro's name),
// none comes from a macro's body. Replacing that range replaces exactly n.
func (x *extractor) faithful(n cc.Node) (Range, bool) {
	if n == nil {
		return Range{}, false
	}
	var r Range
	found, bad := false, false
	tokens(n, func(t cc.Token) {
		if bad {
			return
		}
		tr, _, ok := x.place(t)
		if !ok || tr.Start.Offset < t.Position().Offset {
			bad = true
			return
		}
		if !found || tr.Start.Offset < r.Start.Offset {
			r.Start = tr.Start
		}
		if !found || tr.End.Offset > r.End.Offset {
			r.End = tr.End
		}
		found = true
	})
	return r, found && !bad
}

// realToken is the range of t when t is written in the main file where cc/v4 places it
// (not produced by a macro).
func (x *extractor) realToken(t cc.Token) (Range, bool) {
	tr, real, ok := x.place(t)
	return tr, ok && real
}
