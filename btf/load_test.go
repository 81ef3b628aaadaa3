package btf

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ulikunitz/xz"
)

// synthRaw returns the raw BTF of a synthetic kernel.
func synthRaw(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(), "testdata/kernels", name+".btf.o"))
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := extract(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	return blobs[0].raw
}

func gzipBytes(t testing.TB, data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func xzBytes(t testing.TB, data []byte) []byte {
	var b bytes.Buffer
	w, err := xz.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func tarBytes(t testing.TB, files map[string][]byte) []byte {
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	for _, name := range sortedKeys(files) {
		w.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(files[name])), Typeflag: tar.TypeReg})
		w.Write(files[name])
	}
	w.Close()
	return b.Bytes()
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLoadFormats loads the same kernel in every container we support and
// checks the display name each gets.
func TestLoadFormats(t *testing.T) {
	raw := synthRaw(t, "5.14.0-synth")
	elfData, _ := os.ReadFile(filepath.Join(repoRoot(), "testdata/kernels/5.14.0-synth.btf.o"))
	dir := t.TempDir()
	tests := []struct {
		file     string
		data     []byte
		wantName string
	}{
		{"raw.btf", raw, "raw.btf"},
		{"5.4.0-91-generic.btf", raw, "5.4.0-91-generic"},
		{"kernel.btf.gz", gzipBytes(t, raw), "kernel.btf.gz"},
		{"vmlinux-6.2.0-1-arm64.btf.xz", xzBytes(t, raw), "6.2.0-1-arm64"},
		{"btfhub/ubuntu/20.04/x86_64/5.4.0-91-generic.btf.tar.xz", xzBytes(t, tarBytes(t, map[string][]byte{"5.4.0-91-generic.btf": raw})), "5.4.0-91-generic"},
		{"member-named.tar.gz", gzipBytes(t, tarBytes(t, map[string][]byte{"4.19.0-17-amd64.btf": raw})), "4.19.0-17-amd64"},
		{"elf-with-btf.o", elfData, "elf-with-btf.o"},
	}
	c := NewCache(2)
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p := writeFile(t, dir, tt.file, tt.data)
			k, err := c.Load(p)
			if err != nil {
				t.Fatal(err)
			}
			if k.Name != tt.wantName {
				t.Errorf("name %q, want %q", k.Name, tt.wantName)
			}
			if k.Path != p || k.Size != len(raw) || k.NumTypes == 0 || !k.HasTypeName("task_struct") {
				t.Errorf("kernel %+v", k)
			}
			r := Resolve(Relocation{FieldByteOffset, localTaskNew, "0:0", 0}, k)
			if r.Outcome != Resolved {
				t.Errorf("resolve: %s %s", r, r.Reason)
			}
		})
	}
}

func TestLoadVmlinuxBanner(t *testing.T) {
	def, err := DefaultKernel()
	if err != nil {
		t.Fatal(err)
	}
	if def.Name != "6.1.0-56-amd64" || !strings.Contains(DefaultSource(), "linux-image-6.1.0-56-amd64 6.1.192-2") {
		t.Errorf("default kernel %q from %q", def.Name, DefaultSource())
	}
	if got := releaseFromBanner("Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) (gcc-12)"); got != "6.1.0-56-amd64" {
		t.Errorf("banner release %q", got)
	}
	for name, want := range map[string]string{
		"5.4.0-91-generic.btf.tar.xz": "5.4.0-91-generic",
		"vmlinux-6.1.0-56-amd64":      "6.1.0-56-amd64",
		"4.18.0-305.el8.x86_64.btf":   "4.18.0-305.el8.x86_64",
		"vmlinux.btf.gz":              "",
		"relocs-el.elf":               "",
	} {
		if got := releaseFromFileName(name); got != want {
			t.Errorf("releaseFromFileName(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestLoadSysfs(t *testing.T) {
	if _, err := os.Stat(SysfsVmlinux); err != nil {
		t.Skip("no /sys/kernel/btf/vmlinux")
	}
	k, err := SharedCache().Load(SysfsVmlinux)
	if err != nil {
		t.Fatal(err)
	}
	rel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	if k.Name != strings.TrimSpace(string(rel)) {
		t.Errorf("name %q, want the running kernel's release %q", k.Name, rel)
	}
	ks, err := DefaultKernels()
	if err != nil || len(ks) != 1 || ks[0].Path != SysfsVmlinux {
		t.Errorf("DefaultKernels() = %v, %v", ks, err)
	}
}

// TestLoadCorrupt: each broken file gets an error that names it and says
// what is wrong, and the good files next to it still load.
func TestLoadCorrupt(t *testing.T) {
	raw := synthRaw(t, "5.14.0-synth")
	gz := gzipBytes(t, raw)
	xzd := xzBytes(t, tarBytes(t, map[string][]byte{"5.4.0-1.btf": raw}))
	badVersion := bytes.Clone(raw)
	badVersion[2] = 7
	badKind := bytes.Clone(raw)
	badKind[24+7] = 0x1f // first type's kind byte: kind 31
	longHdr := bytes.Clone(raw)
	longHdr[5] = 0xff
	noNul := bytes.Clone(raw)
	noNul[len(noNul)-1] = 'x'
	elfNoBTF, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Skip(err)
	}
	bz := make([]byte, 0x300)
	copy(bz[0x202:], "HdrS")

	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty.btf", nil, "empty file"},
		{"random.btf", []byte("this is not BTF at all, just text"), "not BTF: unrecognized format"},
		{"tiny.btf", raw[:10], "truncated BTF: 10 bytes, shorter than the 24-byte header"},
		{"truncated.btf", raw[:1000], "truncated BTF: the header says the data ends at byte"},
		{"version.btf", badVersion, "unsupported BTF version 7"},
		{"kind.btf", badKind, "corrupt BTF: type 1 has unknown kind 31"},
		{"hdrlen.btf", longHdr, "corrupt BTF header: header length"},
		{"strings.btf", noNul, "string section is empty or not NUL-terminated"},
		{"truncated.btf.gz", gz[:len(gz)/2], "gzip: unexpected EOF (file truncated?)"},
		{"truncated.btf.tar.xz", xzd[:len(xzd)/2], "xz: "},
		{"bad-member.tar", tarBytes(t, map[string][]byte{"a.btf": raw[:100]}), "bad-member.tar:a.btf: truncated BTF"},
		{"noBTF.elf", elfNoBTF, "ELF file has no .BTF section"},
		{"vmlinuz", bz, "compressed kernel image"},
		{"x.zst", []byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0}, "zstd"},
	}
	dir := t.TempDir()
	var paths []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, dir, tt.name, tt.data)
			paths = append(paths, p)
			_, err := NewCache(1).Load(p)
			if err == nil {
				t.Fatal("loaded")
			}
			var le *LoadError
			if !errors.As(err, &le) || !strings.Contains(err.Error(), p) {
				t.Errorf("error does not name the file: %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tt.want)
			}
		})
	}
	good := writeFile(t, dir, "good/5.14.0-synth.btf", raw)
	paths = append(paths, good, filepath.Join(dir, "missing.btf"))
	ks, errs := NewCache(2).LoadAll(paths)
	if len(ks) != 1 || ks[0].Path != good {
		t.Errorf("LoadAll loaded %v", ks)
	}
	if len(errs) != len(tests)+1 {
		t.Errorf("LoadAll: %d errors, want %d: %v", len(errs), len(tests)+1, errs)
	}
}

