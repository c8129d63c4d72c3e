// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cgroup_skb ingress/egress observers: report TCP SYNs and RSTs (the start of
 * a flow and its answer), and DNS responses from the DNS ports (UDP, or TCP
 * when the message fits one segment), through a ring buffer. They never drop:
 * every path returns 1 ("allow"). A UDP response goes up only when it
 * answers a query these programs saw leave or arrive (same id, ports and
 * addresses mirrored, within TFT_DNS_ANSWER_WINDOW_NS): anyone can send a
 * datagram from port 53, so the others are counted and ignored.
 *
 * Cost matters on every packet of the host, so the common case (a TCP segment
 * without SYN or RST, or anything not TCP) leaves after one or two
 * bpf_skb_load_bytes calls and a few compares. DNS adds one source-port
 * compare per DNS port (53 alone by default) to TCP segments without SYN/RST
 * and to UDP; the port count is rodata, so the verifier prunes the unused
 * ones. bpf_skb_load_bytes rather than direct packet access: it also reads
 * non-linear skbs, and BPF_PROG_TEST_RUN gave cgroup_skb no data_end before
 * kernel 6.12.
 *
 * Owners: a SYN without ACK carries its socket's owner (process, user,
 * cgroup) in a longer record. Leaving, the SYN of a connect() is sent by the
 * connecting process itself, so the programs read the current task. Arriving,
 * it meets the listener, whose owner cgroup/post_bind4/6 stored in the
 * socket's own storage when it was bound: once per bound socket, so the
 * many sockets that only connect pay nothing. Only SYNs look, after the
 * common case has left.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "tft_events.h"

/* IPv6 next-header values (linux/in6.h pulls in libc headers under -target bpf). */
#define NEXTHDR_HOP 0
#define NEXTHDR_ROUTING 43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_AUTH 51
#define NEXTHDR_DEST 60

/* Socket constants (linux/socket.h and linux/net.h pull in libc headers under -target bpf). */
#define TFT_AF_INET 2
#define TFT_AF_INET6 10
#define TFT_SOCK_STREAM 1

#define IPV6_MAX_EXT_HDRS 6
#define IP_FRAG_OFFSET_MASK 0x1fff

/* Set at load time: SYNs carry their owners (the post_bind programs are attached). */
const volatile bool owners_on = false;

/* Set at load time: a CPU wakes the reader each time it has queued this many bytes. */
const volatile __u32 wakeup_bytes = 64 * 1024;

/*
 * Set at load time: DNS source ports in network byte order, and how many of
 * them are used (0 turns DNS forwarding off).
 */
const volatile __be16 dns_ports[TFT_MAX_DNS_PORTS] = {bpf_htons(53)};
const volatile __u32 dns_port_count = 1;

/*
 * A ring per possible CPU: a reservation takes its ring's lock and moves its
 * producer position, and with one ring for all CPUs both bounce between CPUs
 * on every record. Here each CPU writes only its own ring. User space sizes
 * the template and the outer array, then creates the rings and fills the
 * array after load; a CPU without a ring counts its records as lost.
 */
struct ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct ring);
} rings SEC(".maps");

/*
 * Outstanding UDP queries. The key is the query as the client sent it, with
 * the hook that saw it: on loopback one query passes both hooks (the
 * client's egress, the server's ingress) and so does its answer, and each
 * answer sighting consumes the query sighting of the other hook.
 *
 * A direct-mapped table, not a hash map: a query is a hash, a lookup and a
 * 48-byte store (an LRU hash update took about 480 ns a query in test runs,
 * this about a tenth of that), and old entries need no expiry: a newer query
 * with the same slot replaces one, whose answer then counts as unmatched.
 * With TFT_DNS_QUERIES_MAX slots and the few queries outstanding at a time
 * that is rare, and it is counted, never silent. Two CPUs writing one slot
 * at once can only leave a key that matches nothing.
 */
struct dns_query_key {
	__u8 family;
	__u8 hook; /* the hook that saw the query */
	__u16 id;  /* the DNS transaction id, as on the wire */
	__be16 client_port;
	__be16 server_port;
	__u8 client[16];
	__u8 server[16];
} __attribute__((aligned(8))); /* compared and hashed as 64-bit words */

_Static_assert(sizeof(struct dns_query_key) % 8 == 0, "dns_query_key is whole words");

struct dns_query_slot {
	struct dns_query_key key;
	__u64 seen_ns; /* when the query was seen; 0: free */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TFT_DNS_QUERIES_MAX);
	__type(key, __u32);
	__type(value, struct dns_query_slot);
} dns_queries SEC(".maps");

/*
 * The owner of each TCP socket bound since the programs were attached, in
 * the socket itself: it goes when the socket goes, with no key to collide
 * and no table to fill. The post_bind programs write it; arriving SYNs
 * read their listener's.
 */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tft_owner);
} owners SEC(".maps");

