package main

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/corels/corels/compiler"
)

// program is one row of the table: a file and the clang flags it is built with.
type program struct {
	label string   // the table's first column
	path  string   // the file (a generated one lives in a temporary directory under build/)
	src   []byte   // its text
	args  []string // clang flags, directories absolute, -I the program's own directory included
}

type tableConfig struct {
	incl, selftests     string // the full vmlinux.h's directory; make selftests' directory
	edits               int
	corels, clangd      string // server commands
	memLimit, gcPercent int
}

const selftestsProgs = "tools/testing/selftests/bpf/progs"

// tablePrograms are issue 13's four kinds of program. The selftests rows need `make
// selftests`; without it they are left out and skipped says why. The profiler is
// profiler1.c with its #include "profiler.inc.h" replaced by the header, written into tmp.
func tablePrograms(incl, selftests, tmp string) (progs []program, skipped string, err error) {
	vmlinux := []string{"-target", "bpf", "-O2", "-g", "-D__TARGET_ARCH_x86", "-I", incl}
	for _, p := range []struct{ label, path string }{
		{"`testdata/lsm.bpf.c`", "testdata/lsm.bpf.c"},
		{"tracing tool `testdata/bench/tracer.bpf.c`", "testdata/bench/tracer.bpf.c"},
	} {
		prog, err := readProgram(p.label, p.path, filepath.Dir(p.path), vmlinux)
		if err != nil {
			return nil, "", err
		}
		progs = append(progs, prog)
	}

	dir := filepath.Join(selftests, selftestsProgs)
	if _, err := os.Stat(filepath.Join(dir, "profiler.inc.h")); err != nil {
		return progs, fmt.Sprintf("selftests rows skipped: %s not found (`make selftests` fetches them: Debian's linux-source-6.1, 139 MB)", dir), nil
	}
	kernel := filepath.Join(dir, "test_core_reloc_kernel.c")
	args, err := selftestsArgs(kernel)
	if err != nil {
		return nil, "", err
	}
	prog, err := readProgram("selftests `test_core_reloc_kernel.c`", kernel, dir, args)
	if err != nil {
		return nil, "", err
	}
	progs = append(progs, prog)

	profiler1 := filepath.Join(dir, "profiler1.c")
	if args, err = selftestsArgs(profiler1); err != nil {
		return nil, "", err
	}
	main, err := os.ReadFile(profiler1)
	if err != nil {
		return nil, "", err
	}
	inc, err := os.ReadFile(filepath.Join(dir, "profiler.inc.h"))
	if err != nil {
		return nil, "", err
	}
	lines := strings.SplitAfter(string(main), "\n")
	at := slices.IndexFunc(lines, func(l string) bool { return strings.TrimSpace(l) == `#include "profiler.inc.h"` })
	if at < 0 {
		return nil, "", fmt.Errorf(`%s: no #include "profiler.inc.h" line`, profiler1)
	}
	lines[at] = string(inc)
	one := filepath.Join(tmp, "profiler.c")
	if err := os.WriteFile(one, []byte(strings.Join(lines, "")), 0o644); err != nil {
		return nil, "", err
	}
	if prog, err = readProgram("selftests `profiler.inc.h` as one file", one, dir, args); err != nil {
		return nil, "", err
	}
	return append(progs, prog), "", nil
}

// readProgram reads a program; its quoted includes are found through -I dir, its original
// directory, since the servers see a copy of it in a workspace of its own.
func readProgram(label, path, dir string, args []string) (program, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return program{}, err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return program{}, err
	}
	src, err := os.ReadFile(abs)
	if err != nil {
		return program{}, err
	}
	return program{label: label, path: abs, src: src, args: slices.Concat(args, []string{"-I", dir})}, nil
}

// selftestsArgs are the flags compile_flags.txt gives a selftest, as clang arguments with
// absolute directories.
func selftestsArgs(file string) ([]string, error) {
	f, err := compiler.FindFlags(file)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return nil, fmt.Errorf("%s: no compile_flags.txt above it (make selftests writes one)", file)
	}
	return flagsArgs(f), nil
}

// flagsArgs writes Flags back as clang arguments. Flags does not record whether a system
// directory came from -isystem or -idirafter; the selftests' one is -idirafter.
func flagsArgs(f *compiler.Flags) []string {
	args := []string{"-target", cmp.Or(f.Target, "bpf"), "-O2", "-g"}
	for _, m := range f.Macros {
		if m.Undef {
			args = append(args, "-U"+m.Name)
		} else {
			args = append(args, "-D"+m.Name+"="+m.Value)
		}
	}
	for _, d := range f.IncludeDirs {
		args = append(args, "-I", d)
	}
	for _, d := range f.SysDirs {
		args = append(args, "-idirafter", d)
	}
	for _, p := range f.Includes {
		args = append(args, "-include", p)
	}
	if f.Std != "" {
		args = append(args, "-std="+f.Std)
	}
	for _, b := range []struct {
		on   bool
		flag string
	}{{f.NoStdInc, "-nostdinc"}, {f.NoStdlibInc, "-nostdlibinc"}, {f.NoBuiltinInc, "-nobuiltininc"}} {
		if b.on {
			args = append(args, b.flag)
		}
	}
	return args
}

