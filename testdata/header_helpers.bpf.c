// Relocations in a user header's static inline helpers (header_helpers.bpf.h): reported at
// their place in the header once a program calls them, as clang emits them.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "header_helpers.bpf.h"

SEC("kprobe/do_exit")
int BPF_KPROBE(on_exit, long code)
{
	struct task_struct *task = (void *)bpf_get_current_task();

	bpf_printk("exit %ld vm %lu", code, task_vm_or_ppid(task));
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	bpf_printk("fork %d", task_ppid(child));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
