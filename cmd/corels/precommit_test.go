package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPreCommitHook: .pre-commit-hooks.yaml runs this command as pre-commit builds it
// (`go install ./...` names the binary after cmd/corels) on *.bpf.c files, and pre-commit
// itself accepts the manifest when it is installed.
func TestPreCommitHook(t *testing.T) {
	root, _ := filepath.Abs("../..")
	manifest := filepath.Join(root, ".pre-commit-hooks.yaml")
	data, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	field := func(key string) string {
		m := regexp.MustCompile(`(?m)^\s*-?\s*` + key + `:\s*(.*?)\s*$`).FindStringSubmatch(string(data))
		if m == nil {
			t.Fatalf("no %s in %s", key, manifest)
		}
		return m[1]
	}
	if field("id") != "corels-check" || field("language") != "golang" {
		t.Errorf("hook %s, language %s", field("id"), field("language"))
	}
	entry := strings.Fields(field("entry"))
	if len(entry) != 2 || entry[0] != filepath.Base(filepath.Join(root, "cmd", "corels")) || entry[1] != "check" {
		t.Errorf("entry %q: want the corels binary's check command", entry)
	}
	files := regexp.MustCompile(field("files"))
	for name, want := range map[string]bool{
		"probe.bpf.c": true, "src/bpf/probe.bpf.c": true, "probe.c": false, "probe.bpf.h": false, "probe.bpf.c.orig": false,
	} {
		if files.MatchString(name) != want {
			t.Errorf("files %q matches %s: %v", files, name, !want)
		}
	}
	// The entry with a file, as pre-commit runs it.
	if code, _, stderr := runArgs(append(entry[1:], "--kernel", "default", filepath.Join(root, "testdata", "seed_unwrapped.bpf.c"))...); code != 0 {
		t.Errorf("%s on a file with warnings only: exit %d: %s", field("entry"), code, stderr)
	}
	pc, err := exec.LookPath("pre-commit")
	if err != nil {
		t.Log("pre-commit is not installed: the manifest is not validated by it")
		return
	}
	if out, err := exec.Command(pc, "validate-manifest", manifest).CombinedOutput(); err != nil {
		t.Errorf("pre-commit validate-manifest: %v\n%s", err, out)
	}
}
