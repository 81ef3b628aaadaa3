package btf

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"

	cbtf "github.com/cilium/ebpf/btf"
)

// maxResolveDepth is cilium's bound on type chains and nested anonymous
// members.
const maxResolveDepth = 32

// coreField mirrors cilium's coreField: a position inside the root type, with
// the path that led there for display.
type coreField struct {
	typ            cbtf.Type
	offset         uint32 // bytes from the start of the root
	bitfieldOffset uint32 // bits from offset (bitfields only)
	bitfieldSize   uint32 // 0 unless a bitfield
	path           string
}

func (cf *coreField) export() *Field {
	return &Field{Path: cf.path, Type: cf.typ, Offset: cf.offset, BitfieldOffset: cf.bitfieldOffset, BitfieldSize: cf.bitfieldSize}
}

func (cf *coreField) adjustOffsetToNthElement(n int) error {
	if n == 0 {
		return nil
	}
	size, err := cbtf.Sizeof(cf.typ)
	if err != nil {
		return err
	}
	cf.offset += uint32(n) * uint32(size)
	return nil
}

func (cf *coreField) adjustOffsetBits(offset uint32) error {
	align, err := alignof(cf.typ)
	if err != nil {
		return err
	}
	offsetBytes := offset / 8 / uint32(align) * uint32(align)
	cf.bitfieldOffset = offset - offsetBytes*8
	cf.offset += offsetBytes
	return nil
}

func (cf *coreField) sizeBits() (uint32, error) {
	if cf.bitfieldSize > 0 {
		return cf.bitfieldSize, nil
	}
	size, err := cbtf.Sizeof(cf.typ)
	if err != nil {
		return 0, err
	}
	return uint32(size * 8), nil
}

// alignof mirrors cilium's alignof: only what bitfield relocations need.
func alignof(typ cbtf.Type) (int, error) {
	var n int
	switch t := cbtf.UnderlyingType(typ).(type) {
	case *cbtf.Enum:
		n = int(t.Size)
	case *cbtf.Int:
		n = int(t.Size)
	case *cbtf.Array:
		return alignof(t.Type)
	default:
		return 0, fmt.Errorf("can't calculate alignment of %T", t)
	}
	if n <= 0 || bits.OnesCount(uint(n)) != 1 {
		return 0, fmt.Errorf("alignment value %d is not a power of two", n)
	}
	return n, nil
}

// members returns the members of a struct or union.
func members(t cbtf.Type) ([]cbtf.Member, bool) {
	switch c := t.(type) {
	case *cbtf.Struct:
		return c.Members, true
	case *cbtf.Union:
		return c.Members, true
	}
	return nil, false
}

// asComposite peels typedefs and qualifiers down to a struct or union.
func asComposite(t cbtf.Type) (cbtf.Type, bool) {
	u := cbtf.UnderlyingType(t)
	_, ok := members(u)
	return u, ok
}

