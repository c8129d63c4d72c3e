/* Flow table: new flows, retransmissions, answers, port reuse, eviction, ids. */
#include <arpa/inet.h>
#include <errno.h>

#include "flow_table.h"
#include "flow_nth.h"
#include "t.h"

static struct tft_tcp_event ev4(uint8_t hook, uint8_t flags, const char *src, uint16_t sport,
				const char *dst, uint16_t dport, uint32_t seq, uint32_t ack,
				uint64_t ts)
{
	struct tft_tcp_event e = {0};

	e.type = TFT_REC_TCP;
	e.hook = hook;
	e.flags = flags;
	e.family = 4;
	e.sport = htons(sport);
	e.dport = htons(dport);
	inet_pton(AF_INET, src, e.saddr);
	inet_pton(AF_INET, dst, e.daddr);
	e.seq = seq;
	e.ack = ack;
	e.ts_ns = ts;
	return e;
}

static void test_outgoing_accepted(void)
{
	struct flow_table *t = flow_table_new(8);
	const struct tft_flow *f = NULL;
	struct tft_tcp_event e;

	e = ev4(TFT_HOOK_EGRESS, TFT_TCP_SYN, "10.0.0.1", 40000, "10.0.0.2", 443, 1000, 0, 100);
	CHECK_EQ(flow_table_apply(t, &e, &f), TFT_CHANGE_NEW, "syn creates");
	CHECK_EQ(f->key.dir, TFT_DIR_OUT, "egress syn is outgoing");
	CHECK_EQ(f->key.sport, 40000, "sport host order");
	CHECK_EQ(f->key.dport, 443, "dport host order");
	CHECK_EQ(f->state, TFT_STATE_PENDING, "pending");

	/* Retransmission: same ISN, same flow. */
	e.ts_ns = 1000100;
	CHECK_EQ(flow_table_apply(t, &e, &f), TFT_CHANGE_RETRANS, "retransmitted syn");
	CHECK_EQ(f->syn_retrans, 1, "one retransmission");
	CHECK_EQ(flow_table_count(t), 1, "still one flow");
	CHECK_EQ(flow_table_stats(t)->seen, 1, "seen once");

	/* An answer with the wrong ack is not ours. */
	e = ev4(TFT_HOOK_INGRESS, TFT_TCP_SYN | TFT_TCP_ACK, "10.0.0.2", 443, "10.0.0.1", 40000, 7,
		1234, 2000000);
	CHECK_EQ(flow_table_apply(t, &e, &f), TFT_CHANGE_NONE, "syn-ack with wrong ack ignored");

	e.ack = 1001;
	CHECK_EQ(flow_table_apply(t, &e, &f), TFT_CHANGE_STATE, "syn-ack answers");
	CHECK_EQ(f->state, TFT_STATE_ACCEPTED, "accepted");
	CHECK_EQ(f->answer_ns - f->syn_ns, 2000000 - 100, "latency from the first syn");

	/* A second SYN-ACK (retransmitted) changes nothing. */
	CHECK_EQ(flow_table_apply(t, &e, &f), TFT_CHANGE_NONE, "duplicate syn-ack");
	/* A late duplicate SYN after the answer is not a retransmission. */
	e = ev4(TFT_HOOK_EGRESS, TFT_TCP_SYN, "10.0.0.1", 40000, "10.0.0.2", 443, 1000, 0, 3000000);
	CHECK_EQ(flow_table_apply(t, &e, &f), TFT_CHANGE_NONE, "late duplicate syn");
	CHECK_EQ(flow_table_stats(t)->accepted, 1, "accepted counted");
	CHECK_EQ(flow_table_unanswered(t), 0, "none unanswered");
	flow_table_free(t);
}