var coreReadCall = regexp.MustCompile(`\bBPF_CORE_READ\w*\s*\(`)

// coreReads counts the calls of the BPF_CORE_READ macros in src's code (not its comments).
func coreReads(src string) int {
	n := 0
	for _, m := range coreReadCall.FindAllStringIndex(src, -1) {
		if isCode(src, 0, m[0]) {
			n++
		}
	}
	return n
}

// row is one program's measurements; a nil run failed and errs says why.
type row struct {
	prog                      program
	lines, reads              int
	in                        *inProcessResult
	corels, corelsWarm, clang *serverResult
	diskCache                 string // what the first corels start left in XDG_CACHE_HOME
	errs                      []string
}

func runTable(c tableConfig) {
	loadStart := loadAvg()
	tmp, err := os.MkdirTemp("build", "bench-")
	if errors.Is(err, os.ErrNotExist) {
		check(os.MkdirAll("build", 0o755))
		tmp, err = os.MkdirTemp("build", "bench-")
	}
	check(err)
	defer os.RemoveAll(tmp)
	progs, skipped, err := tablePrograms(c.incl, c.selftests, tmp)
	check(err)

	fmt.Printf("corels-bench -table: %d edits per program, typed alternately before the last function's return and at the top of a function in the middle of the file; latency is didChange (the range that changed, or with -full-sync the whole document) → publishDiagnostics of that version\n", c.edits)
	if skipped != "" {
		fmt.Println(skipped)
	}
	fmt.Println()

	var rows []*row
	for _, p := range progs {
		rows = append(rows, measure(c, p))
	}

	fmt.Printf("| program | lines | BPF_CORE_READ | corels p50 / p99 | %s p50 / p99 | ratio | corels cold, 1st / 2nd start | %s cold | corels RSS | %s RSS |\n", c.clangd, c.clangd, c.clangd)
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		ratio := "–"
		if r.corels != nil && r.clang != nil {
			ratio = fmt.Sprintf("%.1f×", float64(percentile(r.clang.lat, 50))/float64(percentile(r.corels.lat, 50)))
		}
		cold := "–"
		if r.corels != nil && r.corelsWarm != nil {
			cold = fmt.Sprintf("%s / %s s", secs(r.corels.first), secs(r.corelsWarm.first))
		}
		fmt.Printf("| %s | %d | %d | %s | %s | %s | %s | %s | %s | %s |\n", r.prog.label, r.lines, r.reads,
			p50p99(r.corels), p50p99(r.clang), ratio, cold,
			field(r.clang, func(s *serverResult) string { return secs(s.first) + " s" }),
			field(r.corels, rss), field(r.clang, rss))
	}
	fmt.Println()
	fmt.Println("Issue 13's bar, printed and not checked: through corels serve, p50 ≤ 11 ms, p99 ≤ 40 ms, ≥ 5× clangd-16 at p50; cold ≤ 1.0 s, ≤ 0.4 s with the disk cache; RSS ≤ 200 MB.")
	fmt.Printf("cold: didOpen → first publishDiagnostics of a new server process; corels' 1st and 2nd start share a workspace and XDG_CACHE_HOME (empty, then what the 1st left). RSS: VmHWM of the server after the edits, before shutdown.\n")
	var left []string
	for _, r := range rows {
		left = append(left, filepath.Base(r.prog.path)+" "+r.diskCache)
	}
	fmt.Printf("XDG_CACHE_HOME after corels' 1st start: %s.\n", strings.Join(left, "; "))
	for _, r := range rows {
		for _, e := range r.errs {
			fmt.Printf("%s: %s\n", r.prog.label, e)
		}
	}

	fmt.Println()
	fmt.Println("In process (compiler.Cache, no protocol):")
	fmt.Println()
	fmt.Println("| program | cold | one full parse | edit p50 / p99 | reused (slim, trimmed) / pruned / full / retries / fallbacks / preamble builds |")
	fmt.Println("|---|---|---|---|---|")
	for _, r := range rows {
		if r.in == nil {
			fmt.Printf("| %s | – | – | – | – |\n", r.prog.label)
			continue
		}
		st := r.in.stats
		fmt.Printf("| %s | %s | %s | %s / %s | %d (%d, %d) / %d / %d / %d / %d / %d |\n", r.prog.label, ms(r.in.cold), ms(r.in.full),
			msNum(percentile(r.in.lat, 50)), ms(percentile(r.in.lat, 99)), st.Reused, st.Slim, st.Trimmed, st.Pruned, st.Full, st.Retries, st.Fallbacks, st.Builds)
	}
	for _, line := range rssLines(c.incl, c.memLimit, c.gcPercent) {
		fmt.Println("testdata corpus in process,", line)
	}
	fmt.Println()
	fmt.Printf("load average (/proc/loadavg): %s at start, %s at end; %d CPUs\n", loadStart, loadAvg(), runtime.NumCPU())
	fmt.Printf("command: %s\n", commandLine())
}

