package compiler

import (
	"github.com/cilium/ebpf/btf"
	"modernc.org/cc/v4"
)

// btfBuilder converts cc/v4 types to BTF, as clang writes local types into .BTF: a
// relocation's root type is what the loader compares with the kernel's. Typedef and
// qualifier wrappers are dropped inside the graph (libbpf's compatibility checks skip
// them); integer names are DWARF's, like clang's and the kernel's.
type btfBuilder struct {
	memo map[cc.Type]btf.Type
}

func newBTFBuilder() *btfBuilder { return &btfBuilder{memo: map[cc.Type]btf.Type{}} }

var intNames = map[cc.Kind]string{
	cc.Bool: "_Bool", cc.Char: "char", cc.SChar: "signed char", cc.UChar: "unsigned char",
	cc.Short: "short int", cc.UShort: "short unsigned int", cc.Int: "int", cc.UInt: "unsigned int",
	cc.Long: "long int", cc.ULong: "long unsigned int", cc.LongLong: "long long int",
	cc.ULongLong: "long long unsigned int", cc.Int128: "__int128", cc.UInt128: "__int128 unsigned",
}

var signedKinds = map[cc.Kind]bool{
	cc.Char: true, cc.SChar: true, cc.Short: true, cc.Int: true, cc.Long: true, cc.LongLong: true, cc.Int128: true,
}

// typeOf converts t; a typedef name on t itself is kept (type relocations may name one).
func (b *btfBuilder) typeOf(t cc.Type) btf.Type {
	if t == nil {
		return &btf.Void{}
	}
	if d := t.Typedef(); d != nil && !isRecord(t) && t.Kind() != cc.Enum {
		return &btf.Typedef{Name: d.Name(), Type: b.convert(t)}
	}
	return b.convert(t)
}

func (b *btfBuilder) convert(t cc.Type) btf.Type {
	if t == nil {
		return &btf.Void{}
	}
	if r, ok := b.memo[t]; ok {
		return r
	}
	var r btf.Type
	switch x := t.(type) {
	case *cc.StructType:
		s := &btf.Struct{Name: recordName(x)}
		b.memo[t] = s
		if !x.IsIncomplete() {
			s.Size = uint32(x.Size())
			s.Members = b.members(x, x.NumFields(), x.FieldByIndex)
		} else {
			b.memo[t] = &btf.Fwd{Name: s.Name, Kind: btf.FwdStruct}
		}
		return b.memo[t]
	case *cc.UnionType:
		u := &btf.Union{Name: recordName(x)}
		b.memo[t] = u
		if !x.IsIncomplete() {
			u.Size = uint32(x.Size())
			u.Members = b.members(x, x.NumFields(), x.FieldByIndex)
		} else {
			b.memo[t] = &btf.Fwd{Name: u.Name, Kind: btf.FwdUnion}
		}
		return b.memo[t]
	case *cc.PointerType:
		p := &btf.Pointer{}
		b.memo[t] = p
		p.Target = b.convert(x.Elem())
		return p
	case *cc.ArrayType:
		n := x.Len()
		if n < 0 {
			n = 0
		}
		r = &btf.Array{
			Index:  &btf.Int{Name: "__ARRAY_SIZE_TYPE__", Size: 4},
			Type:   b.convert(x.Elem()),
			Nelems: uint32(n),
		}
	case *cc.EnumType:
		e := &btf.Enum{Name: recordName(x), Size: uint32(x.Size()), Signed: x.Min() < 0}
		for _, en := range x.Enumerators() {
			var v uint64
			switch val := en.Value().(type) {
			case cc.Int64Value:
				v = uint64(val)
			case cc.UInt64Value:
				v = uint64(val)
			}
			e.Values = append(e.Values, btf.EnumValue{Name: en.Token.SrcStr(), Value: v})
		}
		r = e
	case *cc.FunctionType:
		fp := &btf.FuncProto{}
		b.memo[t] = fp
		fp.Return = b.convert(x.Result())
		for _, p := range x.Parameters() {
			fp.Params = append(fp.Params, btf.FuncParam{Name: p.Name(), Type: b.convert(p.Type())})
		}
		return fp
	default:
		switch k := t.Kind(); {
		case k == cc.Void:
			r = &btf.Void{}
		case intNames[k] != "":
			enc := btf.Unsigned
			switch {
			case k == cc.Bool:
				enc = btf.Bool
			case k == cc.Char || k == cc.SChar || k == cc.UChar:
				enc = btf.Char
				if k == cc.SChar {
					enc = btf.Signed
				}
			case signedKinds[k]:
				enc = btf.Signed
			}
			r = &btf.Int{Name: intNames[k], Size: uint32(t.Size()), Encoding: enc}
		case k == cc.Float || k == cc.Double || k == cc.LongDouble:
			r = &btf.Float{Name: t.String(), Size: uint32(t.Size())}
		default:
			r = &btf.Void{}
		}
	}
	b.memo[t] = r
	return r
}

func (b *btfBuilder) members(t cc.Type, n int, field func(int) *cc.Field) []btf.Member {
	var ms []btf.Member
	for i := 0; i < n; i++ {
		f := field(i)
		if !isBTFMember(f) {
			continue
		}
		m := btf.Member{Name: f.Name(), Type: b.convert(f.Type()), Offset: btf.Bits(bitOffset(t, f))}
		if f.IsBitfield() {
			m.BitfieldSize = btf.Bits(f.ValueBits())
		}
		ms = append(ms, m)
	}
	return ms
}
