package compiler

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"unsafe"

	"modernc.org/cc/v4"
	"modernc.org/token"
)

// extractor walks the function bodies of the main file and produces the relocation records
// clang's BPF backend would emit for them. The rules follow clang's code generation for
// BPF (CGExpr's preserve_*_access_index intrinsics) and LLVM's BPFAbstractMemberAccess:
//
//   - a member access (`.`, `->`) is preserved when its record carries
//     preserve_access_index or when it lies inside __builtin_preserve_access_index(...);
//   - a constant array subscript is preserved when its array is a preserved member (or
//     inside the builtin); a subscript of a pointer inside the builtin is the root index;
//   - `.` and constant subscripts continue a chain, `->` and any load start a new one,
//     whose root type is the pointee with typedefs and qualifiers stripped;
//   - operands of sizeof, _Alignof, typeof and __builtin_offsetof are not evaluated and
//     never relocate.
type extractor struct {
	ast     *cc.AST
	path    string
	src     []byte // the main file as cc scanned it
	lines   lineTable
	base    uintptr // address of the main file's text in cc's buffer; see tokenRange
	records *recordInfo
	btf     *btfBuilder

	// The file whose function is being walked: the main file, or a header (srcFile).
	cur   *srcFile
	files map[string]*srcFile
	read  func(path string) ([]byte, error) // a header's text as cc scanned it

	fn          string
	relocs      []Relocation
	walkedFuncs []*headerFunc // the header functions walked (see relocations)

	sections map[string]string          // function → SEC() from any of its declarations
	callers  map[string]map[string]bool // callee → callers, from the bodies walked
	diags    []Diagnostic

	// reuse, when set, is what the functions whose bodies were blanked give the one
	// compiled (reuse.go); summaries is what addFacts found each function gives the others,
	// when summarize asks for it (a Cache's compile: Compile has no use for them).
	reuse       *reuseInputs
	summarize   bool
	summaries   []*funcSummary
	headerNames map[string]bool // the functions defined in headers
}

// srcFile is a file whose function bodies are walked, with its text as cc scanned it.
type srcFile struct {
	path  string
	src   []byte
	lines lineTable
	base  uintptr // see tokenRange
}

// newExtractor prepares the walk of a translation unit whose main file is path. read gives
// the text of the headers whose functions are walked (nil: only the main file's are).
func newExtractor(ast *cc.AST, path string, src []byte, p *pragmaRanges, read func(string) ([]byte, error)) *extractor {
	x := &extractor{ast: ast, path: path, src: src, lines: newLineTable(src), records: newRecordInfo(ast, p), btf: newBTFBuilder(), read: read}
	main := &srcFile{path: path, src: src, lines: x.lines}
	x.files = map[string]*srcFile{path: main}
	x.cur = main
	return x
}

// headerFunc is what a function defined in a header contributes: its relocations and
// calls. clang compiles a header function like any other, so its relocations count once
// the function is emitted: always when it has external linkage, otherwise when a function
// that is emitted calls it (an unused static inline helper is dropped).
type headerFunc struct {
	name    string
	file    string
	root    bool // external linkage: emitted whether or not it is called
	section string
	calls   []string
	relocs  []Relocation // Section is set when linked
}

