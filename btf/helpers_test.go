package btf

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"testing"
)

// ciliumDir is the cilium/ebpf module directory (from the module cache).
var ciliumDir = sync.OnceValue(func() string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/cilium/ebpf").Output()
	if err != nil {
		return ""
	}
	return string(out[:len(out)-1])
})

// repoRoot is the repository's root directory.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// testKernel is a kernel used by the tests, with whether it is real.
type testKernel struct {
	*Kernel
	real bool
}

var testKernelsOnce = sync.OnceValues(func() ([]testKernel, error) {
	c := SharedCache()
	var out []testKernel
	var paths []string
	if d := ciliumDir(); d != "" {
		paths = append(paths, filepath.Join(d, "btf/testdata/vmlinux.btf.gz"))
	}
	if _, err := os.Stat(SysfsVmlinux); err == nil {
		paths = append(paths, SysfsVmlinux)
	}
	ks, errs := c.LoadAll(paths)
	if len(errs) > 0 {
		return nil, errs[0]
	}
	for _, k := range ks {
		out = append(out, testKernel{k, true})
	}
	def, err := DefaultKernel()
	if err != nil {
		return nil, err
	}
	out = append(out, testKernel{def, true})
	synth, _ := filepath.Glob(filepath.Join(repoRoot(), "testdata/kernels/*.btf.o"))
	sort.Strings(synth)
	ks, errs = c.LoadAll(synth)
	if len(errs) > 0 {
		return nil, errs[0]
	}
	for _, k := range ks {
		out = append(out, testKernel{k, false})
	}
	return out, nil
})

// testKernels returns every test kernel: cilium's vmlinux.btf.gz, this
// machine's /sys/kernel/btf/vmlinux when present, the embedded Debian 6.1
// default, and the synthetic kernels of testdata/kernels.
func testKernels(t testing.TB) []testKernel {
	t.Helper()
	ks, err := testKernelsOnce()
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func realKernels(t testing.TB) []*Kernel {
	var out []*Kernel
	for _, k := range testKernels(t) {
		if k.real {
			out = append(out, k.Kernel)
		}
	}
	return out
}

func kernelByName(t testing.TB, name string) *Kernel {
	t.Helper()
	for _, k := range testKernels(t) {
		if k.Name == name {
			return k.Kernel
		}
	}
	t.Fatalf("no test kernel named %s", name)
	return nil
}
