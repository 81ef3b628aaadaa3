package btf

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	cbtf "github.com/cilium/ebpf/btf"
	"github.com/ulikunitz/xz"
)

// maxDecompressed bounds what one file may decompress to, so that a corrupt
// or hostile archive cannot exhaust memory. A full vmlinux BTF is ~6 MB; a
// vmlinux ELF with debug info can be a few hundred.
const maxDecompressed = 512 << 20

// maxFile bounds a file read whole: a vmlinux ELF with DWARF is under a gigabyte.
const maxFile = 2 << 30

// checkReadable refuses what must not be read whole: FIFOs and devices (reading one
// could block forever or never end) and files over maxFile.
func checkReadable(st os.FileInfo) error {
	if !st.Mode().IsRegular() {
		return fmt.Errorf("not a regular file (%v)", st.Mode().Type())
	}
	if st.Size() > maxFile {
		return fmt.Errorf("%d MB is larger than the %d MB corels reads; extract the BTF with `objcopy --dump-section .BTF=vmlinux.btf vmlinux`", st.Size()>>20, maxFile>>20)
	}
	return nil
}

// LoadError is the error for a file that could not be loaded. Its message
// names the file.
type LoadError struct {
	Path string
	Err  error
}

func (e *LoadError) Error() string { return fmt.Sprintf("load kernel BTF %s: %v", e.Path, e.Err) }
func (e *LoadError) Unwrap() error { return e.Err }

// ErrNoBTF is returned (wrapped) for a well-formed file that carries no BTF:
// an ELF without a .BTF section, an archive without BTF members.
var ErrNoBTF = errors.New("no BTF")

// blob is raw BTF found in a file, with what the container told about it.
type blob struct {
	member  string // archive member name, "" for the file itself
	raw     []byte
	release string // from linux_banner, when the container was a vmlinux ELF
}

var (
	magicGzip = []byte{0x1f, 0x8b}
	magicXZ   = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	magicZstd = []byte{0x28, 0xb5, 0x2f, 0xfd}
	magicELF  = []byte{0x7f, 'E', 'L', 'F'}
)

// extract peels compression and archive layers off data and returns the raw
// BTF blobs inside.
func extract(data []byte, depth int) ([]blob, error) {
	if depth > 4 {
		return nil, errors.New("too many nested archive layers")
	}
	switch {
	case bytes.HasPrefix(data, magicGzip):
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", explainEOF(err))
		}
		out, err := readAllLimited(zr)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", explainEOF(err))
		}
		return extract(out, depth+1)

	case bytes.HasPrefix(data, magicXZ):
		zr, err := xz.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("xz: %w", explainEOF(err))
		}
		out, err := readAllLimited(zr)
		if err != nil {
			return nil, fmt.Errorf("xz: %w", explainEOF(err))
		}
		return extract(out, depth+1)

	case bytes.HasPrefix(data, magicZstd):
		return nil, errors.New("zstd-compressed files are not supported; decompress with `zstd -d` first")

	case isTar(data):
		return extractTar(data, depth)

	case bytes.HasPrefix(data, magicELF):
		b, err := extractELF(data)
		if err != nil {
			return nil, err
		}
		return []blob{b}, nil

	case isRawBTF(data):
		return []blob{{raw: data}}, nil

	case isBzImage(data):
		return nil, errors.New("this is a compressed kernel image (vmlinuz/bzImage): extract vmlinux from it first (see `make kernel-deb61` for how)")
	}
	if len(data) == 0 {
		return nil, errors.New("empty file")
	}
	n := min(len(data), 8)
	return nil, fmt.Errorf("not BTF: unrecognized format (starts with % x); expected raw BTF, an ELF with .BTF, or a .tar/.gz/.xz of those", data[:n])
}

// explainEOF makes truncation errors of decompressors say so.
func explainEOF(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w (file truncated?)", err)
	}
	return err
}