static void test_incoming_refused_and_reuse(void)
{
	struct flow_table *t = flow_table_new(8);
	const struct tft_flow *f = NULL, *g = NULL;
	struct tft_tcp_event e;
	uint64_t first_id;

	e = ev4(TFT_HOOK_INGRESS, TFT_TCP_SYN, "192.0.2.9", 5555, "10.0.0.1", 22, 42, 0, 10);
	CHECK_EQ(flow_table_apply(t, &e, &f), TFT_CHANGE_NEW, "incoming syn");
	CHECK_EQ(f->key.dir, TFT_DIR_IN, "ingress syn is incoming");
	first_id = f->id;

	/* A RST without ACK does not answer a SYN. */
	e = ev4(TFT_HOOK_EGRESS, TFT_TCP_RST, "10.0.0.1", 22, "192.0.2.9", 5555, 0, 43, 20);
	CHECK_EQ(flow_table_apply(t, &e, &f), TFT_CHANGE_NONE, "bare rst ignored");
	e.flags = TFT_TCP_RST | TFT_TCP_ACK;
	CHECK_EQ(flow_table_apply(t, &e, &f), TFT_CHANGE_STATE, "rst-ack refuses");
	CHECK_EQ(f->state, TFT_STATE_REFUSED, "refused");
	CHECK_EQ(flow_table_stats(t)->refused, 1, "refused counted");

	/* The same ports again with a new ISN: a new flow, found first by key. */
	e = ev4(TFT_HOOK_INGRESS, TFT_TCP_SYN, "192.0.2.9", 5555, "10.0.0.1", 22, 9999, 0, 30);
	CHECK_EQ(flow_table_apply(t, &e, &g), TFT_CHANGE_NEW, "port reuse is a new flow");
	CHECK(g->id == first_id + 1, "next id");
	CHECK(flow_table_find(t, &g->key) == g, "find returns the newest");
	CHECK_EQ(flow_table_count(t), 2, "two flows");
	CHECK_EQ(flow_table_unanswered(t), 1, "one unanswered");

	/* The same 4-tuple in the other direction is another flow (loopback shows both ends). */
	e = ev4(TFT_HOOK_EGRESS, TFT_TCP_SYN, "192.0.2.9", 5555, "10.0.0.1", 22, 9999, 0, 31);
	CHECK_EQ(flow_table_apply(t, &e, &g), TFT_CHANGE_NEW, "other direction is another flow");
	flow_table_free(t);
}

static void test_eviction_and_ids(void)
{
	struct flow_table *t = flow_table_new(3);
	const struct tft_flow *f = NULL;
	struct tft_tcp_event e;
	int i;

	for (i = 0; i < 5; i++) {
		e = ev4(TFT_HOOK_EGRESS, TFT_TCP_SYN, "10.0.0.1", (uint16_t)(1000 + i), "10.0.0.2",
			80, (uint32_t)i, 0, (uint64_t)i);
		CHECK_EQ(flow_table_apply(t, &e, &f), TFT_CHANGE_NEW, "new");
	}
	CHECK_EQ(flow_table_count(t), 3, "capped at capacity");
	CHECK_EQ(flow_table_stats(t)->evicted, 2, "two evicted");
	CHECK_EQ(flow_nth(t, 0)->key.sport, 1002, "oldest kept first");
	CHECK_EQ(flow_nth(t, 2)->key.sport, 1004, "newest last");
	CHECK(flow_nth(t, 3) == NULL, "past the end");
	CHECK(flow_table_by_id(t, 1) == NULL, "evicted id gone");
	CHECK(flow_table_by_id(t, 3) != NULL && flow_table_by_id(t, 3)->key.sport == 1002,
	      "id 3 found");
	CHECK(flow_table_by_id(t, 6) == NULL, "future id absent");

	/* An evicted flow's answer finds nothing. */
	e = ev4(TFT_HOOK_INGRESS, TFT_TCP_SYN | TFT_TCP_ACK, "10.0.0.2", 80, "10.0.0.1", 1000, 0, 1,
		9);
	CHECK_EQ(flow_table_apply(t, &e, &f), TFT_CHANGE_NONE, "answer to evicted flow");
	/* A kept one is still found after the ring wrapped. */
	e = ev4(TFT_HOOK_INGRESS, TFT_TCP_SYN | TFT_TCP_ACK, "10.0.0.2", 80, "10.0.0.1", 1004, 0, 5,
		9);
	CHECK_EQ(flow_table_apply(t, &e, &f), TFT_CHANGE_STATE, "answer to kept flow");

	flow_table_clear(t);
	CHECK_EQ(flow_table_count(t), 0, "cleared");
	e = ev4(TFT_HOOK_EGRESS, TFT_TCP_SYN, "10.0.0.1", 2000, "10.0.0.2", 80, 1, 0, 10);
	CHECK_EQ(flow_table_apply(t, &e, &f), TFT_CHANGE_NEW, "new after clear");
	CHECK_EQ(f->id, 6, "ids keep increasing after clear");
	CHECK_EQ(flow_table_stats(t)->seen, 6, "counters survive clear");
	flow_table_free(t);
}

