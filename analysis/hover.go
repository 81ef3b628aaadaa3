package analysis

import (
	"fmt"
	"strconv"
	"strings"

	cbtf "github.com/cilium/ebpf/btf"

	"github.com/corels/corels/btf"
	"github.com/corels/corels/compiler"
)

// HoverAt returns the hover for a byte offset of the file: for a relocated member access,
// its type and size, local offset (bits for bitfields), the relocation record and one line
// per target kernel; for a type in bpf_core_type_*(), its size per kernel; for an
// enumerator, its value per kernel; for a __kconfig or __ksym extern, what the loader
// supplies; for a local pointer variable, where it comes from (one line). Several relocations at one place (a macro's name) are shown one after another.
func (r *Report) HoverAt(offset int) (Hover, bool) {
	a := r.an
	if a == nil {
		return Hover{}, false
	}
	for _, inclusiveEnd := range []bool{false, true} {
		contains := func(x compiler.Range) bool {
			if !a.inFile(x) || offset < x.Start.Offset {
				return false
			}
			return offset < x.End.Offset || inclusiveEnd && offset == x.End.Offset
		}
		var parts []string
		var rng compiler.Range
		seen := map[string]bool{}
		add := func(x compiler.Range, md string) {
			if seen[md] {
				return
			}
			seen[md] = true
			if len(parts) == 0 {
				rng = x
			} else {
				if x.Start.Offset < rng.Start.Offset {
					rng.Start = x.Start
				}
				if x.End.Offset > rng.End.Offset {
					rng.End = x.End
				}
			}
			parts = append(parts, md)
		}
		// Relocations of one access (a bitfield read gives several kinds) share a hover.
		var groups [][]int
		where := map[string]int{}
		for i, rel := range a.res.Relocations {
			if !contains(rel.Range) {
				continue
			}
			key := fmt.Sprintf("%d-%d %s %s %p", rel.Range.Start.Offset, rel.Range.End.Offset, rel.Type, rel.Access, rel.Local)
			if !rel.Kind.IsField() {
				key += " " + rel.Kind.String()
			}
			if g, ok := where[key]; ok {
				dup := false
				for _, j := range groups[g] {
					dup = dup || a.res.Relocations[j].Kind == rel.Kind
				}
				if !dup {
					groups[g] = append(groups[g], i)
				}
				continue
			}
			where[key] = len(groups)
			groups = append(groups, []int{i})
		}
		for _, g := range groups {
			add(a.res.Relocations[g[0]].Range, a.relocHover(g))
		}
		for _, e := range a.res.Externs {
			if contains(e.Range) {
				add(e.Range, a.externHover(e))
			}
		}
		for _, v := range a.res.Pointers {
			for _, r := range append([]compiler.Range{v.Decl}, v.Uses...) {
				if contains(r) {
					add(r, pointerHover(v))
					break
				}
			}
		}
		if len(parts) > 0 {
			return Hover{Range: rng, Markdown: strings.Join(parts, "\n\n---\n\n")}, true
		}
	}
	return Hover{}, false
}

