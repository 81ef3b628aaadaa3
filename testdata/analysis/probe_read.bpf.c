// probe-read-not-relocatable: probe reads whose source address is computed through
// records without preserve_access_index, outside __builtin_preserve_access_index.
// The want comments name the findings that start on their line (core-reloc hints
// aside); every other line must have none.
// kernels: 4.18.0-synth 5.10.0-synth 5.14.0-synth
#include "synth.h"

/* The kernel's layout, declared here without preserve_access_index: offsets compiled in. */
struct mm_struct {
	unsigned long mmap_base;
	unsigned long total_vm;
};

struct task_struct {
	unsigned int flags;
	struct mm_struct *mm;
	int pid;
	int tgid;
	struct task_struct *real_parent;
	char comm[16];
};

/* A kernel type with preserve_access_index: relocated wherever it is accessed. */
struct file {
	unsigned int f_flags;
} __pai;

/* A helper reached through a function pointer of another name (helper 113). */
static long (*read_kernel)(void *dst, __u32 size, const void *unsafe_ptr) = (void *) 113;

#define READ_INTO(dst, src) bpf_probe_read_kernel(&(dst), sizeof(dst), src)

SEC("kprobe/do_exit")
int probe_reads(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct file *file = (struct file *)bpf_get_current_task();
	struct task_struct local = {};
	unsigned long total = 0;
	unsigned int flags = 0;
	int pid = 0, tgid = 0;
	char comm[16];

	bpf_probe_read_kernel(&pid, sizeof(pid), &task->pid); // want: probe-read-not-relocatable
	bpf_probe_read_kernel_str(comm, sizeof(comm), task->comm); // want: probe-read-not-relocatable
	bpf_probe_read_kernel(&total, sizeof(total), &task->mm->total_vm); // want: probe-read-not-relocatable
	read_kernel(&tgid, sizeof(tgid), &task->tgid); // want: probe-read-not-relocatable
	bpf_probe_read_user(&flags, sizeof(flags), &task->flags); // want: probe-read-not-relocatable
	bpf_probe_read_kernel(&pid, 2, &task->pid); // want: probe-read-not-relocatable
	READ_INTO(pid, &task->real_parent->pid); // want: probe-read-not-relocatable

	/* Near misses: relocatable, or no record offset involved. */
	bpf_probe_read_kernel(&pid, sizeof(pid), __builtin_preserve_access_index(&task->pid));
	bpf_core_read(&tgid, sizeof(tgid), &task->tgid);
	BPF_CORE_READ_INTO(&pid, task, real_parent, pid);
	bpf_probe_read_kernel(&flags, sizeof(flags), &file->f_flags);
	bpf_probe_read_kernel(&pid, sizeof(pid), &local.pid);
	bpf_probe_read_kernel(&pid, sizeof(pid), (void *)task + 8);
	bpf_probe_read_kernel(&pid, sizeof(task->pid), (void *)task);

	bpf_printk("%d %d %lu %u %s", pid, tgid, total, flags, comm);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
