package compiler

import (
	"sort"
	"strings"

	"modernc.org/cc/v4"
)

// Direct reads: loads through pointers to kernel records. In a program type whose context
// carries no BTF (kprobe, tracepoint, raw_tp, perf_event, uprobe...), a kernel pointer is
// a plain number to the verifier and dereferencing it is rejected; the data must be read
// with a probe-read helper (BPF_CORE_READ). tp_btf, fentry/fexit, lsm, iter and
// struct_ops programs get typed pointers and may load directly. The facts pass records
// every such load; analysis decides by section.

// contextRecords are the context types of non-BTF program types: loads through them are
// context accesses the verifier rewrites, not kernel reads.
var contextRecords = map[string]bool{
	"pt_regs": true, "user_pt_regs": true, "bpf_raw_tracepoint_args": true, "bpf_perf_event_data": true,
	"__sk_buff": true, "xdp_md": true, "bpf_sock_ops": true, "sk_msg_md": true, "sk_reuseport_md": true,
	"bpf_sock_addr": true, "bpf_sysctl": true, "bpf_sockopt": true, "bpf_cgroup_dev_ctx": true,
	"bpf_sk_lookup": true, "bpf_sock": true, "bpf_nf_ctx": true, "bpf_iter_meta": true,
}

func isContextRecord(t cc.Type) bool {
	name := recordName(t)
	return contextRecords[name] || strings.HasPrefix(name, "trace_event_raw_")
}

type loadWalker struct {
	w        *factWalker
	fi       *fnInfo
	consumed map[*cc.PostfixExpression]bool
	out      []DirectRead
}

func (w *factWalker) directReads() []DirectRead {
	var out []DirectRead
	for _, fi := range w.order {
		if fi.def.CompoundStatement == nil {
			continue
		}
		lw := &loadWalker{w: w, fi: fi, consumed: map[*cc.PostfixExpression]bool{}}
		lw.walk(fi.def.CompoundStatement, false)
		out = append(out, lw.out...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Range.Start.Offset < out[j].Range.Start.Offset })
	return out
}

// walk visits an evaluated expression; addr is set when its value is not loaded (its
// address is taken, it is stored to, or it is a record continued by `.`).
func (lw *loadWalker) walk(n cc.Node, addr bool) {
	switch n := n.(type) {
	case nil:
		return
	case *cc.PostfixExpression:
		if n == nil {
			return
		}
		switch n.Case {
		case cc.PostfixExpressionSelect, cc.PostfixExpressionPSelect, cc.PostfixExpressionIndex:
			if !addr && !lw.consumed[n] && loads(n.Type()) {
				lw.read(n)
			}
			base := n.PostfixExpression
			switch n.Case {
			case cc.PostfixExpressionSelect:
				lw.walk(base, true)
			case cc.PostfixExpressionPSelect:
				lw.walk(base, false)
			default:
				_, isArr := base.Type().Undecay().(*cc.ArrayType)
				lw.walk(base, isArr)
				lw.walk(n.ExpressionList, false)
			}
			return
		case cc.PostfixExpressionCall:
			args := callArgs(n)
			switch calleeName(n.PostfixExpression) {
			case "__builtin_choose_expr":
				if len(args) == 3 {
					switch identName(args[2]) {
					case markerPreserveAccessIndex:
						lw.walk(args[1], addr)
						return
					case markerOffsetof:
						return
					}
				}
			case "__builtin_preserve_field_info", "__builtin_preserve_type_info",
				"__builtin_preserve_enum_value", "__builtin_btf_type_id":
				return
			}
		}
	case *cc.PrimaryExpression:
		if n == nil {
			return
		}
		if n.Case == cc.PrimaryExpressionExpr {
			if l, ok := n.ExpressionList.(*cc.ExpressionList); !ok || l.ExpressionList == nil {
				lw.walk(n.ExpressionList, addr)
				return
			}
		}
	case *cc.ExpressionList:
		if n == nil {
			return
		}
		if n.ExpressionList == nil {
			lw.walk(n.AssignmentExpression, addr)
			return
		}
	case *cc.UnaryExpression:
		if n == nil {
			return
		}
		switch n.Case {
		case cc.UnaryExpressionAddrof:
			lw.walk(n.CastExpression, true)
			return
		case cc.UnaryExpressionSizeofExpr, cc.UnaryExpressionSizeofType,
			cc.UnaryExpressionAlignofExpr, cc.UnaryExpressionAlignofType:
			return
		}
	case *cc.AssignmentExpression:
		if n == nil {
			return
		}
		if n.Case == cc.AssignmentExpressionAssign {
			lw.walk(n.UnaryExpression, true)
			lw.walk(n.AssignmentExpression, false)
			return
		}
	case *cc.TypeName, *cc.DeclarationSpecifiers, *cc.SpecifierQualifierList, *cc.AbstractDeclarator:
		return
	}
	children(n, func(c cc.Node) { lw.walk(c, false) })
}