// relocations walks the main file's functions and the header functions (walked when the
// extractor can read headers, else given: a pruned compile takes them from its preamble).
func (x *extractor) relocations(given []*headerFunc) []Relocation {
	x.findBase()
	x.sections = map[string]string{}
	x.callers = map[string]map[string]bool{}
	for l := x.ast.TranslationUnit; l != nil; l = l.TranslationUnit {
		ed := l.ExternalDeclaration
		switch {
		case !x.walked(ed.Position().Filename):
		case ed.Case == cc.ExternalDeclarationFuncDef:
			fd := ed.FunctionDefinition
			if sec := sectionOf(fd.DeclarationSpecifiers, fd.Declarator); sec != "" {
				x.sections[fd.Declarator.Name()] = sec
			}
		case ed.Case == cc.ExternalDeclarationDecl && ed.Declaration != nil:
			// libbpf's BPF_KPROBE and friends put SEC() on a declaration before the body.
			d := ed.Declaration
			for il := d.InitDeclaratorList; il != nil; il = il.InitDeclaratorList {
				if id := il.InitDeclarator; id != nil && id.Declarator != nil && id.Declarator.Type() != nil && id.Declarator.Type().Kind() == cc.Function {
					if sec := sectionOf(d.DeclarationSpecifiers, id.Declarator, id.AttributeSpecifierList); sec != "" {
						x.sections[id.Declarator.Name()] = sec
					}
				}
			}
		}
	}
	if x.reuse != nil {
		x.reuse.addSections(x.sections)
	}
	for l := x.ast.TranslationUnit; l != nil; l = l.TranslationUnit {
		ed := l.ExternalDeclaration
		if ed.Case != cc.ExternalDeclarationFuncDef || ed.Position().Filename != x.path {
			continue
		}
		fd := ed.FunctionDefinition
		x.fn = fd.Declarator.Name()
		x.visit(fd.CompoundStatement, false)
	}
	funcs := given
	if x.read != nil {
		funcs = x.headerFunctions()
		x.walkedFuncs = funcs
	} else {
		for _, h := range given {
			if h.section != "" && x.sections[h.name] == "" {
				x.sections[h.name] = h.section
			}
			for _, c := range h.calls {
				if x.callers[c] == nil {
					x.callers[c] = map[string]bool{}
				}
				x.callers[c][h.name] = true
			}
		}
	}
	x.headerNames = map[string]bool{}
	for _, h := range funcs {
		x.headerNames[h.name] = true
	}
	if x.reuse != nil {
		x.reuse.addCallers(x.callers)
	}
	x.relocs = append(x.relocs, x.emitted(funcs)...)
	for i := range x.relocs {
		x.relocs[i].Section = x.programSections(x.relocs[i].Func)
	}
	sort.SliceStable(x.relocs, func(i, j int) bool {
		a, b := x.relocs[i].Range.Start, x.relocs[j].Range.Start
		if a.File != b.File {
			return fileBefore(a.File, b.File, x.path)
		}
		return a.Offset < b.Offset
	})
	return x.relocs
}

// walked reports whether the functions and SEC() declarations of a file are walked: the
// main file's always, real headers' when the extractor reads headers.
func (x *extractor) walked(file string) bool {
	return file == x.path || x.read != nil && file != "" && !strings.HasPrefix(file, "<")
}

// headerFunctions walks the functions defined in headers. It runs after the main file's
// walk, whose sections it completes.
func (x *extractor) headerFunctions() []*headerFunc {
	var out []*headerFunc
	for l := x.ast.TranslationUnit; l != nil; l = l.TranslationUnit {
		ed := l.ExternalDeclaration
		file := ed.Position().Filename
		if ed.Case != cc.ExternalDeclarationFuncDef || file == x.path || !x.walked(file) {
			continue
		}
		f := x.file(file)
		if f == nil {
			continue
		}
		fd := ed.FunctionDefinition
		h := &headerFunc{name: fd.Declarator.Name(), file: file, root: !fd.Declarator.IsStatic() && !fd.Declarator.IsInline()}
		saved := x.relocs
		x.relocs, x.cur, x.fn = nil, f, h.name
		x.visit(fd.CompoundStatement, false)
		h.relocs, x.relocs, x.cur = x.relocs, saved, x.files[x.path]
		out = append(out, h)
	}
	for _, h := range out {
		h.section = x.sections[h.name]
		for callee, callers := range x.callers {
			if callers[h.name] {
				h.calls = append(h.calls, callee)
			}
		}
		sort.Strings(h.calls)
	}
	return out
}

