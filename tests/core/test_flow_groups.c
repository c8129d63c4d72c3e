/*
 * Grouping as a pipeline sink, on flows made from real records: totals since
 * start (answers, refusals, retransmissions, handshake percentiles), the
 * name known at the SYN fixes a flow's group, distinct and top clients of a
 * listener, the cap's `other` row, rates over the last 10 s, and interval
 * ticks. Then on crafted flows and events (the outcomes the pipeline will
 * report: established, ended, figures, half-open): reset share, bytes,
 * half-open now through state changes, evictions and clears, each flow
 * counted once however events repeat, and groups by process and service.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "flow_groups.h"
#include "owner_names.h"
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

/* --- crafted flows: outcomes the pipeline reports once its model is filled in ------------ */

static struct tft_flow crafted(uint64_t id, uint8_t dir, uint16_t dport)
{
	struct tft_flow f = {0};

	f.id = id;
	f.key.family = 4;
	f.key.dir = dir;
	f.key.sport = (uint16_t)(30000 + id);
	f.key.dport = dport;
	f.key.saddr[0] = 10, f.key.saddr[3] = 7;
	f.key.daddr[0] = 10, f.key.daddr[3] = 1;
	f.syn_ns = id * S;
	return f;
}

static void tell(struct flow_sink *s, const struct tft_flow *f, enum tft_flow_change c, uint64_t at)
{
	s->changed(s->ctx, f, c, at);
}

