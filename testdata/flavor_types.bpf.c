// Flavors beyond the __state pattern: kernfs_node's parent was renamed __parent,
// so the program declares both layouts as ___old/___new flavors and checks each with
// bpf_core_field_exists; type relocations on a flavor keep the ___suffix as well.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

struct kernfs_node___new {
	struct kernfs_node *__parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	struct kernfs_node___new *kn_new = (void *)kn;
	struct kernfs_node___old *kn_old = (void *)kn;

	if (bpf_core_field_exists(kn_new->__parent))
		return BPF_CORE_READ(kn_new, __parent);
	return BPF_CORE_READ(kn_old, parent);
}

SEC("kprobe/kernfs_remove")
int kn_flavors(struct pt_regs *ctx)
{
	struct kernfs_node *kn = (struct kernfs_node *)PT_REGS_PARM1_CORE(ctx);
	struct kernfs_node *parent = kn_parent(kn);
	int old_exists = bpf_core_type_exists(struct kernfs_node___old);
	u32 new_id = bpf_core_type_id_kernel(struct kernfs_node___new);

	bpf_printk("parent %p old %d id %u", parent, old_exists, new_id);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
