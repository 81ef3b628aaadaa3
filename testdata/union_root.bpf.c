// Unions as roots: the kernel's union bpf_attr (first member an anonymous struct)
// and a local union with preserve_access_index.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

union local_word {
	struct {
		u32 lo;
		u32 hi;
	} half;
	u64 whole;
} __attribute__((preserve_access_index));

SEC("kprobe/__sys_bpf")
int BPF_KPROBE(sys_bpf, int cmd, union bpf_attr *attr)
{
	u32 map_type = BPF_CORE_READ(attr, map_type);
	u32 prog_type = BPF_CORE_READ(attr, prog_type);
	union local_word *w = (union local_word *)attr;
	u32 hi = BPF_CORE_READ(w, half.hi);

	bpf_printk("cmd %d map_type %u prog_type %u", cmd, map_type, prog_type);
	bpf_printk("hi %u", hi);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
