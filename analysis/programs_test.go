package analysis

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/corels/corels/btf"
	"github.com/corels/corels/compiler"
)

// repoRoot is the repository's root directory.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// testFlags are the flags the corpus is compiled with.
func testFlags(t testing.TB) *compiler.Flags {
	t.Helper()
	f, err := compiler.ParseFlags([]string{"-D__TARGET_ARCH_x86", "-I", filepath.Join(repoRoot(), "testdata", "include")}, "")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// synthKernel loads a synthetic kernel of testdata/kernels by name ("5.14.0-synth").
func synthKernel(t testing.TB, name string) *btf.Kernel {
	t.Helper()
	k, err := btf.SharedCache().Load(filepath.Join(repoRoot(), "testdata", "kernels", name+".btf.o"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func synthKernels(t testing.TB, names ...string) []*btf.Kernel {
	var out []*btf.Kernel
	for _, n := range names {
		out = append(out, synthKernel(t, n))
	}
	return out
}

// compileText compiles src as if it were the file at path.
func compileText(t testing.TB, path string, src []byte) *compiler.Result {
	t.Helper()
	res, err := compiler.Compile(compiler.Input{Path: path, Source: src, Flags: testFlags(t)})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

var vmlinuxOnce sync.Once

func needVmlinux(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(repoRoot(), "testdata", "include", "vmlinux.h")); err != nil {
		t.Fatal("testdata/include/vmlinux.h is missing: run `make vmlinux`")
	}
}

// clangPath is clang-16 when installed.
var clangPath = sync.OnceValue(func() string {
	p, _ := exec.LookPath("clang-16")
	return p
})

// clangCompile builds src (written next to the original, so its #includes resolve) with
// the corpus's flags and returns the object's path.
func clangCompile(t *testing.T, orig string, src []byte) (string, error) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, filepath.Base(orig))
	if err := os.WriteFile(file, src, 0o644); err != nil {
		t.Fatal(err)
	}
	obj := filepath.Join(dir, "out.o")
	cmd := exec.Command(clangPath(), "-target", "bpf", "-O2", "-g", "-D__TARGET_ARCH_x86",
		"-I", filepath.Dir(orig), "-I", filepath.Join(repoRoot(), "testdata", "include"), "-c", file, "-o", obj)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%v\n%s", err, out)
	}
	return obj, nil
}

var (
	wantMarker    = regexp.MustCompile(`//\s*want:\s*(.*?)\s*$`)
	kernelsMarker = regexp.MustCompile(`(?m)^//\s*kernels:\s*(.*?)\s*$`)
)

// program is a test program of testdata/analysis with its expectations.
type program struct {
	path    string
	src     []byte
	kernels []*btf.Kernel
	want    []string // "LINE CODE", sorted
}

func loadProgram(t *testing.T, path string) program {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p := program{path: path, src: src}
	m := kernelsMarker.FindSubmatch(src)
	if m == nil {
		t.Fatalf("%s: no `// kernels:` line", path)
	}
	if names := strings.Fields(string(m[1])); len(names) > 0 && names[0] != "none" {
		p.kernels = synthKernels(t, names...)
	}
	for i, line := range strings.Split(string(src), "\n") {
		if w := wantMarker.FindStringSubmatch(line); w != nil {
			for _, code := range strings.Fields(w[1]) {
				p.want = append(p.want, fmt.Sprintf("%d %s", i+1, code))
			}
		}
	}
	sort.Strings(p.want)
	return p
}

// got lists a report's findings as "LINE CODE", core-reloc hints aside.
func got(rep *Report) []string {
	var out []string
	for _, f := range rep.Findings {
		if f.Code != CodeCoreReloc {
			out = append(out, fmt.Sprintf("%d %s", f.Range.Start.Line, f.Code))
		}
	}
	sort.Strings(out)
	return out
}

func count(rep *Report, code string) int {
	n := 0
	for _, f := range rep.Findings {
		if f.Code == code {
			n++
		}
	}
	return n
}

// TestPrograms runs every program of testdata/analysis against its kernels and compares
// the findings with the `// want:` comments. Then it applies each quick fix on its own,
// compiles and analyses again: the file must still compile (with corels and, when
// installed, clang-16) and have one finding of that code fewer.
func TestPrograms(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(repoRoot(), "testdata", "analysis", "*.bpf.c"))
	if len(files) < 7 {
		t.Fatalf("only %d programs in testdata/analysis", len(files))
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".bpf.c"), func(t *testing.T) {
			t.Parallel()
			p := loadProgram(t, path)
			rep := Analyze(compileText(t, path, p.src), p.src, Options{Kernels: p.kernels})
			if g := got(rep); !slices.Equal(g, p.want) {
				t.Errorf("findings (line code):\n got %v\nwant %v", g, p.want)
				for _, f := range rep.Findings {
					if f.Code != CodeCoreReloc {
						t.Logf("%d:%d %s %s", f.Range.Start.Line, f.Range.Start.Col, f.Code, f.Message)
					}
				}
			}
			if clangPath() != "" && !slices.Contains(p.want, "5 parse-error") {
				if _, err := clangCompile(t, path, p.src); err != nil {
					t.Fatalf("clang-16 does not compile the program: %v", err)
				}
			}
			checkFixes(t, path, p.src, rep, Options{Kernels: p.kernels})
		})
	}
}

