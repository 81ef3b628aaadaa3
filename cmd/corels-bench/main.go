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
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/corels/corels/compiler"
)

func main() {
	file := flag.String("file", "testdata/lsm.bpf.c", "a CO-RE program that includes vmlinux.h")
	include := flag.String("I", "testdata/include", "directory holding vmlinux.h")
	edits := flag.Int("edits", 200, "number of successive edits")
	servers := flag.String("servers", "", "comma-separated language server commands to compare, e.g. \"bin/corels serve,clangd-16\"")
	rssFiles := flag.Int("rss-files", 0, "internal: compile this many corpus files and print peak RSS")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the in-process edits to this file")
	gcPercent := flag.Int("gcpercent", 400, "GOGC (runtime/debug.SetGCPercent), as corels serve sets it")
	memLimit := flag.Int("memlimit", 256, "soft memory limit in MiB (runtime/debug.SetMemoryLimit), as corels serve sets it; 0: none")
	flag.Parse()
	if *memLimit > 0 {
		debug.SetMemoryLimit(int64(*memLimit) << 20)
	}
	debug.SetGCPercent(*gcPercent)

	incl, err := filepath.Abs(*include)
	check(err)
	flags, err := compiler.ParseFlags([]string{"-D__TARGET_ARCH_x86", "-I", incl}, "")
	check(err)

	if *rssFiles > 0 {
		rssRun(*rssFiles, flags)
		return
	}
	src, err := os.ReadFile(*file)
	check(err)
	path, err := filepath.Abs(*file)
	check(err)
	script := editScript(string(src), *edits)

	fmt.Printf("corels-bench: %s, %d edits, %d bytes, with %s/vmlinux.h\n\n", *file, len(script), len(src), incl)

	// In process: cold, then the edit script.
	cache := compiler.NewCache()
	start := time.Now()
	res, err := cache.Compile(context.Background(), compiler.Input{Path: path, Source: src, Flags: flags})
	check(err)
	cold := time.Since(start)
	full := time.Now()
	_, err = compiler.Compile(compiler.Input{Path: path, Source: src, Flags: flags})
	check(err)
	fullTime := time.Since(full)
	var lat []time.Duration
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		check(err)
		check(pprof.StartCPUProfile(pf))
	}
	for _, text := range script {
		t := time.Now()
		_, err := cache.Compile(context.Background(), compiler.Input{Path: path, Source: []byte(text), Flags: flags})
		check(err)
		lat = append(lat, time.Since(t))
	}
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	st := cache.Stats()
	fmt.Printf("corels (in process, compiler.Cache)\n")
	fmt.Printf("  cold first analysis: %v (%d relocations); one full parse without the cache: %v\n", ms(cold), len(res.Relocations), ms(fullTime))
	printPercentiles("  edit", lat)
	fmt.Printf("  cache: %d pruned, %d full, %d retries, %d fallbacks, %d preamble builds\n", st.Pruned, st.Full, st.Retries, st.Fallbacks, st.Builds)
	for _, n := range []int{1, 10} {
		out, err := exec.Command(os.Args[0], "-rss-files", strconv.Itoa(n), "-I", incl, "-memlimit", strconv.Itoa(*memLimit), "-gcpercent", strconv.Itoa(*gcPercent)).Output()
		if err != nil {
			fmt.Printf("  peak RSS with %d open files: %v\n", n, err)
			continue
		}
		fmt.Printf("  peak RSS with %2d open files: %s", n, out)
	}
	fmt.Println()

	results := map[string]time.Duration{"corels (in process)": percentile(lat, 50)}
	if *servers != "" {
		for _, cmd := range strings.Split(*servers, ",") {
			cmd = strings.TrimSpace(cmd)
			r, err := benchServer(cmd, path, src, script, incl)
			if err != nil {
				fmt.Printf("%s: %v\n\n", cmd, err)
				continue
			}
			fmt.Printf("%s (edit → publishDiagnostics for that version)\n", cmd)
			fmt.Printf("  open → first diagnostics: %v\n", ms(r.first))
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

// editScript returns the file's text after each of n successive edits to the body of its
// last function: a statement inserted and deleted, a member access added, a half-typed
// member access (the mid-token state an editor sends on every keystroke), and back.
func editScript(src string, n int) []string {
	at := strings.LastIndex(src, "return 0;")
	if at < 0 {
		at = strings.LastIndex(src, "}")
	}
	before, after := src[:at], src[at:]
	variants := []string{
		"bpf_printk(\"edit\");\n\t",
		"",
		"{ struct task_struct *t_ = (void *)bpf_get_current_task(); bpf_printk(\"%d\", BPF_CORE_READ(t_, tgid)); }\n\t",
		"{ struct task_struct *t_ = (void *)bpf_get_current_task(); bpf_printk(\"%d\", t_->tg",
		"{ struct task_struct *t_ = (void *)bpf_get_current_task(); bpf_printk(\"%d\", t_->tgid); }\n\t",
		"",
	}
	out := make([]string, n)
	for i := range out {
		out[i] = before + variants[i%len(variants)] + after
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
		for _, text := range editScript(string(src), 5) {
			if _, err := cache.Compile(context.Background(), compiler.Input{Path: p, Source: []byte(text), Flags: flags}); err != nil {
				check(err)
			}
		}
	}
	fmt.Printf("%s (%d preamble builds)\n", peakRSS(), cache.Stats().Builds)
}

func peakRSS() string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.Fields(v)[0])
			return fmt.Sprintf("%d MB", kb/1024)
		}
	}
	return "unknown"
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "corels-bench:", err)
		os.Exit(2)
	}
}

// compileCommands writes the database clangd (and corels) read for the bench file.
func compileCommands(dir, file, incl string) error {
	db := []map[string]any{{
		"directory": dir,
		"file":      file,
		"arguments": []string{"clang", "-target", "bpf", "-O2", "-g", "-D__TARGET_ARCH_x86", "-I", incl, "-c", file},
	}}
	data, err := json.Marshal(db)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "compile_commands.json"), data, 0o644)
}
