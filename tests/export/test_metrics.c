/*
 * The metrics sink and its rendering, on flows crafted by hand: outcomes
 * counted once per flow whatever events repeat, port labels (listeners
 * seen, configured, the busiest outgoing ports, "other" for the rest and
 * never an ephemeral port), owner labels bounded to the top N, counters
 * that only grow when labels are given, the handshake histogram, and an
 * exposition with HELP and TYPE for every family.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "t.h"

#define MS 1000000ull

static uint64_t next_id = 1;

static struct tft_flow flow(uint8_t dir, uint16_t sport, uint16_t dport)
{
	struct tft_flow f = {.id = next_id++};

	f.key.family = 4;
	f.key.dir = dir;
	f.key.sport = sport;
	f.key.dport = dport;
	memcpy(f.key.saddr, "\x0a\x00\x00\x01", 4);
	memcpy(f.key.daddr, "\x0a\x00\x00\x02", 4);
	f.syn_ns = 1000 * MS;
	return f;
}

/* A flow through its life as the pipeline tells it: new, then its answer. */
static void life(struct flow_sink *s, struct tft_flow *f, uint8_t state, uint64_t hs_ns)
{
	s->changed(s->ctx, f, TFT_CHANGE_NEW, f->syn_ns);
	if (state == TFT_STATE_PENDING)
		return;
	f->state = state;
	if (state != TFT_STATE_UNANSWERED)
		f->answer_ns = f->syn_ns + hs_ns;
	s->changed(s->ctx, f, TFT_CHANGE_STATE, f->syn_ns + hs_ns);
}

static char *render(const struct metrics_counters *c)
{
	static char *buf;
	size_t len;
	FILE *out;

	free(buf);
	buf = NULL;
	out = open_memstream(&buf, &len);
	CHECK(out && metrics_render(c, out) == 0, "render");
	fclose(out);
	return buf;
}

/* The value of one exact series line "NAME{LABELS} V", or -1 when absent. */
static long long series(const char *text, const char *name_labels)
{
	size_t n = strlen(name_labels);
	const char *p = text;

	while ((p = strstr(p, name_labels))) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return atoll(p + n + 1);
		p += n;
	}
	return -1;
}

static struct metrics *make(size_t top, const uint16_t *ports, size_t n,
			    enum metrics_owner_label by)
{
	struct metrics_opts o = {
	    .top = top, .ports = ports, .n_ports = n, .eph_lo = 32768, .eph_hi = 60999, .by = by};

	return metrics_new(&o);
}

