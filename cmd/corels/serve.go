package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/corels/corels/compiler"
	"github.com/corels/corels/lsp"
)

// stdio is the language server's connection: stdin and the real stdout.
type stdio struct {
	in  io.ReadCloser
	out io.WriteCloser
}

func (s stdio) Read(p []byte) (int, error)  { return s.in.Read(p) }
func (s stdio) Write(p []byte) (int, error) { return s.out.Write(p) }
func (s stdio) Close() error {
	err := s.in.Close()
	if err2 := s.out.Close(); err == nil {
		err = err2
	}
	return err
}

// runServe is `corels serve`: the language server on stdin/stdout. Nothing but protocol
// goes to stdout: os.Stdout is pointed at stderr for the life of the server, so a stray
// print anywhere cannot corrupt the stream.
func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	logFile := fs.String("log", "", "write the server log to `FILE` (default: stderr)")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	memLimit := fs.Int("memory-limit", 160, "soft memory limit in `MiB` (the GC works harder near it; 0: none; GOMEMLIMIT wins when set)")
	budget := fs.Duration("analysis-budget", 5*time.Second, "how long an analysis runs before the file is shown partial results (the analysis goes on)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole session to `FILE` (for measuring)")
	cacheDir := fs.String("cache-dir", defaultCacheDir(), "keep the parsed headers' index in `DIR`, so a restarted server does not parse vmlinux.h again (empty: none)")
	fs.Bool("stdio", true, "serve on stdin/stdout (the default and only transport; accepted for editors that pass it)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "corels serve: unexpected arguments %q\n", fs.Args())
		return 2
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(strings.ToUpper(*level))); err != nil {
		fmt.Fprintf(stderr, "corels serve: bad --log-level %q (want debug, info, warn or error)\n", *level)
		return 2
	}
	logOut := stderr
	if *logFile != "" {
		f, err := os.OpenFile(*logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintf(stderr, "corels serve: %v\n", err)
			return 2
		}
		defer f.Close()
		logOut = f
	}
	logger := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: lvl}))

	// The live heap stays under ~60 MB (vmlinux.h indexed without a syntax tree, a target
	// kernel's BTF, the open files' results); a soft limit keeps the resident size of a
	// long-lived server near it instead of GOGC's multiple of it.
	started := func() {}
	if *memLimit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(int64(*memLimit) << 20)
		// Between cold parses the live heap is small (~12 MB with vmlinux.h indexed) and
		// each edit makes ~10 MB of garbage: at GOGC=100 nearly every edit paid for a
		// collection. The soft limit above still bounds the resident size; with it set, a
		// preamble build leaves its garbage to the limit (compiler.pilingGarbage).
		// Until the first file is analysed, though, the heap is being mapped, and each
		// new 4 KB page costs a fault (~12 µs on a virtual machine): at GOGC=400 a start
		// from the disk cache grew the heap to ~90 MB with ~19,000 faults, at GOGC=100 to
		// ~60 MB with ~12,600, and answered 60 ms sooner (the profiler: 0.32-0.41 s ->
		// 0.25-0.33 s).
		if os.Getenv("GOGC") == "" {
			compiler.SetGCPercent(100)
			started = func() { compiler.SetGCPercent(400) }
		}
	}

	out := os.Stdout
	if w, ok := stdout.(*os.File); ok {
		out = w
	}
	os.Stdout = os.Stderr
	defer func() { os.Stdout = out }()

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "corels serve: %v\n", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "corels serve: %v\n", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger.Info("corels serve", "version", lsp.Version, "pid", os.Getpid(), "memoryLimitMiB", debug.SetMemoryLimit(-1)>>20, "cacheDir", *cacheDir)
	front := compiler.NewCacheWith(compiler.CacheOptions{Dir: *cacheDir, Log: logger.Info})
	err := lsp.Serve(ctx, stdio{in: os.Stdin, out: out}, lsp.Options{Logger: logger, AnalysisBudget: *budget, FrontEnd: front, Started: started})
	// An index being written when the editor stops the server is what its next start needs.
	front.Flush()
	switch {
	case err == nil:
		return 0
	case errors.Is(err, lsp.ErrExitWithoutShutdown):
		logger.Warn("exit without shutdown")
		return 1
	default:
		logger.Error("server stopped", "err", err)
		return 1
	}
}

// defaultCacheDir is where `corels serve` keeps its preamble indexes: $XDG_CACHE_HOME/corels,
// else $HOME/.cache/corels; "" (no disk cache) when neither is set.
func defaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "corels")
}
