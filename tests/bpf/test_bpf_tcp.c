/*
 * Runs the real cgroup_skb programs on crafted packets with
 * bpf_prog_test_run_opts and checks the records they queue and that every
 * packet is allowed. Needs root (exit 77 otherwise).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture.h"
#include "cgroup.h"
#include "flow_table.h"
#include "../flow_nth.h"
#include "../cgroup_join.h"
#include "t.h"

#define ETH_HLEN 14

/* The real capture, loaded but not attached: its rings, its record conversion. */
static struct capture *cap;
static struct tft_tcp_event got[16];
static int ngot;

static void on_tcp(const struct tft_tcp_event *ev, void *ctx)
{
	(void)ctx;
	if (ngot < 16)
		got[ngot++] = *ev;
}

struct pkt {
	unsigned char b[256];
	size_t len;
};

static void put(struct pkt *p, const void *d, size_t n)
{
	memcpy(p->b + p->len, d, n);
	p->len += n;
}

static void eth(struct pkt *p, uint16_t proto)
{
	unsigned char h[ETH_HLEN] = {0};

	h[12] = (unsigned char)(proto >> 8);
	h[13] = (unsigned char)proto;
	put(p, h, sizeof(h));
}

static void ipv4(struct pkt *p, uint8_t proto, int opt_words, uint16_t frag_off, size_t l4len)
{
	unsigned char h[60] = {0};
	size_t hl = 20 + (size_t)opt_words * 4;
	uint16_t tot = (uint16_t)(hl + l4len);

	h[0] = (unsigned char)(0x40 | (hl / 4));
	h[2] = (unsigned char)(tot >> 8);
	h[3] = (unsigned char)tot;
	h[6] = (unsigned char)(frag_off >> 8);
	h[7] = (unsigned char)frag_off;
	h[8] = 64;
	h[9] = proto;
	inet_pton(AF_INET, "10.1.2.3", h + 12);
	inet_pton(AF_INET, "10.4.5.6", h + 16);
	if (opt_words) {
		memset(h + 20, 1, (size_t)opt_words * 4); /* NOPs */
		h[hl - 1] = 0;				  /* end of options */
	}
	put(p, h, hl);
}

static void ipv6(struct pkt *p, uint8_t nexthdr, size_t payload)
{
	unsigned char h[40] = {0};

	h[0] = 0x60;
	h[4] = (unsigned char)(payload >> 8);
	h[5] = (unsigned char)payload;
	h[6] = nexthdr;
	h[7] = 64;
	inet_pton(AF_INET6, "2001:db8::a", h + 8);
	inet_pton(AF_INET6, "2001:db8::b", h + 24);
	put(p, h, sizeof(h));
}

static void tcp(struct pkt *p, uint8_t flags, size_t data)
{
	unsigned char h[20] = {0};
	uint32_t seq = htonl(0x11223344), ack = htonl(0x55667788);

	h[0] = 0x9c; /* 40000 */
	h[1] = 0x40;
	h[2] = 0x01; /* 443 */
	h[3] = 0xbb;
	memcpy(h + 4, &seq, 4);
	memcpy(h + 8, &ack, 4);
	h[12] = 5 << 4;
	h[13] = flags;
	h[14] = 0xff;
	put(p, h, sizeof(h));
	while (data--)
		put(p, "x", 1);
}

/*
 * Runs a hook's program on the packet, with skb->tstamp set to tstamp;
 * returns its verdict, or -errno. Collects records.
 */
static int run_at(enum tft_hook hook, const struct pkt *p, uint64_t tstamp)
{
	struct __sk_buff ctx = {.tstamp = tstamp};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->b, .data_size_in = (__u32)p->len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);
	int err;

	ngot = 0;
	err = bpf_prog_test_run_opts(capture_prog_fd(cap, hook), &opts);
	if (err)
		return -errno;
	capture_drain(cap);
	return (int)opts.retval;
}