static void test_outcomes_once(void)
{
	struct metrics *m = make(10, NULL, 0, METRICS_BY_NONE);
	struct flow_sink s = metrics_sink(m);
	struct tft_flow f;
	const char *t;
	int i;

	for (i = 0; i < 5; i++) {
		f = flow(TFT_DIR_OUT, 40000 + i, 443);
		life(&s, &f, TFT_STATE_ACCEPTED, 2 * MS);
		/* Later events of the same flow never count its outcome again. */
		f.state = TFT_STATE_CLOSED;
		f.end = TFT_END_FIN_LOCAL;
		s.changed(s.ctx, &f, TFT_CHANGE_END, 0);
		s.changed(s.ctx, &f, TFT_CHANGE_UPDATE, 0);
		s.left(s.ctx, &f, FLOW_LEAVE_EVICTED);
	}
	for (i = 0; i < 3; i++) {
		f = flow(TFT_DIR_OUT, 41000 + i, 444);
		life(&s, &f, TFT_STATE_REFUSED, MS / 2);
		f.end = TFT_END_RESET_PEER; /* a refused SYN ends by RST: not a reset connection */
		s.changed(s.ctx, &f, TFT_CHANGE_END, 0);
		s.changed(s.ctx, &f, TFT_CHANGE_STATE, 0);
	}
	f = flow(TFT_DIR_IN, 50000, 22);
	life(&s, &f, TFT_STATE_UNANSWERED, 0);
	f = flow(TFT_DIR_IN, 50001, 22);
	life(&s, &f, TFT_STATE_PENDING, 0);
	/* An established connection reset by the peer. */
	f = flow(TFT_DIR_OUT, 42000, 443);
	life(&s, &f, TFT_STATE_ACCEPTED, MS);
	f.state = TFT_STATE_CLOSED;
	f.end = TFT_END_RESET_PEER;
	s.changed(s.ctx, &f, TFT_CHANGE_END, 0);
	s.changed(s.ctx, &f, TFT_CHANGE_END, 0);

	metrics_update(m, NULL);
	t = render(metrics_counters(m));
	CHECK_EQ(series(t, "tcpflowtop_flows_total{direction=\"out\"}"), 9, "out flows");
	CHECK_EQ(series(t, "tcpflowtop_flows_total{direction=\"in\"}"), 2, "in flows");
	CHECK_EQ(
	    series(t, "tcpflowtop_flow_outcomes_total{direction=\"out\",outcome=\"accepted\"}"), 6,
	    "accepted once each");
	CHECK_EQ(series(t, "tcpflowtop_flow_outcomes_total{direction=\"out\",outcome=\"refused\"}"),
		 3, "refused once each");
	CHECK_EQ(
	    series(t, "tcpflowtop_flow_outcomes_total{direction=\"in\",outcome=\"unanswered\"}"), 1,
	    "unanswered");
	CHECK_EQ(series(t, "tcpflowtop_flow_outcomes_total{direction=\"in\",outcome=\"accepted\"}"),
		 0, "pending is no outcome");
	/* 443 and 444 are the busiest outgoing ports (>= METRICS_PROMOTE_MIN flows)... */
	CHECK_EQ(series(t, "tcpflowtop_reset_total{direction=\"out\",port=\"443\"}"), 0,
		 "443 labelled at the update: the reset came before it, in other");
	CHECK_EQ(series(t, "tcpflowtop_reset_total{direction=\"out\",port=\"other\"}"), 1,
		 "one reset, counted once, refusals not among them");
	CHECK_EQ(series(t, "tcpflowtop_refused_total{direction=\"out\",port=\"other\"}"), 3,
		 "refused before the label: other");
	/* ... so from now on they count under their own label. */
	f = flow(TFT_DIR_OUT, 41100, 444);
	life(&s, &f, TFT_STATE_REFUSED, MS);
	t = render(metrics_counters(m));
	CHECK_EQ(series(t, "tcpflowtop_refused_total{direction=\"out\",port=\"444\"}"), 1,
		 "refused after the label");
	CHECK_EQ(series(t, "tcpflowtop_refused_total{direction=\"out\",port=\"other\"}"), 3,
		 "other never goes down");
	/* Histogram: 6 accepted outgoing handshakes, 5 of 2 ms and one of 1 ms. */
	CHECK_EQ(series(t, "tcpflowtop_handshake_seconds_bucket{direction=\"out\",le=\"0.001\"}"),
		 1, "le 1ms");
	CHECK_EQ(series(t, "tcpflowtop_handshake_seconds_bucket{direction=\"out\",le=\"0.0025\"}"),
		 6, "le 2.5ms, cumulative");
	CHECK_EQ(series(t, "tcpflowtop_handshake_seconds_bucket{direction=\"out\",le=\"+Inf\"}"), 6,
		 "+Inf");
	CHECK_EQ(series(t, "tcpflowtop_handshake_seconds_count{direction=\"out\"}"), 6, "count");
	CHECK(strstr(t, "tcpflowtop_handshake_seconds_sum{direction=\"out\"} 0.011000\n"),
	      "sum 11 ms");
	metrics_free(m);
}

/*
 * A flow that ended without a reset and ran again (a late answer, or the
 * final ACK of a half-open one) counts the reset it ends with later.
 */
