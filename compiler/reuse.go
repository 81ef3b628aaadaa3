package compiler

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// Function-level reuse: an edit inside one function's body costs that function, not the
// file. The Cache keeps, per main file, its last error-free result with a summary of what
// each function gives the others and gets from them (funcSummary). When the next text
// differs from it only inside one body, the file is compiled with every other body blanked
// (lines and directives kept, so positions and macros hold), the blanked functions' part in
// the cross-function passes put back from their summaries (reuseInputs), and the edited
// function's own part spliced into the last result, whose other parts are shifted past the
// edit. The splice is taken only when the edited function still gives the others exactly
// what it gave them (its calls, the guards at them, the values it passes, what it
// returns): then nothing outside it can have changed, and the result equals a whole
// compile's (TestReuseEqualsPruned replays typing on every corpus program to hold it).
// Anything else — an error, a directive or comment delimiter in the edit, a changed call —
// compiles the whole file as before.

// funcSummary is what one function of the main file gives the others and gets from them,
// in the terms the fact passes join across functions.
type funcSummary struct {
	name      string
	body      span // from `{` to after `}` in the main file; {-1, -1}: not written there
	cond      bool // an inline `{ return C; }`: its callers' guards read its body
	converged bool // the provenance passes reached their fixpoint

	callees   []string     // the functions of the file and its headers it calls, sorted
	sites     []guardSite  // its calls of main-file functions, by callee, with the guards there
	gives     []paramValue // values it passes to parameters, by callee and parameter
	callbacks []string     // functions it passes as callbacks, in order
	ret       Provenance   // the join of its returns (hasRet: it has some)
	hasRet    bool

	params    []paramValue // its parameters' values
	inherited []Guard      // the checks that hold at every call of it
}

type guardSite struct {
	callee string
	guards []Guard
}

// paramValue is a parameter's value; for a gift, whose parameter (callee, param).
type paramValue struct {
	callee string
	param  int
	p      Provenance
	set    bool
}

// summaries computes every function's summary; it runs at the end of addFacts.
func (w *factWalker) summaries() []*funcSummary {
	x, pw := w.x, w.prov()
	out := make([]*funcSummary, 0, len(w.order))
	byName := map[string]*funcSummary{}
	paramIndex := map[any]int{}
	for _, fi := range w.order {
		s := &funcSummary{name: fi.name, body: span{-1, -1}, cond: fi.fn.Inline && fi.ret != nil, converged: pw.converged}
		if b := fi.fn.Body; b.Start.File == x.path {
			s.body = span{b.Start.Offset, b.End.Offset}
		}
		for i, p := range params(fi.def.Declarator) {
			paramIndex[p] = i
			v, ok := pw.vals[slotKey{p, ""}]
			s.params = append(s.params, paramValue{p: v, set: ok})
		}
		s.ret, s.hasRet = pw.rets[fi.name]
		s.inherited = w.inheritedGuards(fi.name, map[string]bool{})
		s.callbacks = pw.cbFrom[fi.name]
		out = append(out, s)
		byName[fi.name] = s
	}
	for callee, callers := range x.callers {
		if w.fns[callee] == nil && !x.headerNames[callee] {
			continue // a helper: no code of the file's
		}
		for caller := range callers {
			if s := byName[caller]; s != nil {
				s.callees = append(s.callees, callee)
			}
		}
	}
	for _, callee := range slices.Sorted(maps.Keys(w.sites)) {
		for _, site := range w.sites[callee] {
			if s, fi := byName[site.caller], w.fns[site.caller]; s != nil && fi != nil {
				s.sites = append(s.sites, guardSite{callee, w.regionGuards(fi, site.off)})
			}
		}
	}
	for k, sites := range pw.sites {
		owner := pw.params[k.d]
		if owner == nil || k.path != "" {
			continue
		}
		for _, site := range sites {
			if s := byName[site.caller]; s != nil {
				s.gives = append(s.gives, paramValue{callee: owner.name, param: paramIndex[k.d], p: site.p, set: true})
			}
		}
	}
	for _, s := range out {
		sort.Strings(s.callees)
		sort.SliceStable(s.gives, func(i, j int) bool {
			a, b := s.gives[i], s.gives[j]
			return a.callee < b.callee || a.callee == b.callee && a.param < b.param
		})
	}
	return out
}

