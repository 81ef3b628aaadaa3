package compiler

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// TestCorpusLayoutMatchesKernelBTF follows every field relocation whose root type comes from
// vmlinux.h through the BTF the header was generated from: the member indices of the access
// string must name the members corels names, at the offset and size corels computed.
func TestCorpusLayoutMatchesKernelBTF(t *testing.T) {
	spec, err := btf.LoadSpec(filepath.Join(goldenRoot(t), "testdata", "include", "vmlinux.btf"))
	if err != nil {
		t.Fatalf("kernel BTF of the test vmlinux.h (make vmlinux): %v", err)
	}
	checked := 0
	for _, path := range corpusFiles(t) {
		name := goldenName(path)
		res := compileCorpus(t, path)
		if _, bug := frontEndBugs[name]; bug {
			continue
		}
		for _, r := range res.Relocations {
			if !r.Kind.IsField() || r.Type == "" || strings.Contains(r.Type, "___") {
				continue
			}
			root, err := spec.AnyTypeByName(r.Type)
			if err != nil {
				continue // a local type
			}
			if !sameRecord(root, r.Local) {
				continue // a local type that shares a kernel name
			}
			off, size, names, err := followAccess(root, r.Access)
			if err != nil {
				t.Errorf("%s: %s %s: %v", name, r.Type, r.Access, err)
				continue
			}
			if r.Layout.BitSize == 0 && (off/8 != r.Layout.Offset || size != r.Layout.Size) {
				t.Errorf("%s: %s %s: corels offset %d size %d, kernel BTF offset %d size %d", name, r.Type, r.Access, r.Layout.Offset, r.Layout.Size, off/8, size)
			}
			if r.Layout.BitSize != 0 && off != r.Layout.BitOffset {
				t.Errorf("%s: %s %s: corels bit offset %d, kernel BTF %d", name, r.Type, r.Access, r.Layout.BitOffset, off)
			}
			if strings.Join(names, ".") != strings.Join(r.Path, ".") {
				t.Errorf("%s: %s %s: corels path %v, kernel BTF path %v", name, r.Type, r.Access, r.Path, names)
			}
			checked++
		}
	}
	if checked < 50 {
		t.Errorf("only %d relocations checked against kernel BTF", checked)
	}
	t.Logf("%d field relocations checked against kernel BTF", checked)
}

// sameRecord tells a vmlinux.h record from a local one that shares its name (the seed
// declares its own struct sk_buff): same kind, size and number of members.
func sameRecord(a, b btf.Type) bool {
	a, b = btf.UnderlyingType(a), btf.UnderlyingType(b)
	switch x := a.(type) {
	case *btf.Struct:
		y, ok := b.(*btf.Struct)
		return ok && x.Size == y.Size && len(x.Members) == len(y.Members)
	case *btf.Union:
		y, ok := b.(*btf.Union)
		return ok && x.Size == y.Size && len(x.Members) == len(y.Members)
	}
	return false
}

// followAccess walks an access string through BTF: it returns the bit offset, the byte size
// of what is reached, and the member names (and "[i]" subscripts) along the way.
func followAccess(root btf.Type, access string) (bits int64, size int64, names []string, err error) {
	parts := strings.Split(access, ":")
	idx := make([]int, len(parts))
	for i, p := range parts {
		if idx[i], err = strconv.Atoi(p); err != nil {
			return 0, 0, nil, err
		}
	}
	t := btf.UnderlyingType(root)
	sz, err := btf.Sizeof(t)
	if err != nil {
		return 0, 0, nil, err
	}
	bits = int64(idx[0]) * int64(sz) * 8
	for _, i := range idx[1:] {
		switch x := btf.UnderlyingType(t).(type) {
		case *btf.Struct:
			m := x.Members[i]
			bits += int64(m.Offset)
			names = append(names, m.Name)
			t = m.Type
		case *btf.Union:
			m := x.Members[i]
			bits += int64(m.Offset)
			names = append(names, m.Name)
			t = m.Type
		case *btf.Array:
			es, err := btf.Sizeof(x.Type)
			if err != nil {
				return 0, 0, nil, err
			}
			bits += int64(i) * int64(es) * 8
			names = append(names, "["+strconv.Itoa(i)+"]")
			t = x.Type
		default:
			return 0, 0, nil, err
		}
	}
	s, err := btf.Sizeof(t)
	return bits, int64(s), names, err
}
