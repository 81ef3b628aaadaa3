package analysis

import (
	"fmt"
	"strings"

	"github.com/corels/corels/btf"
	"github.com/corels/corels/compiler"
)

// lenses summarise each program (a function with SEC()): how many relocations its code
// has, its own and those of the functions it calls, and on how many target kernels all of
// them resolve (or are unreachable behind a guard): "SEC kprobe/do_exit: 12 relocations,
// resolve on 3/3 kernels".
func (a *analyzer) lenses() []Lens {
	byName := map[string]*compiler.Func{}
	for i := range a.res.Funcs {
		byName[a.res.Funcs[i].Name] = &a.res.Funcs[i]
	}
	var out []Lens
	for _, fn := range a.res.Funcs {
		if fn.Section == "" || !a.inFile(fn.Range) {
			continue
		}
		// The functions whose code ends up in the program.
		reach := map[string]bool{fn.Name: true}
		queue := []string{fn.Name}
		for len(queue) > 0 {
			f := byName[queue[0]]
			queue = queue[1:]
			if f == nil {
				continue
			}
			for _, c := range f.Calls {
				if !reach[c] {
					reach[c] = true
					queue = append(queue, c)
				}
			}
		}
		n := 0
		bad := make([]bool, len(a.kernels))
		for i, r := range a.res.Relocations {
			if !reach[r.Func] {
				continue
			}
			n++
			for j, v := range a.verdicts[i] {
				if v.Outcome == btf.Failed {
					bad[j] = true
				} else if v.Poison {
					if _, skip := a.skippedBy(r, a.kernels[j]); !skip {
						bad[j] = true
					}
				}
			}
		}
		title := fmt.Sprintf("SEC %s: %s", fn.Section, plural(n, "relocation"))
		if n == 0 {
			title = fmt.Sprintf("SEC %s: no CO-RE relocations", fn.Section)
		}
		if len(a.kernels) > 0 && n > 0 {
			var failing []string
			for j, b := range bad {
				if b {
					failing = append(failing, a.kernels[j].Name)
				}
			}
			title += fmt.Sprintf(", resolve on %d/%d kernels", len(a.kernels)-len(failing), len(a.kernels))
			if len(failing) > 0 {
				title += " (fail on " + strings.Join(failing, ", ") + ")"
			}
		}
		out = append(out, Lens{Range: fn.Range, Title: title})
	}
	return out
}
