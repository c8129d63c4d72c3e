/*
 * DNS forwarding of the real cgroup_skb programs, run on crafted packets with
 * BPF_PROG_TEST_RUN (loaded, never attached): UDP responses over IPv4 and
 * IPv6 from port 53 and from an extra --dns-port, a TCP response in one
 * segment, and everything that must forward nothing (a query, other ports, a
 * split TCP message, a segment without PSH). An oversize answer is cut at
 * TFT_DNS_MAX, flagged and counted. A UDP answer goes up only after its
 * query passed the other hook: unsolicited, mismatched and repeated answers
 * are counted and ignored.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture.h"
#include "t.h"
#include "tft_events.h"

#define DNS_ALT_PORT 5353

/* The real capture, loaded but not attached. */
static struct capture *cap;

/* Records read back from the ring buffer by the last run. */
static struct tft_dns_event got_dns[4];
static int n_dns, n_tcp, n_other;

static void on_dns(const struct tft_dns_event *ev, void *ctx)
{
	(void)ctx;
	if (n_dns < 4)
		got_dns[n_dns] = *ev;
	n_dns++;
}

static void on_tcp(const struct tft_tcp_event *ev, void *ctx)
{
	(void)ctx;
	if (ev->type == TFT_REC_TCP)
		n_tcp++;
	else
		n_other++;
}

static size_t put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return 2;
}

/* A DNS message: header, one question, one A answer, then filler to total bytes. */
static size_t make_dns(uint8_t *m, size_t total, int response)
{
	static const uint8_t qname[] = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0};
	size_t n = 0;

	n += put16(m + n, 0x1234);
	n += put16(m + n, response ? 0x8180 : 0x0100);
	n += put16(m + n, 1); /* qdcount */
	n += put16(m + n, response ? 1 : 0);
	n += put16(m + n, 0);
	n += put16(m + n, 0);
	memcpy(m + n, qname, sizeof(qname));
	n += sizeof(qname);
	n += put16(m + n, 1); /* A */
	n += put16(m + n, 1); /* IN */
	if (response) {
		n += put16(m + n, 0xc00c);
		n += put16(m + n, 1);
		n += put16(m + n, 1);
		n += put16(m + n, 0);
		n += put16(m + n, 300);
		n += put16(m + n, 4);
		m[n++] = 127;
		m[n++] = 0;
		m[n++] = 0;
		m[n++] = 7;
	}
	while (n < total) { /* filler, distinct per offset so a misplaced copy shows */
		m[n] = (uint8_t)(n * 7 + 3);
		n++;
	}
	return n;
}

struct pkt {
	uint8_t buf[2048];
	size_t len;
};

static const uint8_t v4_src[4] = {127, 0, 0, 53};
static const uint8_t v4_dst[4] = {127, 0, 0, 1};
static const uint8_t v6_src[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x53};
static const uint8_t v6_dst[16] = {[15] = 1};

static size_t eth(uint8_t *p, uint16_t proto)
{
	memset(p, 0, 12);
	p[0] = 0x02; /* locally administered unicast */
	p[6] = 0x02;
	put16(p + 12, proto);
	return ETH_HLEN;
}

static size_t ipv4(uint8_t *p, uint8_t proto, size_t l4len)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	put16(p + 2, (uint16_t)(20 + l4len));
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, v4_src, 4);
	memcpy(p + 16, v4_dst, 4);
	return 20;
}

static size_t ipv6(uint8_t *p, uint8_t proto, size_t l4len)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	put16(p + 4, (uint16_t)l4len);
	p[6] = proto;
	p[7] = 64;
	memcpy(p + 8, v6_src, 16);
	memcpy(p + 24, v6_dst, 16);
	return 40;
}

static size_t udp(uint8_t *p, uint16_t sport, uint16_t dport, const uint8_t *msg, size_t mlen)
{
	put16(p, sport);
	put16(p + 2, dport);
	put16(p + 4, (uint16_t)(8 + mlen));
	put16(p + 6, 0);
	memcpy(p + 8, msg, mlen);
	return 8 + mlen;
}

