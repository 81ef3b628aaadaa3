// No relocations: a ring buffer event built from helpers (pid, comm, time) in a
// tracepoint program whose context is not dereferenced.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct exec_event {
	u64 ts;
	u32 pid;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} exec_events SEC(".maps");

SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx)
{
	struct exec_event *e = bpf_ringbuf_reserve(&exec_events, sizeof(*e), 0);

	if (!e)
		return 0;
	e->ts = bpf_ktime_get_ns();
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
