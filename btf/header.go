package btf

// This file is a port of libbpf's btf_dump.c C output (the copy in Linux
// 6.1's tools/lib/bpf that bpftool 7.1 is built from), available under the BSD 2-Clause license, so
// that the header is byte-for-byte what `bpftool btf dump file X format c`
// prints: same order, same forward declarations, same padding.

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	cbtf "github.com/cilium/ebpf/btf"
)

// HeaderOptions tune WriteHeader.
type HeaderOptions struct {
	// Guard is the include guard macro; "" means __VMLINUX_H__.
	Guard string
	// NoPreserveAccessIndex leaves out the
	// `#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)`
	// wrapper (which can still be disabled by defining
	// BPF_NO_PRESERVE_ACCESS_INDEX).
	NoPreserveAccessIndex bool
	// Bpftool71 reproduces `bpftool btf dump file X format c` of bpftool
	// 7.1 (Debian 12) byte for byte, including its layout bugs: no
	// mode(byte)/mode(word) on 1- and 8-byte enums, no packed attribute on
	// packed unions, and tail/gap padding in packed structs that assumes
	// natural alignment. By default these three are fixed, so that every
	// offset and size equals the BTF's.
	Bpftool71 bool
}

// WriteHeader writes spec as a C header, like `bpftool btf dump file X
// format c`: every type in dependency order, with forward declarations where
// a cycle needs them, anonymous types inline, bitfields and explicit padding
// so that every member offset equals the BTF's, packed attributes for packed
// structs, the preserve_access_index pragma around it all, and an include
// guard.
func WriteHeader(w io.Writer, spec *cbtf.Spec, opts *HeaderOptions) error {
	if opts == nil {
		opts = &HeaderOptions{}
	}
	guard := opts.Guard
	if guard == "" {
		guard = "__VMLINUX_H__"
	}
	d, err := newDumper(spec)
	if err != nil {
		return err
	}
	d.compat71 = opts.Bpftool71
	bw := bufio.NewWriterSize(w, 1<<16)
	d.w = bw

	fmt.Fprintf(bw, "#ifndef %s\n#define %s\n\n", guard, guard)
	if !opts.NoPreserveAccessIndex {
		bw.WriteString("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n")
		bw.WriteString("#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n")
		bw.WriteString("#endif\n\n")
	}
	for id := 1; id < len(d.types); id++ {
		if err := d.dumpType(uint32(id)); err != nil {
			return err
		}
	}
	if !opts.NoPreserveAccessIndex {
		bw.WriteString("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n")
		bw.WriteString("#pragma clang attribute pop\n")
		bw.WriteString("#endif\n\n")
	}
	fmt.Fprintf(bw, "#endif /* %s */\n", guard)
	return bw.Flush()
}

// btf kinds, as in linux/btf.h.
type btfKind uint8

const (
	kindUnknown btfKind = iota
	kindInt
	kindPtr
	kindArray
	kindStruct
	kindUnion
	kindEnum
	kindFwd
	kindTypedef
	kindVolatile
	kindConst
	kindRestrict
	kindFunc
	kindFuncProto
	kindVar
	kindDatasec
	kindFloat
	kindDeclTag
	kindTypeTag
	kindEnum64
)

type orderState uint8

const (
	notOrdered orderState = iota
	ordering
	ordered
)

type emitState uint8

const (
	notEmitted emitState = iota
	emitting
	emitted
)

type typeState struct {
	order        orderState
	emit         emitState
	fwdEmitted   bool
	nameResolved bool
	referenced   bool
}

// dumper is struct btf_dump.
type dumper struct {
	w          *bufio.Writer
	types      []cbtf.Type // by id; nil for void and for ids cilium hides (decl tags)
	ids        map[cbtf.Type]uint32
	states     []typeState
	names      []string // cached unique names
	emitQueue  []uint32
	typeNames  map[string]int
	identNames map[string]int
	ptrSize    int
	compat71   bool // reproduce bpftool 7.1 exactly
}

