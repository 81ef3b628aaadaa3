// Package analysis turns compiler records and btf verdicts into what a BPF developer acts
// on: findings with stable codes and quick fixes, hover text, inlay hints and per-program
// summaries. It returns plain Go values; the language server and `corels check` present
// the same findings. It knows nothing of the LSP.
package analysis

import (
	"github.com/corels/corels/btf"
	"github.com/corels/corels/compiler"
)

// Severity orders findings like compilers do.
type Severity int

const (
	Error Severity = iota + 1
	Warning
	Info
	Hint
)

func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	case Info:
		return "info"
	case Hint:
		return "hint"
	}
	return "unknown"
}

// Finding codes; stable, documented, and matched by tests and users' suppressions.
const (
	CodeCoreReloc             = "core-reloc"
	CodeProbeReadNotReloc     = "probe-read-not-relocatable"
	CodeCoreUnresolved        = "core-unresolved"
	CodeFieldMissingUnguarded = "core-field-missing-unguarded"
	CodeDirectKernelRead      = "direct-kernel-read"
	CodeParseError            = "parse-error"
)

// Finding is one diagnostic.
type Finding struct {
	Code     string
	Severity Severity
	Message  string
	Range    compiler.Range
	Fixes    []Fix
}

// Fix is a quick fix: text edits that keep the user's formatting.
type Fix struct {
	Title string
	Edits []Edit
}

// Edit replaces Range (byte offsets in the file) with NewText.
type Edit struct {
	Range   compiler.Range
	NewText string
}

// Hover is markdown for a range of the file.
type Hover struct {
	Range    compiler.Range
	Markdown string
}

// InlayHint is a label shown after Position (e.g. "+0x510" after a relocated member).
type InlayHint struct {
	Position compiler.Position
	Label    string
	Tooltip  string
}

// Lens is a per-program summary shown above a SEC() function.
type Lens struct {
	Range compiler.Range
	Title string // "SEC kprobe/do_exit: 12 relocations, resolve on 3/3 kernels"
}

// Options configure an analysis.
type Options struct {
	Kernels []*btf.Kernel // target kernels; none: no resolution findings
}

// Report is everything known about one version of one file.
type Report struct {
	Path     string
	Compile  *compiler.Result
	Findings []Finding
	Hints    []InlayHint
	Lenses   []Lens
	// Verdicts[i] are the per-kernel results of Compile.Relocations[i], in Options.Kernels order.
	Verdicts [][]btf.Result
}
