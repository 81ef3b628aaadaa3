// CO-RE helpers kept in a header, as tracing tools do. clang compiles each one where it is
// used: its relocations belong to this file, and only the helpers a program reaches count.
#ifndef HEADER_HELPERS_BPF_H
#define HEADER_HELPERS_BPF_H

static __always_inline int task_ppid(struct task_struct *t)
{
	return BPF_CORE_READ(t, real_parent, tgid);
}

static __always_inline unsigned long task_vm(struct task_struct *t)
{
	struct mm_struct *mm = BPF_CORE_READ(t, mm);

	return mm ? BPF_CORE_READ(mm, total_vm) : 0;
}

/* Reached only through task_vm_or_ppid: a helper calling a helper. */
static __always_inline unsigned long task_vm_or_ppid(struct task_struct *t)
{
	unsigned long vm = task_vm(t);

	return vm ? vm : task_ppid(t);
}

/* Never called: clang drops it, and its relocation with it. */
static __always_inline int task_prio(struct task_struct *t)
{
	return BPF_CORE_READ(t, prio);
}

#endif