// relocHover renders relocations of one access: the member (or type, or enumerator), the
// records, and a table with one row per kernel and one column per kind.
func (a *analyzer) relocHover(group []int) string {
	r := a.res.Relocations[group[0]]
	var b strings.Builder
	switch {
	case r.Kind.IsField():
		fmt.Fprintf(&b, "**`%s`**", fieldName(r))
		if t, ok := localMember(r); ok {
			fmt.Fprintf(&b, " `%s`", cTypeString(t))
			if sz, err := cbtf.Sizeof(t); err == nil {
				fmt.Fprintf(&b, " · %s", plural(sz, "byte"))
			}
		}
		b.WriteString("\n\n")
		l := r.Layout
		if l.BitSize > 0 {
			fmt.Fprintf(&b, "Local offset %d (%#x), bit %d, %s (bit offset %d in `%s`)\n\n", l.Offset, l.Offset, l.BitOffset-l.Offset*8, plural(int(l.BitSize), "bit"), l.BitOffset, typeName(r.Type))
		} else {
			fmt.Fprintf(&b, "Local offset %d (%#x) in `%s`\n\n", l.Offset, l.Offset, typeName(r.Type))
		}
	case r.Kind.IsEnum():
		name := ""
		if len(r.Path) > 0 {
			name = r.Path[0]
		}
		fmt.Fprintf(&b, "**`%s`** enumerator of `%s`", name, cType(r))
		if v, ok := localEnumValue(r); ok {
			fmt.Fprintf(&b, " · local value %d", v)
		}
		b.WriteString("\n\n")
	default:
		fmt.Fprintf(&b, "**`%s`**", cType(r))
		if r.Layout.Size > 0 {
			fmt.Fprintf(&b, " · local size %s", plural(int(r.Layout.Size), "byte"))
		}
		b.WriteString("\n\n")
	}
	var kinds []string
	for _, i := range group {
		kinds = append(kinds, "`"+a.res.Relocations[i].Kind.String()+"`")
	}
	word := "relocation"
	if len(group) > 1 {
		word = "relocations"
	}
	fmt.Fprintf(&b, "CO-RE %s %s · root `%s` · access `%s`", word, strings.Join(kinds, ", "), typeName(r.Type), r.Access)
	if r.Macro != "" {
		fmt.Fprintf(&b, " · written in `%s`", r.Macro)
	}
	if r.Section != "" {
		fmt.Fprintf(&b, " · `SEC(\"%s\")`", r.Section)
	}
	b.WriteString("\n\n")
	if len(r.Guards) > 0 {
		var gs []string
		for _, g := range r.Guards {
			gs = append(gs, "`"+describeGuard(g)+"`")
		}
		fmt.Fprintf(&b, "Runs only when %s\n\n", strings.Join(gs, " and "))
	}
	if len(a.kernels) == 0 || a.verdicts[group[0]] == nil {
		b.WriteString("_No target kernels._")
		return b.String()
	}
	// Columns: each relocation's kind, plus the size of a type or the value of an
	// enumerator when the relocation itself only says whether it exists.
	type col struct {
		title string
		rel   compiler.Relocation
		idx   int // verdicts index, -1: resolve rel
	}
	var cols []col
	for _, i := range group {
		rel := a.res.Relocations[i]
		cols = append(cols, col{column(rel.Kind), rel, i})
	}
	switch {
	case len(group) == 1 && r.Kind.IsType() && r.Kind != compiler.TypeSize:
		x := r
		x.Kind = compiler.TypeSize
		cols = append(cols, col{"size", x, -1})
	case len(group) == 1 && r.Kind == compiler.EnumvalExists:
		x := r
		x.Kind = compiler.EnumvalValue
		cols = append(cols, col{"value", x, -1})
	}
	b.WriteString("| kernel |")
	for _, c := range cols {
		b.WriteString(" " + c.title + " |")
	}
	b.WriteString("\n|---|")
	for range cols {
		b.WriteString("---|")
	}
	b.WriteByte('\n')
	for j, k := range a.kernels {
		fmt.Fprintf(&b, "| %s |", k.Name)
		for _, c := range cols {
			var v btf.Result
			if c.idx >= 0 {
				v = a.verdicts[c.idx][j]
			} else {
				v = a.resolve(c.rel, k)
			}
			fmt.Fprintf(&b, " %s |", a.cell(c.rel, v, k))
		}
		b.WriteByte('\n')
	}
	return strings.TrimRight(b.String(), "\n")
}

func column(k compiler.Kind) string {
	switch k {
	case compiler.FieldByteOffset:
		return "offset"
	case compiler.FieldByteSize, compiler.TypeSize:
		return "size"
	case compiler.FieldExists, compiler.TypeExists, compiler.EnumvalExists:
		return "exists"
	case compiler.FieldSigned:
		return "signed"
	case compiler.FieldLShiftU64, compiler.FieldRShiftU64:
		return "shift"
	case compiler.TypeIDLocal, compiler.TypeIDTarget:
		return "type id"
	case compiler.EnumvalValue:
		return "value"
	case compiler.TypeMatches:
		return "matches"
	}
	return k.String()
}

