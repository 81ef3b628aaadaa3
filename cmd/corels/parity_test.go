package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/corels/corels/compiler"
	"github.com/corels/corels/lsp"
)

// One answer everywhere: `corels serve` (its server, driven by go.lsp.dev's client as an
// editor would) and `corels check --format json --relocs` give
// the same findings — code, severity, message and range — for the same file, flags and
// kernels, over every program of the corpora.

// parityGroup is a set of programs checked with the same flags and kernels.
type parityGroup struct {
	name    string
	kernels []string // --kernel arguments / the "kernels" setting
	flags   []string // clang flags (absolute paths); nil: found per file (compile_flags.txt, ...)
	files   []string
}

// TestServeCheckParity runs each group through one server and `corels check` and compares
// the findings file by file.
func TestServeCheckParity(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles every corpus program twice")
	}
	groups := parityGroups(t)
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			// The two sides run at once: each compiles every program in full once.
			type checkResult struct {
				findings map[string][]finding
				err      error
			}
			done := make(chan checkResult, 1)
			go func() {
				f, err := checkFindings(g)
				done <- checkResult{f, err}
			}()
			served := serveFindings(t, g)
			cr := <-done
			if cr.err != nil {
				t.Fatal(cr.err)
			}
			checked := cr.findings
			same := 0
			for _, f := range g.files {
				s, c := served[f], checked[f]
				if slices.Equal(s, c) {
					same++
					continue
				}
				t.Errorf("%s: serve and check differ:\n%s", f, setDiff(s, c))
			}
			n := 0
			for _, f := range g.files {
				n += len(checked[f])
			}
			t.Logf("%d programs, %d findings; %d identical, %d differ", len(g.files), n, same, len(g.files)-same)
		})
	}
}

// parityGroups: testdata/analysis/ against each program's own kernels (its `// kernels:`
// line), testdata/*.bpf.c against the synthetic kernels and the embedded one, and the
// kernel selftests (make selftests) when they are there.
func parityGroups(t *testing.T) []parityGroup {
	root, _ := filepath.Abs("../..")
	testdata := filepath.Join(root, "testdata")
	if _, err := os.Stat(filepath.Join(testdata, "include", "vmlinux.h")); err != nil {
		t.Skip("testdata/include/vmlinux.h is missing: run `make vmlinux`")
	}
	synth := func(name string) string { return filepath.Join(testdata, "kernels", name+".btf.o") }
	standard := []string{synth("4.18.0-synth"), synth("5.10.0-synth"), synth("5.14.0-synth"), "default"}
	flags := []string{"-I", filepath.Join(testdata, "include"), "-D__TARGET_ARCH_x86"}

	var groups []parityGroup
	byKernels := map[string]int{}
	analysisFiles, _ := filepath.Glob(filepath.Join(testdata, "analysis", "*.bpf.c"))
	kernelsLine := regexp.MustCompile(`(?m)^//\s*kernels:\s*(.*?)\s*$`)
	for _, f := range analysisFiles {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ks := standard
		// "none" (no kernel at all) cannot be said to check: those get the standard set.
		if m := kernelsLine.FindSubmatch(src); m != nil && string(m[1]) != "none" {
			ks = nil
			for _, name := range strings.Fields(string(m[1])) {
				ks = append(ks, synth(name))
			}
		}
		key := strings.Join(ks, ",")
		i, ok := byKernels[key]
		if !ok {
			i = len(groups)
			byKernels[key] = i
			var names []string
			for _, k := range ks {
				names = append(names, strings.TrimSuffix(filepath.Base(k), ".btf.o"))
			}
			groups = append(groups, parityGroup{name: "analysis/" + strings.Join(names, "+"), kernels: ks, flags: flags})
		}
		groups[i].files = append(groups[i].files, f)
	}
	files, _ := filepath.Glob(filepath.Join(testdata, "*.bpf.c"))
	groups = append(groups, parityGroup{name: "testdata", kernels: standard, flags: flags, files: files})
	// The variants are written elsewhere: testdata/analysis' own header is found by -I.
	encFlags := append(slices.Clone(flags), "-I", filepath.Join(testdata, "analysis"))
	groups = append(groups, parityGroup{name: "encodings", kernels: standard, flags: encFlags, files: encodingVariants(t, testdata)})
	groups = append(groups, parityGroup{name: "header helper", kernels: standard, flags: flags, files: headerHelper(t)})
	if g, ok := selftestsGroup(t, root); ok {
		groups = append(groups, g)
	}
	return groups
}

