// Names that are both ordinary identifiers and vmlinux.h tags: every map's `key`, a
// variable `file`, a parameter `pid`, an enumerator's enum. Written after struct, they
// are the records; bare, they are not, and a compile of one function leaves the records
// out (compiler/tags.go) without changing what is relocated.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, u32);
	__type(value, u64);
} seen SEC(".maps");

static __always_inline u64 inode_of(struct file *file)
{
	return BPF_CORE_READ(file, f_inode, i_ino);
}

SEC("kprobe/vfs_read")
int BPF_KPROBE(read_file, struct file *file)
{
	u32 key = bpf_get_current_pid_tgid() >> 32;
	u64 value = inode_of(file);

	bpf_map_update_elem(&seen, &key, &value, BPF_ANY);
	return 0;
}

SEC("kprobe/key_task_permission")
int BPF_KPROBE(key_perm, struct key *key)
{
	int pid = bpf_get_current_pid_tgid();
	u32 serial = BPF_CORE_READ(key, serial);

	if (bpf_core_enum_value_exists(enum pid_type, PIDTYPE_TGID))
		bpf_printk("%d: key %u", pid, serial);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
