package compiler

import (
	"sort"

	"modernc.org/cc/v4"
)

// Guards: which CO-RE existence checks an access depends on.
//
// The loader patches bpf_core_field_exists(), bpf_core_type_exists(),
// bpf_core_enum_value_exists() and bpf_core_type_matches() with constants, and the verifier
// never looks at the branch a constant condition skips: a relocation that fails on a kernel
// is harmless there when a dominating check evaluates, on that kernel, to the value that
// skips it. The facts pass records, per function, the regions of the main file whose code
// runs only when some checks have given some values:
//
//   - `if (C) A else B`: A needs C true, B needs C false;
//   - `if (C) <exits>` (return, break, continue, goto, or a block/if-else that always
//     does): the rest of the enclosing block needs C false (and the mirror for else);
//   - `C ? A : B`, `C && A`, `C || A`, `while (C) A`, `for (; C; ) A`;
//
// where C is a check, `!C`, `C == 0`, `C != 0`, `C1 && C2` (true: both true), `C1 || C2`
// (false: both false), `__builtin_expect(C, v)`, a local variable initialised with C and
// never written again, or a call of an inline function whose body is `return C;`. A static
// function's code runs only from its call sites: it inherits the checks that hold at every
// one of them.
//
// Regions are byte ranges of the main file. A relocation lies in a region when its range
// starts inside it; a relocation written in a macro's body is placed at the macro's name,
// inside the statement that uses the macro, which is what matters here.
type region struct {
	span
	guards []Guard
	keys   []string // guardKey of each guard
}

func newRegion(s span, guards []Guard) region {
	r := region{span: s, guards: guards}
	for _, g := range guards {
		r.keys = append(r.keys, guardKey(g))
	}
	return r
}

// guardsOf walks a function body for its guard regions, block items and locals.
func (w *factWalker) guardsOf(fi *fnInfo) {
	cs := fi.def.CompoundStatement
	if cs == nil {
		return
	}
	// A body `{ return E; }` makes the function usable as a condition.
	if l := cs.BlockItemList; l != nil {
		items := blockItems(cs)
		if len(items) == 1 && items[0].Case == cc.BlockItemStmt && items[0].Statement.Case == cc.StatementJump {
			if j := items[0].Statement.JumpStatement; j.Case == cc.JumpStatementReturn {
				fi.ret = j.ExpressionList
			}
		}
	}
	w.compound(fi, cs)
}

// blockItems lists a compound statement's items, without the synthetic __func__.
func blockItems(cs *cc.CompoundStatement) []*cc.BlockItem {
	var out []*cc.BlockItem
	for l := cs.BlockItemList; l != nil; l = l.BlockItemList {
		it := l.BlockItem
		if it == nil {
			continue
		}
		if it.Case == cc.BlockItemDecl && isSyntheticDecl(it.Declaration) {
			continue
		}
		out = append(out, it)
	}
	return out
}

func isSyntheticDecl(d *cc.Declaration) bool {
	if d == nil {
		return false
	}
	for l := d.InitDeclaratorList; l != nil; l = l.InitDeclaratorList {
		if l.InitDeclarator != nil && l.InitDeclarator.Declarator != nil && (l.InitDeclarator.Declarator.IsSynthetic() || l.InitDeclarator.Declarator.Name() == "__func__") {
			return true
		}
	}
	return false
}

func (w *factWalker) compound(fi *fnInfo, cs *cc.CompoundStatement) {
	if cs == nil {
		return
	}
	x := w.x
	// Where the block ends: its `}` when written in the main file, else its extent.
	end := -1
	if p := cs.Token2.Position(); p.Filename == x.path {
		end = p.Offset
	}
	if _, e, ok := w.extent(cs); ok && e > end {
		end = e
	}
	_, userBlock := x.realToken(cs.Token) // the user's braces, not a macro's ({ ... })
	for _, it := range blockItems(cs) {
		if userBlock {
			if s, e, ok := w.extent(it); ok {
				fi.items = append(fi.items, span{s, e})
			}
		}
		w.blockItem(fi, it)
		if it.Case != cc.BlockItemStmt || it.Statement == nil || it.Statement.Case != cc.StatementSelection {
			continue
		}
		ss := it.Statement.SelectionStatement
		var after []Guard
		switch ss.Case {
		case cc.SelectionStatementIf:
			if w.exitsStmt(ss.Statement) {
				_, after = w.cond(fi, ss.ExpressionList, 0)
			}
		case cc.SelectionStatementIfElse:
			t, f := w.cond(fi, ss.ExpressionList, 0)
			switch e1, e2 := w.exitsStmt(ss.Statement), w.exitsStmt(ss.Statement2); {
			case e1 && !e2:
				after = f
			case e2 && !e1:
				after = t
			}
		}
		if len(after) == 0 {
			continue
		}
		if _, e, ok := w.extent(it); ok && e < end {
			fi.regions = append(fi.regions, newRegion(span{e, end}, after))
		}
	}
}

