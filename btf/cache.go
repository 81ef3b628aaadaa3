package btf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// Cache loads kernels once per distinct content and shares them. It is safe
// for concurrent use. Kernels are never evicted: a language server works with
// a handful of target kernels for its whole life.
type Cache struct {
	sem chan struct{} // bounds concurrent parsing

	mu      sync.Mutex
	content map[string]*contentEntry // by content hash
	raws    map[string]*rawEntry     // parsed BTF by hash of the raw BTF
	files   map[string]fileStamp     // by path: what the file looked like when hashed
}

// contentEntry is one distinct file content, loaded at most once.
type contentEntry struct {
	done    chan struct{}
	kernels []*Kernel // as loaded for the first path with this content
	err     error
	// by path, the kernels as returned for that path (same Spec, own Path/Name)
	byPath map[string][]*Kernel
}

// rawEntry is one distinct raw BTF, parsed once even when it comes in
// different containers (a .btf file and a BTFHub .tar.xz of it).
type rawEntry struct {
	done chan struct{}
	k    *Kernel
	err  error
}

// fileStamp remembers a file's hash so that an unchanged file is not read
// and hashed again.
type fileStamp struct {
	size  int64
	mtime time.Time
	hash  string
}

// NewCache returns a cache that parses at most concurrency files at a time
// (GOMAXPROCS when concurrency <= 0).
func NewCache(concurrency int) *Cache {
	if concurrency <= 0 {
		concurrency = runtime.GOMAXPROCS(0)
	}
	return &Cache{
		sem:     make(chan struct{}, concurrency),
		content: make(map[string]*contentEntry),
		files:   make(map[string]fileStamp),
		raws:    make(map[string]*rawEntry),
	}
}

// parseBlob parses raw BTF once per distinct content.
func (c *Cache) parseBlob(b blob) (*Kernel, error) {
	h := hashBytes(b.raw)
	c.mu.Lock()
	e, ok := c.raws[h]
	if !ok {
		e = &rawEntry{done: make(chan struct{})}
		c.raws[h] = e
		c.mu.Unlock()
		e.k, e.err = parseBlob(b)
		close(e.done)
	} else {
		c.mu.Unlock()
		<-e.done
	}
	if e.err != nil {
		return nil, e.err
	}
	k := *e.k
	k.Release = b.release
	return &k, nil
}

var (
	sharedOnce  sync.Once
	sharedCache *Cache
)

// SharedCache returns the process-wide cache.
func SharedCache() *Cache {
	sharedOnce.Do(func() { sharedCache = NewCache(0) })
	return sharedCache
}

// Load returns the kernel in the file at path. An archive with several BTF
// members is an error here; [Cache.LoadAll] returns all of them.
func (c *Cache) Load(path string) (*Kernel, error) {
	ks, err := c.loadPath(path)
	if err != nil {
		return nil, err
	}
	if len(ks) != 1 {
		return nil, &LoadError{path, fmt.Errorf("archive holds %d kernels; use LoadAll", len(ks))}
	}
	return ks[0], nil
}

// LoadBytes returns the kernels in data, named as if read from path. Used
// for embedded BTF.
func (c *Cache) LoadBytes(path string, data []byte) ([]*Kernel, error) {
	return c.loadContent(path, hashBytes(data), func() ([]byte, error) { return data, nil })
}

// LoadAll loads the kernels at paths in parallel (bounded by the cache's
// concurrency). Directories are walked recursively for files that look like
// BTF (see [ExpandPaths]); archives with several members yield several
// kernels. It returns the kernels that loaded, in the order of paths, and
// one error per file that did not: a corrupt file does not stop the others.
func (c *Cache) LoadAll(paths []string) ([]*Kernel, []error) {
	files, errs := ExpandPaths(paths)
	results := make([][]*Kernel, len(files))
	fileErrs := make([]error, len(files))
	var wg sync.WaitGroup
	for i, f := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], fileErrs[i] = c.loadPath(f)
		}()
	}
	wg.Wait()
	var kernels []*Kernel
	for i := range files {
		kernels = append(kernels, results[i]...)
		if fileErrs[i] != nil {
			errs = append(errs, fileErrs[i])
		}
	}
	return kernels, errs
}

