// Bitfield relocations on a locally declared record (no vmlinux.h): a signed
// bitfield, an unnamed bitfield (not a BTF member, so `mode` has index 2 although it
// is the fourth declarator), and BPF_CORE_READ_BITFIELD_PROBED on both.
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

struct flags_word {
	unsigned int kind: 4;
	int delta: 7;
	unsigned int: 5;
	unsigned int mode: 3;
	long long big;
} __attribute__((preserve_access_index));

SEC("kprobe/flags_consumer")
int local_bits(struct flags_word *w)
{
	__s64 delta = BPF_CORE_READ_BITFIELD_PROBED(w, delta);
	__u64 mode = BPF_CORE_READ_BITFIELD_PROBED(w, mode);

	bpf_printk("delta %lld mode %llu", delta, mode);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