// findField mirrors cilium's coreFindField: it follows the accessor through
// the local type and finds the same members, by name, in the target.
func findField(localT cbtf.Type, acc []int, targetT cbtf.Type, k *Kernel) (coreField, coreField, error) {
	local := coreField{typ: localT, path: localT.TypeName()}
	target := coreField{typ: targetT, path: targetT.TypeName()}

	if err := membersCompatible(local, target, k); err != nil {
		return coreField{}, coreField{}, err
	}
	if err := local.adjustOffsetToNthElement(acc[0]); err != nil {
		return coreField{}, coreField{}, err
	}
	if err := target.adjustOffsetToNthElement(acc[0]); err != nil {
		return coreField{}, coreField{}, err
	}
	if acc[0] != 0 {
		local.path += "[" + strconv.Itoa(acc[0]) + "]"
		target.path += "[" + strconv.Itoa(acc[0]) + "]"
	}

	var localMaybeFlex, targetMaybeFlex bool
	for i, a := range acc[1:] {
		switch lt := cbtf.UnderlyingType(local.typ).(type) {
		case *cbtf.Struct, *cbtf.Union:
			localMembers, _ := members(lt)
			if a >= len(localMembers) {
				return coreField{}, coreField{}, fmt.Errorf("invalid accessor %d for %s", a, lt)
			}
			lm := localMembers[a]
			if lm.Name == "" {
				lmt, ok := asComposite(lm.Type)
				if !ok {
					return coreField{}, coreField{}, fmt.Errorf("unnamed field with type %s: %w", lm.Type, cbtf.ErrNotSupported)
				}
				local = coreField{typ: lmt, offset: local.offset + uint32(lm.Offset)/8, path: local.path}
				localMaybeFlex = false
				continue
			}

			tt, ok := asComposite(target.typ)
			if !ok {
				return coreField{}, coreField{}, impossiblef("incompatible types: local `%s` is %s, %s's is %s",
					local.path, describe(local.typ), k.Name, describe(target.typ))
			}
			tm, last, err := findMember(tt, lm.Name)
			if err != nil {
				if _, yes := isImpossible(err); yes {
					msg := fmt.Sprintf("type `%s` has no member `%s` in %s", displayName(tt, target.path), lm.Name, k.Name)
					if near := closeNames(lm.Name, memberNames(tt), 3); len(near) > 0 {
						msg += " — members with close names: " + quoteList(near)
					}
					return coreField{}, coreField{}, &impossible{msg}
				}
				return coreField{}, coreField{}, err
			}

			local = coreField{typ: lm.Type, offset: local.offset, bitfieldSize: uint32(lm.BitfieldSize), path: local.path + "." + lm.Name}
			localMaybeFlex = a == len(localMembers)-1
			target = coreField{typ: tm.Type, offset: target.offset, bitfieldSize: uint32(tm.BitfieldSize), path: target.path + "." + tm.Name}
			targetMaybeFlex = last

			if local.bitfieldSize == 0 && target.bitfieldSize == 0 {
				local.offset += uint32(lm.Offset) / 8
				target.offset += uint32(tm.Offset) / 8
				break
			}
			if next := i + 1; next < len(acc[1:]) {
				return coreField{}, coreField{}, errors.New("can't descend into bitfield")
			}
			if err := local.adjustOffsetBits(uint32(lm.Offset)); err != nil {
				return coreField{}, coreField{}, err
			}
			if err := target.adjustOffsetBits(uint32(tm.Offset)); err != nil {
				return coreField{}, coreField{}, err
			}

		case *cbtf.Array:
			ta, ok := cbtf.As[*cbtf.Array](target.typ)
			if !ok {
				return coreField{}, coreField{}, impossiblef("incompatible types: local `%s` is an array, %s's `%s` is %s",
					local.path, k.Name, target.path, describe(target.typ))
			}
			if lt.Nelems == 0 && !localMaybeFlex {
				return coreField{}, coreField{}, errors.New("local type has invalid flexible array")
			}
			if ta.Nelems == 0 && !targetMaybeFlex {
				return coreField{}, coreField{}, errors.New("target type has invalid flexible array")
			}
			if lt.Nelems > 0 && a >= int(lt.Nelems) {
				return coreField{}, coreField{}, fmt.Errorf("invalid access of %s at index %d", lt, a)
			}
			if ta.Nelems > 0 && a >= int(ta.Nelems) {
				return coreField{}, coreField{}, impossiblef("index %d is out of bounds: `%s` has %d elements in %s", a, target.path, ta.Nelems, k.Name)
			}
			idx := "[" + strconv.Itoa(a) + "]"
			local = coreField{typ: lt.Type, offset: local.offset, path: local.path + idx}
			localMaybeFlex = false
			if err := local.adjustOffsetToNthElement(a); err != nil {
				return coreField{}, coreField{}, err
			}
			target = coreField{typ: ta.Type, offset: target.offset, path: target.path + idx}
			targetMaybeFlex = false
			if err := target.adjustOffsetToNthElement(a); err != nil {
				return coreField{}, coreField{}, err
			}

		default:
			return coreField{}, coreField{}, fmt.Errorf("relocate field of %T: %w", lt, cbtf.ErrNotSupported)
		}

		if err := membersCompatible(local, target, k); err != nil {
			return coreField{}, coreField{}, err
		}
	}
	return local, target, nil
}

