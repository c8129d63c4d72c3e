/*
 * IPFIX record building, the pure part: who is source and destination,
 * which byte counts go forward and which reverse for each direction,
 * tcpControlBits and flowEndReason from the flow's state and end, times in
 * wall-clock milliseconds, names and owner texts escaped as the text stream
 * spells them, and the --ipfix target syntax.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "ipfix.h"
#include "t.h"

#define MS 1000000ull

static size_t names(void *ctx, uint8_t family, const uint8_t *addr, struct names_list *out)
{
	static const char *evil = "x\x1b[31m.test";

	(void)ctx;
	out->n = 0;
	if (family == 4 && addr[3] == 2) {
		out->e[0] = (struct names_entry){"db.example", 10, TFT_NAME_DNS};
		out->e[1] = (struct names_entry){evil, strlen(evil), TFT_NAME_PTR};
		out->n = 2;
	}
	return out->n;
}

static struct tft_flow base(uint8_t dir)
{
	struct tft_flow f = {.id = 1};

	f.key.family = 4;
	f.key.dir = dir;
	f.key.sport = 40000;
	f.key.dport = 5432;
	memcpy(f.key.saddr, "\x0a\x00\x00\x01", 4);
	memcpy(f.key.daddr, "\x0a\x00\x00\x02", 4);
	f.syn_ns = 5000 * MS;
	f.answer_ns = f.syn_ns + 3 * MS;
	f.state = TFT_STATE_CLOSED;
	f.end = TFT_END_FIN_PEER;
	f.end_ns = f.syn_ns + 1500 * MS;
	f.flags = TFT_FLOW_F_FIGURES;
	f.bytes_in = 111;
	f.bytes_out = 222;
	f.segs_in = 3;
	f.segs_out = 4;
	return f;
}

static void test_directions(void)
{
	struct names_provider np = {names, NULL, NULL, NULL};
	struct tft_flow f = base(TFT_DIR_OUT);
	struct ipfix_record r;

	ipfix_record_build(&f, ipfix_end_reason(&f), f.end_ns, &np, &r);
	CHECK(r.has_counts, "figures known");
	CHECK_EQ(r.octets, 222, "outgoing: the initiator is this host, its bytes sent");
	CHECK_EQ(r.packets, 4, "segs out");
	CHECK_EQ(r.rev_octets, 111, "reverse: bytes received");
	CHECK_EQ(r.rev_packets, 3, "segs in");
	CHECK_EQ(r.direction, 1, "egress");
	CHECK_EQ(r.end_ms - r.start_ms, 1500, "duration in ms");
	CHECK(!memcmp(r.saddr, f.key.saddr, 4) && !memcmp(r.daddr, f.key.daddr, 4),
	      "source is the SYN's sender");
	CHECK_EQ(r.sport, 40000, "sport");
	CHECK_EQ(r.dport, 5432, "dport");
	CHECK_EQ(r.end_reason, IPFIX_END_EOF, "FIN: end of flow");
	CHECK_EQ(r.tcp_flags, 0x13, "SYN ACK FIN");
	CHECK_EQ(r.snames_len, 0, "no names for the source");
	CHECK_EQ(r.dnames_len, strlen("db.example ~x\\x1b[31m.test"), "names length");
	CHECK(!memcmp(r.dnames, "db.example ~x\\x1b[31m.test", r.dnames_len),
	      "names escaped, PTR marked, space separated");

	f = base(TFT_DIR_IN);
	ipfix_record_build(&f, ipfix_end_reason(&f), f.end_ns, &np, &r);
	CHECK_EQ(r.octets, 111, "incoming: the initiator is the peer, our bytes received");
	CHECK_EQ(r.rev_octets, 222, "reverse: bytes sent");
	CHECK_EQ(r.packets, 3, "segs in");
	CHECK_EQ(r.direction, 0, "ingress");

	f.flags = 0;
	ipfix_record_build(&f, IPFIX_END_FORCED, f.end_ns, NULL, &r);
	CHECK(!r.has_counts, "figures unknown: no counts sent");
	CHECK_EQ(r.octets, 0, "no octets");
	CHECK_EQ(r.dnames_len, 0, "no names provider");
}

static void test_flags_reasons(void)
{
	struct tft_flow f = base(TFT_DIR_OUT);

	f.state = TFT_STATE_REFUSED;
	f.end = TFT_END_RESET_PEER;
	CHECK_EQ(ipfix_tcp_flags(&f), 0x16, "refused: SYN RST ACK");
	CHECK_EQ(ipfix_end_reason(&f), IPFIX_END_EOF, "refused: end of flow");
	f.state = TFT_STATE_UNANSWERED;
	f.end = TFT_END_TIMEOUT;
	CHECK_EQ(ipfix_tcp_flags(&f), 0x02, "unanswered: SYN only");
	CHECK_EQ(ipfix_end_reason(&f), IPFIX_END_IDLE, "unanswered: idle timeout");
	f.state = TFT_STATE_HALF_OPEN;
	f.end = TFT_END_HALF_OPEN;
	CHECK_EQ(ipfix_end_reason(&f), IPFIX_END_IDLE, "half-open: idle timeout");
	f.state = TFT_STATE_CLOSED;
	f.end = TFT_END_RESET_LOCAL;
	CHECK_EQ(ipfix_tcp_flags(&f), 0x16, "reset: SYN ACK RST");
	f.state = TFT_STATE_PENDING;
	f.end = TFT_END_NONE;
	CHECK_EQ(ipfix_tcp_flags(&f), 0x02, "pending: SYN");
	CHECK_EQ(ipfix_end_reason(&f), IPFIX_END_FORCED, "not ended: forced end");
}

static void test_owner(void)
{
	struct tft_flow f = base(TFT_DIR_OUT);
	struct ipfix_record r;

	ipfix_record_build(&f, IPFIX_END_EOF, f.end_ns, NULL, &r);
	CHECK_EQ(r.pid, 0, "owner unknown: pid 0");
	CHECK_EQ(r.comm_len, 0, "owner unknown: no process name");
	f.owner.state = TFT_OWNER_KNOWN;
	f.owner.tgid = 777;
	f.owner.uid = 0;
	memcpy(f.owner.comm, "a b\x1b", 4);
	ipfix_record_build(&f, IPFIX_END_EOF, f.end_ns, NULL, &r);
	CHECK_EQ(r.pid, 777, "pid");
	CHECK_EQ(r.comm_len, strlen("a\\x20b\\x1b"), "comm escaped length");
	CHECK(!memcmp(r.comm, "a\\x20b\\x1b", r.comm_len), "comm escaped as in the text stream");
	CHECK(r.user_len > 0, "user named (uid 0)");
}

static void test_parse(void)
{
	struct ipfix_opts o;

	CHECK_EQ(ipfix_parse_target("collector.example:2055", &o), 0, "name:port");
	CHECK_EQ(o.transport, IPFIX_UDP, "default udp");
	CHECK_STR(o.host, "collector.example", "host");
	CHECK_STR(o.port, "2055", "port");
	CHECK_EQ(ipfix_parse_target("tcp:[::1]:4740", &o), 0, "tcp v6");
	CHECK_EQ(o.transport, IPFIX_TCP, "tcp");
	CHECK_STR(o.host, "::1", "brackets dropped");
	CHECK_STR(o.port, "4740", "v6 port");
	CHECK_EQ(ipfix_parse_target("udp:127.0.0.1", &o), 0, "no port");
	CHECK_STR(o.port, "4739", "default port");
	CHECK(ipfix_parse_target("::1:4739", &o) < 0, "bare IPv6 refused");
	CHECK(ipfix_parse_target("h:0", &o) < 0, "port 0");
	CHECK(ipfix_parse_target("h:70000", &o) < 0, "port too big");
	CHECK(ipfix_parse_target("h: 80", &o) < 0, "space before the port");
	CHECK(ipfix_parse_target("h:+80", &o) < 0, "signed port");
	CHECK(ipfix_parse_target("h:", &o) < 0, "empty port");
	CHECK(ipfix_parse_target("[::1]:", &o) < 0, "empty port after brackets");
	CHECK(ipfix_parse_target("sctp:h:1", &o) < 0, "unknown transport");
	CHECK(ipfix_parse_target("", &o) < 0, "empty");
	CHECK(ipfix_parse_target("[::1]x", &o) < 0, "junk after bracket");
}

/* A real table's flow (SYN, SYN-ACK at 0 s) through the active timeout: a record per period. */
static void test_active_timeout(void)
{
	struct ipfix_opts o = {.active_s = 10};
	struct flow_table *t = flow_table_new(16);
	struct ipfix *x = ipfix_new(&o); /* not started: records stay queued, counted */
	struct tft_tcp_event e = {.type = TFT_REC_TCP, .family = 4};
	const struct tft_flow *f;
	struct ipfix_stats st;
	const uint64_t s = 1000000000ull, t0 = 100 * s;

	inet_pton(AF_INET, "10.0.0.1", e.saddr);
	inet_pton(AF_INET, "10.0.0.2", e.daddr);
	e.sport = htons(40000);
	e.dport = htons(443);
	e.hook = TFT_HOOK_EGRESS;
	e.flags = TFT_TCP_SYN;
	e.seq = 5;
	e.ts_ns = t0;
	CHECK_EQ(flow_table_apply(t, &e, &f), TFT_CHANGE_NEW, "SYN");
	memcpy(e.saddr, "\x0a\x00\x00\x02", 4);
	memcpy(e.daddr, "\x0a\x00\x00\x01", 4);
	e.sport = htons(443);
	e.dport = htons(40000);
	e.hook = TFT_HOOK_INGRESS;
	e.flags = TFT_TCP_SYN | TFT_TCP_ACK;
	e.seq = 9;
	e.ack = 6;
	e.ts_ns = t0 + 1000000;
	CHECK_EQ(flow_table_apply(t, &e, &f), TFT_CHANGE_STATE, "SYN-ACK");

	ipfix_tick(x, t, t0 + 1 * s); /* the first tick only starts the clock */
	ipfix_tick(x, t, t0 + 9 * s);
	ipfix_stats(x, &st);
	CHECK_EQ(st.queued, 0, "younger than the period: nothing");
	ipfix_tick(x, t, t0 + 11 * s);
	ipfix_stats(x, &st);
	CHECK_EQ(st.queued, 1, "10 s passed: one interim record");
	ipfix_tick(x, t, t0 + 12 * s);
	ipfix_tick(x, t, t0 + 19 * s);
	ipfix_stats(x, &st);
	CHECK_EQ(st.queued, 1, "not again within the period");
	ipfix_tick(x, t, t0 + 35 * s);
	ipfix_stats(x, &st);
	CHECK_EQ(st.queued, 2, "20 and 30 s crossed in one step: one record");
	ipfix_free(x);

	o.active_s = 0;
	x = ipfix_new(&o);
	ipfix_tick(x, t, t0 + 1 * s);
	ipfix_tick(x, t, t0 + 100 * s);
	ipfix_stats(x, &st);
	CHECK_EQ(st.queued, 0, "active timeout off");
	ipfix_free(x);
	flow_table_free(t);
}

