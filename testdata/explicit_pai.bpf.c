// __builtin_preserve_access_index written out on records without the attribute:
// only accesses inside the builtin are relocated; copying *p whole is not.
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

struct inner {
	int a;
	int b[8];
};

struct outer {
	long id;
	struct inner a;
	struct inner *next;
};

SEC("kprobe/outer_consumer")
int explicit_builtin(struct outer *p)
{
	int b3 = 0;
	struct inner *next = 0;
	struct outer copy;

	bpf_probe_read_kernel(&b3, sizeof(b3), __builtin_preserve_access_index(&p->a.b[3]));
	bpf_probe_read_kernel(&next, sizeof(next), __builtin_preserve_access_index(&p->next));
	bpf_probe_read_kernel(&copy, sizeof(copy), p);
	bpf_printk("b[3]=%d next=%p id=%ld", b3, next, copy.id);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
