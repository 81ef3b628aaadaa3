// Package analysis turns compiler records and btf verdicts into what a BPF developer acts
// on: findings with stable codes and quick fixes, hover text, inlay hints and per-program
// summaries. It returns plain Go values; the language server and `corels check` present
// the same findings. It knows nothing of the LSP.
//
// # API
//
//	rep := analysis.Analyze(res, src, analysis.Options{Kernels: kernels})
//
// res is a compiler.Result and src the exact text it was compiled from. Every position is
// a compiler.Position (1-based line, byte column, byte Offset) in that text; an Edit's
// range is a byte range of it. The Report holds:
//
//   - Findings, sorted by position: parse-error (compiler diagnostics), core-reloc (one
//     hint per relocation written in the file), core-unresolved,
//     core-field-missing-unguarded, probe-read-not-relocatable and direct-kernel-read, each
//     with its quick fixes (a Fix is a title and text edits that keep the user's
//     formatting; apply them with ApplyEdits);
//   - Hints: "+0x510" after each relocated member access, kernels' offsets in the tooltip;
//   - Lenses: one per SEC() program, "SEC kprobe/do_exit: 12 relocations, resolve on 3/3 kernels";
//   - Verdicts: btf.Resolve of each relocation on each kernel.
//
// And answers, by byte offset:
//
//	rep.HoverAt(off) (Hover, bool)  // markdown for a relocated access, a type or enumerator of a CO-RE builtin, a __kconfig/__ksym extern, a pointer variable's provenance
//	rep.FindingsIn(start, end)      // findings overlapping a range, with their fixes (code actions)
//	rep.FixesIn(start, end)         // just the fixes
//	rep.HintsIn(start, end)         // inlay hints in a range
//	rep.HasErrors()                 // an error finding (corels check exits 1)
//
// With no kernels in Options, nothing is resolved: no core-unresolved nor
// core-field-missing-unguarded, hovers without kernel tables.
//
// # Rules
//
// Guards follow the loader and the verifier: a relocation failing on kernel K is harmless
// when a dominating CO-RE existence check (compiler.Relocation.Guards) evaluates on K to
// the value that skips it; the loader refusing the program (btf.Failed) is reported
// whatever the guards. Probe reads and direct reads come from the compiler's facts
// (compiler.Result.ProbeReads, DirectReads) and are reported only for kernel types
// (declared in a kernel header, or named like a kernel's struct) reached through kernel
// memory: a direct load through a kernel address held as a number (the compiler's
// provenance facts), a probe read with fixed offsets through a trusted pointer or such an
// address. The program's own types and memory, and unknown provenance, get no warning.
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
	Memo    *Memo         // resolutions carried from one analysis of the file to the next; nil: none
}

// Report is everything known about one version of one file.
type Report struct {
	Path     string
	Compile  *compiler.Result
	Findings []Finding
	Hints    []InlayHint
	Lenses   []Lens
	// Verdicts[i] are the per-kernel results of Compile.Relocations[i], in Options.Kernels order
	// (nil when the relocation has no local type).
	Verdicts [][]btf.Result

	src     []byte
	kernels []*btf.Kernel
	an      *analyzer
}