static int run(enum tft_hook hook, const struct pkt *p)
{
	return run_at(hook, p, 0);
}

static void check_v4_event(const struct tft_tcp_event *e, uint8_t flags, uint8_t hook,
			   const char *what)
{
	unsigned char s[4], d[4];

	inet_pton(AF_INET, "10.1.2.3", s);
	inet_pton(AF_INET, "10.4.5.6", d);
	CHECK_EQ(e->family, 4, what);
	CHECK_EQ(e->flags, flags, what);
	CHECK_EQ(e->hook, hook, what);
	CHECK_EQ(ntohs(e->sport), 40000, what);
	CHECK_EQ(ntohs(e->dport), 443, what);
	CHECK_EQ(e->seq, 0x11223344u, what);
	CHECK_EQ(e->ack, 0x55667788u, what);
	CHECK(memcmp(e->saddr, s, 4) == 0 && memcmp(e->daddr, d, 4) == 0, what);
	CHECK(e->ts_ns > 0, what);
}

static void test_ipv4(void)
{
	struct pkt p = {0};

	eth(&p, 0x0800);
	ipv4(&p, 6, 0, 0, 20);
	tcp(&p, TFT_TCP_SYN, 0);
	CHECK_EQ(run(TFT_HOOK_EGRESS, &p), 1, "ipv4 syn allowed");
	CHECK_EQ(ngot, 1, "ipv4 syn: one record");
	check_v4_event(&got[0], TFT_TCP_SYN, TFT_HOOK_EGRESS, "ipv4 syn record");

	CHECK_EQ(run(TFT_HOOK_INGRESS, &p), 1, "ipv4 syn ingress allowed");
	CHECK_EQ(ngot, 1, "ipv4 syn ingress: one record");
	CHECK_EQ(got[0].hook, TFT_HOOK_INGRESS, "ingress hook");

	memset(&p, 0, sizeof(p));
	eth(&p, 0x0800);
	ipv4(&p, 6, 3, 0, 20); /* 12 bytes of options */
	tcp(&p, TFT_TCP_SYN, 0);
	CHECK_EQ(run(TFT_HOOK_EGRESS, &p), 1, "syn with ip options allowed");
	CHECK_EQ(ngot, 1, "syn with ip options: one record");
	check_v4_event(&got[0], TFT_TCP_SYN, TFT_HOOK_EGRESS, "options record");

	memset(&p, 0, sizeof(p));
	eth(&p, 0x0800);
	ipv4(&p, 6, 0, 0, 20);
	tcp(&p, TFT_TCP_SYN | TFT_TCP_ACK, 0);
	CHECK_EQ(run(TFT_HOOK_INGRESS, &p), 1, "syn-ack allowed");
	CHECK_EQ(ngot, 1, "syn-ack: one record");
	check_v4_event(&got[0], TFT_TCP_SYN | TFT_TCP_ACK, TFT_HOOK_INGRESS, "syn-ack record");

	memset(&p, 0, sizeof(p));
	eth(&p, 0x0800);
	ipv4(&p, 6, 0, 0, 20);
	tcp(&p, TFT_TCP_RST | TFT_TCP_ACK, 0);
	CHECK_EQ(run(TFT_HOOK_INGRESS, &p), 1, "rst-ack allowed");
	CHECK_EQ(ngot, 1, "rst-ack: one record");
	check_v4_event(&got[0], TFT_TCP_RST | TFT_TCP_ACK, TFT_HOOK_INGRESS, "rst-ack record");

	memset(&p, 0, sizeof(p));
	eth(&p, 0x0800);
	ipv4(&p, 6, 0, 0, 20 + 100);
	tcp(&p, TFT_TCP_ACK | 0x08, 100);
	CHECK_EQ(run(TFT_HOOK_EGRESS, &p), 1, "ack with data allowed");
	CHECK_EQ(ngot, 0, "ack with data: no record");

	/* IP options send an ACK down the full parse instead of the direct-access check. */
	memset(&p, 0, sizeof(p));
	eth(&p, 0x0800);
	ipv4(&p, 6, 2, 0, 20 + 100);
	tcp(&p, TFT_TCP_ACK | 0x08, 100);
	CHECK_EQ(run(TFT_HOOK_INGRESS, &p), 1, "ack with ip options allowed");
	CHECK_EQ(ngot, 0, "ack with ip options: no record");

	memset(&p, 0, sizeof(p));
	eth(&p, 0x0800);
	ipv4(&p, 6, 0, 0, 20);
	tcp(&p, TFT_TCP_FIN | TFT_TCP_ACK, 0);
	CHECK_EQ(run(TFT_HOOK_EGRESS, &p), 1, "fin allowed");
	CHECK_EQ(ngot, 0, "fin: no record");

	memset(&p, 0, sizeof(p));
	eth(&p, 0x0800);
	ipv4(&p, 17, 0, 0, 20);
	tcp(&p, TFT_TCP_SYN, 0); /* bytes that would look like a SYN if read as TCP */
	CHECK_EQ(run(TFT_HOOK_EGRESS, &p), 1, "udp allowed");
	CHECK_EQ(ngot, 0, "udp: no record");

	memset(&p, 0, sizeof(p));
	eth(&p, 0x0800);
	ipv4(&p, 6, 0, 185, 20); /* fragment offset 185*8 */
	tcp(&p, TFT_TCP_SYN, 0);
	CHECK_EQ(run(TFT_HOOK_INGRESS, &p), 1, "non-first fragment allowed");
	CHECK_EQ(ngot, 0, "non-first fragment: no record");

	memset(&p, 0, sizeof(p));
	eth(&p, 0x0800);
	ipv4(&p, 6, 0, 0, 20);
	tcp(&p, TFT_TCP_SYN, 0);
	p.len = ETH_HLEN + 20 + 8; /* TCP header cut before the flags */
	CHECK_EQ(run(TFT_HOOK_EGRESS, &p), 1, "truncated tcp allowed");
	CHECK_EQ(ngot, 0, "truncated tcp: no record");

	memset(&p, 0, sizeof(p));
	eth(&p, 0x0800);
	ipv4(&p, 6, 0, 0, 20);
	p.len = ETH_HLEN + 20; /* the IPv4 header ends the packet: no TCP header at all */
	CHECK_EQ(run(TFT_HOOK_EGRESS, &p), 1, "missing tcp header allowed");
	CHECK_EQ(ngot, 0, "missing tcp header: no record");

	/* IHL claims 60 bytes of header; the packet ends inside the options. */
	memset(&p, 0, sizeof(p));
	eth(&p, 0x0800);
	ipv4(&p, 6, 2, 0, 0);
	p.b[ETH_HLEN] = 0x4f;
	CHECK_EQ(run(TFT_HOOK_EGRESS, &p), 1, "ihl past the end allowed");
	CHECK_EQ(ngot, 0, "ihl past the end: no record");
}

