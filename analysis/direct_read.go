package analysis

import (
	"fmt"
	"strings"

	"github.com/corels/corels/compiler"
)

// nonBTFTracing are the program types (SEC prefixes) whose context carries no BTF: a
// kernel pointer is a plain number there, and the verifier rejects loads through it.
// tp_btf, fentry/fexit/fmod_ret, lsm, iter and struct_ops programs get typed pointers.
var nonBTFTracing = map[string]bool{
	"kprobe": true, "kretprobe": true, "kprobe.multi": true, "kretprobe.multi": true,
	"uprobe": true, "uretprobe": true, "uprobe.s": true, "uretprobe.s": true,
	"uprobe.multi": true, "uretprobe.multi": true, "usdt": true,
	"tracepoint": true, "tp": true, "raw_tracepoint": true, "raw_tp": true,
	"raw_tracepoint.w": true, "raw_tp.w": true, "perf_event": true,
	"ksyscall": true, "kretsyscall": true,
}

// NonBTFSection reports whether a SEC() names a tracing program type without BTF
// (kprobe/..., tracepoint/..., raw_tp/..., uprobe/..., perf_event, ksyscall/...).
func NonBTFSection(sec string) bool {
	kind, _, _ := strings.Cut(sec, "/")
	return nonBTFTracing[kind]
}

// directReadFindings: a load through a kernel pointer in a program without BTF.
func (a *analyzer) directReadFindings() []Finding {
	var out []Finding
	for _, d := range a.res.DirectReads {
		var secs []string
		for _, s := range strings.Split(d.Section, ",") {
			if NonBTFSection(s) {
				secs = append(secs, s)
			}
		}
		if len(secs) == 0 || !a.inFile(d.Range) {
			continue
		}
		what := strings.TrimPrefix(strings.TrimPrefix(d.Record, "struct "), "union ")
		f := Finding{
			Code:     CodeDirectKernelRead,
			Severity: Warning,
			Range:    d.Range,
			Message: fmt.Sprintf("%s dereferences a %s pointer directly in %s: programs of this type get kernel pointers as plain numbers, and the verifier rejects the load; read it with BPF_CORE_READ() (or attach with tp_btf/fentry, where direct reads are allowed)",
				a.text(d.Range), what, strings.Join(secs, ", ")),
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
