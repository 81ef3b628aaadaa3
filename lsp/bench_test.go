package lsp

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"go.lsp.dev/protocol"

	"github.com/corels/corels/compiler"
)

// BenchmarkEditLatency measures, through the real server over a pipe, the time from
// sending a didChange to receiving the publishDiagnostics for that version, on a real
// CO-RE program with the full vmlinux.h (debounce included: it is what the user waits):
//
//	go test ./lsp -run '^$' -bench EditLatency -benchtime 200x
//
// It runs with the production debounce (50ms) and without one (the analysis alone).
// Edits cycle through inserting a statement with a relocated access, a mid-token state
// (a syntax error), completing it, and deleting it again.
func BenchmarkEditLatency(b *testing.B) {
	for _, debounce := range []time.Duration{50 * time.Millisecond, -1} {
		name := "debounce=" + debounce.String()
		if debounce < 0 {
			name = "debounce=none"
		}
		b.Run(name, func(b *testing.B) { benchEdits(b, debounce) })
	}
}

func benchEdits(b *testing.B, debounce time.Duration) {
	needVmlinux(b)
	// A fresh preamble cache: the first analysis is really cold.
	e := newEnv(b, envOptions{server: Options{Logger: testLogger(b), Debounce: debounce, FrontEnd: compiler.NewCache()}, init: map[string]any{
		"compileFlags": testFlags(b), "kernels": []string{synthKernel(b, "5.14.0-synth"), synthKernel(b, "4.18.0-synth")},
	}})
	text := readTestdata(b, "kprobe_macros.bpf.c")
	u := e.open(testdata(b, "kprobe_macros.bpf.c"), text)
	start := time.Now()
	e.waitDiagnostics(0, u, 1)
	cold := time.Since(start)
	runtime.GC() // leave the cold parse's garbage (and earlier runs') out of the edits

	at := posOf(b, text, "\treturn 0;", 0, 1)
	line := protocol.Range{Start: at, End: at}
	edits := []struct {
		rng  func() protocol.Range
		text string
	}{
		{func() protocol.Range { return line }, "u64 f2 = BPF_CORE_READ(how, mode);\n\t"},
		{func() protocol.Range { return line }, "u64 f3 = BPF_CORE_READ(how, re"},
		{func() protocol.Range {
			p := protocol.Position{Line: at.Line, Character: at.Character + uint32(len("u64 f3 = BPF_CORE_READ(how, re"))}
			return protocol.Range{Start: p, End: p}
		}, "solve);\n\t"},
		{func() protocol.Range {
			return protocol.Range{Start: at, End: protocol.Position{Line: at.Line + 2, Character: at.Character}}
		}, ""},
	}
	var lat []time.Duration
	version := int32(1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ed := edits[i%len(edits)]
		version++
		from := e.mark()
		t0 := time.Now()
		e.edit(u, version, ed.rng(), ed.text)
		e.waitDiagnostics(from, u, version)
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(q(0.50)), "p50-ms")
	b.ReportMetric(ms(q(0.99)), "p99-ms")
	b.ReportMetric(ms(cold), "cold-ms")
	fmt.Fprintf(os.Stderr, "edit → publishDiagnostics over %d edits (debounce %v, full vmlinux.h): cold %.0f ms, p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		len(lat), e.srv.debounce, ms(cold), ms(q(0.50)), ms(q(0.90)), ms(q(0.99)), ms(lat[len(lat)-1]))
}