static void check_v6_event(const struct tft_tcp_event *e, const char *what)
{
	unsigned char s[16], d[16];

	inet_pton(AF_INET6, "2001:db8::a", s);
	inet_pton(AF_INET6, "2001:db8::b", d);
	CHECK_EQ(e->family, 6, what);
	CHECK_EQ(e->flags, TFT_TCP_SYN, what);
	CHECK_EQ(ntohs(e->sport), 40000, what);
	CHECK_EQ(ntohs(e->dport), 443, what);
	CHECK_EQ(e->seq, 0x11223344u, what);
	CHECK(memcmp(e->saddr, s, 16) == 0 && memcmp(e->daddr, d, 16) == 0, what);
}

/* An 8-byte extension header (hop-by-hop, destination options) leading to next. */
static void ext8(struct pkt *p, uint8_t next)
{
	unsigned char h[8] = {next, 0, 1, 4, 0, 0, 0, 0}; /* PadN over the rest */

	put(p, h, sizeof(h));
}

static void frag(struct pkt *p, uint8_t next, uint16_t offset_units, int more)
{
	unsigned char h[8] = {next, 0, 0, 0, 0, 0, 0, 1};
	uint16_t v = (uint16_t)(offset_units << 3 | (more ? 1 : 0));

	h[2] = (unsigned char)(v >> 8);
	h[3] = (unsigned char)v;
	put(p, h, sizeof(h));
}

