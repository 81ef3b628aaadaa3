/* A kernel with two types of one essential name and different layouts
 * (mm_struct and mm_struct___dup), as happens when two compilation units
 * define a struct differently: field relocations on it are ambiguous. Also a
 * typedef-only type and a forward-declared-only struct. */
#include "common.h"

struct mm_struct {
	unsigned long mmap_base;
	unsigned long total_vm;
};

struct mm_struct___dup {
	unsigned long total_vm;
	unsigned long mmap_base;
};

struct opaque;

struct task_struct {
	unsigned int __state;
	struct mm_struct *mm;
	struct opaque *opaque;
	pid_t pid;
	char comm[8];
};

KEEP(struct task_struct, init_task);
KEEP(struct mm_struct, init_mm);
KEEP(struct mm_struct___dup, dup_mm);