static void test_ipv6_and_bad_family(void)
{
	struct flow_table *t = flow_table_new(4);
	const struct tft_flow *f = NULL;
	struct tft_tcp_event e = {0};

	e.type = TFT_REC_TCP;
	e.hook = TFT_HOOK_EGRESS;
	e.flags = TFT_TCP_SYN;
	e.family = 6;
	e.sport = htons(1234);
	e.dport = htons(443);
	inet_pton(AF_INET6, "2001:db8::1", e.saddr);
	inet_pton(AF_INET6, "2001:db8::2", e.daddr);
	CHECK_EQ(flow_table_apply(t, &e, &f), TFT_CHANGE_NEW, "ipv6 syn");
	CHECK_EQ(f->key.family, 6, "family 6");
	e.family = 9;
	CHECK_EQ(flow_table_apply(t, &e, &f), TFT_CHANGE_NONE, "unknown family ignored");
	flow_table_free(t);

	errno = 0;
	CHECK(flow_table_new(0) == NULL && errno == EINVAL, "zero capacity refused");
	flow_table_free(NULL);
}

/* Many flows through a small table: the hash chains must stay consistent. */
static void test_churn(void)
{
	struct flow_table *t = flow_table_new(100);
	const struct tft_flow *f = NULL;
	struct tft_tcp_event e;
	uint32_t i, found = 0;

	for (i = 0; i < 10000; i++) {
		e = ev4(TFT_HOOK_EGRESS, TFT_TCP_SYN, "10.0.0.1", (uint16_t)(1 + i % 60000),
			"10.0.0.2", (uint16_t)(1 + i / 60000), i, 0, i);
		flow_table_apply(t, &e, &f);
	}
	for (i = 9900; i < 10000; i++) {
		e = ev4(TFT_HOOK_INGRESS, TFT_TCP_SYN | TFT_TCP_ACK, "10.0.0.2",
			(uint16_t)(1 + i / 60000), "10.0.0.1", (uint16_t)(1 + i % 60000), 0, i + 1,
			i);
		found += flow_table_apply(t, &e, &f) == TFT_CHANGE_STATE;
	}
	CHECK_EQ(found, 100, "every kept flow answerable after churn");
	CHECK_EQ(flow_table_stats(t)->evicted, 9900, "evictions counted");
	flow_table_free(t);
}

/*
 * Only a flow held with no answer is unanswered: a pending flow evicted is
 * counted as such, and one pending when events were lost is unsure.
 */
static void test_unanswered_honest(void)
{
	struct flow_table *t = flow_table_new(2);
	const struct tft_flow *f = NULL;
	struct tft_tcp_event e;
	uint16_t p;

	/* Three SYNs into two slots: the first is evicted pending, then answered unseen. */
	for (p = 1000; p < 1003; p++) {
		e = ev4(TFT_HOOK_EGRESS, TFT_TCP_SYN, "10.0.0.1", p, "10.0.0.2", 80, p, 0, p);
		CHECK_EQ(flow_table_apply(t, &e, &f), TFT_CHANGE_NEW, "syn");
	}
	e = ev4(TFT_HOOK_INGRESS, TFT_TCP_SYN | TFT_TCP_ACK, "10.0.0.2", 80, "10.0.0.1", 1000, 7,
		1001, 2000);
	CHECK_EQ(flow_table_apply(t, &e, NULL), TFT_CHANGE_NONE, "answer of an evicted flow");
	e = ev4(TFT_HOOK_INGRESS, TFT_TCP_SYN | TFT_TCP_ACK, "10.0.0.2", 80, "10.0.0.1", 1001, 7,
		1002, 2001);
	CHECK_EQ(flow_table_apply(t, &e, NULL), TFT_CHANGE_STATE, "answer of a held flow");
	CHECK_EQ(flow_table_stats(t)->evicted_pending, 1, "evicted while pending: counted");
	CHECK_EQ(flow_table_unanswered(t), 1, "only the held pending flow is unanswered");
	CHECK_EQ(flow_table_unsure(t), 0, "no loss: none unsure");

	/* Events lost: the held pending flow may have lost its answer. */
	flow_table_mark_loss(t);
	CHECK_EQ(flow_table_unanswered(t), 0, "after a loss: not unanswered");
	CHECK_EQ(flow_table_unsure(t), 1, "after a loss: unsure");
	e = ev4(TFT_HOOK_EGRESS, TFT_TCP_SYN, "10.0.0.1", 1003, "10.0.0.2", 80, 1003, 0, 3000);
	CHECK_EQ(flow_table_apply(t, &e, NULL), TFT_CHANGE_NEW, "a flow after the loss");
	CHECK_EQ(flow_table_unanswered(t), 1, "a flow after the loss is unanswered");
	CHECK_EQ(flow_table_stats(t)->evicted_pending, 1, "the evicted one was answered");
	e = ev4(TFT_HOOK_INGRESS, TFT_TCP_RST | TFT_TCP_ACK, "10.0.0.2", 80, "10.0.0.1", 1003, 0,
		1004, 3001);
	CHECK_EQ(flow_table_apply(t, &e, NULL), TFT_CHANGE_STATE, "refused");
	CHECK_EQ(flow_table_unanswered(t), 0, "the flow after the loss answered");
	CHECK_EQ(flow_table_unsure(t), 1, "the one from before the loss still unsure");
	flow_table_clear(t);
	CHECK_EQ(flow_table_unanswered(t) + flow_table_unsure(t), 0, "cleared");
	flow_table_free(t);
}

