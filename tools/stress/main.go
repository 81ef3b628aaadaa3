// Command stress drives a real `corels serve` over stdio with thousands of random edits to
// the testdata programs, interleaved with hover, codeAction, inlayHint (and other)
// requests at random positions, malformed JSON-RPC frames and unknown methods. It checks
// that the server never dies, answers every request within a bound, publishes diagnostics
// only for the latest version of a document, keeps its memory bounded, leaks no goroutines
// once the documents are closed and never writes into the workspace. It is bounded in edit
// count and time, talks to the server over pipes only, and stops by itself.
//
//	make stress                       # bin/corels, defaults below
//	go run ./tools/stress -edits 500 -time 2m -seed 7
//
// The goroutine check sends SIGQUIT to the server at the end (GOTRACEBACK=all prints every
// goroutine) and compares the count with a baseline server that opened and closed one
// document.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

var (
	flagCorels   = flag.String("corels", "bin/corels", "the corels binary")
	flagRepo     = flag.String("repo", ".", "repository root (testdata/*.bpf.c, testdata/include)")
	flagSeed     = flag.Int64("seed", 0, "random seed (0: from the clock; printed)")
	flagEdits    = flag.Int("edits", 5000, "stop after this many edits")
	flagTime     = flag.Duration("time", 10*time.Minute, "stop after this long")
	flagBound    = flag.Duration("bound", 30*time.Second, "every request must be answered within this")
	flagSettle   = flag.Duration("settle", 60*time.Second, "diagnostics for the latest version must arrive within this")
	flagRSS      = flag.Int("rss-limit", 3072, "peak resident memory bound in MiB")
	flagOut      = flag.String("out", "build/stress", "directory for the server log and stderr")
	flagCrashers = flag.Bool("known-crashers", false, "also send inputs known to crash the server (cc/v4 stack overflow)")
	flagVerbose  = flag.Bool("v", false, "log every operation")
	flagLogLevel = flag.String("log-level", "info", "the server's --log-level")
)

func main() {
	flag.Parse()
	if *flagSeed == 0 {
		*flagSeed = time.Now().UnixNano() % 1_000_000
	}
	os.Exit(run())
}

// ---------------------------------------------------------------- the server process

type message struct {
	JSONRPC string           `json:"jsonrpc"`
	ID      *json.RawMessage `json:"id,omitempty"`
	Method  string           `json:"method,omitempty"`
	Params  json.RawMessage  `json:"params,omitempty"`
	Result  json.RawMessage  `json:"result,omitempty"`
	Error   *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

type pending struct {
	method string
	sent   time.Time
}

type docState struct {
	uri     string
	text    []byte // what the server should have (valid UTF-8)
	version int
	open    bool
}

type pubState struct {
	version int // last published version, -1 none
	count   int
}

type stats struct {
	edits, requests, answered, errorsAnswered, malformed, malformedAnswered int
	unknownAnswered, publications, stale, missing, late, serverRequests     int
	opens, closes                                                           int
	maxLatency                                                              time.Duration
	maxLatencyMethod                                                        string
	maxSettle                                                               time.Duration
	peakRSS, lastRSS                                                        int64 // KiB
	staleWhy                                                                []string
}

type server struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *os.File
	wmu    sync.Mutex

	mu      sync.Mutex
	cond    *sync.Cond
	nextID  int
	pending map[int]pending
	docs    map[string]*docState
	pubs    map[string]*pubState
	st      stats
	dead    bool
	deadErr error
	done    chan struct{}
}

func startServer(name, logFile string) (*server, error) {
	if err := os.MkdirAll(*flagOut, 0o755); err != nil {
		return nil, err
	}
	cmd := exec.Command(*flagCorels, "serve", "--log", logFile, "--log-level", *flagLogLevel)
	cmd.Env = append(os.Environ(), "GOTRACEBACK=all")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	errFile, err := os.Create(filepath.Join(*flagOut, name+".stderr"))
	if err != nil {
		return nil, err
	}
	cmd.Stderr = errFile
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, stdin: stdin, stderr: errFile, pending: map[int]pending{}, docs: map[string]*docState{}, pubs: map[string]*pubState{}, done: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	go s.readLoop(stdout)
	go s.sampleRSS()
	return s, nil
}

func (s *server) writeFrame(body []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if _, err := fmt.Fprintf(s.stdin, "Content-Length: %d\r\n\r\n", len(body)); err != nil {
		return err
	}
	_, err := s.stdin.Write(body)
	return err
}

func (s *server) writeRaw(b []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_, err := s.stdin.Write(b)
	return err
}

func (s *server) notify(method string, params any) error {
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": method, "params": params})
	if err != nil {
		return err
	}
	return s.writeFrame(body)
}

