// Accesses to global variables of a preserve_access_index record type: a global
// struct, and an element of a global array: per_kind[2].calls is `counters 0:0`, the
// subscript on the (non-record) global array is not part of the access string
// (compare ptr_index.bpf.c, where the subscript applies to a pointer inside the builtin).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct counters {
	u64 calls;
	u64 bytes;
} __attribute__((preserve_access_index));

struct counters totals;
struct counters per_kind[4];

SEC("kprobe/vfs_write")
int global_counts(void *ctx)
{
	u64 n = bpf_get_prandom_u32() & 0xff;

	totals.calls++;
	totals.bytes += n;
	per_kind[2].calls++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