/* The sink: a record at END, one at leaving before that, none at leaving after it. */
static void test_sink(void)
{
	struct ipfix_opts o = {.active_s = 0};
	struct ipfix *x = ipfix_new(&o);
	struct flow_sink s = ipfix_sink(x);
	struct tft_flow f = base(TFT_DIR_OUT);
	struct ipfix_stats st;
	uint8_t end = f.end;

	f.end = TFT_END_NONE; /* running until its END */
	s.changed(s.ctx, &f, TFT_CHANGE_NEW, f.syn_ns);
	s.changed(s.ctx, &f, TFT_CHANGE_STATE, f.answer_ns);
	ipfix_stats(x, &st);
	CHECK_EQ(st.queued, 0, "nothing before the end");
	f.end = end;
	s.changed(s.ctx, &f, TFT_CHANGE_END, f.end_ns);
	s.left(s.ctx, &f, FLOW_LEAVE_EXIT);
	ipfix_stats(x, &st);
	CHECK_EQ(st.queued, 1, "one record: at END, not again when it leaves");
	f.end = TFT_END_NONE;
	f.state = TFT_STATE_ACCEPTED;
	s.left(s.ctx, &f, FLOW_LEAVE_EVICTED);
	f.state = TFT_STATE_PENDING;
	s.left(s.ctx, &f, FLOW_LEAVE_EXIT);
	ipfix_stats(x, &st);
	CHECK_EQ(st.queued, 3, "open flows leaving: a record each");
	/* A refusal is its flow's end: told as a state change with the end set. */
	f.state = TFT_STATE_REFUSED;
	f.end = TFT_END_RESET_PEER;
	s.changed(s.ctx, &f, TFT_CHANGE_STATE, f.answer_ns);
	ipfix_stats(x, &st);
	CHECK_EQ(st.queued, 4, "a refusal: a record");
	ipfix_free(x);
}

