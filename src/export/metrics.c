/* Prometheus counters from the pipeline's sink events, with bounded labels. */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "flow_fields.h"

const double metrics_hs_bounds[METRICS_HS_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

/* Per flow held: what was counted already, so a repeated event counts once. */
#define SEEN_OUTCOME 0x01
#define SEEN_RESET 0x02

/* Open addressing, linear probing, keys id + 1 (0: empty), backward-shift deletion. */
struct id_map {
	uint64_t *keys; /* owned */
	uint8_t *vals;	/* owned */
	size_t cap;	/* a power of two */
	size_t n;
};

struct owner_candidate {
	uint32_t hash;
	uint64_t count; /* new flows since start */
	int slot;	/* index in owners[dir], -1: none yet */
	char name[METRICS_LABEL_MAX];
};

struct metrics {
	struct metrics_counters c;
	size_t top;
	uint16_t eph_lo, eph_hi;
	size_t learnt[METRICS_DIRS];	      /* slots given beyond the configured ports */
	uint8_t slot_of[METRICS_DIRS][65536]; /* port -> slot index + 1, 0: none */
	uint32_t out_seen[65536];	      /* outgoing new flows by destination port */
	uint64_t out_scanned;		      /* c.flows_new[METRICS_OUT] at the last port scan */
	struct id_map flows;
	size_t ncand[METRICS_DIRS];
	struct owner_candidate cand[METRICS_DIRS][METRICS_OWNER_CANDIDATES];
};

static size_t id_hash(uint64_t k, size_t cap)
{
	k *= 0x9e3779b97f4a7c15ull;
	return (size_t)(k >> 32) & (cap - 1);
}

static int id_map_grow(struct id_map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1024, i, j;
	uint64_t *keys = calloc(cap, sizeof(*keys));
	uint8_t *vals = calloc(cap, 1);

	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	for (i = 0; i < m->cap; i++) {
		if (!m->keys[i])
			continue;
		for (j = id_hash(m->keys[i], cap); keys[j]; j = (j + 1) & (cap - 1))
			;
		keys[j] = m->keys[i];
		vals[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	m->keys = keys;
	m->vals = vals;
	m->cap = cap;
	return 0;
}

/* The value slot of id, inserting it (value 0) when add; NULL when absent or out of memory. */
static uint8_t *id_map_get(struct id_map *m, uint64_t id, bool add)
{
	uint64_t k = id + 1;
	size_t i;

	if (add && (m->n + 1) * 2 > m->cap && id_map_grow(m))
		return NULL;
	if (!m->cap)
		return NULL;
	for (i = id_hash(k, m->cap); m->keys[i]; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == k)
			return &m->vals[i];
	if (!add)
		return NULL;
	m->keys[i] = k;
	m->vals[i] = 0;
	m->n++;
	return &m->vals[i];
}

static void id_map_del(struct id_map *m, uint64_t id)
{
	uint64_t k = id + 1;
	size_t i, j, h, mask = m->cap - 1;

	if (!m->cap)
		return;
	for (i = id_hash(k, m->cap); m->keys[i] != k; i = (i + 1) & mask)
		if (!m->keys[i])
			return;
	/* Pull later entries of the run back so no lookup stops at the hole. */
	for (j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
		h = id_hash(m->keys[j], m->cap);
		if (((j - h) & mask) >= ((j - i) & mask)) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			i = j;
		}
	}
	m->keys[i] = 0;
	m->n--;
}

static bool ephemeral(const struct metrics *m, uint16_t port)
{
	return m->eph_hi && port >= m->eph_lo && port <= m->eph_hi;
}

static int add_port_slot(struct metrics *m, int dir, uint16_t port)
{
	size_t n = m->c.nports[dir];

	if (m->slot_of[dir][port] || n >= METRICS_PORT_SLOTS)
		return -ENOSPC;
	m->c.ports[dir][n] = (struct metrics_port_slot){.port = port};
	m->c.nports[dir] = n + 1;
	m->slot_of[dir][port] = (uint8_t)(n + 1);
	return 0;
}

struct metrics *metrics_new(const struct metrics_opts *opts)
{
	struct metrics *m;
	size_t i;
	int d;

	if (opts->top < 1 || opts->top > METRICS_MAX_TOP || opts->n_ports > METRICS_MAX_PORTS) {
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->top = opts->top;
	m->eph_lo = opts->eph_lo;
	m->eph_hi = opts->eph_hi;
	m->c.by = opts->by;
	for (d = 0; d < METRICS_DIRS; d++)
		for (i = 0; i < opts->n_ports; i++)
			add_port_slot(m, d, opts->ports[i]);
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	free(m->flows.keys);
	free(m->flows.vals);
	free(m);
}

static int dir_of(const struct tft_flow *f)
{
	return f->key.dir == TFT_DIR_IN ? METRICS_IN : METRICS_OUT;
}

static struct metrics_port_slot *port_slot(struct metrics *m, int dir, uint16_t port)
{
	uint8_t s = m->slot_of[dir][port];

	return s ? &m->c.ports[dir][s - 1] : &m->c.port_other[dir];
}

static uint32_t str_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

/* Counts a new flow under its owner's label, or other. */
static void count_owner(struct metrics *m, int dir, const struct tft_flow *f)
{
	enum flow_field id = m->c.by == METRICS_BY_SERVICE ? FLOW_FIELD_SERVICE : FLOW_FIELD_COMM;
	struct flow_field_ctx ctx = {.flow = f, .at_ns = f->syn_ns};
	char name[METRICS_LABEL_MAX];
	struct owner_candidate *c;
	uint32_t h;
	size_t i;

	flow_field_render(id, &ctx, FLOW_TARGET_TEXT, name, sizeof(name));
	if (!name[0])
		snprintf(name, sizeof(name), "unknown");
	h = str_hash(name);
	for (i = 0; i < m->ncand[dir]; i++) {
		c = &m->cand[dir][i];
		if (c->hash == h && !strcmp(c->name, name))
			break;
	}
	if (i == m->ncand[dir]) {
		if (i == METRICS_OWNER_CANDIDATES) {
			m->c.owner_other[dir]++;
			return;
		}
		c = &m->cand[dir][m->ncand[dir]++];
		*c = (struct owner_candidate){.hash = h, .slot = -1};
		memcpy(c->name, name, sizeof(name));
	}
	c->count++;
	if (c->slot >= 0)
		m->c.owners[dir][c->slot].flows++;
	else
		m->c.owner_other[dir]++;
}

static int outcome_of(uint8_t state)
{
	switch (state) {
	case TFT_STATE_ACCEPTED:
	case TFT_STATE_ESTABLISHED:
	case TFT_STATE_CLOSED:
	case TFT_STATE_HALF_OPEN:
		return METRICS_ACCEPTED;
	case TFT_STATE_REFUSED:
		return METRICS_REFUSED;
	case TFT_STATE_UNANSWERED:
		return METRICS_UNANSWERED;
	default:
		return -1;
	}
}

static void count_handshake(struct metrics *m, int dir, const struct tft_flow *f)
{
	uint64_t us;
	int b;

	if (!f->answer_ns || f->answer_ns < f->syn_ns)
		return;
	us = (f->answer_ns - f->syn_ns) / 1000;
	for (b = 0; b < METRICS_HS_BUCKETS && (double)us > metrics_hs_bounds[b] * 1e6; b++)
		;
	m->c.hs_count[dir][b]++;
	m->c.hs_sum_us[dir] += us;
}

/* The flow's outcome, the first time it has one. */
static void count_outcome(struct metrics *m, int dir, const struct tft_flow *f, uint8_t *seen)
{
	uint16_t port = f->key.dport;
	int o = outcome_of(f->state);

	if (o < 0 || (*seen & SEEN_OUTCOME))
		return;
	*seen |= SEEN_OUTCOME;
	m->c.outcome[dir][o]++;
	switch (o) {
	case METRICS_ACCEPTED:
		/* Someone listens there: a service port of this host, worth a label. */
		if (dir == METRICS_IN && !m->slot_of[dir][port] && !ephemeral(m, port) &&
		    m->learnt[dir] < METRICS_LISTEN_SLOTS && !add_port_slot(m, dir, port))
			m->learnt[dir]++;
		count_handshake(m, dir, f);
		break;
	case METRICS_REFUSED:
		port_slot(m, dir, port)->n[METRICS_FAIL_REFUSED]++;
		break;
	case METRICS_UNANSWERED:
		port_slot(m, dir, port)->n[METRICS_FAIL_UNANSWERED]++;
		break;
	}
}

/*
 * A reset, at the change that ends the flow. Only a counted reset marks the
 * flow: an earlier end of another kind (unanswered, half-open) is undone when
 * a late answer or ACK reopens it, and its reset still comes.
 */
static void count_reset(struct metrics *m, int dir, const struct tft_flow *f,
			enum tft_flow_change change, uint8_t *seen)
{
	if (!flow_change_ends(f, change) || (*seen & SEEN_RESET) ||
	    (f->end != TFT_END_RESET_PEER && f->end != TFT_END_RESET_LOCAL))
		return;
	/* A refused SYN ends by RST too: counted as refused, not as a reset connection. */
	if (f->state == TFT_STATE_REFUSED)
		return;
	*seen |= SEEN_RESET;
	port_slot(m, dir, f->key.dport)->n[METRICS_FAIL_RESET]++;
}

static void on_changed(void *ctx, const struct tft_flow *f, enum tft_flow_change change,
		       uint64_t at_ns)
{
	struct metrics *m = ctx;
	int dir = dir_of(f);
	uint8_t *seen;

	(void)at_ns;
	if (change == TFT_CHANGE_NEW) {
		m->c.flows_new[dir]++;
		if (dir == METRICS_OUT && m->out_seen[f->key.dport] < UINT32_MAX)
			m->out_seen[f->key.dport]++;
		if (m->c.by != METRICS_BY_NONE)
			count_owner(m, dir, f);
	}
	/* Out of memory: the flow's later outcome goes uncounted rather than twice. */
	seen = id_map_get(&m->flows, f->id, change == TFT_CHANGE_NEW);
	if (!seen)
		return;
	count_outcome(m, dir, f, seen);
	count_reset(m, dir, f, change, seen);
}

static void on_left(void *ctx, const struct tft_flow *f, enum flow_leave why)
{
	struct metrics *m = ctx;

	(void)why;
	id_map_del(&m->flows, f->id);
}

struct flow_sink metrics_sink(struct metrics *m)
{
	return (struct flow_sink){.changed = on_changed, .left = on_left, .ctx = m};
}

/* Outgoing destination ports that earned a label: the busiest first, while slots remain. */
static void promote_ports(struct metrics *m)
{
	uint16_t best[METRICS_MAX_TOP];
	size_t free_slots = m->top - m->learnt[METRICS_OUT], nbest = 0, i, j;
	uint32_t p;

	/* No outgoing flow since the last scan: it left nothing to promote. */
	if (!free_slots || m->out_scanned == m->c.flows_new[METRICS_OUT])
		return;
	m->out_scanned = m->c.flows_new[METRICS_OUT];
	for (p = 0; p < 65536; p++) {
		uint32_t n = m->out_seen[p];

		if (n < METRICS_PROMOTE_MIN || m->slot_of[METRICS_OUT][p] ||
		    ephemeral(m, (uint16_t)p))
			continue;
		if (nbest == free_slots && n <= m->out_seen[best[nbest - 1]])
			continue;
		/* Insert in order, busiest first; ties keep the lower port. */
		i = nbest < free_slots ? nbest++ : nbest - 1;
		for (j = i; j > 0 && m->out_seen[best[j - 1]] < n; j--)
			best[j] = best[j - 1];
		best[j] = (uint16_t)p;
	}
	for (i = 0; i < nbest; i++)
		if (!add_port_slot(m, METRICS_OUT, best[i]))
			m->learnt[METRICS_OUT]++;
}

static void promote_owners(struct metrics *m, int dir)
{
	while (m->c.nowners[dir] < m->top) {
		struct owner_candidate *best = NULL, *c;
		size_t i;

		for (i = 0; i < m->ncand[dir]; i++) {
			c = &m->cand[dir][i];
			if (c->slot < 0 && c->count >= METRICS_PROMOTE_MIN &&
			    (!best || c->count > best->count))
				best = c;
		}
		if (!best)
			return;
		best->slot = (int)m->c.nowners[dir]++;
		m->c.owners[dir][best->slot] = (struct metrics_owner_slot){0};
		memcpy(m->c.owners[dir][best->slot].name, best->name, METRICS_LABEL_MAX);
	}
}

void metrics_update(struct metrics *m, const struct flow_stats *st)
{
	promote_ports(m);
	if (m->c.by != METRICS_BY_NONE) {
		promote_owners(m, METRICS_IN);
		promote_owners(m, METRICS_OUT);
	}
	if (!st)
		return;
	m->c.events_lost = st->counters[TFT_CNT_RB_FULL];
	m->c.flows_evicted = st->flows.evicted;
	m->c.evicted_pending = st->flows.evicted_pending;
	m->c.flows_held = st->held;
	m->c.capacity = st->capacity;
	m->c.unanswered_held = st->unanswered;
	m->c.unsure_held = st->unsure;
	m->c.names_on = st->names_on;
	m->c.dns_answers = st->names.answers;
	m->c.dns_malformed = st->names.malformed;
	m->c.dns_ignored = st->counters[TFT_CNT_DNS_UNMATCHED];
	m->c.names_cached = st->names.cache.entries;
	m->c.names_asked = st->names.asked;
	m->c.names_hits = st->names.asked_hits;
	m->c.reverse_on = st->names.reverse_on;
	m->c.reverse_started = st->names.reverse.started;
	m->c.reverse_named = st->names.reverse.done;
	m->c.reverse_failed = st->names.reverse.failed;
	m->c.reverse_timeouts = st->names.reverse.timeouts;
	m->c.reverse_dropped = st->names.reverse.dropped;
}

const struct metrics_counters *metrics_counters(const struct metrics *m)
{
	return &m->c;
}

void metrics_set_ipfix(struct metrics *m, uint64_t records, uint64_t dropped, uint64_t errors)
{
	m->c.ipfix_on = true;
	m->c.ipfix_records = records;
	m->c.ipfix_dropped = dropped;
	m->c.ipfix_errors = errors;
}

static const char *const dir_names[METRICS_DIRS] = {"in", "out"};
static const char *const outcome_names[METRICS_OUTCOMES] = {"accepted", "refused", "unanswered"};

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped as the text format asks. */
static void label_value(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', out);
		if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

static void one(FILE *out, const char *name, const char *type, const char *help, uint64_t v)
{
	family(out, name, type, help);
	fprintf(out, "%s %" PRIu64 "\n", name, v);
}

static void render_ports(FILE *out, const struct metrics_counters *c, enum metrics_fail k,
			 const char *name, const char *help)
{
	int d;
	size_t i;

	family(out, name, "counter", help);
	for (d = 0; d < METRICS_DIRS; d++) {
		for (i = 0; i < c->nports[d]; i++)
			fprintf(out, "%s{direction=\"%s\",port=\"%u\"} %" PRIu64 "\n", name,
				dir_names[d], c->ports[d][i].port, c->ports[d][i].n[k]);
		fprintf(out, "%s{direction=\"%s\",port=\"other\"} %" PRIu64 "\n", name,
			dir_names[d], c->port_other[d].n[k]);
	}
}

static void render_handshake(FILE *out, const struct metrics_counters *c)
{
	const char *name = "tcpflowtop_handshake_seconds";
	uint64_t cum;
	int d, b;

	family(out, name, "histogram",
	       "Time from the first SYN to the SYN-ACK of accepted flows, by direction.");
	for (d = 0; d < METRICS_DIRS; d++) {
		cum = 0;
		for (b = 0; b <= METRICS_HS_BUCKETS; b++) {
			cum += c->hs_count[d][b];
			if (b < METRICS_HS_BUCKETS)
				fprintf(out, "%s_bucket{direction=\"%s\",le=\"%g\"} %" PRIu64 "\n",
					name, dir_names[d], metrics_hs_bounds[b], cum);
			else
				fprintf(out,
					"%s_bucket{direction=\"%s\",le=\"+Inf\"} %" PRIu64 "\n",
					name, dir_names[d], cum);
		}
		fprintf(out, "%s_sum{direction=\"%s\"} %.6f\n", name, dir_names[d],
			(double)c->hs_sum_us[d] / 1e6);
		fprintf(out, "%s_count{direction=\"%s\"} %" PRIu64 "\n", name, dir_names[d], cum);
	}
}

static void render_owners(FILE *out, const struct metrics_counters *c)
{
	const char *label = c->by == METRICS_BY_SERVICE ? "service" : "process";
	char name[64];
	size_t i;
	int d;

	snprintf(name, sizeof(name), "tcpflowtop_flows_by_%s_total", label);
	family(out, name, "counter",
	       c->by == METRICS_BY_SERVICE
		   ? "New TCP flows by direction and service (the busiest, the rest as other)."
		   : "New TCP flows by direction and process name (the busiest, the rest as "
		     "other).");
	for (d = 0; d < METRICS_DIRS; d++) {
		for (i = 0; i < c->nowners[d]; i++) {
			fprintf(out, "%s{direction=\"%s\",%s=\"", name, dir_names[d], label);
			label_value(out, c->owners[d][i].name);
			fprintf(out, "\"} %" PRIu64 "\n", c->owners[d][i].flows);
		}
		fprintf(out, "%s{direction=\"%s\",%s=\"other\"} %" PRIu64 "\n", name, dir_names[d],
			label, c->owner_other[d]);
	}
}

static void render_names(FILE *out, const struct metrics_counters *c)
{
	one(out, "tcpflowtop_dns_answers_total", "counter",
	    "DNS answers seen (tcpflowtop's own excluded).", c->dns_answers);
	one(out, "tcpflowtop_dns_answers_malformed_total", "counter",
	    "DNS answers that could not be parsed.", c->dns_malformed);
	one(out, "tcpflowtop_dns_answers_ignored_total", "counter",
	    "DNS answers to no query seen, ignored.", c->dns_ignored);
	one(out, "tcpflowtop_names_cached", "gauge", "Addresses the names cache holds.",
	    c->names_cached);
	one(out, "tcpflowtop_names_lookups_total", "counter",
	    "Addresses of new flows looked up in the names cache.", c->names_asked);
	one(out, "tcpflowtop_names_lookup_hits_total", "counter",
	    "Of those, addresses the cache already named.", c->names_hits);
	if (!c->reverse_on)
		return;
	family(out, "tcpflowtop_reverse_lookups_total", "counter",
	       "Reverse (PTR) lookups by result: started, named, failed, timeout, not queued "
	       "(dropped).");
	fprintf(out,
		"tcpflowtop_reverse_lookups_total{result=\"started\"} %" PRIu64 "\n"
		"tcpflowtop_reverse_lookups_total{result=\"named\"} %" PRIu64 "\n"
		"tcpflowtop_reverse_lookups_total{result=\"failed\"} %" PRIu64 "\n"
		"tcpflowtop_reverse_lookups_total{result=\"timeout\"} %" PRIu64 "\n"
		"tcpflowtop_reverse_lookups_total{result=\"dropped\"} %" PRIu64 "\n",
		c->reverse_started, c->reverse_named, c->reverse_failed, c->reverse_timeouts,
		c->reverse_dropped);
}

int metrics_render(const struct metrics_counters *c, FILE *out)
{
	int d, o;

	family(out, "tcpflowtop_flows_total", "counter",
	       "New TCP flows (first SYN), by direction.");
	for (d = 0; d < METRICS_DIRS; d++)
		fprintf(out, "tcpflowtop_flows_total{direction=\"%s\"} %" PRIu64 "\n", dir_names[d],
			c->flows_new[d]);
	family(out, "tcpflowtop_flow_outcomes_total", "counter",
	       "TCP flows by direction and how their SYN was answered: accepted (SYN-ACK), "
	       "refused (RST), unanswered.");
	for (d = 0; d < METRICS_DIRS; d++)
		for (o = 0; o < METRICS_OUTCOMES; o++)
			fprintf(out,
				"tcpflowtop_flow_outcomes_total{direction=\"%s\",outcome=\"%s\"} "
				"%" PRIu64 "\n",
				dir_names[d], outcome_names[o], c->outcome[d][o]);
	render_ports(out, c, METRICS_FAIL_REFUSED, "tcpflowtop_refused_total",
		     "Refused TCP flows by direction and service port (other: the rest).");
	render_ports(out, c, METRICS_FAIL_UNANSWERED, "tcpflowtop_unanswered_total",
		     "Unanswered TCP flows by direction and service port (other: the rest).");
	render_ports(
	    out, c, METRICS_FAIL_RESET, "tcpflowtop_reset_total",
	    "Established TCP connections ended by a reset, by direction and service port.");
	render_handshake(out, c);
	if (c->by != METRICS_BY_NONE)
		render_owners(out, c);
	one(out, "tcpflowtop_events_lost_total", "counter",
	    "Events the BPF programs could not queue (ring buffer full).", c->events_lost);
	one(out, "tcpflowtop_flows_evicted_total", "counter",
	    "Flows dropped from the full table to make room.", c->flows_evicted);
	one(out, "tcpflowtop_flows_evicted_pending_total", "counter",
	    "Of those, flows still pending: their answer, if any, went unseen.",
	    c->evicted_pending);
	one(out, "tcpflowtop_flows_held", "gauge", "Flows in the table now.", c->flows_held);
	one(out, "tcpflowtop_flows_capacity", "gauge", "Flows the table can hold (--capacity).",
	    c->capacity);
	family(out, "tcpflowtop_flows_pending", "gauge",
	       "Flows held and pending: unanswered, or unsure (events were lost since their SYN).");
	fprintf(out,
		"tcpflowtop_flows_pending{certainty=\"unanswered\"} %" PRIu64 "\n"
		"tcpflowtop_flows_pending{certainty=\"unsure\"} %" PRIu64 "\n",
		c->unanswered_held, c->unsure_held);
	if (c->names_on)
		render_names(out, c);
	if (c->ipfix_on) {
		one(out, "tcpflowtop_ipfix_records_total", "counter",
		    "IPFIX flow records handed to the collector connection.", c->ipfix_records);
		one(out, "tcpflowtop_ipfix_dropped_total", "counter",
		    "IPFIX flow records dropped: queue full or collector unreachable.",
		    c->ipfix_dropped);
		one(out, "tcpflowtop_ipfix_errors_total", "counter",
		    "Failed IPFIX sends or connects to the collector.", c->ipfix_errors);
	}
	fflush(out);
	return ferror(out) ? -EIO : 0;
}

int metrics_ephemeral_range(const char *path, uint16_t *lo, uint16_t *hi)
{
	unsigned a, b;
	FILE *f = fopen(path, "re");
	int n;

	if (!f)
		return -errno;
	n = fscanf(f, "%u %u", &a, &b);
	fclose(f);
	if (n != 2 || a > b || b > 65535)
		return -EINVAL;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}
