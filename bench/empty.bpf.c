// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The floor for the benchmarks: a cgroup_skb pair that only says "allow". */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup_skb/ingress")
int empty_ingress(struct __sk_buff *skb)
{
	(void)skb;
	return 1;
}

SEC("cgroup_skb/egress")
int empty_egress(struct __sk_buff *skb)
{
	(void)skb;
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
