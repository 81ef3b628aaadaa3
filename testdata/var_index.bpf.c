// A variable array subscript cannot be part of an access string: the relocation
// covers the array member (task_struct 0:N, comm) and the index is added at run time.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

SEC("kprobe/do_exit")
int variable_subscript(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	u32 i = bpf_get_prandom_u32() & 15;
	char c = 0;

	bpf_core_read(&c, 1, &task->comm[i]);
	bpf_printk("comm[%u] = %c", i, c);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
