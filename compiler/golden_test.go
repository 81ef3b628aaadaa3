package compiler

// Ground truth for relocation extraction: clang-16's own CO-RE relocations for every
// program in testdata/*.bpf.c, checked in as golden files so that the ordinary test run
// needs no clang.
//
//   make golden   (= go test ./compiler -run TestGolden -count=1 -args -regen)
//
// compiles each testdata/NAME.bpf.c with
//
//   clang-16 -target bpf -O2 -g -D__TARGET_ARCH_x86 -I testdata/include \
//            -fdebug-prefix-map=<repo>=. -c testdata/NAME.bpf.c -o testdata/obj/NAME.o
//
// (the prefix map only keeps the checkout path out of the checked-in objects), reads the
// object with cilium/ebpf and writes testdata/NAME.relocs:
//
//   # header comment lines (generator, clang version, source hash, spelling notes)
//   KIND TYPE ACCESS    # func@section ...   one line per distinct relocation, sorted
//   extern kconfig NAME                      one line per .kconfig extern clang emitted
//   extern ksym NAME                         one line per .ksyms extern (variable or kfunc)
//
// KIND TYPE ACCESS is spelled exactly like Relocation.Key(). TYPE is the name of the root
// type clang recorded; an anonymous root type is spelled goldenAnon ("<anon>").
// Source lines `// corels-extra: KIND TYPE ACCESS — reason` mark relocations corels is
// expected to report although clang drops them (dead code); see expectedExtras.

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

var (
	goldenRegen = flag.Bool("regen", false, "TestGolden: recompile testdata/*.bpf.c with clang-16 and rewrite testdata/obj/*.o and testdata/*.relocs")
	goldenAll   = flag.Bool("golden.all", false, "TestGoldenFilesFresh: recompile every corpus file with clang (default: two of them)")
)

// goldenAnon is how an anonymous root type (empty BTF name) is spelled in .relocs files.
const goldenAnon = "<anon>"

// goldenFile is one parsed testdata/NAME.relocs.
type goldenFile struct {
	Name    string              // corpus name: "seed" for testdata/seed.bpf.c
	Clang   string              // first line of `clang --version` of the generating clang
	Source  string              // sha256 (hex) of the .bpf.c the file was generated from
	Relocs  map[string]bool     // "KIND TYPE ACCESS", spelled like Relocation.Key()
	Where   map[string][]string // key -> "func@section" where clang emitted it (informational)
	Externs map[string]bool     // "kconfig NAME" / "ksym NAME" (Extern.Kind + " " + Extern.Name)
}

// Keys returns the relocation keys, sorted.
func (g goldenFile) Keys() []string { return goldenSorted(g.Relocs) }

// ExternKeys returns the extern keys ("kconfig NAME", "ksym NAME"), sorted.
func (g goldenFile) ExternKeys() []string { return goldenSorted(g.Externs) }

func goldenSorted(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// goldenRoot returns the repository root (the directory holding go.mod).
func goldenRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// corpusFiles returns the absolute paths of testdata/*.bpf.c, sorted.
func corpusFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(goldenRoot(t), "testdata", "*.bpf.c"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.bpf.c")
	}
	slices.Sort(files)
	return files
}

// goldenName maps "testdata/seed.bpf.c", "seed.bpf.c", "seed.relocs" or "seed" to "seed".
func goldenName(name string) string {
	name = filepath.Base(name)
	for _, suf := range []string{".bpf.c", ".relocs", ".o"} {
		name = strings.TrimSuffix(name, suf)
	}
	return name
}

// loadGolden reads testdata/NAME.relocs; name may be a corpus path or a bare name.
func loadGolden(t testing.TB, name string) goldenFile {
	t.Helper()
	name = goldenName(name)
	path := filepath.Join(goldenRoot(t), "testdata", name+".relocs")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file missing (run `make golden`): %v", err)
	}
	g, err := parseGolden(name, data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return g
}

func newGoldenFile(name string) goldenFile {
	return goldenFile{
		Name:    name,
		Relocs:  map[string]bool{},
		Where:   map[string][]string{},
		Externs: map[string]bool{},
	}
}

