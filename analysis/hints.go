package analysis

import (
	"fmt"
	"strings"

	"github.com/corels/corels/btf"
	"github.com/corels/corels/compiler"
)

// hints are the inlay hints: the local offset ("+0x510") after each member access that
// relocates (byte_off written in the file), with the kernels' offsets in the tooltip.
func (a *analyzer) hints() []InlayHint {
	var out []InlayHint
	seen := map[string]bool{}
	for i, r := range a.res.Relocations {
		if r.Kind != compiler.FieldByteOffset || r.Macro != "" || !a.inFile(r.Range) {
			continue
		}
		label := fmt.Sprintf("+%#x", r.Layout.Offset)
		if r.Layout.BitSize > 0 {
			label += fmt.Sprintf(":%d", r.Layout.BitOffset-r.Layout.Offset*8)
		}
		key := fmt.Sprintf("%d %s", r.Range.End.Offset, label)
		if seen[key] {
			continue
		}
		seen[key] = true
		var tip strings.Builder
		tip.WriteString("CO-RE " + DescribeRelocation(r))
		for j, v := range a.verdicts[i] {
			k := a.kernels[j]
			fmt.Fprintf(&tip, "\n%s: %s", k.Name, a.shortVerdict(r, v, k))
		}
		out = append(out, InlayHint{Position: r.Range.End, Label: label, Tooltip: tip.String()})
	}
	return out
}

func (a *analyzer) shortVerdict(r compiler.Relocation, v btf.Result, k *btf.Kernel) string {
	switch {
	case v.Outcome == btf.Failed:
		return "load fails (" + v.Reason + ")"
	case v.Poison:
		if _, skip := a.skippedBy(r, k); skip {
			return "missing (guarded)"
		}
		return "missing"
	case v.Outcome == btf.NotFound:
		return "0"
	}
	if r.Kind == compiler.FieldByteOffset {
		return fmt.Sprintf("+%#x", v.Target)
	}
	return fmt.Sprint(v.Target)
}
