// __kconfig externs: LINUX_KERNEL_VERSION (provided by the loader), CONFIG_HZ and
// a weak bool option. No CO-RE relocations: externs are patched through .kconfig.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_HZ __kconfig;
extern bool CONFIG_PREEMPT_RT __kconfig __weak;

SEC("kprobe/do_exit")
int kernel_config(void *ctx)
{
	if (LINUX_KERNEL_VERSION < KERNEL_VERSION(5, 14, 0))
		return 0;
	bpf_printk("HZ=%d rt=%d", CONFIG_HZ, CONFIG_PREEMPT_RT);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
