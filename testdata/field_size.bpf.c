// bpf_core_field_size in both forms: through an expression and through
// (type, field), the latter on a field inside an anonymous struct.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

SEC("kprobe/do_exit")
int field_sizes(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	u32 comm_sz = bpf_core_field_size(task->comm);
	u32 vm_sz = bpf_core_field_size(struct mm_struct, total_vm);
	u32 state_sz = bpf_core_field_size(task->__state);

	bpf_printk("sizes %u %u %u", comm_sz, vm_sz, state_sz);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
