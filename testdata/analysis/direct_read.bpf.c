// direct-kernel-read: loads through kernel pointers in programs whose context has no BTF
// (kprobe, raw_tp, tracepoint...); legal in tp_btf, fentry, lsm and iter programs.
// kernels: none
#include "synth.h"

struct mm_struct {
	unsigned long total_vm;
} __pai;

struct task_struct___parent {
	int pid;
} __pai;

struct task_struct {
	unsigned int flags;
	unsigned in_iowait:1;
	struct mm_struct *mm;
	int pid;
	int tgid;
	struct task_struct___parent *real_parent;
	char comm[16];
} __pai;

struct pt_regs {
	unsigned long di, si;
} __pai;

struct bpf_raw_tracepoint_args {
	__u64 args[2];
} __pai;

struct trace_event_raw_sched_switch {
	int prev_pid;
} __pai;

static __always_inline int helper_pid(struct task_struct *t)
{
	return t->pid; // want: direct-kernel-read
}

SEC("kprobe/do_exit")
int kprobe_reads(struct pt_regs *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	int pid = task->pid; // want: direct-kernel-read
	int ppid = task->real_parent->pid; // want: direct-kernel-read
	unsigned long vm = task->mm->total_vm; // want: direct-kernel-read
	unsigned int io = task->in_iowait; // want: direct-kernel-read
	int helper = helper_pid(task);

	/* Near misses. */
	struct task_struct *arg = (struct task_struct *)ctx->di;
	int *where = &task->pid;
	int tgid = BPF_CORE_READ(task, tgid);
	int size = sizeof(task->pid) + bpf_core_field_size(task->pid);
	char comm[16];

	bpf_probe_read_kernel_str(comm, sizeof(comm), task->comm);
	bpf_probe_read_kernel(&pid, sizeof(pid), &arg->pid);
	bpf_printk("%d %d %lu %u %d", pid, ppid, vm, io, helper);
	bpf_printk("%d %d %s %p", tgid, size, comm, where);
	return 0;
}

SEC("raw_tp/sched_switch")
int raw_reads(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *next = (struct task_struct *)ctx->args[1];

	bpf_printk("%p", next);
	return ((struct task_struct *)ctx->args[0])->pid; // want: direct-kernel-read
}

SEC("tracepoint/sched/sched_switch")
int tp_reads(struct trace_event_raw_sched_switch *ctx)
{
	return ctx->prev_pid;
}

SEC("tp_btf/sched_switch")
int btf_reads(__u64 *ctx)
{
	struct task_struct *t = (struct task_struct *)ctx[1];

	return t->pid + t->real_parent->pid + t->mm->total_vm;
}

SEC("fentry/do_exit")
int fentry_reads(__u64 *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();

	return t->tgid + helper_pid(t);
}

SEC("lsm/task_alloc")
int lsm_reads(__u64 *ctx)
{
	struct task_struct *t = (struct task_struct *)ctx[0];

	return t->flags;
}

SEC("iter/task")
int iter_reads(__u64 *ctx)
{
	struct task_struct *t = (struct task_struct *)ctx[1];

	return t ? t->pid : 0;
}

char LICENSE[] SEC("license") = "GPL";
