// SPDX-License-Identifier: GPL-2.0
/* CO-RE relocations that meet the synthetic kernels' history: state vs
 * __state with flavors, a removed field, a renamed struct, a bitfield that
 * moved, enum values that appeared, and an ambiguous type. Compiled by
 * `make kernels` into history.o for the differential test. */
typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define __pai __attribute__((preserve_access_index))

struct list_head { struct list_head *next, *prev; } __pai;
struct pid;
struct pid_link { struct list_head node; struct pid *pid; } __pai;

struct mm_struct { unsigned long total_vm; } __pai;

struct task_struct {
	unsigned int flags;
	unsigned sched_contributes_to_load:1;
	unsigned sched_remote_wakeup:1;
	unsigned in_iowait:1;
	struct mm_struct *mm;
	int pid;
	int tgid;
	struct task_struct *real_parent;
	struct pid_link pids[3];
	struct pid *thread_pid;
	char comm[16];
	__u64 start_boottime;
	struct opaque *opaque;
} __pai;

struct task_struct___old { long state; } __pai;
struct task_struct___new { unsigned int __state; } __pai;

struct timeval { long tv_sec; long tv_usec; } __pai;
struct __kernel_old_timeval { long tv_sec; long tv_usec; } __pai;

enum bpf_map_type { BPF_MAP_TYPE_RINGBUF = 27, BPF_MAP_TYPE_TASK_STORAGE = 29 };
enum bpf_func_id { BPF_FUNC_ringbuf_output = 130, BPF_FUNC_task_storage_get = 156 };

char LICENSE[] SEC("license") = "GPL";

__u64 out[64];

SEC("kprobe/state")
int task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(((struct task_struct___new *)t)->__state))
		out[0] = BPF_CORE_READ((struct task_struct___new *)t, __state);
	else
		out[0] = BPF_CORE_READ((struct task_struct___old *)t, state);
	out[1] = BPF_CORE_READ(t, real_parent, tgid);
	out[2] = BPF_CORE_READ(t, mm, total_vm);
	out[3] = BPF_CORE_READ(t, comm[3]);
	return 0;
}

SEC("kprobe/removed")
int removed_field(struct task_struct *t)
{
	if (bpf_core_field_exists(t->pids))
		out[4] = (__u64)BPF_CORE_READ(t, pids[1].pid);
	else
		out[4] = (__u64)BPF_CORE_READ(t, thread_pid);
	out[5] = bpf_core_field_size(t->start_boottime);
	out[6] = bpf_core_field_offset(t->opaque);
	return 0;
}

SEC("kprobe/bits")
int bits(struct task_struct *t)
{
	out[7] = BPF_CORE_READ_BITFIELD_PROBED(t, sched_remote_wakeup);
	out[8] = BPF_CORE_READ_BITFIELD(t, in_iowait);
	out[9] = __builtin_preserve_field_info(t->sched_contributes_to_load, BPF_FIELD_SIGNED);
	return 0;
}

SEC("kprobe/renamed")
int renamed(void *ctx)
{
	out[10] = bpf_core_type_exists(struct timeval);
	out[11] = bpf_core_type_exists(struct __kernel_old_timeval);
	out[12] = bpf_core_type_size(struct __kernel_old_timeval);
	out[13] = bpf_core_type_id_kernel(struct timeval);
	out[14] = bpf_core_type_matches(struct __kernel_old_timeval);
	out[15] = bpf_core_type_id_local(struct timeval);
	return 0;
}

SEC("kprobe/enums")
int enums(void *ctx)
{
	out[16] = bpf_core_enum_value_exists(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF);
	out[17] = bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_TASK_STORAGE);
	out[18] = bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_task_storage_get);
	out[19] = bpf_core_enum_value(enum bpf_func_id, BPF_FUNC_ringbuf_output);
	return 0;
}
