/*
 * Grouping as a pipeline sink, on flows made from real records: totals since
 * start (answers, refusals, retransmissions, handshake percentiles), the
 * name known at the SYN fixes a flow's group, half-open follows the table
 * through evictions and clears, distinct and top clients of a listener, the
 * cap's `other` row, rates over the last 10 s, and interval ticks.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "flow_groups.h"
#include "t.h"

#define S 1000000000ull

static bool name_known = true;

/* 10.0.0.2 is db.example (while name_known); nothing else has a name. */
static size_t fake_name(void *ctx, uint8_t family, const uint8_t *addr, char *buf, size_t size)
{
	static const uint8_t db[4] = {10, 0, 0, 2};

	(void)ctx;
	if (!name_known || family != 4 || memcmp(addr, db, 4))
		return 0;
	memcpy(buf, "db.example", size < 10 ? size : 10);
	return 10;
}

static void ev(struct flow_pipeline *p, uint8_t hook, uint8_t flags, const char *src,
	       uint16_t sport, const char *dst, uint16_t dport, uint32_t seq, uint32_t ack,
	       uint64_t ts)
{
	struct tft_tcp_event e = {.type = TFT_REC_TCP, .hook = hook, .flags = flags, .family = 4};

	inet_pton(AF_INET, src, e.saddr);
	inet_pton(AF_INET, dst, e.daddr);
	e.sport = htons(sport);
	e.dport = htons(dport);
	e.seq = seq;
	e.ack = ack;
	e.ts_ns = ts;
	flow_pipeline_tcp(p, &e);
}

/* An outgoing SYN from 10.0.0.1:sport, answered after hs_us (SYN-ACK, RST, or none: 0). */
static void out_flow(struct flow_pipeline *p, const char *dst, uint16_t dport, uint16_t sport,
		     uint64_t ts, uint8_t answer, uint64_t hs_us)
{
	uint32_t seq = 1000u * sport;

	ev(p, TFT_HOOK_EGRESS, TFT_TCP_SYN, "10.0.0.1", sport, dst, dport, seq, 0, ts);
	if (answer)
		ev(p, TFT_HOOK_INGRESS, answer | TFT_TCP_ACK, dst, dport, "10.0.0.1", sport, 7,
		   seq + 1, ts + hs_us * 1000);
}

static const struct flow_group *find(struct flow_groups *g, uint16_t port, const char *name)
{
	size_t i;

	for (i = 0; i < flow_groups_count(g); i++) {
		const struct flow_group *gr = flow_groups_at(g, i);

		if (gr->other || gr->key.port != port)
			continue;
		if (name ? gr->key.name_len == strlen(name) &&
			       !memcmp(gr->key.name, name, strlen(name))
			 : !gr->key.name_len)
			return gr;
	}
	return NULL;
}

static uint64_t ticks[16];
static size_t nticks;

static void on_tick(void *ctx, uint64_t at)
{
	(void)ctx;
	if (nticks < 16)
		ticks[nticks++] = at;
}