// request sends a request and returns its id; the answer is matched by readLoop.
func (s *server) request(method string, params any) int {
	s.mu.Lock()
	s.nextID++
	id := s.nextID
	s.pending[id] = pending{method, time.Now()}
	s.st.requests++
	s.mu.Unlock()
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	s.writeFrame(body)
	return id
}

// requestRaw sends a hand-written request body with a fresh id substituted for ID.
func (s *server) requestRaw(method, body string) int {
	s.mu.Lock()
	s.nextID++
	id := s.nextID
	s.pending[id] = pending{method, time.Now()}
	s.st.requests++
	s.mu.Unlock()
	s.writeFrame([]byte(strings.Replace(body, "ID", strconv.Itoa(id), 1)))
	return id
}

func (s *server) readLoop(r io.Reader) {
	br := bufio.NewReaderSize(r, 1<<16)
	err := func() error {
		for {
			n := -1
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					if err == io.EOF && line == "" {
						return io.EOF
					}
					return fmt.Errorf("reading a header: %v (%q)", err, line)
				}
				line = strings.TrimRight(line, "\r\n")
				if line == "" {
					break
				}
				k, v, ok := strings.Cut(line, ":")
				if !ok {
					return fmt.Errorf("not a header on stdout: %q", line)
				}
				if strings.EqualFold(strings.TrimSpace(k), "Content-Length") {
					var err error
					if n, err = strconv.Atoi(strings.TrimSpace(v)); err != nil {
						return err
					}
				}
			}
			if n < 0 {
				return fmt.Errorf("frame without Content-Length")
			}
			body := make([]byte, n)
			if _, err := io.ReadFull(br, body); err != nil {
				return err
			}
			var m message
			if err := json.Unmarshal(body, &m); err != nil {
				return fmt.Errorf("server sent invalid JSON: %v: %.200s", err, body)
			}
			s.handle(&m)
		}
	}()
	s.mu.Lock()
	s.dead = true
	s.deadErr = err
	s.cond.Broadcast()
	s.mu.Unlock()
	close(s.done)
}

func (s *server) handle(m *message) {
	switch {
	case m.Method != "" && m.ID != nil: // a request from the server: answer it
		s.mu.Lock()
		s.st.serverRequests++
		s.mu.Unlock()
		var result any
		if m.Method == "workspace/configuration" {
			var p struct {
				Items []json.RawMessage `json:"items"`
			}
			json.Unmarshal(m.Params, &p)
			result = make([]any, len(p.Items))
		}
		body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": m.ID, "result": result})
		s.writeFrame(body)
	case m.Method == "textDocument/publishDiagnostics":
		var p struct {
			URI         string            `json:"uri"`
			Version     *int              `json:"version"`
			Diagnostics []json.RawMessage `json:"diagnostics"`
		}
		json.Unmarshal(m.Params, &p)
		s.mu.Lock()
		s.st.publications++
		ps := s.pubs[p.URI]
		if ps == nil {
			ps = &pubState{version: -1}
			s.pubs[p.URI] = ps
		}
		d := s.docs[p.URI]
		stale := func(why string) {
			s.st.stale++
			if len(s.st.staleWhy) < 20 {
				s.st.staleWhy = append(s.st.staleWhy, why)
			}
		}
		switch {
		case d == nil:
			stale(fmt.Sprintf("publication for %s, never opened", p.URI))
		case p.Version != nil && *p.Version > d.version:
			stale(fmt.Sprintf("%s: publication for version %d, latest sent %d", base(p.URI), *p.Version, d.version))
		case p.Version != nil && *p.Version < ps.version:
			stale(fmt.Sprintf("%s: publication for version %d after one for %d", base(p.URI), *p.Version, ps.version))
		case !d.open && len(p.Diagnostics) > 0:
			stale(fmt.Sprintf("%s: %d diagnostics published after close", base(p.URI), len(p.Diagnostics)))
		}
		if p.Version != nil {
			ps.version = *p.Version
		} else if d != nil && !d.open {
			ps.version = -2 // the clearing publication after close
		}
		ps.count++
		s.cond.Broadcast()
		s.mu.Unlock()
	case m.Method != "": // other notifications: progress, log messages
	default: // a response
		s.mu.Lock()
		defer s.mu.Unlock()
		raw := "null"
		if m.ID != nil {
			raw = string(*m.ID)
		}
		id, err := strconv.Atoi(raw)
		if err != nil {
			s.st.malformedAnswered++ // answers to frames without an id (id null)
			return
		}
		p, ok := s.pending[id]
		if !ok {
			return
		}
		delete(s.pending, id)
		lat := time.Since(p.sent)
		s.st.answered++
		if m.Error != nil {
			s.st.errorsAnswered++
			if m.Error.Code == -32601 {
				s.st.unknownAnswered++
			}
		}
		if lat > s.st.maxLatency {
			s.st.maxLatency, s.st.maxLatencyMethod = lat, p.method
		}
		if lat > *flagBound {
			s.st.late++
		}
		s.cond.Broadcast()
	}
}

