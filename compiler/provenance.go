package compiler

import (
	"maps"
	"path/filepath"
	"strings"

	"modernc.org/cc/v4"
)

// Pointer provenance: where the pointers of the main file's functions come from, in the
// verifier's classes (shared/DESIGN.md, "Pointer provenance"). Whether `p->x` is a legal
// direct load, and whether a probe read's fixed offsets index kernel memory, depend on it,
// not on the program type alone. The analysis is flow-insensitive, like a reader of the
// code: a local's class is the join of everything assigned to it, a static helper's
// parameter the join over its call sites, iterated to a fixpoint.

// Origin is a verifier class of a pointer (or of an address held as an integer).
type Origin uint8

const (
	OriginUnknown Origin = iota
	OriginContext        // PTR_TO_CTX: the program's context argument
	OriginProgram        // program-owned memory: map values, stack, global data
	OriginTrusted        // PTR_TO_BTF_ID: direct loads allowed, CO-RE relocated
	OriginScalar         // a kernel (or user) address held as a number: direct loads rejected
	originNone           // no information (a null constant, a value not computed yet)
)

// Provenance is a pointer's class and what gave it: "tp_btf argument",
// "bpf_get_current_task()", "map value". For a context, Source is the program type
// ("kprobe", "tp_btf").
type Provenance struct {
	Origin Origin
	Source string
}

// PointerVar is a local variable or parameter of a function of the main file that holds a
// pointer (or an address as an integer), with its provenance.
type PointerVar struct {
	Name string
	Func string
	Decl Range   // its name where declared
	Uses []Range // its name where used
	Provenance
}

var unknownProv = Provenance{Origin: OriginUnknown}

// btfProgramKinds get typed arguments (PTR_TO_BTF_ID); scalarProgramKinds get the
// registers or raw arguments as numbers.
var (
	btfProgramKinds = map[string]bool{
		"tp_btf": true, "fentry": true, "fexit": true, "fmod_ret": true, "fentry.s": true, "fexit.s": true,
		"fmod_ret.s": true, "lsm": true, "lsm.s": true, "lsm_cgroup": true, "iter": true, "iter.s": true,
		"struct_ops": true, "struct_ops.s": true,
	}
	scalarProgramKinds = map[string]string{
		"kprobe": "kprobe argument", "kretprobe": "kretprobe register", "kprobe.multi": "kprobe argument",
		"kretprobe.multi": "kretprobe register", "ksyscall": "ksyscall argument", "kretsyscall": "kretsyscall register",
		"uprobe": "uprobe argument", "uretprobe": "uretprobe register", "uprobe.s": "uprobe argument",
		"uretprobe.s": "uretprobe register", "uprobe.multi": "uprobe argument", "uretprobe.multi": "uretprobe register",
		"usdt": "usdt argument", "raw_tp": "raw_tp argument", "raw_tracepoint": "raw_tp argument",
		"raw_tp.w": "raw_tp argument", "raw_tracepoint.w": "raw_tp argument", "tp": "tracepoint field",
		"tracepoint": "tracepoint field", "perf_event": "perf_event register",
	}
)

// programKind is the program type of a SEC(): "kprobe" of "kprobe/do_exit".
func programKind(sec string) string {
	kind, _, _ := strings.Cut(sec, "/")
	return kind
}

// Helpers whose result points to memory the program owns.
var programMemoryHelpers = map[string]string{
	"bpf_map_lookup_elem": "map value", "bpf_map_lookup_percpu_elem": "map value",
	"bpf_ringbuf_reserve": "ring buffer sample", "bpf_get_local_storage": "local storage",
	"bpf_task_storage_get": "task local storage", "bpf_sk_storage_get": "socket local storage",
	"bpf_inode_storage_get": "inode local storage", "bpf_cgrp_storage_get": "cgroup local storage",
	"bpf_dynptr_data": "dynptr data",
}

