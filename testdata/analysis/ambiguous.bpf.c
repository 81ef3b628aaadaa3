// core-unresolved when the loader refuses the program: 9.9.0-synth-dup has two
// mm_struct layouts (mm_struct and mm_struct___dup), so reading through it is ambiguous
// there, guard or not.
// kernels: 9.9.0-synth-dup 5.14.0-synth
#include "synth.h"

struct mm_struct {
	unsigned long total_vm;
} __pai;

struct task_struct {
	struct mm_struct *mm;
	int pid;
} __pai;

__u64 out[4];

SEC("kprobe/ambiguous")
int ambiguous(void *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct mm_struct *mm = BPF_CORE_READ(t, mm);

	out[0] = BPF_CORE_READ(mm, total_vm); // want: core-unresolved
	if (bpf_core_field_exists(mm->total_vm))
		out[1] = BPF_CORE_READ(mm, total_vm); // want: core-unresolved
	out[2] = BPF_CORE_READ(t, pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