/*
 * An answer read before its SYN (another CPU's ring) is kept aside and
 * applied right after the SYN creates the flow; one that does not acknowledge
 * the SYN, or that waited longer than 2 s, is not.
 */
static void test_answer_before_syn(void)
{
	struct flow_table *t = flow_table_new(64);
	const struct tft_flow *f = NULL;
	struct tft_tcp_event syn, ack;
	uint64_t at = 0;
	int i, paired = 0;

	/* An outgoing flow: SYN-ACK (ingress) read first. */
	ack = ev4(TFT_HOOK_INGRESS, TFT_TCP_SYN | TFT_TCP_ACK, "10.0.0.2", 443, "10.0.0.1", 40000,
		  9, 1001, 250);
	syn = ev4(TFT_HOOK_EGRESS, TFT_TCP_SYN, "10.0.0.1", 40000, "10.0.0.2", 443, 1000, 0, 100);
	CHECK_EQ(flow_table_apply(t, &ack, &f), TFT_CHANGE_NONE, "early answer: nothing yet");
	CHECK_EQ(flow_table_apply_early(t, &f, &at), TFT_CHANGE_NONE, "no new flow: nothing");
	CHECK_EQ(flow_table_apply(t, &syn, &f), TFT_CHANGE_NEW, "syn after its answer creates");
	CHECK_EQ(f->state, TFT_STATE_PENDING, "the new flow shows pending first");
	CHECK_EQ(flow_table_apply_early(t, &f, &at), TFT_CHANGE_STATE, "then the answer applies");
	CHECK_EQ(f->state, TFT_STATE_ACCEPTED, "accepted");
	CHECK_EQ(at, 250, "at the answer's time");
	CHECK_EQ(f->answer_ns - f->syn_ns, 150, "handshake time");
	CHECK_EQ(flow_table_apply_early(t, &f, &at), TFT_CHANGE_NONE, "applied once");
	CHECK_EQ(flow_table_stats(t)->accepted, 1, "counted once");

	/* An incoming flow refused: RST-ACK (egress) first. */
	ack = ev4(TFT_HOOK_EGRESS, TFT_TCP_RST | TFT_TCP_ACK, "10.0.0.1", 22, "10.0.0.3", 50000, 0,
		  78, 300);
	syn = ev4(TFT_HOOK_INGRESS, TFT_TCP_SYN, "10.0.0.3", 50000, "10.0.0.1", 22, 77, 0, 290);
	flow_table_apply(t, &ack, &f);
	CHECK_EQ(flow_table_apply(t, &syn, &f), TFT_CHANGE_NEW, "incoming syn creates");
	CHECK_EQ(flow_table_apply_early(t, &f, &at), TFT_CHANGE_STATE, "rst applies");
	CHECK_EQ(f->state, TFT_STATE_REFUSED, "refused");
	CHECK_EQ(f->key.dir, TFT_DIR_IN, "incoming");

	/* An answer to another SYN (wrong ack) stays unmatched. */
	ack = ev4(TFT_HOOK_INGRESS, TFT_TCP_SYN | TFT_TCP_ACK, "10.0.0.2", 443, "10.0.0.1", 40001,
		  9, 5, 400);
	syn = ev4(TFT_HOOK_EGRESS, TFT_TCP_SYN, "10.0.0.1", 40001, "10.0.0.2", 443, 1000, 0, 390);
	flow_table_apply(t, &ack, &f);
	flow_table_apply(t, &syn, &f);
	CHECK_EQ(flow_table_apply_early(t, &f, &at), TFT_CHANGE_NONE, "wrong ack: not applied");

	/* Too old: 2 s of record time later the answer is gone. */
	ack = ev4(TFT_HOOK_INGRESS, TFT_TCP_SYN | TFT_TCP_ACK, "10.0.0.2", 443, "10.0.0.1", 40002,
		  9, 1001, 1000);
	syn = ev4(TFT_HOOK_EGRESS, TFT_TCP_SYN, "10.0.0.1", 40002, "10.0.0.2", 443, 1000, 0,
		  1000 + 2000000001ull);
	flow_table_apply(t, &ack, &f);
	flow_table_apply(t, &syn, &f);
	CHECK_EQ(flow_table_apply_early(t, &f, &at), TFT_CHANGE_NONE,
		 "expired answer: not applied");
	CHECK_EQ(f->state, TFT_STATE_PENDING, "expired answer: still pending");

	/* More answers than are kept: the oldest go, the newest still pair. */
	for (i = 0; i < 3000; i++) {
		ack = ev4(TFT_HOOK_INGRESS, TFT_TCP_SYN | TFT_TCP_ACK, "10.0.0.9", 80, "10.0.0.1",
			  (uint16_t)(1000 + i), 9, 2, 3000000000ull + (uint64_t)i);
		flow_table_apply(t, &ack, &f);
	}
	for (i = 0; i < 3000; i++) {
		syn = ev4(TFT_HOOK_EGRESS, TFT_TCP_SYN, "10.0.0.1", (uint16_t)(1000 + i),
			  "10.0.0.9", 80, 1, 0, 3000000000ull + (uint64_t)i);
		if (flow_table_apply(t, &syn, &f) == TFT_CHANGE_NEW &&
		    flow_table_apply_early(t, &f, &at) == TFT_CHANGE_STATE)
			paired++;
	}
	CHECK_EQ(paired, 1024, "the last 1024 answers kept");
	flow_table_free(t);
}

