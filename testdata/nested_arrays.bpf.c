// Arrays of structs inside structs: every subscript and member is a step, so
// &t->rows[1].cells[2].v is `table 0:1:1:0:2:1`. Also a kernel array of structs
// (task->thread_pid->numbers[0].nr, a flexible array of struct upid).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct cell {
	u16 tag;
	u32 v;
} __attribute__((preserve_access_index));

struct row {
	struct cell cells[4];
	u32 len;
} __attribute__((preserve_access_index));

struct table {
	u64 id;
	struct row rows[3];
	u32 grid[2][5];
} __attribute__((preserve_access_index));

SEC("kprobe/table_consumer")
int nested(struct table *t)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	u32 v = 0, g = 0, len = 0;
	int nr = BPF_CORE_READ(task, thread_pid, numbers[0].nr);

	bpf_core_read(&v, sizeof(v), &t->rows[1].cells[2].v);
	bpf_core_read(&g, sizeof(g), &t->grid[1][3]);
	len = BPF_CORE_READ(t, rows[2].len);
	bpf_printk("%u %u %u", v, g, len);
	bpf_printk("nr %d", nr);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
