package compiler

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestMemoKeys: invocations share a key exactly when no directive between them can change
// what they expand to. Each line `f(x) // label` is an invocation; wantGroups lists the
// labels that must share one key, group by group (every other pair differs).
func TestMemoKeys(t *testing.T) {
	tests := []struct {
		name       string
		src        string
		wantGroups [][]string
	}{
		{"unrelated directives between", `#define f(x) (x + N)
#define N 1
f(a) // a
#ifdef UNROLL
#pragma unroll
#endif
#define OTHER 2
#if 0
#define ALSO_OTHER 3
#endif
f(b) // b
`, [][]string{{"a", "b"}}},
		{"a reached macro redefined", `#define f(x) (x + N)
#define N 1
f(a) // a
#undef N
#define N 2
f(b) // b
`, [][]string{{"a"}, {"b"}}},
		{"reached through another macro", `#define f(x) g(x)
#define g(x) (x * M)
f(a) // a
#define M 3
f(b) // b
`, [][]string{{"a"}, {"b"}}},
		{"a group holding a reached definition", `#define f(x) (x + N)
f(a) // a
#ifdef WIDE
#define N 2
#endif
f(b) // b
#define WIDE
f(c) // c
#ifdef UNROLL
#endif
f(d) // d
`, [][]string{{"a"}, {"b"}, {"c", "d"}}},
		{"nested groups", `#define f(x) (x + N)
f(a) // a
#if defined(A)
#ifdef B
#define N 5
#endif
#endif
f(b) // b
#define B 1
f(c) // c
#define A 1
f(d) // d
#define C 1
f(e) // e
`, [][]string{{"a"}, {"b"}, {"c"}, {"d", "e"}}},
		{"the macro itself redefined", `#define f(x) (x)
f(a) // a
#undef f
#define f(x) (x + 1)
f(b) // b
`, [][]string{{"a"}, {"b"}}},
		{"another macro's invocations do not count", `#define f(x) (x)
#define h(x) (x + N)
f(a) // a
#define N 4
f(b) // b
`, [][]string{{"a", "b"}}},
		{"unbalanced conditionals", `#define f(x) (x + N)
#endif
f(a) // a
#if X
#define N 1
f(b) // b
`, [][]string{{"a"}, {"b"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := []byte(tc.src)
			invs, dirs, ok := scanInvocations(src, func(n string) bool { return n == "f" || n == "g" || n == "h" })
			if !ok {
				t.Fatal("scan failed")
			}
			local := map[string][]macroDef{}
			for _, d := range dirs {
				addDefines(local, string(src[d[0]:d[1]]))
			}
			setKeys(src, dirs, invs, macroTable{local: local})
			keyOf := map[string]string{}
			for _, inv := range invs {
				if inv.outer >= 0 || inv.name != "f" {
					continue
				}
				line := string(src[inv.start:])
				line = line[:strings.IndexByte(line, '\n')]
				label := strings.TrimSpace(line[strings.Index(line, "//")+2:])
				keyOf[label] = inv.key
			}
			group := map[string]int{}
			for g, labels := range tc.wantGroups {
				for _, l := range labels {
					if _, ok := keyOf[l]; !ok {
						t.Fatalf("no invocation labelled %q", l)
					}
					group[l] = g
				}
			}
			for a := range keyOf {
				for b := range keyOf {
					if same := keyOf[a] == keyOf[b]; same != (group[a] == group[b]) {
						t.Errorf("%s and %s: same key %v, want %v", a, b, same, !same)
					}
				}
			}
		})
	}
}

// memoSequences are texts compiled one after another through one Cache, as an editor
// sends them: the first, then each edit of the text before it (the first occurrence of
// [0] replaced by [1]). Each result must be the full compile's, whatever the memo learned
// from the texts before it. Each text starts with a declaration: directives before any are
// the preamble's, which has a memo of its own.
var memoSequences = []struct {
	name  string
	first string
	edits [][2]string
}{
	{"a condition's macro changes", `
char LICENSE[] SEC("license") = "GPL";
#define WIDE 1
#if WIDE
#define READ(t) BPF_CORE_READ(t, pid)
#else
#define READ(t) BPF_CORE_READ(t, tgid)
#endif
` + memoProgram("a", "READ(t)"), [][2]string{{"WIDE 1", "WIDE 0"}}},
	{"a reached macro defined between functions", `
char LICENSE[] SEC("license") = "GPL";
#define FIELD pid
#define READ(t) BPF_CORE_READ(t, FIELD)
` + memoProgram("a", "READ(t)") + memoProgram("b", "0"), [][2]string{
		{`SEC("kprobe/b")`, "#undef FIELD\n#define FIELD tgid\n" + `SEC("kprobe/b")`},
		{"return 0;", "return READ(t);"},
	}},
	{"push and pop", `
char LICENSE[] SEC("license") = "GPL";
#define FIELD pid
#define GET(t) BPF_CORE_READ(t, FIELD)
` + memoProgram("a", "GET(t)"), [][2]string{
		{`SEC("kprobe/a")`, "#pragma push_macro(\"FIELD\")\n#undef FIELD\n#define FIELD tgid\n" + `SEC("kprobe/a")`},
		{"GET(t);\n}\n", "GET(t);\n}\n#pragma pop_macro(\"FIELD\")\n" + memoProgram("b", "GET(t)")},
	}},
}

// memoProgram is a kprobe program named name that returns ret, with a task_struct t.
func memoProgram(name, ret string) string {
	return `SEC("kprobe/` + name + `") int ` + name + `(struct pt_regs *ctx) {
	struct task_struct *t = (void *)bpf_get_current_task();
	return ` + ret + `;
}
`
}

func TestMemoSequences(t *testing.T) {
	flags := corpusFlags(t)
	dir := t.TempDir()
	for _, tc := range memoSequences {
		t.Run(tc.name, func(t *testing.T) {
			cache := NewCache()
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".bpf.c")
			text := tc.first
			for i := 0; i <= len(tc.edits); i++ {
				if i > 0 {
					e := tc.edits[i-1]
					if !strings.Contains(text, e[0]) {
						t.Fatalf("edit %d: no %q in the text", i, e[0])
					}
					text = strings.Replace(text, e[0], e[1], 1)
				}
				cachedEqualsFull(t, cache, Input{Path: path, Source: []byte(memoHead + text), Flags: flags})
			}
		})
	}
}

