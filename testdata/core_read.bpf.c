// bpf_core_read and bpf_core_read_str with explicit addresses of fields.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

SEC("kprobe/do_exit")
int plain_core_read(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	unsigned int flags = 0;
	struct task_struct *leader = 0;
	char comm[16];

	bpf_core_read(&flags, sizeof(flags), &task->flags);
	bpf_core_read(&leader, sizeof(leader), &task->group_leader);
	bpf_core_read_str(comm, sizeof(comm), &leader->comm);
	bpf_printk("flags %x leader %s", flags, comm);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
