package btf

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	cbtf "github.com/cilium/ebpf/btf"
)

// rawBTFFile writes a test kernel's raw BTF to a temporary file, for tools
// that want a file (bpftool).
func rawBTFFile(t *testing.T, k *Kernel) string {
	t.Helper()
	var data []byte
	var err error
	if k.Path == DefaultKernelPath {
		data = defaultBTF
	} else if data, err = os.ReadFile(k.Path); err != nil {
		t.Fatal(err)
	}
	blobs, err := extract(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "kernel.btf")
	if err := os.WriteFile(f, blobs[0].raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestHeaderMatchesBpftool compares WriteHeader's output in Bpftool71 mode
// with `bpftool btf dump file X format c` byte for byte, for every test
// kernel, and checks that the default mode differs from it only by the
// layout fixes (mode attributes, packed unions, packed padding).
func TestHeaderMatchesBpftool(t *testing.T) {
	bpftool, err := exec.LookPath("bpftool")
	if err != nil {
		t.Skip("bpftool not installed")
	}
	for _, k := range testKernels(t) {
		t.Run(k.Name, func(t *testing.T) {
			want, err := exec.Command(bpftool, "btf", "dump", "file", rawBTFFile(t, k.Kernel), "format", "c").Output()
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := WriteHeader(&buf, k.Spec, &HeaderOptions{Bpftool71: true}); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			if !bytes.Equal(got, want) {
				gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
				for i := 0; i < min(len(gl), len(wl)); i++ {
					if gl[i] != wl[i] {
						t.Fatalf("line %d differs:\nours:    %q\nbpftool: %q", i+1, gl[i], wl[i])
					}
				}
				t.Fatalf("lengths differ: ours %d lines, bpftool %d", len(gl), len(wl))
			}
			var fixed bytes.Buffer
			if err := WriteHeader(&fixed, k.Spec, nil); err != nil {
				t.Fatal(err)
			}
			changed := diffLines(want, fixed.Bytes())
			t.Logf("%d bytes, identical to bpftool's; the default mode changes %d lines", len(want), changed)
			for _, line := range strings.Split(fixed.String(), "\n") {
				if strings.Contains(line, "mode(") && !modeAttr.MatchString(line) {
					t.Errorf("unexpected attribute: %q", line)
				}
			}
		})
	}
}

var modeAttr = regexp.MustCompile(`\} __attribute__\(\(mode\((byte|word)\)\)\)`)

// diffLines counts lines of b not in a (a rough diff size).
func diffLines(a, b []byte) int {
	seen := make(map[string]int)
	for _, l := range strings.Split(string(a), "\n") {
		seen[l]++
	}
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if seen[l] > 0 {
			seen[l]--
		} else {
			n++
		}
	}
	return n
}

// TestHeaderRoundTrip compiles the generated header with clang-16 and checks
// that the BTF clang produces has, for every named struct and union of the
// source (and the anonymous ones inside them), the same size and the same
// member names, offsets and bitfield sizes.
func TestHeaderRoundTrip(t *testing.T) {
	clang, err := exec.LookPath("clang-16")
	if err != nil {
		t.Skip("clang-16 not installed")
	}
	for _, k := range testKernels(t) {
		t.Run(k.Name, func(t *testing.T) {
			if testing.Short() && k.real {
				t.Skip("short")
			}
			dir := t.TempDir()
			var hdr bytes.Buffer
			if err := WriteHeader(&hdr, k.Spec, nil); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "vmlinux.h"), hdr.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			// One global per named struct/union: clang emits the full
			// definition of the types of defined globals.
			names, err := headerNames(k.Spec)
			if err != nil {
				t.Fatal(err)
			}
			src := composites(t, k.Spec)
			var c strings.Builder
			c.WriteString("#include \"vmlinux.h\"\n")
			var emitted []string
			byEmitted := make(map[string]cbtf.Type)
			for _, name := range sortedKeys(src) {
				for _, typ := range src[name] {
					kw := "struct"
					if _, ok := typ.(*cbtf.Union); ok {
						kw = "union"
					}
					fmt.Fprintf(&c, "%s %s __rt_%d __attribute__((used));\n", kw, names[typ], len(emitted))
					emitted = append(emitted, names[typ])
					byEmitted[names[typ]] = typ
				}
			}
			if err := os.WriteFile(filepath.Join(dir, "rt.c"), []byte(c.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			// -fms-extensions: since 6.18 the kernel has anonymous members of
			// named struct type (`struct ns_tree;` inside a union), which is
			// how bpftool writes them too.
			cmd := exec.Command(clang, "-g", "-O0", "-target", "bpf", "-fms-extensions", "-c", "rt.c", "-o", "rt.o", "-w")
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("clang: %v\n%s", err, firstLines(string(out), 20))
			}
			got, err := cbtf.LoadSpec(filepath.Join(dir, "rt.o"))
			if err != nil {
				t.Fatal(err)
			}
			compiled := composites(t, got)
			checked, skipped := 0, 0
			for _, name := range emitted {
				if hasVaList(byEmitted[name], 0) {
					// __builtin_va_list is 24 bytes on x86-64 (gcc built the
					// kernel) and a pointer on BPF: no header can keep it.
					skipped++
					continue
				}
				var match cbtf.Type
				for _, c := range compiled[name] {
					if _, isFwd := c.(*cbtf.Fwd); !isFwd {
						match = c
					}
				}
				if match == nil {
					t.Errorf("%s: not in clang's BTF", name)
					continue
				}
				if err := sameLayout(byEmitted[name], match, name, 0); err != nil {
					t.Error(err)
				}
				checked++
			}
			t.Logf("compared the layout of %d structs/unions (%d holding a va_list skipped)", checked, skipped)
		})
	}
}

// hasVaList reports whether a record embeds (not through a pointer) the
// compiler builtin __builtin_va_list.
func hasVaList(t cbtf.Type, depth int) bool {
	if depth > 32 {
		return false
	}
	for {
		switch v := t.(type) {
		case *cbtf.Typedef:
			if v.Name == "__builtin_va_list" {
				return true
			}
			t = v.Type
			continue
		case *cbtf.Array:
			t = v.Type
			continue
		case *cbtf.Const:
			t = v.Type
			continue
		case *cbtf.Volatile:
			t = v.Type
			continue
		}
		break
	}
	ms, _ := members(t)
	for _, m := range ms {
		if hasVaList(m.Type, depth+1) {
			return true
		}
	}
	return false
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// composites maps names to the named structs and unions of a spec.
func composites(t *testing.T, spec *cbtf.Spec) map[string][]cbtf.Type {
	out := make(map[string][]cbtf.Type)
	for typ, err := range spec.All() {
		if err != nil {
			t.Fatal(err)
		}
		switch typ.(type) {
		case *cbtf.Struct, *cbtf.Union:
			if name := typ.TypeName(); name != "" {
				out[name] = append(out[name], typ)
			}
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sameLayout compares sizes, members, offsets and bitfield sizes, descending
// into anonymous members.
func sameLayout(a, b cbtf.Type, path string, depth int) error {
	if depth > 16 {
		return nil
	}
	sa, _ := cbtf.Sizeof(a)
	sb, _ := cbtf.Sizeof(b)
	if sa != sb {
		return fmt.Errorf("%s: size %d, compiled %d", path, sa, sb)
	}
	ma, _ := members(a)
	mb, _ := members(b)
	if len(ma) != len(mb) {
		return fmt.Errorf("%s: %d members, compiled %d", path, len(ma), len(mb))
	}
	for i := range ma {
		x, y := ma[i], mb[i]
		p := path + "." + x.Name
		if x.Name != y.Name || x.Offset != y.Offset || x.BitfieldSize != y.BitfieldSize {
			return fmt.Errorf("%s: member %d is %q at bit %d (bitfield %d), compiled %q at bit %d (bitfield %d)",
				path, i, x.Name, x.Offset, x.BitfieldSize, y.Name, y.Offset, y.BitfieldSize)
		}
		if x.Name == "" {
			if err := sameLayout(cbtf.UnderlyingType(x.Type), cbtf.UnderlyingType(y.Type), p+"<anon>", depth+1); err != nil {
				return err
			}
		}
		if x.BitfieldSize == 0 {
			s1, e1 := cbtf.Sizeof(x.Type)
			s2, e2 := cbtf.Sizeof(y.Type)
			if e1 == nil && e2 == nil && s1 != s2 {
				return fmt.Errorf("%s: member size %d, compiled %d", p, s1, s2)
			}
		}
	}
	return nil
}
