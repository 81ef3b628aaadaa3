// Command corels-bench measures what a BPF developer feels: how long after an edit the
// results are there. It replays the same edit script against corels' incremental compiler
// in process, and against language servers over stdio (corels serve, clangd), and prints
// latency percentiles, the preamble cache's counters and peak memory. It prints numbers;
// it passes or fails nothing.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/corels/corels/compiler"
)

func main() {
	table := flag.Bool("table", false, "print issue 13's table: corels serve and clangd side by side on lsm.bpf.c, testdata/bench/tracer.bpf.c and two selftests (when make selftests has run), with cold starts and peak RSS")
	file := flag.String("file", "testdata/lsm.bpf.c", "a CO-RE program that includes vmlinux.h (without -table)")
	include := flag.String("I", "testdata/include", "directory holding vmlinux.h")
	edits := flag.Int("edits", 200, "number of successive edits")
	servers := flag.String("servers", "", "comma-separated language server commands to compare, e.g. \"bin/corels serve,clangd-16\" (without -table)")
	corels := flag.String("corels", "bin/corels serve", "the corels server command (-table)")
	clangd := flag.String("clangd", "clangd-16", "the clangd command (-table)")
	selftests := flag.String("selftests", "build/selftests", "`DIR` where make selftests puts the kernel's selftests (-table)")
	writeEdits := flag.String("write-edits", "", "write each table program's edited texts into `DIR` with the clang command that compiles each, and exit")
	rssFiles := flag.Int("rss-files", 0, "internal: compile this many corpus files and print peak RSS")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the in-process edits to this file (without -table)")
	flag.BoolVar(&fullSync, "full-sync", false, "send each edit to the servers as the whole document, not as the range that changed (as editors do with servers that sync incrementally, as corels and clangd do)")
	gcPercent := flag.Int("gcpercent", 400, "GOGC (runtime/debug.SetGCPercent), as corels serve sets it")
	memLimit := flag.Int("memlimit", 160, "soft memory limit in MiB (runtime/debug.SetMemoryLimit), as corels serve sets it; 0: none")
	flag.Parse()
	if *memLimit > 0 {
		debug.SetMemoryLimit(int64(*memLimit) << 20)
	}
	debug.SetGCPercent(*gcPercent)

	incl, err := filepath.Abs(*include)
	check(err)
	vmlinuxArgs := []string{"-target", "bpf", "-O2", "-g", "-D__TARGET_ARCH_x86", "-I", incl}
	flags, err := compiler.ParseFlags(vmlinuxArgs, "")
	check(err)

	switch {
	case *rssFiles > 0:
		rssRun(*rssFiles, flags)
		return
	case *writeEdits != "":
		check(writeEditedTexts(*writeEdits, incl, *selftests, *edits))
		return
	case *table:
		runTable(tableConfig{
			incl: incl, selftests: *selftests, edits: *edits, corels: *corels, clangd: *clangd,
			memLimit: *memLimit, gcPercent: *gcPercent,
		})
		return
	}

	src, err := os.ReadFile(*file)
	check(err)
	path, err := filepath.Abs(*file)
	check(err)
	script, err := editScript(string(src), *edits)
	check(err)

	fmt.Printf("corels-bench: %s, %d edits, %d bytes, with %s/vmlinux.h\n\n", *file, len(script), len(src), incl)

	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		check(err)
		check(pprof.StartCPUProfile(pf))
	}
	in, err := inProcess(path, src, flags, script)
	check(err)
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	fmt.Printf("corels (in process, compiler.Cache)\n")
	fmt.Printf("  cold first analysis: %v (%d relocations); one full parse without the cache: %v\n", ms(in.cold), in.relocs, ms(in.full))
	printPercentiles("  edit", in.lat)
	st := in.stats
	fmt.Printf("  cache: %d reused (%d with records cut down, %d without some of the file's other items), %d pruned, %d full, %d retries, %d fallbacks, %d preamble builds\n", st.Reused, st.Slim, st.Trimmed, st.Pruned, st.Full, st.Retries, st.Fallbacks, st.Builds)
	for _, line := range rssLines(incl, *memLimit, *gcPercent) {
		fmt.Println(" ", line)
	}
	fmt.Println()

	results := map[string]time.Duration{"corels (in process)": percentile(in.lat, 50)}
	if *servers != "" {
		args := slices.Concat(vmlinuxArgs, []string{"-I", filepath.Dir(path)})
		for _, cmd := range strings.Split(*servers, ",") {
			cmd = strings.TrimSpace(cmd)
			// An empty disk cache each, so that open → first diagnostics is a cold start.
			cacheHome, err := os.MkdirTemp("", "corels-bench-cache-")
			check(err)
			r, err := benchServer(serverRun{cmdline: cmd, env: []string{"XDG_CACHE_HOME=" + cacheHome}, name: filepath.Base(path), src: src, args: args, script: script})
			os.RemoveAll(cacheHome)
			if err != nil {
				fmt.Printf("%s: %v\n\n", cmd, err)
				continue
			}
			fmt.Printf("%s (edit → publishDiagnostics for that version)\n", cmd)
			fmt.Printf("  open → first diagnostics: %v; peak RSS %d MB\n", ms(r.first), r.rssKB/1024)
			printPercentiles("  edit", r.lat)
			fmt.Println()
			results[cmd] = percentile(r.lat, 50)
		}
	}
	names := make([]string, 0, len(results))
	for n := range results {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Println("p50 side by side:")
	for _, n := range names {
		fmt.Printf("  %-28s %v\n", n, ms(results[n]))
	}
}

