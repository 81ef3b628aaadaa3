package lsp

import (
	"fmt"
	"sort"
	"strings"

	"github.com/corels/corels/analysis"
	"github.com/corels/corels/btf"
	"github.com/corels/corels/compiler"
)

// analyzeFunc is the analysis step of the pipeline: compile result × kernels → report,
// plus the hover lookup of that report.
var analyzeFunc = analyze

func analyze(res *compiler.Result, src []byte, opts analysis.Options) (*analysis.Report, func(int) (analysis.Hover, bool)) {
	r := analysis.Analyze(res, src, opts)
	return r, r.HoverAt
}

// analysisWired is true once analyzeFunc is analysis.Analyze.
const analysisWired = true

// basicAnalyze is the server's own minimal analysis from compiler.Result and btf.Resolve
// (parse errors, one core-reloc hint per relocation, core-unresolved, inlay hints,
// per-program lenses and hovers). It served before analysis.Analyze existed; tests use it
// to exercise the protocol side by itself.
func basicAnalyze(res *compiler.Result, src []byte, opts analysis.Options) (*analysis.Report, func(int) (analysis.Hover, bool)) {
	rep := &analysis.Report{Path: res.Path, Compile: res}
	for _, d := range res.Diagnostics {
		sev := analysis.Error
		if d.Severity == "warning" {
			sev = analysis.Warning
		}
		rep.Findings = append(rep.Findings, analysis.Finding{Code: analysis.CodeParseError, Severity: sev, Message: d.Message, Range: d.Range})
	}
	rep.Verdicts = make([][]btf.Result, len(res.Relocations))
	for i, r := range res.Relocations {
		for _, k := range opts.Kernels {
			rep.Verdicts[i] = append(rep.Verdicts[i], btf.Resolve(btf.Relocation{Kind: btf.Kind(r.Kind), Local: r.Local, Access: r.Access}, k))
		}
		if r.Range.Start.File != "" && r.Range.Start.File != res.Path {
			continue
		}
		rep.Findings = append(rep.Findings, analysis.Finding{
			Code: analysis.CodeCoreReloc, Severity: analysis.Hint, Range: r.Range,
			Message: "CO-RE " + describeReloc(r),
		})
		var failed []string
		for _, v := range rep.Verdicts[i] {
			if v.Outcome == btf.Failed || v.Poison {
				failed = append(failed, v.Kernel+": "+v.Reason)
			}
		}
		if len(failed) > 0 {
			sev := analysis.Warning
			if len(failed) == len(opts.Kernels) {
				sev = analysis.Error
			}
			rep.Findings = append(rep.Findings, analysis.Finding{
				Code: analysis.CodeCoreUnresolved, Severity: sev, Range: r.Range,
				Message: fmt.Sprintf("%s %s %s does not resolve on %d of %d kernels: %s", r.Kind, r.Type, r.Access, len(failed), len(opts.Kernels), strings.Join(failed, "; ")),
			})
		}
		if r.Kind == compiler.FieldByteOffset {
			rep.Hints = append(rep.Hints, analysis.InlayHint{
				Position: r.Range.End,
				Label:    fmt.Sprintf("+%#x", r.Layout.Offset),
				Tooltip:  "CO-RE " + describeReloc(r),
			})
		}
	}
	rep.Lenses = basicLenses(res, src, rep.Verdicts, len(opts.Kernels))
	hover := func(off int) (analysis.Hover, bool) {
		for i, r := range res.Relocations {
			if r.Range.Start.File != "" && r.Range.Start.File != res.Path {
				continue
			}
			if off < r.Range.Start.Offset || off > r.Range.End.Offset {
				continue
			}
			return analysis.Hover{Range: r.Range, Markdown: relocHover(r, rep.Verdicts[i])}, true
		}
		return analysis.Hover{}, false
	}
	return rep, hover
}

func describeReloc(r compiler.Relocation) string {
	s := fmt.Sprintf("%s %s %s", r.Kind, r.Type, r.Access)
	if len(r.Path) > 0 {
		s += " → " + strings.Join(r.Path, ".")
	}
	if r.Kind.IsField() {
		s += fmt.Sprintf(", offset %d, %d bytes", r.Layout.Offset, r.Layout.Size)
	}
	return s
}

