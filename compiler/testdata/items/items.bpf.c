// Top-level items of every kind a function may need or not: the compile of one edited
// function (compiler/items.go) leaves out the items it does not reach. TestReuseItems
// edits it.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

struct event {
	u32 pid;
	u64 start;
	struct task_struct *task;
};

struct counters;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, u32);
	__type(value, struct event);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} totals SEC(".maps");

const volatile u32 target_tgid = 0;
#define TARGET (target_tgid)

enum op_mode { OP_OFF, OP_ON };
typedef enum op_mode op_mode_t;
const volatile op_mode_t mode = OP_ON;

#define DECLARE_COUNTER(name) u64 name##_count
DECLARE_COUNTER(exec);
#define COUNT(name) (name##_count++)

struct counters *shared_counters;

struct task_view {
	struct mm_struct *mm;
	struct counters *c;
	int flags;
} __attribute__((preserve_access_index));

struct counters {
	u64 forks;
	u64 exits;
};

static __always_inline u32 tgid_of(struct task_struct *t)
{
	return BPF_CORE_READ(t, tgid);
}

static __always_inline u64 *total(void)
{
	u32 zero = 0;

	return bpf_map_lookup_elem(&totals, &zero);
}

SEC("tp/sched/sched_process_exec")
int on_exec(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	struct event e = {};

	if (TARGET && tgid_of(t) != TARGET)
		return 0;
	e.pid = tgid_of(t);
	e.task = t;
	COUNT(exec);
	bpf_map_update_elem(&events, &e.pid, &e, BPF_ANY);
	return 0;
}

SEC("tp/sched/sched_process_exit")
int on_exit(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	struct task_view *v = (void *)t;
	u64 *n = total();

	if (n)
		__sync_fetch_and_add(n, 1);
	if (mode == OP_OFF)
		return 0;
	return BPF_CORE_READ(v, mm, total_vm) + BPF_CORE_READ(t, pid);
}

SEC("tp/sched/sched_process_fork")
int on_fork(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();

	bpf_printk("fork %d", BPF_CORE_READ(t, pid));
	return 0;
}
