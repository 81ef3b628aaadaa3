package btf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	cbtf "github.com/cilium/ebpf/btf"
)

// Relocation is one CO-RE relocation record as clang writes it to .BTF.ext.
type Relocation struct {
	Kind Kind
	// Local is the local root type (typedefs and qualifiers stripped), a
	// type of the program's BTF.
	Local cbtf.Type
	// Access is the access string: "0:95:1" for fields, the enumerator's
	// index for enum relocations, "0" for type relocations.
	Access string
	// LocalID is Local's ID in the program's BTF. It is the local value of
	// local_type_id and target_type_id relocations; leave it zero when
	// unknown.
	LocalID cbtf.TypeID
}

func (r Relocation) String() string {
	name := "<nil>"
	if r.Local != nil {
		name = describe(r.Local)
	}
	return fmt.Sprintf("%s %s %s", r.Kind, name, r.Access)
}

// Outcome is what the loader does with a relocation on a kernel.
type Outcome uint8

const (
	// Resolved: a kernel type matched; the instruction is patched with
	// Result.Target.
	Resolved Outcome = iota
	// NotFound: nothing in the kernel matched. Existence checks
	// (field_exists, type_exists, enumval_exists, type_matches) get 0 and
	// the program can branch on it; every other kind has its instruction
	// poisoned (Result.Poison): the verifier rejects the program only if
	// the instruction is reachable.
	NotFound
	// Failed: the loader refuses the whole program (ambiguous candidates,
	// a bitfield it cannot load, a malformed relocation, ...).
	Failed
)

