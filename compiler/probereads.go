package compiler

import (
	"fmt"
	"sort"
	"strings"

	"modernc.org/cc/v4"
)

// Probe reads: calls of the probe-read helpers, with the accesses in their source
// argument whose offsets clang compiles in.

// probeReadIDs are the BPF helper numbers of the probe-read helpers (enum bpf_func_id).
var probeReadIDs = map[int64]string{
	4:   "bpf_probe_read",
	45:  "bpf_probe_read_str",
	112: "bpf_probe_read_user",
	113: "bpf_probe_read_kernel",
	114: "bpf_probe_read_user_str",
	115: "bpf_probe_read_kernel_str",
}

func isProbeReadName(name string) bool {
	for _, n := range probeReadIDs {
		if n == name {
			return true
		}
	}
	return false
}

// helperNumbers maps file-scope variables initialised with an integer constant (libbpf's
// helper declarations `static long (*bpf_probe_read_kernel)(...) = (void *) 113;`, the
// seed's `static int (*bpf_probe_read)(...) = (void *) 4;`) to that constant.
func (w *factWalker) helperNumbers() map[string]int64 {
	if w.helperIDs != nil {
		return w.helperIDs
	}
	w.helperIDs = map[string]int64{}
	for l := w.x.ast.TranslationUnit; l != nil; l = l.TranslationUnit {
		ed := l.ExternalDeclaration
		if ed.Case != cc.ExternalDeclarationDecl || ed.Declaration == nil {
			continue
		}
		for il := ed.Declaration.InitDeclaratorList; il != nil; il = il.InitDeclaratorList {
			id := il.InitDeclarator
			if id == nil || id.Declarator == nil || id.Initializer == nil || id.Initializer.Case != cc.InitializerExpr {
				continue
			}
			pt, ok := id.Declarator.Type().(*cc.PointerType)
			if !ok || pt.Elem().Kind() != cc.Function {
				continue
			}
			if v, ok := constInt(id.Initializer.AssignmentExpression); ok {
				w.helperIDs[id.Declarator.Name()] = v
			}
		}
	}
	return w.helperIDs
}

// probeHelper names the probe-read helper a call calls, or "".
func (w *factWalker) probeHelper(call *cc.PostfixExpression) string {
	name := calleeName(call.PostfixExpression)
	if name == "" {
		return ""
	}
	if id, ok := w.helperNumbers()[name]; ok {
		return probeReadIDs[id]
	}
	if isProbeReadName(name) {
		return name
	}
	return ""
}

func (w *factWalker) probeReads() []ProbeRead {
	var out []ProbeRead
	for _, fi := range w.order {
		if fi.def.CompoundStatement != nil {
			w.findProbeReads(fi, fi.def.CompoundStatement, false, &out)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Pos.Offset < out[j].Pos.Offset })
	return out
}

func (w *factWalker) findProbeReads(fi *fnInfo, n cc.Node, region bool, out *[]ProbeRead) {
	switch n := n.(type) {
	case nil:
		return
	case *cc.PostfixExpression:
		if n == nil {
			return
		}
		if n.Case == cc.PostfixExpressionCall {
			switch calleeName(n.PostfixExpression) {
			case "__builtin_choose_expr":
				if args := callArgs(n); len(args) == 3 {
					switch identName(args[2]) {
					case markerPreserveAccessIndex:
						w.findProbeReads(fi, args[1], true, out)
						return
					case markerOffsetof:
						return
					}
				}
			}
			if helper := w.probeHelper(n); helper != "" {
				if pr, ok := w.probeRead(fi, n, helper, region); ok {
					*out = append(*out, pr)
				}
			}
		}
	case *cc.UnaryExpression:
		if n == nil {
			return
		}
		switch n.Case {
		case cc.UnaryExpressionSizeofExpr, cc.UnaryExpressionSizeofType,
			cc.UnaryExpressionAlignofExpr, cc.UnaryExpressionAlignofType:
			return
		}
	case *cc.TypeName, *cc.DeclarationSpecifiers, *cc.SpecifierQualifierList, *cc.AbstractDeclarator:
		return
	}
	children(n, func(c cc.Node) { w.findProbeReads(fi, c, region, out) })
}

