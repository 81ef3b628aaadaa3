package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.lsp.dev/protocol"

	"github.com/corels/corels/btf"
	"github.com/corels/corels/compiler"
)

// Configuration. Four sources, later ones win key by key: the defaults, `.corels.json` in
// the workspace root, initializationOptions, and the client's settings (pushed with
// workspace/didChangeConfiguration or pulled with workspace/configuration, section
// "corels"). Settings may be given bare or under a "corels" key.
//
//	{
//	  "kernels": ["/sys/kernel/btf/vmlinux", "btf/*.btf", "btfhub/"],  // files, globs, directories; "default" = embedded 6.1
//	  "compileFlags": ["-I", "include", "-D__TARGET_ARCH_x86"],         // instead of compile_commands.json
//	  "relocationHints": "inlay",                                        // diagnostic | inlay | off
//	  "vmlinuxFallback": true                                            // generate vmlinux.h from the first kernel if none is found
//	}
//
// Relative paths are relative to the workspace root. Changes apply at once: the kernels are
// reloaded if their list changed and every open file is analysed again.

const configFileName = ".corels.json"

// Relocation hint presentations.
const (
	hintsDiagnostic = "diagnostic"
	hintsInlay      = "inlay"
	hintsOff        = "off"
)

// settings is one source of configuration; nil fields are not set by it.
type settings struct {
	Kernels         *[]string
	CompileFlags    *[]string
	RelocationHints *string
	VmlinuxFallback *bool
}

type configLayers struct {
	file, init, client settings
}

// config is the effective configuration. It is immutable once built.
type config struct {
	root            string
	kernels         []string // as configured; nil: the default kernels
	compileFlags    []string // nil: per-file discovery (compile_commands.json, compile_flags.txt)
	flags           *compiler.Flags
	relocationHints string // "" until resolved against the client's capabilities
	vmlinuxFallback bool
}

func defaultConfig() *config { return &config{vmlinuxFallback: true} }

// settingKeys are the keys corels reads; editor extensions may add their own (e.g. the
// binary's path), which are ignored.
var settingKeys = []string{"kernels", "compileFlags", "relocationHints", "vmlinuxFallback"}

// parseSettings reads one source. Problems are returned as messages for the user; the
// valid keys still apply.
func parseSettings(raw []byte) (settings, []string) {
	var st settings
	raw = []byte(strings.TrimSpace(string(raw)))
	if len(raw) == 0 || string(raw) == "null" {
		return st, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return st, []string{"settings are not a JSON object: " + err.Error()}
	}
	if inner, ok := obj["corels"]; ok {
		var o map[string]json.RawMessage
		if err := json.Unmarshal(inner, &o); err == nil {
			obj = o
		}
	}
	var errs []string
	for _, key := range settingKeys {
		v, ok := obj[key]
		if !ok || string(v) == "null" {
			continue
		}
		switch key {
		case "kernels", "compileFlags":
			var list []string
			if err := json.Unmarshal(v, &list); err != nil {
				var one string
				if err1 := json.Unmarshal(v, &one); err1 != nil {
					errs = append(errs, fmt.Sprintf("%s: want a list of strings, got %s", key, v))
					continue
				}
				list = []string{one}
			}
			if key == "kernels" {
				st.Kernels = &list
			} else {
				st.CompileFlags = &list
			}
		case "relocationHints":
			var h string
			if err := json.Unmarshal(v, &h); err != nil || (h != hintsDiagnostic && h != hintsInlay && h != hintsOff) {
				errs = append(errs, fmt.Sprintf("relocationHints: want \"diagnostic\", \"inlay\" or \"off\", got %s", v))
				continue
			}
			st.RelocationHints = &h
		case "vmlinuxFallback":
			var b bool
			if err := json.Unmarshal(v, &b); err != nil {
				errs = append(errs, fmt.Sprintf("vmlinuxFallback: want true or false, got %s", v))
				continue
			}
			st.VmlinuxFallback = &b
		}
	}
	return st, errs
}

// effective merges the layers over the defaults. caps decide the default presentation of
// relocation hints: inlay hints where the client shows them, hint diagnostics elsewhere.
func (l configLayers) effective(root string, caps clientCaps) (*config, []string) {
	c := defaultConfig()
	c.root = root
	for _, st := range []settings{l.file, l.init, l.client} {
		if st.Kernels != nil {
			c.kernels = *st.Kernels
		}
		if st.CompileFlags != nil {
			c.compileFlags = *st.CompileFlags
		}
		if st.RelocationHints != nil {
			c.relocationHints = *st.RelocationHints
		}
		if st.VmlinuxFallback != nil {
			c.vmlinuxFallback = *st.VmlinuxFallback
		}
	}
	if c.relocationHints == "" {
		c.relocationHints = hintsDiagnostic
		if caps.inlayHints {
			c.relocationHints = hintsInlay
		}
	}
	var errs []string
	if c.compileFlags != nil {
		f, err := compiler.ParseFlags(c.compileFlags, root)
		if err != nil {
			errs = append(errs, "compileFlags: "+err.Error())
		} else {
			c.flags = f
		}
	}
	return c, errs
}

