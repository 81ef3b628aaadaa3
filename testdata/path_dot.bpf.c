// BPF_CORE_READ steps written with '.' (embedded structs and anonymous members):
// file->f_path.dentry->d_name.name and sk->__sk_common.skc_dport.
// corels-extra: byte_off pt_regs 0:13 — BPF_KPROBE loads dir (si) for unlink_name, which never reads it; clang drops the dead load
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

SEC("kprobe/vfs_unlink")
int BPF_KPROBE(unlink_name, struct mnt_idmap *idmap, struct inode *dir, struct dentry *dentry)
{
	const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);
	u64 ino = BPF_CORE_READ(dentry, d_parent, d_inode, i_ino);

	bpf_printk("unlink %s in %llu", name, ino);
	return 0;
}

SEC("kprobe/security_file_open")
int BPF_KPROBE(open_name, struct file *file)
{
	const unsigned char *name = BPF_CORE_READ(file, f_path.dentry, d_name.name);

	bpf_printk("open %s", name);
	return 0;
}

SEC("kprobe/tcp_close")
int BPF_KPROBE(close_port, struct sock *sk)
{
	u16 dport = BPF_CORE_READ(sk, __sk_common.skc_dport);

	bpf_printk("close dport %u", bpf_ntohs(dport));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
