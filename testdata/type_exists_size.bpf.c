// bpf_core_type_exists and bpf_core_type_size on a struct, a union, an enum and a
// typedef (type relocations keep the access string "0").
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

SEC("kprobe/do_exit")
int type_checks(void *ctx)
{
	int has_iter = bpf_core_type_exists(struct bpf_iter_num);
	u32 task_sz = bpf_core_type_size(struct task_struct);
	u32 attr_sz = bpf_core_type_size(union bpf_attr);
	int has_ids = bpf_core_type_exists(enum bpf_func_id);
	int has_kuid = bpf_core_type_exists(kuid_t);
	u32 kuid_sz = bpf_core_type_size(kuid_t);

	bpf_printk("%d %u %u", has_iter, task_sz, attr_sz);
	bpf_printk("%d %d %u", has_ids, has_kuid, kuid_sz);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
