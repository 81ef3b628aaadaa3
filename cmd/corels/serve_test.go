package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestServeChild is the server process of TestServeStdio (the test binary re-executed).
func TestServeChild(t *testing.T) {
	if os.Getenv("CORELS_SERVE_CHILD") == "" {
		t.Skip("run by TestServeStdio")
	}
	os.Exit(run(strings.Fields(os.Getenv("CORELS_SERVE_CHILD")), os.Stdout, os.Stderr))
}

// `corels serve` speaks LSP on stdio — nothing but protocol frames on stdout — logs to
// --log, and exits 0 after shutdown and exit. It keeps the headers' index in
// $XDG_CACHE_HOME/corels unless --cache-dir says otherwise (never in the real home here).
func TestServeStdio(t *testing.T) {
	tests := []struct {
		name     string
		args     string
		cacheDir string // relative to $XDG_CACHE_HOME; "": none is written
	}{
		{"default cache directory", "", "corels"},
		{"cache directory given", "--cache-dir %s/elsewhere", "elsewhere"},
		{"no cache", "--cache-dir=", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			xdg := t.TempDir()
			args := tt.args
			if strings.Contains(args, "%s") {
				args = fmt.Sprintf(args, xdg)
			}
			serveStdio(t, xdg, args)
			var entries []string
			filepath.WalkDir(xdg, func(path string, d os.DirEntry, err error) error {
				if err == nil && strings.HasPrefix(d.Name(), "preamble-") {
					entries = append(entries, path)
				}
				return nil
			})
			want := 0
			if tt.cacheDir != "" {
				want = 1
			}
			if len(entries) != want || want == 1 && filepath.Dir(entries[0]) != filepath.Join(xdg, tt.cacheDir) {
				t.Errorf("preamble entries %q, want %d in %s", entries, want, tt.cacheDir)
			}
		})
	}
}

func serveStdio(t *testing.T, xdg, args string) {
	logFile := filepath.Join(t.TempDir(), "serve.log")
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeChild$")
	cmd.Env = append(os.Environ(), "CORELS_SERVE_CHILD=serve --log "+logFile+" --log-level debug "+args, "XDG_CACHE_HOME="+xdg)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	send := func(v map[string]any) {
		v["jsonrpc"] = "2.0"
		body, _ := json.Marshal(v)
		fmt.Fprintf(stdin, "Content-Length: %d\r\n\r\n%s", len(body), body)
	}
	frames := make(chan map[string]any, 64)
	readErr := make(chan error, 1)
	go func() { readErr <- readFrames(stdout, frames) }()
	wait := func(what string, pred func(map[string]any) bool) map[string]any {
		t.Helper()
		timeout := time.After(60 * time.Second)
		for {
			select {
			case f, ok := <-frames:
				if !ok {
					t.Fatalf("stdout closed waiting for %s: %v", what, <-readErr)
				}
				if pred(f) {
					return f
				}
			case <-timeout:
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	// A program with a header: its preamble is what the cache keeps.
	dir := t.TempDir()
	src := filepath.Join(dir, "p.bpf.c")
	text := []byte("#include \"local.h\"\nint f(struct loc *l) { return l->b; }\n")
	if err := os.WriteFile(filepath.Join(dir, "local.h"), []byte("struct loc { int a, b; } __attribute__((preserve_access_index));\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(src, text, 0o644); err != nil {
		t.Fatal(err)
	}
	send(map[string]any{"id": 1, "method": "initialize", "params": map[string]any{"capabilities": map[string]any{}, "processId": os.Getpid()}})
	res := wait("initialize result", func(f map[string]any) bool { return f["id"] == 1.0 })
	if caps, _ := res["result"].(map[string]any)["capabilities"].(map[string]any); caps["hoverProvider"] != true {
		t.Errorf("initialize result: %v", res)
	}
	send(map[string]any{"method": "initialized", "params": map[string]any{}})
	send(map[string]any{"method": "textDocument/didOpen", "params": map[string]any{"textDocument": map[string]any{
		"uri": "file://" + src, "languageId": "c", "version": 1, "text": string(text),
	}}})
	pub := wait("diagnostics", func(f map[string]any) bool { return f["method"] == "textDocument/publishDiagnostics" })
	if p := pub["params"].(map[string]any); p["version"] != 1.0 {
		t.Errorf("publication %v", p)
	}
	send(map[string]any{"id": 2, "method": "shutdown"})
	wait("shutdown result", func(f map[string]any) bool { return f["id"] == 2.0 })
	send(map[string]any{"method": "exit"})
	stdin.Close()
	if err := <-readErr; err != nil {
		t.Errorf("stdout: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v", err)
	}
	log, _ := os.ReadFile(logFile)
	if !strings.Contains(string(log), "corels serve") || !strings.Contains(string(log), "method=initialize") || !strings.Contains(string(log), "cacheDir=") {
		t.Errorf("log file:\n%s", log)
	}
}

// readFrames parses stdout as LSP frames until EOF; anything else is an error.
func readFrames(r io.Reader, out chan<- map[string]any) error {
	defer close(out)
	br := bufio.NewReader(r)
	for {
		n := -1
		for {
			line, err := br.ReadString('\n')
			if err == io.EOF && line == "" && n < 0 {
				return nil
			}
			if err != nil {
				return fmt.Errorf("reading header: %v (%q)", err, line)
			}
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				break
			}
			k, v, ok := strings.Cut(line, ":")
			if !ok || !strings.EqualFold(k, "Content-Length") {
				return fmt.Errorf("not a protocol header on stdout: %q", line)
			}
			if n, err = strconv.Atoi(strings.TrimSpace(v)); err != nil {
				return err
			}
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(br, body); err != nil {
			return err
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return fmt.Errorf("frame is not JSON: %v: %s", err, body)
		}
		out <- m
	}
}
