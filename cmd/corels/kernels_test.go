package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/corels/corels/btf"
)

// TestKernelsCommand: `corels kernels` lists what --kernel arguments (or, without any,
// check's default) resolve to, with each kernel's release, source and type count.
func TestKernelsCommand(t *testing.T) {
	root, _ := filepath.Abs("../..")
	synth := func(name string) string { return filepath.Join(root, "testdata", "kernels", name+".btf.o") }
	dir := t.TempDir()
	data, err := os.ReadFile(synth("5.10.0-synth"))
	if err != nil {
		t.Fatal(err)
	}
	// A kernel whose file name says nothing of its release.
	noRelease := filepath.Join(dir, "target.btf")
	if err := os.WriteFile(noRelease, data, 0o644); err != nil {
		t.Fatal(err)
	}
	def, err := btf.DefaultKernel()
	if err != nil {
		t.Fatal(err)
	}
	embedded := kernelOut{Name: "6.1.0-56-amd64", Release: "6.1.0-56-amd64", Source: "embedded", Types: def.NumTypes, Path: btf.DefaultKernelPath, SHA256: def.Hash}
	if def.NumTypes < 50000 {
		t.Fatalf("the embedded kernel has %d types", def.NumTypes)
	}
	fileOut := func(name, release, path string) kernelOut {
		ks, err := btf.LoadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return kernelOut{Name: name, Release: release, Source: "file", Types: ks[0].NumTypes, Path: path, SHA256: ks[0].Hash}
	}
	// Without --kernel: this machine's kernel when it has BTF, else the embedded one.
	var noArgs []kernelOut
	if _, err := os.Stat(btf.SysfsVmlinux); err == nil {
		rel, err := os.ReadFile("/proc/sys/kernel/osrelease")
		if err != nil {
			t.Fatal(err)
		}
		k, err := btf.SharedCache().Load(btf.SysfsVmlinux)
		if err != nil {
			t.Fatal(err)
		}
		r := strings.TrimSpace(string(rel))
		noArgs = []kernelOut{{Name: r, Release: r, Source: "sysfs", Types: k.NumTypes, Path: btf.SysfsVmlinux, SHA256: k.Hash}}
	} else {
		noArgs = []kernelOut{embedded}
	}

	for _, tc := range []struct {
		name   string
		args   []string
		status int
		want   []kernelOut
		errOut string
	}{
		{"no --kernel: check's default", nil, 0, noArgs, ""},
		{"default", []string{"--kernel", "default"}, 0, []kernelOut{embedded}, ""},
		{"files and default, in order", []string{"--kernel", synth("4.18.0-synth"), "--kernel", "default", "--kernel", noRelease}, 0,
			[]kernelOut{fileOut("4.18.0-synth", "4.18.0-synth", synth("4.18.0-synth")), embedded, fileOut("target.btf", "", noRelease)}, ""},
		{"a directory", []string{"--kernel", dir}, 0, []kernelOut{fileOut("target.btf", "", noRelease)}, ""},
		{"a missing file: listed what loaded, exit 2", []string{"--kernel", filepath.Join(dir, "nope.btf"), "--kernel", "default"}, 2,
			[]kernelOut{embedded}, "nope.btf"},
		{"not BTF", []string{"--kernel", filepath.Join(root, "go.mod")}, 2, []kernelOut{}, "go.mod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runArgs(append([]string{"kernels", "--format", "json"}, tc.args...)...)
			if code != tc.status || !strings.Contains(stderr, tc.errOut) || (tc.errOut == "" && stderr != "") {
				t.Fatalf("exit %d, want %d; stderr %q, want %q", code, tc.status, stderr, tc.errOut)
			}
			var got []kernelOut
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatalf("%v: %s", err, stdout)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("kernels %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("kernel %d: %+v, want %+v", i, got[i], tc.want[i])
				}
			}
			// The text table has the same rows.
			_, text, _ := runArgs(append([]string{"kernels"}, tc.args...)...)
			lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
			if len(lines) != len(tc.want)+1 || strings.Join(strings.Fields(lines[0]), " ") != "NAME RELEASE SOURCE TYPES PATH" {
				t.Fatalf("text:\n%s", text)
			}
			for i, k := range tc.want {
				rel := k.Release
				if rel == "" {
					rel = "-"
				}
				if got, want := strings.Fields(lines[i+1]), []string{k.Name, rel, k.Source, strconv.Itoa(k.Types), k.Path}; strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("row %d: %q, want %q", i, got, want)
				}
			}
		})
	}
	for _, args := range [][]string{{"--format", "yaml"}, {"extra"}, {"--frobnicate"}} {
		if code, _, stderr := runArgs(append([]string{"kernels"}, args...)...); code != 2 || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
}