func newDumper(spec *cbtf.Spec) (*dumper, error) {
	d := &dumper{
		ids:        make(map[cbtf.Type]uint32),
		typeNames:  make(map[string]int),
		identNames: make(map[string]int),
		ptrSize:    8,
	}
	d.types = []cbtf.Type{nil}
	for t, err := range spec.All() {
		if err != nil {
			return nil, err
		}
		id, err := spec.TypeID(t)
		if err != nil {
			return nil, err
		}
		for uint32(len(d.types)) <= uint32(id) {
			d.types = append(d.types, nil)
		}
		d.types[id] = t
		d.ids[t] = uint32(id)
	}
	d.states = make([]typeState, len(d.types))
	d.names = make([]string, len(d.types))
	d.states[0].order = ordered
	d.states[0].emit = emitted
	d.markReferenced()
	return d, nil
}

// id returns the type id of t (0 for void).
func (d *dumper) id(t cbtf.Type) uint32 {
	if t == nil {
		return 0
	}
	if _, ok := t.(*cbtf.Void); ok {
		return 0
	}
	return d.ids[t]
}

func (d *dumper) kind(id uint32) btfKind {
	if id == 0 || int(id) >= len(d.types) || d.types[id] == nil {
		return kindUnknown
	}
	switch t := d.types[id].(type) {
	case *cbtf.Int:
		return kindInt
	case *cbtf.Pointer:
		return kindPtr
	case *cbtf.Array:
		return kindArray
	case *cbtf.Struct:
		return kindStruct
	case *cbtf.Union:
		return kindUnion
	case *cbtf.Enum:
		// cilium folds ENUM64 into Enum; pahole emits ENUM64 exactly for
		// 8-byte enums.
		if t.Size == 8 {
			return kindEnum64
		}
		return kindEnum
	case *cbtf.Fwd:
		return kindFwd
	case *cbtf.Typedef:
		return kindTypedef
	case *cbtf.Volatile:
		return kindVolatile
	case *cbtf.Const:
		return kindConst
	case *cbtf.Restrict:
		return kindRestrict
	case *cbtf.Func:
		return kindFunc
	case *cbtf.FuncProto:
		return kindFuncProto
	case *cbtf.Var:
		return kindVar
	case *cbtf.Datasec:
		return kindDatasec
	case *cbtf.Float:
		return kindFloat
	case *cbtf.TypeTag:
		return kindTypeTag
	}
	return kindUnknown
}

// ref returns the single type a modifier, pointer, typedef, func or var
// refers to.
func (d *dumper) ref(id uint32) uint32 {
	switch t := d.types[id].(type) {
	case *cbtf.Pointer:
		return d.id(t.Target)
	case *cbtf.Typedef:
		return d.id(t.Type)
	case *cbtf.Volatile:
		return d.id(t.Type)
	case *cbtf.Const:
		return d.id(t.Type)
	case *cbtf.Restrict:
		return d.id(t.Type)
	case *cbtf.TypeTag:
		return d.id(t.Type)
	case *cbtf.Func:
		return d.id(t.Type)
	case *cbtf.Var:
		return d.id(t.Type)
	case *cbtf.FuncProto:
		return d.id(t.Return)
	case *cbtf.Array:
		return d.id(t.Type)
	}
	return 0
}

func (d *dumper) name(id uint32) string {
	if id == 0 || d.types[id] == nil {
		return ""
	}
	if tt, ok := d.types[id].(*cbtf.TypeTag); ok {
		return tt.Value
	}
	return d.types[id].TypeName()
}

func (d *dumper) members(id uint32) []cbtf.Member {
	ms, _ := members(d.types[id])
	return ms
}

func (d *dumper) isComposite(id uint32) bool {
	k := d.kind(id)
	return k == kindStruct || k == kindUnion
}

func (d *dumper) isMod(id uint32) bool {
	switch d.kind(id) {
	case kindVolatile, kindConst, kindRestrict, kindTypeTag:
		return true
	}
	return false
}