/* A TCP segment with ACK|flags; when prefix >= 0 it is written before msg. */
static size_t tcp(uint8_t *p, uint16_t sport, uint16_t dport, uint8_t flags, int prefix,
		  const uint8_t *msg, size_t mlen)
{
	size_t n = 20;

	memset(p, 0, 20);
	put16(p, sport);
	put16(p + 2, dport);
	p[4] = 0x11; /* seq */
	p[12] = 5 << 4;
	p[13] = flags;
	put16(p + 14, 65535);
	if (prefix >= 0)
		n += put16(p + n, (uint16_t)prefix);
	memcpy(p + n, msg, mlen);
	return n + mlen;
}

static void udp4_pkt(struct pkt *k, uint16_t sport, const uint8_t *msg, size_t mlen)
{
	size_t n = eth(k->buf, ETH_P_IP);

	n += ipv4(k->buf + n, IPPROTO_UDP, 8 + mlen);
	n += udp(k->buf + n, sport, 40000, msg, mlen);
	k->len = n;
}

static void udp6_pkt(struct pkt *k, uint16_t sport, const uint8_t *msg, size_t mlen)
{
	size_t n = eth(k->buf, ETH_P_IPV6);

	n += ipv6(k->buf + n, IPPROTO_UDP, 8 + mlen);
	n += udp(k->buf + n, sport, 40000, msg, mlen);
	k->len = n;
}

static void tcp4_pkt(struct pkt *k, uint16_t sport, uint8_t flags, int prefix, const uint8_t *msg,
		     size_t mlen)
{
	size_t n = eth(k->buf, ETH_P_IP);
	size_t l4 = 20 + (prefix >= 0 ? 2 : 0) + mlen;

	n += ipv4(k->buf + n, IPPROTO_TCP, l4);
	n += tcp(k->buf + n, sport, 40001, flags, prefix, msg, mlen);
	k->len = n;
}

static void tcp6_pkt(struct pkt *k, uint16_t sport, uint8_t flags, int prefix, const uint8_t *msg,
		     size_t mlen)
{
	size_t n = eth(k->buf, ETH_P_IPV6);
	size_t l4 = 20 + (prefix >= 0 ? 2 : 0) + mlen;

	n += ipv6(k->buf + n, IPPROTO_TCP, l4);
	n += tcp(k->buf + n, sport, 40001, flags, prefix, msg, mlen);
	k->len = n;
}

/* Runs one program on the packet and reads back what it queued. */
static void run(enum tft_hook hook, const struct pkt *k, const char *name)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = k->buf, .data_size_in = (__u32)k->len,
		    .repeat = 1);
	int err;

	n_dns = n_tcp = n_other = 0;
	memset(got_dns, 0, sizeof(got_dns));
	err = bpf_prog_test_run_opts(capture_prog_fd(cap, hook), &opts);
	CHECK_EQ(err, 0, name);
	CHECK_EQ(opts.retval, 1, name);
	capture_drain(cap);
}

static uint64_t counter(enum tft_counter idx)
{
	return capture_counter(cap, idx);
}

/*
 * The query a UDP answer packet answers: addresses and ports swapped, QR
 * cleared, run on the other hook (the client's query leaves where its
 * answer arrives, and the other way round for a server on this host).
 */
static void ask(const struct pkt *answer, enum tft_hook answer_hook, uint16_t id)
{
	struct pkt q = *answer;
	size_t l3 = ETH_HLEN, l4, alen;
	uint8_t tmp[16];

	if (q.buf[12] == 0x08) { /* IPv4 */
		alen = 4;
		memcpy(tmp, q.buf + l3 + 12, 4);
		memcpy(q.buf + l3 + 12, q.buf + l3 + 16, 4);
		memcpy(q.buf + l3 + 16, tmp, 4);
		l4 = l3 + 20;
	} else {
		alen = 16;
		memcpy(tmp, q.buf + l3 + 8, 16);
		memcpy(q.buf + l3 + 8, q.buf + l3 + 24, 16);
		memcpy(q.buf + l3 + 24, tmp, 16);
		l4 = l3 + 40;
	}
	(void)alen;
	memcpy(tmp, q.buf + l4, 2);
	memcpy(q.buf + l4, q.buf + l4 + 2, 2);
	memcpy(q.buf + l4 + 2, tmp, 2);
	put16(q.buf + l4 + 8, id);
	q.buf[l4 + 8 + 2] &= 0x7f; /* QR: a query */
	run(answer_hook == TFT_HOOK_INGRESS ? TFT_HOOK_EGRESS : TFT_HOOK_INGRESS, &q, "query");
	CHECK_EQ(n_dns + n_tcp + n_other, 0, "a query forwards nothing");
}

