// A relocation inside a non-inlined static function (ELF section .text) that two
// programs call, and one inside an inlined helper.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

static __noinline u64 parent_start(struct task_struct *task)
{
	return BPF_CORE_READ(task, real_parent, start_time);
}

static __always_inline u32 task_cpu_of(struct task_struct *task)
{
	return BPF_CORE_READ(task, wake_cpu);
}

SEC("kprobe/do_exit")
int on_exit(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	bpf_printk("exit: parent started %llu cpu %u", parent_start(task), task_cpu_of(task));
	return 0;
}

SEC("kprobe/wake_up_new_task")
int on_fork(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	bpf_printk("fork: parent started %llu", parent_start(task));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
