package lsp

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"go.lsp.dev/protocol"

	"github.com/corels/corels/analysis"
	"github.com/corels/corels/btf"
	"github.com/corels/corels/compiler"
)

// vmlinuxFallback: a file that includes vmlinux.h is compiled with a fallback vmlinux.h
// generated from the first target kernel's BTF (btf.WriteHeader), which the compiler uses
// only when no include directory has one (compiler.Input.Fallback). The header is also
// written once per kernel to the user's cache directory, so go-to-definition can open
// it. When the fallback was used the file gets an information diagnostic saying so:
// never silently.

// CodeVmlinuxGenerated is the code of the server's note on a generated vmlinux.h.
const CodeVmlinuxGenerated = "vmlinux-generated"

var includeVmlinux = regexp.MustCompile(`(?m)^[ \t]*#[ \t]*include[ \t]*[<"]vmlinux\.h[>"]`)

func includesVmlinux(src []byte) bool { return includeVmlinux.Match(src) }

// vmlinuxOnPath reports whether an include directory of path has a vmlinux.h, in which
// case there is no need to generate one (the compiler would not use it).
func vmlinuxOnPath(path string, flags *compiler.Flags) bool {
	_, ok := resolveInclude(path, include{name: "vmlinux.h"}, flags, nil)
	return ok
}

type generatedHeader struct {
	once sync.Once
	data []byte
	path string // a copy on disk, "" if it could not be written
	err  error
}

var (
	generatedMu sync.Mutex
	generated   = map[string]*generatedHeader{} // by kernel content hash
)

// generatedVmlinux returns the vmlinux.h generated from k.
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
		g.data = []byte(text)
		name := k.Hash
		if len(name) > 16 {
			name = name[:16]
		}
		cache, err := os.UserCacheDir()
		if err != nil {
			return
		}
		dir := filepath.Join(cache, "corels", "vmlinux", name)
		path := filepath.Join(dir, "vmlinux.h")
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, g.data) {
			g.path = path
			return
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return
		}
		tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
		if err := os.WriteFile(tmp, g.data, 0o644); err == nil && os.Rename(tmp, path) == nil {
			g.path = path
			return
		}
		os.Remove(tmp)
	})
	return g
}

// offerVmlinux gives the compiler a vmlinux.h generated from the first kernel as a
// fallback. It returns the kernel, or nil.
func (s *Server) offerVmlinux(in *compiler.Input, kernels []*btf.Kernel) (*btf.Kernel, *generatedHeader) {
	if len(kernels) == 0 {
		return nil, nil
	}
	k := kernels[0]
	g := generatedVmlinux(k)
	if g.err != nil {
		s.showMessageOnce(protocol.MessageTypeWarning, fmt.Sprintf("corels: cannot generate vmlinux.h from %s: %v", k.Name, g.err))
		return nil, nil
	}
	in.Fallback = map[string][]byte{"vmlinux.h": g.data}
	in.FallbackKey = "vmlinux:" + k.Hash
	return k, g
}

// vmlinuxNote is the diagnostic for a file compiled against a generated vmlinux.h.
func vmlinuxNote(doc *document, k *btf.Kernel, g *generatedHeader) analysis.Finding {
	where := "in memory"
	if g.path != "" {
		where = g.path
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
	}
}
