package compiler

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cilium/ebpf/btf"
)

// The disk cache: a preamble's index outlives the process, so a restarted server (editors
// restart servers all the time) does not parse vmlinux.h again. An entry is the index of
// one preamble (the key of preambleKey: path, text, flags, unsaved headers, fallbacks)
// with the files it read: path, size, modification time and SHA-256 of each. It is used
// only when every file still has that content: size and time equal are trusted, otherwise
// the file is hashed again, so `touch` keeps an entry and an edit drops it. An entry
// written by another build of corels (another format, another binary) is ignored and
// overwritten, and so is a corrupt or truncated one.
//
// Encoding: encoding/gob of a mirror of the preamble with exported fields. An entry is a
// private artefact of the binary that wrote it (its identity is checked before anything
// else), never exchanged between versions or languages, so a schema'd format
// (protobuf, flatbuffers) would add a dependency and buy nothing; gob is in the standard
// library, bounds every length it reads by the bytes it has, and returns errors on bad
// input. The one thing gob cannot carry is a relocation's local type (btf.Type, an
// interface graph): those go as one BTF blob, written by cilium/ebpf's btf.Builder and
// read back by btf.LoadSpecFromReader.
//
// Sharing: a declaration that is plain text of a header on disk is stored as its span in
// that header and goes through the Cache's interner under the key a build gives it, so a
// loaded preamble shares texts and declarations with built ones as built ones do.

// diskFormat is the version of the entry layout. Entries of another version are ignored.
const diskFormat = 2

// diskMagic starts every entry; a file without it is not one.
const diskMagic = "corels-preamble\n"

// maxDiskEntry bounds the size of an entry read: one with the largest vmlinux.h is a few MB.
const maxDiskEntry = 512 << 20

// maxDiskEntries bounds the entries a directory keeps: the least recently used go first.
// Each distinct preamble of each file makes one, a few MB with a full vmlinux.h.
const maxDiskEntries = 64

// staleTemp is the age after which a temporary file is taken to be a dead writer's.
const staleTemp = time.Hour

// diskHeader is decoded first: nothing else is decoded for an entry of another format,
// build or key.
type diskHeader struct {
	Format   int
	Identity string // buildIdentity of the writer
	Key      string // preambleKey
}

// diskPreamble mirrors a preamble. Names (identifiers, paths) are stored once, in Strings,
// and referred to by index.
type diskPreamble struct {
	Text      string
	Files     []diskInput
	Strings   []string
	Decls     []diskDecl
	Macros    []diskMacro
	Fallbacks []string
	Sorted    []uint32 // the preamble's names in order (sorting them was a tenth of a load)
	Funcs     []diskFunc
	BTF       []byte // the local types of Funcs' relocations
	Diags     []diskDiag
}

type diskInput struct {
	Path          string
	Size, ModTime int64
	SHA256        [sha256.Size]byte
}

type diskDecl struct {
	File       uint32
	Line       int
	Shared     bool // the declaration is source text [Start, End) of File, shared by the interner
	Start, End int
	Sliced     bool // the text is exactly that span of File's contents; else Text
	Text       string
	Declares   []uint32
	Refs       []uint32
	Preserve   bool
}

type diskMacro struct {
	Name   uint32
	IDs    []uint32
	Define string
}

type diskFunc struct {
	Name, File, Section string
	Root                bool
	Calls               []string
	Relocs              []diskReloc
}

type diskReloc struct {
	Kind                               Kind
	Type, Access, Macro, Func, Section string
	Range, Stmt                        Range
	Path                               []string
	Layout                             Layout
	Local                              uint32 // 1 + the type's ID in diskPreamble.BTF; 0: none
	Guards                             []diskGuard
}

type diskGuard struct {
	Check diskReloc
	Want  bool
}

type diskDiag struct {
	Severity, Message string
	Range             Range
	Unplaced          bool
}

// diskCache is a directory of preamble entries, which processes may share: entries are
// written to a temporary file and renamed into place.
type diskCache struct {
	dir string
	log func(msg string, args ...any)
}

var errNoEntry = errors.New("no entry")

