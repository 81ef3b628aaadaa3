// Field relocations through typedef'd and const/volatile qualified pointers: clang-16
// strips the qualifiers but keeps the typedef as the root type (task_t, cmm_t), while a
// plain volatile struct pointer gives task_struct.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

typedef struct task_struct task_t;
typedef const struct mm_struct cmm_t;

SEC("kprobe/do_exit")
int typedef_roots(void *ctx)
{
	const task_t *task = (const task_t *)bpf_get_current_task();
	volatile struct task_struct *vtask = (volatile struct task_struct *)task;
	cmm_t *mm = BPF_CORE_READ(task, mm);
	unsigned long pgd_pages = BPF_CORE_READ(mm, pgtables_bytes.counter);
	int prio = 0;

	bpf_core_read(&prio, sizeof(prio), &vtask->static_prio);
	bpf_printk("pgtables %lu prio %d", pgd_pages, prio);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