func (o Outcome) String() string {
	switch o {
	case Resolved:
		return "resolved"
	case NotFound:
		return "not found"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Field locates the field a field relocation points at, in the local
// program's type or in the kernel's.
type Field struct {
	// Path is the access as C would write it from the root type:
	// "task_struct.__state", "task_struct.comm[1]", "task_struct[2].pid".
	// Anonymous structs and unions crossed on the way are not named.
	Path string
	// Type is the field's type (for array element accesses, the element's).
	Type cbtf.Type
	// Offset is the byte offset from the start of the root type. For a
	// bitfield it is the offset of the load that contains it.
	Offset uint32
	// BitfieldOffset is the bitfield's first bit, counted from Offset
	// (bitfields only).
	BitfieldOffset uint32
	// BitfieldSize is the bitfield's width in bits, 0 for plain fields.
	BitfieldSize uint32
}

// Result is the verdict for one relocation on one kernel.
type Result struct {
	Kind    Kind
	Kernel  string // kernel display name
	Outcome Outcome
	// Local and Target are the value clang compiled in and the value the
	// loader patches in (offset, size, 0/1, shift, type id, enum value...).
	// When NotFound, existence checks have Local 1 and Target 0; poisoned
	// instructions have both 0.
	Local, Target uint64
	// Poison is set when the loader replaces the instruction by an invalid
	// call (0xbad2310): fine if it is never reached, a verifier error
	// otherwise.
	Poison bool
	// Reason explains, for a BPF developer, why the relocation is NotFound
	// or Failed. Empty when Resolved.
	Reason string
	// Candidates is the number of kernel types whose name, without a
	// ___flavor suffix, is the local type's.
	Candidates int
	// TargetType and TargetTypeID identify the kernel type that matched.
	TargetType   cbtf.Type
	TargetTypeID cbtf.TypeID
	// LocalField and TargetField are set for resolved field relocations
	// (byte_off .. rshift_u64, field_exists).
	LocalField, TargetField *Field
	// LocalEnum and TargetEnum are set for resolved enum relocations.
	LocalEnum, TargetEnum *cbtf.EnumValue
}

// String formats the result like cilium's COREFixup ("byte_off=16->24",
// "byte_off=poison"), with the reason for failures.
func (r Result) String() string {
	switch {
	case r.Outcome == Failed:
		return fmt.Sprintf("%s=failed: %s", r.Kind, r.Reason)
	case r.Poison:
		return fmt.Sprintf("%s=poison", r.Kind)
	}
	return fmt.Sprintf("%s=%d->%d", r.Kind, r.Local, r.Target)
}

// Resolve computes what the loader does with relocation r on kernel k,
// following cilium/ebpf's (and so libbpf's) CO-RE rules: candidates are the
// kernel types with the same essential name (the name without a ___flavor
// suffix); for each, the access is replayed by member name (through
// anonymous structs and unions), array indices are bounds-checked, member
// types must be compatible; candidates that fit must agree, else the
// relocation is ambiguous and the load fails.
func Resolve(r Relocation, k *Kernel) Result {
	res := Result{Kind: r.Kind, Kernel: k.Name}
	fail := func(format string, args ...any) Result {
		res.Outcome = Failed
		res.Reason = fmt.Sprintf(format, args...)
		return res
	}
	if r.Kind > TypeMatches {
		return fail("unknown relocation kind %d", uint32(r.Kind))
	}
	if r.Local == nil {
		return fail("relocation has no local type")
	}
	acc, err := parseAccessor(r.Access)
	if err != nil {
		return fail("invalid access string %q: %v", r.Access, err)
	}

	if r.Kind == TypeIDLocal {
		if len(acc) > 1 || acc[0] != 0 {
			return fail("unexpected access string %q for %s", r.Access, r.Kind)
		}
		res.Local, res.Target = uint64(r.LocalID), uint64(r.LocalID)
		return res
	}

	localName := r.Local.TypeName()
	if localName == "" {
		return fail("CO-RE cannot relocate an anonymous type (%s): give it a name or go through a named parent", describe(r.Local))
	}
	essential := essentialName(localName)

	cands, err := typesByName(k.Spec.TypesByName, essential)
	if err != nil && !errors.Is(err, cbtf.ErrNotFound) {
		return fail("looking up `%s` in %s: %v", essential, k.Name, err)
	}
	res.Candidates = len(cands)

	var best *fixup
	var misses []string
	for _, cand := range cands {
		f, err := calcFixup(r, acc, cand, k)
		if err != nil {
			return fail("%s: %v", describe(cand), err)
		}
		if f.poison || (r.Kind.ChecksExistence() && f.target == 0) {
			misses = append(misses, f.reason)
			continue
		}
		if best == nil {
			best = f
			continue
		}
		if best.local != f.local || best.target != f.target {
			n := 0
			for _, c := range cands {
				if g, err := calcFixup(r, acc, c, k); err == nil && !g.poison && !(r.Kind.ChecksExistence() && g.target == 0) {
					n++
				}
			}
			return fail("ambiguous: %d candidate types named `%s` in %s match with different %s (%d and %d)",
				n, essential, k.Name, valueWord(r.Kind), best.target, f.target)
		}
	}

	if best == nil {
		res.Outcome = NotFound
		if r.Kind.ChecksExistence() {
			res.Local, res.Target = 1, 0
		} else {
			res.Poison = true
		}
		res.Reason = missReason(r, essential, localName, cands, misses, k)
		return res
	}

	res.Local, res.Target = best.local, best.target
	res.TargetType = best.cand
	if id, err := k.Spec.TypeID(best.cand); err == nil {
		res.TargetTypeID = id
	}
	res.LocalField, res.TargetField = best.localField, best.targetField
	res.LocalEnum, res.TargetEnum = best.localEnum, best.targetEnum
	return res
}

// valueWord names what a kind's value is, for messages.
func valueWord(k Kind) string {
	switch k {
	case FieldByteOffset:
		return "offsets"
	case FieldByteSize, TypeSize:
		return "sizes"
	case FieldLShiftU64, FieldRShiftU64:
		return "shifts"
	case FieldSigned:
		return "signedness"
	case TypeIDTarget:
		return "type ids"
	case EnumvalValue:
		return "values"
	}
	return "results"
}

// missReason explains why no candidate fit.
func missReason(r Relocation, essential, localName string, cands []cbtf.Type, misses []string, k *Kernel) string {
	if len(cands) == 0 {
		flavor := ""
		if essential != localName {
			flavor = fmt.Sprintf(" (the local `%s` without its flavor suffix)", localName)
		}
		msg := fmt.Sprintf("no type named `%s`%s in %s", essential, flavor, k.Name)
		if near := k.closeTypeNames(essential); len(near) > 0 {
			msg += " — types with close names: " + quoteList(near)
		}
		return msg
	}
	// Several candidates, one reason each: keep distinct ones.
	var uniq []string
	seen := make(map[string]bool)
	for _, m := range misses {
		if !seen[m] {
			seen[m] = true
			uniq = append(uniq, m)
		}
	}
	if len(uniq) == 1 {
		if len(cands) > 1 {
			return fmt.Sprintf("%s (all %d types named `%s`)", uniq[0], len(cands), essential)
		}
		return uniq[0]
	}
	return fmt.Sprintf("none of the %d types named `%s` in %s fits: %s", len(cands), essential, k.Name, strings.Join(uniq, "; "))
}

// typesByName calls cilium's essential-name index. Its parameter type is
// unexported; type inference lets us name it anyway, so the candidate set is
// by construction the one CORERelocate uses.
func typesByName[N ~string](lookup func(N) ([]cbtf.Type, error), name string) ([]cbtf.Type, error) {
	return lookup(N(name))
}

// essentialName strips a ___flavor suffix.
func essentialName(name string) string {
	if i := strings.LastIndex(name, "___"); i > 0 {
		return name[:i]
	}
	return name
}

func essentialNamesMatch(a, b string) bool {
	if a == "" || b == "" {
		return true
	}
	return essentialName(a) == essentialName(b)
}

// parseAccessor mirrors cilium's parseCOREAccessor.
func parseAccessor(s string) ([]int, error) {
	if s == "" {
		return nil, errors.New("empty accessor")
	}
	parts := strings.Split(s, ":")
	out := make([]int, 0, len(parts))
	for _, p := range parts {
		n, err := strconv.ParseUint(p, 10, 31)
		if err != nil {
			return nil, fmt.Errorf("accessor index %q: %s", p, err)
		}
		out = append(out, int(n))
	}
	return out, nil
}

// fixup is the outcome for one candidate.
type fixup struct {
	cand          cbtf.Type
	local, target uint64
	poison        bool
	reason        string // why poisoned / not existing
	localField    *Field
	targetField   *Field
	localEnum     *cbtf.EnumValue
	targetEnum    *cbtf.EnumValue
}

// impossible is a candidate that does not fit (libbpf: "no match"): the
// instruction is poisoned or the existence check yields 0. Any other error
// makes the load fail.
type impossible struct{ msg string }

func (e *impossible) Error() string { return e.msg }

func impossiblef(format string, args ...any) error {
	return &impossible{fmt.Sprintf(format, args...)}
}

func isImpossible(err error) (*impossible, bool) {
	var imp *impossible
	ok := errors.As(err, &imp)
	return imp, ok
}

// calcFixup mirrors cilium's coreCalculateFixup for one candidate.
func calcFixup(r Relocation, acc []int, cand cbtf.Type, k *Kernel) (*fixup, error) {
	f := &fixup{cand: cand}
	ok := func(local, target uint64) (*fixup, error) {
		f.local, f.target = local, target
		return f, nil
	}
	poison := func(reason string) (*fixup, error) {
		f.reason = reason
		if r.Kind.ChecksExistence() {
			f.local, f.target = 1, 0
			return f, nil
		}
		f.poison = true
		return f, nil
	}
	local := r.Local

	switch r.Kind {
	case TypeMatches:
		if len(acc) > 1 || acc[0] != 0 {
			return nil, fmt.Errorf("unexpected accessor %v", acc)
		}
		if err := typesMatch(local, cand, nil, local.TypeName(), k.Name); err != nil {
			if imp, yes := isImpossible(err); yes {
				return poison(imp.msg)
			}
			return nil, err
		}
		return ok(1, 1)

	case TypeIDTarget, TypeSize, TypeExists:
		if len(acc) > 1 || acc[0] != 0 {
			return nil, fmt.Errorf("unexpected accessor %v", acc)
		}
		if err := typesCompatible(local, cand, nil, kernelTypeName(cand, k)); err != nil {
			if imp, yes := isImpossible(err); yes {
				return poison(imp.msg)
			}
			return nil, err
		}
		switch r.Kind {
		case TypeExists:
			return ok(1, 1)
		case TypeIDTarget:
			id, err := k.Spec.TypeID(cand)
			if errors.Is(err, cbtf.ErrNotFound) {
				return poison(fmt.Sprintf("%s has no type id in %s", describe(cand), k.Name))
			}
			if err != nil {
				return nil, err
			}
			return ok(uint64(r.LocalID), uint64(id))
		default: // TypeSize
			ls, err := cbtf.Sizeof(local)
			if err != nil {
				return nil, err
			}
			ts, err := cbtf.Sizeof(cand)
			if err != nil {
				return nil, err
			}
			return ok(uint64(ls), uint64(ts))
		}

	case EnumvalValue, EnumvalExists:
		lv, tv, err := findEnumValue(local, acc, cand, k)
		if err != nil {
			if imp, yes := isImpossible(err); yes {
				return poison(imp.msg)
			}
			return nil, err
		}
		f.localEnum, f.targetEnum = lv, tv
		if r.Kind == EnumvalExists {
			return ok(1, 1)
		}
		return ok(lv.Value, tv.Value)

	case FieldByteOffset, FieldByteSize, FieldExists, FieldLShiftU64, FieldRShiftU64, FieldSigned:
		if _, isFwd := cbtf.As[*cbtf.Fwd](cand); isFwd {
			return poison(fmt.Sprintf("`%s` is only a forward declaration in %s: no layout to relocate against", cand.TypeName(), k.Name))
		}
		lf, tf, err := findField(local, acc, cand, k)
		if err != nil {
			if imp, yes := isImpossible(err); yes {
				return poison(imp.msg)
			}
			return nil, err
		}
		f.localField, f.targetField = lf.export(), tf.export()

		switch r.Kind {
		case FieldExists:
			return ok(1, 1)
		case FieldByteOffset:
			return ok(uint64(lf.offset), uint64(tf.offset))
		case FieldByteSize:
			ls, err := cbtf.Sizeof(lf.typ)
			if err != nil {
				return nil, err
			}
			ts, err := cbtf.Sizeof(tf.typ)
			if err != nil {
				return nil, err
			}
			return ok(uint64(ls), uint64(ts))
		case FieldLShiftU64:
			var target uint64
			if k.ByteOrder == nil || k.ByteOrder == binary.LittleEndian {
				size, err := tf.sizeBits()
				if err != nil {
					return nil, err
				}
				target = uint64(64 - tf.bitfieldOffset - size)
			} else {
				width, err := cbtf.Sizeof(tf.typ)
				if err != nil {
					return nil, err
				}
				target = uint64(64 - uint32(width*8) + tf.bitfieldOffset)
			}
			return ok(0, target)
		case FieldRShiftU64:
			size, err := tf.sizeBits()
			if err != nil {
				return nil, err
			}
			return ok(0, uint64(64-size))
		default: // FieldSigned
			switch lt := cbtf.UnderlyingType(lf.typ).(type) {
			case *cbtf.Enum:
				tt, isEnum := cbtf.As[*cbtf.Enum](tf.typ)
				if !isEnum {
					return nil, fmt.Errorf("target isn't *Enum but %T", tf.typ)
				}
				return ok(b2u(lt.Signed), b2u(tt.Signed))
			case *cbtf.Int:
				tt, isInt := cbtf.As[*cbtf.Int](tf.typ)
				if !isInt {
					return nil, fmt.Errorf("target isn't *Int but %T", tf.typ)
				}
				return ok(uint64(lt.Encoding&cbtf.Signed), uint64(tt.Encoding&cbtf.Signed))
			default:
				return nil, fmt.Errorf("type %T: no signedness", lt)
			}
		}
	}
	return nil, fmt.Errorf("relocation kind %s: not supported", r.Kind)
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// kernelTypeName is how messages name a kernel type.
func kernelTypeName(t cbtf.Type, k *Kernel) string {
	return fmt.Sprintf("%s's %s", k.Name, describe(t))
}

// findEnumValue mirrors cilium's coreFindEnumValue.
func findEnumValue(local cbtf.Type, acc []int, target cbtf.Type, k *Kernel) (*cbtf.EnumValue, *cbtf.EnumValue, error) {
	le, isEnum := cbtf.As[*cbtf.Enum](local)
	if !isEnum {
		return nil, nil, fmt.Errorf("not an enum: %s", local)
	}
	if len(acc) > 1 {
		return nil, nil, fmt.Errorf("invalid accessor %v for enum", acc)
	}
	i := acc[0]
	if i >= len(le.Values) {
		return nil, nil, fmt.Errorf("invalid index %d for %s", i, le)
	}
	lv := &le.Values[i]

	te, isEnum := cbtf.As[*cbtf.Enum](target)
	if !isEnum {
		return nil, nil, impossiblef("`%s` is %s in %s, not an enum", target.TypeName(), describe(target), k.Name)
	}
	name := essentialName(lv.Name)
	names := make([]string, 0, len(te.Values))
	for j := range te.Values {
		if essentialName(te.Values[j].Name) == name {
			return lv, &te.Values[j], nil
		}
		names = append(names, te.Values[j].Name)
	}
	msg := fmt.Sprintf("enum `%s` has no value `%s` in %s", te.Name, name, k.Name)
	if near := closeNames(name, names, 3); len(near) > 0 {
		msg += " — values with close names: " + quoteList(near)
	}
	return nil, nil, &impossible{msg}
}
