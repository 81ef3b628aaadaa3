// Member access on a local variable of a preserve_access_index record type is
// relocated too: stores into a struct on the stack (a local attributed struct)
// produce byte_off relocations; the `= {}` initialisation does not.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct tick_sample {
	u64 when;
	u32 cpu;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct tick_sample);
} last SEC(".maps");

SEC("kprobe/schedule")
int stack_records(void *ctx)
{
	struct tick_sample s = {};
	u32 zero = 0;

	s.when = bpf_ktime_get_ns();
	s.cpu = bpf_get_smp_processor_id();
	bpf_map_update_elem(&last, &zero, &s, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
