package compiler

import (
	"fmt"

	"github.com/cilium/ebpf/btf"
)

// Kind is a CO-RE relocation kind, numbered as in .BTF.ext (libbpf's enum bpf_core_relo_kind).
type Kind int

const (
	FieldByteOffset Kind = iota // byte_off
	FieldByteSize               // byte_sz
	FieldExists                 // field_exists
	FieldSigned                 // signed
	FieldLShiftU64              // lshift_u64
	FieldRShiftU64              // rshift_u64
	TypeIDLocal                 // local_type_id
	TypeIDTarget                // target_type_id
	TypeExists                  // type_exists
	TypeSize                    // type_size
	EnumvalExists               // enumval_exists
	EnumvalValue                // enumval_value
	TypeMatches                 // type_matches
)

var kindNames = [...]string{
	"byte_off", "byte_sz", "field_exists", "signed", "lshift_u64", "rshift_u64",
	"local_type_id", "target_type_id", "type_exists", "type_size",
	"enumval_exists", "enumval_value", "type_matches",
}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, bool) {
	for i, n := range kindNames {
		if n == s {
			return Kind(i), true
		}
	}
	return 0, false
}

// IsField reports whether the kind relocates a field access (access string of indices).
func (k Kind) IsField() bool { return k <= FieldRShiftU64 }

// IsType reports whether the kind is about a whole type (access string "0").
func (k Kind) IsType() bool { return k >= TypeIDLocal && k <= TypeSize || k == TypeMatches }

// IsEnum reports whether the kind is about an enumerator (access string is its index).
func (k Kind) IsEnum() bool { return k == EnumvalExists || k == EnumvalValue }

// Position is a place in a source file. Line and Col are 1-based; Col counts bytes.
type Position struct {
	File   string
	Line   int
	Col    int
	Offset int // byte offset in the file
}

func (p Position) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// Range is a half-open source range [Start, End).
type Range struct{ Start, End Position }

// Layout is the local (compile-time) layout of the member a field relocation reaches.
type Layout struct {
	Offset    int64 // byte offset from the root type's start, as clang's byte_off would patch
	Size      int64 // byte size of the member's type
	BitOffset int64 // bit offset from the root type's start (bitfields), else Offset*8
	BitSize   int64 // bit size for bitfields, 0 otherwise
}

// Relocation is one CO-RE relocation record, as clang's BPF backend would emit it into
// .BTF.ext, tied to the source that produces it.
type Relocation struct {
	Kind   Kind
	Type   string // root type name after stripping typedefs/qualifiers; flavors keep ___suffix
	Access string // access string, e.g. "0:95:1"

	Range   Range  // the field name, type name or enumerator in the user's file
	Macro   string // set when the access is written in a macro's body: Range is the macro's name
	Func    string // enclosing function
	Section string // SEC() of the enclosing function, "" if none

	Path   []string // member names of the access after the root index ("mm", "total_vm")
	Layout Layout   // for field kinds

	// Local is the root type as BTF (what clang writes into .BTF for this record).
	Local btf.Type

	// Guards are the CO-RE existence checks that dominate the access: it runs only where
	// each evaluates to its Want (if/else, early return, ?:, &&, ||, through static
	// helpers' call sites). Set by the facts pass (facts.go, guards.go).
	Guards []Guard
	// Stmt is the statement of the enclosing block that holds the access, where a guard
	// can be inserted; zero when it is not written in the main file.
	Stmt Range
}

// Guard is a CO-RE existence check (field_exists, type_exists, enumval_exists or
// type_matches) the code of a relocation depends on: the code runs only when the check
// evaluates to Want on the target kernel.
type Guard struct {
	Check Relocation // the check's own relocation record (its Guards are not set)
	Want  bool
}

// Key is the identity clang's records have: kind, root type, access string.
func (r Relocation) Key() string { return r.Kind.String() + " " + r.Type + " " + r.Access }

// Extern is a patchable extern: `extern T name __kconfig` or `__ksym`.
type Extern struct {
	Name  string
	Type  string // C type as written, e.g. "unsigned int"
	Kind  string // "kconfig" or "ksym"
	Weak  bool
	Range Range
	Local btf.Type
}

// Diagnostic is a compiler error or warning with its position.
type Diagnostic struct {
	Severity string // "error" or "warning"
	Message  string
	Range    Range

	unplaced bool // the front end gave no position: Range is the file's start, not the error's
}

func (d Diagnostic) String() string {
	return fmt.Sprintf("%s: %s: %s", d.Range.Start, d.Severity, d.Message)
}