// checkFixes applies each fix of each finding alone and checks the result.
func checkFixes(t *testing.T, path string, src []byte, rep *Report, opts Options) {
	t.Helper()
	for _, f := range rep.Findings {
		for _, fix := range f.Fixes {
			name := fmt.Sprintf("%d:%d %s: %s", f.Range.Start.Line, f.Range.Start.Col, f.Code, fix.Title)
			out, err := ApplyEdits(src, fix.Edits)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			after := Analyze(compileText(t, path, out), out, opts)
			if n := count(after, CodeParseError); n > 0 {
				t.Errorf("%s: the fixed file does not compile:\n%s\n%v", name, out, after.Findings[0].Message)
				continue
			}
			moved := mapOffset(f.Range.Start.Offset, fix.Edits)
			for _, g := range after.Findings {
				if g.Code == f.Code && g.Range.Start.Offset == moved {
					t.Errorf("%s: still reported after the fix: %s\n%s", name, g.Message, out)
				}
			}
			if before, now := count(rep, f.Code), count(after, f.Code); now >= before {
				t.Errorf("%s: %d %s findings after the fix, %d before\n%s", name, now, f.Code, before, out)
			}
			if clangPath() != "" {
				if _, err := clangCompile(t, path, out); err != nil {
					t.Errorf("%s: clang-16 does not compile the fixed file: %v\n%s", name, err, out)
				}
			}
		}
	}
}

// mapOffset is where an offset of the original text is after the edits.
func mapOffset(off int, edits []Edit) int {
	shift := 0
	for _, e := range edits {
		if e.Range.End.Offset <= off && !(e.Range.Start.Offset == off && e.Range.End.Offset > off) {
			shift += len(e.NewText) - (e.Range.End.Offset - e.Range.Start.Offset)
		}
	}
	return off + shift
}

// TestFixesOffered: the rewrites offered for the probe reads and direct reads of the test
// programs, as text.
func TestFixesOffered(t *testing.T) {
	dir := filepath.Join(repoRoot(), "testdata", "analysis")
	want := map[string][]string{
		"probe_read.bpf.c": {
			"44 Rewrite as BPF_CORE_READ_INTO(&pid, task, pid)",
			"45 Rewrite as BPF_CORE_READ_STR_INTO(&comm, task, comm)",
			"46 Rewrite as BPF_CORE_READ_INTO(&total, task, mm, total_vm)",
			"47 Rewrite as BPF_CORE_READ_INTO(&tgid, task, tgid)",
			"48 Rewrite as BPF_CORE_READ_USER_INTO(&flags, task, flags)",
			"49 Rewrite as bpf_core_read(&pid, 2, &task->pid)",
		},
		"probe_read_noinclude.bpf.c": {
			"26 Rewrite as BPF_CORE_READ_INTO(&pid, task, pid) (adds #include <bpf/bpf_core_read.h>)",
			"27 Rewrite as BPF_CORE_READ_STR_INTO(&comm, task, comm) (adds #include <bpf/bpf_core_read.h>)",
		},
		"direct_read.bpf.c": {
			"38 Rewrite as BPF_CORE_READ(t, pid)",
			"45 Rewrite as BPF_CORE_READ(task, pid)",
			"46 Rewrite as BPF_CORE_READ(task, real_parent, pid)",
			"47 Rewrite as BPF_CORE_READ(task, mm, total_vm)",
			"48 Rewrite as BPF_CORE_READ_BITFIELD_PROBED(task, in_iowait)",
			"71 Rewrite as BPF_CORE_READ((struct task_struct *)ctx->args[0], pid)",
		},
	}
	for file, titles := range want {
		p := loadProgram(t, filepath.Join(dir, file))
		rep := Analyze(compileText(t, p.path, p.src), p.src, Options{Kernels: p.kernels})
		var gotTitles []string
		for _, f := range rep.Findings {
			for _, fix := range f.Fixes {
				if strings.HasPrefix(fix.Title, "Rewrite") {
					gotTitles = append(gotTitles, fmt.Sprintf("%d %s", f.Range.Start.Line, fix.Title))
				}
			}
		}
		if !slices.Equal(gotTitles, titles) {
			t.Errorf("%s rewrites:\n got %q\nwant %q", file, gotTitles, titles)
		}
	}
}

