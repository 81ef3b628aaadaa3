// Direct pointer access in a tp_btf program: vmlinux.h's pragma makes every
// record preserve_access_index, so next->mm->total_vm is relocated without any macro.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct mm_struct *mm = next->mm;
	unsigned long vm = 0;

	if (mm)
		vm = mm->total_vm;
	bpf_printk("%d -> %d total_vm %lu", prev->pid, next->pid, vm);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
