// Guards: task_struct.__state (5.14) and the task_struct___old flavor's state (4.18,
// 5.10). A read failing on a kernel is fine where a dominating CO-RE check skips it
// there; the same reads without such a check are core-field-missing-unguarded.
// kernels: 4.18.0-synth 5.10.0-synth 5.14.0-synth
#include "synth.h"

struct task_struct {
	unsigned int __state;
	int pid;
} __pai;

struct task_struct___old {
	long state;
} __pai;

__u64 out[16];

/* The idiom: early return on the new layout, the flavor after it. */
static __always_inline long task_state(struct task_struct *task)
{
	struct task_struct___old *old;

	if (bpf_core_field_exists(task->__state))
		return BPF_CORE_READ(task, __state);
	old = (void *)task;
	return BPF_CORE_READ(old, state);
}

static __always_inline int has_new_state(struct task_struct *t)
{
	return bpf_core_field_exists(t->__state);
}

/* Called only where __state exists. */
static __always_inline long new_state(struct task_struct *t)
{
	return BPF_CORE_READ(t, __state);
}

/* Called from a guarded and an unguarded place. */
static __always_inline long old_state(struct task_struct *t)
{
	return BPF_CORE_READ((struct task_struct___old *)t, state); // want: core-field-missing-unguarded
}

SEC("kprobe/guards")
int guards(void *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct task_struct___old *old = (void *)t;
	int has = bpf_core_field_exists(t->__state);

	out[0] = task_state(t);
	out[1] = bpf_core_field_exists(t->__state) ? BPF_CORE_READ(t, __state) : BPF_CORE_READ(old, state);
	if (!bpf_core_field_exists(struct task_struct___old, state))
		out[2] = BPF_CORE_READ(t, __state);
	else
		out[2] = BPF_CORE_READ(old, state);
	if (has_new_state(t))
		out[3] = new_state(t);
	if (has)
		out[4] = BPF_CORE_READ(t, __state);
	if (!has)
		out[5] = old_state(t);
	out[6] = old_state(t);
	out[7] = BPF_CORE_READ(old, state); // want: core-field-missing-unguarded
	out[8] = BPF_CORE_READ(t, __state); // want: core-field-missing-unguarded
	if (!bpf_core_field_exists(t->__state))
		return 0;
	out[9] = BPF_CORE_READ(t, __state);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