func (w *factWalker) blockItem(fi *fnInfo, it *cc.BlockItem) {
	switch it.Case {
	case cc.BlockItemDecl:
		d := it.Declaration
		if d == nil {
			return
		}
		for l := d.InitDeclaratorList; l != nil; l = l.InitDeclaratorList {
			id := l.InitDeclarator
			if id == nil || id.Initializer == nil {
				continue
			}
			if id.Initializer.Case == cc.InitializerExpr && id.Declarator != nil &&
				id.Declarator.WriteCount() <= 1 && !id.Declarator.AddressTaken() {
				fi.locals[id.Declarator] = id.Initializer.AssignmentExpression
			}
			w.expr(fi, id.Initializer)
		}
	case cc.BlockItemStmt:
		w.stmt(fi, it.Statement)
	case cc.BlockItemLabel:
		// a label declaration: nothing to do
	}
}

func (w *factWalker) stmt(fi *fnInfo, s *cc.Statement) {
	if s == nil {
		return
	}
	switch s.Case {
	case cc.StatementLabeled:
		if ls := s.LabeledStatement; ls != nil {
			w.stmt(fi, ls.Statement)
		}
	case cc.StatementCompound:
		w.compound(fi, s.CompoundStatement)
	case cc.StatementExpr:
		if es := s.ExpressionStatement; es != nil {
			w.expr(fi, es.ExpressionList)
		}
	case cc.StatementSelection:
		ss := s.SelectionStatement
		w.expr(fi, ss.ExpressionList)
		switch ss.Case {
		case cc.SelectionStatementIf:
			t, _ := w.cond(fi, ss.ExpressionList, 0)
			w.addRegion(fi, ss.Statement, t)
			w.stmt(fi, ss.Statement)
		case cc.SelectionStatementIfElse:
			t, f := w.cond(fi, ss.ExpressionList, 0)
			w.addRegion(fi, ss.Statement, t)
			w.addRegion(fi, ss.Statement2, f)
			w.stmt(fi, ss.Statement)
			w.stmt(fi, ss.Statement2)
		default:
			w.stmt(fi, ss.Statement)
		}
	case cc.StatementIteration:
		is := s.IterationStatement
		var c cc.ExpressionNode
		switch is.Case {
		case cc.IterationStatementWhile:
			c = is.ExpressionList
			w.expr(fi, is.ExpressionList)
		case cc.IterationStatementDo:
			w.expr(fi, is.ExpressionList)
		case cc.IterationStatementFor:
			c = is.ExpressionList2
			w.expr(fi, is.ExpressionList)
			w.expr(fi, is.ExpressionList2)
			w.expr(fi, is.ExpressionList3)
		case cc.IterationStatementForDecl:
			c = is.ExpressionList
			if is.Declaration != nil {
				w.expr(fi, is.Declaration)
			}
			w.expr(fi, is.ExpressionList)
			w.expr(fi, is.ExpressionList2)
		}
		if c != nil {
			t, _ := w.cond(fi, c, 0)
			w.addRegion(fi, is.Statement, t)
		}
		w.stmt(fi, is.Statement)
	case cc.StatementJump:
		if js := s.JumpStatement; js != nil && js.ExpressionList != nil {
			w.expr(fi, js.ExpressionList)
		}
	}
}

// expr finds the conditional regions inside an expression (?:, &&, ||), the statements of
// statement expressions, and the calls of the main file's functions.
func (w *factWalker) expr(fi *fnInfo, n cc.Node) {
	if n == nil {
		return
	}
	inspect(n, func(n cc.Node) bool {
		switch n := n.(type) {
		case *cc.ConditionalExpression:
			if n.Case == cc.ConditionalExpressionCond {
				t, f := w.cond(fi, n.LogicalOrExpression, 0)
				if n.ExpressionList != nil {
					w.addRegion(fi, n.ExpressionList, t)
				}
				w.addRegion(fi, n.ConditionalExpression, f)
			}
		case *cc.LogicalAndExpression:
			if n.Case == cc.LogicalAndExpressionLAnd {
				t, _ := w.cond(fi, n.LogicalAndExpression, 0)
				w.addRegion(fi, n.InclusiveOrExpression, t)
			}
		case *cc.LogicalOrExpression:
			if n.Case == cc.LogicalOrExpressionLOr {
				_, f := w.cond(fi, n.LogicalOrExpression, 0)
				w.addRegion(fi, n.LogicalAndExpression, f)
			}
		case *cc.PrimaryExpression:
			if n.Case == cc.PrimaryExpressionStmt {
				w.compound(fi, n.CompoundStatement)
				return false
			}
		case *cc.PostfixExpression:
			if n.Case == cc.PostfixExpressionCall {
				if name := calleeName(n.PostfixExpression); name != "" && w.fns[name] != nil {
					if p := n.PostfixExpression.Position(); p.Filename == w.x.path {
						w.sites[name] = append(w.sites[name], callSite{fi.name, p.Offset})
					}
				}
			}
		case *cc.TypeName, *cc.DeclarationSpecifiers, *cc.SpecifierQualifierList, *cc.AbstractDeclarator:
			return false
		}
		return true
	})
}