func (c *config) equal(d *config) bool {
	return c.root == d.root && slices.Equal(c.kernels, d.kernels) && slices.Equal(c.compileFlags, d.compileFlags) &&
		(c.compileFlags == nil) == (d.compileFlags == nil) && (c.kernels == nil) == (d.kernels == nil) &&
		c.relocationHints == d.relocationHints && c.vmlinuxFallback == d.vmlinuxFallback
}

// readConfigFile reads .corels.json from the workspace root.
func readConfigFile(root string) (settings, []string) {
	if root == "" {
		return settings{}, nil
	}
	path := filepath.Join(root, configFileName)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return settings{}, nil
	}
	if err != nil {
		return settings{}, []string{err.Error()}
	}
	st, errs := parseSettings(data)
	for i := range errs {
		errs[i] = path + ": " + errs[i]
	}
	return st, errs
}

// DidChangeConfiguration applies pushed settings, or pulls them when the client sends
// none (the LSP's "pull model").
func (s *Server) DidChangeConfiguration(ctx context.Context, params *protocol.DidChangeConfigurationParams) error {
	raw := strings.TrimSpace(string(params.Settings))
	s.mu.Lock()
	pull := s.caps.configuration
	s.mu.Unlock()
	if raw == "" || raw == "null" || raw == "{}" {
		if pull {
			s.goSafe("pull configuration", func() { s.reloadConfig(true) })
		}
		return nil
	}
	st, errs := parseSettings([]byte(raw))
	for _, e := range errs {
		s.showMessageOnce(protocol.MessageTypeError, "corels: settings: "+e)
	}
	s.mu.Lock()
	s.layers.client = st
	s.mu.Unlock()
	s.goSafe("apply configuration", func() { s.reloadConfig(false) })
	return nil
}

// reloadConfig rereads .corels.json, pulls the client's settings when asked to, and
// applies the result.
func (s *Server) reloadConfig(pull bool) {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	s.mu.Lock()
	root := s.root
	s.mu.Unlock()
	if pull {
		section := "corels"
		item := protocol.ConfigurationItem{Section: &section}
		ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
		vals, err := s.client.Configuration(ctx, &protocol.ConfigurationParams{Items: []protocol.ConfigurationItem{item}})
		cancel()
		if err != nil {
			s.logErr("workspace/configuration", err)
		} else if len(vals) > 0 {
			st, errs := parseSettings(vals[0])
			for _, e := range errs {
				s.showMessageOnce(protocol.MessageTypeError, "corels: settings: "+e)
			}
			s.mu.Lock()
			s.layers.client = st
			s.mu.Unlock()
		}
	}
	file, errs := readConfigFile(root)
	for _, e := range errs {
		s.showMessageOnce(protocol.MessageTypeError, "corels: "+e)
	}
	s.mu.Lock()
	s.layers.file = file
	cfg, errs := s.layers.effective(root, s.caps)
	old := s.cfg
	changed := !cfg.equal(old)
	kernelsChanged := s.kernels == nil || !slices.Equal(cfg.kernels, old.kernels) || (cfg.kernels == nil) != (old.kernels == nil)
	if changed || s.kernels == nil {
		s.cfg = cfg
		clear(s.flags)
	}
	s.mu.Unlock()
	for _, e := range errs {
		s.showMessageOnce(protocol.MessageTypeError, "corels: "+e)
	}
	if kernelsChanged {
		s.startKernels(cfg)
	}
	if changed || kernelsChanged {
		s.log.Info("configuration", "kernels", cfg.kernels, "compileFlags", cfg.compileFlags,
			"relocationHints", cfg.relocationHints, "vmlinuxFallback", cfg.vmlinuxFallback)
		s.invalidateAll()
	}
}

// kernelSet is one load of the configured kernels. Analyses wait for done.
type kernelSet struct {
	done    chan struct{}
	kernels []*btf.Kernel
	errs    []error
}