/*
 * Losses and truncations, indexed by enum tft_counter. A global in .bss: user
 * space reads it through the skeleton's mmap, which needs no bpf() call and
 * so still works after tcpflowtop has dropped its privileges. The atomic add
 * is contended only while the ring is full.
 */
__u64 counters[TFT_CNT_MAX];

static __always_inline void count(__u32 idx)
{
	if (idx < TFT_CNT_MAX)
		__sync_fetch_and_add(&counters[idx], 1);
}

/*
 * One slot per possible CPU (max_entries set by user space before load), 64
 * bytes each so that two CPUs never write the same cache line.
 */
struct cpu_slot {
	__u64 unsignalled; /* bytes queued by this CPU since it last woke the reader */
	__u64 pad[7];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_slot);
} cpu_slots SEC(".maps");

/*
 * Batched wakeups: a wakeup per event costs more than the event itself under
 * a connect storm, so the reader drains on its own short timer and is only
 * woken early when this CPU has queued wakeup_bytes since it last woke it.
 * The count is this CPU's own: asking the ring how much is pending
 * (bpf_ringbuf_query) reads the consumer position that the reader keeps
 * writing, a cache line pulled across CPUs on every record. A program nested
 * on the same CPU (softirq over process context) may lose an add: the
 * wakeup then comes a little later, never a record.
 */
static __always_inline __u64 submit_flags(__u32 cpu, __u32 bytes)
{
	struct cpu_slot *slot = bpf_map_lookup_elem(&cpu_slots, &cpu);

	if (!slot)
		return BPF_RB_NO_WAKEUP;
	slot->unsignalled += bytes;
	if (slot->unsignalled < wakeup_bytes)
		return BPF_RB_NO_WAKEUP;
	slot->unsignalled = 0;
	return BPF_RB_FORCE_WAKEUP;
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

/* Both addresses into a record: IPv4 in the first 4 bytes, the rest zeroed. */
static __always_inline void copy_addrs(__u8 *dst_s, __u8 *dst_d, __u8 family, const __u8 *saddr,
				       const __u8 *daddr)
{
	if (family == 4) {
		__builtin_memcpy(dst_s, saddr, 4);
		__builtin_memcpy(dst_d, daddr, 4);
		__builtin_memset(dst_s + 4, 0, 12);
		__builtin_memset(dst_d + 4, 0, 12);
	} else {
		__builtin_memcpy(dst_s, saddr, 16);
		__builtin_memcpy(dst_d, daddr, 16);
	}
}

/* A record of size bytes on this CPU's ring, or NULL: then it counts as lost. */
static __always_inline void *reserve_rec(__u32 cpu, __u64 size)
{
	void *ring = bpf_map_lookup_elem(&rings, &cpu);
	void *rec = ring ? bpf_ringbuf_reserve(ring, size, 0) : NULL;

	if (!rec)
		count(TFT_CNT_RB_FULL);
	return rec;
}

/* Whether a packet is a SYN without ACK or RST: the start of a flow. */
static __always_inline bool is_syn(__u8 flags)
{
	return (flags & (TFT_TCP_SYN | TFT_TCP_ACK | TFT_TCP_RST)) == TFT_TCP_SYN;
}

/*
 * When the packet was seen, CLOCK_MONOTONIC. A clock read costs about as much
 * as the rest of a record (rdtsc is ordered), and a SYN leaving the host
 * already carries one: TCP stamps it with its earliest departure time, a
 * CLOCK_MONOTONIC reading taken as the SYN was built (tcp_connect). SYN-ACKs
 * read the clock: under SYN cookies the kernel stamps them with a time made
 * up from the cookie, up to 64 ms early. Arriving packets carry no stamp, or
 * a CLOCK_REALTIME one.
 */
static __always_inline __u64 packet_time(struct __sk_buff *skb, const struct tcp_head *th,
					 __u8 hook)
{
	__u64 t;

	if (hook == TFT_HOOK_EGRESS && is_syn(th->flags)) {
		t = skb->tstamp;
		if (t)
			return t;
	}
	return bpf_ktime_get_ns();
}

/* The current task as an owner: the process in whose context the program runs. */
static __always_inline void current_owner(struct tft_owner *o)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid(), uid_gid = bpf_get_current_uid_gid();

	o->tgid = (__u32)(pid_tgid >> 32);
	o->pid = (__u32)pid_tgid;
	o->uid = (__u32)uid_gid;
	o->gid = (__u32)(uid_gid >> 32);
	o->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(o->comm, sizeof(o->comm));
}

/*
 * The owner of the listener an arriving SYN was matched to (the kernel runs
 * ingress programs on it), or NULL: a listener bound before the programs
 * were attached has none.
 */
