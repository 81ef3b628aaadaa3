package analysis

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/corels/corels/compiler"
)

// An analysis given the last one's Memo reports exactly what it reports without, and
// takes from it the resolutions of the relocations a reused compile kept.
func TestMemoCarriesResolutions(t *testing.T) {
	needVmlinux(t)
	kernels := synthKernels(t, "4.18.0-synth", "5.10.0-synth", "5.14.0-synth")
	for _, name := range []string{"flavors", "field_info", "subprog", "core_read_chain", "fentry_fexit", "kprobe_macros", "enum_value"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(repoRoot(), "testdata", name+".bpf.c")
			src, err := os.ReadFile(path)
			if err != nil {
				t.Skip(err)
			}
			// An empty statement typed at the top of the last function's body: the
			// compile of the edit reuses every other function's relocations.
			at := bytes.LastIndex(src, []byte("\n{\n"))
			if at < 0 {
				t.Fatalf("no function body found")
			}
			edited := append(append(append([]byte(nil), src[:at+3]...), "\t;\n"...), src[at+3:]...)

			cache := compiler.NewCache()
			compile := func(text []byte) *compiler.Result {
				res, err := cache.Compile(context.Background(), compiler.Input{Path: path, Source: text, Flags: testFlags(t)})
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			var memo Memo
			first := compile(src)
			Analyze(first, src, Options{Kernels: kernels, Memo: &memo})
			res := compile(edited)
			reused := cache.Stats().Reused > 0

			with := Analyze(res, edited, Options{Kernels: kernels, Memo: &memo})
			without := Analyze(res, edited, Options{Kernels: kernels})
			for _, c := range []struct {
				what      string
				got, want any
			}{
				{"verdicts", with.Verdicts, without.Verdicts},
				{"findings", with.Findings, without.Findings},
				{"hints", with.Hints, without.Hints},
				{"lenses", with.Lenses, without.Lenses},
			} {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("%s with the memo differ from those without", c.what)
				}
			}
			if reused && len(res.Relocations) > 1 && with.an.carried == 0 {
				t.Errorf("the edit was reused, and none of its %d relocations' resolutions came from the memo", len(res.Relocations))
			}
			if !reused {
				t.Logf("%s: the edit was not reused", name)
			}
			t.Logf("%d relocations, %d resolutions carried", len(res.Relocations), with.an.carried)
		})
	}
}