// TestMemoAcrossFunctions: the same read typed in another function, past directives that
// cannot change it, is not expanded again.
func TestMemoAcrossFunctions(t *testing.T) {
	body := `
SEC("kprobe/a") int a(struct pt_regs *ctx) {
	struct task_struct *t = (void *)bpf_get_current_task();
	return BPF_CORE_READ(t, real_parent, pid);
}
#ifdef UNROLL
#define LOOPS 4
#endif
SEC("kprobe/b") int b(struct pt_regs *ctx) {
	struct task_struct *t = (void *)bpf_get_current_task();
#ifdef UNROLL
#pragma unroll
#endif
	for (int i = 0; i < 2; i++)
		t = BPF_CORE_READ(t, real_parent);
	return %s;
}
`
	in := Input{Path: filepath.Join(t.TempDir(), "across.bpf.c"), Flags: corpusFlags(t)}
	cache := NewCache()
	var sizes []int
	for _, ret := range []string{"0", "BPF_CORE_READ(t, real_parent, tgid)"} {
		in.Source = []byte(memoHead + strings.Replace(body, "%s", ret, 1))
		cachedEqualsFull(t, cache, in)
		for _, s := range cache.preambles {
			s.p.memo.mu.Lock()
			sizes = append(sizes, len(s.p.memo.m))
			s.p.memo.mu.Unlock()
		}
	}
	if len(sizes) != 2 || sizes[1] != sizes[0] {
		t.Errorf("memo sizes after each text: %v; the second text's read has the key of the first's", sizes)
	}
}

// cachedEqualsFull compiles in through c and fails unless the result is the full compile's.
func cachedEqualsFull(t *testing.T, c *Cache, in Input) {
	t.Helper()
	full, err := Compile(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Compile(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := summary(full), summary(got); a != b {
		t.Fatalf("the cache's compile of\n%s\ndiffers from the full compile\nfull:\n%s\ncache:\n%s", in.Source, a, b)
	}
}