// markReferenced is btf_dump_mark_referenced.
func (d *dumper) markReferenced() {
	for id := 1; id < len(d.types); id++ {
		t := d.types[id]
		if t == nil {
			continue
		}
		switch v := t.(type) {
		case *cbtf.Volatile, *cbtf.Const, *cbtf.Restrict, *cbtf.Pointer, *cbtf.Typedef, *cbtf.Func, *cbtf.Var, *cbtf.TypeTag:
			d.states[d.ref(uint32(id))].referenced = true
		case *cbtf.Array:
			d.states[d.id(v.Index)].referenced = true
			d.states[d.id(v.Type)].referenced = true
		case *cbtf.Struct, *cbtf.Union:
			for _, m := range d.members(uint32(id)) {
				d.states[d.id(m.Type)].referenced = true
			}
		case *cbtf.FuncProto:
			for _, p := range v.Params {
				d.states[d.id(p.Type)].referenced = true
			}
		case *cbtf.Datasec:
			for _, vs := range v.Vars {
				d.states[d.id(vs.Type)].referenced = true
			}
		}
	}
}

// dumpType is btf_dump__dump_type.
func (d *dumper) dumpType(id uint32) error {
	d.emitQueue = d.emitQueue[:0]
	if _, err := d.orderType(id, false); err != nil {
		return err
	}
	for _, q := range d.emitQueue {
		d.emitType(q, 0)
	}
	return nil
}

// orderType is btf_dump_order_type: a topological sort in which a link
// through a pointer to a named type is weak (a forward declaration will do)
// and every other link is strong. Returns whether the link is strong.
func (d *dumper) orderType(id uint32, throughPtr bool) (bool, error) {
	st := &d.states[id]
	if st.order == ordered {
		return true, nil
	}
	if st.order == ordering {
		if d.isComposite(id) && throughPtr && d.name(id) != "" {
			return false, nil
		}
		return false, fmt.Errorf("unsatisfiable type cycle, id:[%d]", id)
	}
	switch d.kind(id) {
	case kindInt, kindFloat:
		st.order = ordered
		return false, nil
	case kindPtr:
		strong, err := d.orderType(d.ref(id), true)
		d.states[id].order = ordered
		return strong, err
	case kindArray:
		return d.orderType(d.ref(id), false)
	case kindStruct, kindUnion:
		if throughPtr && d.name(id) != "" {
			return false, nil
		}
		st.order = ordering
		for _, m := range d.members(id) {
			if _, err := d.orderType(d.id(m.Type), false); err != nil {
				return false, err
			}
		}
		if d.name(id) != "" {
			d.emitQueue = append(d.emitQueue, id)
		}
		d.states[id].order = ordered
		return true, nil
	case kindEnum, kindEnum64, kindFwd:
		if d.name(id) != "" || !st.referenced {
			d.emitQueue = append(d.emitQueue, id)
		}
		st.order = ordered
		return true, nil
	case kindTypedef:
		strong, err := d.orderType(d.ref(id), throughPtr)
		if err != nil {
			return false, err
		}
		if throughPtr && !strong {
			return false, nil
		}
		d.emitQueue = append(d.emitQueue, id)
		d.states[id].order = ordered
		return true, nil
	case kindVolatile, kindConst, kindRestrict, kindTypeTag:
		return d.orderType(d.ref(id), throughPtr)
	case kindFuncProto:
		fp := d.types[id].(*cbtf.FuncProto)
		strong, err := d.orderType(d.id(fp.Return), throughPtr)
		if err != nil {
			return false, err
		}
		for _, p := range fp.Params {
			s, err := d.orderType(d.id(p.Type), throughPtr)
			if err != nil {
				return false, err
			}
			if s {
				strong = true
			}
		}
		return strong, nil
	case kindFunc, kindVar, kindDatasec, kindDeclTag:
		st.order = ordered
		return false, nil
	}
	if d.types[id] == nil {
		// A decl tag hidden by cilium: nothing to emit.
		st.order = ordered
		return false, nil
	}
	return false, fmt.Errorf("unexpected type %T, id:[%d]", d.types[id], id)
}

func (d *dumper) isBlacklisted(id uint32) bool {
	return d.name(id) == "__builtin_va_list"
}

func (d *dumper) printf(format string, args ...any) {
	fmt.Fprintf(d.w, format, args...)
}

