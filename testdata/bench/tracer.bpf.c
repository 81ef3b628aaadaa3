// SPDX-License-Identifier: GPL-2.0
/*
 * proctrace: process exec, file open/close and exit events, in the style of
 * libbpf-tools (execsnoop, opensnoop, exitsnoop in one program). Events go to
 * user space through a ring buffer; the exec time of each process is kept in a
 * hash map so its exit event carries the process's lifetime.
 *
 * corels-bench's "real tracing tool": it compiles with
 *   clang-16 -target bpf -O2 -g -D__TARGET_ARCH_x86 -I testdata/include
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define TASK_COMM_LEN 16
#define MAX_PATH 128
#define MAX_ENTRIES 10240

enum event_kind {
	EVENT_EXEC = 1,
	EVENT_OPEN,
	EVENT_CLOSE,
	EVENT_EXIT,
};

struct event {
	enum event_kind kind;
	pid_t pid;
	pid_t ppid;
	uid_t uid;
	int ret;
	unsigned int state;
	unsigned int max_fds;
	__u64 flags;
	__u64 total_vm;
	__u64 duration_ns;
	char comm[TASK_COMM_LEN];
	char path[MAX_PATH];
};

/* Kernels before 5.14 name the task state `state` and make it a long. */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

/* Set by user space before load. */
const volatile pid_t targ_tgid = 0;
const volatile uid_t targ_uid = (uid_t)-1;
const volatile bool trace_exec_only = false;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, pid_t);
	__type(value, __u64);
} exec_start SEC(".maps");

static __always_inline bool filtered(void)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 uid = (__u32)bpf_get_current_uid_gid();

	if (targ_tgid && (pid_t)(pid_tgid >> 32) != targ_tgid)
		return true;
	if (targ_uid != (uid_t)-1 && uid != targ_uid)
		return true;
	return false;
}

static __always_inline unsigned int task_state(struct task_struct *task)
{
	struct task_struct___pre514 *old;

	if (bpf_core_field_exists(task->__state))
		return BPF_CORE_READ(task, __state);
	old = (void *)task;
	return BPF_CORE_READ(old, state);
}

/* The fields every event has, read from the current task. */
static __always_inline void fill_task(struct event *e, struct task_struct *task)
{
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	BPF_CORE_READ_INTO(&e->uid, task, cred, uid.val);
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	e->state = task_state(task);
}

static __always_inline struct event *reserve_event(enum event_kind kind)
{
	struct event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return NULL;
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = kind;
	return e;
}

SEC("tp/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	pid_t pid = bpf_get_current_pid_tgid() >> 32;
	unsigned int fname_off;
	struct event *e;
	__u64 ts;

	if (filtered())
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&exec_start, &pid, &ts, BPF_ANY);

	e = reserve_event(EVENT_EXEC);
	if (!e)
		return 0;
	fill_task(e, task);
	e->total_vm = BPF_CORE_READ(task, mm, total_vm);
	/* The filename is a __data_loc string: offset in the low 16 bits. */
	fname_off = ctx->__data_loc_filename & 0xFFFF;
	bpf_probe_read_kernel_str(&e->path, sizeof(e->path), (void *)ctx + fname_off);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(openat2_entry, int dfd, const char *filename, struct open_how *how)
{
	struct task_struct *task;
	struct event *e;

	if (trace_exec_only || filtered())
		return 0;
	e = reserve_event(EVENT_OPEN);
	if (!e)
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	fill_task(e, task);
	e->ret = dfd;
	e->flags = BPF_CORE_READ(how, flags);
	e->max_fds = BPF_CORE_READ(task, files, fdt, max_fds);
	bpf_probe_read_user_str(&e->path, sizeof(e->path), filename);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("fentry/filp_close")
int BPF_PROG(filp_close_entry, struct file *filp, fl_owner_t id)
{
	struct task_struct *task = bpf_get_current_task_btf();
	const unsigned char *name;
	struct event *e;

	if (trace_exec_only || filtered())
		return 0;
	/* Closes of files nobody named (anonymous inodes, pipes) are noise. */
	if (!filp->f_path.dentry)
		return 0;
	e = reserve_event(EVENT_CLOSE);
	if (!e)
		return 0;
	fill_task(e, task);
	e->flags = filp->f_flags;
	name = BPF_CORE_READ(filp, f_path.dentry, d_name.name);
	bpf_probe_read_kernel_str(&e->path, sizeof(e->path), name);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp/sched/sched_process_exit")
int handle_exit(struct trace_event_raw_sched_process_template *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid();
	pid_t pid = id >> 32, tid = (__u32)id;
	__u64 *start, now;
	struct event *e;

	/* A thread's exit is not the process's. */
	if (pid != tid)
		return 0;
	start = bpf_map_lookup_elem(&exec_start, &pid);
	if (!start)
		return 0;
	now = bpf_ktime_get_ns();

	e = reserve_event(EVENT_EXIT);
	if (e) {
		fill_task(e, task);
		e->duration_ns = now - *start;
		e->ret = BPF_CORE_READ(task, exit_code) >> 8;
		bpf_ringbuf_submit(e, 0);
	}
	bpf_map_delete_elem(&exec_start, &pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
