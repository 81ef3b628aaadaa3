package btf

import "fmt"

// Kind is the kind of a CO-RE relocation, numbered as in .BTF.ext
// (enum bpf_core_relo_kind).
type Kind uint32

// Relocation kinds, with libbpf's names in comments.
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

// String returns libbpf's name of the kind ("byte_off", "field_exists", ...).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("unknown (%d)", uint32(k))
}

// ParseKind is the inverse of [Kind.String].
func ParseKind(s string) (Kind, error) {
	for i, n := range kindNames {
		if n == s {
			return Kind(i), nil
		}
	}
	return 0, fmt.Errorf("unknown CO-RE relocation kind %q", s)
}

// IsField reports whether the kind is about a field (byte_off .. rshift_u64).
func (k Kind) IsField() bool { return k <= FieldRShiftU64 }

// IsType reports whether the kind is about a whole type.
func (k Kind) IsType() bool {
	return k == TypeIDLocal || k == TypeIDTarget || k == TypeExists || k == TypeSize || k == TypeMatches
}

// IsEnumval reports whether the kind is about an enumerator.
func (k Kind) IsEnumval() bool { return k == EnumvalExists || k == EnumvalValue }

// ChecksExistence reports whether the kind asks a yes/no question
// (field_exists, type_exists, enumval_exists, type_matches): such relocations
// are never poisoned, they resolve to 0 when nothing matches.
func (k Kind) ChecksExistence() bool {
	return k == FieldExists || k == TypeExists || k == EnumvalExists || k == TypeMatches
}