static void test_ipv6(void)
{
	struct pkt p = {0};

	eth(&p, 0x86dd);
	ipv6(&p, 6, 20);
	tcp(&p, TFT_TCP_SYN, 0);
	CHECK_EQ(run(TFT_HOOK_EGRESS, &p), 1, "ipv6 syn allowed");
	CHECK_EQ(ngot, 1, "ipv6 syn: one record");
	check_v6_event(&got[0], "ipv6 syn record");

	/* Hop-by-hop, destination options, first fragment, then TCP. */
	memset(&p, 0, sizeof(p));
	eth(&p, 0x86dd);
	ipv6(&p, 0, 8 + 8 + 8 + 20);
	ext8(&p, 60);
	ext8(&p, 44);
	frag(&p, 6, 0, 1);
	tcp(&p, TFT_TCP_SYN, 0);
	CHECK_EQ(run(TFT_HOOK_INGRESS, &p), 1, "ipv6 ext headers allowed");
	CHECK_EQ(ngot, 1, "ipv6 syn behind extension headers: one record");
	check_v6_event(&got[0], "ipv6 ext record");

	memset(&p, 0, sizeof(p));
	eth(&p, 0x86dd);
	ipv6(&p, 44, 8 + 20);
	frag(&p, 6, 100, 0);
	tcp(&p, TFT_TCP_SYN, 0);
	CHECK_EQ(run(TFT_HOOK_INGRESS, &p), 1, "ipv6 non-first fragment allowed");
	CHECK_EQ(ngot, 0, "ipv6 non-first fragment: no record");

	/* ACK with data: no record, directly and behind an extension header. */
	memset(&p, 0, sizeof(p));
	eth(&p, 0x86dd);
	ipv6(&p, 6, 20 + 50);
	tcp(&p, TFT_TCP_ACK, 50);
	CHECK_EQ(run(TFT_HOOK_EGRESS, &p), 1, "ipv6 ack allowed");
	CHECK_EQ(ngot, 0, "ipv6 ack: no record");
	memset(&p, 0, sizeof(p));
	eth(&p, 0x86dd);
	ipv6(&p, 60, 8 + 20 + 50);
	ext8(&p, 6);
	tcp(&p, TFT_TCP_ACK, 50);
	CHECK_EQ(run(TFT_HOOK_EGRESS, &p), 1, "ipv6 ack behind ext header allowed");
	CHECK_EQ(ngot, 0, "ipv6 ack behind ext header: no record");

	memset(&p, 0, sizeof(p));
	eth(&p, 0x86dd);
	ipv6(&p, 17, 20);
	tcp(&p, TFT_TCP_SYN, 0);
	CHECK_EQ(run(TFT_HOOK_EGRESS, &p), 1, "ipv6 udp allowed");
	CHECK_EQ(ngot, 0, "ipv6 udp: no record");

	/* More extension headers than the walk allows: given up, still allowed. */
	memset(&p, 0, sizeof(p));
	eth(&p, 0x86dd);
	ipv6(&p, 60, 8 * 8 + 20);
	for (int i = 0; i < 8; i++)
		ext8(&p, i < 7 ? 60 : 6);
	tcp(&p, TFT_TCP_SYN, 0);
	CHECK_EQ(run(TFT_HOOK_EGRESS, &p), 1, "deep ext chain allowed");
	CHECK_EQ(ngot, 0, "deep ext chain: no record");

	memset(&p, 0, sizeof(p));
	eth(&p, 0x86dd);
	ipv6(&p, 6, 20);
	p.len = ETH_HLEN + 40 + 10; /* TCP header cut before the flags */
	CHECK_EQ(run(TFT_HOOK_EGRESS, &p), 1, "truncated ipv6 tcp allowed");
	CHECK_EQ(ngot, 0, "truncated ipv6 tcp: no record");

	/* An extension header that runs past the end of the packet. */
	memset(&p, 0, sizeof(p));
	eth(&p, 0x86dd);
	ipv6(&p, 60, 8);
	ext8(&p, 6);
	p.b[p.len - 7] = 200; /* hdrlen: 1608 bytes */
	CHECK_EQ(run(TFT_HOOK_EGRESS, &p), 1, "ext header past the end allowed");
	CHECK_EQ(ngot, 0, "ext header past the end: no record");
}

