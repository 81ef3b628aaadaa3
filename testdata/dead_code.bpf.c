// Relocations clang does not emit because the optimizer removes the code: an
// access whose result is unused, and a branch that constant-folds away. corels
// reports what the source says, so these are expected extras.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define VERBOSE 0

SEC("fentry/do_exit")
int BPF_PROG(exit_code, long code)
{
	struct task_struct *task = bpf_get_current_task_btf();
	int unused;

	// corels-extra: byte_off task_struct 0:82 — loaded into a variable nobody reads
	unused = task->tgid;
	if (VERBOSE)
		// corels-extra: byte_off task_struct 0:27 — if (0) body removed
		bpf_printk("policy %u", task->policy);
	bpf_printk("pid %d exits with %ld", task->pid, code);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