func parseGolden(name string, data []byte) (goldenFile, error) {
	g := newGoldenFile(name)
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if c, ok := strings.CutPrefix(line, "#"); ok {
			c = strings.TrimSpace(c)
			if v, ok := strings.CutPrefix(c, "clang: "); ok {
				g.Clang = v
			}
			if v, ok := strings.CutPrefix(c, "source sha256: "); ok {
				g.Source = v
			}
			continue
		}
		body, where, _ := strings.Cut(line, "#")
		f := strings.Fields(body)
		if len(f) > 3 && f[0] != "extern" {
			// A root type named with spaces (`unsigned int`): KIND and ACCESS are one word.
			f = []string{f[0], strings.Join(f[1:len(f)-1], " "), f[len(f)-1]}
		}
		if len(f) != 3 {
			return g, fmt.Errorf("line %d: want 3 fields, got %q", i+1, line)
		}
		if f[0] == "extern" {
			if f[1] != "kconfig" && f[1] != "ksym" {
				return g, fmt.Errorf("line %d: unknown extern kind %q", i+1, f[1])
			}
			g.Externs[f[1]+" "+f[2]] = true
			continue
		}
		if _, ok := ParseKind(f[0]); !ok {
			return g, fmt.Errorf("line %d: unknown relocation kind %q", i+1, f[0])
		}
		key := strings.Join(f, " ")
		if g.Relocs[key] {
			return g, fmt.Errorf("line %d: duplicate %q", i+1, key)
		}
		g.Relocs[key] = true
		if w := strings.Fields(where); len(w) > 0 {
			g.Where[key] = w
		}
	}
	return g, nil
}

// formatGolden renders g as a .relocs file.
func formatGolden(g goldenFile) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Generated by `make golden` from clang-16's output for testdata/%s.bpf.c. DO NOT EDIT.\n", g.Name)
	fmt.Fprintf(&b, "# clang: %s\n", g.Clang)
	fmt.Fprintf(&b, "# source sha256: %s\n", g.Source)
	fmt.Fprintf(&b, "# command: clang-16 %s -c testdata/%s.bpf.c -o testdata/obj/%s.o\n", strings.Join(goldenFlags, " "), g.Name, g.Name)
	fmt.Fprintf(&b, "# One line per distinct CO-RE relocation in .BTF.ext: KIND TYPE ACCESS (as Relocation.Key()),\n")
	fmt.Fprintf(&b, "# TYPE is the root type's BTF name as clang recorded it (qualifiers stripped, typedef names kept),\n")
	fmt.Fprintf(&b, "# %s if it has none. After '#': func@section where clang emitted it.\n", goldenAnon)
	fmt.Fprintf(&b, "# extern kconfig|ksym NAME: externs in the object's .kconfig/.ksyms data sections.\n")
	for _, k := range g.Keys() {
		if w := g.Where[k]; len(w) > 0 {
			fmt.Fprintf(&b, "%s\t# %s\n", k, strings.Join(w, " "))
		} else {
			fmt.Fprintf(&b, "%s\n", k)
		}
	}
	for _, k := range g.ExternKeys() {
		fmt.Fprintf(&b, "extern %s\n", k)
	}
	return b.Bytes()
}

// expectedExtras returns the relocation keys of the source's
// `// corels-extra: KIND TYPE ACCESS — reason` lines, in source order, without duplicates.
// The reason may also be separated by " -- ".
func expectedExtras(src []byte) []string {
	var out []string
	for _, line := range strings.Split(string(src), "\n") {
		_, rest, ok := strings.Cut(line, "// corels-extra:")
		if !ok {
			continue
		}
		if i := strings.Index(rest, "—"); i >= 0 {
			rest = rest[:i]
		} else if i := strings.Index(rest, " -- "); i >= 0 {
			rest = rest[:i]
		}
		f := strings.Fields(rest)
		if len(f) < 3 {
			continue
		}
		key := strings.Join(f[:3], " ")
		if !slices.Contains(out, key) {
			out = append(out, key)
		}
	}
	return out
}

// goldenFlags are clang's flags for every corpus file (paths relative to the repository
// root). -fdebug-prefix-map=<root>=. is added so objects do not depend on the checkout path.
var goldenFlags = []string{"-target", "bpf", "-O2", "-g", "-D__TARGET_ARCH_x86", "-I", "testdata/include"}

func goldenClang() string {
	if c := os.Getenv("CLANG"); c != "" {
		return c
	}
	return "clang-16"
}

