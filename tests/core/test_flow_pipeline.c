/*
 * The flow pipeline: sinks hear every change in order, every evicted flow in
 * its last state, losses once per increase; the record file holds what the
 * pipeline took, and a replay of it through a second pipeline tells the
 * sinks the same story.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flow_pipeline.h"
#include "owner_names.h"
#include "replay.h"
#include "t.h"

#define LOG_MAX 64

struct log {
	char line[LOG_MAX][64];
	size_t n;
};

static void add(struct log *l, const char *fmt, unsigned long long a, unsigned long long b)
{
	if (l->n < LOG_MAX)
		snprintf(l->line[l->n++], sizeof(l->line[0]), fmt, a, b);
}

static void sink_changed(void *ctx, const struct tft_flow *f, enum tft_flow_change change,
			 uint64_t at_ns)
{
	(void)at_ns;
	add(ctx, change == TFT_CHANGE_NEW ? "new %llu state %llu" : "change %llu state %llu", f->id,
	    f->state);
}

static void sink_left(void *ctx, const struct tft_flow *f, enum flow_leave why)
{
	add(ctx, "left %llu state %llu", f->id, f->state);
	CHECK_EQ(why, FLOW_LEAVE_EVICTED, "evicted");
}

static void sink_lost(void *ctx, uint64_t lost, uint64_t at_ns)
{
	add(ctx, "lost %llu at %llu", lost, at_ns);
}

static void sink_ignored(void *ctx, uint64_t answers, uint64_t at_ns)
{
	add(ctx, "ignored %llu at %llu", answers, at_ns);
}

static struct tft_tcp_event tcp(uint8_t hook, uint8_t flags, uint16_t sport, uint16_t dport,
				uint32_t seq, uint32_t ack, uint64_t ts)
{
	struct tft_tcp_event e = {.type = TFT_REC_TCP, .hook = hook, .flags = flags, .family = 4};

	e.sport = htons(sport);
	e.dport = htons(dport);
	inet_pton(AF_INET, hook == TFT_HOOK_EGRESS ? "10.0.0.1" : "10.0.0.2", e.saddr);
	inet_pton(AF_INET, hook == TFT_HOOK_EGRESS ? "10.0.0.2" : "10.0.0.1", e.daddr);
	e.seq = seq;
	e.ack = ack;
	e.ts_ns = ts;
	return e;
}

/* Three flows through a table of two: the first is answered, then evicted. */
static void feed(struct flow_pipeline *p)
{
	struct tft_tcp_event e;
	uint64_t c[TFT_CNT_MAX] = {0};

	e = tcp(TFT_HOOK_EGRESS, TFT_TCP_SYN, 40000, 443, 100, 0, 10);
	flow_pipeline_tcp(p, &e);
	e = tcp(TFT_HOOK_INGRESS, TFT_TCP_SYN | TFT_TCP_ACK, 443, 40000, 7, 101, 20);
	flow_pipeline_tcp(p, &e);
	e = tcp(TFT_HOOK_EGRESS, TFT_TCP_SYN, 40001, 443, 200, 0, 30);
	flow_pipeline_tcp(p, &e);
	c[TFT_CNT_RB_FULL] = 5;
	flow_pipeline_counters(p, c, 35);
	flow_pipeline_counters(p, c, 36); /* unchanged: nothing told */
	c[TFT_CNT_DNS_TRUNC] = 1;
	flow_pipeline_counters(p, c, 37); /* moved, but no new loss */
	c[TFT_CNT_DNS_UNMATCHED] = 2;
	flow_pipeline_counters(p, c, 38); /* answers to no query: ignored, told */
	e = tcp(TFT_HOOK_EGRESS, TFT_TCP_SYN, 40002, 443, 300, 0, 40);
	flow_pipeline_tcp(p, &e);
	c[TFT_CNT_RB_FULL] = 7;
	flow_pipeline_counters(p, c, 45);
}

static const char *const want[] = {
    "new 1 state 0",   "change 1 state 1", "new 2 state 0", "lost 5 at 35",
    "ignored 2 at 38", "left 1 state 1",   "new 3 state 0", "lost 7 at 45",
};