// displayName names a composite for messages: its own name, else the path
// that reached it.
func displayName(t cbtf.Type, path string) string {
	if n := t.TypeName(); n != "" {
		return n
	}
	return path
}

// findMember mirrors cilium's coreFindMember: a breadth-first search for a
// member by name, descending into anonymous structs and unions. It returns
// whether the member is the last of its (innermost) composite.
func findMember(typ cbtf.Type, name string) (cbtf.Member, bool, error) {
	if name == "" {
		return cbtf.Member{}, false, errors.New("can't search for anonymous member")
	}
	type offsetTarget struct {
		typ    cbtf.Type
		offset cbtf.Bits
	}
	targets := []offsetTarget{{typ, 0}}
	visited := make(map[cbtf.Type]bool)
	for i := 0; i < len(targets); i++ {
		t := targets[i]
		if visited[t.typ] {
			continue
		}
		if len(visited) >= maxResolveDepth {
			return cbtf.Member{}, false, errors.New("type is nested too deep")
		}
		visited[t.typ] = true
		ms, _ := members(t.typ)
		for j, m := range ms {
			if m.Name == name {
				m.Offset += t.offset
				return m, j == len(ms)-1, nil
			}
			if m.Name != "" {
				continue
			}
			comp, ok := asComposite(m.Type)
			if !ok {
				return cbtf.Member{}, false, fmt.Errorf("anonymous non-composite type %T not allowed", m.Type)
			}
			targets = append(targets, offsetTarget{comp, t.offset + m.Offset})
		}
	}
	return cbtf.Member{}, false, impossiblef("no matching member")
}

// memberNames lists the names reachable from a composite through anonymous
// members, for suggestions.
func memberNames(typ cbtf.Type) []string {
	var names []string
	queue := []cbtf.Type{typ}
	seen := map[cbtf.Type]bool{}
	for len(queue) > 0 && len(seen) < maxResolveDepth {
		t := queue[0]
		queue = queue[1:]
		if seen[t] {
			continue
		}
		seen[t] = true
		ms, _ := members(t)
		for _, m := range ms {
			if m.Name != "" {
				names = append(names, m.Name)
			} else if c, ok := asComposite(m.Type); ok {
				queue = append(queue, c)
			}
		}
	}
	return names
}

// membersCompatible mirrors cilium's coreAreMembersCompatible (libbpf's
// bpf_core_fields_are_compat).
func membersCompatible(local, target coreField, k *Kernel) error {
	lt := cbtf.UnderlyingType(local.typ)
	tt := cbtf.UnderlyingType(target.typ)
	_, lok := members(lt)
	_, tok := members(tt)
	if lok && tok {
		return nil
	}
	mismatch := func() error {
		return impossiblef("incompatible types: local `%s` is %s, %s's is %s", local.path, describe(local.typ), k.Name, describe(target.typ))
	}
	if goKind(lt) != goKind(tt) {
		return mismatch()
	}
	switch lv := lt.(type) {
	case *cbtf.Array, *cbtf.Pointer, *cbtf.Float, *cbtf.Int:
		return nil
	case *cbtf.Enum:
		if !essentialNamesMatch(lv.Name, tt.(*cbtf.Enum).Name) {
			return mismatch()
		}
		return nil
	case *cbtf.Fwd:
		if !essentialNamesMatch(lv.Name, tt.(*cbtf.Fwd).Name) {
			return mismatch()
		}
		return nil
	default:
		return fmt.Errorf("type %s: %w", lt, cbtf.ErrNotSupported)
	}
}

// goKind is the dynamic type of t, standing for cilium's reflect.TypeOf
// comparisons.
func goKind(t cbtf.Type) string { return fmt.Sprintf("%T", t) }

type typePair struct{ a, b cbtf.Type }

