// The __state/state pattern: a local flavor struct task_struct___old describes the
// pre-5.14 layout; bpf_core_field_exists picks the branch at load time. The loader
// matches task_struct___old to task_struct (the ___suffix is ignored).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

static __always_inline long task_state(struct task_struct *task)
{
	struct task_struct___old *old;

	if (bpf_core_field_exists(task->__state))
		return BPF_CORE_READ(task, __state);
	old = (void *)task;
	return BPF_CORE_READ(old, state);
}

SEC("kprobe/finish_task_switch")
int state_of_current(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	int old_layout = bpf_core_field_exists(struct task_struct___old, state);

	bpf_printk("state %ld old layout %d", task_state(task), old_layout);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
