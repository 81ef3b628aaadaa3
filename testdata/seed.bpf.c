// The example from the LLVM change that introduced __builtin_preserve_access_index:
// no vmlinux.h, no libbpf headers, locally declared kernel types, and a _() wrapper
// around the address passed to the old bpf_probe_read helper (helper id 4).
// Inside _(), the ctx->arg1 load is relocated too (pt_regs 0:0).
#define _(x) (__builtin_preserve_access_index(x))
#define SEC(NAME) __attribute__((section(NAME), used))

static int (*bpf_probe_read)(void *dst, int size, const void *unsafe_ptr) = (void *) 4;

struct net_device {
	int dev_id;
	int ifindex;
};

struct sk_buff {
	int skb_id;
	struct net_device *dev;
};

struct pt_regs {
	unsigned long arg1;
	unsigned long arg2;
};

SEC("kprobe/dev_queue_xmit")
int seed_prog(struct pt_regs *ctx)
{
	struct net_device *dev = 0;
	int ifindex = 0;

	bpf_probe_read(&dev, sizeof(dev), _(&((struct sk_buff *)ctx->arg1)->dev));
	bpf_probe_read(&ifindex, sizeof(ifindex), _(&dev->ifindex));
	return ifindex;
}

char LICENSE[] SEC("license") = "GPL";