// rss reads VmRSS and VmHWM (KiB) of the server.
func (s *server) rss() (cur, peak int64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			cur = v
		case "VmHWM:":
			peak = v
		}
	}
	return cur, peak
}

func (s *server) sampleRSS() {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			cur, peak := s.rss()
			s.mu.Lock()
			if peak > s.st.peakRSS {
				s.st.peakRSS = peak
			}
			if cur > s.st.peakRSS {
				s.st.peakRSS = cur
			}
			if cur > 0 {
				s.st.lastRSS = cur
			}
			s.mu.Unlock()
		}
	}
}

func (s *server) isDead() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dead
}

// waitFor waits until cond() holds (called with s.mu held) or the timeout passes.
func (s *server) waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer timer.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for !cond() {
		if s.dead || time.Now().After(deadline) {
			return cond()
		}
		s.cond.Wait()
	}
	return true
}

// ---------------------------------------------------------------- documents and positions

func base(uri string) string { return filepath.Base(uri) }

// position is an LSP position (UTF-16 code units) of byte offset off in text.
func position(text []byte, off int) map[string]int {
	line, start := 0, 0
	for i := 0; i < off && i < len(text); i++ {
		if text[i] == '\n' {
			line++
			start = i + 1
		}
	}
	col := 0
	for _, r := range string(text[start:min(off, len(text))]) {
		col += len(utf16.Encode([]rune{r}))
	}
	return map[string]int{"line": line, "character": col}
}

func lspRange(text []byte, a, b int) map[string]any {
	return map[string]any{"start": position(text, a), "end": position(text, b)}
}

// snap moves off back to a rune boundary.
func snap(text []byte, off int) int {
	off = max(0, min(off, len(text)))
	for off > 0 && off < len(text) && !utf8.RuneStart(text[off]) {
		off--
	}
	return off
}

type harness struct {
	s        *server
	rng      *rand.Rand
	ws       string
	programs map[string][]byte
	names    []string
	start    time.Time
}

func (h *harness) logf(format string, args ...any) {
	if *flagVerbose {
		fmt.Fprintf(os.Stderr, "%7.2fs "+format+"\n", append([]any{time.Since(h.start).Seconds()}, args...)...)
	}
}

func (h *harness) open(name string) *docState {
	uri := "file://" + filepath.Join(h.ws, name)
	h.s.mu.Lock()
	d := h.s.docs[uri]
	if d == nil {
		d = &docState{uri: uri}
		h.s.docs[uri] = d
	}
	d.text = append([]byte(nil), h.programs[name]...)
	d.version++
	d.open = true
	h.s.st.opens++
	v := d.version
	h.s.mu.Unlock()
	h.s.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": uri, "languageId": "c", "version": v, "text": string(d.text)}})
	return d
}

func (h *harness) close(d *docState) {
	h.s.mu.Lock()
	d.open = false
	h.s.st.closes++
	h.s.mu.Unlock()
	h.s.notify("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": d.uri}})
}

// change replaces [a, b) of d's text by ins with an incremental change.
func (h *harness) change(d *docState, a, b int, ins string) {
	h.s.mu.Lock()
	rng := lspRange(d.text, a, b)
	out := make([]byte, 0, len(d.text)-(b-a)+len(ins))
	out = append(append(append(out, d.text[:a]...), ins...), d.text[b:]...)
	d.text = out
	v := h.bump(d)
	h.s.mu.Unlock()
	h.s.notify("textDocument/didChange", map[string]any{
		"textDocument":   map[string]any{"uri": d.uri, "version": v},
		"contentChanges": []any{map[string]any{"range": rng, "text": ins}},
	})
}

// bump counts an edit of d and returns d's new version. h.s.mu is held.
func (h *harness) bump(d *docState) int {
	d.version++
	h.s.st.edits++
	return d.version
}

// replaceAll sends the whole text.
func (h *harness) replaceAll(d *docState, text []byte) {
	h.s.mu.Lock()
	d.text = text
	v := h.bump(d)
	h.s.mu.Unlock()
	h.s.notify("textDocument/didChange", map[string]any{
		"textDocument":   map[string]any{"uri": d.uri, "version": v},
		"contentChanges": []any{map[string]any{"text": string(text)}},
	})
}