static void check_one(const uint8_t *msg, size_t mlen, uint8_t family, uint8_t hook, uint8_t flags,
		      uint16_t sport, const char *name)
{
	const struct tft_dns_event *ev = &got_dns[0];
	size_t want = mlen < TFT_DNS_MAX ? mlen : TFT_DNS_MAX;

	CHECK_EQ(n_dns, 1, name);
	CHECK_EQ(n_tcp, 0, name);
	if (n_dns != 1)
		return;
	CHECK_EQ(ev->type, TFT_REC_DNS, name);
	CHECK_EQ(ev->family, family, name);
	CHECK_EQ(ev->hook, hook, name);
	CHECK_EQ(ev->flags, flags, name);
	CHECK_EQ(ev->len, want, name);
	CHECK_EQ(ev->orig_len, mlen, name);
	CHECK_EQ(ntohs(ev->sport), sport, name);
	CHECK_EQ(ev->reserved, 0, name);
	CHECK(memcmp(ev->msg, msg, want) == 0, name);
	if (family == 4) {
		CHECK(memcmp(ev->saddr, v4_src, 4) == 0, name);
		CHECK(memcmp(ev->daddr, v4_dst, 4) == 0, name);
		CHECK(ev->saddr[4] == 0 && ev->daddr[15] == 0, name);
	} else {
		CHECK(memcmp(ev->saddr, v6_src, 16) == 0, name);
		CHECK(memcmp(ev->daddr, v6_dst, 16) == 0, name);
	}
}