// Helpers that never write through the pointers they are given: `&v` passed to them
// leaves v as it was.
var readOnlyHelpers = map[string]bool{
	"bpf_map_lookup_elem": true, "bpf_map_update_elem": true, "bpf_map_delete_elem": true,
	"bpf_map_push_elem": true, "bpf_map_lookup_percpu_elem": true, "bpf_ringbuf_output": true,
	"bpf_perf_event_output": true, "bpf_trace_printk": true, "bpf_snprintf": true, "bpf_seq_printf": true,
	"bpf_seq_write": true, "bpf_trace_vprintk": true, "bpf_seq_printf_btf": true, "bpf_snprintf_btf": true,
	"bpf_for_each_map_elem": true, "bpf_loop": true, "bpf_find_vma": true,
}

// callbackHelpers: which argument is a callback, and where each of its parameters comes
// from: a fixed class, or (arg >= 0) the helper's argument of that index.
type callbackParam struct {
	prov Provenance
	arg  int
}

var callbackHelpers = map[string]struct {
	fn     int
	params []callbackParam
}{
	"bpf_find_vma": {2, []callbackParam{
		{Provenance{OriginTrusted, "bpf_find_vma() callback argument"}, -1},
		{Provenance{OriginTrusted, "bpf_find_vma() callback argument"}, -1},
		{arg: 3}}},
	"bpf_for_each_map_elem": {1, []callbackParam{
		{unknownProv, -1},
		{Provenance{OriginProgram, "map key"}, -1},
		{Provenance{OriginProgram, "map value"}, -1},
		{arg: 2}}},
	"bpf_loop":               {1, []callbackParam{{unknownProv, -1}, {arg: 2}}},
	"bpf_user_ringbuf_drain": {1, []callbackParam{{unknownProv, -1}, {arg: 2}}},
	"bpf_timer_set_callback": {1, []callbackParam{
		{unknownProv, -1},
		{Provenance{OriginProgram, "map key"}, -1},
		{Provenance{OriginProgram, "map value"}, -1}}},
}

// slotKey names what a provenance is kept for: a variable (path ""), a member of a local
// record ("a.b"), or everything a probe read copied into a local record ("*").
type slotKey struct {
	d    *cc.Declarator
	path string
}

type provSite struct {
	p      Provenance
	caller string // a call site of a static helper: the caller
}

type provWalker struct {
	w      *factWalker
	vals   map[slotKey]Provenance
	rets   map[string]Provenance // static functions: the join of their returns
	ksyms  map[string]bool       // extern ... __ksym declarations, variables and kfuncs
	params map[*cc.Declarator]*fnInfo
	locals map[*fnInfo][]*cc.Declarator
	uses   map[*cc.Declarator][]Range
	givers map[*fnInfo][]cc.Node // the nodes of each body that give values (scan)

	// One pass's findings.
	sites     map[slotKey][]provSite
	retSites  map[string][]provSite
	callbacks map[string]bool
	cbFrom    map[string][]string // caller → the callbacks it passes

	converged bool // the last pass changed nothing
}

// prov computes the provenance of every local of the main file's functions, once.
func (w *factWalker) prov() *provWalker {
	if w.provs != nil {
		return w.provs
	}
	pw := &provWalker{w: w, vals: map[slotKey]Provenance{}, rets: map[string]Provenance{},
		params: map[*cc.Declarator]*fnInfo{}, locals: map[*fnInfo][]*cc.Declarator{}, uses: map[*cc.Declarator][]Range{}, givers: map[*fnInfo][]cc.Node{}}
	w.provs = pw
	pw.ksyms = pw.findKsyms()
	for _, fi := range w.order {
		for _, p := range params(fi.def.Declarator) {
			pw.params[p] = fi
			pw.locals[fi] = append(pw.locals[fi], p)
		}
	}
	const maxPasses = 32
	for pass := 0; pass < maxPasses; pass++ {
		pw.sites, pw.retSites, pw.callbacks, pw.cbFrom = map[slotKey][]provSite{}, map[string][]provSite{}, map[string]bool{}, map[string][]string{}
		for _, fi := range w.order {
			if fi.def.CompoundStatement != nil {
				pw.scan(fi, pass == 0)
			}
		}
		vals, rets := pw.resolve()
		if r := w.x.reuse; r != nil {
			r.inject(pw, vals, rets)
		}
		if maps.Equal(vals, pw.vals) && maps.Equal(rets, pw.rets) {
			pw.converged = true
			break
		}
		pw.vals, pw.rets = vals, rets
	}
	return pw
}