func goldenClangVersion(clang string) (string, error) {
	out, err := exec.Command(clang, "--version").Output()
	if err != nil {
		return "", err
	}
	first, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(first), nil
}

// goldenCompile runs clang on root/testdata/NAME.bpf.c, writing obj. Diagnostics about
// the corpus file itself are errors; warnings from headers (the generated vmlinux.h has
// a few) are not.
func goldenCompile(root, clang, name, obj string) error {
	src := filepath.Join("testdata", name+".bpf.c")
	args := append(slices.Clone(goldenFlags), "-fdebug-prefix-map="+root+"=.", "-c", src, "-o", obj)
	cmd := exec.Command(clang, args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %v\n%s", cmd, err, stderr.String())
	}
	own := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(src) + `:\d+:\d+: (warning|error)`)
	if own.Match(stderr.Bytes()) {
		return fmt.Errorf("%s: diagnostics in the corpus file:\n%s", src, stderr.String())
	}
	// DWARF is 95% of an object and nothing reads it: .BTF and .BTF.ext stay.
	strip := exec.Command(goldenStrip(), "--strip-debug", obj)
	strip.Dir = root
	if out, err := strip.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s", strip, err, out)
	}
	return nil
}

func goldenStrip() string {
	if c := os.Getenv("LLVM_STRIP"); c != "" {
		return c
	}
	return "llvm-strip-16"
}

