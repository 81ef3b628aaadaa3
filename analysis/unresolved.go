package analysis

import (
	"fmt"
	"strings"

	"github.com/corels/corels/btf"
	"github.com/corels/corels/compiler"
)

// unresolvedFindings reports relocations that break loading on some target kernels:
//
//   - the loader refuses the program (btf.Failed: ambiguous candidates, a bitfield it
//     cannot load...), whatever the guards say;
//   - the instruction is poisoned (the field, type or enumerator is missing) and no guard
//     makes the code unreachable on that kernel: the verifier rejects the program.
//
// A field (or type) missing on some kernels and read with no guard at all is
// core-field-missing-unguarded, with a guard skeleton as its fix; everything else is
// core-unresolved: an error when it fails on every target kernel, a warning otherwise.
func (a *analyzer) unresolvedFindings() []Finding {
	n := len(a.kernels)
	if n == 0 {
		return nil
	}
	var out []Finding
	for i, r := range a.res.Relocations {
		vs := a.verdicts[i]
		if vs == nil || !a.inFile(r.Range) {
			continue
		}
		var failing []*btf.Kernel
		var reasons []string
		refused, typeMissing := false, false
		var ineffective []compiler.Guard // guards present that did not skip a failing kernel
		for j, v := range vs {
			k := a.kernels[j]
			switch {
			case v.Outcome == btf.Failed:
				refused = true
			case v.Poison:
				if _, skip := a.skippedBy(r, k); skip {
					continue
				}
				if v.Candidates == 0 {
					typeMissing = true
				}
				ineffective = r.Guards
			default:
				continue
			}
			failing = append(failing, k)
			reasons = append(reasons, v.Reason)
		}
		if len(failing) == 0 {
			continue
		}
		sev := Warning
		if len(failing) == n {
			sev = Error
		}
		why := joinReasons(failing, reasons)
		if !refused && len(r.Guards) == 0 && len(failing) < n && (r.Kind.IsField() || typeMissing) {
			what := fieldName(r) + " is missing"
			if typeMissing {
				what = cType(r) + " is missing"
			}
			f := Finding{
				Code:     CodeFieldMissingUnguarded,
				Severity: Warning,
				Range:    r.Range,
				Message: fmt.Sprintf("%s on %s and read without a %s guard: the verifier rejects the program there (%s)",
					what, kernelNames(failing), guardMacro(typeMissing), why),
			}
			if fix, ok := a.guardFix(r, typeMissing); ok {
				f.Fixes = []Fix{fix}
			}
			out = append(out, f)
			continue
		}
		verb := "does not resolve"
		if refused {
			verb = "makes the loader refuse the program"
		}
		msg := fmt.Sprintf("CO-RE %s %s %s (%s) %s on %s: %s", r.Kind, typeName(r.Type), r.Access, fieldName(r), verb, kernelNames(failing), why)
		if len(ineffective) > 0 && !refused {
			var gs []string
			for _, g := range ineffective {
				gs = append(gs, describeGuard(g))
			}
			msg += fmt.Sprintf("; the checks it depends on (%s) do not skip it there", strings.Join(gs, ", "))
		}
		if s := a.suggestion(r, vs, len(failing) == n, typeMissing, refused); s != "" {
			msg += " — " + s
		}
		out = append(out, Finding{Code: CodeCoreUnresolved, Severity: sev, Range: r.Range, Message: msg})
	}
	return out
}

func guardMacro(typeMissing bool) string {
	if typeMissing {
		return "bpf_core_type_exists()"
	}
	return "bpf_core_field_exists()"
}

// joinReasons gives btf's reason once when the kernels agree (up to their names), else one
// reason per kernel.
func joinReasons(ks []*btf.Kernel, reasons []string) string {
	same := true
	first := strings.ReplaceAll(reasons[0], ks[0].Name, "\x00")
	for i := 1; i < len(reasons); i++ {
		if strings.ReplaceAll(reasons[i], ks[i].Name, "\x00") != first {
			same = false
			break
		}
	}
	if same {
		return reasons[0]
	}
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = ks[i].Name + ": " + r
	}
	return strings.Join(parts, "; ")
}

// suggestion says what to do about an unresolved relocation.
func (a *analyzer) suggestion(r compiler.Relocation, vs []btf.Result, everywhere, typeMissing, refused bool) string {
	if refused {
		return ""
	}
	typ := cType(r)
	switch {
	case r.Kind.IsEnum():
		name := ""
		if len(r.Path) > 0 {
			name = r.Path[0]
		}
		if everywhere {
			return fmt.Sprintf("no target kernel has %s: check its spelling", name)
		}
		return fmt.Sprintf("guard it with bpf_core_enum_value_exists(%s, %s)", typ, name)
	case typeMissing && everywhere:
		return fmt.Sprintf("no target kernel has %s: a local type needs a kernel type of the same name (a ___flavor suffix is ignored)", typ)
	case typeMissing:
		return fmt.Sprintf("guard it with bpf_core_type_exists(%s)", typ)
	case r.Kind.IsField() && everywhere:
		return "no target kernel has it: check the member's name, or describe the kernel's layout with a ___flavor struct"
	case r.Kind.IsField():
		base := typ
		if i := strings.LastIndex(base, "___"); i > 0 {
			base = base[:i]
		}
		return fmt.Sprintf("read it under if (bpf_core_field_exists(%s, %s)), and other kernels' layout through a `%s___old` flavor", typ, memberPath(r.Path), base)
	}
	return ""
}