static struct tft_sock_event sock4(uint8_t op, uint8_t end, const char *local, uint16_t lport,
				   const char *remote, uint16_t rport, uint64_t ts)
{
	struct tft_sock_event e = {0};

	e.type = TFT_REC_SOCK;
	e.op = op;
	e.side = op == TFT_SOCK_ESTABLISHED ? TFT_SIDE_PASSIVE : 0;
	e.end = end;
	e.family = 4;
	e.lport = htons(lport);
	e.rport = htons(rport);
	inet_pton(AF_INET, local, e.laddr);
	inet_pton(AF_INET, remote, e.raddr);
	e.ts_ns = ts;
	return e;
}

/* A connect that is accepted, then closed: the socket's counters become payload figures. */
static void test_outgoing_closed(void)
{
	struct flow_table *t = flow_table_new(8);
	const struct tft_flow *f = NULL;
	struct tft_tcp_event e;
	struct tft_sock_event s;

	e = ev4(TFT_HOOK_EGRESS, TFT_TCP_SYN, "10.0.0.1", 40000, "10.0.0.2", 443, 1000, 0, 100);
	flow_table_apply(t, &e, NULL);
	e = ev4(TFT_HOOK_INGRESS, TFT_TCP_SYN | TFT_TCP_ACK, "10.0.0.2", 443, "10.0.0.1", 40000, 7,
		1001, 200);
	CHECK_EQ(flow_table_apply(t, &e, &f), TFT_CHANGE_STATE, "accepted");
	s = sock4(TFT_SOCK_CLOSED, TFT_SOCK_END_FIN_LOCAL, "10.0.0.1", 40000, "10.0.0.2", 443,
		  5000);
	s.bytes_acked = 100000 + 2;  /* SYN and FIN */
	s.bytes_received = 1234 + 1; /* their FIN */
	s.srtt_us = 42;
	s.total_retrans = 3;
	s.segs_in = 10;
	s.segs_out = 20;
	CHECK_EQ(flow_table_apply_sock(t, &s, &f), TFT_CHANGE_END, "the close ends it");
	CHECK_EQ(f->state, TFT_STATE_CLOSED, "closed");
	CHECK_EQ(f->end, TFT_END_FIN_LOCAL, "we closed first");
	CHECK_EQ(f->end_ns, 5000, "when");
	CHECK_EQ(f->bytes_out, 100000, "payload out");
	CHECK_EQ(f->bytes_in, 1234, "payload in");
	CHECK_EQ(f->rtt_us, 42, "rtt");
	CHECK_EQ(f->data_retrans, 3, "retransmissions");
	CHECK(f->flags & TFT_FLOW_F_FIGURES, "figures known");
	CHECK_EQ(flow_table_stats(t)->ends[TFT_END_FIN_LOCAL], 1, "counted by end");
	CHECK_EQ(flow_table_apply_sock(t, &s, &f), TFT_CHANGE_NONE, "a second close: nothing");

	/* A socket nobody saw open (older than the capture) changes nothing. */
	s.lport = htons(40001);
	CHECK_EQ(flow_table_apply_sock(t, &s, &f), TFT_CHANGE_NONE, "unknown socket");
	flow_table_free(t);
}

/* The peer resets: its RST's own record marks the flow, the close that follows says reset-by-peer.
 */
