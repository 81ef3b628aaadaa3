package analysis

import (
	"path/filepath"
	"strings"
	"testing"
)

// hoverProgram exercises hover, inlay hints and lenses against the synthetic kernels.
const hoverProgram = `#include "synth.h"

struct task_struct {
	unsigned int __state;
	unsigned in_iowait:1;
	int pid;
	char comm[16];
} __pai;

struct timeval {
	long tv_sec;
	long tv_usec;
} __pai;

enum bpf_map_type {
	BPF_MAP_TYPE_RINGBUF = 27,
};

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_HZ __kconfig __weak;
extern const struct task_struct init_task __ksym;

__u64 out[8];

static __always_inline int pid_of(struct task_struct *t)
{
	return BPF_CORE_READ(t, pid);
}

SEC("kprobe/do_exit")
int hovers(void *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();

	if (bpf_core_field_exists(t->__state))
		out[0] = BPF_CORE_READ(t, __state);
	out[1] = BPF_CORE_READ_BITFIELD_PROBED(t, in_iowait);
	out[2] = bpf_core_type_size(struct timeval);
	out[3] = bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF);
	out[4] = pid_of(t) + LINUX_KERNEL_VERSION + CONFIG_HZ;
	out[5] = (__u64)&init_task;
	return 0;
}

SEC("kprobe/nothing")
int nothing(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
`

func hoverReport(t *testing.T) (*Report, string) {
	t.Helper()
	path := filepath.Join(repoRoot(), "testdata", "analysis", "hover.bpf.c")
	kernels := synthKernels(t, "4.18.0-synth", "5.10.0-synth", "5.14.0-synth")
	res := compileText(t, path, []byte(hoverProgram))
	if res.HasErrors() {
		t.Fatal(res.Diagnostics)
	}
	return Analyze(res, []byte(hoverProgram), Options{Kernels: kernels}), hoverProgram
}

// at is the offset of the n-th (0-based) occurrence of s in src, plus delta.
func at(t *testing.T, src, s string, n, delta int) int {
	t.Helper()
	off := -1
	for i := 0; i <= n; i++ {
		j := strings.Index(src[off+1:], s)
		if j < 0 {
			t.Fatalf("%q: occurrence %d not found", s, n)
		}
		off += 1 + j
	}
	return off + delta
}

