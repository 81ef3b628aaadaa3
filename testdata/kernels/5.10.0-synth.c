/* A 5.10-like kernel: state is still a long, pids[] replaced by thread_pid
 * (4.19), struct timeval renamed __kernel_old_timeval (5.6), ring buffer map
 * type added (5.8). */
#include "common.h"

struct mm_struct {
	unsigned long mmap_base;
	unsigned long total_vm;
	unsigned long locked_vm;
};

struct task_struct {
	volatile long state;
	void *stack;
	unsigned int flags;
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
	struct pid *thread_pid;
	char comm[16];
	u64 start_time;
	u64 start_boottime;
};

struct __kernel_old_timeval {
	long tv_sec;
	long tv_usec;
};

enum bpf_map_type {
	BPF_MAP_TYPE_UNSPEC,
	BPF_MAP_TYPE_HASH,
	BPF_MAP_TYPE_ARRAY,
	BPF_MAP_TYPE_PROG_ARRAY,
	BPF_MAP_TYPE_PERF_EVENT_ARRAY,
	BPF_MAP_TYPE_STRUCT_OPS = 26,
	BPF_MAP_TYPE_RINGBUF = 27,
};

enum bpf_func_id {
	BPF_FUNC_unspec,
	BPF_FUNC_map_lookup_elem,
	BPF_FUNC_map_update_elem,
	BPF_FUNC_map_delete_elem,
	BPF_FUNC_probe_read,
	BPF_FUNC_ktime_get_ns,
	BPF_FUNC_ringbuf_output = 130,
	BPF_FUNC_ringbuf_reserve = 131,
};

KEEP(struct task_struct, init_task);
KEEP(struct mm_struct, init_mm);
KEEP(struct __kernel_old_timeval, boot_tv);
KEEP(struct file, some_file);
KEEP(struct pt_regs, some_regs);
KEEP(enum bpf_map_type, map_type);
KEEP(enum bpf_func_id, func_id);