// params lists the parameter declarators of a function declarator.
func params(d *cc.Declarator) (out []*cc.Declarator) {
	inspect(d, func(n cc.Node) bool {
		if pd, ok := n.(*cc.ParameterDeclaration); ok {
			if pd.Declarator != nil {
				out = append(out, pd.Declarator)
			}
			return false
		}
		return true
	})
	return out
}

// findKsyms lists the names declared `extern ... __ksym` anywhere in the translation unit
// (kfuncs are usually declared in headers).
func (pw *provWalker) findKsyms() map[string]bool {
	out := map[string]bool{}
	for l := pw.w.x.ast.TranslationUnit; l != nil; l = l.TranslationUnit {
		ed := l.ExternalDeclaration
		if ed.Case != cc.ExternalDeclarationDecl || ed.Declaration == nil {
			continue
		}
		d := ed.Declaration
		for il := d.InitDeclaratorList; il != nil; il = il.InitDeclaratorList {
			id := il.InitDeclarator
			if id == nil || id.Declarator == nil || !id.Declarator.IsExtern() {
				continue
			}
			if sectionOf(d.DeclarationSpecifiers, id.Declarator, id.AttributeSpecifierList, d.AttributeSpecifierList) == ".ksyms" {
				out[id.Declarator.Name()] = true
			}
		}
	}
	return out
}

func (pw *provWalker) add(k slotKey, p Provenance, caller string) {
	pw.sites[k] = append(pw.sites[k], provSite{p, caller})
}

// isLocal: a variable with automatic storage or a parameter, of a main-file function.
func (pw *provWalker) isLocal(d *cc.Declarator) bool {
	if d == nil {
		return false
	}
	if _, ok := pw.params[d]; ok {
		return true
	}
	return !d.IsParam() && d.StorageDuration() == cc.Automatic && !d.IsExtern()
}

// scan records, for one function, every value given to its locals, its callees'
// parameters and its callbacks, evaluated with the previous pass's values.
func (pw *provWalker) scan(fi *fnInfo, first bool) {
	x := pw.w.x
	if fi.fn.Section != "" {
		pw.programParams(fi)
	} else if !fi.def.Declarator.IsStatic() {
		// A global function is verified on its own: its arguments' classes are unknown.
		for _, p := range params(fi.def.Declarator) {
			pw.add(slotKey{p, ""}, unknownProv, "")
		}
	}
	// The first pass walks the body and keeps the nodes that give values; the others go
	// through those alone.
	step := func(n cc.Node) (gives bool) {
		switch n := n.(type) {
		case *cc.InitDeclarator:
			d := n.Declarator
			if first && d != nil && pw.isLocal(d) {
				pw.locals[fi] = append(pw.locals[fi], d)
			}
			if d == nil || n.Initializer == nil || !pw.isLocal(d) {
				return false
			}
			switch n.Initializer.Case {
			case cc.InitializerExpr:
				pw.add(slotKey{d, ""}, pw.eval(n.Initializer.AssignmentExpression), "")
			case cc.InitializerInitList:
				for l := n.Initializer.InitializerList; l != nil; l = l.InitializerList {
					if name := designatedField(l.Designation); name != "" && l.Initializer != nil && l.Initializer.Case == cc.InitializerExpr {
						pw.add(slotKey{d, name}, pw.eval(l.Initializer.AssignmentExpression), "")
					}
				}
			}
			return true
		case *cc.AssignmentExpression:
			if n.Case == cc.AssignmentExpressionAssign {
				if k, ok := pw.localPath(n.UnaryExpression); ok {
					pw.add(k, pw.eval(n.AssignmentExpression), "")
					return true
				}
			}
		case *cc.PostfixExpression:
			if n.Case == cc.PostfixExpressionCall {
				pw.call(fi, n)
				return true
			}
		case *cc.JumpStatement:
			if n.Case == cc.JumpStatementReturn && n.ExpressionList != nil {
				pw.retSites[fi.name] = append(pw.retSites[fi.name], provSite{pw.eval(n.ExpressionList), ""})
				return true
			}
		case *cc.PrimaryExpression:
			if first && n.Case == cc.PrimaryExpressionIdent {
				if d, ok := n.ResolvedTo().(*cc.Declarator); ok && pw.isLocal(d) {
					if r, ok := x.written(n.Token); ok {
						pw.uses[d] = append(pw.uses[d], r)
					}
				}
			}
		}
		return false
	}
	if !first {
		for _, n := range pw.givers[fi] {
			step(n)
		}
		return
	}
	var givers []cc.Node
	inspect(fi.def.CompoundStatement, func(n cc.Node) bool {
		if step(n) {
			givers = append(givers, n)
		}
		return true
	})
	pw.givers[fi] = givers
}

