// No relocations: bpf_probe_read_kernel through a locally declared struct that has
// no preserve_access_index (fixed offsets, compiled in; corels flags such reads).
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

struct fixed_layout {
	__u64 cookie;
	__u32 count;
	char name[16];
};

SEC("kprobe/fixed_consumer")
int fixed_offsets(struct fixed_layout *p)
{
	__u32 count = 0;
	char name[16] = {};

	bpf_probe_read_kernel(&count, sizeof(count), &p->count);
	bpf_probe_read_kernel_str(name, sizeof(name), p->name);
	bpf_printk("%s: %u", name, count);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