func readAllLimited(r io.Reader) ([]byte, error) {
	out, err := io.ReadAll(io.LimitReader(r, maxDecompressed+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxDecompressed {
		return nil, fmt.Errorf("decompresses to more than %d MB; decompress it and extract the BTF with `objcopy --dump-section .BTF=vmlinux.btf vmlinux`", maxDecompressed>>20)
	}
	return out, nil
}

func isTar(data []byte) bool {
	return len(data) >= 512 && bytes.Equal(data[257:262], []byte("ustar"))
}

func isBzImage(data []byte) bool {
	return len(data) > 0x210 && bytes.Equal(data[0x202:0x206], []byte("HdrS"))
}

func isRawBTF(data []byte) bool {
	return len(data) >= 2 && ((data[0] == 0x9f && data[1] == 0xeb) || (data[0] == 0xeb && data[1] == 0x9f))
}

func extractTar(data []byte, depth int) ([]blob, error) {
	tr := tar.NewReader(bytes.NewReader(data))
	var blobs []blob
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("tar: %w", explainEOF(err))
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		content, err := readAllLimited(tr)
		if err != nil {
			return nil, fmt.Errorf("tar member %s: %w", hdr.Name, explainEOF(err))
		}
		inner, err := extract(content, depth+1)
		if err != nil {
			return nil, fmt.Errorf("tar member %s: %w", hdr.Name, err)
		}
		for _, b := range inner {
			if b.member == "" {
				b.member = hdr.Name
			} else {
				b.member = hdr.Name + ":" + b.member
			}
			blobs = append(blobs, b)
		}
	}
	if len(blobs) == 0 {
		return nil, fmt.Errorf("tar archive without files: %w", ErrNoBTF)
	}
	return blobs, nil
}

func extractELF(data []byte) (blob, error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return blob{}, fmt.Errorf("ELF: %w", explainEOF(err))
	}
	sec := f.Section(".BTF")
	if sec == nil {
		return blob{}, fmt.Errorf("ELF file has no .BTF section (kernel built without CONFIG_DEBUG_INFO_BTF?): %w", ErrNoBTF)
	}
	raw, err := sec.Data()
	if err != nil {
		return blob{}, fmt.Errorf("ELF .BTF section: %w", explainEOF(err))
	}
	return blob{raw: raw, release: elfBannerRelease(f)}, nil
}

// elfBannerRelease reads the kernel release from the linux_banner variable of
// a vmlinux ELF. Returns "" when there is none (e.g. a BPF object).
func elfBannerRelease(f *elf.File) string {
	syms, err := f.Symbols()
	if err != nil {
		return ""
	}
	for _, s := range syms {
		if s.Name != "linux_banner" || int(s.Section) >= len(f.Sections) || s.Section == elf.SHN_UNDEF {
			continue
		}
		sec := f.Sections[s.Section]
		if sec.Type == elf.SHT_NOBITS || s.Value < sec.Addr {
			return ""
		}
		size := s.Size
		if size == 0 || size > 512 {
			size = 512
		}
		buf := make([]byte, size)
		n, _ := sec.ReadAt(buf, int64(s.Value-sec.Addr))
		return releaseFromBanner(string(buf[:n]))
	}
	return ""
}

// btfHeader is struct btf_header.
type btfHeader struct {
	Magic   uint16
	Version uint8
	Flags   uint8
	HdrLen  uint32
	TypeOff uint32
	TypeLen uint32
	StrOff  uint32
	StrLen  uint32
}

// checkRawBTF validates the header of raw BTF so that a truncated or corrupt
// file gets a precise message rather than a decoder error deep inside.
func checkRawBTF(raw []byte) (binary.ByteOrder, *btfHeader, error) {
	var bo binary.ByteOrder
	switch {
	case len(raw) >= 2 && raw[0] == 0x9f && raw[1] == 0xeb:
		bo = binary.LittleEndian
	case len(raw) >= 2 && raw[0] == 0xeb && raw[1] == 0x9f:
		bo = binary.BigEndian
	default:
		return nil, nil, errors.New("not BTF: bad magic")
	}
	if len(raw) < 24 {
		return nil, nil, fmt.Errorf("truncated BTF: %d bytes, shorter than the 24-byte header", len(raw))
	}
	var h btfHeader
	if err := binary.Read(bytes.NewReader(raw), bo, &h); err != nil {
		return nil, nil, err
	}
	if h.Version != 1 {
		return nil, nil, fmt.Errorf("unsupported BTF version %d", h.Version)
	}
	if h.HdrLen < 24 || uint64(h.HdrLen) > uint64(len(raw)) {
		return nil, nil, fmt.Errorf("corrupt BTF header: header length %d", h.HdrLen)
	}
	typeEnd := uint64(h.HdrLen) + uint64(h.TypeOff) + uint64(h.TypeLen)
	strEnd := uint64(h.HdrLen) + uint64(h.StrOff) + uint64(h.StrLen)
	if end := max(typeEnd, strEnd); end > uint64(len(raw)) {
		return nil, nil, fmt.Errorf("truncated BTF: the header says the data ends at byte %d, the file has %d", end, len(raw))
	}
	if h.StrLen == 0 || raw[h.HdrLen+h.StrOff+h.StrLen-1] != 0 {
		return nil, nil, errors.New("corrupt BTF: string section is empty or not NUL-terminated")
	}
	return bo, &h, nil
}