// reuseInputs is what the functions whose bodies were blanked contribute to the one
// compiled, taken from their summaries.
type reuseInputs struct {
	whole   []byte          // the text being compiled, before the other bodies were blanked
	defined map[string]bool // the last compile's summaries.defined
	reach   map[string]bool // the records whose completeness must not change

	wholeDecls   *wholeClosure        // what the whole text reaches of the preamble, set by the compile
	lastWhole    *wholeClosure        // the last compile's, when it was of the same function and its body's directives are the same
	body         span                 // the edited body, without its braces
	definedNow   map[string]bool      // what the whole text's declarations define, set by the compile
	cut          map[string]*slimPlan // the records the compile had cut down (slim.go), by tag, set by it
	wholeRecords bool                 // the compile gets every record whole: cut down, it reached a member cut
	fn           string
	params       []paramValue
	inherited    []Guard
	rets         map[string]Provenance // the other functions' returns
	callers      map[string][]string   // callee → the other functions that call it
	sections     map[string]string     // the main file's functions' SEC()s, of those blanked whole too
}

func (r *reuseInputs) addSections(sections map[string]string) {
	for fn, sec := range r.sections {
		if sections[fn] == "" && sec != "" {
			sections[fn] = sec
		}
	}
}

func (r *reuseInputs) addCallers(callers map[string]map[string]bool) {
	for callee, cs := range r.callers {
		if callers[callee] == nil {
			callers[callee] = map[string]bool{}
		}
		for _, c := range cs {
			callers[callee][c] = true
		}
	}
}

// inject gives one provenance pass's results what the blanked functions would have
// made them: the edited function's parameters and the others' returns.
func (r *reuseInputs) inject(pw *provWalker, vals map[slotKey]Provenance, rets map[string]Provenance) {
	if fi := pw.w.fns[r.fn]; fi != nil {
		for i, p := range params(fi.def.Declarator) {
			if i >= len(r.params) {
				break
			}
			if k := (slotKey{p, ""}); r.params[i].set {
				vals[k] = r.params[i].p
			} else {
				delete(vals, k)
			}
		}
	}
	for name := range rets {
		if name != r.fn {
			delete(rets, name)
		}
	}
	for name, v := range r.rets {
		if name != r.fn {
			rets[name] = v
		}
	}
}

// lastCompile is a main file's last error-free compile, what reuse starts from (a later
// text with errors does not replace it).
type lastCompile struct {
	src  []byte // the main file as cc scanned it (mainSource)
	p    *preamble
	res  *Result
	sums []*funcSummary

	defined map[string]bool // summaries.defined
	reach   map[string]bool // the records its relocations' local types reach: reachedRecords
	items   *mainItems      // its items, from the last whole compile; nil: every item is kept
	top     []item          // topLevelItems(src); nil: not scanned yet
	roots   recordReach     // what reach was found from, by local type

	// A compile of the body of function fn: what the whole text reached (wholeFor).
	fn    string
	whole *wholeClosure
}

// maxLast bounds the files whose last compile a Cache keeps.
const maxLast = 64

func (c *Cache) remember(path string, l *lastCompile) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.last[path]; !ok && len(c.last) >= maxLast {
		for k := range c.last {
			delete(c.last, k)
			break
		}
	}
	c.last[path] = l
}