// TestCache: content is loaded once and shared, whatever the path; LoadAll
// expands directories and multi-kernel archives.
func TestCache(t *testing.T) {
	raw := synthRaw(t, "5.10.0-synth")
	raw2 := synthRaw(t, "4.18.0-synth")
	dir := t.TempDir()
	a := writeFile(t, dir, "a/5.10.0-x.btf", raw)
	b := writeFile(t, dir, "b/copy.btf", raw)
	multi := writeFile(t, dir, "c/two.tar", tarBytes(t, map[string][]byte{"5.10.0-x.btf": raw, "4.18.0-y.btf": raw2}))
	writeFile(t, dir, "c/README", []byte("not a kernel"))

	c := NewCache(2)
	var wg sync.WaitGroup
	got := make([]*Kernel, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := a
			if i%2 == 1 {
				p = b
			}
			k, err := c.Load(p)
			if err != nil {
				t.Error(err)
			}
			got[i] = k
		}()
	}
	wg.Wait()
	if got[0].Spec != got[1].Spec || got[0] != got[2] || got[1] != got[3] {
		t.Error("same content not shared")
	}
	if got[0].Name != "5.10.0-x" || got[1].Name != "copy.btf" || got[1].Path != b {
		t.Errorf("names %q %q", got[0].Name, got[1].Name)
	}
	if _, err := c.Load(multi); err == nil || !strings.Contains(err.Error(), "holds 2 kernels") {
		t.Errorf("Load of a 2-kernel archive: %v", err)
	}
	ks, errs := c.LoadAll([]string{dir})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	var names []string
	for _, k := range ks {
		names = append(names, k.Name)
	}
	if strings.Join(names, ",") != "5.10.0-x,copy.btf,4.18.0-y,5.10.0-x" {
		t.Errorf("LoadAll(dir) names %v", names)
	}
	if ks[3].Spec != got[0].Spec {
		t.Error("archive member with known content not shared")
	}
	if len(c.content) != 2 {
		t.Errorf("%d contents loaded, want 2", len(c.content))
	}
}

// Paths that must not be read whole are refused before reading: a FIFO (reading would
// block until a writer comes), a file past the size limit (sparse here: no disk used).
func TestLoadRefusesUnreadable(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "vmlinux.btf")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip(err)
	}
	huge := filepath.Join(dir, "huge.btf")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(maxFile + 1); err != nil {
		t.Skip(err)
	}
	f.Close()
	for _, tc := range []struct{ path, want string }{
		{fifo, "not a regular file"},
		{huge, "larger than the 2048 MB corels reads"},
	} {
		done := make(chan error, 2)
		go func() { _, err := NewCache(1).Load(tc.path); done <- err }()
		go func() { _, err := LoadFile(tc.path); done <- err }()
		for range 2 {
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: %v, want an error containing %q", filepath.Base(tc.path), err, tc.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: no answer in 10s", filepath.Base(tc.path))
			}
		}
	}
}
