// Anonymous struct/union members are steps of their own: skb->dev sits in
// union { struct { next; prev; union { dev; dev_scratch; }; }; ... } of sk_buff.
// BPF_KPROBE reads its argument from pt_regs, which vmlinux.h makes relocatable.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

SEC("kprobe/dev_queue_xmit")
int BPF_KPROBE(xmit_dev, struct sk_buff *skb)
{
	struct net_device *dev = BPF_CORE_READ(skb, dev);
	unsigned int len = BPF_CORE_READ(skb, len);
	int ifindex = BPF_CORE_READ(dev, ifindex);

	bpf_printk("ifindex %d len %u", ifindex, len);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