func (k *kernelSet) wait(ctx context.Context) ([]*btf.Kernel, error) {
	select {
	case <-k.done:
		return k.kernels, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// startKernels makes a new set of cfg's kernels current and loads it in the background,
// with $/progress. Analyses wait for it. Load errors are shown once each.
func (s *Server) startKernels(cfg *config) {
	ks := &kernelSet{done: make(chan struct{})}
	s.mu.Lock()
	s.kernels = ks
	s.mu.Unlock()
	s.goSafe("load kernels", func() { s.fillKernels(ks, cfg) })
}

func (s *Server) fillKernels(ks *kernelSet, cfg *config) {
	defer close(ks.done)
	start := time.Now()
	ks.kernels, ks.errs = s.loadKernelList(cfg)
	names := make([]string, len(ks.kernels))
	for i, k := range ks.kernels {
		names[i] = k.Name
	}
	s.log.Info("kernels loaded", "kernels", names, "errors", len(ks.errs), "took", time.Since(start))
	for _, err := range ks.errs {
		s.showMessageOnce(protocol.MessageTypeError, "corels: kernel BTF: "+err.Error())
	}
	if len(ks.kernels) == 0 && cfg.kernels != nil {
		s.showMessageOnce(protocol.MessageTypeWarning, "corels: no target kernel could be loaded; relocations are not checked")
	}
}

// loadKernelList resolves the configured entries (files, globs, directories, "default")
// and loads them in parallel, reporting progress per file. Entries other than globs mean
// what they mean to `corels check --kernel` (btf.ExpandKernelArgs, Cache.LoadKernelArg):
// one configuration, one set of kernels, in the order given.
func (s *Server) loadKernelList(cfg *config) ([]*btf.Kernel, []error) {
	if cfg.kernels == nil {
		ks, err := btf.DefaultKernels()
		if err != nil {
			return ks, []error{err}
		}
		return ks, nil
	}
	var args []string
	var errs []error
	for _, k := range cfg.kernels {
		k = strings.TrimSpace(k)
		switch {
		case k == "":
			continue
		case btf.IsDefaultName(k):
			args = append(args, btf.DefaultName)
			continue
		}
		p := expandPath(k, cfg.root)
		if strings.ContainsAny(p, "*?[") {
			matches, err := filepath.Glob(p)
			if err != nil || len(matches) == 0 {
				errs = append(errs, fmt.Errorf("%s: no file matches", k))
				continue
			}
			sort.Strings(matches)
			args = append(args, matches...)
			continue
		}
		args = append(args, p)
	}
	entries, expandErrs := btf.ExpandKernelArgs(args)
	errs = append(errs, expandErrs...)

	prog := s.beginProgress("Loading kernel BTF", fmt.Sprintf("0/%d files", len(entries)))
	results := make([][]*btf.Kernel, len(entries))
	entryErrs := make([]error, len(entries))
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for i, e := range entries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], entryErrs[i] = s.kcache.LoadKernelArg(e)
			mu.Lock()
			done++
			n := done
			mu.Unlock()
			prog.report(fmt.Sprintf("%d/%d files", n, len(entries)), uint32(100*n/max(1, len(entries))))
		}()
	}
	wg.Wait()
	var kernels []*btf.Kernel
	for i := range entries {
		kernels = append(kernels, results[i]...)
		if entryErrs[i] != nil {
			errs = append(errs, entryErrs[i])
		}
	}
	prog.end(fmt.Sprintf("%d kernels", len(kernels)))
	return kernels, errs
}

// expandPath makes p absolute: "~/" is the home directory, relative paths are relative
// to root.
func expandPath(p, root string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[1:])
		}
	}
	if !filepath.IsAbs(p) && root != "" {
		p = filepath.Join(root, p)
	}
	return filepath.Clean(p)
}

// progress is one $/progress sequence; a no-op when the client does not support
// server-initiated progress.
type progress struct {
	s     *Server
	token protocol.ProgressToken
	mu    sync.Mutex // reports in order
}

func (s *Server) beginProgress(title, msg string) *progress {
	s.mu.Lock()
	ok := s.caps.workDoneProgress
	s.progress++
	token := protocol.String(fmt.Sprintf("corels/%d", s.progress))
	s.mu.Unlock()
	if !ok {
		return &progress{}
	}
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	if err := s.client.WorkDoneProgressCreate(ctx, &protocol.WorkDoneProgressCreateParams{Token: token}); err != nil {
		s.logErr("workDoneProgress/create", err)
		return &progress{}
	}
	p := &progress{s: s, token: token}
	zero := uint32(0)
	p.send(&protocol.WorkDoneProgressBegin{Kind: "begin", Title: title, Message: &msg, Percentage: &zero})
	return p
}

func (p *progress) send(v any) {
	if p.s == nil {
		return
	}
	raw, err := protocol.Marshal(v)
	if err != nil {
		return
	}
	p.s.logErr("$/progress", p.s.client.Progress(p.s.ctx, &protocol.ProgressParams{Token: p.token, Value: raw}))
}

func (p *progress) report(msg string, pct uint32) {
	if p.s == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.send(&protocol.WorkDoneProgressReport{Kind: "report", Message: &msg, Percentage: &pct})
}

func (p *progress) end(msg string) {
	if p.s == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.send(&protocol.WorkDoneProgressEnd{Kind: "end", Message: &msg})
}