func (w *factWalker) addRegion(fi *fnInfo, n cc.Node, guards []Guard) {
	if len(guards) == 0 || n == nil {
		return
	}
	if s, e, ok := w.extent(n); ok {
		fi.regions = append(fi.regions, newRegion(span{s, e}, guards))
	}
}

// exitsStmt reports whether a statement never completes normally (remembered: nested
// ifs would ask about the same statements again and again).
func (w *factWalker) exitsStmt(s *cc.Statement) bool {
	if s == nil {
		return false
	}
	if v, ok := w.exits[s]; ok {
		return v
	}
	if w.exits == nil {
		w.exits = map[*cc.Statement]bool{}
	}
	v := w.exitsUncached(s)
	w.exits[s] = v
	return v
}

func (w *factWalker) exitsUncached(s *cc.Statement) bool {
	switch s.Case {
	case cc.StatementJump:
		return true
	case cc.StatementCompound:
		for _, it := range blockItems(s.CompoundStatement) {
			if it.Case == cc.BlockItemStmt && w.exitsStmt(it.Statement) {
				return true
			}
		}
	case cc.StatementSelection:
		ss := s.SelectionStatement
		return ss.Case == cc.SelectionStatementIfElse && w.exitsStmt(ss.Statement) && w.exitsStmt(ss.Statement2)
	case cc.StatementLabeled:
		return s.LabeledStatement != nil && w.exitsStmt(s.LabeledStatement.Statement)
	case cc.StatementExpr:
		if es := s.ExpressionStatement; es != nil {
			if p, ok := unparen(es.ExpressionList).(*cc.PostfixExpression); ok && p.Case == cc.PostfixExpressionCall {
				switch calleeName(p.PostfixExpression) {
				case "__builtin_unreachable", "__builtin_trap":
					return true
				}
			}
		}
	}
	return false
}

// cond returns the checks that hold when e is true and when it is false.
func (w *factWalker) cond(fi *fnInfo, e cc.ExpressionNode, depth int) (t, f []Guard) {
	if e == nil || depth > 8 {
		return nil, nil
	}
	switch n := unparen(e).(type) {
	case *cc.PostfixExpression:
		if n.Case != cc.PostfixExpressionCall {
			return nil, nil
		}
		name := calleeName(n.PostfixExpression)
		switch name {
		case "__builtin_preserve_field_info", "__builtin_preserve_type_info", "__builtin_preserve_enum_value":
			if r, ok := w.check(fi, n); ok {
				return []Guard{{Check: r, Want: true}}, []Guard{{Check: r, Want: false}}
			}
		case "__builtin_expect", "__builtin_expect_with_probability":
			if args := callArgs(n); len(args) >= 1 {
				return w.cond(fi, args[0], depth+1)
			}
		default:
			if h := w.fns[name]; h != nil && h.fn.Inline && h.ret != nil {
				return w.cond(h, h.ret, depth+1)
			}
		}
	case *cc.UnaryExpression:
		if n.Case == cc.UnaryExpressionNot {
			t, f = w.cond(fi, n.CastExpression, depth+1)
			return f, t
		}
	case *cc.CastExpression:
		if n.Case == cc.CastExpressionCast {
			return w.cond(fi, n.CastExpression, depth+1)
		}
	case *cc.LogicalAndExpression:
		if n.Case == cc.LogicalAndExpressionLAnd {
			t1, _ := w.cond(fi, n.LogicalAndExpression, depth+1)
			t2, _ := w.cond(fi, n.InclusiveOrExpression, depth+1)
			return mergeGuards(t1, t2), nil
		}
	case *cc.LogicalOrExpression:
		if n.Case == cc.LogicalOrExpressionLOr {
			_, f1 := w.cond(fi, n.LogicalOrExpression, depth+1)
			_, f2 := w.cond(fi, n.LogicalAndExpression, depth+1)
			return nil, mergeGuards(f1, f2)
		}
	case *cc.EqualityExpression:
		if n.Case != cc.EqualityExpressionEq && n.Case != cc.EqualityExpressionNeq {
			return nil, nil
		}
		other := cc.ExpressionNode(nil)
		var k int64
		if v, ok := constInt(n.RelationalExpression); ok {
			other, k = n.EqualityExpression, v
		} else if v, ok := constInt(n.EqualityExpression); ok {
			other, k = n.RelationalExpression, v
		}
		if other == nil || k != 0 && k != 1 {
			return nil, nil
		}
		t, f = w.cond(fi, other, depth+1)
		if (n.Case == cc.EqualityExpressionEq) == (k == 0) {
			t, f = f, t
		}
		return t, f
	case *cc.PrimaryExpression:
		if n.Case == cc.PrimaryExpressionIdent {
			if d, ok := n.ResolvedTo().(*cc.Declarator); ok {
				if init := fi.locals[d]; init != nil {
					return w.cond(fi, init, depth+1)
				}
			}
		}
	}
	return nil, nil
}