// settle waits for diagnostics of d's latest version.
func (h *harness) settle(d *docState) {
	h.s.mu.Lock()
	want := d.version
	h.s.mu.Unlock()
	t0 := time.Now()
	ok := h.s.waitFor(*flagSettle, func() bool {
		ps := h.s.pubs[d.uri]
		return ps != nil && ps.version >= want
	})
	took := time.Since(t0)
	h.s.mu.Lock()
	if took > h.s.st.maxSettle {
		h.s.st.maxSettle = took
	}
	if !ok && !h.s.dead {
		h.s.st.missing++
		h.s.st.stale++
		if len(h.s.st.staleWhy) < 20 {
			ps := h.s.pubs[d.uri]
			got := -1
			if ps != nil {
				got = ps.version
			}
			h.s.st.staleWhy = append(h.s.st.staleWhy, fmt.Sprintf("%s: no diagnostics for version %d within %v (last published %d)", base(d.uri), want, *flagSettle, got))
		}
	}
	h.s.mu.Unlock()
	h.logf("settled %s v%d in %v", base(d.uri), want, took.Round(time.Millisecond))
}

// ---------------------------------------------------------------- operations

var snippets = []string{
	"{", "}", "(", ")", ";", "->", ".", "[", "]", "*", "&", ",", "\n", " ", "\t",
	"BPF_CORE_READ(", "bpf_core_field_exists(", "bpf_core_type_exists(struct task_struct)",
	"__builtin_preserve_access_index(", "struct task_struct *t = (void *)bpf_get_current_task();\n",
	"t->real_parent->tgid", "#include <", "#include \"vmlinux.h\"\n", "#define X(a, args...) a(args)\n",
	"\"", "'", "/*", "*/", "//", "\\\n", "#if 1\n", "#endif\n", "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n",
	"#pragma clang attribute pop\n", "SEC(\"kprobe/x\")\n", "int BPF_KPROBE(p, struct file *f)\n",
	"é", "😀", "\u200b", "\ufeff", "\x00", "𝔘", "\u0301",
}

func (h *harness) randomSnippet() string {
	switch h.rng.Intn(4) {
	case 0: // a piece of another program
		p := h.programs[h.names[h.rng.Intn(len(h.names))]]
		a := h.rng.Intn(len(p))
		b := min(len(p), a+1+h.rng.Intn(300))
		return strings.ToValidUTF8(string(p[snap(p, a):snap(p, b)]), "")
	default:
		var b strings.Builder
		for i := h.rng.Intn(6); i >= 0; i-- {
			b.WriteString(snippets[h.rng.Intn(len(snippets))])
		}
		return b.String()
	}
}

func (h *harness) span(d *docState, maxLen int) (int, int) {
	if len(d.text) == 0 {
		return 0, 0
	}
	a := snap(d.text, h.rng.Intn(len(d.text)+1))
	b := snap(d.text, a+h.rng.Intn(maxLen+1))
	if b < a {
		b = a
	}
	return a, b
}

func macroBlowup(base, sep string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n#define SM0 %s\n", base)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "#define SM%d SM%d%sSM%d\n", i, i-1, sep, i-1)
	}
	return b.String()
}

