package analysis

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/corels/corels/btf"
)

// benchKernels are three real kernels: the test vmlinux.h's own BTF (cilium/ebpf's
// testdata kernel), the embedded Debian 6.1 kernel, and this machine's kernel when it
// exposes BTF (else the synthetic 5.14).
func benchKernels(b *testing.B) []*btf.Kernel {
	b.Helper()
	var ks []*btf.Kernel
	k, err := btf.SharedCache().Load(filepath.Join(repoRoot(), "testdata", "include", "vmlinux.btf"))
	if err != nil {
		b.Skip("testdata/include/vmlinux.btf is missing: run `make vmlinux`")
	}
	ks = append(ks, k)
	def, err := btf.DefaultKernel()
	if err != nil {
		b.Fatal(err)
	}
	ks = append(ks, def)
	if _, err := os.Stat(btf.SysfsVmlinux); err == nil {
		if k, err := btf.SharedCache().Load(btf.SysfsVmlinux); err == nil {
			return append(ks, k)
		}
	}
	return append(ks, synthKernel(b, "5.14.0-synth"))
}

// BenchmarkAnalyze measures Analyze alone (the compile is done once) on corpus programs
// against three kernels: what the language server adds to each compile.
func BenchmarkAnalyze(b *testing.B) {
	kernels := benchKernels(b)
	for _, name := range []string{"path_dot", "field_info", "flavors", "bitfield_probed"} {
		path := filepath.Join(repoRoot(), "testdata", name+".bpf.c")
		src, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		res := compileText(b, path, src)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.ReportMetric(float64(len(res.Relocations)), "relocs")
			for b.Loop() {
				Analyze(res, src, Options{Kernels: kernels})
			}
		})
	}
}