static void check_log(const struct log *l, const char *what)
{
	size_t i, n = sizeof(want) / sizeof(want[0]);

	CHECK_EQ(l->n, n, what);
	for (i = 0; i < n && i < l->n; i++)
		CHECK_STR(l->line[i], want[i], what);
}

static void on_tcp(const struct tft_tcp_event *ev, void *ctx)
{
	flow_pipeline_tcp(ctx, ev);
}

static void on_counters(const struct record_counters *c, void *ctx)
{
	flow_pipeline_counters(ctx, c->total, c->at_ns);
}

static void on_owner(const struct record_owner *o, void *ctx)
{
	char user[RECORD_OWNER_USER_MAX + 1], cg[RECORD_OWNER_CGROUP_MAX + 1];

	snprintf(user, sizeof(user), "%.*s", (int)o->user_len, o->user);
	snprintf(cg, sizeof(cg), "%.*s", (int)o->cgroup_len, o->cgroup);
	flow_pipeline_owner(ctx, &o->owner, user, cg);
}

/* The flow a SYN's owner went to, after the pipeline took both. */
static void check_owner(struct flow_pipeline *p, uint64_t id, uint8_t state, const char *what)
{
	const struct tft_flow *f = flow_table_by_id(flow_pipeline_table(p), id);

	CHECK(f != NULL, what);
	if (!f)
		return;
	CHECK_EQ(f->owner.state, state, what);
	if (state != TFT_OWNER_KNOWN)
		return;
	CHECK_EQ(f->owner.tgid, 4242, what);
	CHECK_EQ(f->owner.uid, 1001, what);
	CHECK_EQ(f->owner.cgroup_id, 777, what);
	CHECK(!memcmp(f->owner.comm, "curl\0", 5), what);
}

/*
 * Owners: the SYN after one takes it, the next goes without; -w keeps the
 * owner with the names this host gave it, and -r gives them back on a host
 * that knows none of them. Without the hook, flows say so.
 */
static void test_owners(void)
{
	char path[] = "/tmp/tft-test-owner.XXXXXX", err[256];
	struct record_file_info info = {.start_ns = 1}, rinfo;
	struct flow_pipeline_opts opts = {.capacity = 8};
	struct tft_owner o = {.tgid = 4242, .pid = 4243, .uid = 1001, .cgroup_id = 777};
	struct tft_tcp_event e;
	struct flow_pipeline *p;
	struct replay *r;
	uint64_t next;
	int fd = mkstemp(path);

	if (fd < 0)
		return;
	close(fd);
	unlink(path);
	memcpy(o.comm, "curl", 4);
	owner_names_learn(1001, "alice", 777, "/system.slice/x.service");
	opts.rec = record_writer_new(path, &info, (uid_t)-1, (gid_t)-1, err, sizeof(err));
	p = flow_pipeline_new(&opts);
	CHECK(p && opts.rec, "owner pipeline");
	if (!p || !opts.rec)
		return;
	flow_pipeline_owner(p, &o, NULL, NULL);
	e = tcp(TFT_HOOK_EGRESS, TFT_TCP_SYN, 40000, 443, 100, 0, 10);
	flow_pipeline_tcp(p, &e);
	e = tcp(TFT_HOOK_EGRESS, TFT_TCP_SYN, 40001, 443, 200, 0, 20);
	flow_pipeline_tcp(p, &e);
	check_owner(p, 1, TFT_OWNER_KNOWN, "live: the SYN after an owner has it");
	check_owner(p, 2, TFT_OWNER_UNKNOWN, "live: the next SYN has none");
	flow_pipeline_flush(p);
	flow_pipeline_free(p);
	CHECK_EQ(record_writer_free(opts.rec), 0, "owner file closed");

	owner_names_reset();
	CHECK(owner_names_user(1001) == NULL, "names forgotten before the replay");
	opts.rec = NULL;
	p = flow_pipeline_new(&opts);
	{
		struct replay_cbs cbs = {on_tcp, NULL, NULL, p, on_owner, NULL};

		r = replay_new(path, false, &cbs, &rinfo, err, sizeof(err));
		CHECK(r != NULL, "owner replay opens");
		if (r)
			CHECK_EQ(replay_step(r, 0, 1000, &next, err, sizeof(err)), 0,
				 "owner replay");
		CHECK_EQ(replay_records(r), 3, "an owner and two TCP records");
		replay_free(r);
	}
	check_owner(p, 1, TFT_OWNER_KNOWN, "replayed: the owner came back");
	check_owner(p, 2, TFT_OWNER_UNKNOWN, "replayed: still none for the second");
	CHECK_STR(owner_names_user(1001) ? owner_names_user(1001) : "", "alice", "recorded user");
	CHECK_STR(owner_names_cgroup(777) ? owner_names_cgroup(777) : "", "/system.slice/x.service",
		  "recorded cgroup");
	flow_pipeline_free(p);
	unlink(path);

	p = flow_pipeline_new(&opts);
	flow_pipeline_owners_off(p);
	e = tcp(TFT_HOOK_EGRESS, TFT_TCP_SYN, 40000, 443, 100, 0, 10);
	flow_pipeline_tcp(p, &e);
	check_owner(p, 1, TFT_OWNER_NO_HOOK, "no hook: the flow says so");
	flow_pipeline_free(p);
	owner_names_reset();
}