// emitType is btf_dump_emit_type.
func (d *dumper) emitType(id, contID uint32) {
	st := &d.states[id]
	topLevel := contID == 0
	if st.emit == emitted {
		return
	}
	kind := d.kind(id)

	if st.emit == emitting {
		if st.fwdEmitted {
			return
		}
		switch kind {
		case kindStruct, kindUnion:
			if id == contID {
				return
			}
			if d.name(id) == "" {
				return // anonymous struct/union loop
			}
			d.emitStructFwd(id)
			d.printf(";\n\n")
			st.fwdEmitted = true
		case kindTypedef:
			if !d.isBlacklisted(id) {
				d.emitTypedefDef(id, 0)
				d.printf(";\n\n")
			}
			st.fwdEmitted = true
		}
		return
	}

	switch kind {
	case kindInt:
		d.emitMissingAliases(id)
		st.emit = emitted
	case kindEnum, kindEnum64:
		if topLevel {
			d.emitEnumDef(id, 0)
			d.printf(";\n\n")
		}
		st.emit = emitted
	case kindPtr, kindVolatile, kindConst, kindRestrict, kindTypeTag, kindArray:
		d.emitType(d.ref(id), contID)
	case kindFwd:
		d.emitFwdDef(id)
		d.printf(";\n\n")
		st.emit = emitted
	case kindTypedef:
		st.emit = emitting
		d.emitType(d.ref(id), id)
		if !d.states[id].fwdEmitted && !d.isBlacklisted(id) {
			d.emitTypedefDef(id, 0)
			d.printf(";\n\n")
		}
		d.states[id].emit = emitted
	case kindStruct, kindUnion:
		st.emit = emitting
		named := d.name(id) != ""
		if topLevel || !named {
			newCont := id
			if !named {
				newCont = contID
			}
			for _, m := range d.members(id) {
				d.emitType(d.id(m.Type), newCont)
			}
		} else if !d.states[id].fwdEmitted && id != contID {
			d.emitStructFwd(id)
			d.printf(";\n\n")
			d.states[id].fwdEmitted = true
		}
		if topLevel {
			d.emitStructDef(id, 0)
			d.printf(";\n\n")
			d.states[id].emit = emitted
		} else {
			d.states[id].emit = notEmitted
		}
	case kindFuncProto:
		fp := d.types[id].(*cbtf.FuncProto)
		d.emitType(d.id(fp.Return), contID)
		for _, p := range fp.Params {
			d.emitType(d.id(p.Type), contID)
		}
	}
}

// alignOf is btf__align_of.
func (d *dumper) alignOf(id uint32) int {
	switch d.kind(id) {
	case kindInt, kindEnum, kindEnum64, kindFloat:
		return min(d.ptrSize, d.size(id))
	case kindPtr:
		return d.ptrSize
	case kindTypedef, kindVolatile, kindConst, kindRestrict, kindTypeTag, kindArray:
		return d.alignOf(d.ref(id))
	case kindStruct, kindUnion:
		maxAlign := 1
		for _, m := range d.members(id) {
			a := d.alignOf(d.id(m.Type))
			if a <= 0 {
				return a
			}
			maxAlign = max(maxAlign, a)
			if m.BitfieldSize == 0 && int(m.Offset)%(8*a) != 0 {
				return 1
			}
		}
		if d.size(id)%maxAlign != 0 {
			return 1
		}
		return maxAlign
	}
	return 0
}

// size is t->size for sized kinds.
func (d *dumper) size(id uint32) int {
	switch t := d.types[id].(type) {
	case *cbtf.Int:
		return int(t.Size)
	case *cbtf.Enum:
		return int(t.Size)
	case *cbtf.Float:
		return int(t.Size)
	case *cbtf.Struct:
		return int(t.Size)
	case *cbtf.Union:
		return int(t.Size)
	case *cbtf.Datasec:
		return int(t.Size)
	}
	return 0
}

