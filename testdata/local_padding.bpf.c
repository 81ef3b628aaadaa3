// Unnamed bitfields (`long: 64;` as bpftool writes padding, and `int: 3;`) are not
// BTF members, so member indices in access strings skip them: `after` is member 2
// although it is the fifth declaration.
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
#include <bpf/bpf_core_read.h>

struct padded {
	int first;
	long: 64;
	long: 64;
	unsigned int flag: 1;
	int: 3;
	unsigned int mode: 4;
	long long after;
	struct {
		long: 64;
		int inner;
	} nested;
} __attribute__((preserve_access_index));

SEC("kprobe/padded_consumer")
int padding(struct padded *p)
{
	long long after = BPF_CORE_READ(p, after);
	int inner = BPF_CORE_READ(p, nested.inner);
	int first = BPF_CORE_READ(p, first);
	__u64 mode = BPF_CORE_READ_BITFIELD_PROBED(p, mode);

	bpf_printk("%d %lld %d", first, after, inner);
	bpf_printk("mode %llu", mode);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