func goldenSHA(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// corelocString parses CORERelocation.String():
// "CORERelocation(byte_off, Struct:\"task_struct\"[0:95], local_id=12)".
var corelocString = regexp.MustCompile(`^CORERelocation\(([a-z_0-9]+), (.*)\[([0-9:]*)\], local_id=(\d+)\)$`)

// goldenTypeName returns the name under which a relocation's root type is recorded.
func goldenTypeName(t btf.Type) string {
	if n := t.TypeName(); n != "" {
		return n
	}
	return goldenAnon
}

// goldenExtract reads the CO-RE relocations and externs of a BPF object. The records come
// from .BTF.ext (read directly: every record, with its ELF section and, through the symbol
// table, its function); the externs from the .kconfig/.ksyms Datasecs of the object's BTF.
// When cilium/ebpf can load the object as a collection (v0.22 refuses weak kconfig externs
// and typed ksyms), its view (btf.CORERelocationMetadata on every program instruction) must
// give the same set.
func goldenExtract(name, obj string) (goldenFile, error) {
	g := newGoldenFile(name)
	spec, err := goldenRawBTF(obj)
	if err != nil {
		return g, fmt.Errorf("BTF: %v", err)
	}
	where, err := goldenRawRelocs(obj, spec)
	if err != nil {
		return g, fmt.Errorf(".BTF.ext: %v", err)
	}
	for k, w := range where {
		g.Relocs[k] = true
		g.Where[k] = goldenSorted(w)
	}
	for typ, err := range spec.All() {
		if err != nil {
			return g, err
		}
		ds, ok := typ.(*btf.Datasec)
		if !ok {
			continue
		}
		var kind string
		switch ds.Name {
		case ".kconfig":
			kind = "kconfig"
		case ".ksyms":
			kind = "ksym"
		default:
			continue
		}
		for _, v := range ds.Vars {
			g.Externs[kind+" "+v.Type.TypeName()] = true
		}
	}

	coll, err := ebpf.LoadCollectionSpec(obj)
	if err != nil {
		if errors.Is(err, ebpf.ErrNotSupported) || strings.Contains(err.Error(), "unsupported") {
			return g, nil // cilium/ebpf limitation; the direct reading stands alone
		}
		return g, fmt.Errorf("cilium/ebpf: %v", err)
	}
	viaCilium, err := goldenCiliumRelocs(coll)
	if err != nil {
		return g, fmt.Errorf("cilium/ebpf: %v", err)
	}
	if !goldenSetEqual(viaCilium, g.Relocs) {
		return g, fmt.Errorf("cilium/ebpf and .BTF.ext disagree:\n  .BTF.ext: %v\n  cilium:   %v",
			g.Keys(), goldenSorted(viaCilium))
	}
	return g, nil
}

// goldenCiliumRelocs collects the relocation keys cilium/ebpf attaches to instructions.
// CORERelocation has only unexported fields: kind and accessor come from its String(),
// the root type from the collection's BTF by local_id.
func goldenCiliumRelocs(coll *ebpf.CollectionSpec) (map[string]bool, error) {
	out := map[string]bool{}
	for pn, prog := range coll.Programs {
		for i := range prog.Instructions {
			relo := btf.CORERelocationMetadata(&prog.Instructions[i])
			if relo == nil {
				continue
			}
			m := corelocString.FindStringSubmatch(relo.String())
			if m == nil {
				return nil, fmt.Errorf("%s: cannot parse %q", pn, relo.String())
			}
			if _, ok := ParseKind(m[1]); !ok {
				return nil, fmt.Errorf("%s: unknown kind in %q", pn, relo.String())
			}
			id, _ := strconv.ParseUint(m[4], 10, 32)
			typ, err := coll.Types.TypeByID(btf.TypeID(id))
			if err != nil {
				return nil, fmt.Errorf("%s: %q: %v", pn, relo.String(), err)
			}
			// The type prints as GoTypeName[:"name"]; it must agree with the type by id.
			want := ""
			if _, q, ok := strings.Cut(m[2], ":"); ok {
				if want, err = strconv.Unquote(q); err != nil {
					return nil, fmt.Errorf("%s: type in %q: %v", pn, relo.String(), err)
				}
			}
			if want != typ.TypeName() {
				return nil, fmt.Errorf("%s: %q: type id %d is %v", pn, relo.String(), id, typ)
			}
			out[m[1]+" "+goldenTypeName(typ)+" "+m[3]] = true
		}
	}
	return out, nil
}

// goldenRawBTF loads the object's .BTF section as a raw blob: type ids are exactly those
// of .BTF.ext, and no ELF fix-ups run (cilium/ebpf v0.22 refuses typed __ksym variables
// when fixing up an ELF's .ksyms Datasec).
func goldenRawBTF(obj string) (*btf.Spec, error) {
	f, err := elf.Open(obj)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sec := f.Section(".BTF")
	if sec == nil {
		return nil, errors.New("no .BTF section")
	}
	raw, err := sec.Data()
	if err != nil {
		return nil, err
	}
	return btf.LoadSpecFromReader(bytes.NewReader(raw))
}

func goldenSetEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// goldenRawRelocs reads the CO-RE relocation records of .BTF.ext directly (libbpf's
// struct btf_ext_header / bpf_core_relo layout), resolving type names with the object's
// BTF. It maps each key to the set of "func@section" places it occurs in.
func goldenRawRelocs(obj string, spec *btf.Spec) (map[string]map[string]bool, error) {
	f, err := elf.Open(obj)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]map[string]bool{}
	extSec, btfSec := f.Section(".BTF.ext"), f.Section(".BTF")
	if extSec == nil {
		return out, nil // no relocations at all
	}
	if btfSec == nil {
		return nil, errors.New("no .BTF section")
	}
	ext, err := extSec.Data()
	if err != nil {
		return nil, err
	}
	raw, err := btfSec.Data()
	if err != nil {
		return nil, err
	}
	syms, err := f.Symbols()
	if err != nil {
		return nil, err
	}
	funcAt := func(secName string, off uint64) string {
		for _, s := range syms {
			if elf.ST_TYPE(s.Info) != elf.STT_FUNC || int(s.Section) >= len(f.Sections) ||
				f.Sections[s.Section].Name != secName {
				continue
			}
			if s.Value <= off && off < s.Value+s.Size {
				return s.Name
			}
		}
		return "?"
	}

	le := binary.LittleEndian
	if len(raw) < 24 || le.Uint16(raw) != 0xeb9f {
		return nil, errors.New("bad .BTF header")
	}
	bhdr := le.Uint32(raw[4:])
	strOff, strLen := bhdr+le.Uint32(raw[16:]), le.Uint32(raw[20:])
	if uint64(strOff)+uint64(strLen) > uint64(len(raw)) {
		return nil, errors.New("bad .BTF string section")
	}
	strs := raw[strOff : strOff+strLen]
	str := func(off uint32) (string, error) {
		if off >= uint32(len(strs)) {
			return "", fmt.Errorf("string offset %d out of range", off)
		}
		s, _, _ := bytes.Cut(strs[off:], []byte{0})
		return string(s), nil
	}
	if len(ext) < 8 || le.Uint16(ext) != 0xeb9f {
		return nil, errors.New("bad .BTF.ext header")
	}
	hdr := le.Uint32(ext[4:])
	if hdr < 32 || uint32(len(ext)) < hdr {
		return out, nil // no core_relo part
	}
	off, n := hdr+le.Uint32(ext[24:]), le.Uint32(ext[28:])
	if n == 0 {
		return out, nil
	}
	if uint64(off)+uint64(n) > uint64(len(ext)) {
		return nil, errors.New("core_relo out of range")
	}
	d := ext[off : off+n]
	recSize := le.Uint32(d)
	if recSize < 16 {
		return nil, fmt.Errorf("core_relo record size %d", recSize)
	}
	d = d[4:]
	for len(d) >= 8 {
		secName, err := str(le.Uint32(d))
		if err != nil {
			return nil, err
		}
		num := le.Uint32(d[4:])
		d = d[8:]
		for i := uint32(0); i < num; i++ {
			if uint32(len(d)) < recSize {
				return nil, errors.New("truncated core_relo records")
			}
			insnOff, typeID, accOff, kind := le.Uint32(d), le.Uint32(d[4:]), le.Uint32(d[8:]), le.Uint32(d[12:])
			d = d[recSize:]
			acc, err := str(accOff)
			if err != nil {
				return nil, err
			}
			typ, err := spec.TypeByID(btf.TypeID(typeID))
			if err != nil {
				return nil, err
			}
			if _, ok := ParseKind(Kind(kind).String()); !ok {
				return nil, fmt.Errorf("unknown relocation kind %d", kind)
			}
			key := Kind(kind).String() + " " + goldenTypeName(typ) + " " + acc
			if out[key] == nil {
				out[key] = map[string]bool{}
			}
			out[key][funcAt(secName, uint64(insnOff))+"@"+secName] = true
		}
	}
	return out, nil
}