static void test_reset_by_whom(void)
{
	struct flow_table *t = flow_table_new(8);
	const struct tft_flow *f = NULL;
	struct tft_tcp_event e;
	struct tft_sock_event s;

	/* Incoming flow, established, then the client resets it. */
	e = ev4(TFT_HOOK_INGRESS, TFT_TCP_SYN, "10.0.0.9", 5555, "10.0.0.1", 80, 50, 0, 100);
	flow_table_apply(t, &e, NULL);
	e = ev4(TFT_HOOK_EGRESS, TFT_TCP_SYN | TFT_TCP_ACK, "10.0.0.1", 80, "10.0.0.9", 5555, 9, 51,
		200);
	flow_table_apply(t, &e, NULL);
	s = sock4(TFT_SOCK_ESTABLISHED, 0, "10.0.0.1", 80, "10.0.0.9", 5555, 300);
	CHECK_EQ(flow_table_apply_sock(t, &s, &f), TFT_CHANGE_STATE, "established");
	CHECK_EQ(f->state, TFT_STATE_ESTABLISHED, "incoming established");
	CHECK(!(f->flags & TFT_FLOW_F_SYNCOOKIE), "its SYN-ACK was seen");
	e = ev4(TFT_HOOK_INGRESS, TFT_TCP_RST | TFT_TCP_ACK, "10.0.0.9", 5555, "10.0.0.1", 80, 51,
		10, 400);
	CHECK_EQ(flow_table_apply(t, &e, NULL), TFT_CHANGE_NONE, "a RST alone changes no state");
	s = sock4(TFT_SOCK_CLOSED, TFT_SOCK_END_RESET_LOCAL, "10.0.0.1", 80, "10.0.0.9", 5555, 401);
	CHECK_EQ(flow_table_apply_sock(t, &s, &f), TFT_CHANGE_END, "closed");
	CHECK_EQ(f->end, TFT_END_RESET_PEER, "the RST came in: reset by the peer");
	CHECK_EQ(f->bytes_out, 0, "the accepting end's SYN-ACK is not counted");

	/* Outgoing flow that this host aborts: no RST came in. */
	e = ev4(TFT_HOOK_EGRESS, TFT_TCP_SYN, "10.0.0.1", 40000, "10.0.0.2", 443, 1000, 0, 500);
	flow_table_apply(t, &e, NULL);
	e = ev4(TFT_HOOK_INGRESS, TFT_TCP_SYN | TFT_TCP_ACK, "10.0.0.2", 443, "10.0.0.1", 40000, 7,
		1001, 600);
	flow_table_apply(t, &e, NULL);
	s = sock4(TFT_SOCK_CLOSED, TFT_SOCK_END_RESET_LOCAL, "10.0.0.1", 40000, "10.0.0.2", 443,
		  700);
	CHECK_EQ(flow_table_apply_sock(t, &s, &f), TFT_CHANGE_END, "aborted");
	CHECK_EQ(f->key.dir, TFT_DIR_OUT, "the outgoing flow");
	CHECK_EQ(f->end, TFT_END_RESET_LOCAL, "reset by this host");

	/* A refusal ends a flow at once: reset by the peer (outgoing) or by us (incoming). */
	e = ev4(TFT_HOOK_EGRESS, TFT_TCP_SYN, "10.0.0.1", 40002, "10.0.0.2", 444, 2000, 0, 800);
	flow_table_apply(t, &e, NULL);
	e = ev4(TFT_HOOK_INGRESS, TFT_TCP_RST | TFT_TCP_ACK, "10.0.0.2", 444, "10.0.0.1", 40002, 0,
		2001, 900);
	CHECK_EQ(flow_table_apply(t, &e, &f), TFT_CHANGE_STATE, "refused");
	CHECK_EQ(f->end, TFT_END_RESET_PEER, "refused outgoing: reset by the peer");
	CHECK_EQ(f->end_ns, 900, "ended when refused");
	flow_table_free(t);
}