// measure runs one program in process, through corels serve twice (the second start on
// the disk cache the first left) and through clangd.
func measure(c tableConfig, p program) *row {
	r := &row{prog: p, lines: strings.Count(string(p.src), "\n"), reads: coreReads(string(p.src))}
	progress := func(what string) { fmt.Fprintf(os.Stderr, "  %s: %s\n", filepath.Base(p.path), what) }
	script, err := editScript(string(p.src), c.edits)
	if err != nil {
		r.errs = append(r.errs, err.Error())
		return r
	}
	flags, err := compiler.ParseFlags(p.args, "")
	if err != nil {
		r.errs = append(r.errs, err.Error())
		return r
	}
	progress("in process")
	if r.in, err = inProcess(p.path, p.src, flags, script); err != nil {
		r.errs = append(r.errs, "in process: "+err.Error())
	}

	cacheHome, err := os.MkdirTemp("", "corels-bench-cache-")
	if err != nil {
		r.errs = append(r.errs, err.Error())
		return r
	}
	defer os.RemoveAll(cacheHome)
	// Both starts in one workspace, as an editor restarted on the same project: where the
	// file is is part of what its quoted includes resolve to, so of the disk cache's key.
	ws, err := os.MkdirTemp("", "corels-bench-")
	if err != nil {
		r.errs = append(r.errs, err.Error())
		return r
	}
	defer os.RemoveAll(ws)
	run := serverRun{cmdline: c.corels, env: []string{"XDG_CACHE_HOME=" + cacheHome}, name: filepath.Base(p.path), src: p.src, args: p.args, dir: ws}
	progress(c.corels + ", first start")
	run.script = script
	if r.corels, err = benchServer(run); err != nil {
		r.errs = append(r.errs, c.corels+": "+err.Error())
	}
	r.diskCache = dirSize(cacheHome)
	progress(c.corels + ", second start")
	run.script = nil
	if r.corelsWarm, err = benchServer(run); err != nil {
		r.errs = append(r.errs, c.corels+", second start: "+err.Error())
	}
	progress(c.clangd)
	run.cmdline, run.env, run.script, run.dir = c.clangd, nil, script, ""
	if r.clang, err = benchServer(run); err != nil {
		r.errs = append(r.errs, c.clangd+": "+err.Error())
	}
	return r
}

// writeEditedTexts writes every distinct text the script gives each table program, and
// prints the clang command that compiles each: the half-typed variant is the one expected
// to fail.
func writeEditedTexts(dir, incl, selftests string, edits int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	progs, skipped, err := tablePrograms(incl, selftests, dir)
	if err != nil {
		return err
	}
	if skipped != "" {
		fmt.Println("#", skipped)
	}
	for _, p := range progs {
		script, err := editScript(string(p.src), edits)
		if err != nil {
			return err
		}
		base := strings.TrimSuffix(filepath.Base(p.path), filepath.Ext(p.path))
		seen := map[string]bool{}
		for i, text := range script {
			if seen[text] {
				continue
			}
			seen[text] = true
			name := filepath.Join(dir, fmt.Sprintf("%s.edit%03d.c", base, i))
			if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
				return err
			}
			fmt.Printf("clang-16 %s -c %s -o /dev/null\n", strings.Join(p.args, " "), name)
		}
	}
	return nil
}

// dirSize is the number of files under dir and their size.
func dirSize(dir string) string {
	files, size := 0, int64(0)
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				files++
				size += info.Size()
			}
		}
		return nil
	})
	plural := "s"
	if files == 1 {
		plural = ""
	}
	return fmt.Sprintf("%.1f MB in %d file%s", float64(size)/(1<<20), files, plural)
}

func p50p99(s *serverResult) string {
	return field(s, func(s *serverResult) string {
		return fmt.Sprintf("%s / %s", msNum(percentile(s.lat, 50)), ms(percentile(s.lat, 99)))
	})
}

func field(s *serverResult, f func(*serverResult) string) string {
	if s == nil {
		return "error"
	}
	return f(s)
}

func rss(s *serverResult) string { return fmt.Sprintf("%d MB", s.rssKB/1024) }

func msNum(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

func secs(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }

func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// commandLine is how this run was started; under go run the binary is a temporary one.
func commandLine() string {
	name := os.Args[0]
	if strings.Contains(name, "go-build") {
		name = "go run ./cmd/corels-bench"
	}
	parts := []string{name}
	for _, a := range os.Args[1:] {
		if a == "" || strings.ContainsAny(a, " \t\"'$\\") {
			a = strconv.Quote(a)
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}