static __always_inline const struct tft_owner *listener_owner(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	if (!sk)
		return NULL;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return NULL;
	return bpf_sk_storage_get(&owners, sk, 0, 0);
}

/*
 * Whether a packet's record carries an owner: a SYN without ACK, when owners
 * are on. *owner is the listener's for an arriving SYN, NULL (the current
 * task's) for a leaving one. An arriving SYN at a listener older than the
 * programs has none.
 */
static __always_inline bool owned_syn(struct __sk_buff *skb, const struct tcp_head *th, __u8 hook,
				      const struct tft_owner **owner)
{
	*owner = NULL;
	if (!owners_on || !is_syn(th->flags))
		return false;
	if (hook != TFT_HOOK_INGRESS)
		return true;
	*owner = listener_owner(skb);
	return *owner != NULL;
}

/* owner into a record, or the current task when it is NULL. */
static __always_inline void put_owner(struct tft_owner *dst, const struct tft_owner *owner)
{
	if (owner)
		__builtin_memcpy(dst, owner, sizeof(*dst));
	else
		current_owner(dst);
}

/* The fields every IPv4 TCP record has, in either form. */
static __always_inline void fill4(struct __sk_buff *skb, struct tft_tcp4_rec *ev, __u8 type,
				  const __u8 *saddr, const __u8 *daddr, const struct tcp_head *th,
				  __u8 hook)
{
	ev->type = type;
	ev->flags = th->flags;
	ev->hook = hook;
	ev->zero = 0;
	ev->sport = th->sport;
	ev->dport = th->dport;
	ev->ts_ns = packet_time(skb, th, hook);
	ev->seq = bpf_ntohl(th->seq);
	ev->ack = bpf_ntohl(th->ack);
	__builtin_memcpy(ev->saddr, saddr, 4);
	__builtin_memcpy(ev->daddr, daddr, 4);
}

/*
 * An IPv4 SYN with its owner: the compact record and the owner, the
 * listener's (owner non-NULL) or the current task's.
 */
static __always_inline int report4_owned(struct __sk_buff *skb, const __u8 *saddr,
					 const __u8 *daddr, const struct tcp_head *th, __u8 hook,
					 const struct tft_owner *owner)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct tft_tcp4_owned_rec *ev = reserve_rec(cpu, sizeof(*ev));

	if (!ev)
		return 1;
	fill4(skb, &ev->tcp, TFT_REC_TCP4_OWNED, saddr, daddr, th, hook);
	put_owner(&ev->owner, owner);
	bpf_ringbuf_submit(ev, submit_flags(cpu, sizeof(*ev)));
	return 1;
}

/* An IPv4 SYN or RST: the compact record. */
static __always_inline int report4(struct __sk_buff *skb, const __u8 *saddr, const __u8 *daddr,
				   const struct tcp_head *th, __u8 hook)
{
	const struct tft_owner *owner;
	__u32 cpu;
	struct tft_tcp4_rec *ev;

	if (owned_syn(skb, th, hook, &owner))
		return report4_owned(skb, saddr, daddr, th, hook, owner);
	cpu = bpf_get_smp_processor_id();
	ev = reserve_rec(cpu, sizeof(*ev));
	if (!ev)
		return 1;
	fill4(skb, ev, TFT_REC_TCP4, saddr, daddr, th, hook);
	bpf_ringbuf_submit(ev, submit_flags(cpu, sizeof(*ev)));
	return 1;
}

static __always_inline void fill6(struct __sk_buff *skb, struct tft_tcp_event *ev, __u8 type,
				  const __u8 *saddr, const __u8 *daddr, const struct tcp_head *th,
				  __u8 hook)
{
	ev->type = type;
	ev->flags = th->flags;
	ev->hook = hook;
	ev->family = 6;
	ev->sport = th->sport;
	ev->dport = th->dport;
	ev->ts_ns = packet_time(skb, th, hook);
	ev->seq = bpf_ntohl(th->seq);
	ev->ack = bpf_ntohl(th->ack);
	__builtin_memcpy(ev->saddr, saddr, 16);
	__builtin_memcpy(ev->daddr, daddr, 16);
}

static __always_inline int report6_owned(struct __sk_buff *skb, const __u8 *saddr,
					 const __u8 *daddr, const struct tcp_head *th, __u8 hook,
					 const struct tft_owner *owner)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct tft_tcp_owned_event *ev = reserve_rec(cpu, sizeof(*ev));

	if (!ev)
		return 1;
	fill6(skb, &ev->tcp, TFT_REC_TCP_OWNED, saddr, daddr, th, hook);
	put_owner(&ev->owner, owner);
	bpf_ringbuf_submit(ev, submit_flags(cpu, sizeof(*ev)));
	return 1;
}

