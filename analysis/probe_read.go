package analysis

import (
	"fmt"
	"strings"

	"github.com/corels/corels/compiler"
)

// probeReadFindings: a probe-read helper whose source address is computed with offsets
// compiled in (member or array accesses of records without preserve_access_index, outside
// __builtin_preserve_access_index) reads the wrong bytes on kernels whose layout differs.
// Only reads of kernel memory count: at least one access of a kernel type through a
// kernel pointer (probe-read sources of the program's own memory or types are its own
// layout). The message names the accesses of kernel types not in program memory.
// The fixes make the address relocatable: wrap it in __builtin_preserve_access_index(),
// or, where the call has the shape, rewrite it to libbpf's BPF_CORE_READ_INTO() (or
// bpf_core_read()), adding `#include <bpf/bpf_core_read.h>` when the file lacks it.
func (a *analyzer) probeReadFindings() []Finding {
	var out []Finding
	for _, p := range a.res.ProbeReads {
		kernel := false
		var listed []compiler.FixedAccess
		for _, u := range p.Unpreserved {
			if u.From.Origin == compiler.OriginProgram || !a.kernelType(u.Record, u.KernelHeader) {
				continue
			}
			listed = append(listed, u)
			kernel = kernel || kernelMemory(u.From)
		}
		if !kernel {
			continue
		}
		// Where the read is written: its source argument, else the call, else the name of
		// the macro that makes the call (a member named in another macro's body is
		// written at that macro's definition, far from the read).
		rng := p.Args[2]
		if !a.inFile(rng) {
			rng = p.Call
		}
		if !a.inFile(rng) && p.Pos.File != "" && samePath(p.Pos.File, a.res.Path) && p.Pos.Offset < len(a.src) {
			rng = a.rng(p.Pos.Offset, wordEnd(a.src, p.Pos.Offset))
		}
		if !a.inFile(rng) {
			rng = compiler.Range{}
			for _, u := range listed {
				if a.inFile(u.Range) {
					rng = u.Range
					break
				}
			}
			if !a.inFile(rng) {
				continue
			}
		}
		var fields []string
		seen := map[string]bool{}
		for _, u := range listed {
			name := strings.TrimPrefix(strings.TrimPrefix(u.Record, "struct "), "union ")
			if u.Member == "[]" {
				name += "[]"
			} else {
				name += "." + u.Member
			}
			if !seen[name] {
				seen[name] = true
				fields = append(fields, name)
			}
		}
		f := Finding{
			Code:     CodeProbeReadNotReloc,
			Severity: Warning,
			Range:    rng,
			Message: fmt.Sprintf("%s reads from an address computed with offsets fixed at compile time (%s, no preserve_access_index): wrong on kernels whose layout differs; make it a CO-RE read",
				p.Name, strings.Join(fields, ", ")),
		}
		if a.inFile(p.Args[2]) {
			src := a.text(p.Args[2])
			f.Fixes = append(f.Fixes, Fix{
				Title: "Wrap the source in __builtin_preserve_access_index()",
				Edits: []Edit{{Range: p.Args[2], NewText: "__builtin_preserve_access_index(" + src + ")"}},
			})
		}
		if fix, ok := a.rewriteProbeRead(p); ok {
			f.Fixes = append(f.Fixes, fix)
		}
		out = append(out, f)
	}
	return out
}

// intoMacros and readMacros are the CO-RE forms of each probe-read helper.
var intoMacros = map[string]string{
	"bpf_probe_read":            "BPF_CORE_READ_INTO",
	"bpf_probe_read_kernel":     "BPF_CORE_READ_INTO",
	"bpf_probe_read_str":        "BPF_CORE_READ_STR_INTO",
	"bpf_probe_read_kernel_str": "BPF_CORE_READ_STR_INTO",
	"bpf_probe_read_user":       "BPF_CORE_READ_USER_INTO",
	"bpf_probe_read_user_str":   "BPF_CORE_READ_USER_STR_INTO",
}

var readMacros = map[string]string{
	"bpf_probe_read":            "bpf_core_read",
	"bpf_probe_read_kernel":     "bpf_core_read",
	"bpf_probe_read_str":        "bpf_core_read_str",
	"bpf_probe_read_kernel_str": "bpf_core_read_str",
	"bpf_probe_read_user":       "bpf_core_read_user",
	"bpf_probe_read_user_str":   "bpf_core_read_user_str",
}

// rewriteProbeRead rewrites the whole call as BPF_CORE_READ_INTO(&dst, base, a, b) when
// the compiler found that shape, else as bpf_core_read(dst, size, src).
func (a *analyzer) rewriteProbeRead(p compiler.ProbeRead) (Fix, bool) {
	if !a.inFile(p.Call) {
		return Fix{}, false
	}
	var macro, text string
	if in := p.Into; in != nil && a.inFile(in.Dst) && a.inFile(in.Base) {
		macro = intoMacros[p.Helper]
		dst := a.text(in.Dst)
		if in.DstAddr {
			dst = "&" + dst
		}
		text = fmt.Sprintf("%s(%s, %s, %s)", macro, dst, a.text(in.Base), strings.Join(in.Path, ", "))
	} else {
		for _, r := range p.Args {
			if !a.inFile(r) {
				return Fix{}, false
			}
		}
		macro = readMacros[p.Helper]
		text = fmt.Sprintf("%s(%s, %s, %s)", macro, a.text(p.Args[0]), a.text(p.Args[1]), a.text(p.Args[2]))
	}
	if macro == "" {
		return Fix{}, false
	}
	return a.rewriteFix(macro, p.Call, text), true
}

// rewriteFix replaces the code at r with text, a use of macro, including the header that
// defines macro when the file lacks it (the title says so).
func (a *analyzer) rewriteFix(macro string, r compiler.Range, text string) Fix {
	edits, added := a.headerEdits(macro)
	edits = append(edits, Edit{Range: r, NewText: text})
	title := "Rewrite as " + text
	if added != "" {
		title += " (adds " + added + ")"
	}
	return Fix{Title: title, Edits: edits}
}