int main(void)
{
	char path[] = "/tmp/tft-test-pipeline.XXXXXX", err[256];
	struct log live = {0}, replayed = {0};
	struct flow_sink sink = {sink_changed, sink_left, sink_lost, sink_ignored, &live, NULL};
	struct record_file_info info = {.start_ns = 1}, rinfo;
	struct flow_pipeline_opts opts = {.capacity = 2};
	struct flow_pipeline *p;
	struct flow_stats st;
	struct replay *r;
	uint64_t next;
	int fd = mkstemp(path);

	if (fd < 0)
		return 1;
	close(fd);
	unlink(path);
	opts.rec = record_writer_new(path, &info, (uid_t)-1, (gid_t)-1, err, sizeof(err));
	CHECK(opts.rec != NULL, "record file");
	p = flow_pipeline_new(&opts);
	CHECK(p != NULL, "pipeline");
	if (!p || !opts.rec)
		return t_done();
	CHECK_EQ(flow_pipeline_add_sink(p, &sink), 0, "sink added");
	feed(p);
	check_log(&live, "live events");
	flow_pipeline_stats(p, &st);
	CHECK_EQ(st.flows.seen, 3, "stats: seen");
	CHECK_EQ(st.flows.evicted, 1, "stats: evicted");
	CHECK_EQ(st.held, 2, "stats: held");
	/* Both pending flows were held when events were lost: unsure, not unanswered. */
	CHECK_EQ(st.unanswered, 0, "stats: unanswered");
	CHECK_EQ(st.unsure, 2, "stats: unsure");
	CHECK_EQ(st.flows.evicted_pending, 0, "stats: the evicted flow had its answer");
	CHECK_EQ(st.counters[TFT_CNT_RB_FULL], 7, "stats: lost");
	CHECK_EQ(st.counters[TFT_CNT_DNS_TRUNC], 1, "stats: truncated");
	CHECK(!st.names_on, "stats: no names");
	CHECK_EQ(flow_pipeline_flush(p), 0, "flushed");
	flow_pipeline_free(p);
	CHECK_EQ(record_writer_free(opts.rec), 0, "record file closed");

	/* The same story from the file. */
	opts.rec = NULL;
	p = flow_pipeline_new(&opts);
	sink.ctx = &replayed;
	flow_pipeline_add_sink(p, &sink);
	{
		struct replay_cbs cbs = {on_tcp, NULL, on_counters, p, NULL, NULL};

		r = replay_new(path, false, &cbs, &rinfo, err, sizeof(err));
		CHECK(r != NULL, "replay opens");
		if (r) {
			CHECK_EQ(replay_step(r, 0, 1000, &next, err, sizeof(err)), 0,
				 "replayed to the end");
			CHECK_EQ(replay_records(r), 8, "4 TCP records and 4 counter changes");
		}
	}
	check_log(&replayed, "replayed events");
	replay_free(r);
	flow_pipeline_free(p);
	unlink(path);

	/* A full sink list says so. */
	p = flow_pipeline_new(&opts);
	for (int i = 0; i < FLOW_PIPELINE_MAX_SINKS; i++)
		flow_pipeline_add_sink(p, &sink);
	CHECK(flow_pipeline_add_sink(p, &sink) < 0, "too many sinks refused");
	flow_pipeline_free(p);
	test_owners();
	return t_done();
}