static __always_inline int report6(struct __sk_buff *skb, const __u8 *saddr, const __u8 *daddr,
				   const struct tcp_head *th, __u8 hook)
{
	const struct tft_owner *owner;
	__u32 cpu;
	struct tft_tcp_event *ev;

	if (owned_syn(skb, th, hook, &owner))
		return report6_owned(skb, saddr, daddr, th, hook, owner);
	cpu = bpf_get_smp_processor_id();
	ev = reserve_rec(cpu, sizeof(*ev));
	if (!ev)
		return 1;
	fill6(skb, ev, TFT_REC_TCP, saddr, daddr, th, hook);
	bpf_ringbuf_submit(ev, submit_flags(cpu, sizeof(*ev)));
	return 1;
}

/* True when port (network order) is one of the DNS ports. */
static __always_inline int is_dns_port(__be16 port)
{
	if (dns_port_count > 0 && port == dns_ports[0])
		return 1;
	if (dns_port_count > 1 && port == dns_ports[1])
		return 1;
	if (dns_port_count > 2 && port == dns_ports[2])
		return 1;
	if (dns_port_count > 3 && port == dns_ports[3])
		return 1;
	return 0;
}

/* Whether a UDP datagram is from (an answer) or to (a query) a DNS port: each port read once. */
static __always_inline int either_dns_port(__be16 sport, __be16 dport)
{
	__be16 p;

	if (dns_port_count > 0 && ((p = dns_ports[0]) == sport || p == dport))
		return 1;
	if (dns_port_count > 1 && ((p = dns_ports[1]) == sport || p == dport))
		return 1;
	if (dns_port_count > 2 && ((p = dns_ports[2]) == sport || p == dport))
		return 1;
	if (dns_port_count > 3 && ((p = dns_ports[3]) == sport || p == dport))
		return 1;
	return 0;
}

#define DNS_HDR_LEN 12
#define DNS_QR 0x80 /* in the third byte of the header */

static __always_inline void copy16(__u8 *dst, const __u8 *src, __u8 family)
{
	__builtin_memcpy(dst, src, 4);
	if (family == 6)
		__builtin_memcpy(dst + 4, src + 4, 12);
}

/* The key of a query as the client sent it; for an answer, the query it would answer. */
static __always_inline void query_key(struct dns_query_key *k, __u8 family, __u8 hook, __u16 id,
				      const __u8 *client, __be16 client_port, const __u8 *server,
				      __be16 server_port)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->family = family;
	k->hook = hook;
	k->id = id;
	k->client_port = client_port;
	k->server_port = server_port;
	copy16(k->client, client, family);
	copy16(k->server, server, family);
}

/* The slot of a query key: its words mixed, multiply-xorshift. */
static __always_inline struct dns_query_slot *query_slot(const struct dns_query_key *k)
{
	const __u64 *w = (const void *)k;
	__u64 h = 0;
	__u32 i, idx;

	for (i = 0; i < sizeof(*k) / 8; i++)
		h = (h ^ w[i]) * 0x9e3779b97f4a7c15ull;
	idx = (__u32)(h >> 32) & (TFT_DNS_QUERIES_MAX - 1);
	return bpf_map_lookup_elem(&dns_queries, &idx);
}

static __always_inline bool same_key(const struct dns_query_key *a, const struct dns_query_key *b)
{
	const __u64 *x = (const void *)a, *y = (const void *)b;
	__u64 d = 0;
	__u32 i;

	for (i = 0; i < sizeof(*a) / 8; i++)
		d |= x[i] ^ y[i];
	return !d;
}

static __always_inline void remember_query(const struct dns_query_key *k)
{
	struct dns_query_slot *s = query_slot(k);

	if (!s)
		return;
	s->key = *k;
	s->seen_ns = bpf_ktime_get_ns();
}

/*
 * Whether a UDP answer (the packet's source is the server) answers a query
 * seen by the other hook; the query is consumed. A miss is counted.
 */
static __always_inline bool answers_query(__u8 hook, __u8 family, __u16 id, const __u8 *saddr,
					  const __u8 *daddr, __be16 sport, __be16 dport)
{
	struct dns_query_key k;
	struct dns_query_slot *s;
	__u64 seen;

	query_key(&k, family, hook == TFT_HOOK_INGRESS ? TFT_HOOK_EGRESS : TFT_HOOK_INGRESS, id,
		  daddr, dport, saddr, sport);
	s = query_slot(&k);
	if (!s || !s->seen_ns || !same_key(&s->key, &k)) {
		count(TFT_CNT_DNS_UNMATCHED);
		return false;
	}
	seen = s->seen_ns;
	s->seen_ns = 0;
	if (bpf_ktime_get_ns() - seen > TFT_DNS_ANSWER_WINDOW_NS) {
		count(TFT_CNT_DNS_UNMATCHED);
		return false;
	}
	return true;
}

