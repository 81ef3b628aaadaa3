package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRelocsCommand(t *testing.T) {
	root, _ := filepath.Abs("../..")
	seed := filepath.Join(root, "testdata", "seed.bpf.c")
	broken := filepath.Join(t.TempDir(), "broken.bpf.c")
	if err := os.WriteFile(broken, []byte("int f(void) { return x; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		status int
		out    string // substring of stdout
		errOut string // substring of stderr
	}{
		{"text", []string{"relocs", seed, "--"}, 0, "byte_off sk_buff 0:1 → dev", ""},
		{"json", []string{"relocs", "--format", "json", seed, "--"}, 0, `"access": "0:1"`, ""},
		{"does not compile", []string{"relocs", broken, "--"}, 1, "", "broken.bpf.c:1:22: error:"},
		{"no files", []string{"relocs"}, 2, "", "no input files"},
		{"bad format", []string{"relocs", "--format", "xml", seed}, 2, "", "unknown format"},
		{"bad target", []string{"relocs", seed, "--", "-target", "x86_64"}, 2, "", "not a BPF target"},
		{"unreadable", []string{"relocs", "/nonexistent/x.bpf.c", "--"}, 2, "", "no such file"},
		{"unknown command", []string{"frobnicate"}, 2, "", "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if got := run(tt.args, &stdout, &stderr); got != tt.status {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", got, tt.status, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.out) {
				t.Errorf("stdout %q lacks %q", stdout.String(), tt.out)
			}
			if !strings.Contains(stderr.String(), tt.errOut) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.errOut)
			}
		})
	}
}

// TestRelocsJSONShape pins the JSON field names other tools read.
func TestRelocsJSONShape(t *testing.T) {
	root, _ := filepath.Abs("../..")
	var stdout, stderr bytes.Buffer
	if run([]string{"relocs", "--format", "json", filepath.Join(root, "testdata", "seed.bpf.c"), "--"}, &stdout, &stderr) != 0 {
		t.Fatal(stderr.String())
	}
	var relocs []map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &relocs); err != nil {
		t.Fatal(err)
	}
	if len(relocs) != 3 {
		t.Fatalf("seed: %d relocations, want 3 (pt_regs 0:0, sk_buff 0:1, net_device 0:1)", len(relocs))
	}
	for _, k := range []string{"file", "line", "col", "end_line", "end_col", "func", "section", "kind", "type", "access", "offset", "size"} {
		if _, ok := relocs[0][k]; !ok {
			t.Errorf("JSON relocation lacks %q: %v", k, relocs[0])
		}
	}
}
