package lsp

import (
	"github.com/corels/corels/analysis"
	"github.com/corels/corels/compiler"
)

// analyzeFunc is the analysis step of the pipeline: compile result × kernels → report,
// plus the hover lookup of that report. Tests replace it to inject findings or bugs.
var analyzeFunc = analyze

func analyze(res *compiler.Result, src []byte, opts analysis.Options) (*analysis.Report, func(int) (analysis.Hover, bool)) {
	r := analysis.Analyze(res, src, opts)
	return r, r.HoverAt
}
