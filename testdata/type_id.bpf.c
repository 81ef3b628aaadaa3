// bpf_core_type_id_local and bpf_core_type_id_kernel (local_type_id and
// target_type_id): the kernel id feeds bpf_snprintf_btf. The stores into the stack
// variable ptr (struct btf_ptr, a vmlinux.h record) are byte_off relocations too.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char buf[512];

SEC("kprobe/do_exit")
int type_ids(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct btf_ptr ptr = {};
	u32 local_id = bpf_core_type_id_local(struct mm_struct);

	ptr.ptr = task;
	ptr.type_id = bpf_core_type_id_kernel(struct task_struct);
	bpf_snprintf_btf(buf, sizeof(buf), &ptr, sizeof(ptr), 0);
	bpf_printk("local mm_struct id %u", local_id);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