// TestCorpus: the compiler corpus, analysed without kernels, gives exactly the findings
// of testdata/analysis/corpus.expect.
func TestCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles all 51 corpus programs with vmlinux.h")
	}
	needVmlinux(t)
	root := repoRoot()
	expect := map[string][]string{}
	anyErrors := map[string]bool{}
	f, err := os.Open(filepath.Join(root, "testdata", "analysis", "corpus.expect"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		where, code, ok := strings.Cut(line, " ")
		file, ln, ok2 := strings.Cut(where, ":")
		if !ok || !ok2 {
			t.Fatalf("corpus.expect: bad line %q", line)
		}
		if ln == "*" && code == CodeParseError {
			anyErrors[file] = true
			continue
		}
		if _, err := strconv.Atoi(ln); err != nil {
			t.Fatalf("corpus.expect: bad line %q", line)
		}
		expect[file] = append(expect[file], ln+" "+code)
	}
	files, _ := filepath.Glob(filepath.Join(root, "testdata", "*.bpf.c"))
	if len(files) < 40 {
		t.Fatalf("only %d corpus programs", len(files))
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".bpf.c"), func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			res := compileText(t, path, src)
			rep := Analyze(res, src, Options{})
			var g []string
			for _, s := range got(rep) {
				if anyErrors[name] && strings.HasSuffix(s, " "+CodeParseError) {
					continue
				}
				g = append(g, s)
			}
			want := expect[name]
			sort.Strings(want)
			if !slices.Equal(g, want) {
				t.Errorf("findings (line code):\n got %v\nwant %v", g, want)
				for _, f := range rep.Findings {
					if f.Code != CodeCoreReloc {
						t.Logf("%d:%d %s %s", f.Range.Start.Line, f.Range.Start.Col, f.Code, f.Message)
					}
				}
			}
			// Every relocation written in the file is a core-reloc hint.
			n := 0
			for _, r := range res.Relocations {
				if r.Range.Start.File == res.Path {
					n++
				}
			}
			if c := count(rep, CodeCoreReloc); c != n {
				t.Errorf("%d core-reloc hints, %d relocations in the file", c, n)
			}
		})
	}
}

// TestFlavorsCorpus: testdata/flavors.bpf.c, the __state/state idiom through a flavor and a
// static __always_inline helper, gives no finding on kernels with either layout; the same
// flavor read outside the guard does.
func TestFlavorsCorpus(t *testing.T) {
	needVmlinux(t)
	path := filepath.Join(repoRoot(), "testdata", "flavors.bpf.c")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	kernels := synthKernels(t, "4.18.0-synth", "5.10.0-synth", "5.14.0-synth")
	if def, err := btf.DefaultKernel(); err == nil {
		kernels = append(kernels, def)
	}
	rep := Analyze(compileText(t, path, src), src, Options{Kernels: kernels})
	if g := got(rep); len(g) != 0 {
		t.Errorf("flavors.bpf.c: %v", rep.Findings)
	}
	// The flavor read moved out of the guard.
	bad := strings.Replace(string(src), "\tif (bpf_core_field_exists(task->__state))\n\t\treturn BPF_CORE_READ(task, __state);\n", "", 1)
	bad = strings.Replace(bad, "int old_layout", "long outside = BPF_CORE_READ((struct task_struct___old *)task, state);\n\tint old_layout", 1)
	if bad == string(src) {
		t.Fatal("edit did not apply")
	}
	rep = Analyze(compileText(t, path, []byte(bad)), []byte(bad), Options{Kernels: kernels})
	n := 0
	for _, f := range rep.Findings {
		if f.Code == CodeFieldMissingUnguarded && strings.Contains(f.Message, "task_struct___old.state") {
			n++
			if !strings.Contains(f.Message, "5.14.0-synth") || strings.Contains(f.Message, "4.18.0-synth") {
				t.Errorf("wrong kernels: %s", f.Message)
			}
		}
	}
	if n != 2 {
		t.Errorf("flavor reads outside the guard: %d findings, want 2 (the helper's and the program's):\n%v", n, rep.Findings)
	}
}

