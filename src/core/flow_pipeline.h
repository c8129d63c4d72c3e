/*
 * The path from ring records to flows, the same for a live capture and a
 * replay: tcpflowtop's own lookups left out, the record file (-w) written,
 * DNS answers to the names, TCP records to the flow table, reverse lookups
 * started for new flows, and every sink told about each change and about
 * each flow that leaves the table, so none misses a flow's last state.
 */
#ifndef TFT_FLOW_PIPELINE_H
#define TFT_FLOW_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow_table.h"
#include "names.h"
#include "proc_listeners.h"
#include "record_file.h"
#include "reset_alert.h"
#include "tcp_mib.h"
#include "tft_events.h"

/* Why a flow left the table. */
enum flow_leave {
	FLOW_LEAVE_EVICTED = 1, /* the table was full: the oldest made room */
	FLOW_LEAVE_CLEARED = 2, /* flow_pipeline_clear: the user cleared the table */
	FLOW_LEAVE_EXIT = 3,	/* flow_pipeline_finish: tcpflowtop stops */
};

/*
 * A consumer of flows: the screen, a stream format, an exporter. Every
 * callback may be NULL; flows are borrowed for the call.
 */
struct flow_sink {
	/* A flow was created (TFT_CHANGE_NEW) or changed; at_ns: when (CLOCK_MONOTONIC). */
	void (*changed)(void *ctx, const struct tft_flow *f, enum tft_flow_change change,
			uint64_t at_ns);
	/* A flow leaves the table, in the state the last `changed` showed. */
	void (*left)(void *ctx, const struct tft_flow *f, enum flow_leave why);
	/* The programs' lost-events total grew to lost, seen at at_ns. */
	void (*lost)(void *ctx, uint64_t lost, uint64_t at_ns);
	/* DNS answers that answered no query seen (so ignored) grew to answers, seen at at_ns. */
	void (*ignored)(void *ctx, uint64_t answers, uint64_t at_ns);
	void *ctx; /* borrowed */
	/* A burst of resets or refusals hit one service (borrowed for the call). */
	void (*alert)(void *ctx, const struct reset_alert_event *a);
};

/* Everything counted, in one place: the header, the exit summary and exporters read it. */
struct flow_stats {
	struct flow_table_stats flows;
	uint64_t unanswered; /* flows held and pending that no lost event could have answered */
	uint64_t unsure;     /* flows held and pending whose answer may have been lost */
	size_t held;	     /* flows in the table now */
	size_t capacity;
	uint64_t counters[TFT_CNT_MAX]; /* the programs' (or the recording's) counters */
	bool names_on;			/* --no-dns unset: names below mean something */
	struct names_stats names;
	uint64_t alerts;		     /* reset bursts raised */
	struct reset_alert_event last_alert; /* the latest (alerts > 0) */
	/* The kernel's own listen-queue figures since start (mib_known: they could be read). */
	bool mib_known;
	struct tcp_mib mib;
	bool outcomes_on; /* flows get outcomes: the sockops program runs, or the recording has them
			   */
};

#define FLOW_PIPELINE_MAX_SINKS 8

struct flow_pipeline_opts {
	size_t capacity;	       /* flows kept in the table */
	struct names *names;	       /* borrowed; NULL: no names */
	struct record_writer *rec;     /* borrowed; NULL: no -w */
	struct flow_timeouts timeouts; /* unanswered, half-open */
	uint64_t idle_ns;	       /* established without data this long: idle */
	uint32_t reset_alert;	       /* more resets than this for one service in 10 s: alert */
	/*
	 * A live capture: the sockets of this network namespace are sampled
	 * (sock_diag) for figures and idleness, and the kernel's listen
	 * counters read; a replay has neither.
	 */
	bool live;
};

struct flow_pipeline;

/* NULL with errno on failure. */
struct flow_pipeline *flow_pipeline_new(const struct flow_pipeline_opts *opts);
void flow_pipeline_free(struct flow_pipeline *p);

/* Adds a sink (copied); sinks hear events in the order added. 0 or -E2BIG. */
int flow_pipeline_add_sink(struct flow_pipeline *p, const struct flow_sink *sink);

/*
 * The owner of the TCP record passed next, from the capture (user and
 * cgroup NULL: their names are looked up here, now, while the process and
 * its cgroup are most likely still there) or a recording (the names it
 * holds). A new flow made by that record takes it, and -w records it.
 */
void flow_pipeline_owner(struct flow_pipeline *p, const struct tft_owner *o, const char *user,
			 const char *cgroup);

/*
 * The live capture's kernel gives no owners (capture_owner_off): new flows
 * without one say so (TFT_OWNER_NO_HOOK) rather than "unknown".
 */
void flow_pipeline_owners_off(struct flow_pipeline *p);
/*
 * Owners for SYNs that arrive with none, at listeners older than tcpflowtop
 * (borrowed, NULL: none). A flow named this way is recorded like any other.
 */
void flow_pipeline_use_listeners(struct flow_pipeline *p, struct proc_listeners *l);

/* Ring records, from the capture or a replay. */
void flow_pipeline_tcp(struct flow_pipeline *p, const struct tft_tcp_event *ev);
void flow_pipeline_sock(struct flow_pipeline *p, const struct tft_sock_event *ev);
/* Socket records will come (the capture runs its sockops program): half-open can be told. */
void flow_pipeline_outcomes_on(struct flow_pipeline *p);
/* They stop (the watched cgroup was recreated): no flow is called half-open from now on. */
void flow_pipeline_outcomes_off(struct flow_pipeline *p);
/*
 * Timers and sampling at now_ns (CLOCK_MONOTONIC; a replay passes its
 * record time): unanswered and half-open flows end, open ones get their
 * figures and idle flag (live only), the kernel's counters are read. At most
 * once a second does work; call it often.
 */
void flow_pipeline_tick(struct flow_pipeline *p, uint64_t now_ns);
void flow_pipeline_dns(struct flow_pipeline *p, const struct tft_dns_event *ev);
/* The programs' counter totals as read at at_ns: recorded when they moved, losses told. */
void flow_pipeline_counters(struct flow_pipeline *p, const uint64_t total[TFT_CNT_MAX],
			    uint64_t at_ns);

/*
 * Writes out what the record file buffered. Returns 0, or -errno of the
 * first failed record write (sticky: recording stopped at that point).
 */
int flow_pipeline_flush(struct flow_pipeline *p);

/* Drops every flow from the table; sinks hear each leave (FLOW_LEAVE_CLEARED) first. */
void flow_pipeline_clear(struct flow_pipeline *p);
/*
 * tcpflowtop stops: sinks hear every flow still held leave (FLOW_LEAVE_EXIT),
 * oldest first, so a flow still open gets its last record. The table stays.
 */
void flow_pipeline_finish(struct flow_pipeline *p);

/* The table the screen reads (borrowed, as long as p lives); clear it through the pipeline. */
struct flow_table *flow_pipeline_table(struct flow_pipeline *p);
void flow_pipeline_stats(const struct flow_pipeline *p, struct flow_stats *out);
/* Whether flows get outcomes (flow_stats.outcomes_on), without copying the stats. */
bool flow_pipeline_has_outcomes(const struct flow_pipeline *p);

#endif /* TFT_FLOW_PIPELINE_H */