// reuse compiles u from its file's last compile when the edit lies inside one function
// body (see the top of this file); ok is false when it does not apply.
func (c *Cache) reuse(ctx context.Context, u *unit) (res *Result, next *lastCompile, ok bool) {
	c.mu.Lock()
	last := c.last[u.path]
	c.mu.Unlock()
	if last == nil {
		return nil, nil, false
	}
	src := mainSource(u.src)
	if len(src) < len(u.src) || !bytes.Equal(src[:len(u.src)], u.src) || bytes.Contains(src, []byte("__COUNTER__")) {
		return nil, nil, false // the front end's rewrites moved text: offsets would not map
	}
	old := last.src
	pre, suf := changed(old, src)
	if pre == len(old) && len(old) == len(src) {
		return nil, nil, false // unchanged: nothing to splice
	}
	ed := edit{path: u.path, pre: pre, oldEnd: len(old) - suf, delta: len(src) - len(old), lines: newLineTable(src)}
	if !plainEdit(old, pre, ed.oldEnd) || !plainEdit(src, pre, len(src)-suf) {
		return nil, nil, false
	}
	items := editedItems(last.top, src, ed)
	fItem := -1
	for i, it := range items {
		if it.bodyStart >= 0 && it.bodyStart <= pre && len(src)-suf <= it.bodyEnd {
			fItem = i
			break
		}
	}
	if fItem < 0 {
		return nil, nil, false
	}
	byBody := map[span]*funcSummary{}
	for _, s := range last.sums {
		byBody[s.body] = s
	}
	oldBody := func(it item) span { // the body's span in the old text
		s, e := it.bodyStart-1, it.bodyEnd+1
		if s >= len(src)-suf {
			s -= ed.delta
		}
		if e > len(src)-suf {
			e -= ed.delta
		}
		return span{s, e}
	}
	f := byBody[oldBody(items[fItem])]
	if f == nil || f.cond || !f.converged {
		return nil, nil, false
	}

	end, text := preambleText(u.src)
	if end > pre || !hasInclude(text) {
		return nil, nil, false
	}
	p, err := c.preamble(ctx, u, text)
	if err != nil || p != last.p {
		return nil, nil, false
	}

	// Every other body blanked, but those the cross-function passes read (conditions) and
	// those that declare externs (the file's externs come from this compile). A function
	// the edited one does not reach is blanked whole, signature too, and so is every
	// other item it does not reach (items.go): what they name costs declarations, and
	// their part of the result is the last compile's.
	candidates := make([]*itemCandidate, len(items))
	known := last.items
	if known == nil {
		known = &mainItems{} // every item but the functions is kept
	}
	for i, it := range items {
		switch {
		case i == fItem || it.start < end:
		case it.bodyStart < 0:
			if names, ok := known.names[string(src[it.start:it.end])]; ok {
				candidates[i] = &itemCandidate{declares: names}
			}
		default:
			s := byBody[oldBody(it)]
			if s == nil || s.cond || bytes.Contains(src[it.bodyStart:it.bodyEnd], []byte("extern")) {
				continue
			}
			candidates[i] = &itemCandidate{fn: s.name}
		}
	}
	use, pasted := neededItems(src, items, candidates, known, p.macros)
	blanked := append([]byte(nil), u.src...)
	bodiesOnly := blanked // the same text with every item but bodies kept, when some were blanked
	saved := 0
	var left map[string]bool // the names of the items blanked whole
	for i, it := range items {
		c := candidates[i]
		if c == nil || use[i] == itemWhole {
			continue
		}
		if use[i] == itemBlank && &bodiesOnly[0] == &blanked[0] {
			bodiesOnly = append([]byte(nil), blanked...)
		}
		if c.fn == "" {
			blankBody(blanked, it.start, it.end)
			saved += it.end - it.start
			if left == nil {
				left = map[string]bool{}
			}
			for _, n := range c.declares {
				left[n] = true
			}
			continue
		}
		if use[i] == itemBlank {
			blankBody(blanked, it.start, it.end)
		} else {
			blankBody(blanked, it.bodyStart, it.bodyEnd)
		}
		if &bodiesOnly[0] != &blanked[0] {
			blankBody(bodiesOnly, it.bodyStart, it.bodyEnd)
		}
		saved += it.bodyEnd - it.bodyStart
	}
	if saved*4 < len(src)-end {
		return nil, nil, false // most of the file is the function edited: compile it whole
	}

	if bytes.Contains(old[f.body.start:f.body.end], []byte("extern")) || bytes.Contains(src[items[fItem].bodyStart:items[fItem].bodyEnd], []byte("extern")) {
		return nil, nil, false // its externs are the file's
	}
	// The edited function's inherited guards keep their checks' local types too.
	var inherited []Relocation
	for _, g := range f.inherited {
		inherited = append(inherited, g.Check)
	}
	in := &reuseInputs{whole: u.src, defined: last.defined, reach: reachedRecords(inherited, maps.Clone(last.reach)), fn: f.name, params: f.params, rets: map[string]Provenance{}, callers: map[string][]string{}}
	in.body = span{items[fItem].bodyStart, items[fItem].bodyEnd}
	// The whole text outside the body is the last one's: what it gives the whole text's
	// closure is too, unless a directive in the body changed how its macros expand.
	if last.fn == f.name && slices.Equal(directives(old[f.body.start:f.body.end]), directives(src[in.body.start:in.body.end])) {
		in.lastWhole = last.whole
	}
	if in.inherited, ok = ed.guards(f.inherited); !ok {
		return nil, nil, false
	}
	in.sections = map[string]string{}
	for _, fn := range last.res.Funcs {
		in.sections[fn.Name] = fn.Section
	}
	for _, s := range last.sums {
		if s.name == f.name {
			continue
		}
		if s.hasRet {
			in.rets[s.name] = s.ret
		}
		for _, callee := range s.callees {
			in.callers[callee] = append(in.callers[callee], s.name)
		}
	}
	v := *u
	v.src = blanked
	got, out, p2, err := c.compileUnit(ctx, &v, end, text, in)
	if err == nil && out == nil && got.HasErrors() && &bodiesOnly[0] != &blanked[0] && (mayBeUndeclared(got.Diagnostics) || mentionsAny(got.Diagnostics, left) || pasted && len(left) > 0) {
		// An error may be for an item blanked whole (a function a macro of f's calls, a
		// name only token pasting makes): the text with every item says which errors
		// are f's own. (A typedef f names is kept: a syntax error cannot come of one
		// missing, unless its name is pasted.)
		v.src = bodiesOnly
		got, out, p2, err = c.compileUnit(ctx, &v, end, text, in)
	}
	if err == nil && p2 == p && out == nil && got.HasErrors() {
		res, ok = c.reuseRecovered(ctx, u, items[fItem], ed.lines, got, p)
		return res, nil, ok
	}
	if err != nil || out == nil || p2 != p || len(got.Diagnostics) > 0 {
		return nil, nil, false
	}
	var nf *funcSummary
	for _, s := range out.funcs {
		if s.name == f.name {
			nf = s
		}
	}
	if nf == nil || nf.body != (span{items[fItem].bodyStart - 1, items[fItem].bodyEnd + 1}) || !ed.sameGifts(f, nf) {
		return nil, nil, false
	}
	// The compile had the declarations the blanked text reaches; its relocations' local
	// types must be those of the whole text's: the last compile's for the same root, whose
	// records are complete as before (checked), or its own when they agree.
	// A record of the main file blanked would show incomplete where the whole text has it
	// complete: counted as defined, an incomplete one is refused.
	trimmed := len(left) > 0 && &v.src[0] == &blanked[0] // not redone with every item
	defined := in.definedNow
	if trimmed {
		defined = maps.Clone(defined)
		if defined == nil {
			defined = map[string]bool{}
		}
		for n := range left {
			defined[n] = true
		}
	}
	if !wholeLocals(got, f.name, last.res, defined, in.cut, p.definesRecord) {
		return nil, nil, false
	}

	res, ok = ed.splice(last.res, got, f.name, last.sums)
	if !ok {
		return nil, nil, false
	}
	if trimmed {
		c.stats.trimmed.Add(1)
	}
	// The file-level declarations are as they were; the compile's externs have its own
	// declarations' types.
	if res.Externs, ok = movedEach(last.res.Externs, ed.extern); !ok {
		return nil, nil, false
	}
	next = &lastCompile{src: src, p: p, res: res, sums: make([]*funcSummary, len(last.sums)), defined: out.defined,
		items: last.items, top: items, fn: f.name, whole: in.wholeDecls}
	next.reach, next.roots = last.roots.reached(res.Relocations)
	reachedExterns(res.Externs, next.reach)
	for i, s := range last.sums {
		if s.name == f.name {
			next.sums[i] = nf
			continue
		}
		if next.sums[i], ok = ed.summary(s); !ok {
			return nil, nil, false
		}
	}
	c.prepareRecovery(u, items[fItem], p)
	return res, next, true
}

