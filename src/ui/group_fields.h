/*
 * Every field of a group view, described once, as flow_fields.h describes a
 * flow's: its name (filter terms), CSV column and JSON key, screen title,
 * help, which views show it, screen layout, sort key and rendering for each
 * target. The group screens, their filter and export, and the --group-by
 * streams all read this table, so a new group figure is one counter in
 * flow_groups.h and one descriptor here. Pure: no curses, no I/O.
 */
#ifndef TFT_GROUP_FIELDS_H
#define TFT_GROUP_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow_fields.h"
#include "flow_groups.h"

/* In screen order. */
enum group_field {
	GROUP_FIELD_REMOTE = 0, /* remote view: name or address */
	GROUP_FIELD_LOCAL,	/* listener view: local address */
	GROUP_FIELD_PORT,
	GROUP_FIELD_PROCESS, /* process view: the command */
	GROUP_FIELD_SERVICE, /* process view: the unit or container */
	GROUP_FIELD_FLOWS,
	GROUP_FIELD_RATE,
	GROUP_FIELD_ACCEPTED,
	GROUP_FIELD_REFUSED,
	GROUP_FIELD_UNANSWERED,
	GROUP_FIELD_RESET,
	GROUP_FIELD_RETX,
	GROUP_FIELD_P50,
	GROUP_FIELD_P95,
	GROUP_FIELD_MAX,
	GROUP_FIELD_BYTES_IN,
	GROUP_FIELD_BYTES_OUT,
	GROUP_FIELD_HALF_OPEN,
	GROUP_FIELD_CLIENTS,
	GROUP_FIELD_TOP,
	GROUP_FIELD_TOP_FLOWS,
	GROUP_FIELD_PIDS,
	GROUP_FIELD_LAST_PID,
	GROUP_FIELD_LAST,
	GROUP_FIELD_COUNT
};

/* Which views show a field: bit (1 << kind). */
#define GROUP_IN_REMOTE (1u << FLOW_GROUP_REMOTE)
#define GROUP_IN_LISTENER (1u << FLOW_GROUP_LISTENER)
#define GROUP_IN_PROCESS (1u << FLOW_GROUP_PROCESS)

/*
 * One group as a row: its figures as of one moment (a frame, a block), so
 * sorting, drawing and printing agree, and a paused screen stays still.
 */
struct group_row {
	uint32_t index; /* the group's index in flow_groups: the selection follows it */
	bool other;
	uint64_t flows, accepted, refused, unanswered, reset, retrans, half_open;
	uint64_t clients; /* distinct clients (listeners) or pids (processes), estimated */
	uint64_t bytes_in, bytes_out;
	uint32_t last_pid;
	uint64_t answered;	/* flows with a handshake time */
	uint64_t p50, p95, max; /* handshake, µs; valid when answered */
	uint64_t rate_milli;	/* new/s x 1000 */
	uint64_t last_ns;	/* last change, CLOCK_MONOTONIC */
	uint64_t top_count;	/* 0: no top client */
	uint8_t top_family;
	uint8_t top_addr[16];
};

/* What a value renders from. */
struct group_field_ctx {
	const struct group_row *row;
	const struct flow_group_key *key; /* borrowed: the group's key */
};

struct group_field_desc {
	const char *name;  /* filter key, e.g. "refused" */
	const char *key;   /* CSV column and JSON key, e.g. "refused_pct" */
	const char *title; /* screen title, e.g. "REFUSED%" */
	const char *help;
	unsigned views;	 /* GROUP_IN_* */
	bool text;	 /* a text value (address, name): filter terms match a piece of it */
	int width;	 /* screen: fixed width, or the least for text */
	int max_width;	 /* screen: text grows up to this */
	int keep;	 /* screen: narrow terminals drop the lowest first */
	bool right;	 /* right-aligned */
	bool desc_first; /* sorting by it starts descending */
	/* The sort key (ascending); numbers also what filter terms compare. */
	uint64_t (*number)(const struct group_field_ctx *c);
	/* The value as text for target into buf (NUL-terminated); returns its length. */
	size_t (*render)(const struct group_field_ctx *c, enum flow_field_target t, char *buf,
			 size_t size);
};

const struct group_field_desc *group_field(enum group_field id);
/* A field by name, any case; len bytes of name. 0 or -EINVAL. */
int group_field_parse_n(const char *name, size_t len, enum group_field *out);
/* The fields of a view, in screen order; returns how many. */
size_t group_fields_of(enum flow_group_kind kind, enum group_field *out);
/* "remote", "listener" or "process". */
const char *group_kind_name(enum flow_group_kind kind);
/* Parses "remote", "listener" or "process". 0 or -EINVAL. */
int group_kind_parse(const char *text, enum flow_group_kind *out);

/*
 * What group_row_fill computed last time for a group: percentiles and
 * distinct clients are only computed again when the group changed (a frame
 * of 10,000 groups mostly finds them unchanged).
 */
struct group_row_cache {
	uint64_t hs_total, p50, p95; /* as of hs_total answered flows */
	uint64_t flows, clients;     /* as of flows */
	bool valid;
};

/* The row of group gr (index i) as of now_ns; cache (may be NULL) as above. */
void group_row_fill(struct group_row *r, uint32_t i, const struct flow_group *gr, uint64_t now_ns,
		    struct group_row_cache *cache);

/*
 * Room for any group cell in any target, NUL included. Untrusted text is at
 * most FLOW_GROUP_NAME_MAX bytes (a name, a service cut to fit the key);
 * escaping for a terminal makes a byte at most 4 (\xHH), then CSV or JSON
 * quoting at most doubles that printable ASCII ('"' to "" or \", '\' to
 * \\), plus two quotes and CSV's formula mark.
 */
#define GROUP_CELL_SIZE (2 * 4 * FLOW_GROUP_NAME_MAX + 4)

/* The value of field id as text for target into buf (GROUP_CELL_SIZE never cuts); returns buf. */
const char *group_field_render(enum group_field id, const struct group_field_ctx *c,
			       enum flow_field_target t, char *buf, size_t size);

/*
 * The flow filter that shows a group's flows on the flow screen, as typed
 * after /: "out dnames:db.example port:5432"-like FIELD:VALUE terms, or
 * "proc:nginx svc:nginx.service" for a process. Names, addresses, commands
 * and services match as a piece of text (a command or service with spaces
 * by its longest piece without), so a filter may also show flows of a
 * longer one holding this one; a process group of unknown owners shows the
 * flows whose process and service are "?". Returns buf ("" for other).
 */
const char *group_flow_filter(enum flow_group_kind kind, const struct flow_group_key *key,
			      char *buf, size_t size);

#endif /* TFT_GROUP_FIELDS_H */