/* The records of a SYN sent twice make one flow with one retransmission. */
static void test_retransmission_is_one_flow(void)
{
	struct flow_table *t = flow_table_new(16);
	const struct tft_flow *f = NULL;
	struct pkt p = {0};
	int i;

	eth(&p, 0x0800);
	ipv4(&p, 6, 0, 0, 20);
	tcp(&p, TFT_TCP_SYN, 0);
	for (i = 0; i < 2; i++) {
		CHECK_EQ(run(TFT_HOOK_EGRESS, &p), 1, "syn allowed");
		CHECK_EQ(ngot, 1, "one record per syn");
		flow_table_apply(t, &got[0], &f);
	}
	CHECK_EQ(flow_table_count(t), 1, "retransmitted syn: one flow");
	CHECK_EQ(flow_nth(t, 0)->syn_retrans, 1, "retransmission counted");
	flow_table_free(t);
}

/*
 * A SYN leaving the host carries TCP's own clock reading in skb->tstamp and
 * the record takes it; an arriving SYN, a SYN-ACK and an RST read the clock.
 */
static void test_packet_time(void)
{
	const uint64_t stamp = 123456789;
	struct pkt p = {0};

	eth(&p, 0x0800);
	ipv4(&p, 6, 0, 0, 20);
	tcp(&p, TFT_TCP_SYN, 0);
	CHECK_EQ(run_at(TFT_HOOK_EGRESS, &p, stamp), 1, "stamped syn allowed");
	CHECK_EQ(ngot, 1, "stamped syn: one record");
	CHECK_EQ(got[0].ts_ns, stamp, "an outgoing syn takes its departure time");
	CHECK_EQ(run_at(TFT_HOOK_INGRESS, &p, stamp), 1, "stamped incoming syn allowed");
	CHECK(ngot == 1 && got[0].ts_ns != stamp && got[0].ts_ns > 0,
	      "an incoming syn reads the clock");

	memset(&p, 0, sizeof(p));
	eth(&p, 0x86dd);
	ipv6(&p, 6, 20);
	tcp(&p, TFT_TCP_SYN, 0);
	CHECK_EQ(run_at(TFT_HOOK_EGRESS, &p, stamp), 1, "stamped ipv6 syn allowed");
	CHECK(ngot == 1 && got[0].ts_ns == stamp, "an outgoing ipv6 syn takes its departure time");

	memset(&p, 0, sizeof(p));
	eth(&p, 0x0800);
	ipv4(&p, 6, 0, 0, 20);
	tcp(&p, TFT_TCP_SYN | TFT_TCP_ACK, 0);
	CHECK_EQ(run_at(TFT_HOOK_EGRESS, &p, stamp), 1, "stamped syn-ack allowed");
	CHECK(ngot == 1 && got[0].ts_ns != stamp && got[0].ts_ns > 0,
	      "an outgoing syn-ack reads the clock (syn cookies stamp it early)");
}