// file is the srcFile of a header, read once; nil when it cannot be read.
func (x *extractor) file(path string) *srcFile {
	if f, ok := x.files[path]; ok {
		return f
	}
	var f *srcFile
	if src, err := x.read(path); err == nil {
		f = &srcFile{path: path, src: src, lines: newLineTable(src)}
		f.base = x.findFileBase(f)
	}
	x.files[path] = f
	return f
}

// emitted returns the relocations of the header functions clang emits: those with external
// linkage and those called, directly or not, from an emitted function or from the main
// file (every main-file function counts: corels reports all of the file being edited).
func (x *extractor) emitted(funcs []*headerFunc) []Relocation {
	byName := map[string]*headerFunc{}
	for _, h := range funcs {
		byName[h.name] = h
	}
	reached := map[string]bool{}
	var queue []string
	reach := func(n string) {
		if !reached[n] {
			reached[n] = true
			queue = append(queue, n)
		}
	}
	for callee, callers := range x.callers {
		for caller := range callers {
			if _, inHeader := byName[caller]; !inHeader {
				reach(callee)
			}
		}
	}
	for _, h := range funcs {
		if h.root {
			reach(h.name)
		}
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if h := byName[n]; h != nil {
			for _, c := range h.calls {
				reach(c)
			}
		}
	}
	var out []Relocation
	for _, h := range funcs {
		if reached[h.name] {
			out = append(out, h.relocs...)
		}
	}
	return out
}

// programSections names the programs a function's code ends up in: its own SEC(), or
// those of the functions that call it (static helpers are inlined into their callers).
func (x *extractor) programSections(fn string) string {
	if sec := x.sections[fn]; sec != "" {
		return sec
	}
	seen := map[string]bool{fn: true}
	queue := []string{fn}
	var secs []string
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		for caller := range x.callers[f] {
			if seen[caller] {
				continue
			}
			seen[caller] = true
			if sec := x.sections[caller]; sec != "" {
				secs = append(secs, sec)
				continue
			}
			queue = append(queue, caller)
		}
	}
	sort.Strings(secs)
	return strings.Join(secs, ",")
}

// sectionOf returns the argument of __attribute__((section("..."))) (libbpf's SEC()).
func sectionOf(nodes ...cc.Node) (sec string) {
	for _, n := range nodes {
		inspect(n, func(n cc.Node) bool {
			if av, ok := n.(*cc.AttributeValue); ok && av.Case == cc.AttributeValueExpr {
				switch av.Token.SrcStr() {
				case "section", "__section__":
					if av.ArgumentExpressionList != nil {
						if s, ok := av.ArgumentExpressionList.AssignmentExpression.Value().(cc.StringValue); ok {
							sec = strings.TrimRight(string(s), "\x00")
						}
					}
				}
				return false
			}
			return sec == ""
		})
	}
	return sec
}

// visit walks an evaluated subtree; region is true inside __builtin_preserve_access_index.
func (x *extractor) visit(n cc.Node, region bool) {
	switch n := n.(type) {
	case nil:
		return
	case *cc.PostfixExpression:
		if n == nil {
			return
		}
		switch n.Case {
		case cc.PostfixExpressionSelect, cc.PostfixExpressionPSelect, cc.PostfixExpressionIndex:
			x.access(n, region, FieldByteOffset)
			return
		case cc.PostfixExpressionCall:
			if x.builtinCall(n, region) {
				return
			}
			if callee := calleeName(n.PostfixExpression); callee != "" {
				if x.callers[callee] == nil {
					x.callers[callee] = map[string]bool{}
				}
				x.callers[callee][x.fn] = true
			}
		case cc.PostfixExpressionComplit:
			x.visit(n.InitializerList, region)
			return
		}
	case *cc.UnaryExpression:
		if n == nil {
			return
		}
		switch n.Case {
		case cc.UnaryExpressionSizeofExpr, cc.UnaryExpressionSizeofType,
			cc.UnaryExpressionAlignofExpr, cc.UnaryExpressionAlignofType:
			return // not evaluated
		}
	case *cc.CastExpression:
		if n == nil {
			return
		}
		if n.Case == cc.CastExpressionCast {
			x.visit(n.CastExpression, region)
			return
		}
	case *cc.TypeName, *cc.DeclarationSpecifiers, *cc.SpecifierQualifierList, *cc.Declarator,
		*cc.AbstractDeclarator, *cc.AttributeSpecifierList:
		return // types: typeof() operands are not evaluated
	}
	children(n, func(c cc.Node) { x.visit(c, region) })
}

