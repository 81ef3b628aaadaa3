// BPF_CORE_READ(task, mm, total_vm): total_vm sits inside an anonymous struct of
// mm_struct, so the mm_struct access string has a step for the anonymous member.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, u64);
} vm_pages SEC(".maps");

SEC("kprobe/handle_mm_fault")
int sample_total_vm(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	u32 pid = bpf_get_current_pid_tgid() >> 32;
	u64 pages = BPF_CORE_READ(task, mm, total_vm);

	bpf_map_update_elem(&vm_pages, &pid, &pages, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