// changed is how the texts differ: the length of their common prefix, and of their
// common suffix after it.
func changed(old, src []byte) (pre, suf int) {
	for pre < len(old) && pre < len(src) && old[pre] == src[pre] {
		pre++
	}
	for suf < len(old)-pre && suf < len(src)-pre && old[len(old)-1-suf] == src[len(src)-1-suf] {
		suf++
	}
	return pre, suf
}

// editedItems is topLevelItems(src) for the text of an edit of the text whose items were
// old (nil: not known). When the edit lies inside one function's body and that function,
// scanned again, ends where it did, shifted, nothing else was read differently: the other
// items are the old ones, those after the edit shifted. Otherwise src is scanned whole.
func editedItems(old []item, src []byte, ed edit) []item {
	k := slices.IndexFunc(old, func(it item) bool {
		return it.bodyStart >= 0 && it.bodyStart <= ed.pre && ed.oldEnd <= it.bodyEnd
	})
	if k < 0 || old[k].start >= len(src) || src[old[k].start] == '#' {
		return topLevelItems(src) // '#': an item's start only when not first on its line
	}
	shift := func(off int) int {
		if off < 0 {
			return off
		}
		return off + ed.delta
	}
	o := old[k]
	edited := item{start: o.start, end: shift(o.end), bodyStart: o.bodyStart, bodyEnd: shift(o.bodyEnd)}
	if again := scanItems(src, o.start, 1); len(again) != 1 || again[0] != edited {
		return topLevelItems(src)
	}
	out := make([]item, len(old))
	copy(out, old[:k])
	out[k] = edited
	for i := k + 1; i < len(old); i++ {
		it := old[i]
		out[i] = item{start: shift(it.start), end: shift(it.end), bodyStart: shift(it.bodyStart), bodyEnd: shift(it.bodyEnd)}
	}
	return out
}

// plainEdit reports whether replacing src[start:end] cannot change how the rest of the
// file is read: no directive, comment delimiter or line splice in or next to it.
func plainEdit(src []byte, start, end int) bool {
	s, e := max(start-1, 0), min(end+1, len(src))
	t := src[s:e]
	return !bytes.ContainsAny(t, "#\\") && !bytes.Contains(t, []byte("/*")) && !bytes.Contains(t, []byte("*/"))
}

