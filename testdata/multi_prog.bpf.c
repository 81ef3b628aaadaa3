// Several programs of different types in one file, each with its own relocations;
// the golden file keeps one set for the whole file.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

SEC("tp_btf/sched_process_fork")
int BPF_PROG(fork_btf, struct task_struct *parent, struct task_struct *child)
{
	bpf_printk("fork %d -> %d", parent->pid, child->pid);
	return 0;
}

SEC("raw_tp/sched_process_exit")
int exit_raw(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *task = (struct task_struct *)ctx->args[0];

	bpf_printk("exit prio %d", BPF_CORE_READ(task, prio));
	return 0;
}

SEC("kprobe/tcp_connect")
int BPF_KPROBE(connect, struct sock *sk)
{
	u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	bpf_printk("connect family %u", family);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
