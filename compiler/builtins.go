package compiler

import (
	"strconv"

	"modernc.org/cc/v4"
)

// builtinCall handles the CO-RE builtins; it reports false for any other call.
func (x *extractor) builtinCall(n *cc.PostfixExpression, region bool) bool {
	name := calleeName(n.PostfixExpression)
	args := callArgs(n)
	switch name {
	case "__builtin_choose_expr":
		if len(args) == 3 {
			switch identName(args[2]) {
			case markerPreserveAccessIndex:
				x.visit(args[1], true)
				return true
			case markerOffsetof:
				return true // folded to a constant by clang
			}
		}
	case "__builtin_preserve_field_info":
		if len(args) != 2 {
			return false
		}
		k, ok := constInt(args[1])
		if !ok || k < int64(FieldByteOffset) || k > int64(FieldRShiftU64) {
			x.diag(n, "__builtin_preserve_field_info: the second argument must be a constant from 0 to 5")
			return true
		}
		if p, ok := unparen(args[0]).(*cc.PostfixExpression); ok && isAccessCase(p) {
			before := len(x.relocs)
			x.access(p, true, Kind(k))
			if len(x.relocs) > before {
				return true
			}
		}
		x.diag(n, "__builtin_preserve_field_info: the first argument must be a member access")
		return true
	case "__builtin_preserve_type_info":
		if len(args) != 2 {
			return false
		}
		flag, _ := constInt(args[1])
		kind := map[int64]Kind{0: TypeExists, 1: TypeSize, 2: TypeMatches}[flag]
		x.typeReloc(n, args[0], kind)
		return true
	case "__builtin_btf_type_id":
		if len(args) != 2 {
			return false
		}
		flag, _ := constInt(args[1])
		kind := TypeIDLocal
		if flag == 1 {
			kind = TypeIDTarget
		}
		x.typeReloc(n, args[0], kind)
		return true
	case "__builtin_preserve_enum_value":
		if len(args) != 2 {
			return false
		}
		flag, _ := constInt(args[1])
		kind := EnumvalExists
		if flag == 1 {
			kind = EnumvalValue
		}
		x.enumReloc(n, args[0], kind)
		return true
	}
	return false
}

func isAccessCase(p *cc.PostfixExpression) bool {
	switch p.Case {
	case cc.PostfixExpressionSelect, cc.PostfixExpressionPSelect, cc.PostfixExpressionIndex:
		return true
	}
	return false
}

// typeReloc records a type-based relocation; the argument is `*(T *)0` as libbpf's macros
// write it, or any expression whose type is meant.
func (x *extractor) typeReloc(call *cc.PostfixExpression, arg cc.ExpressionNode, kind Kind) {
	t := metaType(arg)
	r := Relocation{
		Kind:   kind,
		Type:   typeName(t),
		Access: "0",
		Func:   x.fn,
		Range:  x.rangeOf(arg),
		Local:  x.btf.typeOf(t),
	}
	if r.Range.Start.File == "" {
		r.Range = x.rangeOf(call)
	}
	if t != nil && t.Kind() != cc.Void && !t.IsIncomplete() {
		r.Layout = Layout{Size: t.Size()}
	}
	x.relocs = append(x.relocs, r)
}

// enumReloc records an enumerator relocation: the argument is `*(E *)VALUE`.
func (x *extractor) enumReloc(call *cc.PostfixExpression, arg cc.ExpressionNode, kind Kind) {
	t := arg.Type()
	et, ok := t.(*cc.EnumType)
	var enumerator *cc.Enumerator
	inspect(arg, func(n cc.Node) bool {
		if p, ok := n.(*cc.PrimaryExpression); ok && p.Case == cc.PrimaryExpressionIdent {
			if e, ok := p.ResolvedTo().(*cc.Enumerator); ok {
				enumerator = e
				return false
			}
		}
		_, isType := n.(*cc.TypeName)
		return !isType
	})
	if !ok || enumerator == nil {
		x.diag(call, "__builtin_preserve_enum_value: the first argument must be *(enum type *)ENUMERATOR")
		return
	}
	idx := -1
	for i, e := range et.Enumerators() {
		if e.Token.SrcStr() == enumerator.Token.SrcStr() {
			idx = i
		}
	}
	if idx < 0 {
		x.diag(call, "__builtin_preserve_enum_value: "+enumerator.Token.SrcStr()+" is not an enumerator of "+t.String())
		return
	}
	r := Relocation{
		Kind:   kind,
		Type:   typeName(t),
		Access: itoa(idx),
		Func:   x.fn,
		Path:   []string{enumerator.Token.SrcStr()},
		Local:  x.btf.typeOf(t),
	}
	r.Range = x.enumUseRange(arg, enumerator.Token.SrcStr())
	if r.Range.Start.File == "" {
		r.Range = x.rangeOf(call)
	}
	x.relocs = append(x.relocs, r)
}

// enumUseRange finds the enumerator's name where the user wrote it.
func (x *extractor) enumUseRange(arg cc.Node, name string) Range {
	var r Range
	tokens(arg, func(t cc.Token) {
		if t.SrcStr() == name {
			if tr, ok := x.tokenRange(t); ok {
				r = tr
			}
		}
	})
	return r
}

// typeName is the name a type relocation records: typedef names are kept (libbpf looks up
// typedefs too), tags otherwise.
func typeName(t cc.Type) string {
	if t == nil {
		return ""
	}
	if d := t.Typedef(); d != nil {
		return d.Name()
	}
	switch t.Kind() {
	case cc.Struct, cc.Union, cc.Enum:
		return recordName(t)
	case cc.Ptr, cc.Array, cc.Function:
		return "" // BTF gives these no name; clang records the empty one
	}
	if n := intNames[t.Kind()]; n != "" {
		return n // the name clang gives the integer type in BTF
	}
	return t.String()
}

// metaType is the type a type-based builtin is asked about. libbpf writes the type T as
// `*(T *)0`; the expression's own type would be T decayed (an array typedef becomes a
// pointer), so T is read from the cast.
func metaType(arg cc.ExpressionNode) cc.Type {
	if u, ok := unparen(arg).(*cc.UnaryExpression); ok && u.Case == cc.UnaryExpressionDeref {
		if c, ok := u.CastExpression.(*cc.CastExpression); ok && c.Case == cc.CastExpressionCast {
			if pt, ok := c.Type().(*cc.PointerType); ok && pt.Elem() != nil {
				return pt.Elem()
			}
		}
	}
	return arg.Type()
}

func (x *extractor) diag(n cc.Node, msg string) {
	x.diags = append(x.diags, Diagnostic{Severity: "error", Message: msg, Range: x.rangeOf(n)})
}

func calleeName(e cc.ExpressionNode) string { return identName(e) }

func identName(e cc.ExpressionNode) string {
	if p, ok := unparen(e).(*cc.PrimaryExpression); ok && p.Case == cc.PrimaryExpressionIdent {
		return p.Token.SrcStr()
	}
	return ""
}

func callArgs(n *cc.PostfixExpression) []cc.ExpressionNode {
	var out []cc.ExpressionNode
	for l := n.ArgumentExpressionList; l != nil; l = l.ArgumentExpressionList {
		out = append(out, l.AssignmentExpression)
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }
