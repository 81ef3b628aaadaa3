package compiler

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// overlayFS is the file system the preprocessor reads through. It serves editor buffers
// that are not saved yet (and generated headers) instead of the disk, and it rewrites GNU
// named variadic macro parameters, which cc/v4 mishandles (see rewriteNamedVariadics).
// Names are absolute host paths.
type overlayFS struct {
	overlay map[string][]byte
	record  *readLog // when set, every file read is noted

	fallback     map[string][]byte // fallbackDir/NAME → contents
	fallbackUsed *sync.Map         // fallbackDir/NAME → true once read

	mu    sync.Mutex
	cache map[string]diskFile

	// What cc is given instead of a file's contents (never what ReadFile returns): a
	// preamble build's pruned bpftool headers (bpftoolhdr.go), or, while open is set,
	// what it makes of each file.
	served map[string][]byte
	open   func(name string, data []byte) []byte
}

type diskFile struct {
	modTime time.Time
	size    int64
	data    []byte // after rewriting
}

func newOverlayFS(overlay map[string][]byte) *overlayFS {
	return &overlayFS{overlay: overlay, cache: map[string]diskFile{}}
}

type readLog struct {
	mu    sync.Mutex
	files map[string]fileStamp
}

// recording returns a view of o that notes which disk files are read, with their size and
// modification time, so a preamble knows when to rebuild.
func (o *overlayFS) recording() *overlayFS {
	c := newOverlayFS(o.overlay)
	c.fallback, c.fallbackUsed = o.fallback, o.fallbackUsed
	c.record = &readLog{files: map[string]fileStamp{}}
	return c
}

// stamp identifies the version of a disk file this view read ("" when it did not).
func (o *overlayFS) stamp(path string) string {
	if o.record == nil {
		return ""
	}
	o.record.mu.Lock()
	defer o.record.mu.Unlock()
	f, ok := o.record.files[path]
	if !ok {
		return ""
	}
	return f.stampString()
}

// stampString identifies a version of a file on disk.
func (f fileStamp) stampString() string { return fmt.Sprintf("%d:%d", f.size, f.modTime) }

func (o *overlayFS) stamps() []fileStamp {
	if o.record == nil {
		return nil
	}
	o.record.mu.Lock()
	defer o.record.mu.Unlock()
	out := make([]fileStamp, 0, len(o.record.files))
	for _, f := range o.record.files {
		out = append(out, f)
	}
	return out
}

// fallbackDir is the virtual include directory, searched last, that holds fallback
// headers. No real path starts with it.
const fallbackDir = "/<corels-fallback>"

func (o *overlayFS) withFallback(headers map[string][]byte) *overlayFS {
	c := newOverlayFS(o.overlay)
	c.fallback = map[string][]byte{}
	c.fallbackUsed = &sync.Map{}
	for name, data := range headers {
		c.fallback[filepath.Join(fallbackDir, name)] = data
	}
	return c
}

func (o *overlayFS) fallbacksUsed() []string {
	if o.fallbackUsed == nil {
		return nil
	}
	var out []string
	o.fallbackUsed.Range(func(k, _ any) bool {
		out = append(out, filepath.Base(k.(string)))
		return true
	})
	sort.Strings(out)
	return out
}

// MaxHeaderSize bounds one header read from disk: the largest vmlinux.h is under 10 MB.
const MaxHeaderSize = 64 << 20