/*
 * A DNS message of msg_len bytes (its own length, from the UDP header or the
 * TCP length prefix) starts at msg_off. Responses go up, cut at TFT_DNS_MAX;
 * over UDP only those that answer a query seen (TCP cannot be blindly
 * spoofed: the connection is the proof). A UDP query to a DNS port is
 * remembered for its answer.
 */
static __always_inline int report_dns(struct __sk_buff *skb, __u8 hook, __u8 family, __u8 flags,
				      const __u8 *saddr, const __u8 *daddr, __be16 sport,
				      __be16 dport, __u32 msg_off, __u32 msg_len)
{
	struct tft_dns_event *ev;
	__u64 skb_len = skb->len;
	__u32 cpu;
	__u8 head[3]; /* id, then the flags byte with QR */
	__u64 len;    /* 64-bit: no zero-extended copy for clang to check in its place */
	__u16 id;

	if (msg_len < DNS_HDR_LEN)
		return 1;
	if (bpf_skb_load_bytes(skb, msg_off, head, sizeof(head)) < 0)
		return 1;
	__builtin_memcpy(&id, head, sizeof(id));
	if (!(head[2] & DNS_QR)) {
		if (!(flags & TFT_DNS_F_TCP) && is_dns_port(dport)) {
			struct dns_query_key k;

			query_key(&k, family, hook, id, saddr, sport, daddr, dport);
			remember_query(&k);
		}
		return 1;
	}
	if (!is_dns_port(sport))
		return 1; /* a response to a query sent from a DNS port: not an answer we read */
	if (!(flags & TFT_DNS_F_TCP) &&
	    !answers_query(hook, family, id, saddr, daddr, sport, dport))
		return 1;
	if (msg_off >= skb_len)
		return 1;
	len = msg_len;
	if (len > skb_len - msg_off)
		len = skb_len - msg_off; /* the packet holds less than the header says */
	if (len > TFT_DNS_MAX)
		len = TFT_DNS_MAX;
	if (len < msg_len) {
		flags |= TFT_DNS_F_TRUNCATED;
		count(TFT_CNT_DNS_TRUNC);
	}
	if (len < DNS_HDR_LEN)
		return 1;

	/* A full-size reservation: DNS answers are rare, and this saves a copy. */
	cpu = bpf_get_smp_processor_id();
	ev = reserve_rec(cpu, sizeof(*ev));
	if (!ev)
		return 1;
	/* Re-bound len on the very register passed: the verifier needs 0 < len <= msg size. */
	asm volatile("%[len] &= %[mask]" : [len] "+r"(len) : [mask] "i"(2 * TFT_DNS_MAX - 1));
	if (len > TFT_DNS_MAX || len == 0 ||
	    bpf_skb_load_bytes(skb, msg_off, ev->msg, (__u32)len) < 0) {
		bpf_ringbuf_discard(ev, BPF_RB_NO_WAKEUP);
		return 1;
	}
	ev->type = TFT_REC_DNS;
	ev->hook = hook;
	ev->family = family;
	ev->flags = flags;
	ev->len = (__u16)len;
	ev->orig_len = msg_len > 0xffff ? 0xffff : (__u16)msg_len;
	ev->sport = sport;
	ev->dport = dport;
	ev->reserved = 0;
	ev->sk_cookie = bpf_get_socket_cookie(skb);
	copy_addrs(ev->saddr, ev->daddr, family, saddr, daddr);
	bpf_ringbuf_submit(ev, submit_flags(cpu, sizeof(*ev)));
	return 1;
}

struct udp_head {
	__be16 sport;
	__be16 dport;
	__be16 len;
	__be16 check;
};

/* A UDP datagram at l4off; its source port is checked here (again, for IPv4 without options). */
static __always_inline int handle_udp(struct __sk_buff *skb, __u8 hook, __u8 family,
				      const __u8 *saddr, const __u8 *daddr, __u32 l4off)
{
	struct udp_head uh;
	__u32 ulen;

	if (bpf_skb_load_bytes(skb, l4off, &uh, sizeof(uh)) < 0)
		return 1;
	if (!either_dns_port(uh.sport, uh.dport))
		return 1;
	ulen = bpf_ntohs(uh.len);
	if (ulen < sizeof(uh) + DNS_HDR_LEN)
		return 1;
	return report_dns(skb, hook, family, 0, saddr, daddr, uh.sport, uh.dport,
			  l4off + sizeof(uh), ulen - sizeof(uh));
}

/*
 * A TCP segment from a DNS port without SYN or RST: a response whose whole
 * message (2-byte length prefix, then the message) sits in this segment goes
 * up. l3_end is the end of the IP payload (from the IP header's length).
 */
