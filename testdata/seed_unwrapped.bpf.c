// The seed example (see seed.bpf.c) with the same reads but without the _() wrapper:
// the local structs carry no preserve_access_index, so clang emits no relocation at all
// (corels warns about these reads).
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
int seed_unwrapped_prog(struct pt_regs *ctx)
{
	struct net_device *dev = 0;
	int ifindex = 0;

	bpf_probe_read(&dev, sizeof(dev), &((struct sk_buff *)ctx->arg1)->dev);
	bpf_probe_read(&ifindex, sizeof(ifindex), &dev->ifindex);
	return ifindex;
}

char LICENSE[] SEC("license") = "GPL";