// blankBody blanks a function body's inside, keeping newlines and preprocessor directives
// (a macro defined in one body is used in the next). The blank stretches between
// directives become block comments of the same length: positions hold, and cc scans a
// comment several times faster than the same run of spaces (1.3 of 6 ms a profiler edit).
func blankBody(src []byte, start, end int) {
	lineStart := false
	from := start // the stretch since the last directive
	lastNL := -1
	for i := start; i < end; i++ {
		c := src[i]
		switch {
		case c == '\n':
			lineStart = true
			lastNL = i
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			continue
		case c == '#' && lineStart:
			// The comment ends before the directive's line: a comment running into it
			// would hide the directive.
			asComment(src, from, lastNL)
			i = directiveEnd(src[:end], i)
			from = i + 1
			lineStart = true
			continue
		case c == '/' && i+1 < end && src[i+1] == '*':
			stop := blockCommentEnd(src[:end], i)
			if stop < 0 {
				stop = end
			}
			blank(src, i, stop)
			i = stop - 1
			lineStart = false
			continue
		case c == '/' && i+1 < end && src[i+1] == '/':
			j := i
			for j < end && src[j] != '\n' {
				j++
			}
			blank(src, i, j)
			i = j - 1
			continue
		case c == '"' || c == '\'':
			j := min(literalEnd(src[:end], i)+1, end)
			blank(src, i, j)
			i = j - 1
			lineStart = false
			continue
		}
		lineStart = false
		src[i] = ' '
	}
	asComment(src, from, end)
}

// asComment makes the blank src[start:end] a block comment, when it has room for one:
// its delimiters go where two blanks that are not newlines follow each other, the newlines
// stay where they are.
func asComment(src []byte, start, end int) {
	open := func(i int) bool { return src[i] != '\n' && src[i+1] != '\n' }
	for start+1 < end && !open(start) {
		start++
	}
	for end-2 >= start && !open(end-2) {
		end--
	}
	if end-start >= 4 {
		src[start], src[start+1], src[end-2], src[end-1] = '/', '*', '*', '/'
	}
}

// edit maps positions of the last compile's main file to the new text: [pre, oldEnd) was
// replaced, and what follows moved by delta.
type edit struct {
	path        string
	pre, oldEnd int
	delta       int
	lines       lineTable // the new text's
}

func (e *edit) pos(p *Position) bool {
	if p.File != e.path || p.Offset < e.pre {
		return true
	}
	if p.Offset < e.oldEnd {
		return false // inside the replaced text
	}
	*p = e.lines.position(e.path, p.Offset+e.delta)
	return true
}

func (e *edit) rng(r *Range) bool { return e.pos(&r.Start) && e.pos(&r.End) }

func (e *edit) reloc(r Relocation) (Relocation, bool) {
	ok := e.rng(&r.Range) && e.rng(&r.Stmt)
	var g bool
	r.Guards, g = e.guards(r.Guards)
	return r, ok && g
}

func (e *edit) guards(gs []Guard) ([]Guard, bool) {
	return movedEach(gs, func(g *Guard) (ok bool) {
		g.Check, ok = e.reloc(g.Check)
		return ok
	})
}

func (e *edit) relocIn(r *Relocation) bool {
	m, ok := e.reloc(*r)
	*r = m
	return ok
}

func (e *edit) probeRead(p *ProbeRead) bool {
	ok := e.pos(&p.Pos) && e.rng(&p.Call)
	for i := range p.Args {
		ok = ok && e.rng(&p.Args[i])
	}
	p.Unpreserved = slices.Clone(p.Unpreserved)
	for i := range p.Unpreserved {
		ok = ok && e.rng(&p.Unpreserved[i].Range)
	}
	if p.Into != nil {
		into := *p.Into
		ok = ok && e.rng(&into.Dst) && e.rng(&into.Base)
		p.Into = &into
	}
	return ok
}

func (e *edit) directRead(d *DirectRead) bool {
	return e.rng(&d.Range) && e.rng(&d.Member) && e.rng(&d.Base)
}

func (e *edit) pointer(p *PointerVar) bool {
	ok := e.rng(&p.Decl)
	p.Uses = slices.Clone(p.Uses)
	for i := range p.Uses {
		ok = ok && e.rng(&p.Uses[i])
	}
	return ok
}

func (e *edit) fn(f *Func) bool { return e.rng(&f.Range) && e.rng(&f.Body) }

// moved is r with every position moved past the edit; false when one lies in the text
// replaced.
func (e *edit) moved(r *Result) (*Result, bool) {
	out := *r
	var ok [7]bool
	out.Relocations, ok[0] = movedEach(r.Relocations, e.relocIn)
	out.Externs, ok[1] = movedEach(r.Externs, e.extern)
	out.Diagnostics, ok[2] = movedEach(r.Diagnostics, func(d *Diagnostic) bool { return e.rng(&d.Range) })
	out.Funcs, ok[3] = movedEach(r.Funcs, e.fn)
	out.ProbeReads, ok[4] = movedEach(r.ProbeReads, e.probeRead)
	out.DirectReads, ok[5] = movedEach(r.DirectReads, e.directRead)
	out.Pointers, ok[6] = movedEach(r.Pointers, e.pointer)
	return &out, !slices.Contains(ok[:], false)
}