/* Reset share, bytes and half-open now, each flow counted once. */
static void outcomes(void)
{
	struct flow_groups_opts o = {FLOW_GROUP_LISTENER, 0, 8, NULL, NULL};
	struct flow_groups *g = flow_groups_new(&o);
	struct flow_sink s;
	const struct flow_group *gr;
	struct tft_flow a, b, c, d, e, h;
	uint64_t id = 1;
	int i;

	CHECK(g != NULL, "listener groups made");
	if (!g)
		return;
	s = flow_groups_sink(g);

	/* a: accepted, established, two figure samples, then reset by the peer. */
	a = crafted(id++, TFT_DIR_IN, 443);
	tell(&s, &a, TFT_CHANGE_NEW, a.syn_ns);
	a.state = TFT_STATE_ACCEPTED;
	a.answer_ns = a.syn_ns + 250000;
	tell(&s, &a, TFT_CHANGE_STATE, a.answer_ns);
	a.state = TFT_STATE_ESTABLISHED;
	tell(&s, &a, TFT_CHANGE_STATE, a.answer_ns + 1000);
	a.flags = TFT_FLOW_F_FIGURES;
	a.bytes_in = 1000, a.bytes_out = 50;
	tell(&s, &a, TFT_CHANGE_UPDATE, a.syn_ns + S);
	a.bytes_in = 1500, a.bytes_out = 80;
	tell(&s, &a, TFT_CHANGE_UPDATE, a.syn_ns + 2 * S);
	a.state = TFT_STATE_CLOSED;
	a.end = TFT_END_RESET_PEER;
	a.end_ns = a.syn_ns + 3 * S;
	a.bytes_in = 2000, a.bytes_out = 100;
	tell(&s, &a, TFT_CHANGE_END, a.end_ns);
	gr = flow_groups_at(g, 0);
	CHECK(gr && gr->flows == 1 && gr->accepted == 1, "one flow, accepted once over 5 events");
	CHECK(gr && gr->hs.total == 1 && gr->hs.max == 250, "one handshake time, 250 µs");
	CHECK(gr && gr->reset == 1, "ended reset by the peer after being accepted");
	CHECK(gr && gr->bytes_in == 2000 && gr->bytes_out == 100, "bytes: the final figures");
	/* The same end heard again counts nothing more. */
	tell(&s, &a, TFT_CHANGE_END, a.end_ns);
	CHECK(gr && gr->reset == 1 && gr->bytes_in == 2000 && gr->accepted == 1,
	      "a repeated end counts once");

	/* b: refused (an RST answered the SYN): refused, not reset. */
	b = crafted(id++, TFT_DIR_IN, 443);
	tell(&s, &b, TFT_CHANGE_NEW, b.syn_ns);
	b.state = TFT_STATE_REFUSED;
	b.answer_ns = b.syn_ns + 1000;
	tell(&s, &b, TFT_CHANGE_STATE, b.answer_ns);
	b.end = TFT_END_RESET_LOCAL;
	b.end_ns = b.answer_ns;
	tell(&s, &b, TFT_CHANGE_END, b.end_ns);
	/* c: closed by FIN, figures of an END only; d: reset by this host, no figures. */
	c = crafted(id++, TFT_DIR_IN, 443);
	tell(&s, &c, TFT_CHANGE_NEW, c.syn_ns);
	c.state = TFT_STATE_CLOSED;
	c.answer_ns = c.syn_ns + 500000;
	c.end = TFT_END_FIN_PEER;
	c.flags = TFT_FLOW_F_FIGURES;
	c.bytes_in = 7, c.bytes_out = 3;
	tell(&s, &c, TFT_CHANGE_END, c.syn_ns + S);
	d = crafted(id++, TFT_DIR_IN, 443);
	tell(&s, &d, TFT_CHANGE_NEW, d.syn_ns);
	d.state = TFT_STATE_ACCEPTED;
	d.answer_ns = d.syn_ns + 1000;
	tell(&s, &d, TFT_CHANGE_STATE, d.answer_ns);
	d.state = TFT_STATE_CLOSED;
	d.end = TFT_END_RESET_LOCAL;
	tell(&s, &d, TFT_CHANGE_END, d.syn_ns + S);
	CHECK(gr && gr->flows == 4 && gr->accepted == 3 && gr->refused == 1,
	      "3 accepted, 1 refused");
	CHECK(gr && gr->reset == 2, "reset: by the peer and by this host, not the refused");
	CHECK(gr && gr->bytes_in == 2007 && gr->bytes_out == 103, "bytes of every ended flow");
	CHECK(gr && gr->hs.total == 4, "every answer timed once");

	/* e: half-open (SYN-ACK sent, no final ACK), repeated, then left by eviction. */
	e = crafted(id++, TFT_DIR_IN, 443);
	tell(&s, &e, TFT_CHANGE_NEW, e.syn_ns);
	e.state = TFT_STATE_ACCEPTED;
	e.answer_ns = e.syn_ns + 1000;
	tell(&s, &e, TFT_CHANGE_STATE, e.answer_ns);
	e.state = TFT_STATE_HALF_OPEN;
	tell(&s, &e, TFT_CHANGE_STATE, e.syn_ns + 3 * S);
	tell(&s, &e, TFT_CHANGE_UPDATE, e.syn_ns + 4 * S);
	CHECK(gr && gr->half_open == 1, "half-open: one, however often told");
	/* h: half-open, then its final ACK came late: established. */
	h = crafted(id++, TFT_DIR_IN, 443);
	tell(&s, &h, TFT_CHANGE_NEW, h.syn_ns);
	h.state = TFT_STATE_HALF_OPEN;
	h.answer_ns = h.syn_ns + 1000;
	tell(&s, &h, TFT_CHANGE_STATE, h.syn_ns + 3 * S);
	CHECK(gr && gr->half_open == 2 && gr->accepted == 5, "two half-open, both accepted");
	h.state = TFT_STATE_ESTABLISHED;
	tell(&s, &h, TFT_CHANGE_STATE, h.syn_ns + 4 * S);
	CHECK(gr && gr->half_open == 1 && gr->accepted == 5, "established leaves half-open");
	s.left(s.ctx, &e, FLOW_LEAVE_EVICTED);
	CHECK(gr && gr->half_open == 0, "evicted leaves half-open");
	s.left(s.ctx, &e, FLOW_LEAVE_EVICTED);
	CHECK(gr && gr->half_open == 0, "a second leave changes nothing");
	/* A half-open flow ended as such, then cleared. */
	e = crafted(id++, TFT_DIR_IN, 443);
	tell(&s, &e, TFT_CHANGE_NEW, e.syn_ns);
	e.state = TFT_STATE_HALF_OPEN;
	e.answer_ns = e.syn_ns + 1000;
	e.end = TFT_END_HALF_OPEN;
	tell(&s, &e, TFT_CHANGE_END, e.syn_ns + 3 * S);
	CHECK(gr && gr->half_open == 1 && gr->reset == 2, "ended half-open: counted, not reset");
	s.left(s.ctx, &e, FLOW_LEAVE_CLEARED);
	CHECK(gr && gr->half_open == 0, "cleared leaves half-open");

	/* Evicted while open: its bytes up to the last sample; a later id reuses the slot. */
	for (i = 0; i < 8; i++) {
		a = crafted(id++, TFT_DIR_IN, 8080);
		tell(&s, &a, TFT_CHANGE_NEW, a.syn_ns);
		a.state = TFT_STATE_ESTABLISHED;
		a.answer_ns = a.syn_ns + 1000;
		a.flags = TFT_FLOW_F_FIGURES;
		a.bytes_in = 10;
		tell(&s, &a, TFT_CHANGE_UPDATE, a.syn_ns + S);
		if (i % 2) { /* half of them half-open at eviction */
			a.state = TFT_STATE_HALF_OPEN;
			tell(&s, &a, TFT_CHANGE_STATE, a.syn_ns + 2 * S);
		}
	}
	gr = flow_groups_at(g, 1);
	CHECK(gr && gr->key.port == 8080 && gr->flows == 8 && gr->bytes_in == 80,
	      "open flows: bytes up to their last sample");
	CHECK(gr && gr->half_open == 4, "4 half-open held");
	/* The table (8) evicts the oldest four, two of them half-open. */
	for (i = 0; i < 4; i++) {
		a = crafted(id - 8 + (uint64_t)i, TFT_DIR_IN, 8080);
		a.state = i % 2 ? TFT_STATE_HALF_OPEN : TFT_STATE_ESTABLISHED;
		s.left(s.ctx, &a, FLOW_LEAVE_EVICTED);
	}
	CHECK(gr && gr->half_open == 2 && gr->flows == 8 && gr->bytes_in == 80,
	      "evictions: half-open follows, totals stay");
	flow_groups_free(g);
}