static void test_reset_after_reopen(void)
{
	static const uint16_t cfg[] = {5432};
	struct metrics *m = make(10, cfg, 1, METRICS_BY_NONE);
	struct flow_sink s = metrics_sink(m);
	struct tft_flow f;
	const char *t;

	/* Unanswered at its timeout, reopened by a late SYN-ACK, then reset. */
	f = flow(TFT_DIR_OUT, 40000, 5432);
	life(&s, &f, TFT_STATE_UNANSWERED, 0);
	f.end = TFT_END_TIMEOUT;
	s.changed(s.ctx, &f, TFT_CHANGE_END, 0);
	f.state = TFT_STATE_ACCEPTED;
	f.end = TFT_END_NONE;
	f.answer_ns = f.syn_ns + 3000 * MS;
	s.changed(s.ctx, &f, TFT_CHANGE_STATE, 0);
	f.state = TFT_STATE_CLOSED;
	f.end = TFT_END_RESET_PEER;
	s.changed(s.ctx, &f, TFT_CHANGE_END, 0);
	/* Half-open at its timeout, then its socket closed by a reset: one END each. */
	f = flow(TFT_DIR_IN, 50000, 5432);
	life(&s, &f, TFT_STATE_ACCEPTED, MS);
	f.state = TFT_STATE_HALF_OPEN;
	f.end = TFT_END_HALF_OPEN;
	s.changed(s.ctx, &f, TFT_CHANGE_END, 0);
	f.state = TFT_STATE_CLOSED;
	f.end = TFT_END_RESET_LOCAL;
	s.changed(s.ctx, &f, TFT_CHANGE_END, 0);

	t = render(metrics_counters(m));
	CHECK_EQ(series(t, "tcpflowtop_reset_total{direction=\"out\",port=\"5432\"}"), 1,
		 "unanswered, answered late, reset: one reset");
	CHECK_EQ(series(t, "tcpflowtop_reset_total{direction=\"in\",port=\"5432\"}"), 1,
		 "half-open, then reset: one reset");
	metrics_free(m);
}

static void test_port_labels(void)
{
	static const uint16_t cfg[] = {33000}; /* ephemeral, but configured: labelled */
	struct metrics *m = make(3, cfg, 1, METRICS_BY_NONE);
	struct flow_sink s = metrics_sink(m);
	struct tft_flow f;
	const char *t;
	char want[128];
	int i, p;

	/* Incoming: refused at a port nobody listens on (a scan) stays other. */
	for (p = 1; p <= 200; p++) {
		f = flow(TFT_DIR_IN, 50000, (uint16_t)p);
		life(&s, &f, TFT_STATE_REFUSED, MS);
	}
	/* A listener seen (accepted), then refused there: its own label. */
	f = flow(TFT_DIR_IN, 50001, 8080);
	life(&s, &f, TFT_STATE_ACCEPTED, MS);
	f = flow(TFT_DIR_IN, 50002, 8080);
	life(&s, &f, TFT_STATE_REFUSED, MS);
	/* A listener on an ephemeral port: accepted, but no label. */
	f = flow(TFT_DIR_IN, 50003, 45000);
	life(&s, &f, TFT_STATE_ACCEPTED, MS);
	f = flow(TFT_DIR_IN, 50004, 45000);
	life(&s, &f, TFT_STATE_REFUSED, MS);
	f = flow(TFT_DIR_IN, 50005, 33000);
	life(&s, &f, TFT_STATE_REFUSED, MS);
	/* Outgoing: ports 1..6 with 10+p flows each, and an ephemeral one busiest of all. */
	for (p = 1; p <= 6; p++)
		for (i = 0; i < 10 + p; i++) {
			f = flow(TFT_DIR_OUT, 40000, (uint16_t)(9000 + p));
			life(&s, &f, TFT_STATE_ACCEPTED, MS);
		}
	for (i = 0; i < 100; i++) {
		f = flow(TFT_DIR_OUT, 40000, 50505);
		life(&s, &f, TFT_STATE_ACCEPTED, MS);
	}
	metrics_update(m, NULL);
	metrics_update(m, NULL); /* a second update gives no more: the slots are full */
	for (p = 1; p <= 6; p++) {
		f = flow(TFT_DIR_OUT, 40000, (uint16_t)(9000 + p));
		life(&s, &f, TFT_STATE_REFUSED, MS);
	}
	f = flow(TFT_DIR_OUT, 40000, 50505);
	life(&s, &f, TFT_STATE_REFUSED, MS);
	t = render(metrics_counters(m));

	CHECK_EQ(series(t, "tcpflowtop_refused_total{direction=\"in\",port=\"other\"}"), 201,
		 "scan and ephemeral listener in other");
	CHECK_EQ(series(t, "tcpflowtop_refused_total{direction=\"in\",port=\"8080\"}"), 1,
		 "listener labelled");
	CHECK_EQ(series(t, "tcpflowtop_refused_total{direction=\"in\",port=\"33000\"}"), 1,
		 "configured port labelled");
	CHECK_EQ(series(t, "tcpflowtop_refused_total{direction=\"in\",port=\"45000\"}"), -1,
		 "ephemeral listener: no label");
	/* Top 3 outgoing: 9006, 9005, 9004; not 50505 (ephemeral), not 9001-9003. */
	for (p = 1; p <= 6; p++) {
		snprintf(want, sizeof(want),
			 "tcpflowtop_refused_total{direction=\"out\",port=\"%d\"}", 9000 + p);
		CHECK_EQ(series(t, want), p >= 4 ? 1 : -1, "top 3 outgoing ports");
	}
	CHECK_EQ(series(t, "tcpflowtop_refused_total{direction=\"out\",port=\"other\"}"), 4,
		 "the rest in other");
	CHECK(!strstr(t, "port=\"50505\""), "an ephemeral port is never a label");
	CHECK(!strstr(t, "port=\"40000\""), "a source port is never a label");
	/* No port of the scan appears anywhere in the exposition. */
	for (p = 1; p <= 200; p++) {
		snprintf(want, sizeof(want), "port=\"%d\"", p);
		CHECK(!strstr(t, want), "scanned port absent");
	}
	metrics_free(m);
}

