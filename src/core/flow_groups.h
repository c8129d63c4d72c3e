/*
 * Flows grouped as an operator asks about them: outgoing flows by remote
 * service (the destination's name when one was known at the SYN, else its
 * address, and the port), incoming flows by local listener (the local
 * address and port), and flows of both directions by process (the owner's
 * service, as the flow table's SERVICE column names it, and its command).
 * A groups object is a sink of the flow pipeline: it hears every new flow,
 * state change, end and figures update, and every flow that leaves the
 * table, in O(1) each.
 *
 * Counts are totals since start, not what the table holds now: a flow
 * evicted or cleared from the table stays counted in its group (only
 * "half-open now" follows the table: the group's flows in state HALF_OPEN
 * and still held). Each flow is counted once in each total, whatever
 * events repeat: answered (accepted or refused) at its first state past
 * pending, ended reset at its end. Bytes are the growth of each flow's own
 * figures as samples arrive (UPDATE while it is open, END with the final
 * ones): a flow evicted before it ended counts up to its last sample, and
 * flows without figures count nothing.
 *
 * Memory is bounded: at most max_groups groups, the last of them the
 * `other` row that counts the flows of every group beyond the cap; per
 * group a handshake histogram of at most HDR_HIST_BUCKETS counters and, for
 * listeners and processes, FLOW_GROUP_HLL_REGS bytes; plus two to four
 * slots per flow the table can hold.
 */
#ifndef TFT_FLOW_GROUPS_H
#define TFT_FLOW_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow_pipeline.h"
#include "hdr_hist.h"

enum flow_group_kind {
	FLOW_GROUP_REMOTE = 1,	 /* outgoing flows by destination name or address, and port */
	FLOW_GROUP_LISTENER = 2, /* incoming flows by local address and port */
	FLOW_GROUP_PROCESS = 3,	 /* flows of both directions by owner: service and command */
};

#define FLOW_GROUP_NAME_MAX 255	    /* longest DNS name; a longer one groups by address */
#define FLOW_GROUP_RATE_SECONDS 10  /* new/s is averaged over this many seconds */
#define FLOW_GROUP_TOP_CLIENTS 4    /* clients tracked for "top client" (Space-Saving) */
#define FLOW_GROUP_HLL_REGS 256	    /* distinct clients, pids: HyperLogLog registers, 6.5 % error */
#define FLOW_GROUP_COMM_MAX 16	    /* a command name, as the kernel keeps it */
#define FLOW_GROUP_OWNER_OTHER 0xff /* flow_group_key.owner of the `other` row */
#define FLOW_GROUPS_DEFAULT_MAX 16384

struct flow_group_key {
	uint8_t family;	  /* 4 or 6; 0 for a named group (both families) and for other */
	uint16_t port;	  /* the destination port: the service or the listener */
	uint8_t addr[16]; /* remote: the destination; listener: the local address; 0 if named */
	/* process: enum tft_owner_state, not KNOWN: the "?" row of that reason; `other`:
	   FLOW_GROUP_OWNER_OTHER */
	uint8_t owner;
	uint8_t comm_len;		/* process: command bytes */
	char comm[FLOW_GROUP_COMM_MAX]; /* process: untrusted, not terminated */
	uint16_t name_len;		/* remote: name bytes, 0 when grouped by address; process:
					   service bytes, 0 when unknown */
	/* untrusted bytes, not terminated: remote, from DNS; process, the service (cut to fit) */
	char name[FLOW_GROUP_NAME_MAX];
};

/* A client of a listener and its flows (Space-Saving: count may exceed the truth by err). */
struct flow_group_client {
	uint8_t family;
	uint8_t addr[16];
	uint64_t count, err;
};

