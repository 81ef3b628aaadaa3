// Type relocations of types without a name of their own, and an access of a record array
// by its index alone: clang records pointers, arrays and anonymous records with the empty
// name, keeps a typedef's name (an array typedef is not decayed to a pointer), and writes
// `&h[3]` inside the builtin as access "3".
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

typedef int ids_t[8];
typedef int (*my_cb_t)(int);
struct hdr {
	int len;
	int kind;
};

struct hdr hdrs[4];
__u32 out[8];

SEC("raw_tp/sys_enter")
int type_ids(void *ctx)
{
	struct hdr *h = (void *)&hdrs;
	struct hdr copy;

	out[0] = bpf_core_type_id_local(ids_t);
	out[1] = bpf_core_type_id_local(void *);
	out[2] = bpf_core_type_id_local(struct { int x; });
	out[3] = bpf_core_type_id_kernel(my_cb_t);
	out[4] = bpf_core_type_id_local(unsigned int);
	out[5] = bpf_core_type_id_local(char[16]);
	if (bpf_core_read(&copy, sizeof(copy), &h[3]))
		return 1;
	out[6] = copy.kind;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
