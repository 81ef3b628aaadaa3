package lsp

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"go.lsp.dev/protocol"
)

type lifecycle int

const (
	stateNew lifecycle = iota
	stateInitializing
	stateInitialized
	stateShutdown
)

// clientCaps is what the server needs to know of the client's capabilities.
type clientCaps struct {
	pullDiagnostics      bool // textDocument/diagnostic
	diagnosticRefresh    bool // workspace/diagnostic/refresh
	inlayHints           bool
	inlayHintRefresh     bool
	codeLensRefresh      bool
	workDoneProgress     bool // window/workDoneProgress/create
	configuration        bool // workspace/configuration
	watchedFilesDynamic  bool // client/registerCapability for didChangeWatchedFiles
	configurationDynamic bool // client/registerCapability for didChangeConfiguration
	documentChanges      bool // versioned edits in WorkspaceEdit
	markdown             bool // hover as markdown
	relatedInformation   bool
}

func readCaps(c *protocol.ClientCapabilities) clientCaps {
	var cc clientCaps
	is := func(b *bool) bool { return b != nil && *b }
	if td := c.TextDocument; td != nil {
		cc.pullDiagnostics = td.Diagnostic != nil
		cc.inlayHints = td.InlayHint != nil
		if td.Hover != nil {
			cc.markdown = len(td.Hover.ContentFormat) == 0
			for _, k := range td.Hover.ContentFormat {
				if k == protocol.MarkupKindMarkdown {
					cc.markdown = true
				}
			}
		} else {
			cc.markdown = true
		}
		if td.PublishDiagnostics != nil {
			cc.relatedInformation = is(td.PublishDiagnostics.RelatedInformation)
		}
	} else {
		cc.markdown = true
	}
	if w := c.Workspace; w != nil {
		cc.configuration = is(w.Configuration)
		if w.Diagnostics != nil {
			cc.diagnosticRefresh = is(w.Diagnostics.RefreshSupport)
		}
		if w.InlayHint != nil {
			cc.inlayHintRefresh = is(w.InlayHint.RefreshSupport)
		}
		if w.CodeLens != nil {
			cc.codeLensRefresh = is(w.CodeLens.RefreshSupport)
		}
		if w.DidChangeWatchedFiles != nil {
			cc.watchedFilesDynamic = is(w.DidChangeWatchedFiles.DynamicRegistration)
		}
		if w.DidChangeConfiguration != nil {
			cc.configurationDynamic = is(w.DidChangeConfiguration.DynamicRegistration)
		}
		if w.WorkspaceEdit != nil {
			cc.documentChanges = is(w.WorkspaceEdit.DocumentChanges)
		}
	}
	if win := c.Window; win != nil {
		cc.workDoneProgress = is(win.WorkDoneProgress)
	}
	return cc
}

// Initialize negotiates the position encoding, reads the client's capabilities and the
// initial configuration, and advertises what the server implements — nothing more.
func (s *Server) Initialize(ctx context.Context, params *protocol.InitializeParams) (*protocol.InitializeResult, error) {
	caps := readCaps(&params.Capabilities)
	enc := encUTF16
	if g := params.Capabilities.General; g != nil {
		enc = negotiateEncoding(g.PositionEncodings)
	}
	root := rootOf(params)
	init, initErrs := parseSettings(params.InitializationOptions)
	for i := range initErrs {
		initErrs[i] = "initializationOptions: " + initErrs[i]
	}
	file, fileErrs := readConfigFile(root)

	// The configuration known now applies at once; the kernels load after initialized
	// (loading may talk to the client), and analyses wait for them.
	s.mu.Lock()
	s.caps = caps
	s.enc = enc
	s.root = root
	s.layers.init = init
	s.layers.file = file
	cfg, cfgErrs := s.layers.effective(root, caps)
	s.cfg = cfg
	s.kernels = &kernelSet{done: make(chan struct{})}
	s.pendingErrs = append(append(initErrs, fileErrs...), cfgErrs...)
	s.mu.Unlock()
	s.log.Info("initialize", "client", params.ClientInfo.Name, "root", root, "encoding", string(enc.kind()),
		"pullDiagnostics", caps.pullDiagnostics)
	if params.ProcessID != nil && *params.ProcessID > 0 {
		s.watchParent(int(*params.ProcessID))
	}

	yes := true
	change := protocol.TextDocumentSyncKindIncremental
	sc := protocol.ServerCapabilities{
		PositionEncoding: enc.kind(),
		TextDocumentSync: &protocol.TextDocumentSyncOptions{
			OpenClose: &yes,
			Change:    &change,
			Save:      protocol.Boolean(true),
		},
		HoverProvider:          protocol.Boolean(true),
		DefinitionProvider:     protocol.Boolean(true),
		DocumentSymbolProvider: protocol.Boolean(true),
		CodeActionProvider: &protocol.CodeActionOptions{
			CodeActionKinds: []protocol.CodeActionKind{protocol.CodeActionKindQuickFix},
		},
		CodeLensProvider:  &protocol.CodeLensOptions{},
		InlayHintProvider: protocol.Boolean(true),
	}
	if caps.pullDiagnostics {
		id := "corels"
		sc.DiagnosticProvider = &protocol.DiagnosticOptions{Identifier: &id, InterFileDependencies: true}
	}
	return &protocol.InitializeResult{
		Capabilities: sc,
		ServerInfo:   protocol.ServerInfo{Name: "corels", Version: protocol.NewOptional(Version)},
	}, nil
}

