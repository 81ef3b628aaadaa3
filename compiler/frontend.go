package compiler

import (
	"bytes"
	"regexp"
)

// Source rewrites for cc/v4 v4.31.0 parser gaps that real BPF programs hit. Each keeps the
// type clang sees and the line structure, so positions on other lines stay valid. The
// reproducers are in frontend_test.go (ccBugs), which checks that cc/v4 still needs them.

// arrayFunctionType matches libbpf's __array(name, T (params)) of a program array map, whose
// value type is a function type written as a type name.
var arrayFunctionType = regexp.MustCompile(`__array\([ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*,[ \t]*([A-Za-z_][A-Za-z0-9_ \t*]*?)[ \t]*\(([^()]*)\)[ \t]*\)`)

// rewriteFunctionTypeNames rewrites `__array(values, int (void *))` (the prog-array maps of
// libbpf programs, e.g. the kernel selftest test_prog_array_init.c) as
// `__array(values, __typeof__(*(int (*)(void *))0))`: the same function type, spelled
// without an abstract function declarator, which cc/v4 cannot parse in a type name
// ("unexpected '(', expected abstract declarator").
func rewriteFunctionTypeNames(src []byte) []byte {
	if !bytes.Contains(src, []byte("__array(")) {
		return src
	}
	return arrayFunctionType.ReplaceAll(src, []byte("__array($1, __typeof__(*($2 (*)($3))0))"))
}