/* Runs a hook's program on the packet on one CPU (a test run stays on the caller's CPU). */
static int run_on_cpu(int cpu, enum tft_hook hook, const struct pkt *p)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->b, .data_size_in = (__u32)p->len,
		    .repeat = 1);
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		return -errno;
	if (bpf_prog_test_run_opts(capture_prog_fd(cap, hook), &opts) < 0)
		return -errno;
	return (int)opts.retval;
}

/*
 * Records from every CPU's ring come out of one drain in time order: a
 * SYN-ACK queued on CPU 0 after its SYN on CPU 1 (whose ring is read after
 * CPU 0's) is still passed on after it.
 */
static void test_rings_merge_in_time_order(void)
{
	struct pkt syn = {0}, synack = {0};
	cpu_set_t all;

	if (capture_rings(cap) < 2 || sched_getaffinity(0, sizeof(all), &all) < 0 ||
	    !CPU_ISSET(0, &all) || !CPU_ISSET(1, &all)) {
		fprintf(stderr, "# CPUs 0 and 1 not both usable: ring merge not tested\n");
		return;
	}
	eth(&syn, 0x0800);
	ipv4(&syn, 6, 0, 0, 20);
	tcp(&syn, TFT_TCP_SYN, 0);
	eth(&synack, 0x0800);
	ipv4(&synack, 6, 0, 0, 20);
	tcp(&synack, TFT_TCP_SYN | TFT_TCP_ACK, 0);

	ngot = 0;
	CHECK_EQ(run_on_cpu(1, TFT_HOOK_EGRESS, &syn), 1, "syn on cpu 1");
	CHECK_EQ(run_on_cpu(0, TFT_HOOK_INGRESS, &synack), 1, "syn-ack on cpu 0");
	sched_setaffinity(0, sizeof(all), &all);
	capture_drain(cap);
	CHECK_EQ(ngot, 2, "merge: two records");
	CHECK(ngot == 2 && got[0].flags == TFT_TCP_SYN &&
		  got[1].flags == (TFT_TCP_SYN | TFT_TCP_ACK),
	      "merge: the syn comes first");
	CHECK(ngot == 2 && got[0].ts_ns <= got[1].ts_ns, "merge: in time order");
}

/* A SYN sent from this process's cgroup through the filtering capture: records queued. */
static int syns_seen(struct capture *c)
{
	struct capture *saved = cap;
	struct pkt p = {0};
	int rc, n;

	eth(&p, 0x0800);
	ipv4(&p, 6, 0, 0, 20);
	tcp(&p, TFT_TCP_SYN, 0);
	cap = c;
	rc = run(TFT_HOOK_EGRESS, &p);
	n = ngot;
	rc = rc == 1 ? run(TFT_HOOK_INGRESS, &p) : rc;
	n += ngot;
	cap = saved;
	return rc == 1 ? n : -1;
}

/*
 * Programs on a parent, watching one child: packets of that child and below
 * are seen, the parent's own and a sibling's pass over with no record (and
 * are allowed), and capture_follow turns the programs to another cgroup.
 * A test run's packet carries a socket the kernel makes for the run in the
 * caller's cgroup, so moving this process between cgroups moves its packets.
 */