static void test_owner_labels(void)
{
	struct metrics *m = make(2, NULL, 0, METRICS_BY_PROCESS);
	struct flow_sink s = metrics_sink(m);
	static const char *const names[] = {"nginx", "curl", "evil\"\\x"};
	struct tft_flow f;
	const char *t;
	int i, j;

	for (j = 0; j < 3; j++)
		for (i = 0; i < 10 - 3 * j; i++) {
			f = flow(TFT_DIR_OUT, 40000, 443);
			f.owner.state = TFT_OWNER_KNOWN;
			snprintf(f.owner.comm, sizeof(f.owner.comm), "%s", names[j]);
			life(&s, &f, TFT_STATE_ACCEPTED, MS);
		}
	/* 300 distinct processes: bounded, all of them in other. */
	for (i = 0; i < 300; i++) {
		f = flow(TFT_DIR_OUT, 40000, 443);
		f.owner.state = TFT_OWNER_KNOWN;
		snprintf(f.owner.comm, sizeof(f.owner.comm), "p%d", i);
		life(&s, &f, TFT_STATE_ACCEPTED, MS);
	}
	metrics_update(m, NULL);
	f = flow(TFT_DIR_OUT, 40000, 443);
	f.owner.state = TFT_OWNER_KNOWN;
	snprintf(f.owner.comm, sizeof(f.owner.comm), "nginx");
	life(&s, &f, TFT_STATE_ACCEPTED, MS);
	t = render(metrics_counters(m));
	CHECK_EQ(
	    series(t, "tcpflowtop_flows_by_process_total{direction=\"out\",process=\"nginx\"}"), 1,
	    "top 1 labelled, counted from the label on");
	CHECK_EQ(series(t, "tcpflowtop_flows_by_process_total{direction=\"out\",process=\"curl\"}"),
		 0, "top 2 labelled");
	CHECK(!strstr(t, "evil"), "third process: other");
	CHECK_EQ(
	    series(t, "tcpflowtop_flows_by_process_total{direction=\"out\",process=\"other\"}"),
	    10 + 7 + 4 + 300, "everything before the labels and the rest");
	metrics_free(m);

	/* Quotes and backslashes in a label value are escaped for the exposition. */
	m = make(1, NULL, 0, METRICS_BY_PROCESS);
	s = metrics_sink(m);
	for (i = 0; i < 3; i++) {
		f = flow(TFT_DIR_IN, 40000, 22);
		f.owner.state = TFT_OWNER_KNOWN;
		snprintf(f.owner.comm, sizeof(f.owner.comm), "a\"b\\c\n");
		life(&s, &f, TFT_STATE_ACCEPTED, MS);
	}
	metrics_update(m, NULL);
	t = render(metrics_counters(m));
	CHECK(strstr(t, "process=\"a\\\"b\\\\x5cc\\\\x0a\"} 0\n"),
	      "label escaped: \\xHH from the field table, then \\\" and \\\\");
	metrics_free(m);
}

