package compiler

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkEdit measures one keystroke's compile through a Cache: the program with a
// statement inserted before its last `return 0;`, then without it, in turns. The
// selftests programs run when the corpus is there (`make selftests`).
//
//	go test ./compiler -run '^$' -bench Edit -benchmem
func BenchmarkEdit(b *testing.B) {
	type program struct {
		name  string
		path  string
		src   []byte
		flags *Flags
	}
	var progs []program
	root, _ := filepath.Abs("..")
	lsm := filepath.Join(root, "testdata", "lsm.bpf.c")
	if src, err := os.ReadFile(lsm); err == nil {
		progs = append(progs, program{"lsm", lsm, src, corpusFlags(b)})
	}
	if src, err := os.ReadFile(filepath.Join(root, "testdata", "bench", "tracer.bpf.c")); err == nil {
		progs = append(progs, program{"tracer", filepath.Join(root, "testdata", "bench", "tracer.bpf.c"), src, corpusFlags(b)})
	}
	st := os.Getenv("CORELS_SELFTESTS")
	if st == "" {
		st = filepath.Join(root, "build", "selftests")
	}
	progsDir := filepath.Join(st, selftestsBPF, "progs")
	if flags, err := FindFlags(filepath.Join(progsDir, "x.c")); err == nil && flags != nil {
		if src, err := os.ReadFile(filepath.Join(progsDir, "test_core_reloc_kernel.c")); err == nil {
			progs = append(progs, program{"test_core_reloc_kernel", filepath.Join(progsDir, "test_core_reloc_kernel.c"), src, flags})
		}
		// profiler.inc.h as one file: profiler1.c with the header's text in place of its
		// #include, in the same directory as far as quoted includes go.
		main, err1 := os.ReadFile(filepath.Join(progsDir, "profiler1.c"))
		inc, err2 := os.ReadFile(filepath.Join(progsDir, "profiler.inc.h"))
		if err1 == nil && err2 == nil {
			one := strings.Replace(string(main), "#include \"profiler.inc.h\"", string(inc), 1)
			f := *flags
			f.IncludeDirs = append([]string{progsDir}, f.IncludeDirs...)
			progs = append(progs, program{"profiler_one_file", filepath.Join(b.TempDir(), "profiler.c"), []byte(one), &f})
		}
	}
	for _, p := range progs {
		b.Run(p.name, func(b *testing.B) {
			at := strings.LastIndex(string(p.src), "return 0;")
			if at < 0 {
				b.Skip("no `return 0;` to edit before")
			}
			edited := string(p.src[:at]) + "bpf_printk(\"edit\");\n\t" + string(p.src[at:])
			cache := NewCache()
			in := Input{Path: p.path, Source: p.src, Flags: p.flags}
			if _, err := cache.Compile(context.Background(), in); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				in.Source = p.src
				if i%2 == 0 {
					in.Source = []byte(edited)
				}
				if _, err := cache.Compile(context.Background(), in); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if st := cache.Stats(); st.Full+st.Fallbacks > 0 {
				b.Errorf("not pruned: %+v", st)
			}
		})
	}
}