// edit applies one random edit operation to d. Operations that may leave the server's
// text different from ours (invalid UTF-8, out-of-range ranges) end with a whole-text
// resync.
func (h *harness) edit(d *docState) string {
	h.s.mu.Lock()
	text := d.text
	h.s.mu.Unlock()
	switch op := h.rng.Intn(100); {
	case op < 22:
		a, b := h.span(d, 200)
		if h.rng.Intn(10) == 0 {
			a, b = h.span(d, 3000)
		}
		h.change(d, a, b, "")
		return "delete"
	case op < 44:
		a, _ := h.span(d, 0)
		h.change(d, a, a, h.randomSnippet())
		return "insert"
	case op < 52:
		a, b := h.span(d, 100)
		h.change(d, a, b, h.randomSnippet())
		return "replace"
	case op < 60: // delete a chunk and type it again, character by character
		a, b := h.span(d, 400)
		chunk := string(text[a:b])
		h.change(d, a, b, "")
		off := a
		for i, r := range chunk {
			h.change(d, off, off, string(r))
			off += utf8.RuneLen(r)
			if i%16 == 0 && h.rng.Intn(3) == 0 {
				time.Sleep(time.Duration(h.rng.Intn(15)) * time.Millisecond)
			}
			if h.rng.Intn(40) == 0 {
				h.randomRequest(d)
			}
		}
		return "type"
	case op < 64:
		a, _ := h.span(d, 0)
		h.change(d, a, a, strings.Repeat(string("{}()"[h.rng.Intn(4)]), 1+h.rng.Intn(50)))
		return "unbalanced"
	case op < 68:
		re := regexp.MustCompile(`(?m)^#include.*\n`)
		locs := re.FindAllIndex(text, -1)
		if len(locs) == 0 {
			return "no-include"
		}
		l := locs[h.rng.Intn(len(locs))]
		h.change(d, l[0], l[1], "")
		return "remove-include"
	case op < 70: // a very long line
		a, _ := h.span(d, 0)
		h.change(d, a, a, "\nint long_line = "+strings.Repeat("1+", 50_000+h.rng.Intn(100_000))+"1;\n")
		return "long-line"
	case op < 72: // deep nesting
		n := 200 + h.rng.Intn(800)
		ins := "\nvoid deep_blocks(void) " + strings.Repeat("{", n) + strings.Repeat("}", n) + "\n"
		if h.rng.Intn(2) == 0 {
			n = 1000 + h.rng.Intn(20000)
			ins = "\nint deep_parens = " + strings.Repeat("(", n) + "1" + strings.Repeat(")", n) + ";\n"
		}
		h.change(d, len(d.text), len(d.text), ins)
		return "deep-nesting"
	case op < 74: // macro blow-up: 2^36 tokens, the expansion limit must stop it
		h.change(d, len(d.text), len(d.text), macroBlowup("1", "+", 36)+"int blowup = SM36;\n")
		return "macro-blowup"
	case op < 75 && *flagCrashers:
		h.change(d, len(d.text), len(d.text), macroBlowup("(", " ", 18)+"int crash = SM18 1;\n")
		return "known-crasher"
	case op < 76: // a 10 MB file, then back
		big := bytes.Repeat(text, 10<<20/max(1, len(text))+1)
		h.replaceAll(d, big)
		if h.rng.Intn(2) == 0 {
			h.settle(d)
		}
		h.replaceAll(d, text)
		return "10MB"
	case op < 79: // invalid UTF-8, written by hand (json.Marshal would repair it)
		h.s.mu.Lock()
		v := h.bump(d)
		h.s.mu.Unlock()
		a := snap(text, h.rng.Intn(len(text)+1))
		bad := string(text[:a]) + "\xff\xfe\xc3\x28\xed\xa0\x80" + string(text[a:])
		quoted, _ := json.Marshal(strings.ToValidUTF8(bad, "\uFFFD"))
		quoted = bytes.Replace(quoted, []byte("\ufffd"), []byte("\xff\xfe\xc3\x28\xed\xa0\x80"), 1)
		h.s.writeFrame([]byte(fmt.Sprintf(`{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":{"uri":%q,"version":%d},"contentChanges":[{"text":%s}]}}`, d.uri, v, quoted)))
		h.replaceAll(d, text)
		return "invalid-utf8"
	case op < 83: // ranges out of bounds, reversed, or splitting a surrogate pair
		h.s.mu.Lock()
		v := h.bump(d)
		h.s.mu.Unlock()
		var rng any
		switch h.rng.Intn(4) {
		case 0:
			rng = map[string]any{"start": map[string]int{"line": 1 << 20, "character": 5}, "end": map[string]int{"line": 1<<20 + 2, "character": 0}}
		case 1:
			rng = map[string]any{"start": map[string]int{"line": 3, "character": 1 << 30}, "end": map[string]int{"line": 1, "character": 0}}
		case 2:
			rng = map[string]any{"start": map[string]int{"line": -1, "character": -7}, "end": map[string]int{"line": 0, "character": 2}}
		default: // inside a surrogate pair: put one first
			h.change(d, 0, 0, "😀😀\n")
			h.s.mu.Lock()
			d.version++
			v = d.version
			h.s.mu.Unlock()
			rng = map[string]any{"start": map[string]int{"line": 0, "character": 1}, "end": map[string]int{"line": 0, "character": 3}}
		}
		h.s.notify("textDocument/didChange", map[string]any{
			"textDocument":   map[string]any{"uri": d.uri, "version": v},
			"contentChanges": []any{map[string]any{"range": rng, "text": "X"}},
		})
		h.replaceAll(d, append([]byte(nil), d.text...))
		return "bad-range"
	case op < 86: // the document becomes another program
		h.replaceAll(d, append([]byte(nil), h.programs[h.names[h.rng.Intn(len(h.names))]]...))
		return "switch"
	case op < 88: // several changes in one notification
		a, b := h.span(d, 50)
		c, _ := h.span(d, 0)
		h.s.mu.Lock()
		r1 := lspRange(d.text, a, b)
		t1 := append(append(append([]byte(nil), d.text[:a]...), "/*x*/"...), d.text[b:]...)
		c = snap(t1, min(c, len(t1)))
		r2 := lspRange(t1, c, c)
		t2 := append(append(append([]byte(nil), t1[:c]...), "\n;"...), t1[c:]...)
		d.text = t2
		d.version++
		v := d.version
		h.s.st.edits++
		h.s.mu.Unlock()
		h.s.notify("textDocument/didChange", map[string]any{
			"textDocument":   map[string]any{"uri": d.uri, "version": v},
			"contentChanges": []any{map[string]any{"range": r1, "text": "/*x*/"}, map[string]any{"range": r2, "text": "\n;"}},
		})
		return "multi-change"
	default:
		a, b := h.span(d, 30)
		h.change(d, a, b, "")
		return "small-delete"
	}
}