// step is one element of an access chain after the root index.
type step struct {
	index  int
	name   string // member name, or "[i]" for a subscript
	field  *cc.Field
	parent cc.Type // the record a member step selects from
	elem   cc.Type // subscript: the element type
	node   *cc.PostfixExpression
}

// chain is a preserved access chain: root pointer (or value) and the steps from it.
type chain struct {
	root      cc.ExpressionNode // the pointer (or struct value) the chain starts from
	rootType  cc.Type           // the record (or array) type at the root
	rootIndex int
	steps     []step
	index     *cc.PostfixExpression // a chain of a root index alone: the subscript
}

// access handles an access expression that is not continued by its parent: it emits the
// chain ending at n, if n is preserved, and visits what the chain does not cover.
func (x *extractor) access(n *cc.PostfixExpression, region bool, kind Kind) {
	c, ok := x.chainOf(n, region)
	if !ok {
		// Not preserved: visit the operands as ordinary expressions.
		switch n.Case {
		case cc.PostfixExpressionIndex:
			x.visit(n.PostfixExpression, region)
			x.visit(n.ExpressionList, region)
		default:
			x.visit(n.PostfixExpression, region)
		}
		return
	}
	x.emit(c, kind)
	x.visit(c.root, region)
	if c.rootIndex != 0 {
		if ix, ok := unparen(c.root).(*cc.PostfixExpression); ok {
			x.visit(ix.ExpressionList, region)
		}
	}
	for _, s := range c.steps {
		if s.elem != nil && s.node != nil {
			x.visit(s.node.ExpressionList, region)
		}
	}
}