// typesCompatible mirrors cilium's coreAreTypesCompatible (libbpf's
// bpf_core_types_are_compat), used by type-based relocations.
func typesCompatible(local, target cbtf.Type, visited map[typePair]struct{}, where string) error {
	lt := cbtf.UnderlyingType(local)
	tt := cbtf.UnderlyingType(target)
	if goKind(lt) != goKind(tt) {
		return impossiblef("incompatible types: local `%s` is %s, %s is %s", displayOr(local, describe(local)), describe(lt), where, describe(tt))
	}
	if _, ok := visited[typePair{lt, tt}]; ok {
		return nil
	}
	if visited == nil {
		visited = make(map[typePair]struct{})
	}
	visited[typePair{lt, tt}] = struct{}{}

	switch lv := lt.(type) {
	case *cbtf.Void, *cbtf.Struct, *cbtf.Union, *cbtf.Enum, *cbtf.Fwd, *cbtf.Int:
		return nil
	case *cbtf.Pointer:
		return typesCompatible(lv.Target, tt.(*cbtf.Pointer).Target, visited, where)
	case *cbtf.Array:
		tv := tt.(*cbtf.Array)
		if err := typesCompatible(lv.Index, tv.Index, visited, where); err != nil {
			return err
		}
		return typesCompatible(lv.Type, tv.Type, visited, where)
	case *cbtf.FuncProto:
		tv := tt.(*cbtf.FuncProto)
		if err := typesCompatible(lv.Return, tv.Return, visited, where); err != nil {
			return err
		}
		if len(lv.Params) != len(tv.Params) {
			return impossiblef("incompatible types: local function type has %d parameters, %s has %d", len(lv.Params), where, len(tv.Params))
		}
		for i := range lv.Params {
			if err := typesCompatible(lv.Params[i].Type, tv.Params[i].Type, visited, where); err != nil {
				return err
			}
		}
		return nil
	default:
		return fmt.Errorf("unsupported type %T", lt)
	}
}

func displayOr(t cbtf.Type, alt string) string {
	if n := t.TypeName(); n != "" {
		return n
	}
	return alt
}

// typesMatch mirrors cilium's coreTypesMatch (libbpf's
// __bpf_core_types_match), used by type_matches relocations. path names the
// part being compared ("task_struct.mm"), kernel the kernel, for messages.
func typesMatch(local, target cbtf.Type, visited map[typePair]struct{}, path, kernel string) error {
	lt := cbtf.UnderlyingType(local)
	tt := cbtf.UnderlyingType(target)
	differ := func(format string, args ...any) error {
		return impossiblef("types do not match: `%s` %s", path, fmt.Sprintf(format, args...))
	}
	if !essentialNamesMatch(lt.TypeName(), tt.TypeName()) || goKind(lt) != goKind(tt) {
		return differ("is %s locally, %s in %s", describe(lt), describe(tt), kernel)
	}
	if _, ok := visited[typePair{lt, tt}]; ok {
		return nil
	}
	if visited == nil {
		visited = make(map[typePair]struct{})
	}
	visited[typePair{lt, tt}] = struct{}{}

	switch lv := lt.(type) {
	case *cbtf.Void:
	case *cbtf.Fwd:
		if tt.(*cbtf.Fwd).Kind != lv.Kind {
			return differ("is %s locally, %s in %s", describe(lt), describe(tt), kernel)
		}
	case *cbtf.Enum:
		tv := tt.(*cbtf.Enum)
		if lv.Size != tv.Size {
			return differ("has %d bytes locally, %d in %s", lv.Size, tv.Size, kernel)
		}
		if len(lv.Values) > len(tv.Values) {
			return differ("has %d values locally, %d in %s", len(lv.Values), len(tv.Values), kernel)
		}
	outer:
		for _, v := range lv.Values {
			for _, w := range tv.Values {
				if essentialNamesMatch(v.Name, w.Name) {
					continue outer
				}
			}
			return differ("has no value `%s` in %s", v.Name, kernel)
		}
	case *cbtf.Struct, *cbtf.Union:
		lms, _ := members(lv)
		tms, _ := members(tt)
		if len(lms) > len(tms) {
			return differ("has %d members locally, %d in %s", len(lms), len(tms), kernel)
		}
		byName := make(map[string]cbtf.Member, len(tms))
		for _, m := range tms {
			byName[m.Name] = m
		}
		for _, lm := range lms {
			tm, found := byName[lm.Name]
			if !found {
				return differ("has no member `%s` in %s", lm.Name, kernel)
			}
			if err := typesMatch(lm.Type, tm.Type, visited, path+"."+lm.Name, kernel); err != nil {
				return err
			}
		}
	case *cbtf.Int:
		tv := tt.(*cbtf.Int)
		if lv.Size != tv.Size || (lv.Encoding == cbtf.Signed) != (tv.Encoding == cbtf.Signed) {
			return differ("is %s locally, %s in %s", describe(lv), describe(tv), kernel)
		}
	case *cbtf.Pointer:
		tv := tt.(*cbtf.Pointer)
		if fwd, ok := cbtf.As[*cbtf.Fwd](lv.Target); ok && fwdMatches(fwd, tv.Target) {
			return nil
		}
		if fwd, ok := cbtf.As[*cbtf.Fwd](tv.Target); ok && fwdMatches(fwd, lv.Target) {
			return nil
		}
		return typesMatch(lv.Target, tv.Target, visited, "*"+path, kernel)
	case *cbtf.Array:
		tv := tt.(*cbtf.Array)
		if lv.Nelems != tv.Nelems {
			return differ("has %d elements locally, %d in %s", lv.Nelems, tv.Nelems, kernel)
		}
		return typesMatch(lv.Type, tv.Type, visited, path+"[]", kernel)
	case *cbtf.FuncProto:
		tv := tt.(*cbtf.FuncProto)
		if len(lv.Params) != len(tv.Params) {
			return differ("takes %d parameters locally, %d in %s", len(lv.Params), len(tv.Params), kernel)
		}
		for i := range lv.Params {
			if err := typesMatch(lv.Params[i].Type, tv.Params[i].Type, visited, fmt.Sprintf("%s(param %d)", path, i+1), kernel); err != nil {
				return err
			}
		}
		return typesMatch(lv.Return, tv.Return, visited, path+"(return)", kernel)
	default:
		return fmt.Errorf("unsupported type %T", lt)
	}
	return nil
}