// check returns the relocation of an existence check, as the extractor builds it.
func (w *factWalker) check(fi *fnInfo, call *cc.PostfixExpression) (Relocation, bool) {
	x := w.x
	savedRelocs, savedDiags, savedFn := x.relocs, x.diags, x.fn
	x.relocs, x.fn = nil, fi.name
	x.builtinCall(call, false)
	got := x.relocs
	x.relocs, x.diags, x.fn = savedRelocs, savedDiags, savedFn
	for _, r := range got {
		switch r.Kind {
		case FieldExists, TypeExists, EnumvalExists, TypeMatches:
			r.Section = x.programSections(fi.name)
			return r, true
		}
	}
	return Relocation{}, false
}

// regionGuards are the checks of fi's regions that contain off.
func (w *factWalker) regionGuards(fi *fnInfo, off int) []Guard {
	var out []Guard
	var keys []string
	seen := map[string]bool{}
	for _, r := range fi.regions {
		if !r.contains(off) {
			continue
		}
		for i, k := range r.keys {
			if !seen[k] {
				seen[k] = true
				out = append(out, r.guards[i])
				keys = append(keys, k)
			}
		}
	}
	if len(out) > 1 {
		idx := make([]int, len(out))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
		sorted := make([]Guard, len(out))
		for i, j := range idx {
			sorted[i] = out[j]
		}
		out = sorted
	}
	return out
}

// inheritedGuards are the checks that hold at every call of a static function.
func (w *factWalker) inheritedGuards(fn string, visiting map[string]bool) []Guard {
	if g, ok := w.inherited[fn]; ok {
		return g
	}
	fi := w.fns[fn]
	sites := w.sites[fn]
	if fi == nil || !fi.fn.Static || fi.fn.Section != "" || len(sites) == 0 || visiting[fn] {
		return nil
	}
	visiting[fn] = true
	defer delete(visiting, fn)
	var acc []Guard
	for i, s := range sites {
		caller := w.fns[s.caller]
		if caller == nil {
			return nil
		}
		g := mergeGuards(w.regionGuards(caller, s.off), w.inheritedGuards(s.caller, visiting))
		if i == 0 {
			acc = g
		} else {
			acc = intersectGuards(acc, g)
		}
		if len(acc) == 0 {
			break
		}
	}
	if len(visiting) == 1 { // not inside a cycle: safe to remember
		if w.inherited == nil {
			w.inherited = map[string][]Guard{}
		}
		w.inherited[fn] = acc
	}
	return acc
}

func guardKey(g Guard) string {
	if g.Want {
		return g.Check.Key() + " =1"
	}
	return g.Check.Key() + " =0"
}

// mergeGuards is the union of two guard lists, without duplicates, sorted.
func mergeGuards(a, b []Guard) []Guard {
	if len(a) == 0 && len(b) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var out []Guard
	for _, l := range [][]Guard{a, b} {
		for _, g := range l {
			if k := guardKey(g); !seen[k] {
				seen[k] = true
				out = append(out, g)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return guardKey(out[i]) < guardKey(out[j]) })
	return out
}

func intersectGuards(a, b []Guard) []Guard {
	in := map[string]bool{}
	for _, g := range b {
		in[guardKey(g)] = true
	}
	var out []Guard
	for _, g := range a {
		if in[guardKey(g)] {
			out = append(out, g)
		}
	}
	return out
}
