package compiler

import (
	"reflect"
	"sync"

	"modernc.org/cc/v4"
)

// cc/v4 has no AST walker. walk_gen.go has one type switch per walk over cc/v4's node
// types, generated from them; the extractor walks the main file's AST several times per
// edit, and reflection there was most of the extraction's CPU. The reflective walker below
// defines which fields are walked: it is the fallback for a type the switches do not know
// and the reference walk_test.go holds the generated code to.
//
//go:generate go run ./internal/walkgen -o walk_gen.go

// children calls fn for every direct child node of n, in declaration order of the fields.
func children(n cc.Node, fn func(cc.Node)) {
	if !genChildren(n, fn) {
		reflectChildren(n, fn)
	}
}

// tokens calls fn for every token of the subtree at n.
func tokens(n cc.Node, fn func(cc.Token)) {
	ownTokens(n, fn)
	children(n, func(c cc.Node) { tokens(c, fn) })
}

// ownTokens calls fn for the tokens held by n itself, not by its children; a zero token is
// an optional part the source does not have.
func ownTokens(n cc.Node, fn func(cc.Token)) {
	// Tokens go by pointer up to here: boxing a whole cc.Token allocated once per token.
	visit := func(t *cc.Token) {
		if t.Ch != 0 {
			fn(*t)
		}
	}
	if !genOwnTokens(n, visit) {
		reflectOwnTokens(n, visit)
	}
}

// inspect walks the subtree at n depth first; fn returns false to skip a node's children.
func inspect(n cc.Node, fn func(cc.Node) bool) {
	if n == nil || !fn(n) {
		return
	}
	children(n, func(c cc.Node) { inspect(c, fn) })
}

var (
	nodeType  = reflect.TypeOf((*cc.Node)(nil)).Elem()
	tokenType = reflect.TypeOf(cc.Token{})

	fieldCache sync.Map // reflect.Type → *typeFields
)

type typeFields struct {
	nodes  []int // exported fields holding child nodes
	tokens []int // exported cc.Token fields
}

// fieldsOf is the rule internal/walkgen follows: exported fields of type cc.Token, and of an
// interface type implementing cc.Node or a pointer to a struct implementing it.
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

// structOf is the struct n points to, if it does.
func structOf(n cc.Node) (reflect.Value, bool) {
	v := reflect.ValueOf(n)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return reflect.Value{}, false
	}
	e := v.Elem()
	return e, e.Kind() == reflect.Struct
}

func reflectChildren(n cc.Node, fn func(cc.Node)) {
	e, ok := structOf(n)
	if !ok {
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

// reflectOwnTokens calls fn for every cc.Token field of n, zero tokens included.
func reflectOwnTokens(n cc.Node, fn func(*cc.Token)) {
	e, ok := structOf(n)
	if !ok {
		return
	}
	for _, i := range fieldsOf(e.Type()).tokens {
		fn(e.Field(i).Addr().Interface().(*cc.Token))
	}
}