// ReadFile returns the contents the compiler sees for name.
func (o *overlayFS) ReadFile(name string) ([]byte, error) {
	name = filepath.Clean(name)
	if data, ok := o.overlay[name]; ok {
		return rewriteNamedVariadics(data), nil
	}
	if data, ok := o.fallback[name]; ok {
		o.fallbackUsed.Store(name, true)
		return data, nil
	}
	if strings.HasPrefix(name, fallbackDir) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if data, ok, err := builtinHeader(name); ok {
		return data, err
	}
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if o.record != nil && fi.Mode().IsRegular() {
		o.record.mu.Lock()
		o.record.files[name] = fileStamp{path: name, size: fi.Size(), modTime: fi.ModTime().UnixNano()}
		o.record.mu.Unlock()
	}
	if !fi.Mode().IsRegular() {
		// A directory, a FIFO (reading it would block), a device: never a header.
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if fi.Size() > MaxHeaderSize {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("%d MB is larger than the %d MB corels reads of one header", fi.Size()>>20, MaxHeaderSize>>20)}
	}
	o.mu.Lock()
	c, ok := o.cache[name]
	o.mu.Unlock()
	if ok && c.modTime.Equal(fi.ModTime()) && c.size == fi.Size() {
		return c.data, nil
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	data = rewriteNamedVariadics(data)
	o.mu.Lock()
	o.cache[name] = diskFile{fi.ModTime(), fi.Size(), data}
	o.mu.Unlock()
	return data, nil
}

func (o *overlayFS) Open(name string) (fs.File, error) {
	data, err := o.ReadFile(name)
	if err != nil {
		return nil, err
	}
	if o.open != nil {
		data = o.open(filepath.Clean(name), data)
	} else if s, ok := o.served[filepath.Clean(name)]; ok {
		data = s
	}
	return &memFile{name: name, Reader: bytes.NewReader(data), size: int64(len(data))}, nil
}

type memFile struct {
	*bytes.Reader
	name string
	size int64
}

func (f *memFile) Stat() (fs.FileInfo, error) { return memInfo{f}, nil }
func (f *memFile) Close() error               { return nil }

type memInfo struct{ f *memFile }

func (i memInfo) Name() string       { return filepath.Base(i.f.name) }
func (i memInfo) Size() int64        { return i.f.size }
func (i memInfo) Mode() fs.FileMode  { return 0o444 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }

var _ io.ReaderAt = (*memFile)(nil)

var (
	// `#define NAME(a, b, rest...)`: parameters on the #define's own line, the named
	// variadic one last, after "(" or ",".
	namedVariadicDefine = regexp.MustCompile(`(?m)^[ \t]*#[ \t]*define[ \t]+[A-Za-z_][A-Za-z0-9_]*\(((?:[ \t]*[A-Za-z_][A-Za-z0-9_]*[ \t]*,)*[ \t]*)([A-Za-z_][A-Za-z0-9_]*)[ \t]*\.\.\.[ \t]*\)`)
	identifier          = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'`)
)

// namedVariadicDefines is namedVariadicDefine.FindAllSubmatchIndex(src, -1), the regular
// expression run only on the lines where some "..." follows an identifier (spaces
// between), as a named variadic parameter does: run on all of bpf_tracing.h it was a
// twentieth of a second start, on vmlinux.h 80 ms. A match is one line's, from its start.
func namedVariadicDefines(src []byte) [][]int {
	var locs [][]int
	lastLine := -1
	for i := 0; ; {
		j := bytes.Index(src[i:], []byte("..."))
		if j < 0 {
			return locs
		}
		k := i + j
		i = k + 3
		for k > 0 && (src[k-1] == ' ' || src[k-1] == '\t') {
			k--
		}
		if k == 0 || !isIdentByte(src[k-1]) {
			continue
		}
		line := bytes.LastIndexByte(src[:k], '\n') + 1
		if line == lastLine {
			continue
		}
		lastLine = line
		end := len(src)
		if e := bytes.IndexByte(src[line:], '\n'); e >= 0 {
			end = line + e
		}
		if l := namedVariadicDefine.FindSubmatchIndex(src[line:end]); l != nil {
			for n := range l {
				if l[n] >= 0 {
					l[n] += line
				}
			}
			locs = append(locs, l)
		}
	}
}

// rewriteNamedVariadics turns GNU named variadic macro parameters into C99 ones:
//
//	#define BPF_KPROBE(name, args...) ... ___bpf_kprobe_args(args) ...
//
// becomes
//
//	#define BPF_KPROBE(name, ...) ... ___bpf_kprobe_args(__VA_ARGS__) ...
//
// cc/v4 v4.31.0 does not treat a named variadic parameter like __VA_ARGS__ in `, ##args`:
// the comma is glued to the first argument, so BPF_KPROBE(f, struct request *req) fails
// with "unexpected '*', expected ')'". Line structure is kept so positions stay valid.
// Reproducer for an upstream report:
//
//	#define F(a, rest...) g(a, ##rest)
//	int g(int, ...); int x = F(1, 2);
//
// Every source cc reads comes through here, so the other front-end rewrites
// (rewriteFunctionTypeNames) are applied first.
func rewriteNamedVariadics(src []byte) []byte {
	src = rewriteFunctionTypeNames(src)
	locs := namedVariadicDefines(src)
	if len(locs) == 0 {
		return src
	}
	var out bytes.Buffer
	out.Grow(len(src) + 64*len(locs))
	prev := 0
	for _, l := range locs {
		name := string(src[l[4]:l[5]])
		// Parameter list: drop the name before "...".
		out.Write(src[prev:l[4]])
		out.Write(src[l[5]:l[1]])
		// Body: up to the end of the logical line.
		end := l[1]
		for end < len(src) && src[end] != '\n' {
			if src[end] == '\\' && end+1 < len(src) && src[end+1] == '\n' {
				end++
			}
			end++
		}
		body := src[l[1]:end]
		out.Write(identifier.ReplaceAllFunc(body, func(tok []byte) []byte {
			if string(tok) == name {
				return []byte("__VA_ARGS__")
			}
			return tok
		}))
		prev = end
	}
	out.Write(src[prev:])
	return out.Bytes()
}
