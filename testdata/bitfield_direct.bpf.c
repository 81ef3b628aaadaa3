// BPF_CORE_READ_BITFIELD (direct loads) in a tp_btf program, where the task
// pointers are trusted and may be dereferenced.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

SEC("tp_btf/sched_switch")
int BPF_PROG(switch_bits, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	u64 execve = BPF_CORE_READ_BITFIELD(next, in_execve);

	bpf_printk("next in_execve %llu", execve);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