// resolveSize is btf__resolve_size; -1 on error.
func (d *dumper) resolveSize(id uint32) int64 {
	nelems := int64(1)
	for i := 0; i < 32 && id != 0; i++ {
		switch d.kind(id) {
		case kindInt, kindStruct, kindUnion, kindEnum, kindEnum64, kindDatasec, kindFloat:
			return nelems * int64(d.size(id))
		case kindPtr:
			return nelems * int64(d.ptrSize)
		case kindTypedef, kindVolatile, kindConst, kindRestrict, kindVar, kindDeclTag, kindTypeTag:
			id = d.ref(id)
		case kindArray:
			nelems *= int64(d.types[id].(*cbtf.Array).Nelems)
			id = d.ref(id)
		default:
			return -1
		}
	}
	return -1
}

// isStructPacked is btf_is_struct_packed.
func (d *dumper) isStructPacked(id uint32) bool {
	maxAlign := 1
	for _, m := range d.members(id) {
		a := d.alignOf(d.id(m.Type))
		if a != 0 && m.BitfieldSize == 0 && int(m.Offset)%(8*a) != 0 {
			return true
		}
		maxAlign = max(a, maxAlign)
	}
	return d.size(id)%maxAlign != 0
}

func pfx(lvl int) string {
	const prefixes = "\t\t\t\t\t\t\t\t\t\t\t\t\t"
	if lvl >= len(prefixes) {
		return prefixes
	}
	return prefixes[:lvl]
}

func roundup(x, y int) int { return (x + y - 1) / y * y }

// hugePadBits is the largest gap padded with unnamed bitfields, as bpftool does (64 KiB).
const hugePadBits = 64 << 10 * 8

// emitBitPadding is btf_dump_emit_bit_padding.
//
// In a packed record the compiler does not align unnamed bitfields, so
// (unless reproducing bpftool 7.1) the gap is filled with exact widths.
func (d *dumper) emitBitPadding(curOff, nextOff, nextAlign int, inBitfield, packed bool, lvl int) {
	pads := []struct {
		name string
		bits int
	}{{"long", d.ptrSize * 8}, {"int", 32}, {"short", 16}, {"char", 8}}
	if curOff >= nextOff {
		return
	}
	// A gap of megabytes (only crafted BTF has one) would take one `long: 64;` line per 8
	// bytes: a header of hundreds of MB from a few KB of BTF. A byte array is as exact.
	if nextOff-curOff > hugePadBits {
		byteStart, byteEnd := roundup(curOff, 8), nextOff/8*8
		d.emitBitPadding(curOff, byteStart, 1, inBitfield, packed, lvl)
		d.printf("\n%schar __pad_at_%d[%d];", pfx(lvl), byteStart/8, (byteEnd-byteStart)/8)
		d.emitBitPadding(byteEnd, nextOff, nextAlign, false, packed, lvl)
		return
	}
	if packed && !d.compat71 {
		for curOff < nextOff {
			bits := min(nextOff-curOff, pads[0].bits)
			name := pads[0].name
			for i := len(pads) - 1; i >= 0; i-- {
				if pads[i].bits >= bits {
					name = pads[i].name
					break
				}
			}
			d.printf("\n%s%s: %d;", pfx(lvl), name, bits)
			curOff += bits
		}
		return
	}
	var newOff, padBits int
	var padType string
	for _, p := range pads {
		padBits, padType = p.bits, p.name
		newOff = roundup(curOff, padBits)
		if newOff <= nextOff {
			break
		}
	}
	if newOff > curOff && newOff <= nextOff {
		if inBitfield ||
			(newOff == nextOff && roundup(curOff, nextAlign*8) != newOff) ||
			(newOff != nextOff && nextOff-newOff <= newOff-curOff) {
			n := 0
			if inBitfield {
				n = newOff - curOff
			}
			d.printf("\n%s%s: %d;", pfx(lvl), padType, n)
		}
		curOff = newOff
	}
	for curOff != nextOff {
		bits := min(nextOff-curOff, padBits)
		if bits == padBits {
			d.printf("\n%s%s: %d;", pfx(lvl), padType, padBits)
			curOff += bits
			continue
		}
		for i := len(pads) - 1; i >= 0; i-- {
			padType, padBits = pads[i].name, pads[i].bits
			if padBits < bits {
				continue
			}
			d.printf("\n%s%s: %d;", pfx(lvl), padType, bits)
			curOff += bits
			break
		}
	}
}

