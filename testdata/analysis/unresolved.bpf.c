// core-unresolved and core-field-missing-unguarded against the synthetic kernels:
// pids[] exists only in 4.18, thread_pid from 5.10 on, struct timeval only in 4.18,
// BPF_MAP_TYPE_RINGBUF from 5.10 on.
// kernels: 4.18.0-synth 5.10.0-synth 5.14.0-synth
#include "synth.h"

struct pid;

struct pid_link {
	struct pid *pid;
} __pai;

struct task_struct {
	int pid;
	struct pid_link pids[3];
	struct pid *thread_pid;
	long no_such_field;
} __pai;

struct timeval {
	long tv_sec;
} __pai;

enum bpf_map_type {
	BPF_MAP_TYPE_RINGBUF = 27,
};

__u64 out[16];

SEC("kprobe/unresolved")
int unresolved(void *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();

	out[0] = (__u64)BPF_CORE_READ(t, thread_pid); // want: core-field-missing-unguarded
	out[1] = BPF_CORE_READ(t, no_such_field); // want: core-unresolved
	if (bpf_core_field_exists(t->pids))
		out[2] = (__u64)BPF_CORE_READ(t, thread_pid); // want: core-unresolved
	out[3] = bpf_core_type_size(struct timeval); // want: core-field-missing-unguarded
	out[4] = bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF); // want: core-unresolved

	/* Near misses: guarded, existence checks, fields every kernel has. */
	if (bpf_core_field_exists(t->thread_pid))
		out[5] = (__u64)BPF_CORE_READ(t, thread_pid);
	else
		out[5] = (__u64)BPF_CORE_READ(t, pids[0].pid);
	if (bpf_core_type_exists(struct timeval))
		out[6] = bpf_core_type_size(struct timeval);
	if (bpf_core_enum_value_exists(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF))
		out[7] = bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF);
	out[8] = bpf_core_field_exists(t->no_such_field);
	out[9] = BPF_CORE_READ(t, pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
