package compiler

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf/btf"
)

// TestReuseItems edits testdata/items/items.bpf.c, whose functions need some of its
// records, maps, globals and macros and not others: each edit's result is a whole
// compile's, and the compile of the edited function left out the items it does not reach
// (trimmed) unless only the whole text compiles (a name only token pasting makes).
func TestReuseItems(t *testing.T) {
	path, data, replace := editable(t, "testdata/items/items.bpf.c")
	const fork = "\tbpf_printk(\"fork %d\", BPF_CORE_READ(t, pid));\n"
	for _, c := range []struct {
		name            string
		text            string
		reused, trimmed bool
	}{
		{"a function that needs no item", replace(fork, fork+"\tint t_ = 1;\n"), true, true},
		{"a global named through a macro", replace(fork, fork+"\tif (TARGET)\n\t\tbpf_printk(\"target\");\n"), true, true},
		{"an enumerator and its typedef'd global", replace(fork, fork+"\tif (mode == OP_ON)\n\t\tbpf_printk(\"on\");\n"), true, true},
		{"a map", replace(fork, fork+"\tu32 k = 0;\n\tbpf_map_lookup_elem(&totals, &k);\n"), true, true},
		// task_view names counters by pointer: complete in the local type of the
		// relocation, as in the whole compile, only if its definition is kept.
		{"a main-file record with a record behind a pointer", replace(fork, fork+"\tstruct task_view *v = (void *)t;\n\tbpf_printk(\"%d\", BPF_CORE_READ(v, flags));\n"), true, true},
		{"a global of a record type", replace(fork, fork+"\tif (shared_counters)\n\t\tbpf_printk(\"%d\", shared_counters->forks);\n"), true, true},
		// exec_count exists only as DECLARE_COUNTER pastes it: the compile without the
		// item fails, the one with every item is taken.
		{"a name only pasting makes", replace("\tCOUNT(exec);\n", "\tCOUNT(exec);\n\tCOUNT(exec);\n"), true, false},
		// on_exit calls total(): its signature is kept, the maps but totals are not.
		{"a function the edited one calls", replace("\tu64 *n = total();\n", "\tu64 *n = total();\n\tbpf_printk(\"exit\");\n"), true, true},
		{"an undefined name", replace(fork, fork+"\tbpf_printk(\"%d\", no_such_name);\n"), true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, want, st := editOnce(t, path, data, c.text)
			if (st.Reused == 1) != c.reused || (st.Trimmed == 1) != c.trimmed {
				t.Errorf("reused %d, trimmed %d; want reused %v, trimmed %v", st.Reused, st.Trimmed, c.reused, c.trimmed)
			}
			if d := sameResultTypes(t, map[btf.Type]string{}, want, got); d != "" {
				t.Errorf("differs from a whole compile:\n%s", d)
			}
		})
	}

	// Every prefix of typing in three of its functions, as TestReuseEqualsPruned replays.
	reusing, whole := NewCache(), NewCache()
	whole.noReuse = true
	locals := map[btf.Type]string{}
	for i, text := range editStream(data) {
		in := Input{Path: path, Source: text, Flags: corpusFlags(t)}
		got, err := reusing.Compile(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		want, err := whole.Compile(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if d := sameResultTypes(t, locals, want, got); d != "" {
			t.Fatalf("step %d differs from a whole compile:\n%s\ntext:\n%s", i, d, text)
		}
	}
	if reusing.Stats().Trimmed == 0 {
		t.Errorf("no compile left an item out: %+v", reusing.Stats())
	}
}

// TestMainMacros: every #define of the text, by name, with its replacement's identifiers.
func TestMainMacros(t *testing.T) {
	src := []byte("#define A (x + y)\n  #  define B(n) n##_c A\nint v;\n#define C\n/*\n#define D d\n*/\n#undef A\n")
	got, pastes := mainMacros(src)
	if len(pastes) != 1 || !pastes["B"] {
		t.Errorf("pasting macros: got %v, want B", pastes)
	}
	want := map[string]string{"A": "x y", "B": "n n _c A", "C": "", "D": "d"}
	if len(got) != len(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for n, ids := range want {
		if strings.Join(got[n], " ") != ids {
			t.Errorf("%s: got %v, want %q", n, got[n], ids)
		}
	}
}

// TestMentionedTags: a tag counts right after its keyword, not a name further on.
func TestMentionedTags(t *testing.T) {
	got := strings.Join(mentionedTags("struct { int a; } m; struct x *p; union /* c */ u v; enum e; struct\n y z;"), " ")
	if want := "x e y"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestPrepareRecovery: an edit without error in a body, followed by a pause, starts the
// compile recovery needs when that body gets an error, and the first error typed there
// uses it.
func TestPrepareRecovery(t *testing.T) {
	path, data, replace := editable(t, "testdata/items/items.bpf.c")
	const fork = "\tbpf_printk(\"fork %d\", BPF_CORE_READ(t, pid));\n"
	clean, broken := replace(fork, fork+"\tint t_ = 1;\n"), replace(fork, fork+"\tint t_ = \n")
	c := NewCache()
	in := Input{Path: path, Source: data, Flags: corpusFlags(t)}
	for _, text := range []string{string(data), clean} {
		in.Source = []byte(text)
		if _, err := c.Compile(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	// It starts once the file has been idle a while.
	var kept []*blankedCompile
	for wait := time.Now(); len(kept) == 0 && time.Since(wait) < 10*time.Second; time.Sleep(10 * time.Millisecond) {
		c.mu.Lock()
		kept = slices.Clone(c.recovered[path])
		c.mu.Unlock()
	}
	if len(kept) != 1 {
		t.Fatalf("%d blanked compiles started after an edit without error, want 1", len(kept))
	}
	<-kept[0].done
	pruned := c.Stats().Pruned
	in.Source = []byte(broken)
	got, err := c.Compile(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Pruned != pruned || st.Reused != 2 {
		t.Errorf("the text with an error: %d pruned compiles (want %d, none more), %d reused (want 2)", st.Pruned, pruned, st.Reused)
	}
	whole := NewCache()
	whole.noReuse = true
	want, err := whole.Compile(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if d := sameResultTypes(t, map[btf.Type]string{}, want, got); d != "" {
		t.Errorf("differs from a whole compile:\n%s", d)
	}
}

// TestReuseItemsUnknown: a file whose items could not be told apart (learnItems gave
// nil, or it has relocations outside its functions) is reused with every item kept.
func TestReuseItemsUnknown(t *testing.T) {
	path, data, replace := editable(t, "testdata/items/items.bpf.c")
	const fork = "\tbpf_printk(\"fork %d\", BPF_CORE_READ(t, pid));\n"
	c, whole := NewCache(), NewCache()
	whole.noReuse = true
	in := Input{Path: path, Source: data, Flags: corpusFlags(t)}
	if _, err := c.Compile(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	c.last[path].items = nil
	c.mu.Unlock()
	in.Source = []byte(replace(fork, fork+"\tint t_ = 1;\n"))
	got, err := c.Compile(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Reused != 1 || st.Trimmed != 0 {
		t.Errorf("reused %d, trimmed %d; want reused, every item kept", st.Reused, st.Trimmed)
	}
	want, err := whole.Compile(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if d := sameResultTypes(t, map[btf.Type]string{}, want, got); d != "" {
		t.Errorf("differs from a whole compile:\n%s", d)
	}
}