func TestHover(t *testing.T) {
	rep, src := hoverReport(t)
	tests := []struct {
		name  string
		off   int
		want  []string
		avoid []string
	}{
		{"guarded member", at(t, src, "__state)", 1, 2), []string{
			"**`task_struct.__state`** `unsigned int` · 4 bytes",
			"Local offset 0 (0x0) in `task_struct`",
			"CO-RE relocation `byte_off` · root `task_struct` · access `0:0`",
			"`SEC(\"kprobe/do_exit\")`",
			"Runs only when `bpf_core_field_exists(task_struct.__state)`",
			"| 4.18.0-synth | missing, unreachable there (`bpf_core_field_exists(task_struct.__state)` is false) — type `task_struct` has no member `__state`",
			"| 5.14.0-synth | 0 (0x0) |",
		}, nil},
		{"bitfield", at(t, src, "in_iowait);", 0, 1), []string{
			"**`task_struct.in_iowait`** `unsigned int`",
			"bit 0, 1 bit",
			"CO-RE relocations `byte_off`, `byte_sz`, `lshift_u64`, `signed`, `rshift_u64` · root `task_struct` · access `0:1`",
			"| kernel | offset | size | shift | signed | shift |",
			"| 5.14.0-synth | 24 (0x18), bit 2, 1 bit | 4 bytes | 61 | unsigned | 63 |",
		}, nil},
		{"type size", at(t, src, "struct timeval);", 0, 8), []string{
			"**`struct timeval`** · local size 16 bytes",
			"CO-RE relocation `type_size` · root `timeval` · access `0`",
			"| 4.18.0-synth | 16 bytes |",
			"| 5.10.0-synth | ✗ missing: no type named `timeval` in 5.10.0-synth",
		}, nil},
		{"enumerator", at(t, src, "BPF_MAP_TYPE_RINGBUF);", 0, 3), []string{
			"**`BPF_MAP_TYPE_RINGBUF`** enumerator of `enum bpf_map_type` · local value 27",
			"| 5.10.0-synth | 27 |",
			"| 4.18.0-synth | ✗ missing: enum `bpf_map_type` has no value `BPF_MAP_TYPE_RINGBUF`",
		}, nil},
		{"helper read", at(t, src, "pid);", 0, 0), []string{
			"**`task_struct.pid`** `int` · 4 bytes", "| 4.18.0-synth | ",
		}, []string{"Runs only when"}},
		{"kernel version", at(t, src, "LINUX_KERNEL_VERSION __kconfig", 0, 3), []string{
			"**`LINUX_KERNEL_VERSION`** `extern unsigned` · `__kconfig`",
			"| 4.18.0-synth | 266752 (0x41200) |", "| 5.14.0-synth | 331264 (0x50e00) |",
		}, nil},
		{"weak kconfig", at(t, src, "CONFIG_HZ __kconfig", 0, 0), []string{
			"`__weak`", "it is 0 when the configuration does not set it",
		}, nil},
		{"ksym", at(t, src, "init_task __ksym", 0, 0), []string{
			"**`init_task`**", "`__ksym`", "| 5.14.0-synth | variable |",
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, ok := rep.HoverAt(tt.off)
			if !ok {
				t.Fatalf("no hover at %d (%q)", tt.off, src[tt.off:tt.off+10])
			}
			if h.Range.Start.Offset > tt.off || h.Range.End.Offset < tt.off {
				t.Errorf("hover range %d-%d does not contain %d", h.Range.Start.Offset, h.Range.End.Offset, tt.off)
			}
			for _, w := range tt.want {
				if !strings.Contains(h.Markdown, w) {
					t.Errorf("hover lacks %q:\n%s", w, h.Markdown)
				}
			}
			for _, w := range tt.avoid {
				if strings.Contains(h.Markdown, w) {
					t.Errorf("hover has %q:\n%s", w, h.Markdown)
				}
			}
		})
	}
	if _, ok := rep.HoverAt(at(t, src, "bpf_get_current_task", 0, 2)); ok {
		t.Error("hover on a plain call")
	}
}

// TestPointerHover: the hover of a pointer variable, where declared and where used, says
// its provenance in one line.
func TestPointerHover(t *testing.T) {
	path := filepath.Join(repoRoot(), "testdata", "analysis", "provenance.bpf.c")
	p := loadProgram(t, path)
	rep := Analyze(compileText(t, path, p.src), p.src, Options{})
	src := string(p.src)
	tests := []struct {
		name string
		off  int
		want string
	}{
		{"map value", at(t, src, "*args = bpf_map_lookup_elem", 0, 1),
			"`args`: program-owned memory (map value): its layout is the program's own, no relocation needed"},
		{"global data", at(t, src, "in->val1", 0, 0), "`in`: program-owned memory (global data)"},
		{"tracepoint context", at(t, src, "ctx->ret", 0, 0), "`ctx`: the program's context (tracepoint): loads are checked"},
		{"current task btf", at(t, src, "*task = bpf_get_current_task_btf", 0, 1),
			"`task`: trusted kernel pointer (bpf_get_current_task_btf()): direct reads are CO-RE relocated"},
		{"member of trusted", at(t, src, "mm->total_vm, data", 0, 0), "`mm`: trusted kernel pointer (bpf_get_current_task_btf())"},
		{"typed ksym", at(t, src, "rq->cpu", 0, 0), "`rq`: trusted kernel pointer (bpf_per_cpu_ptr() of a typed __ksym)"},
		{"kfunc", at(t, src, "other->pid", 0, 0), "`other`: trusted kernel pointer (kfunc bpf_task_from_pid())"},
		{"callback", at(t, src, "vma->vm_flags", 0, 0), "`vma`: trusted kernel pointer (bpf_find_vma() callback argument)"},
		{"tp_btf argument", at(t, src, "p->pid", 0, 0), "`p`: trusted kernel pointer (tp_btf argument): direct reads are CO-RE relocated"},
		{"current task", at(t, src, "*task = (struct task_struct *)bpf_get_current_task()", 0, 1),
			"`task`: kernel address held as a scalar (bpf_get_current_task()): the verifier rejects direct loads; read it with BPF_CORE_READ"},
		{"kprobe register", at(t, src, "arg->tgid", 0, 0), "`arg`: kernel address held as a scalar (kprobe argument)"},
		{"helper parameter", at(t, src, "t->pid; // want", 0, 0), "`t`: kernel address held as a scalar (bpf_get_current_task() in the call from scalars)"},
		{"BPF_KPROBE argument", at(t, src, "file->f_flags", 0, 0), "`file`: kernel address held as a scalar (kprobe argument)"},
		{"probe read", at(t, src, "sk->__sk_common", 0, 0), "`sk`: kernel address held as a scalar (bpf_probe_read_kernel())"},
		{"arms disagree", at(t, src, "t->pid;\n}", 0, 0), "`t`: unknown provenance: corels does not warn about reads through it"},
		{"user address", at(t, src, "str);\n\tbpf_printk", 0, 0), "`str`: kernel address held as a scalar (bpf_probe_read_user())"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, ok := rep.HoverAt(tt.off)
			if !ok {
				t.Fatalf("no hover at %d (%q)", tt.off, src[tt.off:tt.off+10])
			}
			if !strings.Contains(h.Markdown, tt.want) || strings.Contains(h.Markdown, "\n") {
				t.Errorf("hover:\n%s\nwant one line with %q", h.Markdown, tt.want)
			}
		})
	}
	if h, ok := rep.HoverAt(at(t, src, "buf[64]", 0, 0)); ok {
		t.Errorf("hover on a local array: %s", h.Markdown)
	}
}