// ExpandPaths replaces each directory in paths by the files below it that
// look like kernel BTF: names ending in .btf, .btf.gz, .btf.xz, .tar.xz,
// .tar.gz, .tar, or named vmlinux / vmlinux-*. Files named explicitly are
// kept whatever their name. Missing paths are reported as errors.
func ExpandPaths(paths []string) ([]string, []error) {
	var files []string
	var errs []error
	seen := make(map[string]bool)
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			files = append(files, p)
		}
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			errs = append(errs, &LoadError{p, err})
			continue
		}
		if !st.IsDir() {
			add(p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, &LoadError{q, err})
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if !d.IsDir() && looksLikeBTFFile(d.Name()) {
				found = append(found, q)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, &LoadError{p, err})
		}
		sort.Strings(found)
		for _, q := range found {
			add(q)
		}
	}
	return files, errs
}

func looksLikeBTFFile(name string) bool {
	if name == "vmlinux" || strings.HasPrefix(name, "vmlinux-") {
		return true
	}
	for _, ext := range []string{".btf", ".btf.gz", ".btf.xz", ".tar.xz", ".tar.gz", ".tgz", ".tar"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

func (c *Cache) loadPath(path string) ([]*Kernel, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, &LoadError{path, err}
	}
	if st.IsDir() {
		return nil, &LoadError{path, errors.New("is a directory; use LoadAll")}
	}
	if err := checkReadable(st); err != nil {
		return nil, &LoadError{path, err}
	}
	c.mu.Lock()
	stamp, ok := c.files[path]
	c.mu.Unlock()
	if ok && stamp.size == st.Size() && stamp.mtime.Equal(st.ModTime()) {
		return c.loadContent(path, stamp.hash, func() ([]byte, error) { return os.ReadFile(path) })
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &LoadError{path, err}
	}
	hash := hashBytes(data)
	c.mu.Lock()
	c.files[path] = fileStamp{st.Size(), st.ModTime(), hash}
	c.mu.Unlock()
	return c.loadContent(path, hash, func() ([]byte, error) { return data, nil })
}

// loadContent returns the kernels for content with the given hash, loading
// it (through read) only if no one has yet.
func (c *Cache) loadContent(path, hash string, read func() ([]byte, error)) ([]*Kernel, error) {
	c.mu.Lock()
	e, ok := c.content[hash]
	if !ok {
		e = &contentEntry{done: make(chan struct{}), byPath: make(map[string][]*Kernel)}
		c.content[hash] = e
		c.mu.Unlock()
		c.sem <- struct{}{}
		data, err := read()
		if err != nil {
			e.err = &LoadError{path, err}
		} else {
			e.kernels, e.err = loadBytesWith(path, data, hash, c.parseBlob)
		}
		<-c.sem
		if e.err == nil {
			c.mu.Lock()
			e.byPath[path] = e.kernels
			c.mu.Unlock()
		}
		close(e.done)
	} else {
		c.mu.Unlock()
		<-e.done
	}
	if e.err != nil {
		var le *LoadError
		if errors.As(e.err, &le) && le.Path != path && !strings.HasPrefix(le.Path, path+":") {
			// Same broken content under another name: report this name.
			return nil, &LoadError{path, le.Err}
		}
		return nil, e.err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ks, ok := e.byPath[path]; ok {
		return ks, nil
	}
	// Same content under another path: share the Spec, name it for this path.
	ks := make([]*Kernel, len(e.kernels))
	for i, k := range e.kernels {
		cp := *k
		cp.Path = path
		if len(e.kernels) > 1 {
			cp.Path = path + ":" + k.member
		}
		cp.Name, cp.Release = kernelName(path, blob{member: k.member}, k.contentRelease)
		ks[i] = &cp
	}
	e.byPath[path] = ks
	return ks, nil
}
