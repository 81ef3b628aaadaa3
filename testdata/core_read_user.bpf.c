// BPF_CORE_READ_USER / bpf_core_read_user on a user-space record declared with
// preserve_access_index: same relocations as kernel reads, different helper.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

struct user_req {
	u32 version;
	u32 flags;
	struct user_req *next;
	char tag[8];
} __attribute__((preserve_access_index));

SEC("uprobe")
int BPF_KPROBE(user_request, struct user_req *req)
{
	u32 flags = BPF_CORE_READ_USER(req, next, flags);
	u32 version = 0;
	char tag[8];

	bpf_core_read_user(&version, sizeof(version), &req->version);
	bpf_core_read_user_str(tag, sizeof(tag), &req->tag);
	bpf_printk("v%u flags %x tag %s", version, flags, tag);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