// goldenForEach runs fn for every name in parallel and reports the errors.
func goldenForEach(t *testing.T, names []string, fn func(name string) error) {
	t.Helper()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs = map[string]error{}
		sem  = make(chan struct{}, runtime.GOMAXPROCS(0))
	)
	for _, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := fn(n); err != nil {
				mu.Lock()
				errs[n] = err
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, n := range names {
		if err := errs[n]; err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
}

func TestGoldenExpectedExtras(t *testing.T) {
	src := []byte("int x;\n" +
		"\t// corels-extra: byte_off task_struct 0:82 — value never used\n" +
		"// corels-extra: field_exists <anon> 0:1 -- dead branch\n" +
		"// corels-extra: byte_off task_struct 0:82 — same key again\n" +
		"// corels-extra: too short\n")
	got := expectedExtras(src)
	want := []string{"byte_off task_struct 0:82", "field_exists <anon> 0:1"}
	if !slices.Equal(got, want) {
		t.Errorf("expectedExtras = %q, want %q", got, want)
	}
}

// TestGolden regenerates the ground truth with -regen; without it, it does nothing
// (TestGoldenFilesFresh checks the checked-in files without clang).
func TestGolden(t *testing.T) {
	if !*goldenRegen {
		t.Skip("pass -args -regen (make golden) to regenerate testdata/*.relocs with clang-16")
	}
	root := goldenRoot(t)
	clang := goldenClang()
	version, err := goldenClangVersion(clang)
	if err != nil {
		t.Fatalf("%s: %v (apt-get install clang-16)", clang, err)
	}
	if _, err := os.Stat(filepath.Join(root, "testdata", "include", "vmlinux.h")); err != nil {
		t.Fatal("testdata/include/vmlinux.h missing: run `make vmlinux`")
	}
	objDir := filepath.Join(root, "testdata", "obj")
	if err := os.MkdirAll(objDir, 0o755); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range corpusFiles(t) {
		names = append(names, goldenName(f))
	}
	goldenForEach(t, names, func(name string) error {
		src, err := os.ReadFile(filepath.Join(root, "testdata", name+".bpf.c"))
		if err != nil {
			return err
		}
		obj := filepath.Join(objDir, name+".o")
		if err := goldenCompile(root, clang, name, obj); err != nil {
			return err
		}
		g, err := goldenExtract(name, obj)
		if err != nil {
			return err
		}
		g.Clang, g.Source = version, goldenSHA(src)
		return os.WriteFile(filepath.Join(root, "testdata", name+".relocs"), formatGolden(g), 0o644)
	})

	// Remove outputs whose source is gone.
	stale, _ := filepath.Glob(filepath.Join(root, "testdata", "*.relocs"))
	objs, _ := filepath.Glob(filepath.Join(objDir, "*.o"))
	for _, p := range append(stale, objs...) {
		if !slices.Contains(names, goldenName(p)) {
			t.Logf("removing stale %s", p)
			os.Remove(p)
		}
	}
}

// TestGoldenFilesFresh checks that every corpus program has its object and golden file,
// that both were made from the current source, and that the corels-extra annotations are
// well formed. With clang on PATH it recompiles two programs (all with -golden.all) and
// compares the relocation sets.
func TestGoldenFilesFresh(t *testing.T) {
	root := goldenRoot(t)
	files := corpusFiles(t)
	var names []string
	for _, f := range files {
		names = append(names, goldenName(f))
	}
	for _, f := range files {
		name := goldenName(f)
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			g := loadGolden(t, name)
			if g.Source != goldenSHA(src) {
				t.Errorf("testdata/%s.relocs was generated from another version of the source: run `make golden`", name)
			}
			if g.Clang == "" {
				t.Errorf("testdata/%s.relocs: no clang version in the header", name)
			}
			obj := filepath.Join(root, "testdata", "obj", name+".o")
			fromObj, err := goldenExtract(name, obj)
			if err != nil {
				t.Fatalf("testdata/obj/%s.o: %v", name, err)
			}
			if d := goldenDiff(g, fromObj); d != "" {
				t.Errorf("testdata/obj/%s.o does not match testdata/%s.relocs:\n%s", name, name, d)
			}
			for _, line := range strings.Split(string(src), "\n") {
				if strings.Contains(line, "// corels-extra:") && len(expectedExtras([]byte(line))) == 0 {
					t.Errorf("malformed corels-extra line: %q", line)
				}
			}
			for _, key := range expectedExtras(src) {
				f := strings.Fields(key)
				if _, ok := ParseKind(f[0]); !ok {
					t.Errorf("corels-extra %q: unknown kind", key)
				}
				if g.Relocs[key] {
					t.Errorf("corels-extra %q: clang emits it, so it is not an extra", key)
				}
			}
		})
	}
	relocs, _ := filepath.Glob(filepath.Join(root, "testdata", "*.relocs"))
	objs, _ := filepath.Glob(filepath.Join(root, "testdata", "obj", "*.o"))
	for _, p := range append(relocs, objs...) {
		if !slices.Contains(names, goldenName(p)) {
			t.Errorf("%s has no testdata/%s.bpf.c", p, goldenName(p))
		}
	}

	clang := goldenClang()
	if _, err := exec.LookPath(clang); err != nil {
		t.Logf("%s not on PATH: not recompiling", clang)
		return
	}
	check := []string{"seed"}
	if _, err := os.Stat(filepath.Join(root, "testdata", "include", "vmlinux.h")); err == nil {
		check = append(check, "mm_total_vm")
		if *goldenAll {
			check = names
		}
	} else {
		t.Log("testdata/include/vmlinux.h missing (make vmlinux): recompiling seed only")
	}
	tmp := t.TempDir()
	goldenForEach(t, check, func(name string) error {
		obj := filepath.Join(tmp, name+".o")
		if err := goldenCompile(root, clang, name, obj); err != nil {
			return err
		}
		got, err := goldenExtract(name, obj)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(filepath.Join(root, "testdata", name+".relocs"))
		if err != nil {
			return err
		}
		want, err := parseGolden(name, data)
		if err != nil {
			return err
		}
		if d := goldenDiff(want, got); d != "" {
			return fmt.Errorf("recompiled with %s, relocations differ from testdata/%s.relocs:\n%s", clang, name, d)
		}
		return nil
	})
}

// goldenDiff describes how the relocation and extern sets of two golden files differ.
func goldenDiff(want, got goldenFile) string {
	var b strings.Builder
	for _, sets := range [][2]map[string]bool{{want.Relocs, got.Relocs}, {want.Externs, got.Externs}} {
		for _, k := range goldenSorted(sets[0]) {
			if !sets[1][k] {
				fmt.Fprintf(&b, "  - %s\n", k)
			}
		}
		for _, k := range goldenSorted(sets[1]) {
			if !sets[0][k] {
				fmt.Fprintf(&b, "  + %s\n", k)
			}
		}
	}
	return b.String()
}
