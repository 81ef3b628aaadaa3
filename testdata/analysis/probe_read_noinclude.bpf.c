// probe-read-not-relocatable in a file without bpf_core_read.h: the rewrite fix adds the
// #include (bpf_helpers.h already declares the helpers).
// kernels: 5.14.0-synth
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

struct task_struct {
	int pid;
	char comm[16];
};

SEC("kprobe/do_exit")
int no_include(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	int pid = 0;
	char comm[16];
	bpf_probe_read_kernel(&pid, sizeof(pid), &task->pid); // want: probe-read-not-relocatable
	bpf_probe_read_kernel_str(comm, sizeof(comm), task->comm); // want: probe-read-not-relocatable
	bpf_printk("%d %s", pid, comm);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
