package analysis

import (
	"fmt"
	"strconv"
	"strings"

	cbtf "github.com/cilium/ebpf/btf"

	"github.com/corels/corels/compiler"
)

// relocFindings are the core-reloc hints: one per relocation written in the file.
func (a *analyzer) relocFindings() []Finding {
	var out []Finding
	for _, r := range a.res.Relocations {
		if !a.inFile(r.Range) {
			continue
		}
		out = append(out, Finding{
			Code:     CodeCoreReloc,
			Severity: Hint,
			Message:  "CO-RE " + DescribeRelocation(r),
			Range:    r.Range,
		})
	}
	return out
}

// DescribeRelocation summarises a relocation record with its local value:
// "byte_off task_struct 0:95 → real_parent, offset 1280, 8 bytes".
func DescribeRelocation(r compiler.Relocation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s", r.Kind, typeName(r.Type), r.Access)
	switch {
	case r.Kind.IsField():
		if p := memberPath(r.Path); p != "" {
			b.WriteString(" → " + p)
		}
		l := r.Layout
		switch r.Kind {
		case compiler.FieldByteOffset:
			if l.BitSize > 0 {
				fmt.Fprintf(&b, ", offset %d bit %d, %s", l.Offset, l.BitOffset-l.Offset*8, plural(int(l.BitSize), "bit"))
			} else {
				fmt.Fprintf(&b, ", offset %d, %s", l.Offset, plural(int(l.Size), "byte"))
			}
		case compiler.FieldByteSize:
			fmt.Fprintf(&b, ", %s", plural(int(l.Size), "byte"))
		}
	case r.Kind.IsEnum():
		if len(r.Path) > 0 {
			b.WriteString(" → " + r.Path[0])
			if v, ok := localEnumValue(r); ok && r.Kind == compiler.EnumvalValue {
				fmt.Fprintf(&b, " = %d", v)
			}
		}
	case r.Kind == compiler.TypeSize:
		if r.Layout.Size > 0 {
			fmt.Fprintf(&b, ", %s", plural(int(r.Layout.Size), "byte"))
		}
	}
	if r.Macro != "" {
		fmt.Fprintf(&b, " (in %s)", r.Macro)
	}
	return b.String()
}

func typeName(t string) string {
	if t == "" {
		return "<anon>"
	}
	return t
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// memberPath writes a relocation's path as C would: "mm.total_vm", "comm[1]"; anonymous
// members are left out.
func memberPath(path []string) string {
	var b strings.Builder
	for _, p := range path {
		switch {
		case p == "":
		case strings.HasPrefix(p, "["):
			b.WriteString(p)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(p)
		}
	}
	return b.String()
}

// fieldName is "task_struct.real_parent".
func fieldName(r compiler.Relocation) string {
	if p := memberPath(r.Path); p != "" {
		return typeName(r.Type) + "." + p
	}
	return typeName(r.Type)
}

// localEnumValue is the value the program was compiled with for an enum relocation.
func localEnumValue(r compiler.Relocation) (uint64, bool) {
	e, ok := cbtf.As[*cbtf.Enum](r.Local)
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(r.Access)
	if err != nil || i < 0 || i >= len(e.Values) {
		return 0, false
	}
	return e.Values[i].Value, true
}

// cType spells a local root type as C: "struct task_struct", "union bpf_attr", "atomic_t".
func cType(r compiler.Relocation) string {
	name := typeName(r.Type)
	switch r.Local.(type) {
	case *cbtf.Struct:
		return "struct " + name
	case *cbtf.Union:
		return "union " + name
	case *cbtf.Enum:
		return "enum " + name
	case *cbtf.Fwd:
		if f := r.Local.(*cbtf.Fwd); f.Kind == cbtf.FwdUnion {
			return "union " + name
		}
		return "struct " + name
	}
	return name
}