// programParams: a program's context, or for struct_ops programs written without
// BPF_PROG, its typed arguments.
func (pw *provWalker) programParams(fi *fnInfo) {
	kind := programKind(fi.fn.Section)
	ps := params(fi.def.Declarator)
	for i, p := range ps {
		switch {
		case strings.HasPrefix(kind, "struct_ops") && !isIntPointer(p.Type()):
			pw.add(slotKey{p, ""}, Provenance{OriginTrusted, "struct_ops argument"}, "")
		case i == 0:
			pw.add(slotKey{p, ""}, Provenance{OriginContext, kind}, "")
		default:
			pw.add(slotKey{p, ""}, unknownProv, "")
		}
	}
}

// isIntPointer: BPF_PROG's `unsigned long long *ctx`.
func isIntPointer(t cc.Type) bool {
	p, ok := t.(*cc.PointerType)
	return ok && p.Elem() != nil && cc.IsIntegerType(p.Elem())
}

func designatedField(d *cc.Designation) string {
	if d == nil || d.DesignatorList == nil || d.DesignatorList.DesignatorList != nil {
		return ""
	}
	ds := d.DesignatorList.Designator
	switch ds.Case {
	case cc.DesignatorField:
		return ds.Token2.SrcStr()
	case cc.DesignatorField2:
		return ds.Token.SrcStr()
	}
	return ""
}

// localPath is the slot an lvalue writes: a local variable, or a member path of a local
// record (`v.a.b`).
func (pw *provWalker) localPath(e cc.ExpressionNode) (slotKey, bool) {
	var path []string
	for {
		switch n := unparen(e).(type) {
		case *cc.PrimaryExpression:
			if n.Case != cc.PrimaryExpressionIdent {
				return slotKey{}, false
			}
			d, ok := n.ResolvedTo().(*cc.Declarator)
			if !ok || !pw.isLocal(d) {
				return slotKey{}, false
			}
			for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
				path[i], path[j] = path[j], path[i]
			}
			return slotKey{d, strings.Join(path, ".")}, true
		case *cc.PostfixExpression:
			if n.Field() == nil {
				return slotKey{}, false
			}
			switch n.Case {
			case cc.PostfixExpressionSelect:
				e = n.PostfixExpression
			case cc.PostfixExpressionPSelect: // `(&v)->f` is `v.f`
				u, ok := unparen(n.PostfixExpression).(*cc.UnaryExpression)
				if !ok || u.Case != cc.UnaryExpressionAddrof {
					return slotKey{}, false
				}
				e = u.CastExpression
			default:
				return slotKey{}, false
			}
			path = append(path, n.Field().Name())
		default:
			return slotKey{}, false
		}
	}
}