func relocHover(r compiler.Relocation, verdicts []btf.Result) string {
	var b strings.Builder
	name := r.Type
	if len(r.Path) > 0 {
		name += "." + strings.Join(r.Path, ".")
	}
	fmt.Fprintf(&b, "**`%s`** — CO-RE `%s` relocation\n\n", name, r.Kind)
	if r.Kind.IsField() {
		fmt.Fprintf(&b, "local offset **%d** (%#x), %d bytes", r.Layout.Offset, r.Layout.Offset, r.Layout.Size)
		if r.Layout.BitSize > 0 {
			fmt.Fprintf(&b, ", bits %d..%d", r.Layout.BitOffset, r.Layout.BitOffset+r.Layout.BitSize-1)
		}
		b.WriteString("\n\n")
	}
	fmt.Fprintf(&b, "record: `%s %s %s`", r.Kind, r.Type, r.Access)
	if r.Macro != "" {
		fmt.Fprintf(&b, " (in macro `%s`)", r.Macro)
	}
	b.WriteString("\n")
	if len(verdicts) > 0 {
		b.WriteString("\n| kernel | result |\n|---|---|\n")
		for _, v := range verdicts {
			fmt.Fprintf(&b, "| %s | %s |\n", v.Kernel, verdictText(v))
		}
	}
	return b.String()
}

func verdictText(v btf.Result) string {
	switch {
	case v.Outcome == btf.Failed:
		return "load fails: " + v.Reason
	case v.Outcome == btf.NotFound && v.Poison:
		return "not found (instruction poisoned): " + v.Reason
	case v.Outcome == btf.NotFound:
		return fmt.Sprintf("not found → %d", v.Target)
	case v.Kind.IsField() && v.Kind == btf.FieldByteOffset:
		return fmt.Sprintf("offset %d (%#x)", v.Target, v.Target)
	}
	return fmt.Sprintf("%d", v.Target)
}

// basicLenses summarizes relocations per program (SEC function), placed on the program:
// how many, and on how many kernels all of them resolve. A relocation belongs to the
// program of its function (BPF_PROG-style macros name the inner function ____NAME), else
// to the only program of its section.
func basicLenses(res *compiler.Result, src []byte, verdicts [][]btf.Result, nk int) []analysis.Lens {
	progs := []outlineItem{}
	for _, it := range outline(src) {
		if it.kind == outlineProgram {
			progs = append(progs, it)
		}
	}
	type acc struct {
		n      int
		failed map[int]bool // kernels on which some relocation fails
	}
	accs := make([]acc, len(progs))
	for i := range accs {
		accs[i].failed = map[int]bool{}
	}
	for i, r := range res.Relocations {
		owner := -1
		for j, p := range progs {
			if r.Func == p.name || r.Func == "____"+p.name {
				owner = j
				break
			}
		}
		if owner < 0 {
			for j, p := range progs {
				if p.section == r.Section && r.Section != "" {
					if owner >= 0 {
						owner = -2 // ambiguous
						break
					}
					owner = j
				}
			}
		}
		if owner < 0 {
			continue
		}
		accs[owner].n++
		for k, v := range verdicts[i] {
			if v.Outcome == btf.Failed || v.Poison {
				accs[owner].failed[k] = true
			}
		}
	}
	lt := newMapper(src, encUTF8)
	var lenses []analysis.Lens
	for j, it := range progs {
		a := accs[j]
		title := fmt.Sprintf("SEC %s: %d relocation%s", it.section, a.n, plural(a.n))
		if nk > 0 && a.n > 0 {
			title += fmt.Sprintf(", resolve on %d/%d kernel%s", nk-len(a.failed), nk, plural(nk))
		}
		p := lt.position(it.start)
		pos := compiler.Position{File: res.Path, Line: int(p.Line) + 1, Col: int(p.Character) + 1, Offset: it.start}
		lenses = append(lenses, analysis.Lens{Range: compiler.Range{Start: pos, End: pos}, Title: title})
	}
	sort.SliceStable(lenses, func(i, j int) bool { return lenses[i].Range.Start.Offset < lenses[j].Range.Start.Offset })
	return lenses
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