// probeRead describes one call. Calls produced by a header's macro (libbpf's
// BPF_PROBE_READ*, which are not CO-RE on purpose) are left out.
func (w *factWalker) probeRead(fi *fnInfo, call *cc.PostfixExpression, helper string, region bool) (ProbeRead, bool) {
	x := w.x
	args := callArgs(call)
	callee, ok := unparen(call.PostfixExpression).(*cc.PrimaryExpression)
	if len(args) != 3 || !ok {
		return ProbeRead{}, false
	}
	if _, _, ok := x.place(callee.Token); !ok && !x.userMacroAt(callee.Token) {
		return ProbeRead{}, false // from a header's macro
	}
	pr := ProbeRead{Helper: helper, Name: callee.Token.SrcStr(), Func: fi.name, Section: fi.fn.Programs, Region: region}
	if p := callee.Token.Position(); p.Offset <= len(x.src) {
		pr.Pos = x.lines.position(x.path, p.Offset)
	}
	if c, ok := x.realToken(callee.Token); ok {
		if rp, ok := x.realToken(call.Token2); ok && rp.End.Offset > c.Start.Offset {
			pr.Call = Range{c.Start, rp.End}
		}
	}
	for i, a := range args {
		if r, ok := x.faithful(a); ok {
			pr.Args[i] = r
		}
	}
	if !region {
		if p, ok := stripCasts(args[2]).(*cc.PostfixExpression); ok && p.Case == cc.PostfixExpressionCall &&
			calleeName(p.PostfixExpression) == "__builtin_choose_expr" {
			if a := callArgs(p); len(a) == 3 && identName(a[2]) == markerPreserveAccessIndex {
				pr.Region = true
			}
		}
	}
	w.unpreserved(args[2], region, &pr.Unpreserved)
	if len(pr.Unpreserved) > 0 {
		pr.Into = w.readInto(args)
	}
	return pr, true
}

// stripCasts removes parentheses and casts.
func stripCasts(e cc.ExpressionNode) cc.ExpressionNode {
	for {
		e = unparen(e)
		c, ok := e.(*cc.CastExpression)
		if !ok || c.Case != cc.CastExpressionCast {
			return e
		}
		e = c.CastExpression
	}
}

// unpreserved collects the accesses of records without preserve_access_index that an
// evaluated expression computes, outside __builtin_preserve_access_index.
func (w *factWalker) unpreserved(n cc.Node, region bool, out *[]FixedAccess) {
	switch n := n.(type) {
	case nil:
		return
	case *cc.PostfixExpression:
		if n == nil {
			return
		}
		switch n.Case {
		case cc.PostfixExpressionSelect, cc.PostfixExpressionPSelect, cc.PostfixExpressionIndex:
			if !region {
				if fa, ok := w.fixedAccess(n); ok {
					*out = append(*out, fa)
				}
			}
		case cc.PostfixExpressionCall:
			args := callArgs(n)
			switch calleeName(n.PostfixExpression) {
			case "__builtin_choose_expr":
				if len(args) == 3 {
					switch identName(args[2]) {
					case markerPreserveAccessIndex:
						w.unpreserved(args[1], true, out)
						return
					case markerOffsetof:
						return
					}
				}
			case "__builtin_preserve_field_info", "__builtin_preserve_type_info",
				"__builtin_preserve_enum_value", "__builtin_btf_type_id":
				return // relocated constants, not addresses
			}
		}
	case *cc.UnaryExpression:
		if n == nil {
			return
		}
		switch n.Case {
		case cc.UnaryExpressionSizeofExpr, cc.UnaryExpressionSizeofType,
			cc.UnaryExpressionAlignofExpr, cc.UnaryExpressionAlignofType:
			return
		}
	case *cc.TypeName, *cc.DeclarationSpecifiers, *cc.SpecifierQualifierList, *cc.AbstractDeclarator:
		return
	}
	children(n, func(c cc.Node) { w.unpreserved(c, region, out) })
}

