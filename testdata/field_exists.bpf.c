// bpf_core_field_exists guards: the existence check and the guarded read give
// field_exists and byte_off relocations with the same access string.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

SEC("kprobe/do_exit")
int exists_guard(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	u64 ino = 0;
	int has_pids = bpf_core_field_exists(struct pid, ino);

	if (bpf_core_field_exists(task->thread_pid))
		ino = BPF_CORE_READ(task, thread_pid, ino);
	bpf_printk("pidfs ino %llu (%d)", ino, has_pids);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