func (d *dumper) emitStructFwd(id uint32) {
	kw := "struct"
	if d.kind(id) == kindUnion {
		kw = "union"
	}
	sep := ""
	if d.name(id) != "" {
		sep = " "
	}
	d.printf("%s%s%s", kw, sep, d.typeName(id))
}

// emitStructDef is btf_dump_emit_struct_def.
func (d *dumper) emitStructDef(id uint32, lvl int) {
	isStruct := d.kind(id) == kindStruct
	align := d.alignOf(id)
	// bpftool 7.1 only checks structs; a union whose size is not a multiple
	// of its members' alignment (a __packed union) needs the attribute too,
	// or the compiler rounds its size up and every later offset moves.
	packed := d.isStructPacked(id)
	if d.compat71 && !isStruct {
		packed = false
	}
	kw := "union"
	if isStruct {
		kw = "struct"
	}
	sep := ""
	if d.name(id) != "" {
		sep = " "
	}
	d.printf("%s%s%s {", kw, sep, d.typeName(id))

	ms := d.members(id)
	off := 0
	prevBitfield := false
	for _, m := range ms {
		mSz := int(m.BitfieldSize)
		mOff := int(m.Offset)
		mAlign := 1
		if !packed {
			mAlign = d.alignOf(d.id(m.Type))
		}
		inBitfield := prevBitfield && mSz != 0
		d.emitBitPadding(off, mOff, mAlign, inBitfield, packed, lvl+1)
		d.printf("\n%s", pfx(lvl+1))
		d.emitTypeDecl(d.id(m.Type), m.Name, lvl+1)
		if mSz != 0 {
			d.printf(": %d", mSz)
			off = mOff + mSz
			prevBitfield = true
		} else {
			sz := max(0, d.resolveSize(d.id(m.Type)))
			off = mOff + int(sz)*8
			prevBitfield = false
		}
		d.printf(";")
	}
	if isStruct {
		d.emitBitPadding(off, d.size(id)*8, align, false, packed, lvl+1)
	}
	if len(ms) > 0 || d.size(id) > 0 {
		d.printf("\n%s}", pfx(lvl))
	} else {
		d.printf("}")
	}
	if packed {
		d.printf(" __attribute__((packed))")
	}
}

var missingBaseTypes = [][2]string{
	{"__Poly8_t", "unsigned char"},
	{"__Poly16_t", "unsigned short"},
	{"__Poly64_t", "unsigned long long"},
	{"__Poly128_t", "unsigned __int128"},
}

func (d *dumper) emitMissingAliases(id uint32) {
	name := d.typeName(id)
	for _, m := range missingBaseTypes {
		if name == m[0] {
			d.printf("typedef %s %s;\n\n", m[1], name)
			break
		}
	}
}

func (d *dumper) emitEnumFwd(id uint32) {
	d.printf("enum %s", d.typeName(id))
}

// emitEnumDef is btf_dump_emit_enum_def.
func (d *dumper) emitEnumDef(id uint32, lvl int) {
	e := d.types[id].(*cbtf.Enum)
	sep := ""
	if e.Name != "" {
		sep = " "
	}
	d.printf("enum%s%s", sep, d.typeName(id))
	if len(e.Values) == 0 {
		return
	}
	d.printf(" {")
	is64 := d.kind(id) == kindEnum64
	for _, v := range e.Values {
		dup := d.nameDups(d.identNames, v.Name)
		name := v.Name
		if dup > 1 {
			name = fmt.Sprintf("%s___%d", v.Name, dup)
		}
		switch {
		case is64 && e.Signed:
			d.printf("\n%s%s = %dLL,", pfx(lvl+1), name, int64(v.Value))
		case is64:
			d.printf("\n%s%s = %dULL,", pfx(lvl+1), name, v.Value)
		case e.Signed:
			d.printf("\n%s%s = %d,", pfx(lvl+1), name, int32(v.Value))
		default:
			d.printf("\n%s%s = %d,", pfx(lvl+1), name, uint32(v.Value))
		}
	}
	d.printf("\n%s}", pfx(lvl))
	if d.compat71 {
		return
	}
	if e.Size == 1 {
		d.printf(" __attribute__((mode(byte)))")
	} else if e.Size == 8 && d.ptrSize == 8 {
		needsWordMode := true
		if is64 {
			for _, v := range e.Values {
				if v.Value>>32 != 0 {
					needsWordMode = false
					break
				}
			}
		}
		if needsWordMode {
			d.printf(" __attribute__((mode(word)))")
		}
	}
}