// chainOf builds the preserved chain whose last step is n.
func (x *extractor) chainOf(n *cc.PostfixExpression, region bool) (chain, bool) {
	var rev []step // steps from n back towards the root
	cur := cc.ExpressionNode(n)
	for {
		p, ok := unparen(cur).(*cc.PostfixExpression)
		if !ok {
			break
		}
		switch p.Case {
		case cc.PostfixExpressionSelect:
			base := p.PostfixExpression
			rt := strip(base.Type())
			f := p.Field()
			if f == nil || !isRecord(rt) || !(region || x.records.preserved(rt)) {
				return x.finish(rev, nil, nil, 0)
			}
			rev = append(rev, x.memberSteps(rt, f, p)...)
			// `(*ptr).f` is `ptr->f`.
			if u, ok := unparen(base).(*cc.UnaryExpression); ok && u.Case == cc.UnaryExpressionDeref {
				return x.finish(rev, u.CastExpression, rt, 0)
			}
			// Inside the builtin, `ptr[i].f` with a constant i has root index i.
			if ix, ok := unparen(base).(*cc.PostfixExpression); ok && region && ix.Case == cc.PostfixExpressionIndex {
				if _, isPtr := strip(ix.PostfixExpression.Type()).Undecay().(*cc.PointerType); isPtr {
					if i, isConst := constInt(ix.ExpressionList); isConst {
						return x.finish(rev, ix.PostfixExpression, rt, int(i))
					}
				}
			}
			if isAccess(base) {
				cur = base
				continue
			}
			return x.finish(rev, base, rt, 0)
		case cc.PostfixExpressionPSelect:
			base := p.PostfixExpression
			pt, ok := strip(base.Type()).(*cc.PointerType)
			if !ok {
				return x.finish(rev, nil, nil, 0)
			}
			rt := strip(pt.Elem())
			f := p.Field()
			if f == nil || !isRecord(rt) || !(region || x.records.preserved(rt)) {
				return x.finish(rev, nil, nil, 0)
			}
			rev = append(rev, x.memberSteps(rt, f, p)...)
			// `ptr[i]->f` never happens; `(p + i)->f` is ordinary arithmetic.
			return x.finish(rev, base, rt, 0)
		case cc.PostfixExpressionIndex:
			base := p.PostfixExpression
			idx, isConst := constInt(p.ExpressionList)
			bt := strip(base.Type()).Undecay()
			switch t := bt.(type) {
			case *cc.ArrayType:
				if !isConst || !(region || x.preservedArrayBase(base)) {
					// The subscript is not part of the chain: a member of the element
					// (`entries[i].from`) starts a chain at the element.
					if len(rev) > 0 && rev[len(rev)-1].field != nil && isRecord(strip(t.Elem())) {
						return x.finish(rev, p, strip(t.Elem()), 0)
					}
					return x.finish(rev, nil, nil, 0)
				}
				rev = append(rev, step{index: int(idx), name: fmt.Sprintf("[%d]", idx), elem: t.Elem(), node: p})
				if isAccess(base) {
					cur = base
					continue
				}
				// A subscript of an array variable: the array is the root.
				return x.finish(rev, base, bt, 0)
			case *cc.PointerType:
				// Inside the builtin a constant subscript of a pointer to a record is the
				// root index of the chain that continues from it.
				if !region || !isConst || !isRecord(strip(t.Elem())) {
					return x.finish(rev, nil, nil, 0)
				}
				if len(rev) == 0 {
					// `&p[2]` alone: an access of the array of records p points to, whose
					// access string is the index alone ("2").
					return chain{root: base, rootType: strip(t.Elem()), rootIndex: int(idx), index: p}, true
				}
				return x.finish(rev, base, strip(t.Elem()), int(idx))
			}
			return x.finish(rev, nil, nil, 0)
		default:
			return x.finish(rev, nil, nil, 0)
		}
	}
	return chain{}, false
}

// finish completes a chain. When the walk stopped at a step that is not preserved
// (root == nil), the part collected so far is not a chain of its own: the preserved steps
// above an unpreserved one are ordinary address arithmetic in clang too, unless they begin
// a new chain, which the caller handles by visiting the base.
func (x *extractor) finish(rev []step, root cc.ExpressionNode, rootType cc.Type, rootIndex int) (chain, bool) {
	if root == nil || len(rev) == 0 {
		return chain{}, false
	}
	c := chain{root: root, rootType: rootType, rootIndex: rootIndex}
	for i := len(rev) - 1; i >= 0; i-- {
		c.steps = append(c.steps, rev[i])
	}
	return c, true
}

// preservedArrayBase reports whether a subscripted array is a member of a preserved record
// (clang's IsPreserveAIArrayBase): then a constant subscript continues the chain.
func (x *extractor) preservedArrayBase(base cc.ExpressionNode) bool {
	p, ok := unparen(base).(*cc.PostfixExpression)
	if !ok {
		return false
	}
	switch p.Case {
	case cc.PostfixExpressionSelect:
		return x.records.preserved(strip(p.PostfixExpression.Type()))
	case cc.PostfixExpressionPSelect:
		if pt, ok := strip(p.PostfixExpression.Type()).(*cc.PointerType); ok {
			return x.records.preserved(strip(pt.Elem()))
		}
	case cc.PostfixExpressionIndex:
		if _, ok := strip(p.PostfixExpression.Type()).Undecay().(*cc.ArrayType); ok {
			return x.preservedArrayBase(p.PostfixExpression)
		}
	}
	return false
}