func (e *edit) extern(x *Extern) bool { return e.rng(&x.Range) }

// movedEach is a copy of xs (nil for nil) with move applied to each; false when one
// cannot be moved.
func movedEach[T any](xs []T, move func(*T) bool) ([]T, bool) {
	out := slices.Clone(xs)
	for i := range out {
		if !move(&out[i]) {
			return nil, false
		}
	}
	return out, true
}

// summary is s with its positions moved.
func (e *edit) summary(s *funcSummary) (*funcSummary, bool) {
	n := *s
	if n.body.start >= e.oldEnd {
		n.body = span{n.body.start + e.delta, n.body.end + e.delta}
	} else if n.body.end > e.pre {
		return nil, false
	}
	var ok bool
	if n.inherited, ok = e.guards(s.inherited); !ok {
		return nil, false
	}
	if n.sites, ok = e.sites(s.sites); !ok {
		return nil, false
	}
	return &n, true
}

// sites are call sites with their guards' positions moved.
func (e *edit) sites(sites []guardSite) ([]guardSite, bool) {
	return movedEach(sites, func(s *guardSite) (ok bool) {
		s.guards, ok = e.guards(s.guards)
		return ok
	})
}

// sameGifts reports whether the edited function gives the others what it gave them.
func (e *edit) sameGifts(old, cur *funcSummary) bool {
	if !cur.converged || cur.cond || !slices.Equal(old.callees, cur.callees) || !slices.Equal(old.callbacks, cur.callbacks) ||
		old.hasRet != cur.hasRet || old.ret != cur.ret || !slices.Equal(old.gives, cur.gives) || len(old.sites) != len(cur.sites) {
		return false
	}
	moved, ok := e.sites(old.sites)
	if !ok {
		return false
	}
	for i, s := range moved {
		if s.callee != cur.sites[i].callee || !sameGuards(s.guards, cur.sites[i].guards) {
			return false
		}
	}
	return true
}

func sameGuards(a, b []Guard) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Want != b[i].Want || !sameReloc(a[i].Check, b[i].Check) {
			return false
		}
	}
	return true
}

// sameReloc compares what a guard's check is and where; its local type is the same
// declaration's in both compiles.
func sameReloc(a, b Relocation) bool {
	return a.Kind == b.Kind && a.Type == b.Type && a.Access == b.Access && a.Range == b.Range && a.Macro == b.Macro &&
		a.Func == b.Func && a.Section == b.Section && slices.Equal(a.Path, b.Path) && a.Layout == b.Layout && a.Stmt == b.Stmt &&
		len(a.Guards) == 0 && len(b.Guards) == 0
}

// splice is the last result with fn's part taken from cur (the compile with the other
// bodies blanked) and the rest moved past the edit. Lists keep a whole compile's order:
// by place, then by function, then as walked.
func (e *edit) splice(last, cur *Result, fn string, sums []*funcSummary) (*Result, bool) {
	res := *cur
	index := map[string]int{}
	for i, s := range sums {
		index[s.name] = i
	}
	s := splicer{fn: fn, index: index, main: e.path}
	ok := true
	res.Relocations = merged(s, last.Relocations, cur.Relocations, func(r *Relocation) (string, string, int) {
		return r.Func, r.Range.Start.File, r.Range.Start.Offset
	}, e.relocIn, &ok)
	res.Facts.ProbeReads = merged(s, last.ProbeReads, cur.ProbeReads, func(p *ProbeRead) (string, string, int) {
		return p.Func, e.path, p.Pos.Offset
	}, e.probeRead, &ok)
	res.Facts.DirectReads = merged(s, last.DirectReads, cur.DirectReads, func(d *DirectRead) (string, string, int) {
		return d.Func, e.path, d.Range.Start.Offset
	}, e.directRead, &ok)
	// Pointers are listed by function, as walked: all at one place.
	res.Facts.Pointers = merged(s, last.Pointers, cur.Pointers, func(p *PointerVar) (string, string, int) {
		return p.Func, e.path, 0
	}, e.pointer, &ok)

	res.Facts.Funcs = make([]Func, 0, len(last.Funcs))
	for _, f := range last.Funcs {
		if f.Name == fn {
			i := slices.IndexFunc(cur.Funcs, func(g Func) bool { return g.Name == fn })
			if i < 0 {
				return nil, false
			}
			f = cur.Funcs[i]
		} else {
			ok = ok && e.fn(&f)
		}
		res.Facts.Funcs = append(res.Facts.Funcs, f)
	}
	return &res, ok
}

// splicer says which function's items come from which compile.
type splicer struct {
	fn    string         // the function compiled
	index map[string]int // the main file's functions, in order
	main  string
}

