package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestVmlinuxMatchesBpftool: with --bpftool-compat, `corels vmlinux` writes what bpftool
// wrote for the test vmlinux.h (make vmlinux), byte for byte.
func TestVmlinuxMatchesBpftool(t *testing.T) {
	root, _ := filepath.Abs("../..")
	want, err := os.ReadFile(filepath.Join(root, "testdata", "include", "vmlinux.h"))
	if err != nil {
		t.Fatalf("make vmlinux first: %v", err)
	}
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"vmlinux", "--btf", filepath.Join(root, "testdata", "include", "vmlinux.btf"), "--bpftool-compat"}, &stdout, &stderr); rc != 0 {
		t.Fatalf("exit %d: %s", rc, stderr.String())
	}
	if !bytes.Equal(stdout.Bytes(), want) {
		t.Errorf("corels vmlinux differs from bpftool's header (%d vs %d bytes)", stdout.Len(), len(want))
	}
	// "default" is the embedded kernel: its header has 6.1's task_struct.__state.
	stdout.Reset()
	stderr.Reset()
	if rc := run([]string{"vmlinux", "--btf", "default"}, &stdout, &stderr); rc != 0 {
		t.Fatalf("--btf default: exit %d: %s", rc, stderr.String())
	}
	if !bytes.Contains(stdout.Bytes(), []byte("struct task_struct {")) || !bytes.Contains(stdout.Bytes(), []byte("\tunsigned int __state;\n")) {
		t.Errorf("--btf default: no 6.1 task_struct in %d bytes", stdout.Len())
	}
	stdout.Reset()
	stderr.Reset()
	if rc := run([]string{"vmlinux", "--btf", filepath.Join(root, "go.mod")}, &stdout, &stderr); rc != 2 || stderr.Len() == 0 {
		t.Errorf("a file that is not BTF: exit %d, stderr %q", rc, stderr.String())
	}
}
