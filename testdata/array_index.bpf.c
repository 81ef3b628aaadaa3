// Array subscripts end the access string: task->comm[1] is `task_struct 0:N:1`;
// a constant subscript through BPF_CORE_READ's field argument does the same.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

SEC("kprobe/do_exit")
int comm_chars(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	char second = 0;
	char fourth;

	bpf_core_read(&second, 1, &task->comm[1]);
	fourth = BPF_CORE_READ(task, real_parent, comm[3]);
	bpf_printk("comm[1]=%c parent comm[3]=%c", second, fourth);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
