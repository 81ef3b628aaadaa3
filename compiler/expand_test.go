package compiler

import (
	"context"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// memoHead pulls in a preamble, so that Cache.Compile prunes and memoizes.
const memoHead = "#include \"vmlinux.h\"\n#include <bpf/bpf_helpers.h>\n#include <bpf/bpf_core_read.h>\n#include <bpf/bpf_tracing.h>\n"

// memoCases are main files whose macros the memo must expand exactly as cc does: each is
// compiled in full and twice through a Cache (the second compile reuses the memo), and
// the three results must be identical.
var memoCases = []struct {
	name string
	body string
	memo string // the macros whose invocations are renamed to their memoized expansions
}{
	{"nested_core_read", `
SEC("kprobe/x") int f(struct pt_regs *ctx) {
	struct task_struct *t = (void *)bpf_get_current_task();
	return BPF_CORE_READ(t, group_leader, mm, total_vm) + BPF_CORE_READ(t,
		/* a comment */ real_parent,
		pid);
}
`, "BPF_CORE_READ SEC"},
	{"kprobe_paste", `
SEC("kprobe/do_unlinkat") int BPF_KPROBE(do_unlinkat, int dfd, struct filename *name) {
	return BPF_CORE_READ(name, name) != 0;
}
`, "BPF_CORE_READ BPF_KPROBE SEC"},
	{"stringified_argument", `
#define STR(x) #x
#define XSTR(x) STR(x)
#define NAME(t) BPF_CORE_READ(t, pid)
SEC("kprobe/x") int f(struct pt_regs *ctx) {
	struct task_struct *t = (void *)bpf_get_current_task();
	bpf_printk(STR(NAME(t)));
	bpf_printk(XSTR(NAME(t)));
	return NAME(t);
}
`, "NAME SEC bpf_printk"},
	{"redefined_mid_file", `
#define READ(t) BPF_CORE_READ(t, pid)
SEC("kprobe/a") int a(struct pt_regs *ctx) {
	struct task_struct *t = (void *)bpf_get_current_task();
	return READ(t);
}
#undef READ
#define READ(t) BPF_CORE_READ(t, tgid)
SEC("kprobe/b") int b(struct pt_regs *ctx) {
	struct task_struct *t = (void *)bpf_get_current_task();
	return READ(t);
}
`, "READ SEC"},
	{"conditional_blocks", `
SEC("kprobe/x") int f(struct pt_regs *ctx) {
	struct task_struct *t = (void *)bpf_get_current_task();
#if 0
	return BPF_CORE_READ(t, pid);
#elif defined(__TARGET_ARCH_x86)
	return BPF_CORE_READ(t, tgid);
#else
	return BPF_CORE_READ(t, flags);
#endif
}
`, "BPF_CORE_READ SEC"},
	{"name_takes_parens_after", `
#define GET(x) bpf_core_read
SEC("kprobe/x") int f(struct pt_regs *ctx) {
	struct task_struct *t = (void *)bpf_get_current_task();
	int pid = 0;
	GET(1)(&pid, sizeof(pid), &t->pid);
	return pid;
}
`, "SEC"},
	{"line_macro", `
#define HERE(t) (BPF_CORE_READ(t, pid) + __LINE__)
SEC("kprobe/x") int f(struct pt_regs *ctx) {
	struct task_struct *t = (void *)bpf_get_current_task();
	return HERE(t) + HERE(t);
}
`, ""}, // __LINE__ reached: nothing is memoized
	{"error_in_expansion", `
SEC("kprobe/x") int f(struct pt_regs *ctx) {
	struct task_struct *t = (void *)bpf_get_current_task();
	return BPF_CORE_READ(t, no_such_member);
}
`, "BPF_CORE_READ SEC"},
	// The main file is rewritten for cc/v4 (frontend.go) before the memo sees it.
	{"prog_array_rewrite", `
int sub(void *ctx) { return 0; }
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, int (void *));
} progs SEC(".maps") = { .values = { [0] = (void *)&sub } };
`, "SEC __array __type __uint"},
	{"empty_and_variadic_arguments", `
#define FIRST(a, ...) a
SEC("kprobe/x") int f(struct pt_regs *ctx) {
	struct task_struct *t = (void *)bpf_get_current_task();
	bpf_printk("%d %d", BPF_CORE_READ(t, pid), FIRST(1, ));
	return FIRST(BPF_CORE_READ(t, tgid), 2, 3);
}
`, "BPF_CORE_READ FIRST SEC bpf_printk"},
}

func TestMemoEqualsFull(t *testing.T) {
	flags := corpusFlags(t)
	dir := t.TempDir()
	for _, tc := range memoCases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".bpf.c")
			in := Input{Path: path, Source: []byte(memoHead + tc.body), Flags: flags}
			full, err := Compile(in)
			if err != nil {
				t.Fatal(err)
			}
			cache := NewCache()
			for round := range 2 {
				got, err := cache.Compile(context.Background(), in)
				if err != nil {
					t.Fatal(err)
				}
				if a, b := summary(full), summary(got); a != b {
					t.Fatalf("round %d: memoized compile differs from full compile\nfull:\n%s\nmemoized:\n%s", round, a, b)
				}
			}
			if st := cache.Stats(); st.Full != 0 || st.Fallbacks != 0 {
				t.Fatalf("not pruned: %+v", st)
			}
			if got := memoRenamed(t, cache, in); got != tc.memo {
				t.Errorf("memoized: %q, want %q", got, tc.memo)
			}
		})
	}
}

