package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/corels/corels/compiler"
)

func TestCoreReads(t *testing.T) {
	tests := []struct {
		src  string
		want int
	}{
		{"x = BPF_CORE_READ(t, pid);", 1},
		{"BPF_CORE_READ_INTO(&a, t, pid); BPF_CORE_READ_STR_INTO(&c, t, comm); BPF_CORE_READ (t, tgid);", 3},
		{"/* test BPF_CORE_READ_STR_INTO() */ // BPF_CORE_READ(t)\np(\"BPF_CORE_READ(\");", 0},
		{"#define R(t) BPF_CORE_READ(t, pid)\nx = MY_BPF_CORE_READ(t);", 0},
	}
	for _, tt := range tests {
		if got := coreReads(tt.src); got != tt.want {
			t.Errorf("coreReads(%q) = %d, want %d", tt.src, got, tt.want)
		}
	}
}

// TestFlagsArgs: the arguments written into compile_commands.json give back the flags.
func TestFlagsArgs(t *testing.T) {
	tests := [][]string{
		{"-target", "bpf", "-D__TARGET_ARCH_x86", "-I", "/v", "-I", "/p"},
		{"-target", "bpfel", "-DA=2", "-UB", "-I/a", "-idirafter", "/usr/include/x86_64-linux-gnu", "-include", "/c.h", "-std=gnu11", "-nostdinc", "-nobuiltininc"},
		{"-nostdlibinc", "-ffreestanding"},
	}
	for _, args := range tests {
		want, err := compiler.ParseFlags(args, "")
		if err != nil {
			t.Fatal(err)
		}
		got, err := compiler.ParseFlags(flagsArgs(want), "")
		if err != nil {
			t.Fatal(err)
		}
		if want.Target == "" {
			want.Target = "bpf"
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: flagsArgs gives %q, parsed as\n%+v\nwant\n%+v", args, flagsArgs(want), got, want)
		}
	}
}

// TestTablePrograms: without the selftests their rows are skipped with a hint; with them,
// the profiler is profiler1.c with profiler.inc.h in place of its #include, and every
// program's flags are compile_flags.txt's, absolute, plus -I its original directory.
func TestTablePrograms(t *testing.T) {
	t.Chdir("../..")
	sel := t.TempDir()
	progs, skipped, err := tablePrograms("/v", sel, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(progs) != 2 || !strings.Contains(skipped, "make selftests") {
		t.Fatalf("without selftests: %d programs, skipped %q", len(progs), skipped)
	}

	dir := filepath.Join(sel, selftestsProgs)
	files := map[string]string{
		filepath.Join(sel, "compile_flags.txt"):        "-target\nbpf\n-D__TARGET_ARCH_x86\n-Ivmlinux\n-idirafter/usr/include/x86_64-linux-gnu\n",
		filepath.Join(dir, "profiler1.c"):              "#define UNROLL\n#include \"profiler.inc.h\"\n",
		filepath.Join(dir, "profiler.inc.h"):           "#include \"profiler.h\"\nint f(void)\n{\n\treturn 0;\n}\n",
		filepath.Join(dir, "test_core_reloc_kernel.c"): "int g(void)\n{\n\treturn 0;\n}\n",
	}
	for name, text := range files {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	progs, skipped, err = tablePrograms("/v", sel, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(progs) != 4 || skipped != "" {
		t.Fatalf("with selftests: %d programs, skipped %q", len(progs), skipped)
	}
	if got, want := string(progs[3].src), "#define UNROLL\n#include \"profiler.h\"\nint f(void)\n{\n\treturn 0;\n}\n"; got != want {
		t.Errorf("profiler as one file:\n%s\nwant:\n%s", got, want)
	}
	wantArgs := []string{"-target", "bpf", "-O2", "-g", "-D__TARGET_ARCH_x86=1", "-I", filepath.Join(sel, "vmlinux"),
		"-idirafter", "/usr/include/x86_64-linux-gnu", "-I", dir}
	for _, p := range progs[2:] {
		if !reflect.DeepEqual(p.args, wantArgs) {
			t.Errorf("%s: args %q, want %q", p.label, p.args, wantArgs)
		}
	}
	if got := progs[0].args[len(progs[0].args)-1]; !filepath.IsAbs(got) || filepath.Base(got) != "testdata" {
		t.Errorf("lsm.bpf.c: last -I %q, want testdata's absolute path", got)
	}
}