// cell is one kernel's verdict for a hover table.
func (a *analyzer) cell(r compiler.Relocation, v btf.Result, k *btf.Kernel) string {
	esc := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ") }
	switch {
	case v.Outcome == btf.Failed:
		return "✗ the loader refuses the program: " + esc(v.Reason)
	case v.Outcome == btf.NotFound && !v.Poison:
		return "no (0) — " + esc(v.Reason)
	case v.Outcome == btf.NotFound:
		if g, skip := a.skippedBy(r, k); skip {
			return "missing, unreachable there (`" + describeGuard(g) + "` is false) — " + esc(v.Reason)
		}
		return "✗ missing: " + esc(v.Reason)
	}
	switch r.Kind {
	case compiler.FieldByteOffset:
		s := fmt.Sprintf("%d (%#x)", v.Target, v.Target)
		if f := v.TargetField; f != nil && f.BitfieldSize > 0 {
			s += fmt.Sprintf(", bit %d, %s", f.BitfieldOffset, plural(int(f.BitfieldSize), "bit"))
		}
		return s
	case compiler.FieldByteSize, compiler.TypeSize:
		return plural(int(v.Target), "byte")
	case compiler.FieldExists, compiler.TypeExists, compiler.EnumvalExists, compiler.TypeMatches:
		return "yes"
	case compiler.FieldSigned:
		if v.Target != 0 {
			return "signed"
		}
		return "unsigned"
	case compiler.TypeIDLocal, compiler.TypeIDTarget:
		return "[" + strconv.FormatUint(v.Target, 10) + "]"
	}
	return strconv.FormatUint(v.Target, 10)
}

// localMember follows a field relocation's access string through its local root type.
func localMember(r compiler.Relocation) (cbtf.Type, bool) {
	if r.Local == nil {
		return nil, false
	}
	parts := strings.Split(r.Access, ":")
	t := r.Local
	for _, p := range parts[1:] {
		i, err := strconv.Atoi(p)
		if err != nil {
			return nil, false
		}
		switch u := cbtf.UnderlyingType(t).(type) {
		case *cbtf.Struct:
			if i >= len(u.Members) {
				return nil, false
			}
			t = u.Members[i].Type
		case *cbtf.Union:
			if i >= len(u.Members) {
				return nil, false
			}
			t = u.Members[i].Type
		case *cbtf.Array:
			t = u.Type
		default:
			return nil, false
		}
	}
	return t, true
}

// cTypeString spells a BTF type as C.
func cTypeString(t cbtf.Type) string {
	return cDecl(t, "")
}

func cDecl(t cbtf.Type, inner string) string {
	join := func(base string) string {
		if inner == "" {
			return base
		}
		return base + " " + inner
	}
	switch x := t.(type) {
	case nil:
		return join("void")
	case *cbtf.Void:
		return join("void")
	case *cbtf.Int:
		return join(x.Name)
	case *cbtf.Float:
		return join(x.Name)
	case *cbtf.Typedef:
		return join(x.Name)
	case *cbtf.Struct:
		return join("struct " + orAnon(x.Name))
	case *cbtf.Union:
		return join("union " + orAnon(x.Name))
	case *cbtf.Enum:
		return join("enum " + orAnon(x.Name))
	case *cbtf.Fwd:
		if x.Kind == cbtf.FwdUnion {
			return join("union " + x.Name)
		}
		return join("struct " + x.Name)
	case *cbtf.Const:
		return "const " + cDecl(x.Type, inner)
	case *cbtf.Volatile:
		return "volatile " + cDecl(x.Type, inner)
	case *cbtf.Restrict:
		return cDecl(x.Type, inner)
	case *cbtf.TypeTag:
		return cDecl(x.Type, inner)
	case *cbtf.Pointer:
		if inner == "" {
			return cDecl(x.Target, "*")
		}
		return cDecl(x.Target, "*"+inner)
	case *cbtf.Array:
		in := inner
		if strings.HasPrefix(in, "*") {
			in = "(" + in + ")"
		}
		return cDecl(x.Type, in+"["+strconv.FormatUint(uint64(x.Nelems), 10)+"]")
	case *cbtf.FuncProto:
		return join("function")
	}
	return join(t.TypeName())
}

