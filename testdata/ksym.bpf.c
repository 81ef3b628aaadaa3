// __ksym externs: a typed per-CPU variable (runqueues), a typeless symbol, and two
// kfuncs. Reading rq->nr_running through bpf_per_cpu_ptr is a direct access to a
// vmlinux.h record, hence relocated.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

extern const struct rq runqueues __ksym;
extern const void bpf_prog_active __ksym;
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

SEC("tp_btf/sched_wakeup")
int BPF_PROG(wakeup_rq, struct task_struct *p)
{
	struct task_struct *held;
	struct rq *rq;
	int *active;

	rq = bpf_per_cpu_ptr(&runqueues, 0);
	if (rq)
		bpf_printk("cpu0 nr_running %u", rq->nr_running);
	active = bpf_this_cpu_ptr(&bpf_prog_active);
	bpf_printk("prog active %d", *active);

	held = bpf_task_acquire(p);
	if (held) {
		bpf_printk("woken %d", held->pid);
		bpf_task_release(held);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
