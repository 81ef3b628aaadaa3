// BPF_CORE_READ_STR_INTO: pointer steps are read with bpf_core_read, the last
// field (a char array) with bpf_core_read_str.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct event {
	u32 pid;
	char comm[16];
	char parent_comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("kprobe/wake_up_new_task")
int comm_strings(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	BPF_CORE_READ_STR_INTO(&e->parent_comm, task, real_parent, comm);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
