// Every __builtin_preserve_field_info kind spelled out on kernel fields:
// BPF_FIELD_BYTE_OFFSET (bpf_core_field_offset), BYTE_SIZE, EXISTS, SIGNED,
// LSHIFT_U64 and RSHIFT_U64, on a plain int (prio) and a bitfield (frozen).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct info {
	u32 off, size, exists, is_signed, lshift, rshift;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, u32);
	__type(value, struct info);
} infos SEC(".maps");

SEC("kprobe/do_exit")
int field_infos(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct info in = {};
	u32 key = 0;

	in.off = bpf_core_field_offset(task->prio);
	in.size = __builtin_preserve_field_info(task->prio, BPF_FIELD_BYTE_SIZE);
	in.exists = __builtin_preserve_field_info(task->prio, BPF_FIELD_EXISTS);
	in.is_signed = __builtin_preserve_field_info(task->prio, BPF_FIELD_SIGNED);
	bpf_map_update_elem(&infos, &key, &in, BPF_ANY);

	key = 1;
	in.off = bpf_core_field_offset(struct task_struct, frozen);
	in.size = bpf_core_field_size(struct task_struct, frozen);
	in.exists = bpf_core_field_exists(struct task_struct, frozen);
	in.is_signed = __builtin_preserve_field_info(task->frozen, BPF_FIELD_SIGNED);
	in.lshift = __builtin_preserve_field_info(task->frozen, BPF_FIELD_LSHIFT_U64);
	in.rshift = __builtin_preserve_field_info(task->frozen, BPF_FIELD_RSHIFT_U64);
	bpf_map_update_elem(&infos, &key, &in, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
