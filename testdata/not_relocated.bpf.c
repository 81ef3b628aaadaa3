// Expressions on preserve_access_index records that are compile-time constants and
// therefore not relocated: sizeof of a record, of a member, offsetof, and typeof.
// Only the one real load (task->pid through bpf_core_read) produces a relocation.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

SEC("kprobe/do_exit")
int constants_only(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	typeof(task->tgid) pid = 0;
	unsigned long sz = sizeof(*task) + sizeof(task->comm);
	unsigned long off = __builtin_offsetof(struct task_struct, pid);

	bpf_core_read(&pid, sizeof(pid), &task->pid);
	bpf_printk("size %lu offset %lu pid %d", sz, off, pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
