// BPF_CORE_READ through a pointer chain: task->real_parent->tgid.
// One byte_off per step, each rooted at the struct the step starts from.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

SEC("kprobe/do_exit")
int parent_tgid(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	pid_t ppid = BPF_CORE_READ(task, real_parent, tgid);

	bpf_printk("parent tgid %d", ppid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