/* Timers: unanswered after the SYN timeout, half-open after the final ACK's; late answers count. */
static void test_timers(void)
{
	struct flow_timeouts to = {.syn_ns = 3000, .half_open_ns = 30000};
	struct flow_table *t = flow_table_new(8);
	const struct tft_flow *f = NULL, *in = NULL;
	struct tft_tcp_event e;
	struct tft_sock_event s;

	e = ev4(TFT_HOOK_EGRESS, TFT_TCP_SYN, "10.0.0.1", 40000, "10.0.0.2", 443, 1000, 0, 100);
	flow_table_apply(t, &e, &f);
	e = ev4(TFT_HOOK_INGRESS, TFT_TCP_SYN, "10.0.0.9", 5555, "10.0.0.1", 80, 50, 0, 100);
	flow_table_apply(t, &e, &in);
	e = ev4(TFT_HOOK_EGRESS, TFT_TCP_SYN | TFT_TCP_ACK, "10.0.0.1", 80, "10.0.0.9", 5555, 9, 51,
		200);
	flow_table_apply(t, &e, NULL);

	flow_table_expire(t, 3000, &to, NULL, NULL);
	CHECK_EQ(f->state, TFT_STATE_PENDING, "not yet unanswered");
	flow_table_expire(t, 3100, &to, NULL, NULL);
	CHECK_EQ(f->state, TFT_STATE_UNANSWERED, "unanswered after the timeout");
	CHECK_EQ(f->end, TFT_END_TIMEOUT, "ended: timeout");
	CHECK_EQ(flow_table_unanswered(t), 1, "counted unanswered");
	/* A retransmission still counts; a late answer reopens it. */
	e = ev4(TFT_HOOK_EGRESS, TFT_TCP_SYN, "10.0.0.1", 40000, "10.0.0.2", 443, 1000, 0, 3200);
	CHECK_EQ(flow_table_apply(t, &e, NULL), TFT_CHANGE_RETRANS, "retransmission of unanswered");
	e = ev4(TFT_HOOK_INGRESS, TFT_TCP_SYN | TFT_TCP_ACK, "10.0.0.2", 443, "10.0.0.1", 40000, 7,
		1001, 3300);
	CHECK_EQ(flow_table_apply(t, &e, NULL), TFT_CHANGE_STATE, "late answer");
	CHECK_EQ(f->state, TFT_STATE_ACCEPTED, "accepted after all");
	CHECK_EQ(f->end, TFT_END_NONE, "running again");
	CHECK_EQ(flow_table_stats(t)->ends[TFT_END_TIMEOUT], 0, "timeout uncounted");
	CHECK_EQ(flow_table_unanswered(t), 0, "none unanswered");

	/* Without outcomes an accepted incoming flow is never called half-open. */
	flow_table_expire(t, 40000, &to, NULL, NULL);
	CHECK_EQ(in->state, TFT_STATE_ACCEPTED, "no outcomes: stays accepted");
	flow_table_set_outcomes(t, true);
	flow_table_expire(t, 40000, &to, NULL, NULL);
	CHECK_EQ(in->state, TFT_STATE_HALF_OPEN, "half-open");
	CHECK_EQ(in->end, TFT_END_HALF_OPEN, "ended half-open");
	CHECK_EQ(f->state, TFT_STATE_ACCEPTED, "outgoing flows are never half-open");
	CHECK_EQ(flow_table_stats(t)->half_open, 1, "counted");
	s = sock4(TFT_SOCK_ESTABLISHED, 0, "10.0.0.1", 80, "10.0.0.9", 5555, 41000);
	CHECK_EQ(flow_table_apply_sock(t, &s, NULL), TFT_CHANGE_STATE, "its ACK came after all");
	CHECK_EQ(in->state, TFT_STATE_ESTABLISHED, "established");
	CHECK_EQ(flow_table_stats(t)->half_open, 0, "no longer counted half-open");
	flow_table_free(t);
}

/* An incoming flow established without its SYN-ACK seen was answered by a SYN cookie. */
static void test_syncookie(void)
{
	struct flow_table *t = flow_table_new(8);
	const struct tft_flow *f = NULL;
	struct tft_tcp_event e;
	struct tft_sock_event s;

	e = ev4(TFT_HOOK_INGRESS, TFT_TCP_SYN, "10.0.0.9", 5555, "10.0.0.1", 80, 50, 0, 100);
	flow_table_apply(t, &e, &f);
	s = sock4(TFT_SOCK_ESTABLISHED, 0, "10.0.0.1", 80, "10.0.0.9", 5555, 400);
	CHECK_EQ(flow_table_apply_sock(t, &s, NULL), TFT_CHANGE_STATE, "established");
	CHECK_EQ(f->state, TFT_STATE_ESTABLISHED, "established");
	CHECK(f->flags & TFT_FLOW_F_SYNCOOKIE, "flagged syncookie");
	CHECK_EQ(flow_table_stats(t)->accepted, 1, "counted accepted");
	CHECK_EQ(flow_table_stats(t)->syncookies, 1, "counted syncookie");
	CHECK_EQ(flow_table_unanswered(t), 0, "not pending");
	flow_table_free(t);
}

