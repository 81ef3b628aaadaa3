// Enum relocations on anonymous enums: a typedef'd anonymous kernel enum
// (ZSTD_dStage), a typedef'd anonymous local enum, and the type of a variable
// declared with an anonymous enum (typeof is the only way to name it).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

typedef enum {
	PHASE_IDLE,
	PHASE_RUNNING = 4,
	PHASE_DONE,
} local_phase_t;

SEC("kprobe/do_exit")
int anon_enums(void *ctx)
{
	enum { WATCH_NONE, WATCH_READ, WATCH_WRITE } watch = WATCH_READ;
	u64 skip = bpf_core_enum_value(ZSTD_dStage, ZSTDds_skipFrame);
	int done = bpf_core_enum_value_exists(local_phase_t, PHASE_DONE);
	u64 write = bpf_core_enum_value(watch, WATCH_WRITE);

	bpf_printk("%llu %d %llu", skip, done, write);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