static void test_follow(void)
{
	char root[PATH_MAX], own[PATH_MAX], base[PATH_MAX + 32], watched[PATH_MAX + 40],
	    inner[PATH_MAX + 48], sibling[PATH_MAX + 40], err[512];
	struct capture_opts opts = {.ring_bytes = 1 << 20};
	struct capture *fc = NULL;
	uint64_t wid = 0, sid = 0;
	int level = 0, root_level = -1;

	if (cgroup_find_v2_root("/proc/self/mounts", root, sizeof(root)) ||
	    own_cgroup(root, own, sizeof(own))) {
		fprintf(stderr, "# no cgroup v2 hierarchy here: the cgroup filter is not tested\n");
		return;
	}
	snprintf(base, sizeof(base), "%s/tft-bpf-%d", root, (int)getpid());
	snprintf(watched, sizeof(watched), "%s/w", base);
	snprintf(inner, sizeof(inner), "%s/inner", watched);
	snprintf(sibling, sizeof(sibling), "%s/s", base);
	CHECK(mkdir(base, 0755) == 0 && mkdir(watched, 0755) == 0 && mkdir(inner, 0755) == 0 &&
		  mkdir(sibling, 0755) == 0,
	      "follow: test cgroups made");
	CHECK_EQ(cgroup_level(watched, &level), 0, "follow: depth of the watched cgroup");
	CHECK_EQ(cgroup_level(root, &root_level), 0, "follow: the root's depth");
	CHECK_EQ(root_level, 0, "follow: the root is at depth 0");
	CHECK(cgroup_id(watched, &wid) == 0 && cgroup_id(sibling, &sid) == 0 && wid != sid,
	      "follow: ids of the watched and the sibling cgroup");
	opts.watch_level = (unsigned)level;
	opts.watch_cgroup_id = wid;
	fc = capture_new(&opts, on_tcp, NULL, NULL, err, sizeof(err));
	CHECK(fc != NULL, "follow: loading the filtering programs");
	if (!fc || level < 1)
		goto out;
	CHECK(capture_follows(fc), "follow: a capture with a depth follows");
	CHECK_EQ(capture_follow(cap, wid), -EOPNOTSUPP, "follow: not without a depth");

	CHECK_EQ(enter_cgroup(inner), 0, "follow: into a child of the watched cgroup");
	if (syns_seen(fc) == 0) {
		fprintf(stderr, "# this kernel's test runs give the packet no socket in the "
				"caller's cgroup: the filter is tested end to end only\n");
		goto out;
	}
	CHECK_EQ(syns_seen(fc), 2, "follow: a child of the watched cgroup is seen");
	CHECK_EQ(enter_cgroup(watched), 0, "follow: into the watched cgroup");
	CHECK_EQ(syns_seen(fc), 2, "follow: the watched cgroup is seen");
	CHECK_EQ(enter_cgroup(sibling), 0, "follow: into the sibling");
	CHECK_EQ(syns_seen(fc), 0, "follow: the sibling is passed over");
	CHECK_EQ(syns_seen(cap), 2, "follow: the sibling is seen without the filter");
	CHECK_EQ(enter_cgroup(base), 0, "follow: into the parent");
	CHECK_EQ(syns_seen(fc), 0, "follow: the parent's own socket is passed over");
	CHECK_EQ(capture_follow(fc, sid), 0, "follow: turned to the sibling");
	CHECK_EQ(syns_seen(fc), 0, "follow: the parent still passed over");
	CHECK_EQ(enter_cgroup(sibling), 0, "follow: into the sibling again");
	CHECK_EQ(syns_seen(fc), 2, "follow: the followed cgroup is seen");
	CHECK_EQ(enter_cgroup(watched), 0, "follow: into the first cgroup again");
	CHECK_EQ(syns_seen(fc), 0, "follow: the cgroup no longer watched is passed over");
out:
	CHECK_EQ(enter_cgroup(own), 0, "follow: back to the test's own cgroup");
	capture_free(fc);
	rmdir(inner);
	rmdir(watched);
	rmdir(sibling);
	rmdir(base);
}

int main(void)
{
	struct capture_opts opts = {.ring_bytes = 1 << 20};
	char err[512];

	if (geteuid() != 0) {
		fprintf(stderr, "SKIP: BPF tests need root (CAP_BPF + CAP_NET_ADMIN)\n");
		return T_SKIP;
	}
	cap = capture_new(&opts, on_tcp, NULL, NULL, err, sizeof(err));
	if (!cap) {
		fprintf(stderr, "FAIL: loading the BPF programs: %s\n", err);
		return 1;
	}
	test_ipv4();
	test_ipv6();
	test_retransmission_is_one_flow();
	test_packet_time();
	test_rings_merge_in_time_order();
	test_follow();
	capture_free(cap);
	return t_done();
}