static __always_inline int handle_tcp_dns(struct __sk_buff *skb, __u8 hook, __u8 family,
					  const __u8 *saddr, const __u8 *daddr,
					  const struct tcp_head *th, __u32 l4off, __u32 l3_end)
{
	__u32 doff = (th->doff_res >> 4) * 4;
	__u32 off, msg_len;
	__be16 prefix;

	if (!(th->flags & TFT_TCP_PSH) || doff < 20)
		return 1;
	off = l4off + doff;
	if (l3_end < off + 2 + DNS_HDR_LEN)
		return 1; /* no payload, or too little for a DNS message */
	if (bpf_skb_load_bytes(skb, off, &prefix, sizeof(prefix)) < 0)
		return 1;
	msg_len = bpf_ntohs(prefix);
	if (msg_len + 2 > l3_end - off)
		return 1; /* the message continues in a later segment: not ours */
	return report_dns(skb, hook, family, TFT_DNS_F_TCP, saddr, daddr, th->sport, th->dport,
			  off + 2, msg_len);
}

static __always_inline int handle_ipv4(struct __sk_buff *skb, __u8 hook)
{
	struct ipv4_tcp p;
	__u32 ihl;

	/* One load covers the IPv4 header and, without options, the TCP head. */
	if (bpf_skb_load_bytes(skb, 0, &p, sizeof(p)) < 0)
		return 1;
	if (p.protocol != IPPROTO_TCP) {
		/*
		 * Without IP options p.tcp.sport is the UDP source port: one
		 * compare per DNS port decides. With options, or fragmented,
		 * the slow path sorts it out.
		 */
		if (p.protocol == IPPROTO_UDP &&
		    (p.ver_ihl != 0x45 || either_dns_port(p.tcp.sport, p.tcp.dport))) {
			ihl = (p.ver_ihl & 0x0f) * 4;
			if (ihl < 20 || (p.frag_off & bpf_htons(IP_FRAG_OFFSET_MASK | 0x2000)))
				return 1; /* a fragment: not a whole datagram */
			return handle_udp(skb, hook, 4, p.saddr, p.daddr, ihl);
		}
		return 1;
	}
	if (p.frag_off & bpf_htons(IP_FRAG_OFFSET_MASK))
		return 1; /* not the first fragment: no TCP header here */
	ihl = (p.ver_ihl & 0x0f) * 4;
	if (ihl < 20)
		return 1;
	if (ihl > 20 && bpf_skb_load_bytes(skb, ihl, &p.tcp, sizeof(p.tcp)) < 0)
		return 1;
	if (!(p.tcp.flags & (TFT_TCP_SYN | TFT_TCP_RST))) {
		if (is_dns_port(p.tcp.sport))
			return handle_tcp_dns(skb, hook, 4, p.saddr, p.daddr, &p.tcp, ihl,
					      bpf_ntohs(p.tot_len));
		return 1;
	}
	return report4(skb, p.saddr, p.daddr, &p.tcp, hook);
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
		if (nexthdr == IPPROTO_TCP || nexthdr == IPPROTO_UDP)
			break;
		if (nexthdr != NEXTHDR_HOP && nexthdr != NEXTHDR_ROUTING &&
		    nexthdr != NEXTHDR_DEST && nexthdr != NEXTHDR_FRAGMENT &&
		    nexthdr != NEXTHDR_AUTH)
			return 1; /* ICMPv6, ESP, no next header... */
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
	if (nexthdr != IPPROTO_TCP) {
		if (nexthdr == IPPROTO_UDP)
			return handle_udp(skb, hook, 6, ip6.saddr, ip6.daddr, off);
		return 1;
	}
	if (bpf_skb_load_bytes(skb, off, &th, sizeof(th)) < 0)
		return 1;
	if (!(th.flags & (TFT_TCP_SYN | TFT_TCP_RST))) {
		if (is_dns_port(th.sport))
			return handle_tcp_dns(skb, hook, 6, ip6.saddr, ip6.daddr, &th, off,
					      sizeof(ip6) + bpf_ntohs(ip6.payload_len));
		return 1;
	}
	return report6(skb, ip6.saddr, ip6.daddr, &th, hook);
}

/*
 * The common case decided by direct packet access, without a helper call:
 * true when the packet needs no more work (a TCP segment without SYN or RST,
 * UDP or TCP not from a DNS port, another protocol). False sends it to the
 * full parse, which also covers headers outside the linear data and kernels
 * whose test runs give cgroup_skb no data_end.
 */
static __always_inline bool ipv4_nothing_to_do(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	const struct ipv4_tcp *p = data;

	if ((void *)(p + 1) > end || p->ver_ihl != 0x45)
		return false;
	if (p->protocol == IPPROTO_TCP)
		return (p->frag_off & bpf_htons(IP_FRAG_OFFSET_MASK)) ||
		       (!(p->tcp.flags & (TFT_TCP_SYN | TFT_TCP_RST)) &&
			!is_dns_port(p->tcp.sport));
	if (p->protocol == IPPROTO_UDP) /* an answer from, or a query to, a DNS port */
		return !either_dns_port(p->tcp.sport, p->tcp.dport);
	return true;
}