/*
 * The table evicts ended flows before open ones, so an old open flow can be
 * held with flows whose ids are far newer: ids that share their low bits
 * each keep their own slot, and one leaving does not hide the others.
 */
static void held_ids(void)
{
	struct flow_groups_opts o = {FLOW_GROUP_LISTENER, 0, 4, NULL, NULL};
	struct flow_groups *g = flow_groups_new(&o);
	struct flow_sink s;
	const struct flow_group *gr;
	struct tft_flow a, b, c;

	CHECK(g != NULL, "listener groups made");
	if (!g)
		return;
	s = flow_groups_sink(g);
	/* a: open and half-open; b: 64 ids on (a multiple of any slot count here); c: next to a. */
	a = crafted(1, TFT_DIR_IN, 443);
	tell(&s, &a, TFT_CHANGE_NEW, a.syn_ns);
	a.state = TFT_STATE_HALF_OPEN;
	a.answer_ns = a.syn_ns + 1000;
	tell(&s, &a, TFT_CHANGE_STATE, a.syn_ns + S);
	b = crafted(65, TFT_DIR_IN, 443);
	tell(&s, &b, TFT_CHANGE_NEW, b.syn_ns);
	b.state = TFT_STATE_HALF_OPEN;
	b.answer_ns = b.syn_ns + 1000;
	tell(&s, &b, TFT_CHANGE_STATE, b.syn_ns + S);
	c = crafted(2, TFT_DIR_IN, 443);
	tell(&s, &c, TFT_CHANGE_NEW, c.syn_ns);
	gr = flow_groups_at(g, 0);
	CHECK(gr && gr->flows == 3 && gr->half_open == 2, "old and new flow both half-open");
	/* The old flow's later events still count in its group. */
	a.state = TFT_STATE_ESTABLISHED;
	tell(&s, &a, TFT_CHANGE_STATE, a.syn_ns + 70 * S);
	CHECK(gr && gr->half_open == 1, "the old flow's change is heard");
	a.state = TFT_STATE_CLOSED;
	a.end = TFT_END_RESET_PEER;
	tell(&s, &a, TFT_CHANGE_END, a.syn_ns + 71 * S);
	CHECK(gr && gr->reset == 1, "the old flow's reset is counted");
	/* The old flow leaves: the newer ones stay found. */
	s.left(s.ctx, &a, FLOW_LEAVE_EVICTED);
	b.state = TFT_STATE_ESTABLISHED;
	tell(&s, &b, TFT_CHANGE_STATE, b.syn_ns + 2 * S);
	CHECK(gr && gr->half_open == 0, "the newer flow's change is heard after the old left");
	b.state = TFT_STATE_HALF_OPEN;
	tell(&s, &b, TFT_CHANGE_STATE, b.syn_ns + 3 * S);
	c.state = TFT_STATE_HALF_OPEN;
	c.answer_ns = c.syn_ns + 1000;
	tell(&s, &c, TFT_CHANGE_STATE, c.syn_ns + 3 * S);
	CHECK(gr && gr->half_open == 2 && gr->accepted == 3, "both newer flows found");
	s.left(s.ctx, &b, FLOW_LEAVE_EVICTED);
	s.left(s.ctx, &c, FLOW_LEAVE_EVICTED);
	CHECK(gr && gr->half_open == 0, "each leave heard");
	flow_groups_free(g);
}

