// fentry/fexit programs with BPF_PROG: direct access to the traced function's
// arguments (struct file, struct path inside it) and the return value.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("fentry/vfs_read")
int BPF_PROG(read_entry, struct file *file, char *buf, size_t count, loff_t *pos)
{
	unsigned long ino = file->f_inode->i_ino;
	unsigned int flags = file->f_flags;

	bpf_printk("read ino %lu flags %x count %lu", ino, flags, count);
	return 0;
}

SEC("fexit/vfs_read")
int BPF_PROG(read_exit, struct file *file, char *buf, size_t count, loff_t *pos, ssize_t ret)
{
	loff_t size = file->f_inode->i_size;

	bpf_printk("read returned %ld of %lld", ret, size);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