struct ipv6_tcp {
	struct ipv6_hdr ip6;
	struct tcp_head tcp;
};

static __always_inline bool ipv6_nothing_to_do(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	const struct ipv6_tcp *p = data;

	if ((void *)(p + 1) > end)
		return false;
	if (p->ip6.nexthdr == IPPROTO_TCP)
		return !(p->tcp.flags & (TFT_TCP_SYN | TFT_TCP_RST)) && !is_dns_port(p->tcp.sport);
	if (p->ip6.nexthdr == IPPROTO_UDP)
		return !either_dns_port(p->tcp.sport, p->tcp.dport);
	return false; /* extension headers: the full walk */
}

/*
 * Set at load time: the watched cgroup's depth below the root of the
 * hierarchy (the root is 0) when the programs are attached to its parent,
 * so that a cgroup removed and created again under the same path can be
 * followed without attaching again; 0 when they are attached to the watched
 * cgroup itself, and the verifier then drops the check.
 */
const volatile __u32 watch_level = 0;

/*
 * The watched cgroup's id, with watch_level. In .bss, not rodata: user space
 * writes the new cgroup's id through the skeleton's mmap (no bpf() call, so
 * it still works after the privilege drop) when the path is recreated.
 */
__u64 watch_cgroup_id;

/*
 * True when the packet's socket is not in the watched cgroup or below it:
 * another child of the parent, or the parent itself. A packet without a
 * full socket gets id 0 and is passed over too: the watched cgroup's own
 * attachment would never have run for it, since the kernel runs cgroup_skb
 * programs only for the full socket that owns or receives the packet, in
 * that socket's cgroup.
 */
static __always_inline bool other_cgroup(struct __sk_buff *skb)
{
	if (!watch_level)
		return false;
	return bpf_skb_ancestor_cgroup_id(skb, (int)watch_level) != watch_cgroup_id;
}

/*
 * The common packet leaves before the cgroup check: the watched cgroup's
 * own traffic then pays nothing for it, and the parent's other children
 * pay the check only on the packets that would be reported.
 */