// call records what a call gives: a probe read's destination holds what it read (as
// numbers), a static helper's parameters get the arguments, a callback its parameters,
// and a local whose address escapes to an unknown callee becomes unknown.
func (pw *provWalker) call(fi *fnInfo, n *cc.PostfixExpression) {
	w := pw.w
	args := callArgs(n)
	name := calleeName(n.PostfixExpression)
	if helper := w.probeHelper(n); helper != "" {
		if len(args) == 3 {
			src := Provenance{OriginScalar, pw.readerName(n, helper) + "()"}
			if u, ok := stripCasts(args[0]).(*cc.UnaryExpression); ok && u.Case == cc.UnaryExpressionAddrof {
				if k, ok := pw.localPath(u.CastExpression); ok {
					if isRecord(u.CastExpression.Type()) {
						k.path = "*" // every member of the copy
					}
					pw.add(k, src, "")
				}
			}
		}
		return
	}
	if callee := w.fns[name]; callee != nil && callee.fn.Section == "" && callee.def.Declarator.IsStatic() {
		for i, p := range params(callee.def.Declarator) {
			if i < len(args) {
				pw.add(slotKey{p, ""}, pw.eval(args[i]), fi.name)
			}
		}
	}
	if cb, ok := callbackHelpers[name]; ok && cb.fn < len(args) {
		if target := w.fns[identName(stripCasts(args[cb.fn]))]; target != nil {
			pw.callbacks[target.name] = true
			pw.cbFrom[fi.name] = append(pw.cbFrom[fi.name], target.name)
			for i, p := range params(target.def.Declarator) {
				if i >= len(cb.params) {
					break
				}
				v := cb.params[i].prov
				if a := cb.params[i].arg; a >= 0 && a < len(args) {
					v = pw.eval(args[a])
				}
				pw.add(slotKey{p, ""}, v, fi.name)
			}
		}
	}
	if readOnlyHelpers[name] {
		return
	}
	for _, a := range args {
		u, ok := stripCasts(a).(*cc.UnaryExpression)
		if !ok || u.Case != cc.UnaryExpressionAddrof {
			continue
		}
		if k, ok := pw.localPath(u.CastExpression); ok && holdsAddress(u.CastExpression.Type()) {
			pw.add(k, unknownProv, "")
		}
	}
}

// readerName names a probe read as written: the macro it comes from (BPF_CORE_READ) or
// the helper.
func (pw *provWalker) readerName(call *cc.PostfixExpression, helper string) string {
	x := pw.w.x
	callee, ok := unparen(call.PostfixExpression).(*cc.PrimaryExpression)
	if !ok {
		return helper
	}
	if _, real, found := x.place(callee.Token); found && real {
		return helper
	}
	p := callee.Token.Position()
	if p.Filename != x.path || p.Offset < 0 || p.Offset >= len(x.src) {
		return helper
	}
	e := p.Offset
	for e < len(x.src) && isIdentByte(x.src[e]) {
		e++
	}
	if e == p.Offset {
		return helper
	}
	return string(x.src[p.Offset:e])
}

// holdsAddress: a pointer or an integer wide enough for an address.
func holdsAddress(t cc.Type) bool {
	if t == nil {
		return false
	}
	if t.Kind() == cc.Ptr {
		return true
	}
	return cc.IsIntegerType(t) && t.Size() == 8
}

// resolve joins each slot's sites. A local gets one class when all agree, else unknown.
// A parameter given a kernel address as a number at some call site holds one there, and
// a direct load through it is rejected in that caller's program: it keeps the scalar.
func (pw *provWalker) resolve() (map[slotKey]Provenance, map[string]Provenance) {
	vals := map[slotKey]Provenance{}
	for k, sites := range pw.sites {
		if fi, isParam := pw.params[k.d]; isParam && k.path == "" && fi.fn.Section == "" &&
			!fi.def.Declarator.IsStatic() && pw.callbacks[fi.name] {
			// A global function used as a callback: only the callback's sites count.
			var cb []provSite
			for _, s := range sites {
				if s.caller != "" {
					cb = append(cb, s)
				}
			}
			sites = cb
		}
		vals[k] = joinSites(sites, pw.params[k.d] != nil)
	}
	rets := map[string]Provenance{}
	for name, sites := range pw.retSites {
		rets[name] = joinSites(sites, false)
	}
	return vals, rets
}

