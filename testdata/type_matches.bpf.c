// bpf_core_type_matches on a kernel struct and on a local flavor that describes
// only the fields the program relies on.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct rw_semaphore___owner_ptr {
	atomic_long_t owner;
	long count;
} __attribute__((preserve_access_index));

SEC("kprobe/down_read")
int match_types(void *ctx)
{
	int rq_ok = bpf_core_type_matches(struct rq);
	int sem_ok = bpf_core_type_matches(struct rw_semaphore___owner_ptr);

	bpf_printk("rq %d rwsem %d", rq_ok, sem_ok);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
