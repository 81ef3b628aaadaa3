package compiler

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// provProgram marks, on the line that declares each local, the class it must get:
// "// prov: NAME=ORIGIN SOURCE" (ORIGIN one of ctx, program, trusted, scalar, unknown).
const provProgram = factsPrelude + `
typedef unsigned long long u64;
struct task { int pid; struct task *parent; unsigned long flags; } __pai;
struct vma { unsigned long start; } __pai;
struct rq { int cpu; } __pai;
struct regs { unsigned long di, si; };
struct raw_args { u64 args[2]; };
struct copy { struct task *t; int pid; };

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *) 1;
static long (*bpf_probe_read_kernel)(void *dst, unsigned int size, const void *src) = (void *) 113;
static u64 (*bpf_get_current_task)(void) = (void *) 35;
static struct task *(*bpf_get_current_task_btf)(void) = (void *) 158;
static void *(*bpf_per_cpu_ptr)(const void *p, unsigned int cpu) = (void *) 153;
static long (*bpf_find_vma)(struct task *task, u64 addr, void *cb, void *ctx, u64 flags) = (void *) 180;
static long (*bpf_loop)(unsigned int n, void *cb, void *ctx, u64 flags) = (void *) 181;

extern const struct rq runqueues __attribute__((section(".ksyms")));
extern struct task *task_acquire(struct task *t) __attribute__((section(".ksyms")));

struct { int type; } map SEC(".maps");
char global_buf[64];
struct copy global_copy;

#define READ(dst, src) ({ bpf_probe_read_kernel(&(dst), sizeof(dst), &(src)); })
#define CORE_READ(src) ({ typeof(src) __r; bpf_probe_read_kernel(&__r, sizeof(__r), &(src)); __r; })

static struct task *pass(struct task *t) // prov: t=scalar bpf_get_current_task()
{
	return t;
}

static int twosites(struct task *t) // prov: t=scalar bpf_get_current_task() in the call from kprobe_prog
{
	return t->pid;
}

static int callback(struct task *task, struct vma *v, void *data) // prov: task=trusted bpf_find_vma() callback argument, v=trusted bpf_find_vma() callback argument, data=program stack
{
	return v->start;
}

static int loop_body(unsigned int i, struct copy *c) // prov: c=program map value
{
	return c->pid;
}

SEC("kprobe/x")
int kprobe_prog(struct regs *ctx) // prov: ctx=ctx kprobe
{
	u64 addr = ctx->di; // prov: addr=scalar kprobe argument
	struct task *t = (struct task *)bpf_get_current_task(); // prov: t=scalar bpf_get_current_task()
	struct task *parent = t->parent; // prov: parent=scalar bpf_get_current_task()
	struct task *via = pass(t); // prov: via=scalar bpf_get_current_task()
	struct task *masked = (struct task *)(addr & ~7UL); // prov: masked=scalar kprobe argument
	struct task *offset = (struct task *)(addr + 16); // prov: offset=scalar kprobe argument
	struct task *read = 0; // prov: read=scalar READ()
	struct task *core = CORE_READ(t->parent); // prov: core=scalar CORE_READ()
	struct copy local = {};
	struct copy *value = bpf_map_lookup_elem(&map, &local); // prov: value=program map value
	struct copy *g = (struct copy *)&global_copy; // prov: g=program global data
	char *buf = global_buf; // prov: buf=program global data
	char *stack = (char *)&local; // prov: stack=program stack
	struct task *fromvalue = value->t; // prov: fromvalue=unknown
	struct task *field = local.t; // prov: field=scalar READ()
	struct copy c2 = { .t = t };
	struct task *des = c2.t; // prov: des=scalar bpf_get_current_task()
	struct task *both = addr ? t : 0; // prov: both=scalar bpf_get_current_task()
	struct task *mixed = addr ? t : bpf_get_current_task_btf(); // prov: mixed=unknown
	struct task *twice = t; // prov: twice=unknown
	int *pidp = &t->pid; // prov: pidp=scalar bpf_get_current_task()

	twice = bpf_get_current_task_btf();
	READ(read, t->parent);
	READ(local, *t);
	bpf_loop(4, loop_body, value, 0);
	twosites(t);
	return read->pid + core->pid + via->pid + parent->pid + masked->pid + offset->pid + buf[0] + stack[0] + g->pid +
	       fromvalue->pid + field->pid + des->pid + both->pid + mixed->pid + twice->pid + *pidp;
}

SEC("raw_tp/sched_switch")
int raw_prog(struct raw_args *ctx) // prov: ctx=ctx raw_tp
{
	struct task *next = (struct task *)ctx->args[1]; // prov: next=scalar raw_tp argument
	return next->pid;
}

SEC("fentry/do_exit")
int fentry_prog(u64 *ctx) // prov: ctx=ctx fentry
{
	struct task *arg = (struct task *)ctx[0]; // prov: arg=trusted fentry argument
	struct task *up = arg->parent; // prov: up=trusted fentry argument
	unsigned long flags = arg->flags;
	struct task *cur = bpf_get_current_task_btf(); // prov: cur=trusted bpf_get_current_task_btf()
	struct rq *rq = bpf_per_cpu_ptr(&runqueues, 0); // prov: rq=trusted bpf_per_cpu_ptr() of a typed __ksym
	struct task *acq = task_acquire(cur); // prov: acq=trusted kfunc task_acquire()
	int data = 0;

	bpf_find_vma(cur, 0, callback, &data, 0);
	twosites(cur);
	return up->pid + rq->cpu + acq->pid + flags;
}

SEC("struct_ops/init")
void ops_init(struct task *sk) // prov: sk=trusted struct_ops argument
{
}
`

