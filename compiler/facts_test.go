package compiler

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// compileSource compiles a self-contained program (no headers) from a string.
func compileSource(t *testing.T, src string) (*Result, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "prog.bpf.c")
	res, err := Compile(Input{Path: path, Source: []byte(src), Flags: &Flags{Source: "none"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range res.Diagnostics {
		t.Fatalf("%s", d)
	}
	return res, []byte(src)
}

func text(src []byte, r Range) string {
	if r.Start.File == "" || r.End.Offset > len(src) {
		return ""
	}
	return string(src[r.Start.Offset:r.End.Offset])
}

const factsPrelude = `#define SEC(n) __attribute__((section(n), used))
#define __pai __attribute__((preserve_access_index))
#define __always_inline inline __attribute__((always_inline))
#define exists(f) __builtin_preserve_field_info(f, 2)
#define type_exists(T) __builtin_preserve_type_info(*(T *)0, 0)
`

// guardsProgram marks each line that reads a field with the guards its byte_off relocations
// must have: "// guards: KEY=WANT, ..." or "// guards: none".
const guardsProgram = factsPrelude + `
struct mm { int state; } __pai;
struct task { int state; int __state; struct mm *parent; } __pai;
struct old { long state; } __pai;

static __always_inline int has_new(struct task *t) { return exists(t->__state); }
static __always_inline int read_new(struct task *t)
{
	return t->__state; // guards: field_exists task 0:1=1
}
static int mixed_helper(struct task *t)
{
	return t->__state; // guards: none
}
int global_fn(struct task *t)
{
	return t->__state; // guards: none
}

SEC("kprobe/x")
int prog(struct task *t)
{
	int v = 0;
	int has = exists(t->__state);

	if (exists(t->__state))
		v = t->__state; // guards: field_exists task 0:1=1
	else
		v = ((struct old *)t)->state; // guards: field_exists task 0:1=0
	if (!exists(t->__state))
		v += ((struct old *)t)->state; // guards: field_exists task 0:1=0
	v += exists(t->__state) ?
		t->__state : // guards: field_exists task 0:1=1
		((struct old *)t)->state; // guards: field_exists task 0:1=0
	v += !exists(t->__state) ||
		t->__state; // guards: field_exists task 0:1=1
	v += exists(t->__state) == 0 &&
		((struct old *)t)->state; // guards: field_exists task 0:1=0
	if (has)
		v += t->__state; // guards: field_exists task 0:1=1
	if (has_new(t) == 0)
		v += ((struct old *)t)->state; // guards: field_exists task 0:1=0
	if (__builtin_expect(has_new(t), 1))
		v += t->__state; // guards: field_exists task 0:1=1
	if (exists(t->__state))
		v += read_new(t) + mixed_helper(t);
	v += mixed_helper(t);
	while (exists(t->parent)) {
		v += t->parent->state; // guards: field_exists task 0:2=1
		break;
	}
	if (type_exists(struct old) && exists(t->__state))
		v += t->__state; // guards: field_exists task 0:1=1, type_exists old 0=1
	if (type_exists(struct old) || exists(t->__state))
		v += t->__state; // guards: none
	else
		v += t->state; // guards: field_exists task 0:1=0, type_exists old 0=0
	v += t->state; // guards: none
	if (!exists(t->__state))
		return v;
	v += t->__state; // guards: field_exists task 0:1=1
	{
		if (exists(t->parent)) {
			v++;
		} else {
			return v;
		}
		v += t->parent->state; // guards: field_exists task 0:1=1, field_exists task 0:2=1
	}
	return v;
}
`

var guardsMarker = regexp.MustCompile(`// guards: (.*)$`)

func TestGuards(t *testing.T) {
	res, _ := compileSource(t, guardsProgram)
	byLine := map[int][]Relocation{}
	for _, r := range res.Relocations {
		if r.Kind == FieldByteOffset {
			byLine[r.Range.Start.Line] = append(byLine[r.Range.Start.Line], r)
		}
	}
	marked := 0
	for i, line := range strings.Split(guardsProgram, "\n") {
		m := guardsMarker.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		marked++
		want := strings.TrimSpace(m[1])
		if want == "none" {
			want = ""
		}
		relocs := byLine[i+1]
		if len(relocs) == 0 {
			t.Errorf("line %d: no byte_off relocation: %s", i+1, line)
		}
		for _, r := range relocs {
			var got []string
			for _, g := range r.Guards {
				w := 0
				if g.Want {
					w = 1
				}
				got = append(got, fmt.Sprintf("%s=%d", g.Check.Key(), w))
			}
			sort.Strings(got)
			if strings.Join(got, ", ") != want {
				t.Errorf("line %d (%s %s): guards %q, want %q\n\t%s", i+1, r.Key(), r.Func, strings.Join(got, ", "), want, strings.TrimSpace(line))
			}
		}
	}
	if marked < 20 {
		t.Fatalf("only %d marked lines", marked)
	}
}

func TestStmt(t *testing.T) {
	res, src := compileSource(t, guardsProgram)
	lineOf := func(s string) int {
		return strings.Count(guardsProgram[:strings.Index(guardsProgram, s)], "\n") + 1
	}
	want := map[int]string{ // line → the statement a guard goes before
		lineOf("v = t->__state; //"):             "if (exists(t->__state))\n\t\tv = t->__state; // guards: field_exists task 0:1=1\n\telse\n\t\tv = ((struct old *)t)->state;",
		lineOf("v += t->state; // guards: none"): "v += t->state;",
	}
	for _, r := range res.Relocations {
		if w, ok := want[r.Range.Start.Line]; ok && r.Kind == FieldByteOffset {
			if got := text(src, r.Stmt); got != w {
				t.Errorf("line %d: Stmt %q, want %q", r.Range.Start.Line, got, w)
			}
			delete(want, r.Range.Start.Line)
		}
	}
	for l := range want {
		t.Errorf("line %d: no relocation", l)
	}
}

func TestProbeReadFacts(t *testing.T) {
	src := factsPrelude + `
struct local { int a; char name[16]; struct local *next; };
struct kern { int a; } __pai;
static long (*my_read)(void *dst, unsigned int size, const void *src) = (void *) 113;
static long (*bpf_probe_read_user)(void *dst, unsigned int size, const void *src) = (void *) 112;
static long (*not_a_read)(void *dst, unsigned int size, const void *src) = (void *) 1;
#define READ(dst, src) my_read(&dst, sizeof(dst), src)

SEC("kprobe/x")
int prog(struct local *p, struct kern *k)
{
	int x;
	char buf[16];
	struct local l;

	my_read(&x, sizeof(x), &p->a);
	my_read(&x, 4, &k->a);
	my_read(&x, sizeof(x), __builtin_preserve_access_index(&p->a));
	bpf_probe_read_user(buf, sizeof(buf), p->name);
	my_read(&x, sizeof(x), &p->next->a);
	my_read(&x, 2, &p->a);
	READ(x, &p->a);
	my_read(&x, sizeof(x), &l.a);
	my_read(&x, sizeof(x), (void *)p + 4);
	my_read(&x, sizeof(x), &p[1]);
	not_a_read(&x, sizeof(x), &p->a);
	return x;
}
`
	res, b := compileSource(t, src)
	type row struct{ helper, call, src, fixed, into string }
	var got []row
	for _, p := range res.ProbeReads {
		var fixed []string
		for _, f := range p.Unpreserved {
			fixed = append(fixed, f.Record+"."+f.Member+"@"+text(b, f.Range))
		}
		into := ""
		if p.Into != nil {
			into = fmt.Sprintf("dst=%s addr=%v base=%s path=%s", text(b, p.Into.Dst), p.Into.DstAddr, text(b, p.Into.Base), strings.Join(p.Into.Path, ","))
		}
		got = append(got, row{p.Helper, text(b, p.Call), text(b, p.Args[2]), strings.Join(fixed, " "), into})
	}
	want := []row{
		{"bpf_probe_read_kernel", "my_read(&x, sizeof(x), &p->a)", "&p->a", "struct local.a@a", "dst=&x addr=false base=p path=a"},
		{"bpf_probe_read_kernel", "my_read(&x, 4, &k->a)", "&k->a", "", ""},
		{"bpf_probe_read_kernel", "my_read(&x, sizeof(x), __builtin_preserve_access_index(&p->a))", "", "", ""}, // the builtin is a macro here
		{"bpf_probe_read_user", "bpf_probe_read_user(buf, sizeof(buf), p->name)", "p->name", "struct local.name@name", "dst=buf addr=true base=p path=name"},
		{"bpf_probe_read_kernel", "my_read(&x, sizeof(x), &p->next->a)", "&p->next->a", "struct local.a@a struct local.next@next", "dst=&x addr=false base=p path=next,a"},
		{"bpf_probe_read_kernel", "my_read(&x, 2, &p->a)", "&p->a", "struct local.a@a", ""},
		{"bpf_probe_read_kernel", "", "&p->a", "struct local.a@a", ""},
		{"bpf_probe_read_kernel", "my_read(&x, sizeof(x), &l.a)", "&l.a", "", ""},
		{"bpf_probe_read_kernel", "my_read(&x, sizeof(x), (void *)p + 4)", "(void *)p + 4", "", ""},
		{"bpf_probe_read_kernel", "my_read(&x, sizeof(x), &p[1])", "&p[1]", "struct local.[]@p[1]", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d probe reads, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("probe read %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestDirectReadFacts(t *testing.T) {
	src := factsPrelude + `
struct task { int pid; struct parent *parent; unsigned flags:3; char comm[16]; } __pai;
struct parent { int pid; } __pai;
struct pt_regs { long di; } __pai;
struct val { int n; };

SEC("kprobe/x")
int prog(struct pt_regs *ctx)
{
	struct task *t = (struct task *)ctx->di;
	struct task copy;
	struct val *v = (void *)0;
	int a = t->pid;
	int b = t->parent->pid;
	int *p = &t->pid;
	char *c = t->comm;
	unsigned f = t->flags;
	int s = sizeof(t->pid) + __builtin_preserve_field_info(t->pid, 2);
	int d = ((struct task *)ctx->di)->pid;

	copy.pid = 1;
	a += copy.pid + v->n;
	t->pid = 3;
	return a + b + *p + *c + f + s + d + t->comm[1];
}
`
	res, b := compileSource(t, src)
	var got []string
	for _, d := range res.DirectReads {
		got = append(got, fmt.Sprintf("%s|%s|%s|%s|%s|%v", text(b, d.Range), text(b, d.Member), d.Record, text(b, d.Base), strings.Join(d.Path, ","), d.Bitfield))
	}
	want := []string{
		"t->pid|pid|struct task|t|pid|false",
		"t->parent->pid|pid|struct task|t|parent,pid|false",
		"t->flags|flags|struct task|t|flags|true",
		"((struct task *)ctx->di)->pid|pid|struct task|(struct task *)ctx->di|pid|false",
		"t->comm[1]|t->comm[1]|struct task|t|comm[1]|false",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("direct reads:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// factsSummary prints the facts and guards, for comparisons.
func factsSummary(res *Result) string {
	var b strings.Builder
	for _, f := range res.Funcs {
		fmt.Fprintf(&b, "func %+v\n", f)
	}
	for _, r := range res.Relocations {
		fmt.Fprintf(&b, "reloc %s @%d stmt=%d-%d", r.Key(), r.Range.Start.Offset, r.Stmt.Start.Offset, r.Stmt.End.Offset)
		for _, g := range r.Guards {
			fmt.Fprintf(&b, " [%s %v]", g.Check.Key(), g.Want)
		}
		b.WriteByte('\n')
	}
	for _, p := range res.ProbeReads {
		fmt.Fprintf(&b, "probe %s %s %v %v %v %+v", p.Helper, p.Func, p.Pos.Offset, p.Call, p.Args, p.Into)
		for _, f := range p.Unpreserved {
			fmt.Fprintf(&b, " %s.%s@%d", f.Record, f.Member, f.Range.Start.Offset)
		}
		b.WriteByte('\n')
	}
	for _, d := range res.DirectReads {
		fmt.Fprintf(&b, "direct %+v\n", d)
	}
	var def []string
	for k := range res.Defined {
		def = append(def, k)
	}
	sort.Strings(def)
	fmt.Fprintf(&b, "defined %v\n", def)
	return b.String()
}

// TestFactsPrunedEqualsFull: the preamble cache's pruned compiles give the same facts.
func TestFactsPrunedEqualsFull(t *testing.T) {
	cache := NewCache()
	for _, path := range corpusFiles(t) {
		name := goldenName(path)
		t.Run(name, func(t *testing.T) {
			full := compileCorpus(t, path)
			if full.HasErrors() {
				t.Skip("does not compile")
			}
			got, err := cache.Compile(context.Background(), Input{Path: path, Flags: corpusFlags(t)})
			if err != nil {
				t.Fatal(err)
			}
			if a, b := factsSummary(full), factsSummary(got); a != b {
				t.Errorf("pruned facts differ from full\nfull:\n%s\npruned:\n%s", a, b)
			}
		})
	}
}

// TestCorpusFacts: on the corpus, the guard of flavors.bpf.c and the probe reads of the
// two programs that read without CO-RE.
func TestCorpusFacts(t *testing.T) {
	root := goldenRoot(t)
	for _, tc := range []struct {
		file string
		want string
	}{
		{"flavors.bpf.c", "byte_off task_struct___old 0:0 [field_exists task_struct 0:1 false]"},
		{"field_exists.bpf.c", "byte_off pid 0:3:0 [field_exists task_struct 0:91 true]"},
	} {
		res := compileCorpus(t, filepath.Join(root, "testdata", tc.file))
		var all []string
		for _, r := range res.Relocations {
			s := r.Key()
			for _, g := range r.Guards {
				s += fmt.Sprintf(" [%s %v]", g.Check.Key(), g.Want)
			}
			all = append(all, s)
		}
		if !slices.Contains(all, tc.want) {
			t.Errorf("%s: no %q in\n%s", tc.file, tc.want, strings.Join(all, "\n"))
		}
	}
	for file, n := range map[string]int{"seed_unwrapped.bpf.c": 2, "no_relocs_probe_read.bpf.c": 2, "seed.bpf.c": 0, "core_read.bpf.c": 0} {
		res := compileCorpus(t, filepath.Join(root, "testdata", file))
		got := 0
		for _, p := range res.ProbeReads {
			if len(p.Unpreserved) > 0 {
				got++
			}
		}
		if got != n {
			t.Errorf("%s: %d probe reads with fixed offsets, want %d", file, got, n)
		}
	}
}

// TestFactsScale: the facts pass stays fast on large and deeply nested functions.
func TestFactsScale(t *testing.T) {
	head := factsPrelude + "struct task { int a; int b; } __pai;\n"
	// Nesting stays within clang's bracket depth (256), which the compiler enforces.
	cases := map[string]string{
		"nested ifs": head + "int f(struct task *t) {\n" + strings.Repeat("if (exists(t->a)) {\n", 200) +
			"return t->a;\n" + strings.Repeat("}\n", 200) + "return 0;\n}\n",
		"long &&":       head + "int f(struct task *t) {\nreturn " + strings.Repeat("exists(t->a) && ", 2000) + "t->b;\n}\n",
		"many reads":    head + "int f(struct task *t) {\nint v = 0;\n" + strings.Repeat("if (!exists(t->a)) return 0;\nv += t->a + t->b;\n", 2000) + "return v;\n}\n",
		"early returns": head + "int f(struct task *t) {\nint v = 0;\n" + strings.Repeat("{ if (exists(t->b)) return 1;\n", 200) + "v += t->b;\n" + strings.Repeat("}\n", 200) + "return v;\n}\n",
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			res, _ := compileSource(t, src)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("%v for %d relocations", d, len(res.Relocations))
			}
			if len(res.Relocations) == 0 {
				t.Fatal("no relocations")
			}
			last := res.Relocations[len(res.Relocations)-1]
			if name != "long &&" && len(last.Guards) == 0 {
				t.Errorf("last relocation %s has no guards", last.Key())
			}
		})
	}
}