// loads reports whether reading a value of type t loads memory (arrays decay to their
// address, functions to theirs).
func loads(t cc.Type) bool {
	if t == nil {
		return false
	}
	if _, isArr := t.Undecay().(*cc.ArrayType); isArr {
		return false
	}
	return t.Kind() != cc.Function && t.Kind() != cc.Void
}

// read records the load n if it goes through a kernel pointer.
func (lw *loadWalker) read(n *cc.PostfixExpression) {
	if dr, ok := lw.chain(n); ok {
		lw.out = append(lw.out, dr)
	}
}

// chain describes the load n: the pointer its first dereference goes through must point
// to a kernel record that is not the program's context. When that pointer is itself loaded
// through a kernel pointer (`a->b->c`), the two are one read.
func (lw *loadWalker) chain(n *cc.PostfixExpression) (DirectRead, bool) {
	x := lw.w.x
	// Find the dereference: down through `.` and array subscripts.
	var ptr cc.ExpressionNode
	var rt cc.Type
	e := cc.ExpressionNode(n)
	for ptr == nil {
		p, ok := unparen(e).(*cc.PostfixExpression)
		if !ok {
			return DirectRead{}, false
		}
		switch p.Case {
		case cc.PostfixExpressionSelect:
			if u, ok := unparen(p.PostfixExpression).(*cc.UnaryExpression); ok && u.Case == cc.UnaryExpressionDeref {
				ptr, rt = u.CastExpression, p.PostfixExpression.Type()
				break
			}
			e = p.PostfixExpression
		case cc.PostfixExpressionPSelect:
			ptr, rt = p.PostfixExpression, pointee(p.PostfixExpression.Type())
		case cc.PostfixExpressionIndex:
			if _, isArr := p.PostfixExpression.Type().Undecay().(*cc.ArrayType); isArr {
				e = p.PostfixExpression
				break
			}
			ptr, rt = p.PostfixExpression, pointee(p.PostfixExpression.Type())
		default:
			return DirectRead{}, false
		}
	}
	if rt == nil || !isRecord(rt) || !x.records.preserved(rt) || isContextRecord(rt) {
		return DirectRead{}, false
	}
	base := final(lw.w.prov().eval(ptr))
	if base.Origin == OriginContext {
		return DirectRead{}, false // a context access, which the verifier checks or rewrites
	}
	dr := DirectRead{Func: lw.fi.name, Section: lw.fi.fn.Programs, Record: recordKeyword(rt), From: base, KernelHeader: x.kernelHeader(rt)}
	if r, ok := x.faithful(n); ok {
		dr.Range = r
	} else {
		dr.Range = x.rangeOf(n)
	}
	if n.Case != cc.PostfixExpressionIndex {
		if r, ok := x.tokenRange(n.Token2); ok {
			dr.Member = r
		}
		if f := n.Field(); f != nil {
			dr.Bitfield = f.IsBitfield()
		}
	}
	if dr.Member.Start.File == "" {
		dr.Member = dr.Range
	}
	// The path as BPF_CORE_READ arguments.
	root, ops, ok := chainOps(n)
	if !ok {
		return dr, true
	}
	// The pointers loaded on the way (`a->b` in `a->b->c`) are part of this read.
	for _, op := range ops[:len(ops)-1] {
		lw.consumed[op.node] = true
	}
	if rr := pointee(root.Type()); rr != nil && isRecord(rr) {
		dr.Record, dr.KernelHeader = recordKeyword(rr), x.kernelHeader(rr)
	}
	if b, ok := x.faithful(root); ok {
		dr.Base, dr.Path = b, pathOf(ops)
	}
	return dr, true
}
