// The first number of an access string is the index applied to the root pointer:
// &ids[2].nr is `upid 2:0`, &ids->ns is `upid 0:1`. Taking p->numbers (an array
// member, no load) is itself a byte_off relocation on struct pid.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

SEC("kprobe/alloc_pid")
int root_index(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct pid *p = BPF_CORE_READ(task, thread_pid);
	struct upid *ids = p->numbers;
	struct pid_namespace *ns = 0;
	int nr = 0;

	bpf_core_read(&nr, sizeof(nr), &ids[2].nr);
	bpf_core_read(&ns, sizeof(ns), &ids->ns);
	bpf_printk("nr %d ns %p", nr, ns);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