// memoRenamed lists the macros whose invocations a compile of in renames.
func memoRenamed(t *testing.T, c *Cache, in Input) string {
	t.Helper()
	u, err := prepare(in)
	if err != nil {
		t.Fatal(err)
	}
	end := preambleEnd(u.src)
	var p *preamble
	for _, s := range c.preambles {
		p = s.p
	}
	names := map[string]bool{}
	body := string(u.src[end:])
	scanIdents(body, func(s, e int) { names[body[s:e]] = true })
	list := make([]string, 0, len(names))
	for n := range names {
		list = append(list, n)
	}
	picked, reached := p.closure(list)
	_, macros := p.render(picked, reached)
	// closureOf gives memoizing the macros the names reach through macros alone: they are
	// those the names reach through declarations too.
	if alone := p.renderMacros(p.macroReach(list)); alone != macros {
		t.Errorf("macros reached through macros alone:\n%s\nthrough declarations too:\n%s", alone, macros)
	}
	cfg, err := newConfig(u.flags, u.fsys, nil)
	if err != nil {
		t.Fatal(err)
	}
	src := append([]byte(nil), u.src...)
	blank(src, 0, end)
	src = mainSource(src)
	m := p.memoizedSource(cfg, src, macros, reached, true)
	if len(m.src) != len(src) {
		t.Fatalf("memoized source is %d bytes, the file %d", len(m.src), len(src))
	}
	renamed := map[string]bool{}
	for i := range src {
		if m.src[i] != src[i] {
			a, z := i, i
			for a > 0 && isIdentByte(src[a-1]) {
				a--
			}
			for z < len(src) && isIdentByte(src[z]) {
				z++
			}
			renamed[string(src[a:z])] = true
		}
	}
	var out []string
	for n := range renamed {
		out = append(out, n)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// TestMemoNestingGuard: a nesting guard skipped because of a wrong bound would let cc's
// parser recurse without limit; deep expansions must still be refused.
func TestMemoNestingGuard(t *testing.T) {
	deep := strings.Repeat("(", 300) + "x" + strings.Repeat(")", 300)
	cases := []struct{ name, body string }{
		{"function_like", "#define P(x) " + deep + "\nint f(int x) { return P(x); }\n"},
		{"object_like_chain", "#define A0 " + deep + "\n#define A1 A0\n#define A2 (A1)\nint f(int x) { return A2; }\n"},
		{"inside_arguments", "#define Q(x) (((x)))\nint f(int x) { return Q(Q(Q(" + deep + "))); }\n"},
	}
	flags := corpusFlags(t)
	dir := t.TempDir()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{Path: filepath.Join(dir, tc.name+".bpf.c"), Source: []byte(memoHead + tc.body), Flags: flags}
			cache := NewCache()
			for range 2 {
				res, err := cache.Compile(context.Background(), in)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(summary(res), "nesting level exceeded") {
					t.Fatalf("no nesting error:\n%s", summary(res))
				}
			}
		})
	}
}

func TestNestingBound(t *testing.T) {
	defs := macroTable{base: map[string][]macroDef{
		"FLAT":  {{repl: "((1))"}},
		"CHAIN": {{repl: "(FLAT)"}},
		"FN":    {{fn: true, repl: "(x)"}},
		"LOOP":  {{repl: "(LOOP)"}},
		"PASTE": {{fn: true, repl: "a ## b"}},
	}}
	cases := []struct {
		src  string
		want int
	}{
		{"int x = (1);", 1},
		{"int x = (FLAT);", 3},
		{"int x = CHAIN;", 3},
		{"int x = LOOP;", 1},                // not expanded again inside itself
		{"int x = FN;", 0},                  // a function-like name alone
		{"int x = FN(1);", 1 << 30},         // not renamed: anything
		{"#define Z (((((\nint x;", 0},      // directives are not code
		{"int x = \"((((\"; /* (((( */", 0}, // nor literals and comments
	}
	for _, tc := range cases {
		src := []byte(tc.src)
		_, dirs, ok := scanInvocations(src, func(string) bool { return false })
		if !ok {
			t.Fatalf("%q: scan failed", tc.src)
		}
		if got := nestingBound(src, dirs, nil, nil, defs); got != tc.want {
			t.Errorf("nestingBound(%q) = %d, want %d", tc.src, got, tc.want)
		}
	}
}

