// The same access written several times: clang may merge the loads (CSE) but a
// relocation set per file has each key once either way.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

SEC("fentry/wake_up_process")
int BPF_PROG(wake, struct task_struct *p)
{
	int a = p->pid;
	int b = p->pid;
	pid_t t1 = BPF_CORE_READ(p, tgid);
	pid_t t2 = BPF_CORE_READ(p, tgid);

	bpf_printk("%d %d", a + b, t1 + t2);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