static __always_inline int handle(struct __sk_buff *skb, __u8 hook)
{
	if (skb->protocol == bpf_htons(ETH_P_IP))
		return ipv4_nothing_to_do(skb) || other_cgroup(skb) ? 1 : handle_ipv4(skb, hook);
	if (skb->protocol == bpf_htons(ETH_P_IPV6))
		return ipv6_nothing_to_do(skb) || other_cgroup(skb) ? 1 : handle_ipv6(skb, hook);
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

/*
 * A TCP socket bound to an address stores its owner, in the process that
 * binds it: a listener's owner names the incoming flows it accepts. Once per
 * bind, never per packet; a socket always allowed (1).
 */
static __always_inline int store_owner(struct bpf_sock *sk)
{
	struct tft_owner *o;

	if (sk->type != TFT_SOCK_STREAM || sk->protocol != IPPROTO_TCP)
		return 1;
	/* On the watched cgroup's parent: only its own listeners (the binding process's cgroup). */
	if (watch_level && bpf_get_current_ancestor_cgroup_id((int)watch_level) != watch_cgroup_id)
		return 1;
	o = bpf_sk_storage_get(&owners, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (o)
		current_owner(o);
	return 1;
}

SEC("cgroup/post_bind4")
int tft_post_bind4(struct bpf_sock *sk)
{
	return store_owner(sk);
}

SEC("cgroup/post_bind6")
int tft_post_bind6(struct bpf_sock *sk)
{
	return store_owner(sk);
}

/* TCP states as the kernel numbers them (enum in linux/bpf.h, BPF_TCP_*). */
#define TCP_FIN_WAIT1 BPF_TCP_FIN_WAIT1
#define TCP_FIN_WAIT2 BPF_TCP_FIN_WAIT2
#define TCP_TIME_WAIT BPF_TCP_TIME_WAIT
#define TCP_CLOSE BPF_TCP_CLOSE
#define TCP_LAST_ACK BPF_TCP_LAST_ACK
#define TCP_CLOSING BPF_TCP_CLOSING

/*
 * How a socket that reaches CLOSE from old_state ended. Having sent its FIN
 * first, it went through FIN_WAIT or CLOSING; having answered the peer's,
 * through LAST_ACK. Straight from ESTABLISHED or CLOSE_WAIT it was reset:
 * by this end (an abort: close() with SO_LINGER 0 or unread data), unless
 * a RST came in, which user space learns from that RST's own record, read
 * from the same CPU's ring just before this one (tcp_reset runs in the RST's
 * softirq).
 */
static __always_inline __u8 close_end(__u32 old_state)
{
	switch (old_state) {
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
	case TCP_CLOSING:
	case TCP_TIME_WAIT:
		return TFT_SOCK_END_FIN_LOCAL;
	case TCP_LAST_ACK:
		return TFT_SOCK_END_FIN_PEER;
	default:
		return TFT_SOCK_END_RESET_LOCAL;
	}
}

/* One socket record: addresses, ports and the socket's own counters. */
static __always_inline void report_sock(struct bpf_sock_ops *skops, __u8 op, __u8 side, __u8 end)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct tft_sock_event *ev = reserve_rec(cpu, sizeof(*ev));

	if (!ev)
		return;
	ev->type = TFT_REC_SOCK;
	ev->op = op;
	ev->side = side;
	ev->end = end;
	ev->zero[0] = ev->zero[1] = ev->zero[2] = 0;
	ev->zero2 = 0;
	ev->lport = bpf_htons((__u16)skops->local_port);
	ev->rport = (__be16)(skops->remote_port >> 16); /* the kernel puts the wire port up there */
	ev->srtt_us = skops->srtt_us >> 3;		/* kept scaled by 8 */
	ev->ts_ns = bpf_ktime_get_ns();
	ev->bytes_received = skops->bytes_received;
	ev->bytes_acked = skops->bytes_acked;
	ev->segs_in = skops->segs_in;
	ev->segs_out = skops->segs_out;
	ev->total_retrans = skops->total_retrans;
	if (skops->family == TFT_AF_INET) {
		ev->family = 4;
		__builtin_memset(ev->laddr, 0, sizeof(ev->laddr));
		__builtin_memset(ev->raddr, 0, sizeof(ev->raddr));
		__builtin_memcpy(ev->laddr, &skops->local_ip4, 4);
		__builtin_memcpy(ev->raddr, &skops->remote_ip4, 4);
	} else {
		__u32 a[4];

		/* One 32-bit load each: the context allows no wider read, which clang would merge
		 * to. */
		ev->family = 6;
		a[0] = *(volatile __u32 *)&skops->local_ip6[0];
		a[1] = *(volatile __u32 *)&skops->local_ip6[1];
		a[2] = *(volatile __u32 *)&skops->local_ip6[2];
		a[3] = *(volatile __u32 *)&skops->local_ip6[3];
		__builtin_memcpy(ev->laddr, a, 16);
		a[0] = *(volatile __u32 *)&skops->remote_ip6[0];
		a[1] = *(volatile __u32 *)&skops->remote_ip6[1];
		a[2] = *(volatile __u32 *)&skops->remote_ip6[2];
		a[3] = *(volatile __u32 *)&skops->remote_ip6[3];
		__builtin_memcpy(ev->raddr, a, 16);
	}
	bpf_ringbuf_submit(ev, submit_flags(cpu, sizeof(*ev)));
}

/*
 * Outcomes, per socket and never per packet. At establishment a socket asks
 * for its state changes and retransmission timeouts; a passive one reports
 * its handshake's end (the incoming flow is established, not half-open; a
 * SYN-cookie flow shows here without a SYN-ACK seen). An active one needs
 * no record: its SYN-ACK already said so. Every socket reports its close
 * once, with its final counters: at CLOSE, or when its retransmissions ran
 * out (the callbacks then stop, so the CLOSE that follows stays quiet).
 * Sockets established before the programs were attached never ask, so
 * their closes stay quiet too. It goes on the watched cgroup itself, never
 * on its parent (capture.c): it has no cheap way to tell a sibling's socket.
 */
SEC("sockops")
int tft_sockops(struct bpf_sock_ops *skops)
{
	switch (skops->op) {
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		bpf_sock_ops_cb_flags_set(skops,
					  BPF_SOCK_OPS_STATE_CB_FLAG | BPF_SOCK_OPS_RTO_CB_FLAG);
		report_sock(skops, TFT_SOCK_ESTABLISHED, TFT_SIDE_PASSIVE, 0);
		break;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		bpf_sock_ops_cb_flags_set(skops,
					  BPF_SOCK_OPS_STATE_CB_FLAG | BPF_SOCK_OPS_RTO_CB_FLAG);
		break;
	case BPF_SOCK_OPS_RTO_CB:
		if (skops->args[2]) { /* expired: the connection is given up */
			bpf_sock_ops_cb_flags_set(skops, 0);
			report_sock(skops, TFT_SOCK_CLOSED, 0, TFT_SOCK_END_TIMEOUT);
		}
		break;
	case BPF_SOCK_OPS_STATE_CB:
		if (skops->args[1] == TCP_CLOSE)
			report_sock(skops, TFT_SOCK_CLOSED, 0, close_end(skops->args[0]));
		break;
	}
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
