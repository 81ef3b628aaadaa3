package compiler

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args []string
		want Flags
		err  bool
	}{
		{args: []string{"-I", "inc", "-Iinc2", "-isystem", "/sys", "-DX", "-DY=2", "-UZ", "-include", "pre.h", "-target", "bpf", "-std=gnu11", "-O2", "-g", "-c", "x.c", "-o", "x.o"},
			want: Flags{IncludeDirs: []string{"/d/inc", "/d/inc2"}, SysDirs: []string{"/sys"},
				Macros:   []Macro{{Name: "X", Value: "1"}, {Name: "Y", Value: "2"}, {Name: "Z", Undef: true}},
				Includes: []string{"/d/pre.h"}, Target: "bpf", Std: "gnu11", Source: "command line"}},
		{args: []string{"--target=bpfel", "-iquote", "q"}, want: Flags{IncludeDirs: []string{"/d/q"}, Target: "bpfel", Source: "command line"}},
		{args: []string{"-nostdinc", "-nobuiltininc", "-nostdlibinc"}, want: Flags{NoStdInc: true, NoBuiltinInc: true, NoStdlibInc: true, Source: "command line"}},
		{args: []string{"--no-standard-includes"}, want: Flags{NoStdInc: true, Source: "command line"}},
		// -ffreestanding is __STDC_HOSTED__ 0 at its place among -D/-U; the last one wins.
		{args: []string{"-DA", "-ffreestanding", "-fhosted"}, want: Flags{Macros: []Macro{{Name: "A", Value: "1"},
			{Name: "__STDC_HOSTED__", Undef: true}, {Name: "__STDC_HOSTED__", Value: "0"},
			{Name: "__STDC_HOSTED__", Undef: true}, {Name: "__STDC_HOSTED__", Value: "1"}}, Source: "command line"}},
		{args: []string{"-target", "x86_64-linux-gnu"}, err: true},
		{args: []string{"-I"}, err: true},
	}
	for _, tt := range tests {
		got, err := ParseFlags(tt.args, "/d")
		if tt.err {
			if err == nil {
				t.Errorf("ParseFlags(%q): want an error", tt.args)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseFlags(%q): %v", tt.args, err)
			continue
		}
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("ParseFlags(%q)\n got %+v\nwant %+v", tt.args, *got, tt.want)
		}
	}
}

func TestFindFlags(t *testing.T) {
	root := t.TempDir()
	sub := filepath.Join(root, "src", "progs")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// No database anywhere above a temp dir.
	if f, err := FindFlags(filepath.Join(sub, "a.bpf.c")); err != nil || f != nil {
		t.Fatalf("no database: got %+v, %v", f, err)
	}
	write(filepath.Join(root, "compile_flags.txt"), "-Iinclude\n-DFROM_TXT\n")
	f, err := FindFlags(filepath.Join(sub, "a.bpf.c"))
	if err != nil || f == nil || f.IncludeDirs[0] != filepath.Join(root, "include") || f.Macros[0].Name != "FROM_TXT" {
		t.Fatalf("compile_flags.txt: got %+v, %v", f, err)
	}
	// A nearer compile_commands.json wins; the entry for the file is chosen.
	write(filepath.Join(root, "src", "compile_commands.json"), `[
	 {"directory": "`+sub+`", "file": "other.bpf.c", "command": "clang -target bpf -DOTHER -c other.bpf.c"},
	 {"directory": "`+sub+`", "file": "a.bpf.c", "command": "clang -target bpf '-DMSG=\"a b\"' -I ../../vmlinux -c a.bpf.c -o a.o"}
	]`)
	f, err = FindFlags(filepath.Join(sub, "a.bpf.c"))
	if err != nil || f == nil {
		t.Fatalf("compile_commands.json: %v", err)
	}
	if f.Macros[0] != (Macro{Name: "MSG", Value: `"a b"`}) || f.IncludeDirs[0] != filepath.Join(root, "vmlinux") {
		t.Fatalf("compile_commands.json: got %+v", f)
	}
	// A file without an entry takes one from its directory.
	f, err = FindFlags(filepath.Join(sub, "new.bpf.c"))
	if err != nil || f == nil || f.Macros[0].Name != "OTHER" {
		t.Fatalf("fallback entry: got %+v, %v", f, err)
	}
	write(filepath.Join(root, "src", "compile_commands.json"), `[{"directory": 1}]`)
	if _, err := FindFlags(filepath.Join(sub, "a.bpf.c")); err == nil {
		t.Fatal("malformed compile_commands.json: want an error")
	}
}

func TestRewriteNamedVariadics(t *testing.T) {
	tests := []struct{ in, want string }{
		{"#define F(a, rest...) g(a, ##rest)\n", "#define F(a, ...) g(a, ##__VA_ARGS__)\n"},
		{"#define BPF_KPROBE(name, args...) \\\nint name(args); \"args\" restless\n", "#define BPF_KPROBE(name, ...) \\\nint name(__VA_ARGS__); \"args\" restless\n"},
		{"#define G(...) h(__VA_ARGS__)\n", "#define G(...) h(__VA_ARGS__)\n"},
		{"int x; /* args... */\n", "int x; /* args... */\n"},
	}
	for _, tt := range tests {
		if got := string(rewriteNamedVariadics([]byte(tt.in))); got != tt.want {
			t.Errorf("rewrite(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

// TestNamedVariadicDefinesHeaders: on every header of testdata and of the selftests (when
// fetched), the #defines found line by line are those the expression finds in the whole.
func TestNamedVariadicDefinesHeaders(t *testing.T) {
	root := goldenRoot(t)
	n := 0
	for _, dir := range []string{filepath.Join(root, "testdata"), filepath.Join(root, "build", "selftests", "tools")} {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".h") {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, want := namedVariadicDefines(src), namedVariadicDefine.FindAllSubmatchIndex(src, -1)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %v, the expression on the whole text %v", path, got, want)
			}
			n += len(want)
			return nil
		})
	}
	if n == 0 {
		t.Error("no header defines a named variadic macro: the test checks nothing")
	}
}

// TestCompileProblems: broken input gives diagnostics with positions, never a crash.
func TestCompileProblems(t *testing.T) {
	tests := []struct {
		name, src string
		want      string // substring of the first diagnostic
		line      int
	}{
		{"missing header", "#include \"no_such_header.h\"\nint x;\n", "no_such_header.h", 1},
		{"half-typed", "struct s { int a; } __attribute__((preserve_access_index));\nint f(struct s *p) { return p->\n", "", 0},
		{"unknown member", "struct s { int a; } __attribute__((preserve_access_index));\nint f(struct s *p) { return p->b; }\n", "no member named 'b' in 'struct s'", 2},
		{"named variadic (cc/v4 regression)", "#define F(a, rest...) g(a, ##rest)\nint g(int, ...);\nint x(void) { return F(1, 2); }\n", "-", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Compile(Input{Path: filepath.Join(t.TempDir(), "p.bpf.c"), Source: []byte(tt.src), Flags: &Flags{}})
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "-" {
				if res.HasErrors() {
					t.Fatalf("want no errors, got %v", res.Diagnostics)
				}
				return
			}
			if !res.HasErrors() {
				t.Fatal("want an error diagnostic")
			}
			d := res.Diagnostics[0]
			if tt.want != "" && !strings.Contains(d.Message, tt.want) {
				t.Errorf("diagnostic %q does not mention %q", d.Message, tt.want)
			}
			if tt.line != 0 && d.Range.Start.Line != tt.line {
				t.Errorf("diagnostic at line %d, want %d", d.Range.Start.Line, tt.line)
			}
		})
	}
}