// TestSeed: the LLVM seed example's two _() reads are fine; without _() each read is
// probe-read-not-relocatable with both fixes, and each fix makes it go away and keeps
// the file compiling (with clang-16, whose object then carries the relocations).
func TestSeed(t *testing.T) {
	root := repoRoot()
	path := filepath.Join(root, "testdata", "seed.bpf.c")
	src, _ := os.ReadFile(path)
	rep := Analyze(compileText(t, path, src), src, Options{})
	if g := got(rep); len(g) != 0 {
		t.Errorf("seed.bpf.c: %v", rep.Findings)
	}
	if c := count(rep, CodeCoreReloc); c != 3 {
		t.Errorf("seed.bpf.c: %d core-reloc hints, want 3", c)
	}
	// On a real kernel, sk_buff.dev and net_device.ifindex resolve; the seed's made-up
	// pt_regs.arg1 does not (there is no such member in any kernel).
	if def, err := btf.DefaultKernel(); err == nil {
		rep := Analyze(compileText(t, path, src), src, Options{Kernels: []*btf.Kernel{def}})
		if g := got(rep); !slices.Equal(g, []string{"31 core-unresolved"}) || !strings.Contains(rep.Findings[0].Message+rep.Findings[1].Message, "pt_regs.arg1") {
			t.Errorf("seed.bpf.c on %s: %v", def.Name, rep.Findings)
		}
	}

	path = filepath.Join(root, "testdata", "seed_unwrapped.bpf.c")
	src, _ = os.ReadFile(path)
	rep = Analyze(compileText(t, path, src), src, Options{})
	if g := got(rep); !slices.Equal(g, []string{"30 " + CodeProbeReadNotReloc, "31 " + CodeProbeReadNotReloc}) {
		t.Fatalf("seed_unwrapped.bpf.c: %v", g)
	}
	wantFixes := [][]string{
		{"Wrap the source in __builtin_preserve_access_index()", "Rewrite as BPF_CORE_READ_INTO(&dev, (struct sk_buff *)ctx->arg1, dev) (adds #include <bpf/bpf_core_read.h>, bpf_probe_read_kernel)"},
		{"Wrap the source in __builtin_preserve_access_index()", "Rewrite as BPF_CORE_READ_INTO(&ifindex, dev, ifindex) (adds #include <bpf/bpf_core_read.h>, bpf_probe_read_kernel)"},
	}
	for i, f := range rep.Findings {
		var titles []string
		for _, fx := range f.Fixes {
			titles = append(titles, fx.Title)
		}
		if !slices.Equal(titles, wantFixes[i]) {
			t.Errorf("finding %d fixes:\n got %q\nwant %q", i, titles, wantFixes[i])
		}
		if !strings.Contains(f.Message, "bpf_probe_read") {
			t.Errorf("message: %s", f.Message)
		}
	}
	checkFixes(t, path, src, rep, Options{})

	// Both findings' first fixes together: the seed itself, relocations and all.
	var edits []Edit
	for _, f := range rep.Findings {
		edits = append(edits, f.Fixes[0].Edits...)
	}
	out, err := ApplyEdits(src, edits)
	if err != nil {
		t.Fatal(err)
	}
	fixed := compileText(t, path, out)
	var keys []string
	for _, r := range fixed.Relocations {
		keys = append(keys, r.Key())
	}
	sort.Strings(keys)
	if want := []string{"byte_off net_device 0:1", "byte_off pt_regs 0:0", "byte_off sk_buff 0:1"}; !slices.Equal(keys, want) {
		t.Errorf("fixed seed relocations %v, want %v", keys, want)
	}
}