func joinSites(sites []provSite, param bool) Provenance {
	out := Provenance{Origin: originNone}
	var scalar *provSite
	agree := true
	for i, s := range sites {
		if s.p.Origin == originNone {
			continue
		}
		if s.p.Origin == OriginScalar && scalar == nil {
			scalar = &sites[i]
		}
		switch {
		case out.Origin == originNone:
			out = s.p
		case out.Origin != s.p.Origin:
			agree = false
		case out.Source != s.p.Source:
			if out.Origin == OriginContext {
				out.Source = "" // contexts of different program types
			}
		}
	}
	if agree {
		return out
	}
	if param && scalar != nil {
		p := scalar.p
		if scalar.caller != "" {
			p.Source += " in the call from " + scalar.caller
		}
		return p
	}
	return unknownProv
}

// value is a slot's class from the previous pass.
func (pw *provWalker) value(k slotKey) Provenance {
	if v, ok := pw.vals[k]; ok {
		return v
	}
	return Provenance{Origin: originNone}
}

// eval is the class of the value of an expression.
func (pw *provWalker) eval(e cc.ExpressionNode) Provenance {
	e = unparen(e)
	if e == nil {
		return unknownProv
	}
	if v, ok := constInt(e); ok {
		if v == 0 {
			return Provenance{Origin: originNone} // NULL joins with anything
		}
		return unknownProv
	}
	switch n := e.(type) {
	case *cc.PrimaryExpression:
		switch n.Case {
		case cc.PrimaryExpressionIdent:
			d, ok := n.ResolvedTo().(*cc.Declarator)
			if !ok || d == nil {
				return unknownProv
			}
			if t := d.Type(); t != nil && (isArray(t) || t.Kind() == cc.Function) {
				return pw.memOfDecl(d)
			}
			if pw.isLocal(d) {
				return pw.value(slotKey{d, ""})
			}
		case cc.PrimaryExpressionStmt:
			if last := lastExpr(n.CompoundStatement); last != nil {
				return pw.eval(last)
			}
		}
	case *cc.CastExpression:
		if n.Case == cc.CastExpressionCast {
			return pw.eval(n.CastExpression)
		}
	case *cc.ConditionalExpression:
		if n.Case == cc.ConditionalExpressionCond {
			then := n.ExpressionList
			if then == nil { // GNU `a ?: b`
				then = n.LogicalOrExpression
			}
			return joinSites([]provSite{{p: pw.eval(then)}, {p: pw.eval(n.ConditionalExpression)}}, false)
		}
	case *cc.AdditiveExpression:
		l, r := n.AdditiveExpression, n.MultiplicativeExpression
		if isPointer(l.Type()) {
			return pw.eval(l)
		}
		if isPointer(r.Type()) && n.Case == cc.AdditiveExpressionAdd {
			return pw.eval(r)
		}
		// Integer arithmetic on an address: an offset keeps it what it was.
		if _, ok := constInt(r); ok {
			return pw.eval(l)
		}
		if _, ok := constInt(l); ok && n.Case == cc.AdditiveExpressionAdd {
			return pw.eval(r)
		}
	case *cc.AndExpression:
		// Masking the low bits off an address (a tagged pointer) keeps what it was.
		if _, ok := constInt(n.EqualityExpression); ok {
			return pw.eval(n.AndExpression)
		}
		if _, ok := constInt(n.AndExpression); ok {
			return pw.eval(n.EqualityExpression)
		}
	case *cc.ExpressionList:
		for n.ExpressionList != nil {
			n = n.ExpressionList
		}
		return pw.eval(n.AssignmentExpression)
	case *cc.AssignmentExpression:
		if n.Case == cc.AssignmentExpressionAssign {
			return pw.eval(n.AssignmentExpression)
		}
	case *cc.UnaryExpression:
		switch n.Case {
		case cc.UnaryExpressionAddrof:
			return pw.memOf(n.CastExpression)
		case cc.UnaryExpressionDeref:
			return loadFrom(pw.eval(n.CastExpression), n.Type())
		}
	case *cc.PostfixExpression:
		switch n.Case {
		case cc.PostfixExpressionCall:
			return pw.callResult(n)
		case cc.PostfixExpressionSelect, cc.PostfixExpressionPSelect, cc.PostfixExpressionIndex:
			if isArray(n.Type()) {
				return pw.memOf(n) // an array member decays to its address
			}
			if k, ok := pw.localPath(n); ok {
				return pw.fieldValue(k)
			}
			return loadFrom(pw.memOf(n), n.Type())
		}
	}
	return unknownProv
}

