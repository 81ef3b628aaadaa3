// The clang builtins called directly on expressions instead of through libbpf's
// macros: __builtin_btf_type_id on a dereferenced variable, __builtin_preserve_type_info
// and __builtin_preserve_enum_value with the kinds as integers.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("kprobe/do_exit")
int raw_builtins(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct mm_struct *mm = 0;
	u32 task_id = __builtin_btf_type_id(*task, 1);
	u32 mm_local = __builtin_btf_type_id(*mm, 0);
	u32 mm_size = __builtin_preserve_type_info(*mm, 1);
	u32 has_map = __builtin_preserve_type_info(*(struct bpf_map *)0, 0);
	u64 hash = __builtin_preserve_enum_value(*(enum bpf_map_type *)BPF_MAP_TYPE_HASH, 1);
	u32 dev_sz = __builtin_preserve_field_info(task->pid, 1);

	bpf_printk("%u %u %u", task_id, mm_local, mm_size);
	bpf_printk("%u %llu %u", has_map, hash, dev_sz);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
