package btf

import (
	"path/filepath"
	"strings"
	"sync"
)

// DefaultName names the embedded default kernel wherever a kernel's BTF is named: `corels
// check --kernel default`, `corels vmlinux --btf default`, an entry of the editors'
// "kernels" setting. One word for every front end, so they resolve a configuration alike.
// A file called "default" is named by a path ("./default").
const DefaultName = "default"

// IsDefaultName reports whether a kernel argument names the embedded kernel.
func IsDefaultName(arg string) bool { return strings.TrimSpace(arg) == DefaultName }

// Kernel sources, as [Kernel.Source] reports them.
const (
	SourceEmbedded = "embedded" // the default kernel built into corels
	SourceSysfs    = "sysfs"    // the running kernel's /sys/kernel/btf/vmlinux
	SourceFile     = "file"     // a file (or a member of an archive) named by the user
)

// Source says where the kernel's BTF came from: [SourceEmbedded], [SourceSysfs] or
// [SourceFile].
func (k *Kernel) Source() string {
	switch {
	case k.Path == DefaultKernelPath:
		return SourceEmbedded
	case filepath.Clean(k.Path) == SysfsVmlinux:
		return SourceSysfs
	}
	return SourceFile
}

// ExpandKernelArgs is [ExpandPaths] for kernel arguments: [DefaultName] is kept as it is
// (once), in its place among the files.
func ExpandKernelArgs(args []string) ([]string, []error) {
	var out []string
	var errs []error
	seenDefault := false
	var run []string
	flush := func() {
		files, ferrs := ExpandPaths(run)
		out = append(out, files...)
		errs = append(errs, ferrs...)
		run = nil
	}
	for _, a := range args {
		if IsDefaultName(a) {
			flush()
			if !seenDefault {
				seenDefault = true
				out = append(out, DefaultName)
			}
			continue
		}
		run = append(run, a)
	}
	flush()
	return dedupe(out), errs
}

// dedupe keeps the first of equal entries (ExpandPaths dedupes within one run only).
func dedupe(list []string) []string {
	seen := make(map[string]bool, len(list))
	out := list[:0]
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// LoadKernelArg loads one entry of [ExpandKernelArgs]' result: the embedded kernel for
// [DefaultName], else the kernels of the file (several for an archive of several).
func (c *Cache) LoadKernelArg(arg string) ([]*Kernel, error) {
	if IsDefaultName(arg) {
		k, err := DefaultKernel()
		if err != nil {
			return nil, err
		}
		return []*Kernel{k}, nil
	}
	return c.loadPath(arg)
}

// LoadKernelArgs loads the kernels named by args (files, directories, archives,
// [DefaultName]) in parallel, like [Cache.LoadAll]: the kernels that loaded, in the order
// of args, and one error per argument that did not.
func (c *Cache) LoadKernelArgs(args []string) ([]*Kernel, []error) {
	entries, errs := ExpandKernelArgs(args)
	results := make([][]*Kernel, len(entries))
	entryErrs := make([]error, len(entries))
	var wg sync.WaitGroup
	for i, e := range entries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], entryErrs[i] = c.LoadKernelArg(e)
		}()
	}
	wg.Wait()
	var kernels []*Kernel
	for i := range entries {
		kernels = append(kernels, results[i]...)
		if entryErrs[i] != nil {
			errs = append(errs, entryErrs[i])
		}
	}
	return kernels, errs
}