// fieldValue is the class of a member of a local record: what was assigned to it (or to
// the record around it), or what a probe read copied into the record.
func (pw *provWalker) fieldValue(k slotKey) Provenance {
	for p := k.path; ; {
		if v, ok := pw.vals[slotKey{k.d, p}]; ok {
			return v
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			break
		}
		p = p[:i]
	}
	if v, ok := pw.vals[slotKey{k.d, "*"}]; ok {
		return v
	}
	return unknownProv
}

// memOf is the class of the memory an lvalue designates: the class of a pointer to it.
func (pw *provWalker) memOf(e cc.ExpressionNode) Provenance {
	switch n := unparen(e).(type) {
	case *cc.PrimaryExpression:
		if n.Case == cc.PrimaryExpressionIdent {
			if d, ok := n.ResolvedTo().(*cc.Declarator); ok && d != nil {
				return pw.memOfDecl(d)
			}
		}
	case *cc.PostfixExpression:
		switch n.Case {
		case cc.PostfixExpressionPSelect:
			return pw.eval(n.PostfixExpression)
		case cc.PostfixExpressionSelect:
			return pw.memOf(n.PostfixExpression)
		case cc.PostfixExpressionIndex:
			if isArray(n.PostfixExpression.Type()) {
				return pw.memOf(n.PostfixExpression)
			}
			return pw.eval(n.PostfixExpression)
		case cc.PostfixExpressionComplit:
			return Provenance{OriginProgram, "stack"}
		}
	case *cc.UnaryExpression:
		if n.Case == cc.UnaryExpressionDeref {
			return pw.eval(n.CastExpression)
		}
	}
	return unknownProv
}

func (pw *provWalker) memOfDecl(d *cc.Declarator) Provenance {
	switch {
	case pw.ksyms[d.Name()] && d.IsExtern():
		return Provenance{OriginTrusted, "__ksym " + d.Name()}
	case d.Type() != nil && d.Type().Kind() == cc.Function:
		return unknownProv
	case pw.isLocal(d):
		return Provenance{OriginProgram, "stack"}
	}
	return Provenance{OriginProgram, "global data"}
}

// loadFrom is the class of a value of type t loaded from memory of class m. Loads from a
// context give what the program type passes (typed arguments, or numbers); pointers
// loaded from a trusted pointer are trusted; what the program stored in its own memory is
// unknown.
func loadFrom(m Provenance, t cc.Type) Provenance {
	switch m.Origin {
	case OriginContext:
		if btfProgramKinds[m.Source] {
			return Provenance{OriginTrusted, m.Source + " argument"}
		}
		if src, ok := scalarProgramKinds[m.Source]; ok {
			return Provenance{OriginScalar, src}
		}
	case OriginTrusted:
		if isPointer(t) {
			return m
		}
	case OriginScalar, originNone:
		return m
	}
	return unknownProv
}

// callResult is the class of what a call returns.
func (pw *provWalker) callResult(n *cc.PostfixExpression) Provenance {
	name := pw.helperName(calleeName(n.PostfixExpression))
	args := callArgs(n)
	switch {
	case name == "__builtin_choose_expr" && len(args) == 3 && identName(args[2]) == markerPreserveAccessIndex:
		return pw.eval(args[1])
	case programMemoryHelpers[name] != "":
		return Provenance{OriginProgram, programMemoryHelpers[name]}
	case name == "bpf_get_current_task":
		return Provenance{OriginScalar, "bpf_get_current_task()"}
	case name == "bpf_get_current_task_btf", name == "bpf_task_pt_regs", name == "bpf_sock_from_file",
		strings.HasPrefix(name, "bpf_skc_to_"):
		return Provenance{OriginTrusted, name + "()"}
	case name == "bpf_per_cpu_ptr" || name == "bpf_this_cpu_ptr":
		if len(args) > 0 && pw.eval(args[0]).Origin == OriginTrusted {
			return Provenance{OriginTrusted, name + "() of a typed __ksym"}
		}
	case pw.ksyms[name]:
		return Provenance{OriginTrusted, "kfunc " + name + "()"}
	}
	if r, ok := pw.rets[name]; ok && pw.w.fns[name] != nil {
		return r
	}
	return unknownProv
}