func (d *diskCache) path(key string) string {
	return filepath.Join(d.dir, "preamble-"+key+".idx")
}

// load returns the preamble of key from the disk, or an error saying why not (errNoEntry
// when there is none).
func (d *diskCache) load(u *unit, key, text string, in *interner) (*preamble, error) {
	path := d.path(key)
	data, err := readRegular(path, maxDiskEntry)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoEntry
	}
	if err != nil {
		return nil, err
	}
	dp, err := decodeDiskEntry(data, key)
	if err != nil {
		return nil, err
	}
	p, err := dp.preamble(u, text, in)
	if err != nil {
		return nil, err
	}
	// Least recently used goes first: a load is a use.
	now := time.Now()
	os.Chtimes(path, now, now)
	return p, nil
}

// store writes p's entry. It fails when a file p read has changed since (p is stale).
func (d *diskCache) store(key string, p *preamble, in *interner) error {
	files, err := hashFiles(p.files)
	if err != nil {
		return err
	}
	dp, err := flatten(p, files, in.spans(p))
	if err != nil {
		return err
	}
	data, err := encodeDiskEntry(diskHeader{Format: diskFormat, Identity: buildIdentity(), Key: key}, dp)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(d.dir, "preamble-*.tmp")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err2 := tmp.Close(); err == nil {
		err = err2
	}
	if err == nil {
		err = os.Rename(tmp.Name(), d.path(key))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	d.trim()
	return nil
}

// trim removes the least recently used entries past maxDiskEntries, and temporary files
// their writers left behind.
func (d *diskCache) trim() {
	ents, err := os.ReadDir(d.dir)
	if err != nil {
		return
	}
	type entry struct {
		path string
		at   time.Time
	}
	var idx []entry
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, "preamble-") {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		switch {
		case strings.HasSuffix(name, ".tmp"):
			if time.Since(fi.ModTime()) > staleTemp {
				os.Remove(filepath.Join(d.dir, name))
			}
		case strings.HasSuffix(name, ".idx"):
			idx = append(idx, entry{filepath.Join(d.dir, name), fi.ModTime()})
		}
	}
	if len(idx) <= maxDiskEntries {
		return
	}
	sort.Slice(idx, func(i, j int) bool { return idx[i].at.After(idx[j].at) })
	for _, e := range idx[maxDiskEntries:] {
		os.Remove(e.path)
	}
}

// readRegular reads a regular file of at most limit bytes (never a FIFO or a device).
func readRegular(path string, limit int64) ([]byte, error) {
	// Stat before opening: opening a FIFO blocks.
	if fi, err := os.Stat(path); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than %d", path, fi.Size(), limit)
	}
	// One byte more than the size: a file that grew since is read to its end, up to limit.
	data := make([]byte, fi.Size()+1)
	n, err := io.ReadFull(f, data)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return data[:n], nil
	}
	if err != nil {
		return nil, err
	}
	rest, err := io.ReadAll(io.LimitReader(f, limit+1-int64(n)))
	if err != nil {
		return nil, err
	}
	data = append(data, rest...)
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: more than %d bytes", path, limit)
	}
	return data, nil
}

