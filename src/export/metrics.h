/*
 * Prometheus metrics kept from the pipeline's sink events: new flows by
 * direction and outcome, refused/unanswered/reset flows by direction and
 * service port, a handshake-time histogram, and the pipeline's own figures.
 *
 * Cardinality is bounded by design. A port gets its own label only when it
 * is a service port: incoming, one this host was seen listening on (an
 * accepted incoming flow) or one of the configured ports; outgoing, one of
 * the busiest `top` destination ports or a configured one. A port of the
 * local ephemeral range never gets a label unless configured, so nobody's
 * client ports show. Process or service labels come only when asked, for
 * the busiest `top` owners. Everything else counts under "other".
 *
 * A label, once given, stays until exit, and counts from that moment (what
 * came before stays in "other"): every series only ever grows, as
 * Prometheus counters must.
 *
 * Threads: metrics_* below are called from the capture thread only. The
 * counters are plain data (struct metrics_counters), copied as a whole to
 * whoever serves them (metrics_http), who renders the copy with
 * metrics_render.
 */
#ifndef TFT_METRICS_H
#define TFT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "flow_pipeline.h"

#define METRICS_MAX_TOP 64	/* most --metrics-top accepts */
#define METRICS_DEFAULT_TOP 10	/* busiest outgoing ports, owners */
#define METRICS_MAX_PORTS 64	/* most configured ports */
#define METRICS_LISTEN_SLOTS 64 /* incoming listener ports learnt, beyond the configured */
#define METRICS_PORT_SLOTS (METRICS_MAX_PORTS + METRICS_LISTEN_SLOTS)
#define METRICS_PROMOTE_MIN 3 /* outgoing flows to a port (or of an owner) before its label */
#define METRICS_LABEL_MAX 64  /* an owner label's bytes, escaped text, NUL included */
#define METRICS_OWNER_CANDIDATES (4 * METRICS_MAX_TOP)
#define METRICS_HS_BUCKETS 16 /* finite histogram buckets; +Inf follows */

enum metrics_dir { METRICS_IN = 0, METRICS_OUT = 1, METRICS_DIRS };

enum metrics_outcome {
	METRICS_ACCEPTED = 0, /* SYN-ACK (or established without one: SYN cookies) */
	METRICS_REFUSED,      /* RST answered the SYN */
	METRICS_UNANSWERED,   /* no answer within the SYN timeout */
	METRICS_OUTCOMES
};

/* What the per-port counters count. */
enum metrics_fail {
	METRICS_FAIL_REFUSED = 0,
	METRICS_FAIL_UNANSWERED,
	METRICS_FAIL_RESET, /* an established connection ended by RST, either side */
	METRICS_FAILS
};

/* Which owner label, if any: --metrics-by. */
enum metrics_owner_label {
	METRICS_BY_NONE = 0,
	METRICS_BY_SERVICE, /* the flow field "service" */
	METRICS_BY_PROCESS, /* the flow field "comm" */
};

struct metrics_port_slot {
	uint16_t port;
	uint64_t n[METRICS_FAILS];
};

struct metrics_owner_slot {
	char name[METRICS_LABEL_MAX]; /* escaped text (the field table's text rendering) */
	uint64_t flows;		      /* new flows since the label was given */
};

/* Everything rendered: plain data, copied whole to the serving thread. */
struct metrics_counters {
	uint64_t flows_new[METRICS_DIRS];
	uint64_t outcome[METRICS_DIRS][METRICS_OUTCOMES];
	size_t nports[METRICS_DIRS];
	struct metrics_port_slot ports[METRICS_DIRS][METRICS_PORT_SLOTS];
	struct metrics_port_slot port_other[METRICS_DIRS]; /* .port unused */
	/* Handshake of accepted flows: per bucket (not cumulative), [METRICS_HS_BUCKETS] = +Inf. */
	uint64_t hs_count[METRICS_DIRS][METRICS_HS_BUCKETS + 1];
	uint64_t hs_sum_us[METRICS_DIRS];
	enum metrics_owner_label by;
	size_t nowners[METRICS_DIRS];
	struct metrics_owner_slot owners[METRICS_DIRS][METRICS_MAX_TOP];
	uint64_t owner_other[METRICS_DIRS];
	/* The pipeline's figures (struct flow_stats), as of the last metrics_publish_stats. */
	uint64_t events_lost, flows_evicted, evicted_pending, flows_held, capacity;
	uint64_t unanswered_held, unsure_held;
	bool names_on, reverse_on;
	uint64_t dns_answers, dns_malformed, dns_ignored, names_cached, names_asked, names_hits;
	uint64_t reverse_started, reverse_named, reverse_failed, reverse_timeouts, reverse_dropped;
	/* The IPFIX exporter's, when one runs (set by whoever owns it). */
	bool ipfix_on;
	uint64_t ipfix_records, ipfix_dropped, ipfix_errors;
};

/* The upper bounds of the finite handshake buckets, in seconds (for rendering and tests). */
extern const double metrics_hs_bounds[METRICS_HS_BUCKETS];

struct metrics_opts {
	size_t top;	       /* 1..METRICS_MAX_TOP: outgoing port labels, owner labels */
	const uint16_t *ports; /* always labelled, either direction (borrowed for the call) */
	size_t n_ports;	       /* <= METRICS_MAX_PORTS */
	uint16_t eph_lo;       /* the local ephemeral range: never a label unless configured */
	uint16_t eph_hi;       /* 0, 0: none */
	enum metrics_owner_label by;
};

struct metrics;

/* NULL with errno on failure. */
struct metrics *metrics_new(const struct metrics_opts *opts);
void metrics_free(struct metrics *m);

/* The pipeline sink that feeds it. */
struct flow_sink metrics_sink(struct metrics *m);

/*
 * Gives labels to ports and owners that earned one (busiest first, while
 * slots remain) and copies in the pipeline's figures. Call it before
 * publishing the counters. st may be NULL.
 */
void metrics_update(struct metrics *m, const struct flow_stats *st);

/* The live counters (borrowed; changed by the next sink event or update). */
const struct metrics_counters *metrics_counters(const struct metrics *m);
/* Sets the IPFIX figures shown. */
void metrics_set_ipfix(struct metrics *m, uint64_t records, uint64_t dropped, uint64_t errors);

/*
 * The Prometheus text exposition (format 0.0.4) of c, every family with
 * HELP and TYPE. Returns 0 or -errno of the write.
 */
int metrics_render(const struct metrics_counters *c, FILE *out);

/* The local ephemeral port range from /proc/sys/net/ipv4/ip_local_port_range. 0 or -errno. */
int metrics_ephemeral_range(const char *path, uint16_t *lo, uint16_t *hi);

#endif /* TFT_METRICS_H */