func orAnon(name string) string {
	if name == "" {
		return "<anon>"
	}
	return name
}

// externHover says what the loader supplies for a __kconfig or __ksym extern.
func (a *analyzer) externHover(e compiler.Extern) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**`%s`** `extern %s` · `__%s`", e.Name, e.Type, e.Kind)
	if e.Weak {
		b.WriteString(" · `__weak`")
	}
	b.WriteString("\n\n")
	switch e.Kind {
	case "kconfig":
		switch e.Name {
		case "LINUX_KERNEL_VERSION":
			b.WriteString("The loader sets it to the running kernel's version, `KERNEL_VERSION(a, b, c)` = a·65536 + b·256 + min(c, 255) (libbpf reads uname; Ubuntu's and Debian's own version codes take precedence).")
		case "LINUX_HAS_SYSCALL_WRAPPER":
			b.WriteString("libbpf probes the kernel: 1 when syscalls take their arguments through a `struct pt_regs *` wrapper (x86-64 since 4.17, arm64 since 4.19), else 0.")
		case "LINUX_HAS_BPF_COOKIE":
			b.WriteString("libbpf probes the kernel: 1 when it supports `bpf_get_attach_cookie()`, else 0.")
		default:
			b.WriteString("The loader fills it in from the target kernel's configuration (`/proc/config.gz` or `/boot/config-$(uname -r)`): `y` → 1, `m` → 2, numbers and strings as written.")
			if e.Weak {
				b.WriteString(" Being `__weak`, it is 0 when the configuration does not set it.")
			} else {
				b.WriteString(" Not `__weak`: loading fails when the configuration does not set it.")
			}
		}
		if e.Name == "LINUX_KERNEL_VERSION" && len(a.kernels) > 0 {
			b.WriteString("\n\n| kernel | value |\n|---|---|\n")
			for _, k := range a.kernels {
				if v, ok := kernelVersion(k.Release); ok {
					fmt.Fprintf(&b, "| %s | %d (%#x) |\n", k.Name, v, v)
				} else {
					fmt.Fprintf(&b, "| %s | unknown release |\n", k.Name)
				}
			}
		}
	case "ksym":
		b.WriteString("The loader resolves its address from the kernel's symbols (`/proc/kallsyms`); typed variables and kfuncs must also be in the kernel's BTF.")
		if e.Weak {
			b.WriteString(" Being `__weak`, it is 0 (NULL) when missing.")
		} else {
			b.WriteString(" Not `__weak`: loading fails when it is missing.")
		}
		if len(a.kernels) > 0 && !strings.Contains(e.Type, "void") {
			b.WriteString("\n\n| kernel | BTF |\n|---|---|\n")
			for _, k := range a.kernels {
				fmt.Fprintf(&b, "| %s | %s |\n", k.Name, ksymInBTF(k, e.Name))
			}
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// pointerHover is a pointer variable's provenance in one line.
func pointerHover(v compiler.PointerVar) string {
	return fmt.Sprintf("`%s`: %s", v.Name, DescribeProvenance(v.Provenance))
}

func ksymInBTF(k *btf.Kernel, name string) string {
	ts, err := k.Spec.AnyTypesByName(name)
	if err != nil {
		return "✗ not in BTF"
	}
	for _, t := range ts {
		switch t.(type) {
		case *cbtf.Var:
			return "variable"
		case *cbtf.Func:
			return "function"
		}
	}
	return "✗ no variable or function of that name"
}

// kernelVersion is KERNEL_VERSION(a, b, c) of a release like "6.1.0-27-amd64".
func kernelVersion(release string) (uint32, bool) {
	if release == "" {
		return 0, false
	}
	var nums [3]uint32
	parts := strings.SplitN(release, ".", 3)
	for i := 0; i < len(parts) && i < 3; i++ {
		p := parts[i]
		end := 0
		for end < len(p) && p[end] >= '0' && p[end] <= '9' {
			end++
		}
		if end == 0 {
			return 0, false
		}
		n, _ := strconv.Atoi(p[:end])
		nums[i] = uint32(n)
	}
	return nums[0]<<16 + nums[1]<<8 + min(nums[2], 255), true
}
