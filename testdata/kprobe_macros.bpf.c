// BPF_KPROBE and BPF_KRETPROBE: the macros read arguments and the return value
// from struct pt_regs (di, si, dx, ax on x86), which vmlinux.h declares with
// preserve_access_index, so each register read is a byte_off relocation.
// (BPF_KRETPROBE's ret is PT_REGS_RC: ctx->ax.)
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u64);
	__type(value, u64);
} inflight SEC(".maps");

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(open_enter, int dfd, const char *filename, struct open_how *how)
{
	u64 id = bpf_get_current_pid_tgid();
	u64 flags = BPF_CORE_READ(how, flags);

	bpf_map_update_elem(&inflight, &id, &flags, BPF_ANY);
	bpf_printk("open dfd %d %s", dfd, filename);
	return 0;
}

SEC("kretprobe/do_sys_openat2")
int BPF_KRETPROBE(open_exit, long ret)
{
	u64 id = bpf_get_current_pid_tgid();
	u64 *flags = bpf_map_lookup_elem(&inflight, &id);

	if (flags)
		bpf_printk("open flags %llx -> %ld", *flags, ret);
	bpf_map_delete_elem(&inflight, &id);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