func TestHintsAndLenses(t *testing.T) {
	rep, src := hoverReport(t)
	hint := func(member string) (InlayHint, bool) {
		for _, h := range rep.Hints {
			if strings.HasSuffix(src[:h.Position.Offset], member) {
				return h, true
			}
		}
		return InlayHint{}, false
	}
	for member, label := range map[string]string{"pid": "+0x8", "__state": "+0x0", "in_iowait": "+0x4:0"} {
		h, ok := hint(member)
		if !ok || h.Label != label {
			t.Errorf("hint after %s: %+v, want %s", member, h, label)
		}
	}
	if h, _ := hint("__state"); !strings.Contains(h.Tooltip, "4.18.0-synth: missing (guarded)") || !strings.Contains(h.Tooltip, "5.14.0-synth: +0x0") {
		t.Errorf("tooltip: %q", h.Tooltip)
	}
	if got := rep.HintsIn(0, at(t, src, "SEC(\"kprobe/do_exit\")", 0, 0)); len(got) != 1 {
		t.Errorf("HintsIn before the program: %v", got)
	}

	var titles []string
	for _, l := range rep.Lenses {
		titles = append(titles, src[l.Range.Start.Offset:l.Range.End.Offset]+": "+l.Title)
	}
	wantLenses := []string{
		"hovers: SEC kprobe/do_exit: 11 relocations, resolve on 0/3 kernels (fail on 4.18.0-synth, 5.10.0-synth, 5.14.0-synth)",
		"nothing: SEC kprobe/nothing: no CO-RE relocations",
	}
	if strings.Join(titles, "\n") != strings.Join(wantLenses, "\n") {
		t.Errorf("lenses:\n%s\nwant:\n%s", strings.Join(titles, "\n"), strings.Join(wantLenses, "\n"))
	}
}

func TestFindingsIn(t *testing.T) {
	rep, src := hoverReport(t)
	off := at(t, src, "struct timeval);", 0, 8)
	fs := rep.FindingsIn(off, off)
	codes := map[string]bool{}
	for _, f := range fs {
		codes[f.Code] = true
	}
	if !codes[CodeCoreReloc] || !codes[CodeFieldMissingUnguarded] {
		t.Errorf("findings at timeval: %v", fs)
	}
	if fixes := rep.FixesIn(off, off); len(fixes) != 1 || !strings.Contains(fixes[0].Title, "bpf_core_type_exists") {
		t.Errorf("fixes at timeval: %v", fixes)
	}
	if !rep.HasErrors() == false {
		t.Log("no errors expected either way")
	}
}