struct flow_group {
	struct flow_group_key key;
	bool other;		    /* the row of the flows of groups beyond the cap */
	uint64_t flows;		    /* new flows since start */
	uint64_t accepted;	    /* answered by SYN-ACK */
	uint64_t refused;	    /* answered by RST */
	uint64_t retrans;	    /* SYN retransmissions */
	uint64_t reset;		    /* ended by a reset (either side) after being accepted */
	uint64_t bytes_in;	    /* payload bytes received, as the flows' figures grew */
	uint64_t bytes_out;	    /* payload bytes sent and acknowledged, likewise */
	uint64_t half_open;	    /* flows in state HALF_OPEN and still held by the table */
	uint32_t last_pid;	    /* process: the newest flow's owner's pid, 0 if none */
	uint64_t first_ns, last_ns; /* first SYN; last change (CLOCK_MONOTONIC) */
	struct hdr_hist hs;	    /* handshake times of answered flows, in µs */
	uint64_t rate_sec[FLOW_GROUP_RATE_SECONDS]; /* per-second new flows: the second, */
	uint32_t rate_n[FLOW_GROUP_RATE_SECONDS];   /* and its count */
	uint8_t *hll; /* owned; listeners: distinct clients; processes: distinct pids */
	struct flow_group_client top[FLOW_GROUP_TOP_CLIENTS];
};

/*
 * The first name of addr: copies at most size bytes of it into buf (not
 * terminated) and returns its whole length, 0 when none is known.
 */
typedef size_t (*flow_groups_name_fn)(void *ctx, uint8_t family, const uint8_t *addr, char *buf,
				      size_t size);
/* A block is due: the groups as they were at at_ns (streams print one per interval). */
typedef void (*flow_groups_tick_fn)(void *ctx, uint64_t at_ns);

struct flow_groups_opts {
	enum flow_group_kind kind;
	size_t max_groups;	  /* >= 2, the `other` row included; 0: FLOW_GROUPS_DEFAULT_MAX */
	size_t flow_capacity;	  /* the flow table's capacity */
	flow_groups_name_fn name; /* NULL: group by address only */
	void *name_ctx;		  /* borrowed */
};

struct flow_groups_stats {
	size_t groups; /* rows, `other` included */
	size_t max_groups;
	uint64_t other_flows; /* flows counted in `other` */
	uint64_t nomem;	      /* handshake times or clients not counted for want of memory */
};

struct flow_groups;

/* NULL with errno on failure. */
struct flow_groups *flow_groups_new(const struct flow_groups_opts *opts);
void flow_groups_free(struct flow_groups *g);
/* The groups as a pipeline sink (ctx is g). */
struct flow_sink flow_groups_sink(struct flow_groups *g);
enum flow_group_kind flow_groups_kind(const struct flow_groups *g);

size_t flow_groups_count(const struct flow_groups *g);
/* Group i (0 <= i < count), borrowed until the next event; its index never changes. */
const struct flow_group *flow_groups_at(const struct flow_groups *g, size_t i);
/* The latest event time seen (CLOCK_MONOTONIC), 0 before the first. */
uint64_t flow_groups_now(const struct flow_groups *g);
void flow_groups_stats(const struct flow_groups *g, struct flow_groups_stats *out);

/* New flows per second over the FLOW_GROUP_RATE_SECONDS whole seconds up to now_ns. */
double flow_group_rate(const struct flow_group *gr, uint64_t now_ns);
/*
 * Distinct clients (listeners) or process ids (processes), estimated: exact
 * for a few, 6.5 % standard error beyond; 0 for remote groups.
 */
uint64_t flow_group_clients(const struct flow_group *gr);
/* The client with the most flows (listeners), or NULL. */
const struct flow_group_client *flow_group_top_client(const struct flow_group *gr);

/*
 * Calls tick at start_ns + k * interval_ns for every k >= 1 whose time an
 * event (or flow_groups_advance) reaches, before that event counts: a
 * replay's blocks fall on the recorded times, whatever its speed.
 */
void flow_groups_set_interval(struct flow_groups *g, uint64_t start_ns, uint64_t interval_ns,
			      flow_groups_tick_fn tick, void *ctx);
/* Time passed without events (a live capture's timer): ticks now due. */
void flow_groups_advance(struct flow_groups *g, uint64_t now_ns);

#endif /* TFT_FLOW_GROUPS_H */