func (d *dumper) emitFwdDef(id uint32) {
	f := d.types[id].(*cbtf.Fwd)
	if f.Kind == cbtf.FwdUnion {
		d.printf("union %s", d.typeName(id))
	} else {
		d.printf("struct %s", d.typeName(id))
	}
}

func (d *dumper) emitTypedefDef(id uint32, lvl int) {
	name := d.identName(id)
	if d.ref(id) == 0 && name == "__gnuc_va_list" {
		d.printf("typedef __builtin_va_list __gnuc_va_list")
		return
	}
	d.printf("typedef ")
	d.emitTypeDecl(d.ref(id), name, lvl)
}

// emitTypeDecl is btf_dump_emit_type_decl: it pushes the chain of
// modifiers, pointers, arrays and function prototypes down to a terminal
// type, then emits it in C declarator syntax.
func (d *dumper) emitTypeDecl(id uint32, fname string, lvl int) {
	var stack []uint32
loop:
	for {
		stack = append(stack, id)
		if id == 0 {
			break
		}
		switch d.kind(id) {
		case kindPtr, kindVolatile, kindConst, kindRestrict, kindFuncProto, kindTypeTag, kindArray:
			id = d.ref(id)
		default:
			break loop
		}
	}
	d.emitTypeChain(&stack, fname, lvl)
}

func (d *dumper) emitMods(stack *[]uint32) {
	for len(*stack) > 0 {
		id := (*stack)[len(*stack)-1]
		switch d.kind(id) {
		case kindVolatile:
			d.printf("volatile ")
		case kindConst:
			d.printf("const ")
		case kindRestrict:
			d.printf("restrict ")
		default:
			return
		}
		*stack = (*stack)[:len(*stack)-1]
	}
}

func (d *dumper) dropMods(stack *[]uint32) {
	for len(*stack) > 0 {
		if !d.isMod((*stack)[len(*stack)-1]) {
			return
		}
		*stack = (*stack)[:len(*stack)-1]
	}
}

func (d *dumper) emitName(name string, lastWasPtr bool) {
	if name != "" && !lastWasPtr {
		d.printf(" ")
	}
	d.printf("%s", name)
}

