package btf

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"testing"

	"github.com/cilium/ebpf"
	cbtf "github.com/cilium/ebpf/btf"
)

// objReloc is one relocation of a test object, as cilium sees it and as we
// do.
type objReloc struct {
	where string // object:program:instruction
	relo  *cbtf.CORERelocation
	ours  Relocation
}

var reloStringRe = regexp.MustCompile(`^CORERelocation\((\w+), (.*)\[([0-9:]+)\], local_id=(\d+)\)$`)

// objectRelocations reads every CO-RE relocation of an ELF object through
// cilium (ebpf.LoadCollectionSpec + btf.CORERelocationMetadata) and turns each
// into our Relocation: kind, accessor and local type id come from the
// relocation's String(), the type from the object's BTF.
func objectRelocations(path string) (*ebpf.CollectionSpec, []objReloc, error) {
	spec, err := ebpf.LoadCollectionSpec(path)
	if err != nil {
		return nil, nil, err
	}
	var names []string
	for name := range spec.Programs {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []objReloc
	for _, name := range names {
		prog := spec.Programs[name]
		for i := range prog.Instructions {
			relo := cbtf.CORERelocationMetadata(&prog.Instructions[i])
			if relo == nil {
				continue
			}
			m := reloStringRe.FindStringSubmatch(relo.String())
			if m == nil {
				return nil, nil, fmt.Errorf("cannot parse %q", relo.String())
			}
			kind, err := ParseKind(m[1])
			if err != nil {
				return nil, nil, err
			}
			id, _ := strconv.ParseUint(m[4], 10, 32)
			typ, err := spec.Types.TypeByID(cbtf.TypeID(id))
			if err != nil {
				return nil, nil, fmt.Errorf("%s: local type %d: %v", relo, id, err)
			}
			out = append(out, objReloc{
				where: fmt.Sprintf("%s:%s:%d", filepath.Base(path), name, i),
				relo:  relo,
				ours:  Relocation{Kind: kind, Local: typ, Access: m[3], LocalID: cbtf.TypeID(id)},
			})
		}
	}
	return spec, out, nil
}

// diffObjects are the test objects: the clang-16 objects of testdata/obj and
// cilium's own CO-RE test objects.
func diffObjects(t testing.TB) []string {
	objs, _ := filepath.Glob(filepath.Join(repoRoot(), "testdata/obj/*.o"))
	objs = append(objs, filepath.Join(repoRoot(), "testdata/kernels/probe/history.o"))
	if d := ciliumDir(); d != "" {
		more, _ := filepath.Glob(filepath.Join(d, "btf/testdata/*-el.elf"))
		objs = append(objs, more...)
	}
	sort.Strings(objs)
	return objs
}

// ciliumVerdict runs cilium's CORERelocate on one relocation and formats the
// outcome like Result.String (without the failure reason).
func ciliumVerdict(relo *cbtf.CORERelocation, k *Kernel, local *cbtf.Spec) string {
	fixups, err := cbtf.CORERelocate([]*cbtf.CORERelocation{relo}, []*cbtf.Spec{k.Spec}, binary.LittleEndian,
		func(t cbtf.Type) (cbtf.TypeID, error) { return local.TypeID(t) })
	if err != nil {
		return "failed"
	}
	return fixups[0].String()
}

func ourVerdict(r Result) string {
	if r.Outcome == Failed {
		return "failed"
	}
	return r.String()
}

// TestDifferentialCilium checks, for every relocation of every test object
// against every test kernel (and against the BTF of cilium's test objects,
// which carry the targets their relocations were written for), that our
// verdict equals cilium/ebpf v0.22.0's CORERelocate.
func TestDifferentialCilium(t *testing.T) {
	kernels := testKernels(t)
	var targets []*Kernel
	for _, k := range kernels {
		targets = append(targets, k.Kernel)
	}
	// cilium's objects double as targets: relocs_read_tgt is the target of
	// relocs_read, and every object resolves against its own BTF.
	if d := ciliumDir(); d != "" {
		elfs, _ := filepath.Glob(filepath.Join(d, "btf/testdata/*-el.elf"))
		sort.Strings(elfs)
		for _, e := range elfs {
			k, err := SharedCache().Load(e)
			if err != nil {
				t.Fatal(err)
			}
			targets = append(targets, k)
		}
	}

	objs := diffObjects(t)
	if len(objs) == 0 {
		t.Skip("no test objects")
	}
	var compared, relocs, loaded, resolved, notFound, failed int
	byKind := map[Kind]int{}
	for _, obj := range objs {
		spec, rs, err := objectRelocations(obj)
		if err != nil {
			t.Logf("skip %s: cilium cannot load it: %v", filepath.Base(obj), err)
			continue
		}
		relocs += len(rs)
		loaded++
		for _, k := range targets {
			for _, r := range rs {
				want := ciliumVerdict(r.relo, k, spec.Types)
				res := Resolve(r.ours, k)
				got := ourVerdict(res)
				compared++
				byKind[r.ours.Kind]++
				switch res.Outcome {
				case Resolved:
					resolved++
				case NotFound:
					notFound++
				case Failed:
					failed++
				}
				if got != want {
					t.Errorf("%s %s on %s: cilium %s, ours %s (%s)", r.where, r.ours, k.Name, want, got, res.Reason)
				}
			}
		}
	}
	t.Logf("compared %d verdicts: %d relocations in %d objects × %d targets (%d kernels + %d object BTFs); resolved %d, not found %d, failed %d",
		compared, relocs, loaded, len(targets), len(kernels), len(targets)-len(kernels), resolved, notFound, failed)
	var ks []string
	for k, n := range byKind {
		ks = append(ks, fmt.Sprintf("%s:%d", k, n))
	}
	sort.Strings(ks)
	t.Logf("by kind: %v", ks)
}
