package lsp

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"

	"go.lsp.dev/protocol"

	"github.com/corels/corels/analysis"
	"github.com/corels/corels/btf"
	"github.com/corels/corels/compiler"
)

// vmlinuxFallback: a file that includes vmlinux.h when none is on its include path is
// compiled against one generated from the first target kernel's BTF (btf.WriteHeader),
// written once per kernel to the user's cache directory (so go-to-definition can open
// it), and the file gets an information diagnostic saying so: never silently.

// CodeVmlinuxGenerated is the code of the server's note on a generated vmlinux.h.
const CodeVmlinuxGenerated = "vmlinux-generated"

var includeVmlinux = regexp.MustCompile(`(?m)^[ \t]*#[ \t]*include[ \t]*[<"]vmlinux\.h[>"]`)

func includesVmlinux(src []byte) bool { return includeVmlinux.Match(src) }

// systemIncludeDirs are searched after the flags' directories (as in compiler/target.go).
var systemIncludeDirs = []string{"/usr/local/include", "/usr/include"}

// vmlinuxOnPath reports whether the compiler will find a vmlinux.h for path.
func vmlinuxOnPath(path string, flags *compiler.Flags) bool {
	dirs := []string{filepath.Dir(path)}
	if flags != nil {
		dirs = append(dirs, flags.IncludeDirs...)
		dirs = append(dirs, flags.SysDirs...)
	}
	dirs = append(dirs, systemIncludeDirs...)
	for _, d := range dirs {
		if st, err := os.Stat(filepath.Join(d, "vmlinux.h")); err == nil && !st.IsDir() {
			return true
		}
	}
	return false
}

type generatedHeader struct {
	once sync.Once
	dir  string // directory holding vmlinux.h
	data []byte // set when the header could not be written: served through the overlay
	err  error
}

var (
	generatedMu sync.Mutex
	generated   = map[string]*generatedHeader{} // by kernel content hash
)

// generatedVmlinux returns the directory of a vmlinux.h generated from k.
func generatedVmlinux(k *btf.Kernel) *generatedHeader {
	generatedMu.Lock()
	g := generated[k.Hash]
	if g == nil {
		g = &generatedHeader{}
		generated[k.Hash] = g
	}
	generatedMu.Unlock()
	g.once.Do(func() {
		text, err := btf.HeaderString(k.Spec, nil)
		if err != nil {
			g.err = err
			return
		}
		name := k.Hash
		if len(name) > 16 {
			name = name[:16]
		}
		if cache, err := os.UserCacheDir(); err == nil {
			dir := filepath.Join(cache, "corels", "vmlinux", name)
			path := filepath.Join(dir, "vmlinux.h")
			if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, []byte(text)) {
				g.dir = dir
				return
			}
			if err := os.MkdirAll(dir, 0o755); err == nil {
				tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
				if err := os.WriteFile(tmp, []byte(text), 0o644); err == nil && os.Rename(tmp, path) == nil {
					g.dir = dir
					return
				}
				os.Remove(tmp)
			}
		}
		g.dir = filepath.Join(string(filepath.Separator), "corels-generated", name)
		g.data = []byte(text)
	})
	return g
}

// useGeneratedVmlinux points in at a vmlinux.h generated from the first kernel and returns
// the note for the user.
func (s *Server) useGeneratedVmlinux(in *compiler.Input, doc *document, kernels []*btf.Kernel) (analysis.Finding, bool) {
	if len(kernels) == 0 {
		return analysis.Finding{}, false
	}
	k := kernels[0]
	g := generatedVmlinux(k)
	if g.err != nil {
		s.showMessageOnce(protocol.MessageTypeWarning, fmt.Sprintf("corels: cannot generate vmlinux.h from %s: %v", k.Name, g.err))
		return analysis.Finding{}, false
	}
	flags := compiler.Flags{Source: "none"}
	if in.Flags != nil {
		flags = *in.Flags
	}
	flags.SysDirs = append(slices.Clone(flags.SysDirs), g.dir)
	in.Flags = &flags
	where := filepath.Join(g.dir, "vmlinux.h")
	if g.data != nil {
		ov := map[string][]byte{}
		for p, d := range in.Overlay {
			ov[p] = d
		}
		ov[where] = g.data
		in.Overlay = ov
		where = "memory"
	}
	loc := includeVmlinux.FindIndex(doc.text)
	start, end := 0, 0
	if loc != nil {
		start, end = loc[0], loc[1]
		for start < end && (doc.text[start] == ' ' || doc.text[start] == '\t') {
			start++
		}
	}
	return analysis.Finding{
		Code:     CodeVmlinuxGenerated,
		Severity: analysis.Info,
		Message: fmt.Sprintf("vmlinux.h is not on the include path: using one generated from the BTF of kernel %s (%s); set \"vmlinuxFallback\": false to turn this off",
			k.Name, where),
		Range: compiler.Range{
			Start: compiler.Position{File: doc.path, Offset: start},
			End:   compiler.Position{File: doc.path, Offset: end},
		},
	}, true
}