// provHelperIDs are the numbers (enum bpf_func_id) of the helpers callResult knows, for
// programs that declare them as `static T (*name)(...) = (void *) ID;` of another name.
var provHelperIDs = map[int64]string{
	1: "bpf_map_lookup_elem", 35: "bpf_get_current_task", 131: "bpf_ringbuf_reserve",
	153: "bpf_per_cpu_ptr", 154: "bpf_this_cpu_ptr", 158: "bpf_get_current_task_btf",
}

// helperName is the helper a callee name calls.
func (pw *provWalker) helperName(name string) string {
	if id, ok := pw.w.helperNumbers()[name]; ok {
		if h := provHelperIDs[id]; h != "" {
			return h
		}
	}
	return name
}

// lastExpr is the value of a statement expression `({ ...; v; })`.
func lastExpr(cs *cc.CompoundStatement) cc.ExpressionNode {
	if cs == nil {
		return nil
	}
	var last *cc.BlockItem
	for l := cs.BlockItemList; l != nil; l = l.BlockItemList {
		last = l.BlockItem
	}
	if last == nil || last.Case != cc.BlockItemStmt || last.Statement == nil ||
		last.Statement.Case != cc.StatementExpr || last.Statement.ExpressionStatement == nil {
		return nil
	}
	return last.Statement.ExpressionStatement.ExpressionList
}

func isArray(t cc.Type) bool {
	if t == nil {
		return false
	}
	_, ok := t.Undecay().(*cc.ArrayType)
	return ok
}

func isPointer(t cc.Type) bool { return t != nil && t.Kind() == cc.Ptr }

// final is a provenance for the facts: no information is unknown.
func final(p Provenance) Provenance {
	if p.Origin == originNone {
		return unknownProv
	}
	return p
}

// pointerVars lists the locals and parameters that hold addresses, for the hover.
func (pw *provWalker) pointerVars() []PointerVar {
	x := pw.w.x
	var out []PointerVar
	for _, fi := range pw.w.order {
		seen := map[*cc.Declarator]bool{}
		for _, d := range pw.locals[fi] {
			if seen[d] {
				continue
			}
			seen[d] = true
			p := final(pw.value(slotKey{d, ""}))
			if !isPointer(d.Type()) && (p.Origin == OriginUnknown || !holdsAddress(d.Type())) {
				continue
			}
			r, ok := x.written(d.NameTok())
			if !ok {
				continue
			}
			out = append(out, PointerVar{Name: d.Name(), Func: fi.name, Decl: r, Uses: pw.uses[d], Provenance: p})
		}
	}
	return out
}

// written is where t is written in the main file: where cc/v4 places it, or in a macro's
// argument (BPF_PROG's parameters, bpf_printk's arguments); not a macro body's token.
func (x *extractor) written(t cc.Token) (Range, bool) {
	tr, _, ok := x.place(t)
	return tr, ok && tr.Start.Offset >= t.Position().Offset
}

// KernelHeader reports whether a record is declared in a kernel header: vmlinux.h (any
// vmlinux*.h) or a header of the kernel's include directories (linux/, asm*/), as
// opposed to the main file or the program's own headers.
func (x *extractor) kernelHeader(t cc.Type) bool {
	var file string
	switch r := t.(type) {
	case *cc.StructType:
		if tag := r.Tag(); tag.Ch != 0 {
			file = tag.Position().Filename
		}
	case *cc.UnionType:
		if tag := r.Tag(); tag.Ch != 0 {
			file = tag.Position().Filename
		}
	}
	if file == "" {
		if d := t.Typedef(); d != nil {
			file = d.Position().Filename
		}
	}
	if file == "" || file == x.path {
		return false
	}
	base, dir := filepath.Base(file), filepath.Base(filepath.Dir(file))
	return strings.HasPrefix(base, "vmlinux") || dir == "linux" || strings.HasPrefix(dir, "asm")
}