// scanNames walks the raw type section and returns the number of types and
// the sorted, deduplicated names of struct, union, enum, fwd and typedef types.
func scanNames(raw []byte, bo binary.ByteOrder, h *btfHeader) (int, []string, error) {
	types := raw[h.HdrLen+h.TypeOff : h.HdrLen+h.TypeOff+h.TypeLen]
	strs := raw[h.HdrLen+h.StrOff : h.HdrLen+h.StrOff+h.StrLen]
	seen := make(map[string]struct{})
	var refs []uint32 // type ids referred to, checked once the number of types is known
	n := 0
	for off := 0; off < len(types); {
		if off+12 > len(types) {
			return 0, nil, fmt.Errorf("corrupt BTF: type %d header truncated", n+1)
		}
		nameOff := bo.Uint32(types[off:])
		info := bo.Uint32(types[off+4:])
		kind := (info >> 24) & 0x1f
		vlen := int(info & 0xffff)
		extra := 0
		switch kind {
		case 1, 14, 17: // int, var, decl_tag
			extra = 4
		case 3: // array
			extra = 12
		case 4, 5, 15, 19: // struct, union, datasec, enum64
			extra = 12 * vlen
		case 6, 13: // enum, func_proto
			extra = 8 * vlen
		case 2, 7, 8, 9, 10, 11, 12, 16, 18:
		default:
			return 0, nil, fmt.Errorf("corrupt BTF: type %d has unknown kind %d", n+1, kind)
		}
		// Names and type references are checked here, on the raw bytes: cilium decodes
		// types lazily, so a dangling reference would only fail when the type is used.
		if off+12+extra <= len(types) {
			if err := checkRefs(types[off:off+12+extra], bo, kind, strs, &refs); err != nil {
				return 0, nil, fmt.Errorf("corrupt BTF: type %d: %v", n+1, err)
			}
		}
		switch kind {
		case 4, 5, 6, 7, 8, 19:
			if nameOff != 0 && int(nameOff) < len(strs) {
				name := strs[nameOff:]
				if i := bytes.IndexByte(name, 0); i >= 0 {
					name = name[:i]
				}
				if _, ok := seen[string(name)]; !ok && len(name) > 0 {
					seen[string(name)] = struct{}{}
				}
			}
		}
		off += 12 + extra
		n++
		if off > len(types) {
			return 0, nil, fmt.Errorf("corrupt BTF: type %d runs past the end of the type section", n)
		}
	}
	for _, r := range refs {
		if int(r) > n {
			return 0, nil, fmt.Errorf("corrupt BTF: reference to type %d, but there are %d types", r, n)
		}
	}
	names := make([]string, 0, len(seen))
	for name := range seen {
		names = append(names, name)
	}
	sort.Strings(names)
	return n, names, nil
}