static void test_help_type(void)
{
	struct metrics *m = make(10, NULL, 0, METRICS_BY_SERVICE);
	struct flow_stats st = {0};
	const char *t, *p;
	char name[128], help[160], type[160];
	size_t n;

	st.names_on = true;
	st.names.reverse_on = true;
	st.counters[TFT_CNT_RB_FULL] = 7;
	st.flows.evicted = 5;
	metrics_update(m, &st);
	metrics_set_ipfix(m, 1, 2, 3);
	t = render(metrics_counters(m));
	CHECK_EQ(series(t, "tcpflowtop_events_lost_total"), 7, "lost");
	CHECK_EQ(series(t, "tcpflowtop_flows_evicted_total"), 5, "evicted");
	CHECK_EQ(series(t, "tcpflowtop_ipfix_dropped_total"), 2, "ipfix dropped");
	/* Every sample's family has HELP and TYPE before it. */
	for (p = t; *p; p = strchr(p, '\n') + 1) {
		if (*p == '#')
			continue;
		n = strcspn(p, "{ ");
		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		if (strstr(name, "_bucket") || strstr(name, "_sum") || strstr(name, "_count"))
			*strrchr(name, '_') = '\0';
		snprintf(help, sizeof(help), "# HELP %s ", name);
		snprintf(type, sizeof(type), "# TYPE %s ", name);
		CHECK(strstr(t, help) && strstr(t, help) < p, "HELP first");
		CHECK(strstr(t, type) && strstr(t, type) < p, "TYPE first");
	}
	metrics_free(m);
}

static void test_ephemeral_range(void)
{
	char path[] = "/tmp/tft-eph-XXXXXX";
	uint16_t lo = 0, hi = 0;
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fprintf(f, "32768\t60999\n");
	fclose(f);
	CHECK_EQ(metrics_ephemeral_range(path, &lo, &hi), 0, "range read");
	CHECK_EQ(lo, 32768, "lo");
	CHECK_EQ(hi, 60999, "hi");
	unlink(path);
	CHECK(metrics_ephemeral_range(path, &lo, &hi) < 0, "missing file");
}

/* A scrape's rendering of counters for 100,000 flows' worth: well under 10 ms. */
static void test_render_speed(void)
{
	struct metrics *m = make(METRICS_MAX_TOP, NULL, 0, METRICS_BY_PROCESS);
	struct flow_sink s = metrics_sink(m);
	struct timespec a, b;
	struct tft_flow f;
	double ms;
	char *buf = NULL;
	size_t len;
	FILE *out;
	int i;

	for (i = 0; i < 100000; i++) {
		f = flow(i & 1 ? TFT_DIR_OUT : TFT_DIR_IN, 40000, (uint16_t)(1 + i % 1000));
		f.owner.state = TFT_OWNER_KNOWN;
		snprintf(f.owner.comm, sizeof(f.owner.comm), "proc%d", i % 100);
		life(&s, &f, i % 3 ? TFT_STATE_ACCEPTED : TFT_STATE_REFUSED,
		     (uint64_t)(i % 50) * MS);
		s.left(s.ctx, &f, FLOW_LEAVE_EVICTED);
	}
	metrics_update(m, NULL);
	clock_gettime(CLOCK_MONOTONIC, &a);
	out = open_memstream(&buf, &len);
	metrics_render(metrics_counters(m), out);
	fclose(out);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
	fprintf(stderr, "render: %zu bytes in %.3f ms\n", len, ms);
	CHECK(ms < 10, "a scrape renders in under 10 ms");
	CHECK_EQ(series(buf, "tcpflowtop_flows_total{direction=\"out\"}"), 50000, "all counted");
	free(buf);
	metrics_free(m);
}

int main(void)
{
	test_outcomes_once();
	test_reset_after_reopen();
	test_port_labels();
	test_owner_labels();
	test_help_type();
	test_ephemeral_range();
	test_render_speed();
	return t_done();
}