// fromLast: the items of a main-file function other than the one compiled are the last
// result's.
func (s splicer) fromLast(f string) bool { _, ok := s.index[f]; return ok && f != s.fn }

// rank orders functions as a whole compile lists their items: the main file's in their
// order, then the headers'.
func (s splicer) rank(f string) int {
	if i, ok := s.index[f]; ok {
		return i
	}
	return len(s.index)
}

// merged is the last list's items of the functions not compiled, each moved by move, and
// the new list's others, in a whole compile's order: by file (the main file first),
// place, function rank, then as listed. place says whose an item is and where. ok is
// cleared when an item cannot be moved.
func merged[T any](s splicer, last, cur []T, place func(*T) (fn, file string, off int), move func(*T) bool, ok *bool) []T {
	type keyed struct {
		v         T
		file      string
		off, rank int
	}
	var items []keyed
	for _, v := range last {
		if f, _, _ := place(&v); s.fromLast(f) {
			*ok = *ok && move(&v)
			_, file, off := place(&v)
			items = append(items, keyed{v, file, off, s.rank(f)})
		}
	}
	for _, v := range cur {
		if f, file, off := place(&v); !s.fromLast(f) {
			items = append(items, keyed{v, file, off, s.rank(f)})
		}
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if a.file != b.file {
			return fileBefore(a.file, b.file, s.main)
		}
		if a.off != b.off {
			return a.off < b.off
		}
		return a.rank < b.rank
	})
	var out []T
	for _, it := range items {
		out = append(out, it.v)
	}
	return out
}

// recordReach is, by local type, the records and enums it reaches. A reused compile keeps
// the other functions' relocations with their local types (the same values): only the
// edited function's new ones are walked. Roots reaching the same names share one list,
// added once: the local types of one root made by successive compiles are distinct values.
type recordReach struct {
	byType map[btf.Type]*reachList
	lists  map[string]*reachList // by its names, sorted and joined
}

type reachList struct {
	key   string // names joined
	names []string
}

// reached is reachedRecords of relocs, with what was found for the next.
func (m recordReach) reached(relocs []Relocation) (map[string]bool, recordReach) {
	out, next := map[string]bool{}, recordReach{byType: map[btf.Type]*reachList{}, lists: map[string]*reachList{}}
	added := map[*reachList]bool{}
	root := func(t btf.Type) {
		if _, done := next.byType[t]; done || t == nil {
			return
		}
		l := m.byType[t]
		if l == nil {
			names := slices.Sorted(maps.Keys(reachedRecords([]Relocation{{Local: t}}, nil)))
			key := strings.Join(names, " ")
			if l = next.lists[key]; l == nil {
				if l = m.lists[key]; l == nil {
					l = &reachList{key, names}
				}
			}
		}
		next.byType[t] = l
		next.lists[l.key] = l
		if !added[l] {
			added[l] = true
			for _, n := range l.names {
				out[n] = true
			}
		}
	}
	for _, r := range relocs {
		root(r.Local)
		for _, g := range r.Guards {
			root(g.Check.Local)
		}
	}
	return out, next
}

// reachedRecords adds to out (made when nil) the names of the records and enums the local
// types of relocs (and of their guards' checks) reach.
func reachedRecords(relocs []Relocation, out map[string]bool) map[string]bool {
	if out == nil {
		out = map[string]bool{}
	}
	seen := map[btf.Type]bool{}
	var walk func(t btf.Type)
	walk = func(t btf.Type) {
		if t == nil || seen[t] {
			return
		}
		seen[t] = true
		switch t.(type) {
		case *btf.Struct, *btf.Union, *btf.Fwd, *btf.Enum:
			out[t.TypeName()] = true
		}
		for _, c := range typeChildren(t) {
			walk(c)
		}
	}
	for _, r := range relocs {
		walk(r.Local)
		for _, g := range r.Guards {
			walk(g.Check.Local)
		}
	}
	return out
}

// typeChildren are the types t refers to.
func typeChildren(t btf.Type) []btf.Type {
	switch v := t.(type) {
	case *btf.Struct:
		out := make([]btf.Type, len(v.Members))
		for i, m := range v.Members {
			out[i] = m.Type
		}
		return out
	case *btf.Union:
		out := make([]btf.Type, len(v.Members))
		for i, m := range v.Members {
			out[i] = m.Type
		}
		return out
	case *btf.Pointer:
		return []btf.Type{v.Target}
	case *btf.Typedef:
		return []btf.Type{v.Type}
	case *btf.Array:
		return []btf.Type{v.Type, v.Index}
	case *btf.Const:
		return []btf.Type{v.Type}
	case *btf.Volatile:
		return []btf.Type{v.Type}
	case *btf.Restrict:
		return []btf.Type{v.Type}
	case *btf.TypeTag:
		return []btf.Type{v.Type}
	case *btf.FuncProto:
		out := []btf.Type{v.Return}
		for _, p := range v.Params {
			out = append(out, p.Type)
		}
		return out
	case *btf.Func:
		return []btf.Type{v.Type}
	}
	return nil
}

