package btf

import (
	"encoding/binary"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	cbtf "github.com/cilium/ebpf/btf"
)

// SysfsVmlinux is where a running kernel exposes its own BTF.
const SysfsVmlinux = "/sys/kernel/btf/vmlinux"

// Kernel is the BTF of one target kernel.
type Kernel struct {
	// Name is for display: the kernel release when it could be read (from
	// the ELF's linux_banner, the running kernel's osrelease or a file name
	// like 5.4.0-91-generic.btf), else the file name.
	Name string
	// Release is the kernel release ("6.1.0-56-amd64"), or "" when unknown.
	Release string
	// Path is the file the BTF came from. A member of an archive holding
	// several BTF files is named "archive.tar.xz:member".
	Path string
	// Hash is the hex SHA-256 of the file's bytes as stored (before any
	// decompression); the cache is keyed by it.
	Hash string
	// Spec is the parsed BTF. It is shared by every user of the cache:
	// read it, never modify the types it returns.
	Spec *cbtf.Spec
	// Size is the size in bytes of the raw (uncompressed) BTF.
	Size int
	// NumTypes is the number of BTF types, void excluded.
	NumTypes int
	// ByteOrder is the BTF's byte order (the target architecture's).
	ByteOrder binary.ByteOrder

	// names of named struct, union, enum, fwd and typedef types, sorted and
	// without duplicates: the vocabulary for "did you mean" suggestions.
	typeNames []string
	// what the content itself said, independent of the file's name
	contentRelease string
	member         string
	suggest        *suggestCache // shared by copies of one content
}

// String returns the display name.
func (k *Kernel) String() string { return k.Name }

// TypeNames returns the sorted names of the kernel's named structs, unions,
// enums, forward declarations and typedefs. The slice is shared: do not
// modify it.
func (k *Kernel) TypeNames() []string { return k.typeNames }

// HasTypeName reports whether some struct, union, enum, fwd or typedef of
// the kernel has exactly this name.
func (k *Kernel) HasTypeName(name string) bool {
	i := sort.SearchStrings(k.typeNames, name)
	return i < len(k.typeNames) && k.typeNames[i] == name
}

// releaseRe matches a kernel release as uname -r prints it.
var releaseRe = regexp.MustCompile(`\d+\.\d+(\.\d+)?(-[0-9A-Za-z][0-9A-Za-z.+_~-]*)?`)

// archiveExts are stripped from file names before looking for a release.
var archiveExts = []string{".tar.xz", ".tar.gz", ".tgz", ".txz", ".tar", ".xz", ".gz", ".btf", ".elf", ".o", ".raw"}

// stripExts removes known archive and BTF extensions, repeatedly.
func stripExts(base string) string {
	for {
		changed := false
		for _, ext := range archiveExts {
			if len(base) > len(ext) && strings.HasSuffix(base, ext) {
				base = base[:len(base)-len(ext)]
				changed = true
			}
		}
		if !changed {
			return base
		}
	}
}

// releaseFromFileName finds a kernel release in a file name such as
// "5.4.0-91-generic.btf.tar.xz", "vmlinux-6.1.0-56-amd64" or
// "linux-6.1.btf.gz". Returns "" if there is none.
func releaseFromFileName(name string) string {
	base := stripExts(filepath.Base(name))
	for _, prefix := range []string{"vmlinux-", "vmlinuz-", "linux-", "kernel-"} {
		base = strings.TrimPrefix(base, prefix)
	}
	if m := releaseRe.FindStringIndex(base); m != nil && m[0] == 0 {
		return base[m[0]:m[1]]
	}
	return ""
}

// releaseFromBanner extracts the release from a linux_banner string
// ("Linux version 6.1.0-56-amd64 (debian-kernel@...) ...").
func releaseFromBanner(banner string) string {
	const prefix = "Linux version "
	i := strings.Index(banner, prefix)
	if i < 0 {
		return ""
	}
	rest := banner[i+len(prefix):]
	if j := strings.IndexAny(rest, " \n\x00"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}
