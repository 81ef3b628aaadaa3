// Anonymous records as roots. Through a typedef the root is the typedef (stamp_t,
// the kernel's atomic_t); through a pointer to an unnamed struct type the root has
// no name at all (spelled <anon> in the golden file).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

typedef struct {
	u32 seq;
	u64 stamp;
} __attribute__((preserve_access_index)) stamp_t;

SEC("kprobe/stamp_consumer")
int anon_roots(stamp_t *s)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	atomic_t *users = 0;
	int n = 0;
	struct {
		u32 seq;
		u64 stamp;
	} __attribute__((preserve_access_index)) *raw = (void *)s;
	u64 stamp = BPF_CORE_READ(s, stamp);
	u32 seq = BPF_CORE_READ(raw, seq);
	u32 sz = bpf_core_type_size(stamp_t);

	users = &mm->mm_users;
	bpf_core_read(&n, sizeof(n), &users->counter);
	bpf_printk("stamp %llu size %u users %d", stamp, sz, n);
	bpf_printk("seq %u", seq);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
