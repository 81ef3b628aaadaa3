package analysis

import (
	"fmt"
	"strings"

	"github.com/corels/corels/compiler"
)

// directReadFindings: a load through a kernel address the program holds as a number
// (bpf_get_current_task(), a kprobe's registers, a raw_tp's arguments, a value read with a
// probe-read helper), which the verifier rejects, of a kernel type. Loads through the
// context, trusted pointers (tp_btf/fentry/lsm/iter arguments, bpf_get_current_task_btf(),
// kfunc returns...) and program-owned memory are legal.
func (a *analyzer) directReadFindings() []Finding {
	var out []Finding
	for _, d := range a.res.DirectReads {
		if d.From.Origin != compiler.OriginScalar || !a.inFile(d.Range) || !a.kernelType(d.Record, d.KernelHeader) {
			continue
		}
		what := strings.TrimPrefix(strings.TrimPrefix(d.Record, "struct "), "union ")
		where := ""
		if d.Section != "" {
			where = " in " + strings.ReplaceAll(d.Section, ",", ", ")
		}
		f := Finding{
			Code:     CodeDirectKernelRead,
			Severity: Warning,
			Range:    d.Range,
			Message: fmt.Sprintf("%s dereferences a %s pointer directly%s, but the pointer is a kernel address held as a number (%s): the verifier rejects the load; read it with BPF_CORE_READ() (or get a trusted pointer: tp_btf/fentry arguments, bpf_get_current_task_btf())",
				a.text(d.Range), what, where, d.From.Source),
		}
		if fix, ok := a.directReadFix(d); ok {
			f.Fixes = []Fix{fix}
		}
		out = append(out, f)
	}
	return out
}

func (a *analyzer) directReadFix(d compiler.DirectRead) (Fix, bool) {
	if !a.inFile(d.Base) || len(d.Path) == 0 {
		return Fix{}, false
	}
	macro := "BPF_CORE_READ"
	if d.Bitfield {
		if len(d.Path) != 1 || strings.ContainsAny(d.Path[0], ".[") {
			return Fix{}, false
		}
		macro = "BPF_CORE_READ_BITFIELD_PROBED"
	}
	text := fmt.Sprintf("%s(%s, %s)", macro, a.text(d.Base), strings.Join(d.Path, ", "))
	return a.rewriteFix(macro, d.Range, text), true
}
