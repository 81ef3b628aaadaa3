// Pointer provenance: a layout warning needs a kernel type reached through kernel memory.
// Direct loads are rejected through kernel addresses held as numbers, allowed through the
// context, trusted pointers (PTR_TO_BTF_ID) and the program's own memory; probe reads
// through the program's own memory or of its own types are its own layout.
// kernels: none
#include "synth.h"
#include <bpf/bpf_tracing.h>

/* Kernel types (their names are the kernel's), as the kernel lays them out. */
struct pt_regs {
	unsigned long rdi, rsi, rdx, rcx, r8, rax, rsp, rip;
};

struct mm_struct {
	unsigned long total_vm;
} __pai;

struct task_struct {
	int pid;
	int tgid;
	struct mm_struct *mm;
} __pai;

struct vm_area_struct {
	unsigned long vm_start;
	unsigned long vm_flags;
} __pai;

struct rq {
	int cpu;
} __pai;

struct syscall_trace_exit {
	__u64 common;
	long nr;
	long ret;
} __pai;

struct sock_common {
	__u16 skc_family;
	__be16 skc_dport;
};

struct sock {
	struct sock_common __sk_common;
	int sk_rcvbuf;
};

struct file {
	unsigned int f_flags;
	void *private_data;
};

/* The program's own types. */
struct open_args {
	const char *fname;
	int flags;
};

struct stack_trace {
	__u64 ips[16];
	int depth;
};

struct sample {
	int val1;
	int val2;
} __pai;

struct go_string {
	const char *str;
	long len;
};

struct {
	__uint(type, 1); /* BPF_MAP_TYPE_HASH */
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct open_args);
} args_map SEC(".maps");

struct {
	__uint(type, 6); /* BPF_MAP_TYPE_PERCPU_ARRAY */
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack_trace);
} stacks SEC(".maps");

struct sample input = {};
int target_pid = 0;

extern const struct rq runqueues __ksym;
extern struct task_struct *bpf_task_from_pid(int pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

/* Program-owned memory: map values and global data, whatever their types. */
SEC("tracepoint/syscalls/sys_exit_openat")
int map_values(struct syscall_trace_exit *ctx)
{
	__u32 key = 0, i = 1;
	char buf[64];
	__u64 ip = 0;
	struct open_args *args = bpf_map_lookup_elem(&args_map, &key);
	struct stack_trace *stack = bpf_map_lookup_elem(&stacks, &key);
	struct sample *in = (void *)&input;

	if (!args || !stack || ctx->ret < 0)
		return 0;
	bpf_probe_read_user_str(buf, sizeof(buf), args->fname);
	if (i < 16)
		bpf_probe_read_kernel(&ip, sizeof(ip), &stack->ips[i]);
	bpf_printk("%s %llu %d %d", buf, ip, in->val1, in->val2);
	return 0;
}

/* Kernel addresses held as numbers: the verifier rejects direct loads through them, also
 * in a helper's copy inlined into a program that passes one. */
static __always_inline int task_pid(struct task_struct *t)
{
	return t->pid; // want: direct-kernel-read
}

/* Trusted pointers: a task from bpf_get_current_task_btf(), a typed __ksym's per-CPU
 * pointer, a kfunc's result, a callback's arguments, members loaded from them. */
static long check_vma(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	return vma->vm_flags + task->pid;
}

SEC("raw_tp/sys_enter")
int trusted(void *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct task_struct *other;
	struct rq *rq = (struct rq *)bpf_per_cpu_ptr(&runqueues, 0);
	struct mm_struct *mm = task->mm;
	int data = 0;

	if (!rq || task->pid != target_pid)
		return 0;
	bpf_find_vma(task, 0, check_vma, &data, 0);
	other = bpf_task_from_pid(task->tgid);
	if (other) {
		data += other->pid + task_pid(task);
		bpf_task_release(other);
	}
	bpf_printk("%d %lu %d", rq->cpu, mm->total_vm, data);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(typed_args, struct task_struct *p)
{
	return p->pid + p->mm->total_vm;
}

SEC("kprobe/do_exit")
int scalars(struct pt_regs *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct task_struct *arg = (struct task_struct *)PT_REGS_PARM1(ctx);
	struct task_struct *copy = BPF_CORE_READ(task, mm) ? task : 0;
	struct {
		struct task_struct *t;
	} holder;
	int pid = task->pid; // want: direct-kernel-read
	int tgid = arg->tgid; // want: direct-kernel-read

	holder.t = task;
	pid += holder.t->pid; // want: direct-kernel-read
	pid += copy->pid; // want: direct-kernel-read
	bpf_printk("%d %d %d", pid, tgid, task_pid(task));
	return 0;
}

SEC("kprobe/vfs_read")
int BPF_KPROBE(kprobe_args, struct file *file)
{
	struct sock *sk = 0;
	struct sock_common skc;
	unsigned int flags = 0;
	__u16 family = 0;

	bpf_probe_read_kernel(&flags, sizeof(flags), &file->f_flags); // want: probe-read-not-relocatable
	bpf_probe_read_kernel(&sk, sizeof(sk), &file->private_data); // want: probe-read-not-relocatable
	bpf_probe_read_kernel(&skc, sizeof(skc), &sk->__sk_common); // want: probe-read-not-relocatable
	bpf_probe_read_kernel(&family, sizeof(family), &skc.skc_family);
	bpf_printk("%u %u %u", flags, family, skc.skc_dport);
	return 0;
}

/* Near misses: both arms of ?: must agree; a user-space struct of a uprobe is the
 * program's own type. */
SEC("raw_tp/sys_enter")
int mixed(void *ctx)
{
	struct task_struct *t = target_pid ? bpf_get_current_task_btf() : (void *)bpf_get_current_task();

	return t->pid;
}

SEC("uprobe//usr/bin/app:main.greet")
int BPF_KPROBE(go_string_arg, struct go_string *s)
{
	char buf[32];
	const char *str = 0;

	bpf_probe_read_user(&str, sizeof(str), &s->str);
	bpf_probe_read_user_str(buf, sizeof(buf), str);
	bpf_printk("%s", buf);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
