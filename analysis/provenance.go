package analysis

import (
	"fmt"
	"strings"

	cbtf "github.com/cilium/ebpf/btf"

	"github.com/corels/corels/btf"
	"github.com/corels/corels/compiler"
)

// Layout warnings (probe-read-not-relocatable, direct-kernel-read) are about kernel
// memory read with the program's idea of a kernel type's layout. They need a kernel type
// (kernelType) reached through a kernel pointer (the compiler's provenance facts); the
// program's own structs and memory never get them, and an unknown provenance gives no
// warning.

// kernelType reports whether a record ("struct task_struct___old") is a kernel type:
// declared in a kernel header, or named (flavor suffix aside) like a struct or union of a
// target kernel or of the embedded Debian 6.1 kernel. The embedded kernel also counts so
// that a program's local copy of a kernel struct (`struct sk_buff { ... };` without
// preserve_access_index) is one whichever kernels are configured.
func (a *analyzer) kernelType(record string, header bool) bool {
	if header {
		return true
	}
	name := strings.TrimPrefix(strings.TrimPrefix(record, "struct "), "union ")
	if i := strings.Index(name, "___"); i > 0 {
		name = name[:i]
	}
	if name == "" || strings.HasPrefix(name, "<") || strings.ContainsAny(name, " *") {
		return false
	}
	if v, ok := a.kernelNames[name]; ok {
		return v
	}
	ks := a.kernels
	if def, err := btf.DefaultKernel(); err == nil {
		ks = append(ks[:len(ks):len(ks)], def)
	}
	found := false
	for _, k := range ks {
		if k == nil || k.Spec == nil {
			continue
		}
		ts, err := k.Spec.AnyTypesByName(name)
		if err != nil {
			continue
		}
		for _, t := range ts {
			switch t.(type) {
			case *cbtf.Struct, *cbtf.Union:
				found = true
			}
		}
		if found {
			break
		}
	}
	if a.kernelNames == nil {
		a.kernelNames = map[string]bool{}
	}
	a.kernelNames[name] = found
	return found
}

// kernelMemory: a pointer the kernel's memory is reached through, typed or as a number.
func kernelMemory(p compiler.Provenance) bool {
	return p.Origin == compiler.OriginTrusted || p.Origin == compiler.OriginScalar
}

// DescribeProvenance says in one line where a pointer comes from and what that means for
// reading through it.
func DescribeProvenance(p compiler.Provenance) string {
	switch p.Origin {
	case compiler.OriginContext:
		if p.Source == "" {
			return "the program's context: loads are checked (or rewritten) by the verifier"
		}
		return fmt.Sprintf("the program's context (%s): loads are checked (or rewritten) by the verifier", p.Source)
	case compiler.OriginProgram:
		return fmt.Sprintf("program-owned memory (%s): its layout is the program's own, no relocation needed", p.Source)
	case compiler.OriginTrusted:
		return fmt.Sprintf("trusted kernel pointer (%s): direct reads are CO-RE relocated", p.Source)
	case compiler.OriginScalar:
		return fmt.Sprintf("kernel address held as a scalar (%s): the verifier rejects direct loads; read it with BPF_CORE_READ", p.Source)
	}
	return "unknown provenance: corels does not warn about reads through it"
}
