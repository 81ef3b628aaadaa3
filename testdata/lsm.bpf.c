// An LSM program reading through anonymous members directly:
// file->f_path.dentry->d_name.len (f_path is in an anonymous union of struct file,
// len in an anonymous struct within an anonymous union of struct qstr).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("lsm/file_open")
int BPF_PROG(deny_long_names, struct file *file)
{
	struct dentry *dentry = file->f_path.dentry;
	u32 len = dentry->d_name.len;

	if (len > 200)
		return -1;
	bpf_printk("open %s", dentry->d_name.name);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