// memberSteps returns the steps reaching f from record rt, last step first: a member of an
// anonymous struct/union member is reached through each anonymous level.
func (x *extractor) memberSteps(rt cc.Type, f *cc.Field, node *cc.PostfixExpression) []step {
	path := fieldPath(rt, f.Name())
	if path == nil {
		path = []*cc.Field{f}
	}
	out := make([]step, 0, len(path))
	for i := len(path) - 1; i >= 0; i-- {
		parent := rt
		if i > 0 {
			parent = path[i-1].Type()
		}
		s := step{index: x.records.memberIndex(parent, path[i]), name: path[i].Name(), field: path[i], parent: parent}
		if i == len(path)-1 {
			s.node = node
		}
		out = append(out, s)
	}
	return out
}

// fieldPath finds the member called name in record t, through anonymous members, and
// returns the fields from t down to it.
func fieldPath(t cc.Type, name string) []*cc.Field {
	if name == "" {
		return nil
	}
	for i := 0; i < numFields(t); i++ {
		g := fieldByIndex(t, i)
		if g.Name() == name {
			return []*cc.Field{g}
		}
		if g.Name() == "" && isRecord(g.Type()) {
			if sub := fieldPath(g.Type(), name); sub != nil {
				return append([]*cc.Field{g}, sub...)
			}
		}
	}
	return nil
}

func isAccess(e cc.ExpressionNode) bool {
	p, ok := unparen(e).(*cc.PostfixExpression)
	if !ok {
		return false
	}
	switch p.Case {
	case cc.PostfixExpressionSelect, cc.PostfixExpressionPSelect:
		return true
	case cc.PostfixExpressionIndex:
		_, isArr := strip(p.PostfixExpression.Type()).Undecay().(*cc.ArrayType)
		return isArr
	}
	return false
}

// unparen strips parentheses around a single expression.
func unparen(e cc.ExpressionNode) cc.ExpressionNode {
	for {
		switch p := e.(type) {
		case *cc.PrimaryExpression:
			if p.Case == cc.PrimaryExpressionExpr {
				if l, ok := p.ExpressionList.(*cc.ExpressionList); ok {
					if l.ExpressionList != nil {
						return e // comma expression
					}
					e = l.AssignmentExpression
					continue
				}
				e = p.ExpressionList
				continue
			}
		case *cc.ExpressionList:
			if p.ExpressionList == nil {
				e = p.AssignmentExpression
				continue
			}
		}
		return e
	}
}

func constInt(e cc.ExpressionNode) (int64, bool) {
	if e == nil {
		return 0, false
	}
	switch v := e.Value().(type) {
	case cc.Int64Value:
		return int64(v), true
	case cc.UInt64Value:
		return int64(v), true
	}
	return 0, false
}

// rootName is the root type's name as clang records it: the typedef name when the root
// pointer's pointee was written as a typedef (`task_t *`), else the tag.
func rootName(t cc.Type) string {
	if d := t.Typedef(); d != nil {
		return d.Name()
	}
	return recordName(t)
}

// strip removes qualifiers and typedefs. cc/v4 represents both on the type value itself,
// so only the type's identity matters here; it is returned unchanged.
func strip(t cc.Type) cc.Type { return t }