/* Flows of both directions by owner: service and command; "?" rows per reason. */
static void processes(void)
{
	struct flow_groups_opts o = {FLOW_GROUP_PROCESS, 0, 64, NULL, NULL};
	struct flow_groups *g = flow_groups_new(&o);
	struct flow_sink s;
	const struct flow_group *gr;
	struct tft_flow f;
	uint64_t id = 1000;
	size_t i, n_known = 0, n_unknown = 0, n_nohook = 0;
	static const struct {
		const char *comm;
		uint64_t cgroup;
		uint32_t pid;
		uint8_t dir, state;
	} owners[] = {
	    {"nginx", 41, 100, TFT_DIR_IN, TFT_OWNER_KNOWN},
	    {"nginx", 41, 101, TFT_DIR_IN, TFT_OWNER_KNOWN},
	    {"nginx", 41, 101, TFT_DIR_OUT, TFT_OWNER_KNOWN}, /* its upstream connect */
	    {"nginx", 42, 102, TFT_DIR_IN, TFT_OWNER_KNOWN},  /* the unit restarted: same name */
	    {"curl", 41, 200, TFT_DIR_OUT, TFT_OWNER_KNOWN},
	    {"curl", 43, 300, TFT_DIR_OUT, TFT_OWNER_KNOWN}, /* a cgroup without a name */
	    {"", 0, 0, TFT_DIR_IN, TFT_OWNER_UNKNOWN},
	    {"", 0, 0, TFT_DIR_OUT, TFT_OWNER_UNKNOWN},
	    {"", 0, 0, TFT_DIR_OUT, TFT_OWNER_NO_HOOK},
	};

	CHECK(g != NULL, "process groups made");
	if (!g)
		return;
	owner_names_learn(0, "root", 41, "/system.slice/nginx.service");
	owner_names_learn(0, "root", 42, "/system.slice/nginx.service/worker");
	s = flow_groups_sink(g);
	for (i = 0; i < sizeof(owners) / sizeof(owners[0]); i++) {
		f = crafted(id++, owners[i].dir, 80);
		f.owner.state = owners[i].state;
		f.owner.cgroup_id = owners[i].cgroup;
		f.owner.tgid = owners[i].pid;
		memcpy(f.owner.comm, owners[i].comm, strlen(owners[i].comm));
		tell(&s, &f, TFT_CHANGE_NEW, f.syn_ns);
		f.state = TFT_STATE_ACCEPTED;
		f.answer_ns = f.syn_ns + 1000;
		tell(&s, &f, TFT_CHANGE_STATE, f.answer_ns);
		f.state = TFT_STATE_CLOSED;
		f.end = i == 1 ? TFT_END_RESET_PEER : TFT_END_FIN_LOCAL;
		f.flags = TFT_FLOW_F_FIGURES;
		f.bytes_out = 100;
		tell(&s, &f, TFT_CHANGE_END, f.syn_ns + S);
	}
	CHECK_EQ(flow_groups_count(g), 5, "nginx, curl, curl in no named service, two \"?\"");
	for (i = 0; i < flow_groups_count(g); i++) {
		gr = flow_groups_at(g, i);
		if (gr->key.owner == TFT_OWNER_KNOWN && gr->key.comm_len == 5 &&
		    !memcmp(gr->key.comm, "nginx", 5)) {
			n_known++;
			CHECK(gr->key.name_len == 13 && !memcmp(gr->key.name, "nginx.service", 13),
			      "service as the SERVICE column names it");
			CHECK_EQ(gr->flows, 4, "nginx: both directions, both cgroups of the unit");
			CHECK_EQ(flow_group_clients(gr), 3, "nginx: 3 distinct pids");
			CHECK_EQ(gr->last_pid, 102, "nginx: the newest flow's pid");
			CHECK(gr->reset == 1 && gr->bytes_out == 400, "nginx: reset and bytes");
		} else if (gr->key.owner == TFT_OWNER_KNOWN && gr->key.comm_len == 4) {
			n_known++;
			CHECK_EQ(gr->flows, 1, "curl: one flow in each service");
			if (gr->key.name_len)
				CHECK(gr->last_pid == 200 && gr->key.name_len == 13,
				      "curl in nginx.service");
			else
				CHECK_EQ(gr->last_pid, 300, "curl in a cgroup without a name");
		} else if (gr->key.owner == TFT_OWNER_UNKNOWN) {
			n_unknown++;
			CHECK(gr->flows == 2 && !gr->key.comm_len && !gr->key.name_len &&
				  !gr->last_pid && !flow_group_clients(gr),
			      "unknown owners: one row, both directions, no pid");
		} else if (gr->key.owner == TFT_OWNER_NO_HOOK) {
			n_nohook++;
			CHECK_EQ(gr->flows, 1, "no owner hook: a row of its own");
		}
	}
	CHECK(n_known == 3 && n_unknown == 1 && n_nohook == 1, "every row found");
	owner_names_reset();
	flow_groups_free(g);
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
	CHECK(gr && gr->flows == 7 && gr->accepted == 5, "7 flows, 5 accepted");
	CHECK(gr && gr->half_open == 0, "pending or accepted flows are not half-open");
	CHECK(gr && flow_group_clients(gr) == 3, "3 distinct clients");
	top = gr ? flow_group_top_client(gr) : NULL;
	CHECK(top && top->count == 5 && top->addr[3] == 7, "top client 10.0.0.7 with 5");
	/* Cleared from the table: totals stay. */
	flow_pipeline_clear(p);
	CHECK(gr && gr->flows == 7 && gr->accepted == 5, "clear: totals kept");
	flow_pipeline_free(p);

	/* Eviction through the real table: a table of 2, five flows, every one still counted. */
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
		CHECK(gr && gr->flows == 5 && gr->half_open == 0, "5 flows, none half-open");
		flow_groups_free(g2);
		flow_pipeline_free(p2);
	}
	outcomes();
	held_ids();
	processes();
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
