/* Shared pieces of the synthetic kernels. Each NN.c file is one "kernel":
 * clang -g -target bpf turns the types it defines into BTF, and the .BTF
 * section alone is kept as NN.btf.o. The types follow the real kernel's
 * history where it matters for CO-RE. */
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef int pid_t;

struct list_head {
	struct list_head *next, *prev;
};

struct pid;

struct file {
	unsigned int f_flags;
	void *private_data;
};

struct pt_regs {
	unsigned long di, si, dx, cx, r8, r9;
	unsigned long ip, sp;
};

/* Keep every type in the BTF: clang emits types of global variables. */
#define KEEP(type, name) type name __attribute__((used))