// encodingVariants writes programs whose findings sit after multi-byte characters on their
// line (check counts bytes, the server UTF-16 units) and with CRLF line ends.
func encodingVariants(t *testing.T, testdata string) []string {
	dir := t.TempDir()
	var out []string
	for _, name := range []string{"seed_unwrapped.bpf.c", "analysis/probe_read.bpf.c", "analysis/unresolved.bpf.c"} {
		src, err := os.ReadFile(filepath.Join(testdata, name))
		if err != nil {
			t.Fatal(err)
		}
		base := strings.TrimSuffix(filepath.Base(name), ".bpf.c")
		// A comment before every statement that reads: é (2 bytes, 1 unit), € (3, 1), 😀 (4, 2).
		wide := regexp.MustCompile(`(?m)^(\t+)(\S.*(->|BPF_CORE_READ|bpf_probe_read).*)$`).ReplaceAll(src, []byte("$1/* é€😀 */ $2"))
		crlf := []byte(strings.ReplaceAll(string(src), "\n", "\r\n"))
		for suffix, text := range map[string][]byte{"_utf8": wide, "_crlf": crlf} {
			if string(text) == string(src) {
				t.Fatalf("%s: no %s variant", name, suffix)
			}
			f := filepath.Join(dir, base+suffix+".bpf.c")
			if err := os.WriteFile(f, text, 0o644); err != nil {
				t.Fatal(err)
			}
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

// headerHelper writes a program whose CO-RE read is in a static inline helper of its own
// header (core_fixes.bpf.h, usdt.bpf.h do this), on a field the 5.10 kernel lacks.
func headerHelper(t *testing.T) []string {
	dir := t.TempDir()
	files := map[string]string{
		"helper.h": `#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
static __always_inline long state_of(struct task_struct *t)
{
	return BPF_CORE_READ(t, __state);
}
`,
		"prog.bpf.c": `#include "vmlinux.h"
#include "helper.h"

SEC("kprobe/x")
int prog(struct pt_regs *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	return state_of(t) + BPF_CORE_READ(t, __state);
}
char LICENSE[] SEC("license") = "GPL";
`,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return []string{filepath.Join(dir, "prog.bpf.c")}
}

var paritySelftests = flag.Int("parity.selftests", 0,
	"TestServeCheckParity: also compare every `N`th program of the kernel selftests corpus (make selftests); 1: all ~500, tens of minutes on two cores")

// selftestsGroup is the kernel selftests corpus that `make selftests` fetches into
// build/selftests/, with the flags of its compile_flags.txt (found by both front ends, as
// in a user's project: no flags are passed) and against the embedded Debian 6.1 kernel
// its vmlinux.h comes from.
func selftestsGroup(t *testing.T, root string) (parityGroup, bool) {
	dir := filepath.Join(root, "build", "selftests")
	progs, _ := filepath.Glob(filepath.Join(dir, "tools", "testing", "selftests", "bpf", "progs", "*.c"))
	switch {
	case len(progs) == 0:
		t.Logf("kernel selftests: not compared: %s has no programs (`make selftests` fetches them)", dir)
		return parityGroup{}, false
	case *paritySelftests <= 0:
		t.Logf("kernel selftests: not compared: %d programs in %s; run with -parity.selftests 1 -timeout 120m to compare them all (N: every Nth)", len(progs), dir)
		return parityGroup{}, false
	}
	var sample []string
	for i := 0; i < len(progs); i += *paritySelftests {
		sample = append(sample, progs[i])
	}
	progs = sample
	if _, err := os.Stat(filepath.Join(dir, "compile_flags.txt")); err != nil {
		t.Fatalf("kernel selftests: %v (make selftests writes it)", err)
	}
	return parityGroup{name: "selftests", kernels: []string{"default"}, files: progs}, true
}

// finding is one finding as both front ends can say it: "file:line:col-line:col severity
// code: message", with 1-based lines and byte columns. A finding in a header is shown by
// the server on the #include line, its header position in the message: both sides say
// "header:line:col severity code: message" for it (without the end, which the server
// does not show).
type finding = string

func findingKey(file string, line, col, endLine, endCol int, severity, code, message string) finding {
	return fmt.Sprintf("%s:%d:%d-%d:%d %s %s: %s", file, line, col, endLine, endCol, severity, code, message)
}

func headerKey(file string, line, col int, severity, code, message string) finding {
	return fmt.Sprintf("%s:%d:%d %s %s: %s", file, line, col, severity, code, message)
}

// checkFindings runs `corels check --format json --relocs` on each file of the group.
func checkFindings(g parityGroup) (map[string][]finding, error) {
	got := map[string][]finding{}
	for _, file := range g.files {
		args := []string{"check", "--format", "json", "--relocs"}
		for _, k := range g.kernels {
			args = append(args, "--kernel", k)
		}
		args = append(args, file)
		if g.flags != nil {
			args = append(append(args, "--"), g.flags...)
		}
		code, stdout, stderr := runArgs(args...)
		if code != 0 && code != 1 {
			return nil, fmt.Errorf("corels check %s: exit %d: %s", file, code, stderr)
		}
		var out []findingOut
		if err := json.Unmarshal([]byte(stdout), &out); err != nil {
			return nil, fmt.Errorf("corels check %s: %v", file, err)
		}
		got[file] = []finding{}
		for _, f := range out {
			k := findingKey(f.File, f.Line, f.Col, f.EndLine, f.EndCol, f.Severity, f.Code, f.Message)
			if f.File != file {
				k = headerKey(f.File, f.Line, f.Col, f.Severity, f.Code, f.Message)
			}
			got[file] = append(got[file], k)
		}
		sort.Strings(got[file])
	}
	return got, nil
}

// serveFindings opens each file in a language server (lsp.Serve, the server of `corels
// serve`, on a pipe, driven by go.lsp.dev's client as an editor would drive it) configured
// with the group's kernels and flags, and collects the diagnostics published for version 1.
// The server has its own incremental compiler (compiler.Cache, pruned compiles), check
// compiles each file in full: a difference between the two front ends shows here too, as
// a user would see it.
func serveFindings(t *testing.T, g parityGroup) map[string][]finding {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logBuf syncBuffer
	logger := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	// No analysis budget: a slow first analysis must not publish partial results first.
	srv := lsp.NewServer(lsp.Options{Logger: logger, FrontEnd: compiler.NewCache(), AnalysisBudget: -1})
	a, b := net.Pipe()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, a) }()
	defer func() {
		if t.Failed() {
			t.Logf("server log:\n%s", lastLines(logBuf.String(), 30))
		}
	}()
	client := &parityClient{pubs: map[uri.URI]*protocol.PublishDiagnosticsParams{}, changed: make(chan struct{})}
	_, conn, server := protocol.NewClient(ctx, client, jsonrpc2.NewHeaderStream(b))
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer scancel()
		server.Shutdown(sctx)
		server.Exit(sctx)
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("server: %v", err)
			}
		case <-sctx.Done():
			t.Error("the server did not exit")
		}
		conn.Close()
	}()
	settings := map[string]any{"kernels": g.kernels, "relocationHints": "diagnostic"}
	if g.flags != nil {
		settings["compileFlags"] = g.flags
	}
	init, _ := json.Marshal(settings)
	if _, err := server.Initialize(ctx, &protocol.InitializeParams{InitializationOptions: init}); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	if err := server.Initialized(ctx, &protocol.InitializedParams{}); err != nil {
		t.Fatal(err)
	}
	got := map[string][]finding{}
	texts := map[string][]byte{}
	for _, f := range g.files {
		got[f] = []finding{}
	}
	// A few files at a time: the server analyses them in parallel, the machine decides how
	// many at once.
	const window = 4
	for i := 0; i < len(g.files); i += window {
		batch := g.files[i:min(i+window, len(g.files))]
		for _, f := range batch {
			text, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			texts[f] = text
			err = server.DidOpen(ctx, &protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{
				URI: uri.File(f), LanguageID: "c", Version: 1, Text: string(text),
			}})
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range batch {
			p := client.wait(t, uri.File(f), 1)
			for _, d := range p.Diagnostics {
				got[f] = append(got[f], diagnosticKey(f, texts[f], d))
			}
			sort.Strings(got[f])
			if err := server.DidClose(ctx, &protocol.DidCloseTextDocumentParams{TextDocument: protocol.TextDocumentIdentifier{URI: uri.File(f)}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	client.mu.Lock()
	for _, m := range client.shown {
		t.Errorf("the server showed a message: %s", m)
	}
	client.mu.Unlock()
	return got
}

var headerPrefix = regexp.MustCompile(`^in (.+):(\d+):(\d+): `)

// diagnosticKey turns a published diagnostic back into a finding of file (UTF-16
// positions into byte columns of text).
func diagnosticKey(file string, text []byte, d protocol.Diagnostic) finding {
	msg := ""
	switch m := d.Message.(type) {
	case protocol.String:
		msg = string(m)
	case *protocol.MarkupContent:
		msg = m.Value
	}
	code := ""
	if c, ok := d.Code.(protocol.String); ok {
		code = string(c)
	}
	sev := map[protocol.DiagnosticSeverity]string{
		protocol.DiagnosticSeverityError: "error", protocol.DiagnosticSeverityWarning: "warning",
		protocol.DiagnosticSeverityInformation: "info", protocol.DiagnosticSeverityHint: "hint",
	}[d.Severity]
	if m := headerPrefix.FindStringSubmatch(msg); m != nil {
		var line, col int
		fmt.Sscan(m[2], &line)
		fmt.Sscan(m[3], &col)
		return headerKey(m[1], line, col, sev, code, msg[len(m[0]):])
	}
	sl, sc := byteColumn(text, d.Range.Start)
	el, ec := byteColumn(text, d.Range.End)
	return findingKey(file, sl, sc, el, ec, sev, code, msg)
}

// byteColumn converts an LSP position (UTF-16) into a 1-based line and byte column.
func byteColumn(text []byte, p protocol.Position) (int, int) {
	lines := strings.SplitAfter(string(text), "\n")
	if int(p.Line) >= len(lines) {
		return int(p.Line) + 1, 1
	}
	line := strings.TrimRight(lines[p.Line], "\r\n")
	units, col := 0, 0
	for col < len(line) && units < int(p.Character) {
		r, size := utf8.DecodeRuneInString(line[col:])
		units += len(utf16.Encode([]rune{r}))
		col += size
	}
	return int(p.Line) + 1, col + 1
}

// setDiff lists what only one side has.
func setDiff(serve, check []finding) string {
	var b strings.Builder
	for _, s := range serve {
		if !slices.Contains(check, s) {
			fmt.Fprintf(&b, "  serve only: %s\n", s)
		}
	}
	for _, c := range check {
		if !slices.Contains(serve, c) {
			fmt.Fprintf(&b, "  check only: %s\n", c)
		}
	}
	if b.Len() == 0 {
		fmt.Fprintf(&b, "  the same findings, counted differently: serve %d, check %d\n", len(serve), len(check))
	}
	return b.String()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// syncBuffer is the server's log.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// parityClient is the editor: it keeps the last publication per document.
type parityClient struct {
	protocol.UnimplementedClient
	mu      sync.Mutex
	pubs    map[uri.URI]*protocol.PublishDiagnosticsParams
	changed chan struct{}
	shown   []string
}

func (c *parityClient) PublishDiagnostics(_ context.Context, p *protocol.PublishDiagnosticsParams) error {
	// A deep copy: decoded strings may share the message's buffer.
	cp, err := protocol.Clone(*p)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.pubs[p.URI] = &cp
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	return nil
}

// wait returns the publication for u at version.
func (c *parityClient) wait(t *testing.T, u uri.URI, version int32) *protocol.PublishDiagnosticsParams {
	t.Helper()
	deadline := time.After(10 * time.Minute)
	for {
		c.mu.Lock()
		p, changed := c.pubs[u], c.changed
		c.mu.Unlock()
		if p != nil {
			if v, ok := p.Version.Get(); ok && v == version {
				return p
			}
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("no diagnostics for %s version %d", string(u), version)
		}
	}
}

func (c *parityClient) ShowMessage(_ context.Context, p *protocol.ShowMessageParams) error {
	c.mu.Lock()
	c.shown = append(c.shown, strings.Clone(p.Message))
	c.mu.Unlock()
	return nil
}

func (c *parityClient) LogMessage(context.Context, *protocol.LogMessageParams) error { return nil }
func (c *parityClient) Progress(context.Context, *protocol.ProgressParams) error     { return nil }
func (c *parityClient) WorkDoneProgressCreate(context.Context, *protocol.WorkDoneProgressCreateParams) error {
	return nil
}
func (c *parityClient) RegisterCapability(context.Context, *protocol.RegistrationParams) error {
	return nil
}
func (c *parityClient) Configuration(_ context.Context, p *protocol.ConfigurationParams) ([]protocol.LSPAny, error) {
	out := make([]protocol.LSPAny, len(p.Items))
	for i := range out {
		out[i] = protocol.LSPAny("null")
	}
	return out, nil
}
func (c *parityClient) DiagnosticRefresh(context.Context) error { return nil }
func (c *parityClient) InlayHintRefresh(context.Context) error  { return nil }
func (c *parityClient) CodeLensRefresh(context.Context) error   { return nil }
