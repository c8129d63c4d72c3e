// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cgroup_skb ingress/egress observers: report TCP SYNs and RSTs (the start of
 * a flow and its answer) through a ring buffer. They never drop: every path
 * returns 1 ("allow").
 *
 * Cost matters on every packet of the host, so the common case (a TCP segment
 * without SYN or RST, or anything not TCP) leaves after one or two
 * bpf_skb_load_bytes calls and a few compares. bpf_skb_load_bytes rather than
 * direct packet access: it also reads non-linear skbs, and BPF_PROG_TEST_RUN
 * gave cgroup_skb no data_end before kernel 6.12.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "tft_events.h"

/* IPv6 next-header values (linux/in6.h pulls in libc headers under -target bpf). */
#define NEXTHDR_HOP 0
#define NEXTHDR_ROUTING 43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_AUTH 51
#define NEXTHDR_DEST 60

#define IPV6_MAX_EXT_HDRS 6
#define IP_FRAG_OFFSET_MASK 0x1fff

/* Set at load time: wake the reader once this many bytes are pending. */
const volatile __u32 wakeup_bytes = 64 * 1024;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024); /* resized by user space before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TFT_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += 1;
}

/*
 * Batched wakeups: a wakeup per event costs more than the event itself under
 * a connect storm, so the reader drains on its own short timer and is only
 * woken early when a burst has filled wakeup_bytes.
 */
static __always_inline __u64 submit_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
									     : BPF_RB_NO_WAKEUP;
}

/* The part of the TCP header we need: ports, seq, ack, data offset, flags. */
struct tcp_head {
	__be16 sport;
	__be16 dport;
	__be32 seq;
	__be32 ack;
	__u8 doff_res;
	__u8 flags;
};

/* Fixed IPv4 header followed, when it has no options, by the TCP head. */
struct ipv4_tcp {
	__u8 ver_ihl;
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__be16 check;
	__u8 saddr[4];
	__u8 daddr[4];
	struct tcp_head tcp;
};

struct ipv6_hdr {
	__be32 ver_tc_flow;
	__be16 payload_len;
	__u8 nexthdr;
	__u8 hop_limit;
	__u8 saddr[16];
	__u8 daddr[16];
};

static __always_inline int report(struct __sk_buff *skb, __u8 hook, __u8 family, const __u8 *saddr,
				  const __u8 *daddr, const struct tcp_head *th)
{
	struct tft_tcp_event *ev;

	(void)skb;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		count(TFT_CNT_RB_FULL);
		return 1;
	}
	ev->type = TFT_REC_TCP;
	ev->flags = th->flags;
	ev->hook = hook;
	ev->family = family;
	ev->sport = th->sport;
	ev->dport = th->dport;
	ev->ts_ns = bpf_ktime_get_ns();
	ev->seq = bpf_ntohl(th->seq);
	ev->ack = bpf_ntohl(th->ack);
	if (family == 4) {
		__builtin_memcpy(ev->saddr, saddr, 4);
		__builtin_memcpy(ev->daddr, daddr, 4);
		__builtin_memset(ev->saddr + 4, 0, 12);
		__builtin_memset(ev->daddr + 4, 0, 12);
	} else {
		__builtin_memcpy(ev->saddr, saddr, 16);
		__builtin_memcpy(ev->daddr, daddr, 16);
	}
	bpf_ringbuf_submit(ev, submit_flags());
	return 1;
}

static __always_inline int handle_ipv4(struct __sk_buff *skb, __u8 hook)
{
	struct ipv4_tcp p;
	__u32 ihl;

	/* One load covers the IPv4 header and, without options, the TCP head. */
	if (bpf_skb_load_bytes(skb, 0, &p, sizeof(p)) < 0)
		return 1;
	if (p.protocol != IPPROTO_TCP)
		return 1;
	if (p.frag_off & bpf_htons(IP_FRAG_OFFSET_MASK))
		return 1; /* not the first fragment: no TCP header here */
	ihl = (p.ver_ihl & 0x0f) * 4;
	if (ihl < 20)
		return 1;
	if (ihl > 20 && bpf_skb_load_bytes(skb, ihl, &p.tcp, sizeof(p.tcp)) < 0)
		return 1;
	if (!(p.tcp.flags & (TFT_TCP_SYN | TFT_TCP_RST)))
		return 1;
	return report(skb, hook, 4, p.saddr, p.daddr, &p.tcp);
}

/* Generic IPv6 extension header: next header and length in 8-byte units. */
struct ipv6_opt_hdr {
	__u8 nexthdr;
	__u8 hdrlen;
	__be16 frag_off; /* meaningful for the fragment header only */
};

static __always_inline int handle_ipv6(struct __sk_buff *skb, __u8 hook)
{
	struct ipv6_hdr ip6;
	struct ipv6_opt_hdr opt;
	struct tcp_head th;
	__u32 off = sizeof(ip6);
	__u8 nexthdr;
	int i;

	if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)) < 0)
		return 1;
	nexthdr = ip6.nexthdr;
	for (i = 0; i < IPV6_MAX_EXT_HDRS; i++) {
		if (nexthdr == IPPROTO_TCP)
			break;
		if (nexthdr != NEXTHDR_HOP && nexthdr != NEXTHDR_ROUTING &&
		    nexthdr != NEXTHDR_DEST && nexthdr != NEXTHDR_FRAGMENT &&
		    nexthdr != NEXTHDR_AUTH)
			return 1; /* UDP, ICMPv6, ESP, no next header... */
		if (bpf_skb_load_bytes(skb, off, &opt, sizeof(opt)) < 0)
			return 1;
		if (nexthdr == NEXTHDR_FRAGMENT) {
			if (opt.frag_off & bpf_htons(0xfff8))
				return 1; /* not the first fragment */
			off += 8;
		} else if (nexthdr == NEXTHDR_AUTH) {
			off += ((__u32)opt.hdrlen + 2) * 4;
		} else {
			off += ((__u32)opt.hdrlen + 1) * 8;
		}
		nexthdr = opt.nexthdr;
	}
	if (nexthdr != IPPROTO_TCP)
		return 1;
	if (bpf_skb_load_bytes(skb, off, &th, sizeof(th)) < 0)
		return 1;
	if (!(th.flags & (TFT_TCP_SYN | TFT_TCP_RST)))
		return 1;
	return report(skb, hook, 6, ip6.saddr, ip6.daddr, &th);
}

static __always_inline int handle(struct __sk_buff *skb, __u8 hook)
{
	if (skb->protocol == bpf_htons(ETH_P_IP))
		return handle_ipv4(skb, hook);
	if (skb->protocol == bpf_htons(ETH_P_IPV6))
		return handle_ipv6(skb, hook);
	return 1;
}

SEC("cgroup_skb/ingress")
int tft_ingress(struct __sk_buff *skb)
{
	return handle(skb, TFT_HOOK_INGRESS);
}

SEC("cgroup_skb/egress")
int tft_egress(struct __sk_buff *skb)
{
	return handle(skb, TFT_HOOK_EGRESS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