// emit records the relocation of a chain.
func (x *extractor) emit(c chain, kind Kind) {
	var acc strings.Builder
	fmt.Fprintf(&acc, "%d", c.rootIndex)
	r := Relocation{
		Kind:  kind,
		Type:  rootName(c.rootType),
		Func:  x.fn,
		Local: x.btf.typeOf(c.rootType),
	}
	off := int64(c.rootIndex) * c.rootType.Size()
	var bitOff int64
	var size, bitSize int64
	for _, s := range c.steps {
		fmt.Fprintf(&acc, ":%d", s.index)
		if s.field != nil {
			r.Path = append(r.Path, s.name)
			size = s.field.Type().Size()
			bitOff, bitSize = 0, 0
			if s.field.IsBitfield() {
				// A bitfield's byte offset is that of the unit a load of its type reads.
				bits := bitOffset(s.parent, s.field)
				unit := int64(8 * size)
				off += bits / unit * unit / 8
				bitOff = bits - bits/unit*unit
				bitSize = s.field.ValueBits()
			} else {
				off += s.field.Offset()
			}
		} else {
			r.Path = append(r.Path, s.name)
			off += int64(s.index) * s.elem.Size()
			size = s.elem.Size()
			bitOff, bitSize = 0, 0
		}
	}
	r.Access = acc.String()
	if len(c.steps) == 0 {
		size = c.rootType.Size()
	}
	r.Layout = Layout{Offset: off, Size: size, BitOffset: off*8 + bitOff, BitSize: bitSize}
	r.Range, r.Macro = x.chainRange(c)
	x.relocs = append(x.relocs, r)
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// chainRange is where a chain's relocation shows: the last member name, through the
// subscripts that follow it (`comm[1]`).
func (x *extractor) chainRange(c chain) (Range, string) {
	var r Range
	found := false
	macro := ""
	if len(c.steps) == 0 {
		// The subscript, `[2]`.
		open, ok1 := x.tokenRange(c.index.Token)
		closing, ok2 := x.tokenRange(c.index.Token2)
		if ok1 && ok2 {
			return Range{open.Start, closing.End}, ""
		}
		r := x.rangeOf(c.index)
		return r, x.macroAt(r)
	}
	for _, s := range c.steps {
		if s.node == nil {
			continue
		}
		var tr Range
		var ok bool
		switch s.node.Case {
		case cc.PostfixExpressionSelect, cc.PostfixExpressionPSelect:
			tr, ok = x.tokenRange(s.node.Token2)
			if ok {
				r, found, macro = tr, true, ""
			} else if tr, ok = x.macroUse(s.node.Token2); ok {
				// The member name came from a macro: show the macro's name.
				r, found, macro = tr, true, x.macroAt(tr)
			}
		case cc.PostfixExpressionIndex:
			if tr, ok = x.tokenRange(s.node.Token2); ok { // ']'
				if !found {
					if open, ok := x.tokenRange(s.node.Token); ok {
						r.Start = open.Start
					} else {
						r.Start = tr.Start
					}
				}
				r.End, found, macro = tr.End, true, ""
			}
		}
	}
	if !found {
		r := x.rangeOf(c.steps[len(c.steps)-1].node)
		return r, x.macroAt(r)
	}
	return r, macro
}

// macroUse is the range of the macro name a token was expanded from, when the token is not
// written in the file (cc/v4 gives it the position of the macro's use).
func (x *extractor) macroUse(t cc.Token) (Range, bool) {
	f := x.cur
	p := t.Position()
	if filepath.Clean(p.Filename) != f.path || p.Offset < 0 || p.Offset >= len(f.src) || !isIdentByte(f.src[p.Offset]) {
		return Range{}, false
	}
	end := p.Offset
	for end < len(f.src) && isIdentByte(f.src[end]) {
		end++
	}
	return Range{f.lines.position(f.path, p.Offset), f.lines.position(f.path, end)}, true
}

// macroAt names the macro whose expansion produced an access written in no token of the
// main file: rangeOf then returns the macro's name.
func (x *extractor) macroAt(r Range) string {
	f := x.cur
	if r.Start.File == "" || r.End.Offset > len(f.src) {
		return ""
	}
	return string(f.src[r.Start.Offset:r.End.Offset])
}

// tokenRange is the range of a token when its text lies in the main file.
//
// cc/v4 gives every token produced by a macro expansion the position of the macro's name,
// even tokens that come from the macro's arguments; but such a token's text still points
// into the buffer the main file was scanned into. Where that buffer starts is learned from
// a token that did not come through a macro (findBase), and a token's true offset is then
// the address of its text in that buffer.
func (x *extractor) tokenRange(t cc.Token) (Range, bool) {
	return x.cur.tokenRange(t)
}

func (f *srcFile) tokenRange(t cc.Token) (Range, bool) {
	s, e, ok := f.tokenOffsets(t, t.Position())
	if !ok {
		return Range{}, false
	}
	return Range{f.lines.position(f.path, s), f.lines.position(f.path, e)}, true
}

// tokenOffsets is tokenRange in byte offsets; pos is t's position.
func (f *srcFile) tokenOffsets(t cc.Token, pos token.Position) (start, end int, ok bool) {
	b := t.Src()
	if len(b) == 0 {
		return 0, 0, false
	}
	if f.base != 0 {
		p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
		if p >= f.base && p+uintptr(len(b)) <= f.base+uintptr(len(f.src)) {
			off := int(p - f.base)
			// A token of a macro defined in this file (`#define vm_flags vm_start`) has its
			// text in the #define and the position of the macro's use, after it: it is not
			// written where it is used. (A macro argument's text follows the macro's name.)
			if pos.Filename == f.path && off < pos.Offset {
				return 0, 0, false
			}
			return off, off + len(b), true
		}
		return 0, 0, false
	}
	// No base: trust positions that match the text.
	if pos.Filename != f.path || pos.Offset+len(b) > len(f.src) || string(f.src[pos.Offset:pos.Offset+len(b)]) != string(b) {
		return 0, 0, false
	}
	return pos.Offset, pos.Offset + len(b), true
}

// findBase finds the address of the main file's scanned text.
func (x *extractor) findBase() {
	x.base = x.findFileBase(x.files[x.path])
	x.files[x.path].base = x.base
}

// findFileBase finds the address of a file's scanned text. A token that did not come
// through a macro has its text at its position; tokens from macros may match by accident,
// so the address that most tokens agree on wins.
func (x *extractor) findFileBase(f *srcFile) uintptr {
	votes := map[uintptr]int{}
	// One function's body can hold most of the file's tokens, most of them from macros
	// (test_core_reloc_kernel.c's BPF_CORE_READ chains): the vote stops at 400 of the
	// file's tokens or 4000 tokens looked at.
	seen, looked := 0, 0
	enough := func() bool { return seen >= 400 || looked >= 4000 }
	for l := x.ast.TranslationUnit; l != nil && !enough(); l = l.TranslationUnit {
		ed := l.ExternalDeclaration
		if ed.Position().Filename != f.path {
			continue
		}
		inspect(ed, func(n cc.Node) bool {
			if enough() {
				return false
			}
			ownTokens(n, func(t cc.Token) {
				looked++
				b := t.Src()
				pos := t.Position()
				if len(b) == 0 || pos.Filename != f.path || pos.Offset+len(b) > len(f.src) || string(f.src[pos.Offset:pos.Offset+len(b)]) != string(b) {
					return
				}
				votes[uintptr(unsafe.Pointer(unsafe.SliceData(b)))-uintptr(pos.Offset)]++
				seen++
			})
			return true
		})
	}
	var base uintptr
	best := 0
	for b, n := range votes {
		if n > best || n == best && b < base {
			base, best = b, n
		}
	}
	return base
}

// rangeOf spans the tokens of n that lie in the main file (a macro call's arguments keep
// their positions; tokens from macro bodies point into the header).
func (x *extractor) rangeOf(n cc.Node) Range {
	var r Range
	found := false
	if n == nil {
		return r
	}
	tokens(n, func(t cc.Token) {
		tr, ok := x.tokenRange(t)
		if !ok {
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
	if !found {
		// Only tokens from a macro's body: they carry the position of the macro's name.
		f := x.cur
		p := n.Position()
		if filepath.Clean(p.Filename) == f.path && p.Offset < len(f.src) {
			end := p.Offset
			for end < len(f.src) && isIdentByte(f.src[end]) {
				end++
			}
			if end == p.Offset {
				end++
			}
			r = Range{f.lines.position(f.path, p.Offset), f.lines.position(f.path, end)}
		}
	}
	return r
}
