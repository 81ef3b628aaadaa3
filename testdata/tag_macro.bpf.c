// A macro that makes a tag of the name it is given: `key` is bare in the text, yet
// AS(key, p) reads struct key. A compile of one function cannot tell this file's tags
// from its ordinary names, and reaches every declaration a name declares
// (compiler/tags.go).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define AS(tag, p) ((struct tag *)(p))

SEC("kprobe/key_task_permission")
int BPF_KPROBE(key_perm, void *key_ref)
{
	u32 serial = BPF_CORE_READ(AS(key, key_ref), serial);
	long flags = BPF_CORE_READ(AS(key, key_ref), flags);

	bpf_printk("key %u flags %ld", serial, flags);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
