// BPF_CORE_READ_INTO with one step and with a three-step chain ending in a
// typedef'd anonymous struct member (kuid_t is `typedef struct { uid_t val; } kuid_t`).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

SEC("kprobe/do_exit")
int read_into(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	u64 start = 0;
	uid_t uid = 0;

	BPF_CORE_READ_INTO(&start, task, start_time);
	BPF_CORE_READ_INTO(&uid, task, real_parent, cred, uid.val);
	bpf_printk("start %llu parent uid %u", start, uid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