// fwdMatches mirrors cilium's (*Fwd).matches.
func fwdMatches(f *cbtf.Fwd, typ cbtf.Type) bool {
	if _, ok := cbtf.As[*cbtf.Struct](typ); ok && f.Kind == cbtf.FwdStruct {
		return true
	}
	if _, ok := cbtf.As[*cbtf.Union](typ); ok && f.Kind == cbtf.FwdUnion {
		return true
	}
	return false
}

// describe names a type the way a C programmer would: "int", "struct
// task_struct", "unsigned int *", "char[16]", "union (anonymous)".
func describe(t cbtf.Type) string {
	return describeDepth(t, 0)
}

func describeDepth(t cbtf.Type, depth int) string {
	if depth > 8 {
		return "..."
	}
	switch v := t.(type) {
	case nil:
		return "<nil>"
	case *cbtf.Void:
		return "void"
	case *cbtf.Int:
		return v.Name
	case *cbtf.Float:
		return v.Name
	case *cbtf.Struct:
		return "struct " + orAnon(v.Name)
	case *cbtf.Union:
		return "union " + orAnon(v.Name)
	case *cbtf.Enum:
		return "enum " + orAnon(v.Name)
	case *cbtf.Fwd:
		return v.Kind.String() + " " + v.Name + " (forward declaration)"
	case *cbtf.Typedef:
		return v.Name
	case *cbtf.Pointer:
		return describeDepth(v.Target, depth+1) + " *"
	case *cbtf.Array:
		return describeDepth(v.Type, depth+1) + "[" + strconv.FormatUint(uint64(v.Nelems), 10) + "]"
	case *cbtf.Const:
		return "const " + describeDepth(v.Type, depth+1)
	case *cbtf.Volatile:
		return "volatile " + describeDepth(v.Type, depth+1)
	case *cbtf.Restrict:
		return describeDepth(v.Type, depth+1)
	case *cbtf.TypeTag:
		return describeDepth(v.Type, depth+1)
	case *cbtf.FuncProto:
		return "a function type"
	case *cbtf.Func:
		return "function " + v.Name
	case *cbtf.Var:
		return "variable " + v.Name
	}
	return fmt.Sprintf("%T", t)
}

func orAnon(name string) string {
	if name == "" {
		return "(anonymous)"
	}
	return name
}
