// A whole program in a header, as the kernel's profiler.inc.h is: the .bpf.c files that
// include it only set macros. Its programs are emitted whoever includes them.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#ifndef INC_SECTION
#define INC_SECTION "kprobe/do_unlinkat"
#endif

static __always_inline u32 inode_mode(struct dentry *d)
{
	return BPF_CORE_READ(d, d_inode, i_mode);
}

static __noinline int name_len(struct dentry *d)
{
	return BPF_CORE_READ(d, d_name.len);
}

SEC(INC_SECTION)
int BPF_KPROBE(inc_unlink, struct inode *dir, struct dentry *dentry)
{
	const unsigned char *s = BPF_CORE_READ(dentry, d_name.name);

	bpf_printk("unlink %s in %lu", s, BPF_CORE_READ(dir, i_ino));
	return 0;
}

SEC("fentry/vfs_unlink")
int BPF_PROG(inc_vfs_unlink, struct user_namespace *mnt_userns, struct inode *dir, struct dentry *dentry)
{
	bpf_printk("mode %u len %d", inode_mode(dentry), name_len(dentry));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
