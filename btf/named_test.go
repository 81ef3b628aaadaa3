package btf

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKernelArgs: "default" names the embedded kernel among files and directories, in
// its place, once; a path spelled otherwise is a path, even to a file called default.
func TestKernelArgs(t *testing.T) {
	kdir := filepath.Join(repoRoot(), "testdata", "kernels")
	synth := func(name string) string { return filepath.Join(kdir, name+".btf.o") }
	dir := t.TempDir()
	one := filepath.Join(dir, "one")
	if err := os.Mkdir(one, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(synth("5.14.0-synth"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(one, "5.14.0-synth.btf"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	// A file named default: reached only by a path that is not the bare word.
	if err := os.WriteFile(filepath.Join(dir, "default"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		args    []string
		want    []string // kernel names, in order
		sources []string
		errs    int
	}{
		{"default alone", []string{"default"}, []string{"6.1.0-56-amd64"}, []string{SourceEmbedded}, 0},
		{"spaces around it", []string{" default "}, []string{"6.1.0-56-amd64"}, []string{SourceEmbedded}, 0},
		{"in its place", []string{synth("4.18.0-synth"), "default", synth("5.10.0-synth")},
			[]string{"4.18.0-synth", "6.1.0-56-amd64", "5.10.0-synth"}, []string{SourceFile, SourceEmbedded, SourceFile}, 0},
		{"once", []string{"default", synth("4.18.0-synth"), "default", synth("4.18.0-synth")},
			[]string{"6.1.0-56-amd64", "4.18.0-synth"}, []string{SourceEmbedded, SourceFile}, 0},
		{"with a directory", []string{one, "default"}, []string{"5.14.0-synth", "6.1.0-56-amd64"}, []string{SourceFile, SourceEmbedded}, 0},
		{"a file called default", []string{filepath.Join(dir, "default")}, []string{"default"}, []string{SourceFile}, 0},
		{"a missing file does not stop the others", []string{filepath.Join(dir, "nope.btf"), "default"},
			[]string{"6.1.0-56-amd64"}, []string{SourceEmbedded}, 1},
		{"Default is not the word", []string{"Default"}, nil, nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ks, errs := SharedCache().LoadKernelArgs(tc.args)
			var names, sources []string
			for _, k := range ks {
				names = append(names, k.Name)
				sources = append(sources, k.Source())
			}
			if strings.Join(names, ",") != strings.Join(tc.want, ",") || strings.Join(sources, ",") != strings.Join(tc.sources, ",") {
				t.Errorf("kernels %v from %v, want %v from %v", names, sources, tc.want, tc.sources)
			}
			if len(errs) != tc.errs {
				t.Errorf("errors: %v, want %d", errs, tc.errs)
			}
			for _, err := range errs {
				var le *LoadError
				if !errors.As(err, &le) {
					t.Errorf("error %v is not a LoadError", err)
				}
			}
		})
	}
	if _, err := os.Stat(SysfsVmlinux); err == nil {
		k, err := SharedCache().Load(SysfsVmlinux)
		if err != nil {
			t.Fatal(err)
		}
		if k.Source() != SourceSysfs {
			t.Errorf("%s: source %s", SysfsVmlinux, k.Source())
		}
	}
}