// hashFiles returns the content hash of each file as the stamp recorded it. A file that
// no longer has its stamp fails: the preamble read another version.
func hashFiles(stamps []fileStamp) ([]diskInput, error) {
	out := make([]diskInput, 0, len(stamps))
	for _, s := range stamps {
		before, err := os.Stat(s.path)
		if err != nil {
			return nil, err
		}
		data, err := readRegular(s.path, MaxHeaderSize)
		if err != nil {
			return nil, err
		}
		after, err := os.Stat(s.path)
		if err != nil {
			return nil, err
		}
		for _, fi := range []os.FileInfo{before, after} {
			if fi.Size() != s.size || fi.ModTime().UnixNano() != s.modTime || int64(len(data)) != s.size {
				return nil, fmt.Errorf("%s changed since the preamble was built", s.path)
			}
		}
		out = append(out, diskInput{Path: s.path, Size: s.size, ModTime: s.modTime, SHA256: sha256.Sum256(data)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// declSpan is where a shared declaration's text is in its header.
type declSpan struct {
	start, end int
	sliced     bool // the text is exactly the span
}

// declKey is the interner's key of a declaration that is plain text of a disk file: its
// file version, span and pragma state. The zero key is none.
type declKey struct {
	file, stamp string
	start, end  int
	preserve    bool
}

// spans returns, for the declarations of p the interner shares, their span in their file.
func (in *interner) spans(p *preamble) map[*ppDecl]declSpan {
	mine := make(map[*ppDecl]bool, len(p.decls))
	for _, d := range p.decls {
		mine[d] = true
	}
	stamps := map[string]string{}
	for _, f := range p.files {
		stamps[f.path] = f.stampString()
	}
	out := map[*ppDecl]declSpan{}
	in.mu.Lock()
	defer in.mu.Unlock()
	for k, d := range in.decls {
		if !mine[d] {
			continue
		}
		if k.file != d.file || stamps[d.file] != k.stamp || k.preserve != d.preserve {
			continue
		}
		src, ok := in.contents[d.file+"\x00"+k.stamp]
		if !ok || k.start < 0 || k.start > k.end || k.end > len(src) {
			continue
		}
		out[d] = declSpan{start: k.start, end: k.end, sliced: src[k.start:k.end] == d.text}
	}
	return out
}

// flatten is p as an entry's body.
func flatten(p *preamble, files []diskInput, spans map[*ppDecl]declSpan) (*diskPreamble, error) {
	dp := &diskPreamble{Text: p.text, Files: files, Fallbacks: p.fallbacks}
	index := map[string]uint32{}
	str := func(s string) uint32 {
		i, ok := index[s]
		if !ok {
			i = uint32(len(dp.Strings))
			index[s] = i
			dp.Strings = append(dp.Strings, s)
		}
		return i
	}
	strs := func(list []string) []uint32 {
		if list == nil {
			return nil
		}
		out := make([]uint32, len(list))
		for i, s := range list {
			out[i] = str(s)
		}
		return out
	}
	dp.Decls = make([]diskDecl, len(p.decls))
	for i, d := range p.decls {
		dd := diskDecl{File: str(d.file), Line: d.line, Declares: strs(d.declares), Refs: strs(d.refs), Preserve: d.preserve, Text: d.text}
		if s, ok := spans[d]; ok {
			dd.Shared, dd.Start, dd.End, dd.Sliced = true, s.start, s.end, s.sliced
			if s.sliced {
				dd.Text = ""
			}
		}
		dp.Decls[i] = dd
	}
	names := make([]string, 0, len(p.defines))
	for n := range p.defines {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		dp.Macros = append(dp.Macros, diskMacro{Name: str(n), IDs: strs(p.macros[n]), Define: p.defines[n]})
	}
	dp.Sorted = strs(p.sorted)
	var types *btf.Builder
	var local func(t btf.Type) (uint32, error)
	local = func(t btf.Type) (uint32, error) {
		if t == nil {
			return 0, nil
		}
		if types == nil {
			types, _ = btf.NewBuilder(nil, nil)
		}
		id, err := types.Add(t)
		return uint32(id) + 1, err
	}
	var reloc func(r Relocation) (diskReloc, error)
	reloc = func(r Relocation) (diskReloc, error) {
		dr := diskReloc{Kind: r.Kind, Type: r.Type, Access: r.Access, Macro: r.Macro, Func: r.Func, Section: r.Section,
			Range: r.Range, Stmt: r.Stmt, Path: r.Path, Layout: r.Layout}
		var err error
		if dr.Local, err = local(r.Local); err != nil {
			return dr, err
		}
		for _, g := range r.Guards {
			c, err := reloc(g.Check)
			if err != nil {
				return dr, err
			}
			dr.Guards = append(dr.Guards, diskGuard{Check: c, Want: g.Want})
		}
		return dr, nil
	}
	for _, h := range p.funcs {
		df := diskFunc{Name: h.name, File: h.file, Section: h.section, Root: h.root, Calls: h.calls}
		for _, r := range h.relocs {
			dr, err := reloc(r)
			if err != nil {
				return nil, fmt.Errorf("local type of %s in %s: %w", r.Key(), h.name, err)
			}
			df.Relocs = append(df.Relocs, dr)
		}
		dp.Funcs = append(dp.Funcs, df)
	}
	if types != nil {
		blob, err := types.Marshal(nil, nil)
		if err != nil {
			return nil, fmt.Errorf("local types: %w", err)
		}
		dp.BTF = blob
	}
	for _, d := range p.diags {
		dp.Diags = append(dp.Diags, diskDiag{Severity: d.Severity, Message: d.Message, Range: d.Range, Unplaced: d.unplaced})
	}
	return dp, nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encodeDiskEntry writes an entry: the magic, a CRC-32C of the rest, then the header and
// the body as one gob stream. The checksum catches a torn or bit-rotted file that would
// still decode.
func encodeDiskEntry(h diskHeader, dp *diskPreamble) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(diskMagic)
	b.Write(make([]byte, 4))
	enc := gob.NewEncoder(&b)
	if err := enc.Encode(h); err != nil {
		return nil, err
	}
	if err := enc.Encode(dp); err != nil {
		return nil, err
	}
	data := b.Bytes()
	binary.LittleEndian.PutUint32(data[len(diskMagic):], crc32.Checksum(data[len(diskMagic)+4:], castagnoli))
	return data, nil
}

// decodeDiskEntry reads an entry for key and checks that everything it refers to is in
// range: after it, building the preamble cannot index out of bounds.
func decodeDiskEntry(data []byte, key string) (*diskPreamble, error) {
	if len(data) < len(diskMagic)+4 || string(data[:len(diskMagic)]) != diskMagic {
		return nil, errors.New("not a corels preamble entry")
	}
	rest := data[len(diskMagic)+4:]
	if binary.LittleEndian.Uint32(data[len(diskMagic):]) != crc32.Checksum(rest, castagnoli) {
		return nil, errors.New("checksum mismatch (a torn or corrupt entry)")
	}
	dec := gob.NewDecoder(bytes.NewReader(rest))
	var h diskHeader
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	switch {
	case h.Format != diskFormat:
		return nil, fmt.Errorf("format %d, not %d", h.Format, diskFormat)
	case h.Identity != buildIdentity():
		return nil, fmt.Errorf("written by another build of corels (%s)", h.Identity)
	case h.Key != key:
		return nil, errors.New("entry of another preamble")
	}
	var dp diskPreamble
	if err := dec.Decode(&dp); err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	if err := dp.check(); err != nil {
		return nil, err
	}
	return &dp, nil
}

// check verifies what the body refers to: string indexes, files of shared declarations,
// spans.
func (dp *diskPreamble) check() error {
	n := uint32(len(dp.Strings))
	inRange := func(list []uint32) bool {
		for _, i := range list {
			if i >= n {
				return false
			}
		}
		return true
	}
	files := map[string]bool{}
	for _, f := range dp.Files {
		if !filepath.IsAbs(f.Path) || f.Size < 0 {
			return fmt.Errorf("bad file %q", f.Path)
		}
		files[f.Path] = true
	}
	for i, d := range dp.Decls {
		if d.File >= n || !inRange(d.Declares) || !inRange(d.Refs) {
			return fmt.Errorf("declaration %d: name out of range", i)
		}
		if d.Shared && (!files[dp.Strings[d.File]] || d.Start < 0 || d.Start > d.End) {
			return fmt.Errorf("declaration %d: bad span", i)
		}
		if d.Sliced && !d.Shared {
			return fmt.Errorf("declaration %d: text without a span", i)
		}
	}
	for i, m := range dp.Macros {
		if m.Name >= n || !inRange(m.IDs) {
			return fmt.Errorf("macro %d: name out of range", i)
		}
	}
	if !inRange(dp.Sorted) {
		return errors.New("sorted names: out of range")
	}
	for i := 1; i < len(dp.Sorted); i++ {
		if dp.Strings[dp.Sorted[i-1]] >= dp.Strings[dp.Sorted[i]] {
			return errors.New("sorted names: out of order")
		}
	}
	return nil
}

// preamble builds the preamble of an entry for u, after checking that every file it read
// still has the content it had.
func (dp *diskPreamble) preamble(u *unit, text string, in *interner) (*preamble, error) {
	if dp.Text != text {
		return nil, errors.New("entry of another preamble text")
	}
	// The declarations' texts are sliced from their headers' contents, read as cc reads
	// them (through the overlay, which rewrites some macros) and shared by the interner.
	fsys := u.fsys.recording()
	sliced := map[string]bool{}
	for _, d := range dp.Decls {
		if d.Sliced {
			sliced[dp.Strings[d.File]] = true
		}
	}
	stamps := make([]fileStamp, 0, len(dp.Files))
	for _, f := range dp.Files {
		var cur fileStamp
		if sliced[f.Path] {
			if _, err := fsys.ReadFile(f.Path); err != nil {
				return nil, err
			}
			s, ok := fsys.recorded(f.Path)
			if !ok {
				return nil, fmt.Errorf("%s is not a file on disk", f.Path)
			}
			cur = s
		} else {
			fi, err := os.Stat(f.Path)
			if err != nil {
				return nil, err
			}
			if !fi.Mode().IsRegular() {
				return nil, fmt.Errorf("%s is not a regular file", f.Path)
			}
			cur = fileStamp{path: f.Path, size: fi.Size(), modTime: fi.ModTime().UnixNano()}
		}
		if cur.size != f.Size {
			return nil, fmt.Errorf("%s changed", f.Path)
		}
		if cur.modTime != f.ModTime {
			data, err := readRegular(f.Path, MaxHeaderSize)
			if err != nil {
				return nil, err
			}
			if sha256.Sum256(data) != f.SHA256 {
				return nil, fmt.Errorf("%s changed", f.Path)
			}
		}
		stamps = append(stamps, cur)
	}
	declared := 0
	for _, dd := range dp.Decls {
		declared += len(dd.Declares)
	}
	p := &preamble{text: text, files: stamps, fallbacks: dp.Fallbacks, byName: make(map[string][]int, declared),
		macros: make(map[string][]string, len(dp.Macros)), defines: make(map[string]string, len(dp.Macros))}
	strs := func(list []uint32) []string {
		if list == nil {
			return nil
		}
		out := make([]string, len(list))
		for i, s := range list {
			out[i] = dp.Strings[s]
		}
		return out
	}
	texts := map[string]headerText{}
	p.decls = make([]*ppDecl, 0, len(dp.Decls))
	for i, dd := range dp.Decls {
		file := dp.Strings[dd.File]
		var key declKey
		var h headerText
		if dd.Shared {
			var ok bool
			if h, ok = texts[file]; !ok {
				src, stamp := "", ""
				if sliced[file] {
					src, stamp = in.content(file, fsys, "")
				} else {
					stamp = stampOf(stamps, file)
				}
				h = headerText{src, stamp}
				texts[file] = h
			}
			if h.stamp != "" {
				key = declKey{file, h.stamp, dd.Start, dd.End, dd.Preserve}
			}
		}
		var d *ppDecl
		if key != (declKey{}) {
			d = in.decl(key)
		}
		if d == nil {
			d = &ppDecl{file: file, line: dd.Line, text: dd.Text, declares: strs(dd.Declares), refs: strs(dd.Refs), preserve: dd.Preserve}
			if dd.Sliced {
				if dd.End > len(h.src) {
					return nil, fmt.Errorf("declaration %d: span past the end of %s", i, file)
				}
				d.text = h.src[dd.Start:dd.End]
			}
			if d.refs == nil {
				d.refs = []string{} // as neededNames makes it
			}
			if key != (declKey{}) {
				d = in.share(key, d)
			}
		}
		for _, n := range d.declares {
			p.byName[n] = append(p.byName[n], len(p.decls))
		}
		p.decls = append(p.decls, d)
	}
	for _, m := range dp.Macros {
		n := dp.Strings[m.Name]
		p.macros[n] = strs(m.IDs)
		p.defines[n] = m.Define
	}
	p.sorted = strs(dp.Sorted)
	var spec *btf.Spec
	types := map[uint32]btf.Type{}
	local := func(id uint32) (btf.Type, error) {
		if id == 0 {
			return nil, nil
		}
		if t, ok := types[id]; ok {
			return t, nil
		}
		if spec == nil {
			var err error
			if spec, err = btf.LoadSpecFromReader(bytes.NewReader(dp.BTF)); err != nil {
				return nil, fmt.Errorf("local types: %w", err)
			}
		}
		t, err := spec.TypeByID(btf.TypeID(id - 1))
		if err != nil {
			return nil, err
		}
		types[id] = t
		return t, nil
	}
	var reloc func(dr diskReloc, depth int) (Relocation, error)
	reloc = func(dr diskReloc, depth int) (Relocation, error) {
		r := Relocation{Kind: dr.Kind, Type: dr.Type, Access: dr.Access, Macro: dr.Macro, Func: dr.Func, Section: dr.Section,
			Range: dr.Range, Stmt: dr.Stmt, Path: dr.Path, Layout: dr.Layout}
		var err error
		if r.Local, err = local(dr.Local); err != nil {
			return r, err
		}
		if len(dr.Guards) > 0 && depth > 0 {
			return r, errors.New("guards of a guard")
		}
		for _, g := range dr.Guards {
			c, err := reloc(g.Check, depth+1)
			if err != nil {
				return r, err
			}
			r.Guards = append(r.Guards, Guard{Check: c, Want: g.Want})
		}
		return r, nil
	}
	for _, df := range dp.Funcs {
		h := &headerFunc{name: df.Name, file: df.File, section: df.Section, root: df.Root, calls: df.Calls}
		for _, dr := range df.Relocs {
			r, err := reloc(dr, 0)
			if err != nil {
				return nil, err
			}
			h.relocs = append(h.relocs, r)
		}
		p.funcs = append(p.funcs, h)
	}
	for _, d := range dp.Diags {
		p.diags = append(p.diags, Diagnostic{Severity: d.Severity, Message: d.Message, Range: d.Range, unplaced: d.Unplaced})
	}
	return p, nil
}

func stampOf(stamps []fileStamp, path string) string {
	for _, s := range stamps {
		if s.path == path {
			return s.stampString()
		}
	}
	return ""
}

// recorded is the stamp the view noted when it read path.
func (o *overlayFS) recorded(path string) (fileStamp, bool) {
	if o.record == nil {
		return fileStamp{}, false
	}
	o.record.mu.Lock()
	defer o.record.mu.Unlock()
	s, ok := o.record.files[path]
	return s, ok
}

// buildIdentity names the binary: its module version and VCS revision, and the Go build
// ID, which changes with any change to the code (an index built by other code, or with
// other embedded headers, could differ).
var buildIdentity = sync.OnceValue(func() string {
	var b strings.Builder
	if bi, ok := debug.ReadBuildInfo(); ok {
		fmt.Fprintf(&b, "%s@%s %s", bi.Main.Path, bi.Main.Version, bi.GoVersion)
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" || s.Key == "vcs.modified" {
				fmt.Fprintf(&b, " %s=%s", s.Key, s.Value)
			}
		}
	}
	if id := goBuildID(); id != "" {
		fmt.Fprintf(&b, " buildid=%s", id)
	}
	return b.String()
})

// goBuildID reads the Go build ID note of the running executable ("" when it cannot).
func goBuildID() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	f, err := elf.Open(exe)
	if err != nil {
		return ""
	}
	defer f.Close()
	s := f.Section(".note.go.buildid")
	if s == nil {
		return ""
	}
	note, err := s.Data()
	// namesz, descsz, type, "Go\0\0", then the ID.
	if err != nil || len(note) < 16 || string(note[12:16]) != "Go\x00\x00" {
		return ""
	}
	n := int(f.ByteOrder.Uint32(note[4:8]))
	if n > len(note)-16 {
		return ""
	}
	return string(note[16 : 16+n])
}
