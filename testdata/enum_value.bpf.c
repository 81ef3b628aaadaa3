// bpf_core_enum_value_exists / bpf_core_enum_value on a named kernel enum: the
// access string is the enumerator's index in the enum.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

SEC("kprobe/do_exit")
int enum_values(void *ctx)
{
	u64 boot_ns = 0;

	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf))
		boot_ns = bpf_core_enum_value(enum bpf_func_id, BPF_FUNC_ktime_get_boot_ns);
	bpf_printk("helper id %llu", boot_ns);
	bpf_printk("NOT_SPECIFIED is %llu", bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
