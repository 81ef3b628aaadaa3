package compiler

import (
	"reflect"
	"sync"

	"modernc.org/cc/v4"
)

// cc/v4 has no AST walker; this one descends through the exported node fields of any
// node type by reflection, with the field lists cached per type.

var (
	nodeType  = reflect.TypeOf((*cc.Node)(nil)).Elem()
	tokenType = reflect.TypeOf(cc.Token{})

	fieldCache sync.Map // reflect.Type → *typeFields
)

type typeFields struct {
	nodes  []int // exported fields holding child nodes
	tokens []int // exported cc.Token fields
}

func fieldsOf(t reflect.Type) *typeFields {
	if v, ok := fieldCache.Load(t); ok {
		return v.(*typeFields)
	}
	tf := &typeFields{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		switch {
		case f.Type == tokenType:
			tf.tokens = append(tf.tokens, i)
		case f.Type.Kind() == reflect.Interface && f.Type.Implements(nodeType),
			f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct && f.Type.Implements(nodeType):
			tf.nodes = append(tf.nodes, i)
		}
	}
	fieldCache.Store(t, tf)
	return tf
}

// children calls fn for every direct child node of n, in source order of the fields.
func children(n cc.Node, fn func(cc.Node)) {
	v := reflect.ValueOf(n)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return
	}
	e := v.Elem()
	if e.Kind() != reflect.Struct {
		return
	}
	for _, i := range fieldsOf(e.Type()).nodes {
		f := e.Field(i)
		if f.IsNil() {
			continue
		}
		if c, ok := f.Interface().(cc.Node); ok {
			fn(c)
		}
	}
}

// tokens calls fn for every token of the subtree at n.
func tokens(n cc.Node, fn func(cc.Token)) {
	ownTokens(n, fn)
	children(n, func(c cc.Node) { tokens(c, fn) })
}

// ownTokens calls fn for the tokens held by n itself, not by its children.
func ownTokens(n cc.Node, fn func(cc.Token)) {
	v := reflect.ValueOf(n)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return
	}
	e := v.Elem()
	if e.Kind() != reflect.Struct {
		return
	}
	for _, i := range fieldsOf(e.Type()).tokens {
		if t := e.Field(i).Interface().(cc.Token); t.Ch != 0 {
			fn(t)
		}
	}
}

// inspect walks the subtree at n depth first; fn returns false to skip a node's children.
func inspect(n cc.Node, fn func(cc.Node) bool) {
	if n == nil || !fn(n) {
		return
	}
	children(n, func(c cc.Node) { inspect(c, fn) })
}