var provMarker = regexp.MustCompile(`//\s*prov:\s*(.*)$`)

var originNames = map[Origin]string{
	OriginUnknown: "unknown", OriginContext: "ctx", OriginProgram: "program", OriginTrusted: "trusted", OriginScalar: "scalar",
}

// TestProvenance: the class of every marked local, and nothing marked is missing.
func TestProvenance(t *testing.T) {
	res, src := compileSource(t, provProgram)
	got := map[string]string{}
	for _, v := range res.Pointers {
		line := strings.Count(string(src[:v.Decl.Start.Offset]), "\n") + 1
		key := fmt.Sprintf("%d %s", line, v.Name)
		if text(src, v.Decl) != v.Name {
			t.Errorf("%s: declaration range %q", key, text(src, v.Decl))
		}
		got[key] = strings.TrimSpace(originNames[v.Origin] + " " + v.Source)
	}
	n := 0
	for i, line := range strings.Split(provProgram, "\n") {
		m := provMarker.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		for _, item := range strings.Split(m[1], ", ") {
			name, want, _ := strings.Cut(item, "=")
			key := fmt.Sprintf("%d %s", i+1, name)
			n++
			if g, ok := got[key]; !ok {
				t.Errorf("line %d: no pointer fact for %s", i+1, name)
			} else if g != want {
				t.Errorf("line %d: %s is %q, want %q", i+1, name, g, want)
			}
		}
	}
	if n < 35 { // the markers above
		t.Fatalf("only %d markers", n)
	}
}

// TestProvenanceUses: a variable's uses, including those in a macro's arguments, are
// listed; tokens of a macro's body are not.
func TestProvenanceUses(t *testing.T) {
	res, src := compileSource(t, provProgram)
	for _, v := range res.Pointers {
		if v.Func != "kprobe_prog" || v.Name != "t" {
			continue
		}
		var lines []int
		for _, u := range v.Uses {
			if text(src, u) != "t" {
				t.Errorf("use %q", text(src, u))
			}
			lines = append(lines, u.Start.Line)
		}
		sort.Ints(lines)
		if len(lines) < 8 || !slices.Contains(lines, v.Decl.Start.Line+19) { // READ(read, t->parent)
			t.Errorf("uses of t on lines %v (declared on %d)", lines, v.Decl.Start.Line)
		}
		return
	}
	t.Fatal("no fact for kprobe_prog's t")
}

// TestDirectReadFrom: each direct load carries its pointer's provenance, and context
// accesses are none.
func TestDirectReadFrom(t *testing.T) {
	res, src := compileSource(t, provProgram)
	got := map[string]string{}
	for _, d := range res.DirectReads {
		got[text(src, d.Range)] = originNames[d.From.Origin]
	}
	want := map[string]string{
		"read->pid": "scalar", "next->pid": "scalar", "up->pid": "trusted", "rq->cpu": "trusted",
		"v->start": "trusted", "fromvalue->pid": "unknown",
		"mixed->pid": "unknown",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}
	for k := range got {
		if strings.HasPrefix(k, "ctx") {
			t.Errorf("context access %s reported", k)
		}
	}
}

// TestKernelHeader: records declared in vmlinux.h or a kernel include directory
// (linux/, asm/) are kernel types; the main file's and a user header's are not.
func TestKernelHeader(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"vmlinux.h":       "struct kstruct { int a; };\n",
		"linux/types.h":   "struct lstruct { int b; };\n",
		"asm/ptrace.h":    "struct astruct { int c; };\n",
		"include/mine.h":  "struct ustruct { int d; };\n",
		"prog/prog.bpf.c": "",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src := `#include "vmlinux.h"
#include <linux/types.h>
#include <asm/ptrace.h>
#include "mine.h"
#define SEC(n) __attribute__((section(n), used))
typedef unsigned long long u64;
static u64 (*get)(void) = (void *) 35;
static long (*rd)(void *dst, unsigned int size, const void *src) = (void *) 113;
struct own { int e; };

SEC("kprobe/x")
int prog(void *ctx)
{
	int v;
	rd(&v, 4, &((struct kstruct *)get())->a);
	rd(&v, 4, &((struct lstruct *)get())->b);
	rd(&v, 4, &((struct astruct *)get())->c);
	rd(&v, 4, &((struct ustruct *)get())->d);
	rd(&v, 4, &((struct own *)get())->e);
	return v;
}
`
	path := filepath.Join(dir, "prog", "prog.bpf.c")
	flags, err := ParseFlags([]string{"-I", dir, "-I", filepath.Join(dir, "include")}, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Compile(Input{Path: path, Source: []byte(src), Flags: flags})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range res.Diagnostics {
		t.Fatalf("%s", d)
	}
	got := map[string]bool{}
	for _, p := range res.ProbeReads {
		for _, u := range p.Unpreserved {
			got[u.Record] = u.KernelHeader
			if u.From.Origin != OriginScalar {
				t.Errorf("%s: from %v, want a scalar", u.Record, u.From)
			}
		}
	}
	want := map[string]bool{"struct kstruct": true, "struct lstruct": true, "struct astruct": true, "struct ustruct": false, "struct own": false}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("kernel header: %v, want %v", got, want)
	}
}
