// Locally declared records with __attribute__((preserve_access_index)) and no
// vmlinux.h: direct loads through them in a raw tracepoint are relocated.
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef unsigned short __u16;
typedef unsigned char __u8;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
#include <bpf/bpf_helpers.h>

struct my_mm {
	unsigned long start_code;
	unsigned long end_code;
} __attribute__((preserve_access_index));

struct my_task {
	int pid;
	int tgid;
	struct my_mm *mm;
	char comm[16];
} __attribute__((preserve_access_index));

struct my_switch_args {
	unsigned long long pad;
	struct my_task *prev;
	struct my_task *next;
} __attribute__((preserve_access_index));

SEC("raw_tp/sched_switch")
int local_records(struct my_switch_args *args)
{
	struct my_task *next = args->next;
	unsigned long code = next->mm->end_code - next->mm->start_code;

	bpf_printk("pid %d tgid %d code %lu", next->pid, next->tgid, code);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
