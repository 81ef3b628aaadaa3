// BPF_CORE_READ_BITFIELD_PROBED on a kernel bitfield: byte_off, byte_sz,
// lshift_u64, signed and rshift_u64 relocations for task_struct.in_iowait.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

SEC("kprobe/io_schedule_prepare")
int iowait_bit(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	u64 iowait = BPF_CORE_READ_BITFIELD_PROBED(task, in_iowait);

	bpf_printk("in_iowait %llu", iowait);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
