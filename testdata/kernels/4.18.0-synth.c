/* A 4.18-like kernel: task_struct.state is a long, pids[] still exists,
 * struct timeval, no ring buffer map type. */
#include "common.h"

struct pid_link {
	struct list_head node;
	struct pid *pid;
};

struct mm_struct {
	unsigned long mmap_base;
	unsigned long total_vm;
	unsigned long locked_vm;
};

struct task_struct {
	volatile long state;
	void *stack;
	unsigned int flags;
	/* 5.11 moved sched_remote_wakeup out of this word. */
	unsigned sched_reset_on_fork:1;
	unsigned sched_contributes_to_load:1;
	unsigned sched_migrated:1;
	unsigned sched_remote_wakeup:1;
	unsigned :0;
	unsigned in_execve:1;
	unsigned in_iowait:1;
	struct mm_struct *mm;
	pid_t pid;
	pid_t tgid;
	struct task_struct *real_parent;
	struct pid_link pids[3];
	char comm[16];
	u64 start_time;
};

struct timeval {
	long tv_sec;
	long tv_usec;
};

enum bpf_map_type {
	BPF_MAP_TYPE_UNSPEC,
	BPF_MAP_TYPE_HASH,
	BPF_MAP_TYPE_ARRAY,
	BPF_MAP_TYPE_PROG_ARRAY,
	BPF_MAP_TYPE_PERF_EVENT_ARRAY,
};

enum bpf_func_id {
	BPF_FUNC_unspec,
	BPF_FUNC_map_lookup_elem,
	BPF_FUNC_map_update_elem,
	BPF_FUNC_map_delete_elem,
	BPF_FUNC_probe_read,
	BPF_FUNC_ktime_get_ns,
};

KEEP(struct task_struct, init_task);
KEEP(struct mm_struct, init_mm);
KEEP(struct timeval, boot_tv);
KEEP(struct file, some_file);
KEEP(struct pt_regs, some_regs);
KEEP(enum bpf_map_type, map_type);
KEEP(enum bpf_func_id, func_id);