// fixedAccess reports an access whose offset clang compiles in: a member of a record
// without preserve_access_index reached through a pointer, or a subscript of a pointer to
// such a record.
func (w *factWalker) fixedAccess(n *cc.PostfixExpression) (FixedAccess, bool) {
	x := w.x
	base := n.PostfixExpression
	var rt cc.Type
	member := ""
	switch n.Case {
	case cc.PostfixExpressionPSelect:
		rt = pointee(base.Type())
		if f := n.Field(); f != nil {
			member = f.Name()
		}
	case cc.PostfixExpressionSelect:
		if !throughPointer(base) {
			return FixedAccess{}, false
		}
		rt = base.Type()
		if f := n.Field(); f != nil {
			member = f.Name()
		}
	case cc.PostfixExpressionIndex:
		if _, isPtr := base.Type().(*cc.PointerType); !isPtr {
			return FixedAccess{}, false
		}
		rt, member = pointee(base.Type()), "[]"
	}
	if rt == nil || !isRecord(rt) || x.records.preserved(rt) {
		return FixedAccess{}, false
	}
	fa := FixedAccess{Record: recordKeyword(rt), Member: member, From: final(w.prov().memOf(n)), KernelHeader: x.kernelHeader(rt)}
	if r, ok := x.tokenRange(n.Token2); ok && n.Case != cc.PostfixExpressionIndex {
		fa.Range = r
	} else {
		fa.Range = x.rangeOf(n)
	}
	return fa, true
}

// pointee is the type a pointer (or an array, decaying) points to, or nil.
func pointee(t cc.Type) cc.Type {
	if t == nil {
		return nil
	}
	switch p := t.(type) {
	case *cc.PointerType:
		return p.Elem()
	case *cc.ArrayType:
		return p.Elem()
	}
	if a, ok := t.Undecay().(*cc.ArrayType); ok {
		return a.Elem()
	}
	return nil
}

// throughPointer reports whether a record value is reached through a pointer (`p->a.b`,
// `(*p).a`, `p[1].a`) rather than being a variable (`local.a`).
func throughPointer(e cc.ExpressionNode) bool {
	for {
		p, ok := unparen(e).(*cc.PostfixExpression)
		if !ok {
			u, ok := unparen(e).(*cc.UnaryExpression)
			return ok && u.Case == cc.UnaryExpressionDeref
		}
		switch p.Case {
		case cc.PostfixExpressionSelect:
			e = p.PostfixExpression
		case cc.PostfixExpressionPSelect:
			return true
		case cc.PostfixExpressionIndex:
			if _, isArr := p.PostfixExpression.Type().Undecay().(*cc.ArrayType); !isArr {
				return true
			}
			e = p.PostfixExpression
		default:
			return false
		}
	}
}

// recordKeyword names a record as C does: "struct sk_buff", "union u", or its typedef.
func recordKeyword(t cc.Type) string {
	name := recordName(t)
	switch t.Kind() {
	case cc.Struct:
		if name == "" {
			return "struct <anon>"
		}
		return "struct " + name
	case cc.Union:
		if name == "" {
			return "union <anon>"
		}
		return "union " + name
	}
	return t.String()
}

// accessOp is one step of an access chain written as C: `->name`, `.name`, `[i]`.
type accessOp struct {
	arrow bool
	text  string // "name" or "[3]"
	index bool
	field *cc.Field
	node  *cc.PostfixExpression
}