int main(void)
{
	const uint16_t ports[] = {53, DNS_ALT_PORT};
	struct capture_opts copts = {.ring_bytes = 1 << 20, .dns_ports = ports, .n_dns_ports = 2};
	enum tft_hook in = TFT_HOOK_INGRESS, out = TFT_HOOK_EGRESS;
	char errbuf[512];
	uint8_t msg[1400], big[1400], query[128];
	size_t mlen, qlen, blen;
	struct pkt k;
	uint64_t trunc0;

	if (geteuid() != 0) {
		fprintf(stderr, "skipped: needs root to load BPF programs\n");
		return T_SKIP;
	}
	cap = capture_new(&copts, on_tcp, on_dns, NULL, errbuf, sizeof(errbuf));
	CHECK(cap != NULL, "load");
	if (!cap) {
		fprintf(stderr, "%s\n", errbuf);
		return t_done();
	}

	mlen = make_dns(msg, 60, 1);
	qlen = make_dns(query, 29, 0);
	blen = make_dns(big, sizeof(big), 1);

	/* UDP over IPv4 from 53, both hooks. */
	udp4_pkt(&k, 53, msg, mlen);
	ask(&k, in, 0x1234);
	run(in, &k, "udp4 ingress");
	check_one(msg, mlen, 4, TFT_HOOK_INGRESS, 0, 53, "udp4 ingress");
	ask(&k, out, 0x1234);
	run(out, &k, "udp4 egress");
	check_one(msg, mlen, 4, TFT_HOOK_EGRESS, 0, 53, "udp4 egress");

	/* The extra port given at load time. */
	udp4_pkt(&k, DNS_ALT_PORT, msg, mlen);
	ask(&k, in, 0x1234);
	run(in, &k, "udp4 alt port");
	check_one(msg, mlen, 4, TFT_HOOK_INGRESS, 0, DNS_ALT_PORT, "udp4 alt port");

	/* UDP over IPv6. */
	udp6_pkt(&k, 53, msg, mlen);
	ask(&k, in, 0x1234);
	run(in, &k, "udp6 ingress");
	check_one(msg, mlen, 6, TFT_HOOK_INGRESS, 0, 53, "udp6 ingress");
	udp6_pkt(&k, DNS_ALT_PORT, msg, mlen);
	ask(&k, out, 0x1234);
	run(out, &k, "udp6 egress alt port");
	check_one(msg, mlen, 6, TFT_HOOK_EGRESS, 0, DNS_ALT_PORT, "udp6 egress alt port");

	/* TCP, the whole message in one segment after its length prefix. */
	tcp4_pkt(&k, 53, TFT_TCP_ACK | TFT_TCP_PSH, (int)mlen, msg, mlen);
	run(in, &k, "tcp4");
	check_one(msg, mlen, 4, TFT_HOOK_INGRESS, TFT_DNS_F_TCP, 53, "tcp4");
	tcp6_pkt(&k, DNS_ALT_PORT, TFT_TCP_ACK | TFT_TCP_PSH, (int)mlen, msg, mlen);
	run(out, &k, "tcp6");
	check_one(msg, mlen, 6, TFT_HOOK_EGRESS, TFT_DNS_F_TCP, DNS_ALT_PORT, "tcp6");

	/* Nothing forwarded: a query, other ports, DNS going *to* port 53. */
	udp4_pkt(&k, 53, query, qlen);
	run(in, &k, "udp4 query");
	CHECK_EQ(n_dns + n_tcp + n_other, 0, "udp4 query: no event");
	udp6_pkt(&k, 53, query, qlen);
	run(out, &k, "udp6 query");
	CHECK_EQ(n_dns + n_tcp + n_other, 0, "udp6 query: no event");
	udp4_pkt(&k, 1234, msg, mlen);
	run(in, &k, "udp4 other port");
	CHECK_EQ(n_dns + n_tcp + n_other, 0, "udp4 other port: no event");
	udp6_pkt(&k, 5354, msg, mlen);
	run(in, &k, "udp6 other port");
	CHECK_EQ(n_dns + n_tcp + n_other, 0, "udp6 other port: no event");
	tcp4_pkt(&k, 443, TFT_TCP_ACK | TFT_TCP_PSH, (int)mlen, msg, mlen);
	run(in, &k, "tcp4 other port");
	CHECK_EQ(n_dns + n_tcp + n_other, 0, "tcp4 other port: no event");
	tcp4_pkt(&k, 53, TFT_TCP_ACK | TFT_TCP_PSH, (int)qlen, query, qlen);
	run(in, &k, "tcp4 query");
	CHECK_EQ(n_dns + n_tcp + n_other, 0, "tcp4 query: no event");
	/* The prefix announces more than this segment holds: the message is split. */
	tcp4_pkt(&k, 53, TFT_TCP_ACK | TFT_TCP_PSH, (int)mlen + 100, msg, mlen);
	run(in, &k, "tcp4 split");
	CHECK_EQ(n_dns + n_tcp + n_other, 0, "tcp4 split: no event");
	tcp4_pkt(&k, 53, TFT_TCP_ACK, (int)mlen, msg, mlen);
	run(in, &k, "tcp4 no psh");
	CHECK_EQ(n_dns + n_tcp + n_other, 0, "tcp4 no PSH: no event");
	tcp4_pkt(&k, 53, TFT_TCP_ACK, -1, msg, 0);
	run(in, &k, "tcp4 bare ack");
	CHECK_EQ(n_dns + n_tcp + n_other, 0, "tcp4 bare ACK: no event");
	/* A SYN-ACK from port 53 is still a TCP record, not DNS. */
	tcp4_pkt(&k, 53, TFT_TCP_SYN | TFT_TCP_ACK, -1, msg, 0);
	run(in, &k, "tcp4 synack from 53");
	CHECK_EQ(n_dns, 0, "synack from 53: no dns");
	CHECK_EQ(n_tcp, 1, "synack from 53: tcp record");
	/* Shorter than a DNS header. */
	udp4_pkt(&k, 53, msg, 11);
	run(in, &k, "udp4 runt");
	CHECK_EQ(n_dns + n_tcp + n_other, 0, "udp4 runt: no event");

	/* Oversize: cut at TFT_DNS_MAX, flagged, counted. */
	trunc0 = counter(TFT_CNT_DNS_TRUNC);
	udp4_pkt(&k, 53, big, blen);
	ask(&k, in, 0x1234);
	run(in, &k, "udp4 big");
	check_one(big, blen, 4, TFT_HOOK_INGRESS, TFT_DNS_F_TRUNCATED, 53, "udp4 big");
	CHECK_EQ(counter(TFT_CNT_DNS_TRUNC), trunc0 + 1, "trunc counted");
	udp6_pkt(&k, 53, big, blen);
	ask(&k, out, 0x1234);
	run(out, &k, "udp6 big");
	check_one(big, blen, 6, TFT_HOOK_EGRESS, TFT_DNS_F_TRUNCATED, 53, "udp6 big");
	CHECK_EQ(counter(TFT_CNT_DNS_TRUNC), trunc0 + 2, "trunc counted twice");
	/* Exactly TFT_DNS_MAX bytes: whole, not flagged. */
	udp4_pkt(&k, 53, big, TFT_DNS_MAX);
	ask(&k, in, 0x1234);
	run(in, &k, "udp4 max");
	check_one(big, TFT_DNS_MAX, 4, TFT_HOOK_INGRESS, 0, 53, "udp4 exactly max");
	CHECK_EQ(counter(TFT_CNT_DNS_TRUNC), trunc0 + 2, "max not counted");
	/* The UDP header claims more than the packet holds: what is there, flagged. */
	udp4_pkt(&k, 53, msg, mlen);
	put16(k.buf + ETH_HLEN + 20 + 4, (uint16_t)(8 + mlen + 40));
	ask(&k, in, 0x1234);
	run(in, &k, "udp4 short packet");
	CHECK_EQ(n_dns, 1, "udp4 short packet: event");
	if (n_dns == 1) {
		CHECK_EQ(got_dns[0].len, mlen, "short packet len");
		CHECK_EQ(got_dns[0].orig_len, mlen + 40, "short packet orig_len");
		CHECK_EQ(got_dns[0].flags, TFT_DNS_F_TRUNCATED, "short packet flagged");
	}
	/* Answers nobody asked for: counted, ignored. */
	{
		uint64_t unmatched0 = counter(TFT_CNT_DNS_UNMATCHED);

		udp4_pkt(&k, 53, msg, mlen);
		run(in, &k, "unsolicited");
		CHECK_EQ(n_dns, 0, "unsolicited answer: no event");
		CHECK_EQ(counter(TFT_CNT_DNS_UNMATCHED), unmatched0 + 1, "unsolicited counted");
		ask(&k, in, 0x4321);
		run(in, &k, "another id");
		CHECK_EQ(n_dns, 0, "answer with another id: no event");
		ask(&k, out, 0x1234); /* the query seen by the same hook as the answer */
		run(in, &k, "same hook");
		CHECK_EQ(n_dns, 0, "query on the answer's own hook: no event");
		ask(&k, in, 0x1234);
		run(in, &k, "asked");
		CHECK_EQ(n_dns, 1, "asked: one event");
		run(in, &k, "answered twice");
		CHECK_EQ(n_dns, 0, "a second answer to one query: no event");
		CHECK_EQ(counter(TFT_CNT_DNS_UNMATCHED), unmatched0 + 4,
			 "each ignored answer counted");
		/* Loopback: the query passes both hooks, and so does its answer. */
		ask(&k, in, 0x1234);
		ask(&k, out, 0x1234);
		run(out, &k, "loopback server side");
		CHECK_EQ(n_dns, 1, "loopback: the server's sending side");
		run(in, &k, "loopback client side");
		CHECK_EQ(n_dns, 1, "loopback: the client's receiving side");
		CHECK_EQ(counter(TFT_CNT_DNS_UNMATCHED), unmatched0 + 4, "loopback: none ignored");
	}
	CHECK_EQ(counter(TFT_CNT_RB_FULL), 0, "no ring buffer loss");

	capture_free(cap);
	return t_done();
}