// checkRefs checks one raw type record t (header and extra data): every name offset is the
// start of a string of the table; the type ids it refers to are appended to refs.
func checkRefs(t []byte, bo binary.ByteOrder, kind uint32, strs []byte, refs *[]uint32) error {
	name := func(off uint32) error {
		switch {
		case off == 0:
		case int(off) >= len(strs):
			return fmt.Errorf("name offset %d is past the string table (%d bytes)", off, len(strs))
		case strs[off-1] != 0:
			return fmt.Errorf("name offset %d is not the beginning of a string", off)
		}
		return nil
	}
	if err := name(bo.Uint32(t)); err != nil {
		return err
	}
	u32 := func(i int) uint32 { return bo.Uint32(t[i:]) }
	switch kind {
	case 2, 8, 9, 10, 11, 12, 13, 14, 17, 18: // the header's third word is a type
		*refs = append(*refs, u32(8))
	}
	extra := t[12:]
	switch kind {
	case 3: // array: elem type, index type, nelems
		*refs = append(*refs, u32(12), u32(16))
	case 4, 5: // members: name, type, offset
		for i := 0; i+12 <= len(extra); i += 12 {
			if err := name(u32(12 + i)); err != nil {
				return err
			}
			*refs = append(*refs, u32(12+i+4))
		}
	case 6, 19: // enum values: name, value
		step := 8
		if kind == 19 {
			step = 12
		}
		for i := 0; i+step <= len(extra); i += step {
			if err := name(u32(12 + i)); err != nil {
				return err
			}
		}
	case 13: // func_proto params: name, type
		for i := 0; i+8 <= len(extra); i += 8 {
			if err := name(u32(12 + i)); err != nil {
				return err
			}
			*refs = append(*refs, u32(12+i+4))
		}
	case 15: // datasec: var type, offset, size
		for i := 0; i+12 <= len(extra); i += 12 {
			*refs = append(*refs, u32(12+i))
		}
	}
	return nil
}

// parseBlob turns raw BTF into a Kernel (without Path/Name/Hash).
func parseBlob(b blob) (*Kernel, error) {
	bo, h, err := checkRawBTF(b.raw)
	if err != nil {
		return nil, err
	}
	n, names, err := scanNames(b.raw, bo, h)
	if err != nil {
		return nil, err
	}
	spec, err := cbtf.LoadSpecFromReader(bytes.NewReader(b.raw))
	if err != nil {
		return nil, fmt.Errorf("invalid BTF: %w", err)
	}
	return &Kernel{Spec: spec, Size: len(b.raw), NumTypes: n, ByteOrder: bo, typeNames: names, Release: b.release, suggest: &suggestCache{}}, nil
}

// hashBytes is the cache key of a file's content.
func hashBytes(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// LoadFile loads the kernels in one file without any caching. Most callers
// want [Cache.Load] instead. A file holds one kernel, except archives with
// several BTF members.
func LoadFile(path string) ([]*Kernel, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, &LoadError{path, err}
	}
	if err := checkReadable(st); err != nil {
		return nil, &LoadError{path, err}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &LoadError{path, err}
	}
	return loadBytes(path, data, hashBytes(data))
}

// LoadBytes loads the kernels in data, named as if read from path.
func LoadBytes(path string, data []byte) ([]*Kernel, error) {
	return loadBytes(path, data, hashBytes(data))
}

func loadBytes(path string, data []byte, hash string) ([]*Kernel, error) {
	return loadBytesWith(path, data, hash, parseBlob)
}

func loadBytesWith(path string, data []byte, hash string, parse func(blob) (*Kernel, error)) ([]*Kernel, error) {
	blobs, err := extract(data, 0)
	if err != nil {
		return nil, &LoadError{path, err}
	}
	kernels := make([]*Kernel, 0, len(blobs))
	for _, b := range blobs {
		k, err := parse(b)
		if err != nil {
			p := path
			if b.member != "" {
				p += ":" + b.member
			}
			return nil, &LoadError{p, err}
		}
		k.Hash = hash
		k.contentRelease = b.release
		k.member = b.member
		k.Path = path
		if len(blobs) > 1 {
			k.Path = path + ":" + b.member
		}
		k.Name, k.Release = kernelName(path, b, k.Release)
		kernels = append(kernels, k)
	}
	return kernels, nil
}

// kernelName picks the display name and release of a kernel.
func kernelName(path string, b blob, release string) (name, rel string) {
	if release == "" && filepath.Clean(path) == SysfsVmlinux {
		if osrel, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
			release = strings.TrimSpace(string(osrel))
		}
	}
	if release == "" && b.member != "" {
		release = releaseFromFileName(b.member)
	}
	if release == "" {
		release = releaseFromFileName(path)
	}
	if release != "" {
		return release, release
	}
	if b.member != "" {
		return filepath.Base(b.member), ""
	}
	return filepath.Base(path), ""
}