/* A loopback UDP port nobody listens on: sends to it come back refused. */
static int closed_udp_port(char *port, size_t size)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	snprintf(port, size, "%u", ntohs(a.sin_port));
	return 0;
}

/*
 * A collector that refuses: the send that fails is one a full message
 * makes in the middle of a batch, and its record is dropped with the rest.
 */
static void test_failed_send_counted(void)
{
	struct ipfix_opts o = {.transport = IPFIX_UDP, .host = "127.0.0.1", .refresh_s = 600};
	struct tft_flow f = base(TFT_DIR_OUT);
	struct ipfix_record r;
	struct ipfix_stats st;
	struct ipfix *x;
	char err[128];
	int i;

	if (closed_udp_port(o.port, sizeof(o.port))) {
		fprintf(stderr, "no loopback UDP socket: failed send test skipped\n");
		return;
	}
	x = ipfix_new(&o);
	ipfix_record_build(&f, IPFIX_END_EOF, f.end_ns, NULL, &r);
	/* Queued before the start, so the sending thread takes full batches of many messages. */
	for (i = 0; i < 1000; i++)
		ipfix_queue(x, &r, 0);
	CHECK_EQ(ipfix_start(x, err, sizeof(err)), 0, "started");
	CHECK(ipfix_stop(x), "stopped");
	ipfix_stats(x, &st);
	fprintf(stderr, "refused collector: queued %llu sent %llu dropped %llu errors %llu\n",
		(unsigned long long)st.queued, (unsigned long long)st.sent,
		(unsigned long long)st.dropped, (unsigned long long)st.errors);
	CHECK_EQ(st.queued, 1000, "all queued");
	CHECK(st.errors > 0, "the refused port shows as a send error");
	CHECK_EQ(st.sent + st.dropped + st.waiting, st.queued,
		 "every record sent or dropped, the one whose send failed too");
	ipfix_free(x);
}

int main(void)
{
	clock_init();
	test_directions();
	test_flags_reasons();
	test_owner();
	test_parse();
	test_active_timeout();
	test_sink();
	test_failed_send_counted();
	return t_done();
}
