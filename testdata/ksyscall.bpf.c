// BPF_KSYSCALL: libbpf's macro declares `extern _Bool LINUX_HAS_SYSCALL_WRAPPER
// __kconfig` and reads the syscall arguments from the inner struct pt_regs with
// BPF_CORE_READ (di, si, and r10 for the fourth argument on x86).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

SEC("ksyscall/kill")
int BPF_KSYSCALL(kill_entry, pid_t pid, int sig)
{
	if (sig == 9)
		bpf_printk("SIGKILL to %d", pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
