package btf

import (
	_ "embed"
	"fmt"
	"os"
	"strings"
	"sync"
)

// The embedded default kernel: the .BTF section of Debian 12's
// linux-image-6.1 vmlinux, made by `make kernel-deb61` (default/extract.sh);
// default/SOURCE names the exact package version.
//
//go:embed default/linux-6.1.btf.gz
var defaultBTF []byte

//go:embed default/SOURCE
var defaultSource string

// DefaultKernelPath is the pseudo path of the embedded default kernel.
const DefaultKernelPath = "embedded:linux-6.1.btf.gz"

var defaultKernel = sync.OnceValues(func() (*Kernel, error) {
	ks, err := SharedCache().LoadBytes(DefaultKernelPath, defaultBTF)
	if err != nil {
		return nil, err
	}
	k := ks[0]
	if rel := sourceField("release"); rel != "" {
		cp := *k
		cp.Name, cp.Release = rel, rel
		k = &cp
	}
	return k, nil
})

// DefaultKernel returns the embedded Debian 6.1 kernel BTF.
func DefaultKernel() (*Kernel, error) { return defaultKernel() }

// DefaultSource describes where the embedded default kernel comes from
// (release, Debian package and version, hashes).
func DefaultSource() string { return defaultSource }

func sourceField(key string) string {
	for _, line := range strings.Split(defaultSource, "\n") {
		if v, ok := strings.CutPrefix(line, key+": "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// DefaultKernels returns the kernels to check against when the user named
// none: the running kernel's /sys/kernel/btf/vmlinux when present, else the
// embedded Debian 6.1 kernel.
func DefaultKernels() ([]*Kernel, error) {
	if _, err := os.Stat(SysfsVmlinux); err == nil {
		k, err := SharedCache().Load(SysfsVmlinux)
		if err == nil {
			return []*Kernel{k}, nil
		}
		def, derr := DefaultKernel()
		if derr != nil {
			return nil, fmt.Errorf("%v; embedded default: %v", err, derr)
		}
		return []*Kernel{def}, err
	}
	def, err := DefaultKernel()
	if err != nil {
		return nil, err
	}
	return []*Kernel{def}, nil
}