// emitTypeChain is btf_dump_emit_type_chain.
func (d *dumper) emitTypeChain(stack *[]uint32, fname string, lvl int) {
	lastWasPtr := true
	for len(*stack) > 0 {
		id := (*stack)[len(*stack)-1]
		*stack = (*stack)[:len(*stack)-1]
		if id == 0 {
			d.emitMods(stack)
			d.printf("void")
			lastWasPtr = false
			continue
		}
		kind := d.kind(id)
		switch kind {
		case kindInt, kindFloat:
			d.emitMods(stack)
			d.printf("%s", d.name(id))
		case kindStruct, kindUnion:
			d.emitMods(stack)
			if d.name(id) == "" {
				d.emitStructDef(id, lvl)
			} else {
				d.emitStructFwd(id)
			}
		case kindEnum, kindEnum64:
			d.emitMods(stack)
			if d.name(id) == "" {
				d.emitEnumDef(id, lvl)
			} else {
				d.emitEnumFwd(id)
			}
		case kindFwd:
			d.emitMods(stack)
			d.emitFwdDef(id)
		case kindTypedef:
			d.emitMods(stack)
			d.printf("%s", d.identName(id))
		case kindPtr:
			if lastWasPtr {
				d.printf("*")
			} else {
				d.printf(" *")
			}
		case kindVolatile:
			d.printf(" volatile")
		case kindConst:
			d.printf(" const")
		case kindRestrict:
			d.printf(" restrict")
		case kindTypeTag:
			d.emitMods(stack)
			d.printf(" __attribute__((btf_type_tag(\"%s\")))", d.name(id))
		case kindArray:
			a := d.types[id].(*cbtf.Array)
			d.dropMods(stack)
			if len(*stack) == 0 {
				d.emitName(fname, lastWasPtr)
				d.printf("[%d]", a.Nelems)
				return
			}
			multidim := d.kind((*stack)[len(*stack)-1]) == kindArray
			if fname != "" && !lastWasPtr {
				d.printf(" ")
			}
			if !multidim {
				d.printf("(")
			}
			d.emitTypeChain(stack, fname, lvl)
			if !multidim {
				d.printf(")")
			}
			d.printf("[%d]", a.Nelems)
			return
		case kindFuncProto:
			fp := d.types[id].(*cbtf.FuncProto)
			d.dropMods(stack)
			if len(*stack) > 0 {
				d.printf(" (")
				d.emitTypeChain(stack, fname, lvl)
				d.printf(")")
			} else {
				d.emitName(fname, lastWasPtr)
			}
			d.printf("(")
			// No parameters, or clang's single void parameter: (void).
			if len(fp.Params) == 0 || (len(fp.Params) == 1 && d.id(fp.Params[0].Type) == 0) {
				d.printf("void)")
				return
			}
			for i, p := range fp.Params {
				if i > 0 {
					d.printf(", ")
				}
				if i == len(fp.Params)-1 && d.id(p.Type) == 0 {
					d.printf("...")
					break
				}
				d.emitTypeDecl(d.id(p.Type), p.Name, lvl)
			}
			d.printf(")")
			return
		default:
			return
		}
		lastWasPtr = kind == kindPtr
	}
	d.emitName(fname, lastWasPtr)
}

// nameDups is btf_dump_name_dups: counts occurrences of a name.
func (d *dumper) nameDups(m map[string]int, name string) int {
	m[name]++
	return m[name]
}

// resolveName is btf_dump_resolve_name: the name to print, with a ___N
// suffix for the N-th distinct type of one name.
func (d *dumper) resolveName(id uint32, m map[string]int) string {
	orig := d.name(id)
	if orig == "" {
		return ""
	}
	st := &d.states[id]
	if st.nameResolved {
		if d.names[id] != "" {
			return d.names[id]
		}
		return orig
	}
	if d.kind(id) == kindFwd || (d.kind(id) == kindEnum && len(d.types[id].(*cbtf.Enum).Values) == 0) {
		st.nameResolved = true
		return orig
	}
	if dup := d.nameDups(m, orig); dup > 1 {
		d.names[id] = fmt.Sprintf("%s___%d", orig, dup)
	}
	st.nameResolved = true
	if d.names[id] != "" {
		return d.names[id]
	}
	return orig
}

func (d *dumper) typeName(id uint32) string  { return d.resolveName(id, d.typeNames) }
func (d *dumper) identName(id uint32) string { return d.resolveName(id, d.identNames) }

// headerNames returns the names WriteHeader gives to the named structs,
// unions and enums of spec: the BTF name, or name___N for the N-th distinct
// type of one name.
func headerNames(spec *cbtf.Spec) (map[cbtf.Type]string, error) {
	d, err := newDumper(spec)
	if err != nil {
		return nil, err
	}
	d.w = bufio.NewWriter(io.Discard)
	for id := 1; id < len(d.types); id++ {
		if err := d.dumpType(uint32(id)); err != nil {
			return nil, err
		}
	}
	names := make(map[cbtf.Type]string)
	for id, t := range d.types {
		switch t.(type) {
		case *cbtf.Struct, *cbtf.Union, *cbtf.Enum:
			if t.TypeName() != "" {
				names[t] = d.typeName(uint32(id))
			}
		}
	}
	return names, nil
}

// HeaderString is WriteHeader into a string.
func HeaderString(spec *cbtf.Spec, opts *HeaderOptions) (string, error) {
	var sb strings.Builder
	if err := WriteHeader(&sb, spec, opts); err != nil {
		return "", err
	}
	return sb.String(), nil
}