// rootOf returns the workspace root directory: the first workspace folder, else rootUri,
// else rootPath, else "".
func rootOf(p *protocol.InitializeParams) string {
	if folders, ok := p.WorkspaceFolders.Get(); ok {
		for _, f := range folders {
			if f.URI.IsFile() {
				return filepath.Clean(f.URI.FsPath())
			}
		}
	}
	if p.RootURI != nil && p.RootURI.IsFile() {
		return filepath.Clean(p.RootURI.FsPath())
	}
	if rp, ok := p.RootPath.Get(); ok && rp != "" {
		return filepath.Clean(rp)
	}
	return ""
}

// Initialized asks the client for what it can tell only now (configuration, file
// watching) and starts loading the kernels, all off the read loop.
func (s *Server) Initialized(ctx context.Context, _ *protocol.InitializedParams) error {
	s.mu.Lock()
	caps, cfg, ks, errs := s.caps, s.cfg, s.kernels, s.pendingErrs
	s.pendingErrs = nil
	s.mu.Unlock()
	for _, e := range errs {
		s.showMessageOnce(protocol.MessageTypeError, "corels: "+e)
	}
	s.log.Info("configuration", "kernels", cfg.kernels, "compileFlags", cfg.compileFlags,
		"relocationHints", cfg.relocationHints, "vmlinuxFallback", cfg.vmlinuxFallback)
	s.goSafe("initialized", func() {
		s.register(caps)
		s.fillKernels(ks, cfg)
		if caps.configuration {
			s.reloadConfig(true)
		}
	})
	return nil
}

// register asks the client to watch the files whose changes matter: headers (the
// preamble), build flags and .corels.json.
func (s *Server) register(caps clientCaps) {
	var regs []protocol.Registration
	if caps.watchedFilesDynamic {
		var watchers []protocol.FileSystemWatcher
		for _, g := range []string{"**/*.h", "**/compile_commands.json", "**/compile_flags.txt", "**/" + configFileName} {
			watchers = append(watchers, protocol.FileSystemWatcher{GlobPattern: protocol.Pattern(g)})
		}
		opts, err := protocol.Marshal(&protocol.DidChangeWatchedFilesRegistrationOptions{Watchers: watchers})
		if err == nil {
			regs = append(regs, protocol.Registration{ID: "corels-watch", Method: protocol.MethodWorkspaceDidChangeWatchedFiles, RegisterOptions: opts})
		}
	}
	if caps.configurationDynamic {
		regs = append(regs, protocol.Registration{ID: "corels-config", Method: protocol.MethodWorkspaceDidChangeConfiguration})
	}
	if len(regs) == 0 {
		return
	}
	s.logErr("registerCapability", s.client.RegisterCapability(s.ctx, &protocol.RegistrationParams{Registrations: regs}))
}

// Shutdown stops all analysis; the server then answers nothing but exit.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopAll()
	return nil
}

// Exit ends Serve.
func (s *Server) Exit(ctx context.Context) error {
	s.exitOnce.Do(func() { close(s.exit) })
	return nil
}

// watchParent exits when the editor that started the server is gone, so that a crashed
// editor does not leave servers behind.
func (s *Server) watchParent(pid int) {
	if pid == os.Getpid() {
		return
	}
	s.goSafe("watch parent", func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-s.ctx.Done():
				return
			case <-t.C:
				if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
					s.log.Warn("parent process is gone; exiting", "pid", pid)
					s.Exit(s.ctx)
					return
				}
			}
		}
	})
}