// randomRequest sends hover, codeAction, inlayHint (mostly) or another request at a
// random (sometimes invalid) position of d's current text.
func (h *harness) randomRequest(d *docState) {
	h.s.mu.Lock()
	text := d.text
	h.s.mu.Unlock()
	a, b := h.span(d, 500)
	pos := any(position(text, a))
	rng := any(lspRange(text, a, b))
	if h.rng.Intn(10) == 0 {
		pos = map[string]int{"line": h.rng.Intn(1 << 20), "character": h.rng.Intn(1 << 16)}
		rng = map[string]any{"start": pos, "end": map[string]int{"line": 0, "character": 0}}
	}
	td := map[string]any{"uri": d.uri}
	switch k := h.rng.Intn(10); {
	case k < 4:
		h.s.request("textDocument/hover", map[string]any{"textDocument": td, "position": pos})
	case k < 6:
		h.s.request("textDocument/codeAction", map[string]any{"textDocument": td, "range": rng, "context": map[string]any{"diagnostics": []any{}}})
	case k < 8:
		h.s.request("textDocument/inlayHint", map[string]any{"textDocument": td, "range": rng})
	case k < 9:
		h.s.request("textDocument/definition", map[string]any{"textDocument": td, "position": pos})
	default:
		m := []string{"textDocument/documentSymbol", "textDocument/codeLens"}[h.rng.Intn(2)]
		h.s.request(m, map[string]any{"textDocument": td})
	}
}

// malformed sends a frame that is not a valid message, an unknown method, or a request
// with invalid params.
func (h *harness) malformed(d *docState) {
	h.s.mu.Lock()
	h.s.st.malformed++
	h.s.mu.Unlock()
	switch h.rng.Intn(16) {
	case 0:
		h.s.writeFrame([]byte(`{"jsonrpc":"2.0","id":`))
	case 1:
		h.s.writeFrame([]byte(`{"hello":"world"}`))
	case 2:
		h.s.writeFrame([]byte(`[{"jsonrpc":"2.0",`))
	case 3:
		h.s.writeFrame([]byte(``))
	case 4:
		h.s.writeRaw([]byte("Content-Type: nothing\r\nno colon here\r\n\r\n"))
	case 5:
		h.s.requestRaw("corels/noSuchMethod", `{"jsonrpc":"2.0","id":ID,"method":"corels/noSuchMethod","params":{}}`)
	case 6:
		h.s.writeFrame([]byte(`{"jsonrpc":"2.0","method":"$/noSuchNotification","params":{"x":1}}`))
	case 7:
		h.s.requestRaw("textDocument/hover", `{"jsonrpc":"2.0","id":ID,"method":"textDocument/hover","params":{"textDocument":5}}`)
	case 8:
		h.s.writeFrame([]byte(`{"jsonrpc":"2.0","method":"textDocument/didChange","params":[1,2]}`))
	case 9:
		h.s.requestRaw("textDocument/hover", `{"jsonrpc":"2.0","id":ID,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///\xff\xfe"},"position":{"line":0,"character":0}}}`)
	case 10:
		h.s.requestRaw("textDocument/hover", `{"jsonrpc":"2.0","id":ID,"method":"textDocument/hover","params":{"textDocument":{"uri":"untitled:Untitled-1"},"position":{"line":0,"character":0}}}`)
	case 11:
		h.s.writeFrame([]byte(`{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"http://example.invalid/x.bpf.c","languageId":"c","version":1,"text":"int x;"}}}`))
	case 12: // nested 100000 deep
		h.s.requestRaw("corels/deep", `{"jsonrpc":"2.0","id":ID,"method":"corels/deep","params":`+strings.Repeat("[", 100000)+strings.Repeat("]", 100000)+`}`)
	case 13:
		h.s.mu.Lock()
		id := h.s.nextID - h.rng.Intn(5)
		h.s.mu.Unlock()
		h.s.notify("$/cancelRequest", map[string]any{"id": id})
	case 14:
		h.s.notify("textDocument/didChange", map[string]any{"textDocument": map[string]any{"uri": d.uri + ".notopen.c", "version": 3}, "contentChanges": []any{map[string]any{"text": "x"}}})
	default:
		h.s.writeFrame([]byte(`[]`))
	}
}

// ---------------------------------------------------------------- the run

func initialize(s *server, ws string) error {
	id := s.request("initialize", map[string]any{
		"processId": os.Getpid(),
		"rootUri":   "file://" + ws,
		"capabilities": map[string]any{
			"textDocument": map[string]any{"publishDiagnostics": map[string]any{"versionSupport": true}},
			"window":       map[string]any{"workDoneProgress": true},
			"workspace":    map[string]any{"configuration": true},
		},
	})
	if !s.waitFor(60*time.Second, func() bool { _, p := s.pending[id]; return !p }) {
		return fmt.Errorf("no answer to initialize")
	}
	return s.notify("initialized", map[string]any{})
}