/* When full, the flow that ended first makes room; an open flow only when none has ended. */
static void test_eviction_keeps_open_flows(void)
{
	struct flow_table *t = flow_table_new(3);
	const struct tft_flow *f = NULL;
	struct tft_tcp_event e;
	int i;

	for (i = 0; i < 3; i++) {
		e = ev4(TFT_HOOK_EGRESS, TFT_TCP_SYN, "10.0.0.1", (uint16_t)(1000 + i), "10.0.0.2",
			80, (uint32_t)i, 0, (uint64_t)i);
		flow_table_apply(t, &e, NULL);
	}
	/* The middle one is refused: it has ended. */
	e = ev4(TFT_HOOK_INGRESS, TFT_TCP_RST | TFT_TCP_ACK, "10.0.0.2", 80, "10.0.0.1", 1001, 0, 2,
		5);
	CHECK_EQ(flow_table_apply(t, &e, NULL), TFT_CHANGE_STATE, "refused");
	e = ev4(TFT_HOOK_EGRESS, TFT_TCP_SYN, "10.0.0.1", 1003, "10.0.0.2", 80, 3, 0, 6);
	CHECK_EQ(flow_table_apply(t, &e, &f), TFT_CHANGE_NEW, "a fourth");
	CHECK(flow_table_by_id(t, 2) == NULL, "the ended flow made room");
	CHECK(flow_table_by_id(t, 1) != NULL, "the oldest, still pending, stays");
	CHECK_EQ(flow_nth(t, 0)->id, 1, "oldest first");
	CHECK_EQ(flow_nth(t, 1)->id, 3, "then the third");
	CHECK_EQ(flow_nth(t, 2)->id, 4, "then the newest");
	CHECK_EQ(flow_table_stats(t)->evicted_open, 0, "no open flow evicted");
	e = ev4(TFT_HOOK_EGRESS, TFT_TCP_SYN, "10.0.0.1", 1004, "10.0.0.2", 80, 4, 0, 7);
	CHECK_EQ(flow_table_apply(t, &e, &f), TFT_CHANGE_NEW, "a fifth");
	CHECK(flow_table_by_id(t, 1) == NULL, "none ended: the oldest goes");
	CHECK_EQ(flow_table_stats(t)->evicted_pending, 1, "counted as pending");
	CHECK_EQ(flow_table_count(t), 3, "still capped");
	for (i = 0; i < 3; i++)
		CHECK(flow_table_by_id(t, (uint64_t)(3 + i)) != NULL, "the others found by id");
	flow_table_free(t);
}

/* Samples: figures for open flows, an update only when the idle flag turns. */
static void test_sample_idle(void)
{
	struct flow_table *t = flow_table_new(8);
	const struct tft_flow *f = NULL, *g = NULL;
	struct flow_sample smp = {.bytes_in = 10, .bytes_out = 20, .rtt_us = 5};
	struct tft_tcp_event e;

	e = ev4(TFT_HOOK_EGRESS, TFT_TCP_SYN, "10.0.0.1", 40000, "10.0.0.2", 443, 1000, 0, 100);
	flow_table_apply(t, &e, &f);
	CHECK_EQ(flow_table_sample(t, &f->key, &smp, &g), TFT_CHANGE_NONE, "pending: no sample");
	CHECK(!(f->flags & TFT_FLOW_F_FIGURES), "no figures while pending");
	e = ev4(TFT_HOOK_INGRESS, TFT_TCP_SYN | TFT_TCP_ACK, "10.0.0.2", 443, "10.0.0.1", 40000, 7,
		1001, 200);
	flow_table_apply(t, &e, NULL);
	CHECK_EQ(flow_table_sample(t, &f->key, &smp, &g), TFT_CHANGE_NONE, "active: no update");
	CHECK_EQ(f->bytes_in, 10, "figures taken");
	smp.idle = true;
	CHECK_EQ(flow_table_sample(t, &f->key, &smp, &g), TFT_CHANGE_UPDATE, "turned idle");
	CHECK(g == f && (f->flags & TFT_FLOW_F_IDLE), "flagged idle");
	CHECK_EQ(flow_table_sample(t, &f->key, &smp, &g), TFT_CHANGE_NONE, "still idle: quiet");
	smp.idle = false;
	smp.bytes_in = 11;
	CHECK_EQ(flow_table_sample(t, &f->key, &smp, &g), TFT_CHANGE_UPDATE, "active again");
	CHECK(!(f->flags & TFT_FLOW_F_IDLE), "unflagged");
	flow_table_free(t);
}

int main(void)
{
	test_outgoing_accepted();
	test_incoming_refused_and_reuse();
	test_eviction_and_ids();
	test_ipv6_and_bad_family();
	test_churn();
	test_unanswered_honest();
	test_answer_before_syn();
	test_outgoing_closed();
	test_reset_by_whom();
	test_timers();
	test_syncookie();
	test_eviction_keeps_open_flows();
	test_sample_idle();
	return t_done();
}