// reachedExterns adds the records the externs' types reach to out.
func reachedExterns(externs []Extern, out map[string]bool) {
	var rs []Relocation
	for _, x := range externs {
		rs = append(rs, Relocation{Local: x.Local})
	}
	reachedRecords(rs, out)
}

// wholeLocals gives the relocations of fn in cur (and their guards' checks) the local
// types a compile with all of the file's declarations gives them: the last compile's type
// of the same root, or their own when every record it reaches is complete exactly when
// the whole file's declarations (defined) define it, and none was cut down (cut).
func wholeLocals(cur *Result, fn string, last *Result, defined map[string]bool, cut map[string]*slimPlan, headerRecord func(string) bool) bool {
	roots := map[string]btf.Type{}
	for _, r := range last.Relocations {
		addRoot(roots, r.Local)
		for _, g := range r.Guards {
			addRoot(roots, g.Check.Local)
		}
	}
	fix := func(r *Relocation) bool {
		if r.Local == nil {
			return true
		}
		if t, ok := roots[rootKey(r.Local)]; ok && rootKey(r.Local) != "" {
			r.Local = t
			return true
		}
		return agrees(r.Local, defined, cut, headerRecord)
	}
	for i := range cur.Relocations {
		r := &cur.Relocations[i]
		if r.Func != fn {
			continue
		}
		if !fix(r) {
			return false
		}
		if len(r.Guards) > 0 {
			r.Guards = slices.Clone(r.Guards)
			for j := range r.Guards {
				if !fix(&r.Guards[j].Check) {
					return false
				}
			}
		}
	}
	return true
}

func addRoot(roots map[string]btf.Type, t btf.Type) {
	if k := rootKey(t); k != "" {
		if _, ok := roots[k]; !ok {
			roots[k] = t
		}
	}
}

// rootKey names a relocation's root type: a record complete or not by its tag, anything
// else by its kind and name; "" for a type without a name.
func rootKey(t btf.Type) string {
	if t == nil || t.TypeName() == "" {
		return ""
	}
	switch v := t.(type) {
	case *btf.Struct:
		return "struct " + v.Name
	case *btf.Union:
		return "union " + v.Name
	case *btf.Fwd:
		if v.Kind == btf.FwdUnion {
			return "union " + v.Name
		}
		return "struct " + v.Name
	}
	return fmt.Sprintf("%T %s", t, t.TypeName())
}

// agrees reports whether every named record t reaches is complete exactly when defined
// says its definition is there (or, for the main file's own records, always), and whole:
// not one of the records cut down.
func agrees(t btf.Type, defined map[string]bool, cut map[string]*slimPlan, headerRecord func(string) bool) bool {
	ok := true
	seen := map[btf.Type]bool{}
	var walk func(t btf.Type)
	walk = func(t btf.Type) {
		if t == nil || seen[t] || !ok {
			return
		}
		seen[t] = true
		switch v := t.(type) {
		case *btf.Struct, *btf.Union:
			if n := t.TypeName(); n != "" && (!defined[n] && headerRecord(n) || cut[n] != nil) {
				ok = false
			}
		case *btf.Enum:
			if n := t.TypeName(); n != "" && cut[n] != nil {
				ok = false
			}
		case *btf.Fwd:
			ok = ok && !defined[v.Name]
		}
		for _, c := range typeChildren(t) {
			walk(c)
		}
	}
	walk(t)
	return ok
}

// fileLevelFacts reports whether the main file has relocations or reads outside its
// functions (in a global's initializer): those come from the compile of one function too,
// so it needs every item.
func fileLevelFacts(res *Result, path string, sums []*funcSummary) bool {
	fns := map[string]bool{}
	for _, s := range sums {
		fns[s.name] = true
	}
	outside := func(fn, file string) bool { return file == path && !fns[fn] }
	for _, r := range res.Relocations {
		if outside(r.Func, r.Range.Start.File) {
			return true
		}
	}
	for _, p := range res.ProbeReads {
		if outside(p.Func, p.Pos.File) {
			return true
		}
	}
	for _, d := range res.DirectReads {
		if outside(d.Func, d.Range.Start.File) {
			return true
		}
	}
	for _, p := range res.Pointers {
		if outside(p.Func, p.Decl.Start.File) {
			return true
		}
	}
	return false
}

// directives are the preprocessing directives of a text, in order.
func directives(b []byte) []string {
	var out []string
	for _, d := range directiveSpans(b) {
		out = append(out, string(b[d.start:d.end]))
	}
	return out
}