// workspace copies the testdata programs into a fresh directory with a compile_flags.txt
// naming the test vmlinux.h.
func workspace(repo string) (string, map[string][]byte, error) {
	ws, err := os.MkdirTemp("", "corels-stress-")
	if err != nil {
		return "", nil, err
	}
	inc, _ := filepath.Abs(filepath.Join(repo, "testdata", "include"))
	if err := os.WriteFile(filepath.Join(ws, "compile_flags.txt"), []byte("-I\n"+inc+"\n-D__TARGET_ARCH_x86\n"), 0o644); err != nil {
		return "", nil, err
	}
	files, _ := filepath.Glob(filepath.Join(repo, "testdata", "*.bpf.c"))
	if len(files) == 0 {
		return "", nil, fmt.Errorf("no programs in %s/testdata", repo)
	}
	progs := map[string][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", nil, err
		}
		progs[filepath.Base(f)] = data
		if err := os.WriteFile(filepath.Join(ws, filepath.Base(f)), data, 0o644); err != nil {
			return "", nil, err
		}
	}
	return ws, progs, nil
}

// snapshot lists the workspace's files with size and modification time.
func snapshot(dir string) string {
	var lines []string
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if info, err := e.Info(); err == nil {
			lines = append(lines, fmt.Sprintf("%s %d %d", p, info.Size(), info.ModTime().UnixNano()))
		}
		return nil
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

var goroutineRe = regexp.MustCompile(`(?m)^goroutine \d+ `)

// goroutines makes the server dump its goroutines (SIGQUIT, GOTRACEBACK=all) and counts
// them. The server exits.
func (s *server) goroutines() (int, error) {
	if err := s.cmd.Process.Signal(syscall.SIGQUIT); err != nil {
		return 0, err
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- s.cmd.Wait() }()
	select {
	case <-waitErr:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		return 0, fmt.Errorf("no exit after SIGQUIT")
	}
	data, err := os.ReadFile(s.stderr.Name())
	if err != nil {
		return 0, err
	}
	return len(goroutineRe.FindAll(data, -1)), nil
}

func run() int {
	start := time.Now()
	rng := rand.New(rand.NewSource(*flagSeed))
	ws, progs, err := workspace(*flagRepo)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stress:", err)
		return 2
	}
	defer os.RemoveAll(ws)
	names := make([]string, 0, len(progs))
	for n := range progs {
		names = append(names, n)
	}
	sort.Strings(names)
	before := snapshot(ws)
	fmt.Printf("stress: seed %d, %d programs, at most %d edits or %v, request bound %v, workspace %s\n", *flagSeed, len(names), *flagEdits, *flagTime, *flagBound, ws)

	logFile, _ := filepath.Abs(filepath.Join(*flagOut, "serve.log"))
	os.MkdirAll(*flagOut, 0o755)
	os.Remove(logFile)
	s, err := startServer("serve", logFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stress:", err)
		return 2
	}
	if err := initialize(s, ws); err != nil {
		fmt.Fprintln(os.Stderr, "stress:", err)
		return 1
	}
	h := &harness{s: s, rng: rng, ws: ws, programs: progs, names: names, start: start}

	var open []*docState
	ops := map[string]int{}
	deadline := start.Add(*flagTime)
	for !s.isDead() && time.Now().Before(deadline) {
		s.mu.Lock()
		edits := s.st.edits
		s.mu.Unlock()
		if edits >= *flagEdits {
			break
		}
		// A session: open a program (sometimes keep up to three open), edit, close.
		d := h.open(names[rng.Intn(len(names))])
		open = append(open, d)
		h.logf("open %s", base(d.uri))
		if rng.Intn(3) == 0 {
			h.settle(d)
		}
		for n := 10 + rng.Intn(30); n > 0 && !s.isDead() && time.Now().Before(deadline); n-- {
			op := h.edit(d)
			ops[op]++
			h.logf("%s %s v%d", op, base(d.uri), d.version)
			for k := rng.Intn(3); k > 0; k-- {
				h.randomRequest(d)
			}
			if rng.Intn(12) == 0 {
				h.malformed(d)
			}
			if rng.Intn(8) == 0 {
				h.settle(d)
			}
		}
		h.settle(d)
		for len(open) > 0 && (len(open) > 2 || rng.Intn(2) == 0) {
			i := rng.Intn(len(open))
			h.close(open[i])
			open = append(open[:i], open[i+1:]...)
		}
	}
	// The end: close everything, wait for the clearing publications and every answer.
	for _, d := range open {
		h.close(d)
	}
	allAnswered := s.waitFor(*flagBound+*flagSettle, func() bool { return len(s.pending) == 0 })
	s.waitFor(*flagSettle, func() bool {
		for uri, d := range s.docs {
			if ps := s.pubs[uri]; !d.open && (ps == nil || ps.version != -2) {
				return false
			}
		}
		return true
	})
	alive := !s.isDead()
	// Still serving after all that: a fresh document gets its diagnostics and a hover.
	if alive {
		d := h.open("seed.bpf.c")
		h.settle(d)
		id := s.request("textDocument/hover", map[string]any{"textDocument": map[string]any{"uri": d.uri}, "position": position(d.text, bytes.Index(d.text, []byte("ifindex")))})
		if !s.waitFor(*flagBound, func() bool { _, p := s.pending[id]; return !p }) {
			alive = false
		}
		h.close(d)
		s.waitFor(*flagSettle, func() bool { ps := s.pubs[d.uri]; return ps != nil && ps.version == -2 })
	}
	time.Sleep(3 * time.Second) // let background work finish
	s.mu.Lock()
	st := s.st
	unanswered := len(s.pending)
	deadErr := s.deadErr
	s.mu.Unlock()
	finalRSS, peak := s.rss()
	if peak > st.peakRSS {
		st.peakRSS = peak
	}
	crashes := 0
	var crashInfo string
	var goroutines int
	if !alive || s.isDead() {
		crashes = 1
		s.cmd.Wait()
		data, _ := os.ReadFile(s.stderr.Name())
		crashInfo = fmt.Sprintf("server died (%v, %v):\n%s", deadErr, s.cmd.ProcessState, tail(data, 3000))
	} else if goroutines, err = s.goroutines(); err != nil {
		crashInfo = "goroutine count: " + err.Error()
	}
	logData, _ := os.ReadFile(logFile)
	panics := strings.Count(string(logData), "panic in")

	// Baseline goroutines: a server that opened, analysed and closed one document.
	baseline := -1
	if b, err := startServer("baseline", mustAbs(filepath.Join(*flagOut, "baseline.log"))); err == nil {
		if initialize(b, ws) == nil {
			hb := &harness{s: b, rng: rng, ws: ws, programs: progs, names: names, start: start}
			d := hb.open("seed.bpf.c")
			hb.settle(d)
			id := b.request("textDocument/hover", map[string]any{"textDocument": map[string]any{"uri": d.uri}, "position": map[string]int{"line": 1, "character": 1}})
			b.waitFor(*flagBound, func() bool { _, p := b.pending[id]; return !p })
			hb.close(d)
			b.waitFor(*flagSettle, func() bool { ps := b.pubs[d.uri]; return ps != nil && ps.version == -2 })
			time.Sleep(3 * time.Second)
			baseline, _ = b.goroutines()
		}
		b.cmd.Process.Kill()
	}
	wsWrites := 0
	if snapshot(ws) != before {
		wsWrites = 1
	}

	var opList []string
	for k, v := range ops {
		opList = append(opList, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(opList)
	fmt.Printf("operations: %s\n", strings.Join(opList, ", "))
	fmt.Printf("edits sent:            %d (documents opened %d, closed %d)\n", st.edits, st.opens, st.closes)
	fmt.Printf("requests answered:     %d of %d (%d errors, %d method-not-found); unanswered %d\n", st.answered, st.requests, st.errorsAnswered, st.unknownAnswered, unanswered)
	fmt.Printf("max latency:           %v (%s); over the %v bound: %d\n", st.maxLatency.Round(time.Millisecond), st.maxLatencyMethod, *flagBound, st.late)
	fmt.Printf("malformed frames sent: %d (%d answered with id null)\n", st.malformed, st.malformedAnswered)
	fmt.Printf("publications:          %d; max wait for the latest version %v\n", st.publications, st.maxSettle.Round(time.Millisecond))
	fmt.Printf("stale publications:    %d (of which missing for the latest version: %d)\n", st.stale, st.missing)
	for _, w := range st.staleWhy {
		fmt.Printf("  stale: %s\n", w)
	}
	fmt.Printf("peak RSS:              %d MiB (bound %d MiB); after closing everything %d MiB\n", st.peakRSS>>10, *flagRSS, finalRSS>>10)
	fmt.Printf("goroutines:            %d after closing everything; baseline %d\n", goroutines, baseline)
	fmt.Printf("recovered panics:      %d (serve.log)\n", panics)
	fmt.Printf("workspace writes:      %d\n", wsWrites)
	fmt.Printf("crashes:               %d\n", crashes)
	fmt.Printf("took:                  %v\n", time.Since(start).Round(time.Second))
	if crashInfo != "" {
		fmt.Println(crashInfo)
	}
	fail := crashes > 0 || st.stale > 0 || st.late > 0 || unanswered > 0 || !allAnswered ||
		st.peakRSS>>10 > int64(*flagRSS) || wsWrites > 0 || panics > 0 ||
		(baseline >= 0 && goroutines > baseline+3)
	if fail {
		fmt.Println("stress: FAIL")
		return 1
	}
	fmt.Println("stress: ok")
	return 0
}

func mustAbs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
