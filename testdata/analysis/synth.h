/* Shared by the analysis test programs: the integer types bpf_helpers.h needs (no
 * vmlinux.h: the programs declare the kernel types they use, like the synthetic kernels in
 * testdata/kernels), libbpf's headers, and preserve_access_index. */
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
