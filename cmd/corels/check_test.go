package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	cbtf "github.com/cilium/ebpf/btf"
)

func checkPaths(t *testing.T) (root string, synth []string) {
	root, _ = filepath.Abs("../..")
	for _, k := range []string{"4.18.0-synth", "5.10.0-synth", "5.14.0-synth"} {
		synth = append(synth, "--kernel", filepath.Join(root, "testdata", "kernels", k+".btf.o"))
	}
	return root, synth
}

func runArgs(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestCheckCommand(t *testing.T) {
	root, synth := checkPaths(t)
	unwrapped := filepath.Join(root, "testdata", "seed_unwrapped.bpf.c")
	unresolved := filepath.Join(root, "testdata", "analysis", "unresolved.bpf.c")
	seed := filepath.Join(root, "testdata", "seed.bpf.c")
	broken := filepath.Join(t.TempDir(), "broken.bpf.c")
	if err := os.WriteFile(broken, []byte("int f(void) { return x; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := func(extra ...string) []string { return append(append([]string{"check"}, synth...), extra...) }
	tests := []struct {
		name   string
		args   []string
		status int
		out    []string // substrings of stdout
		errOut string   // substring of stderr
	}{
		{"warnings only", args(unwrapped, "--"), 0, []string{
			unwrapped + ":30:36: warning: bpf_probe_read reads from an address computed with offsets fixed at compile time (sk_buff.dev, pt_regs.arg1",
			"[probe-read-not-relocatable]\n",
			unwrapped + ":31:44: warning:",
		}, ""},
		{"errors", args(unresolved, "--"), 1, []string{
			unresolved + ":36:28: error: CO-RE byte_off task_struct 0:3 (task_struct.no_such_field) does not resolve on 4.18.0-synth, 5.10.0-synth, 5.14.0-synth",
			unresolved + ":35:35: warning: task_struct.thread_pid is missing on 4.18.0-synth and read without a bpf_core_field_exists() guard",
		}, ""},
		{"relocs", args("--relocs", unresolved, "--"), 1, []string{
			"hint: CO-RE byte_off task_struct 0:0 → pid, offset 0, 4 bytes [core-reloc]",
		}, ""},
		{"does not compile", args(broken, "--"), 1, []string{broken + ":1:22: error: undefined: x [parse-error]"}, ""},
		{"no files", []string{"check"}, 2, nil, "no input files"},
		{"bad format", args("--format", "xml", unwrapped), 2, nil, "unknown format"},
		{"bad kernel", []string{"check", "--kernel", "/nonexistent.btf", unwrapped}, 2, nil, "nonexistent.btf"},
		{"the embedded kernel by name", []string{"check", "--kernel", "default", seed, "--"}, 1, []string{
			seed + ":31:63: error: CO-RE byte_off pt_regs 0:0 (pt_regs.arg1) does not resolve on 6.1.0-56-amd64:",
		}, ""},
		{"default among files", args("--kernel", "default", seed, "--"), 1, []string{
			"does not resolve on 4.18.0-synth, 5.10.0-synth, 5.14.0-synth, 6.1.0-56-amd64:",
		}, ""},
		{"unreadable", args("/nonexistent/x.bpf.c", "--"), 2, nil, "no such file"},
		{"bad flag", args("--frobnicate", unwrapped), 2, nil, "frobnicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runArgs(tt.args...)
			if code != tt.status {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.status, stdout, stderr)
			}
			for _, w := range tt.out {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			if !strings.Contains(stderr, tt.errOut) {
				t.Errorf("stderr %q lacks %q", stderr, tt.errOut)
			}
		})
	}
	// Without --relocs no hints; every line has the compiler's shape.
	_, stdout, _ := runArgs(args(unresolved, "--")...)
	line := regexp.MustCompile(`^\S+:\d+:\d+: (error|warning|info|hint): .+ \[[a-z-]+\]$`)
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if !line.MatchString(l) || strings.Contains(l, "[core-reloc]") {
			t.Errorf("line %q", l)
		}
	}
}

// TestCheckJSON pins the JSON shape other tools read.
func TestCheckJSON(t *testing.T) {
	root, synth := checkPaths(t)
	file := filepath.Join(root, "testdata", "seed_unwrapped.bpf.c")
	code, stdout, stderr := runArgs(append(append([]string{"check", "--format", "json"}, synth...), file, "--")...)
	if code != 0 {
		t.Fatal(stderr)
	}
	var findings []map[string]any
	if err := json.Unmarshal([]byte(stdout), &findings); err != nil {
		t.Fatal(err)
	}
	if len(findings) != 2 {
		t.Fatalf("%d findings: %s", len(findings), stdout)
	}
	for _, k := range []string{"file", "line", "col", "end_line", "end_col", "severity", "code", "message", "fixes"} {
		if _, ok := findings[0][k]; !ok {
			t.Errorf("finding lacks %q: %v", k, findings[0])
		}
	}
	fixes := findings[0]["fixes"].([]any)
	if len(fixes) != 2 {
		t.Fatalf("fixes: %v", fixes)
	}
	fix := fixes[0].(map[string]any)
	edit := fix["edits"].([]any)[0].(map[string]any)
	for _, k := range []string{"line", "col", "end_line", "end_col", "new_text"} {
		if _, ok := edit[k]; !ok {
			t.Errorf("edit lacks %q: %v", k, edit)
		}
	}
	if fix["title"] != "Wrap the source in __builtin_preserve_access_index()" ||
		edit["new_text"] != "__builtin_preserve_access_index(&((struct sk_buff *)ctx->arg1)->dev)" ||
		edit["line"] != 30.0 || edit["col"] != 36.0 || edit["end_col"] != 71.0 {
		t.Errorf("first fix: %v", fix)
	}
	// No findings: an empty array, not null.
	_, stdout, _ = runArgs(append(append([]string{"check", "--format", "json"}, synth...), filepath.Join(root, "testdata", "analysis", "probe_read_noinclude.bpf.c"))...)
	if strings.TrimSpace(stdout) == "null" {
		t.Error("null instead of an array")
	}
}

func TestCheckSARIF(t *testing.T) {
	root, synth := checkPaths(t)
	file := filepath.Join(root, "testdata", "analysis", "unresolved.bpf.c")
	code, stdout, stderr := runArgs(append(append([]string{"check", "--format", "sarif"}, synth...), file, "--")...)
	if code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID string `json:"id"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Message   struct {
					Text string `json:"text"`
				} `json:"message"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine, StartColumn, EndLine, EndColumn int
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
				Fixes []struct {
					Description struct {
						Text string `json:"text"`
					} `json:"description"`
					ArtifactChanges []struct {
						Replacements []struct {
							InsertedContent struct {
								Text string `json:"text"`
							} `json:"insertedContent"`
						} `json:"replacements"`
					} `json:"artifactChanges"`
				} `json:"fixes"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(stdout), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || log.Runs[0].Tool.Driver.Name != "corels" {
		t.Fatalf("%s", stdout)
	}
	run := log.Runs[0]
	levels := map[string]int{}
	for _, r := range run.Results {
		levels[r.RuleID+"/"+r.Level]++
		if run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("ruleIndex %d is not %s", r.RuleIndex, r.RuleID)
		}
		loc := r.Locations[0].PhysicalLocation
		if loc.ArtifactLocation.URI != filepath.ToSlash(file) || loc.Region.StartLine < 30 || loc.Region.StartColumn < 1 {
			t.Errorf("location %+v", loc)
		}
	}
	want := map[string]int{"core-unresolved/error": 1, "core-unresolved/warning": 2, "core-field-missing-unguarded/warning": 2}
	if len(levels) != len(want) {
		t.Errorf("results %v, want %v", levels, want)
	}
	for k, n := range want {
		if levels[k] != n {
			t.Errorf("results %v, want %v", levels, want)
		}
	}
	fixed := false
	for _, r := range run.Results {
		for _, f := range r.Fixes {
			if strings.Contains(f.Description.Text, "bpf_core_field_exists") && strings.Contains(f.ArtifactChanges[0].Replacements[0].InsertedContent.Text, "return 0;") {
				fixed = true
			}
		}
	}
	if !fixed {
		t.Error("no guard fix in SARIF")
	}
}

var corelocString = regexp.MustCompile(`^CORERelocation\(([a-z_0-9]+), (.*)\[([0-9:]*)\], local_id=(\d+)\)$`)

// objectRelocs lists the CO-RE relocations of a BPF object: "kind type access".
func objectRelocs(t *testing.T, obj string) []string {
	t.Helper()
	coll, err := ebpf.LoadCollectionSpec(obj)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, prog := range coll.Programs {
		for i := range prog.Instructions {
			relo := cbtf.CORERelocationMetadata(&prog.Instructions[i])
			if relo == nil {
				continue
			}
			m := corelocString.FindStringSubmatch(relo.String())
			if m == nil {
				t.Fatalf("cannot parse %q", relo.String())
			}
			name := m[2]
			if _, q, ok := strings.Cut(m[2], ":"); ok {
				name = strings.Trim(q, `"`)
			}
			out = append(out, m[1]+" "+name+" "+m[3])
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// TestCheckFixSeed: `corels check --fix` on the seed without _() wraps both reads; the
// file then compiles with clang-16 and its object carries the three relocations of the
// original seed.
func TestCheckFixSeed(t *testing.T) {
	root, synth := checkPaths(t)
	src, err := os.ReadFile(filepath.Join(root, "testdata", "seed_unwrapped.bpf.c"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "seed_unwrapped.bpf.c")
	if err := os.WriteFile(file, src, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runArgs(append(append([]string{"check", "--fix"}, synth...), file, "--")...)
	// The relocations now exist, and the seed's local types are not in the synthetic
	// kernels (nor is pt_regs.arg1 in any kernel): errors, as there should be.
	if code != 1 || strings.Contains(stdout, "probe-read-not-relocatable") || !strings.Contains(stderr, "applied 2 fixes") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	fixed, _ := os.ReadFile(file)
	for _, w := range []string{
		"bpf_probe_read(&dev, sizeof(dev), __builtin_preserve_access_index(&((struct sk_buff *)ctx->arg1)->dev));",
		"bpf_probe_read(&ifindex, sizeof(ifindex), __builtin_preserve_access_index(&dev->ifindex));",
	} {
		if !strings.Contains(string(fixed), w) {
			t.Errorf("fixed file lacks %q:\n%s", w, fixed)
		}
	}
	// A second run has nothing left to fix.
	if _, _, stderr := runArgs(append(append([]string{"check", "--fix"}, synth...), file, "--")...); strings.Contains(stderr, "applied") {
		t.Errorf("second --fix applied more: %s", stderr)
	}
	clang, err := exec.LookPath("clang-16")
	if err != nil {
		t.Skip("clang-16 is not installed")
	}
	obj := filepath.Join(t.TempDir(), "seed.o")
	if out, err := exec.Command(clang, "-target", "bpf", "-O2", "-g", "-c", file, "-o", obj).CombinedOutput(); err != nil {
		t.Fatalf("clang-16: %v\n%s", err, out)
	}
	want := []string{"byte_off net_device 0:1", "byte_off pt_regs 0:0", "byte_off sk_buff 0:1"}
	if got := objectRelocs(t, obj); !slices.Equal(got, want) {
		t.Errorf("object relocations %v, want %v", got, want)
	}
}

// TestCheckFixDirectReads: --fix rewrites direct reads to BPF_CORE_READ; the file then
// has no finding left and compiles with clang-16.
func TestCheckFixDirectReads(t *testing.T) {
	root, _ := checkPaths(t)
	dir := t.TempDir()
	for _, f := range []string{"direct_read.bpf.c", "synth.h"} {
		data, err := os.ReadFile(filepath.Join(root, "testdata", "analysis", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "direct_read.bpf.c")
	synth := []string{"--kernel", filepath.Join(root, "testdata", "kernels", "5.14.0-synth.btf.o")}
	code, stdout, stderr := runArgs(append(append([]string{"check", "--fix"}, synth...), file, "--")...)
	if strings.Contains(stdout, "direct-kernel-read") || !strings.Contains(stderr, "applied 6 fixes") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	fixed, _ := os.ReadFile(file)
	for _, w := range []string{"int ppid = BPF_CORE_READ(task, real_parent, pid);", "unsigned int io = BPF_CORE_READ_BITFIELD_PROBED(task, in_iowait);"} {
		if !strings.Contains(string(fixed), w) {
			t.Errorf("fixed file lacks %q", w)
		}
	}
	if clang, err := exec.LookPath("clang-16"); err == nil {
		if out, err := exec.Command(clang, "-target", "bpf", "-O2", "-g", "-c", file, "-o", filepath.Join(dir, "x.o")).CombinedOutput(); err != nil {
			t.Fatalf("clang-16: %v\n%s", err, out)
		}
	}
}
