package analysis

import (
	"fmt"
	"strings"

	"github.com/corels/corels/btf"
	"github.com/corels/corels/compiler"
)

// Guards. The compiler lists, per relocation, the CO-RE existence checks that dominate it
// (compiler.Relocation.Guards). The loader patches each check with a constant, so on a
// given kernel a check has one value; when it is not the value the code needs, the code is
// dead on that kernel and the verifier never sees its (poisoned) instructions.

// guardValue is what the loader patches a check with on k; ok is false when the check
// itself cannot be resolved (then the program fails to load anyway, reported separately).
func (a *analyzer) guardValue(g compiler.Guard, k *btf.Kernel) (value, ok bool) {
	if g.Check.Local == nil {
		return false, false
	}
	v := a.resolve(g.Check, k)
	switch v.Outcome {
	case btf.Resolved:
		return v.Target != 0, true
	case btf.NotFound:
		return false, true
	}
	return false, false
}

// skippedBy returns a guard of r that makes r's code unreachable on k.
func (a *analyzer) skippedBy(r compiler.Relocation, k *btf.Kernel) (compiler.Guard, bool) {
	for _, g := range r.Guards {
		if v, ok := a.guardValue(g, k); ok && v != g.Want {
			return g, true
		}
	}
	return compiler.Guard{}, false
}

// describeGuard spells a guard as the libbpf macro that makes it, negated when the code
// needs it false: "!bpf_core_field_exists(task_struct.__state)".
func describeGuard(g compiler.Guard) string {
	c := g.Check
	var s string
	switch c.Kind {
	case compiler.FieldExists:
		s = "bpf_core_field_exists(" + fieldName(c) + ")"
	case compiler.TypeExists:
		s = "bpf_core_type_exists(" + cType(c) + ")"
	case compiler.TypeMatches:
		s = "bpf_core_type_matches(" + cType(c) + ")"
	case compiler.EnumvalExists:
		name := ""
		if len(c.Path) > 0 {
			name = c.Path[0]
		}
		s = "bpf_core_enum_value_exists(" + cType(c) + ", " + name + ")"
	default:
		s = c.Key()
	}
	if !g.Want {
		return "!" + s
	}
	return s
}

// guardFix inserts, before the statement holding r, an early return unless the field (or,
// when typeMissing, the root type) exists: the skeleton of a guard, which the user
// completes with the other kernels' way of getting the value.
func (a *analyzer) guardFix(r compiler.Relocation, typeMissing bool) (Fix, bool) {
	if !a.inFile(r.Stmt) || r.Type == "" {
		return Fix{}, false
	}
	var check, title string
	typ := cType(r)
	defined := a.res.Defined
	switch {
	case typeMissing:
		if defined["bpf_core_type_exists"] {
			check = "bpf_core_type_exists(" + typ + ")"
		} else {
			check = "__builtin_preserve_type_info(*(" + typ + " *)0, 0)"
		}
		title = "Return early unless " + typ + " exists (bpf_core_type_exists guard)"
	default:
		path := memberPath(r.Path)
		if path == "" {
			return Fix{}, false
		}
		if defined["bpf_core_field_exists"] {
			check = "bpf_core_field_exists(" + typ + ", " + path + ")"
		} else {
			check = "__builtin_preserve_field_info(((" + typ + " *)0)->" + path + ", 2)"
		}
		title = "Return early unless " + fieldName(r) + " exists (bpf_core_field_exists guard)"
	}
	ret := "return 0;"
	if fn := a.function(r.Func); fn != nil && fn.Void {
		ret = "return;"
	}
	start := r.Stmt.Start.Offset
	ls := start
	for ls > 0 && a.src[ls-1] != '\n' {
		ls--
	}
	indent := string(a.src[ls:start])
	var edit Edit
	if strings.TrimLeft(indent, " \t") == "" {
		unit := "\t"
		if !strings.Contains(indent, "\t") && indent != "" {
			unit = "    "
		}
		edit = Edit{Range: a.rng(ls, ls), NewText: fmt.Sprintf("%sif (!%s)\n%s%s%s\n", indent, check, indent, unit, ret)}
	} else {
		edit = Edit{Range: a.rng(start, start), NewText: fmt.Sprintf("if (!%s) %s ", check, ret)}
	}
	return Fix{Title: title, Edits: []Edit{edit}}, true
}

// function finds a function of the file by name.
func (a *analyzer) function(name string) *compiler.Func {
	for i := range a.res.Funcs {
		if a.res.Funcs[i].Name == name {
			return &a.res.Funcs[i]
		}
	}
	return nil
}