int main(void)
{
	struct flow_pipeline_opts po = {.capacity = 1000};
	struct flow_pipeline *p = flow_pipeline_new(&po);
	struct flow_groups_opts ro = {FLOW_GROUP_REMOTE, 4, 1000, fake_name, NULL};
	struct flow_groups_opts lo = {FLOW_GROUP_LISTENER, 0, 1000, NULL, NULL};
	struct flow_groups *rg = flow_groups_new(&ro), *lg = flow_groups_new(&lo);
	struct flow_sink rs, ls;
	const struct flow_group *gr;
	const struct flow_group_client *top;
	struct flow_groups_stats st;
	uint16_t sport = 20000;
	int i;

	CHECK(p && rg && lg, "made");
	if (!p || !rg || !lg)
		return t_done();
	rs = flow_groups_sink(rg);
	ls = flow_groups_sink(lg);
	flow_pipeline_add_sink(p, &rs);
	flow_pipeline_add_sink(p, &ls);
	flow_groups_set_interval(rg, 0, 5 * S, on_tick, NULL);

	/* 30 accepted connects (handshakes 101..130 µs), then 10 refused, to db.example:5432. */
	for (i = 0; i < 30; i++)
		out_flow(p, "10.0.0.2", 5432, sport++, 1 * S + (uint64_t)i * 1000000, TFT_TCP_SYN,
			 101 + (uint64_t)i);
	for (i = 0; i < 10; i++)
		out_flow(p, "10.0.0.2", 5432, sport++, 2 * S + (uint64_t)i * 1000000, TFT_TCP_RST,
			 50);
	gr = find(rg, 5432, "db.example");
	CHECK(gr != NULL, "one group by name and port");
	if (gr) {
		CHECK_EQ(gr->flows, 40, "40 flows");
		CHECK_EQ(gr->accepted, 30, "30 accepted");
		CHECK_EQ(gr->refused, 10, "10 refused: 25 %");
		CHECK_EQ(gr->hs.total, 40, "every answer timed");
		CHECK_EQ(gr->hs.max, 130, "slowest handshake");
		/* 10 at 50 µs, then 101..130: the 20th value is 110, the 38th 128; both < 64 or
		 * within 1/64. */
		CHECK(hdr_hist_quantile(&gr->hs, 0.5) >= 108 &&
			  hdr_hist_quantile(&gr->hs, 0.5) <= 112,
		      "p50 near 110 µs");
		CHECK_EQ(hdr_hist_quantile(&gr->hs, 0.0001), 50, "lowest exact");
		CHECK(flow_group_rate(gr, 2 * S) == 4.0, "40 new flows in the last 10 s: 4/s");
		CHECK(flow_group_rate(gr, 12 * S) == 0.0, "none in the 10 s before 12 s");
	}
	CHECK_EQ(flow_groups_count(rg), 1, "only outgoing flows group by remote");
	CHECK_EQ(flow_groups_count(lg), 0, "no incoming flows yet");

	/* The name known at the SYN decides: an answer after the name is gone still counts there.
	 */
	ev(p, TFT_HOOK_EGRESS, TFT_TCP_SYN, "10.0.0.1", 30000, "10.0.0.2", 5432, 555, 0, 3 * S);
	name_known = false;
	ev(p, TFT_HOOK_INGRESS, TFT_TCP_SYN | TFT_TCP_ACK, "10.0.0.2", 5432, "10.0.0.1", 30000, 9,
	   556, 3 * S + 1000);
	gr = find(rg, 5432, "db.example");
	CHECK(gr && gr->flows == 41 && gr->accepted == 31, "answer counted in the SYN's group");
	/* Without a name: by address; a retransmission counts, pending stays unanswered. */
	ev(p, TFT_HOOK_EGRESS, TFT_TCP_SYN, "10.0.0.1", 30001, "10.0.0.2", 5432, 777, 0, 4 * S);
	ev(p, TFT_HOOK_EGRESS, TFT_TCP_SYN, "10.0.0.1", 30001, "10.0.0.2", 5432, 777, 0, 5 * S);
	gr = find(rg, 5432, NULL);
	CHECK(gr && gr->flows == 1 && gr->retrans == 1 && !gr->accepted && !gr->refused,
	      "by address once the name is unknown; retransmission counted");
	CHECK_EQ(nticks, 1, "a tick at 5 s, before the event at 5 s counts");
	CHECK_EQ(ticks[0], 5 * S, "tick time");
	flow_groups_advance(rg, 16 * S);
	CHECK_EQ(nticks, 3, "ticks at 10 s and 15 s without events");

	/* The cap of 4: three groups and `other`, which counts every further group's flows. */
	out_flow(p, "10.0.0.3", 80, 30010, 6 * S, TFT_TCP_SYN, 10);
	out_flow(p, "10.0.0.3", 81, 30011, 6 * S, TFT_TCP_SYN, 10);
	out_flow(p, "10.0.0.3", 82, 30012, 6 * S, TFT_TCP_SYN, 10);
	out_flow(p, "10.0.0.3", 81, 30013, 6 * S, TFT_TCP_SYN, 10);
	flow_groups_stats(rg, &st);
	CHECK_EQ(st.groups, 4, "groups capped");
	CHECK_EQ(st.other_flows, 3, "the flows of ports 81 and 82, beyond the cap, in other");
	CHECK(find(rg, 80, NULL) && find(rg, 80, NULL)->flows == 1, "the third group");
	CHECK(!find(rg, 81, NULL) && !find(rg, 82, NULL), "keys beyond the cap went to other");

	/* Listener 10.0.0.1:80: 3 clients, one of them 5 times; 2 flows left pending. */
	for (i = 0; i < 7; i++) {
		const char *c = i < 5 ? "10.0.0.7" : i == 5 ? "10.0.0.8" : "10.0.0.9";
		uint32_t seq = 5000u + (uint32_t)i;

		ev(p, TFT_HOOK_INGRESS, TFT_TCP_SYN, c, (uint16_t)(40000 + i), "10.0.0.1", 80, seq,
		   0, 7 * S);
		if (i < 5)
			ev(p, TFT_HOOK_EGRESS, TFT_TCP_SYN | TFT_TCP_ACK, "10.0.0.1", 80, c,
			   (uint16_t)(40000 + i), 1, seq + 1, 7 * S + 20000);
	}
	CHECK_EQ(flow_groups_count(lg), 1, "one listener");
	gr = flow_groups_at(lg, 0);
	CHECK(gr && gr->flows == 7 && gr->accepted == 5 && gr->half_open == 2, "half-open 2");
	CHECK(gr && flow_group_clients(gr) == 3, "3 distinct clients");
	top = gr ? flow_group_top_client(gr) : NULL;
	CHECK(top && top->count == 5 && top->addr[3] == 7, "top client 10.0.0.7 with 5");
	/* Cleared from the table: half-open follows, totals stay. */
	flow_pipeline_clear(p);
	CHECK(gr && gr->half_open == 0 && gr->flows == 7, "clear: half-open 0, totals kept");
	flow_pipeline_free(p);

	/* Eviction: a table of 2; the pending flow evicted stops being half-open. */
	{
		struct flow_pipeline_opts small = {.capacity = 2};
		struct flow_groups_opts o2 = {FLOW_GROUP_LISTENER, 0, 2, NULL, NULL};
		struct flow_pipeline *p2 = flow_pipeline_new(&small);
		struct flow_groups *g2 = flow_groups_new(&o2);
		struct flow_sink s2 = flow_groups_sink(g2);

		flow_pipeline_add_sink(p2, &s2);
		for (i = 0; i < 5; i++)
			ev(p2, TFT_HOOK_INGRESS, TFT_TCP_SYN, "10.0.0.7", (uint16_t)(41000 + i),
			   "10.0.0.1", 22, 9000u + (uint32_t)i, 0, 8 * S);
		gr = flow_groups_at(g2, 0);
		CHECK(gr && gr->flows == 5 && gr->half_open == 2, "half-open: only the held 2");
		flow_groups_free(g2);
		flow_pipeline_free(p2);
	}
	/* Many clients: the estimate within 3 standard errors (6.5 % each). */
	{
		struct flow_pipeline_opts big = {.capacity = 5000};
		struct flow_groups_opts o3 = {FLOW_GROUP_LISTENER, 0, 5000, NULL, NULL};
		struct flow_pipeline *p3 = flow_pipeline_new(&big);
		struct flow_groups *g3 = flow_groups_new(&o3);
		struct flow_sink s3 = flow_groups_sink(g3);
		char a[32];
		uint64_t est;

		flow_pipeline_add_sink(p3, &s3);
		for (i = 0; i < 3000; i++) {
			snprintf(a, sizeof(a), "10.%d.%d.%d", i >> 16 & 255, i >> 8 & 255, i & 255);
			ev(p3, TFT_HOOK_INGRESS, TFT_TCP_SYN, a, 5555, "10.0.0.1", 443, (uint32_t)i,
			   0, 9 * S);
		}
		est = flow_group_clients(flow_groups_at(g3, 0));
		CHECK(est > 3000 * 0.8 && est < 3000 * 1.2, "3000 clients estimated within 20 %");
		flow_groups_free(g3);
		flow_pipeline_free(p3);
	}
	flow_groups_free(rg);
	flow_groups_free(lg);
	return t_done();
}