func TestReplacement(t *testing.T) {
	macros := map[string]bool{"bpf_core_read": true}
	cases := []struct {
		text, want string
		ok         bool
	}{
		{"(__corels_arg0_)->__corels_arg1_", "(__corels_arg0_)->__corels_arg1_", true},
		{"int ______corels_arg0_(void)", "int ____ ## __corels_arg0_(void)", true},
		{"__corels_arg0___corels_arg1_", "__corels_arg0_ ## __corels_arg1_", true},
		{"x__corels_arg0_1", "x ## __corels_arg0_ ## 1", true},
		{`"__corels_arg0_"`, "", false}, // stringified
		{"bpf_core_read", "", false},    // a macro left
		{"__corels_arg3_", "", false},   // no such argument
		{"__corels_arg0x_", "", false},  // not a placeholder
		{"\n#pragma x", "", false},      // a directive
		{"sizeof(__corels_arg0_)", "sizeof(__corels_arg0_)", true},
	}
	for _, tc := range cases {
		got, ok := replacement(tc.text, 2, func(n string) bool { return macros[n] })
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("replacement(%q) = %q, %v; want %q, %v", tc.text, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSyntheticName(t *testing.T) {
	cases := []struct {
		n, size int
		want    string
		ok      bool
	}{
		{0, 13, "_Z00000000000", true},
		{37, 4, "_Z11", true},
		{35, 3, "_Zz", true},
		{36, 3, "", false},
		{0, 2, "", false},
	}
	for _, tc := range cases {
		got, ok := syntheticName(tc.n, tc.size)
		if got != tc.want || ok != tc.ok {
			t.Errorf("syntheticName(%d, %d) = %q, %v; want %q, %v", tc.n, tc.size, got, ok, tc.want, tc.ok)
		}
	}
}

func TestScanInvocations(t *testing.T) {
	src := []byte("f(a, g(b), \"c,)\") /* f(x) */ f() f(1,)\n#define f(x) x\nf\n(2) // f(3)\n")
	invs, dirs, ok := scanInvocations(src, func(n string) bool { return n == "f" || n == "g" })
	if !ok {
		t.Fatal("scan failed")
	}
	var got []string
	for _, inv := range invs {
		got = append(got, strings.Join([]string{inv.name, string(src[inv.start:inv.end]), strconv.Itoa(inv.args), strconv.Itoa(inv.outer)}, "|"))
	}
	want := []string{
		`f|f(a, g(b), "c,)")|3|-1`,
		`g|g(b)|1|0`,
		`f|f()|0|-1`,
		"f|f\n(2)|1|-1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("invocations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(dirs) != 1 || string(src[dirs[0][0]:dirs[0][1]]) != "#define f(x) x" {
		t.Errorf("directives: %v", dirs)
	}
	setKeys(src, dirs, invs, macroTable{local: map[string][]macroDef{"f": {{fn: true, repl: " x"}}}})
	if invs[0].key == invs[3].key {
		t.Error("an invocation after a #define of its macro has the key of one before it")
	}
}

// TestMemoDeepInvocations: each nesting level of invocations rescans its arguments, so the
// scan gives up past clang's bracket depth instead of going quadratic; the compile still
// reports the file's error.
func TestMemoDeepInvocations(t *testing.T) {
	const n = 20000
	body := "#define F(x) x\nint y = " + strings.Repeat("F(", n) + "1" + strings.Repeat(")", n) + ";\n"
	src := []byte(memoHead + body)
	if _, _, ok := scanInvocations(src, func(name string) bool { return name == "F" }); ok {
		t.Fatal("scanInvocations took 20000 nested invocations")
	}
	in := Input{Path: filepath.Join(t.TempDir(), "deep.bpf.c"), Source: src, Flags: corpusFlags(t)}
	res, err := NewCache().Compile(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if s := summary(res); !strings.Contains(s, "nesting level exceeded") && !strings.Contains(s, "macro expansion limit exceeded") {
		t.Errorf("no error for 20000 nested invocations:\n%s", s)
	}
}

func TestLocalFunctionMacros(t *testing.T) {
	src := "#define A(x) x\n  # define B (1)\n#define C(y) \\\n y\nint D(int); // #define E(z)\n\t#define F(q) q"
	got := localFunctionMacros([]byte(src))
	want := map[string]bool{"A": true, "C": true, "F": true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