// chainOps decomposes `base->a.b->c[2]` into its root pointer and the steps from it, the
// root first. It fails for anything else (variable subscripts, a first step that is not a
// dereference).
func chainOps(e cc.ExpressionNode) (root cc.ExpressionNode, ops []accessOp, ok bool) {
	var rev []accessOp
	for {
		p, isPost := unparen(e).(*cc.PostfixExpression)
		if !isPost {
			break
		}
		done := false
		switch p.Case {
		case cc.PostfixExpressionSelect:
			f := p.Field()
			if f == nil {
				return nil, nil, false
			}
			if u, ok := unparen(p.PostfixExpression).(*cc.UnaryExpression); ok && u.Case == cc.UnaryExpressionDeref {
				rev = append(rev, accessOp{arrow: true, text: f.Name(), field: f, node: p})
				e, done = u.CastExpression, true
				break
			}
			rev = append(rev, accessOp{text: f.Name(), field: f, node: p})
			e = p.PostfixExpression
		case cc.PostfixExpressionPSelect:
			f := p.Field()
			if f == nil {
				return nil, nil, false
			}
			rev = append(rev, accessOp{arrow: true, text: f.Name(), field: f, node: p})
			e = p.PostfixExpression
			done = !isAccess(e)
		case cc.PostfixExpressionIndex:
			i, isConst := constInt(p.ExpressionList)
			if _, isArr := p.PostfixExpression.Type().Undecay().(*cc.ArrayType); !isArr || !isConst {
				return nil, nil, false
			}
			rev = append(rev, accessOp{text: fmt.Sprintf("[%d]", i), index: true, node: p})
			e = p.PostfixExpression
		default:
			done = true
		}
		if done {
			break
		}
	}
	if len(rev) == 0 || !rev[len(rev)-1].arrow {
		return nil, nil, false
	}
	for i := len(rev) - 1; i >= 0; i-- {
		ops = append(ops, rev[i])
	}
	return unparen(e), ops, true
}

// pathOf groups chain steps as BPF_CORE_READ's arguments: each `->` starts one.
func pathOf(ops []accessOp) []string {
	var out []string
	for _, op := range ops {
		switch {
		case op.arrow || len(out) == 0:
			out = append(out, op.text)
		case op.index:
			out[len(out)-1] += op.text
		default:
			out[len(out)-1] += "." + op.text
		}
	}
	return out
}

// readInto finds the BPF_CORE_READ_INTO shape of a probe read's arguments.
func (w *factWalker) readInto(args []cc.ExpressionNode) *ReadInto {
	x := w.x
	src := stripCasts(args[2])
	var chainExpr cc.ExpressionNode
	if u, ok := src.(*cc.UnaryExpression); ok && u.Case == cc.UnaryExpressionAddrof {
		chainExpr = u.CastExpression
	} else if isAccess(src) {
		if _, isArr := src.Type().Undecay().(*cc.ArrayType); isArr {
			chainExpr = src
		}
	}
	if chainExpr == nil {
		return nil
	}
	root, ops, ok := chainOps(chainExpr)
	if !ok {
		return nil
	}
	for _, op := range ops {
		if op.field != nil && op.field.IsBitfield() {
			return nil
		}
	}
	base, ok := x.faithful(root)
	if !ok {
		return nil
	}
	dst := stripCasts(args[0])
	dr, ok := x.faithful(dst)
	if !ok {
		return nil
	}
	into := &ReadInto{Dst: dr, Base: base, Path: pathOf(ops)}
	var size int64 = -1
	dt := dst.Type()
	if a, isArr := dt.Undecay().(*cc.ArrayType); isArr {
		into.DstAddr, size = true, a.Size()
	} else if a, isArr := dt.(*cc.ArrayType); isArr {
		into.DstAddr, size = true, a.Size()
	} else if p, isPtr := dt.(*cc.PointerType); isPtr && p.Elem().Kind() != cc.Void && !p.Elem().IsIncomplete() {
		size = p.Elem().Size()
	}
	if into.DstAddr && strings.ContainsAny(x.textOf(dr), "+-*/?:,") {
		return nil // `&` of something that is not a plain name
	}
	if n, ok := constInt(args[1]); !ok || size < 0 || n != size {
		return nil
	}
	return into
}

func (x *extractor) textOf(r Range) string {
	if r.Start.Offset < 0 || r.End.Offset > len(x.src) || r.Start.Offset > r.End.Offset {
		return ""
	}
	return string(x.src[r.Start.Offset:r.End.Offset])
}

// userMacroAt reports whether t comes from the expansion of a macro defined in the main
// file: cc/v4 places such a token at the macro's name.
func (x *extractor) userMacroAt(t cc.Token) bool {
	p := t.Position()
	if p.Filename != x.path || p.Offset < 0 || p.Offset >= len(x.src) {
		return false
	}
	e := p.Offset
	for e < len(x.src) && isIdentByte(x.src[e]) {
		e++
	}
	m := x.ast.Macros[string(x.src[p.Offset:e])]
	return m != nil && m.Position().Filename == x.path
}