// inProcessResult is the edit script replayed against compiler.Cache in this process.
type inProcessResult struct {
	cold, full time.Duration // first compile through a new cache; one full parse without it
	relocs     int           // relocations of the first compile
	lat        []time.Duration
	stats      compiler.CacheStats
}

func inProcess(path string, src []byte, flags *compiler.Flags, script []string) (*inProcessResult, error) {
	cache := compiler.NewCache()
	r := &inProcessResult{}
	start := time.Now()
	res, err := cache.Compile(context.Background(), compiler.Input{Path: path, Source: src, Flags: flags})
	if err != nil {
		return nil, err
	}
	r.cold = time.Since(start)
	r.relocs = len(res.Relocations)
	start = time.Now()
	if _, err := compiler.Compile(compiler.Input{Path: path, Source: src, Flags: flags}); err != nil {
		return nil, err
	}
	r.full = time.Since(start)
	for _, text := range script {
		t := time.Now()
		if _, err := cache.Compile(context.Background(), compiler.Input{Path: path, Source: []byte(text), Flags: flags}); err != nil {
			return nil, err
		}
		r.lat = append(r.lat, time.Since(t))
	}
	r.stats = cache.Stats()
	return r, nil
}

// rssLines runs this program again with -rss-files, so each figure is a fresh process's.
func rssLines(incl string, memLimit, gcPercent int) []string {
	var out []string
	for _, n := range []int{1, 10} {
		res, err := exec.Command(os.Args[0], "-rss-files", strconv.Itoa(n), "-I", incl, "-memlimit", strconv.Itoa(memLimit), "-gcpercent", strconv.Itoa(gcPercent)).Output()
		if err != nil {
			out = append(out, fmt.Sprintf("peak RSS with %2d open files: %v", n, err))
			continue
		}
		out = append(out, fmt.Sprintf("peak RSS with %2d open files: %s", n, strings.TrimSpace(string(res))))
	}
	return out
}

func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return s[i]
}

func printPercentiles(label string, d []time.Duration) {
	fmt.Printf("%s: p50 %v  p90 %v  p99 %v  max %v  (n=%d)\n", label,
		ms(percentile(d, 50)), ms(percentile(d, 90)), ms(percentile(d, 99)), ms(percentile(d, 100)), len(d))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// rssRun compiles n corpus programs (cold, then a few edits each), all kept open in one
// cache as a server would, and prints the process's peak RSS.
func rssRun(n int, flags *compiler.Flags) {
	files, _ := filepath.Glob("testdata/*.bpf.c")
	var picked []string
	for _, f := range files {
		if data, err := os.ReadFile(f); err == nil && strings.Contains(string(data), "vmlinux.h") && len(picked) < n {
			picked = append(picked, f)
		}
	}
	cache := compiler.NewCache()
	for _, f := range picked {
		src, _ := os.ReadFile(f)
		p, _ := filepath.Abs(f)
		script, err := editScript(string(src), 5)
		check(err)
		for _, text := range script {
			if _, err := cache.Compile(context.Background(), compiler.Input{Path: p, Source: []byte(text), Flags: flags}); err != nil {
				check(err)
			}
		}
	}
	fmt.Printf("%s, %d preamble builds\n", peakRSS(), cache.Stats().Builds)
}

func peakRSS() string {
	kb, err := peakRSSKB(os.Getpid())
	if err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%d MB", kb/1024)
}

// peakRSSKB is a process's peak resident set size (VmHWM) in kB.
func peakRSSKB(pid int) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			if fields := strings.Fields(v); len(fields) > 0 {
				return strconv.Atoi(fields[0])
			}
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "corels-bench:", err)
		os.Exit(2)
	}
}

// compileCommands writes the database clangd (and corels) read for the file: clang, args,
// -c file.
func compileCommands(dir, file string, args []string) error {
	db := []map[string]any{{
		"directory": dir,
		"file":      file,
		"arguments": append(append([]string{"clang"}, args...), "-c", file),
	}}
	data, err := json.Marshal(db)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "compile_commands.json"), data, 0o644)
}
