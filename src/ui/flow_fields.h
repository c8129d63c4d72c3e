/*
 * Every per-flow field, described once: its names, title, help, kind,
 * screen layout hints, how it renders on the screen, in the text stream, in
 * CSV and in JSON, its sort key and its filter value. The screen columns,
 * -o, --sort, the filter's FIELD:VALUE terms, the stream formats, the CSV
 * export, --help and the help screen all read this table, so a new field is
 * one descriptor (and one test). Pure: no curses, no I/O.
 */
#ifndef TFT_FLOW_FIELDS_H
#define TFT_FLOW_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow_table.h"
#include "names_provider.h"

/*
 * The fields. Those that can be screen columns come first (before
 * FLOW_FIELD_SCREEN_COUNT, in the screen's default order); the stream-only
 * ones follow.
 */
enum flow_field {
	FLOW_FIELD_TIME = 0,
	FLOW_FIELD_DIR,
	FLOW_FIELD_SRC,
	FLOW_FIELD_SPORT,
	FLOW_FIELD_DST,
	FLOW_FIELD_DPORT,
	FLOW_FIELD_SNAMES,
	FLOW_FIELD_DNAMES,
	FLOW_FIELD_STATE,
	FLOW_FIELD_RETX,
	FLOW_FIELD_HS,
	FLOW_FIELD_END,
	FLOW_FIELD_BYTES_IN,
	FLOW_FIELD_BYTES_OUT,
	FLOW_FIELD_COMM,
	FLOW_FIELD_SERVICE,
	FLOW_FIELD_PID,
	FLOW_FIELD_USER,
	FLOW_FIELD_CGROUP,
	FLOW_FIELD_CLOSED_BY,
	FLOW_FIELD_DURATION,
	FLOW_FIELD_RTT,
	FLOW_FIELD_DATA_RETRANS,
	FLOW_FIELD_IDLE,
	FLOW_FIELD_SYNCOOKIE,
	FLOW_FIELD_SCREEN_COUNT,
	FLOW_FIELD_EVENT = FLOW_FIELD_SCREEN_COUNT,
	FLOW_FIELD_ID,
	FLOW_FIELD_FAMILY,
	FLOW_FIELD_COUNT
};

enum flow_field_kind {
	FLOW_KIND_TIME = 1,
	FLOW_KIND_NUMBER,
	FLOW_KIND_ADDRESS,
	FLOW_KIND_NAMES,
	FLOW_KIND_ENUM, /* one of a few fixed words: values[] lists them */
	FLOW_KIND_TEXT,
};

/* Where a field appears. */
enum flow_field_flag {
	FLOW_FIELD_ON_SCREEN = 1 << 0, /* a screen column (-o, --sort), shown by default */
	FLOW_FIELD_ON_TEXT = 1 << 1,   /* a column of the text stream */
	FLOW_FIELD_ON_CSV = 1 << 2,    /* a column of the CSV stream */
	FLOW_FIELD_ON_JSON = 1 << 3,   /* a key of the JSON stream's flow records */
	FLOW_FIELD_ON_EXPORT = 1 << 4, /* a column of the CSV export */
	/* a screen column on request only (-o, --sort), not in the default set */
	FLOW_FIELD_ON_SCREEN_EXTRA = 1 << 5,
};

/* Screen columns, shown by default or not: what -o and --sort accept. */
#define FLOW_FIELD_ON_ANY_SCREEN (FLOW_FIELD_ON_SCREEN | FLOW_FIELD_ON_SCREEN_EXTRA)

/* How the screen colours an enumerated value: the screen maps each to a colour. */
enum flow_field_style {
	FLOW_STYLE_NONE = 0,
	FLOW_STYLE_IN,	    /* direction in */
	FLOW_STYLE_OUT,	    /* direction out */
	FLOW_STYLE_GOOD,    /* accepted */
	FLOW_STYLE_BAD,	    /* refused */
	FLOW_STYLE_WAITING, /* pending */
	FLOW_STYLE_ENDED,   /* ended: the screen dims the whole row */
};

/* Where a value is rendered; each has its own time form and escaping. */
enum flow_field_target {
	FLOW_TARGET_SCREEN = 0, /* a screen cell's full text, before fitting */
	FLOW_TARGET_TEXT,	/* the text stream (unpadded; "" shows as "-") */
	FLOW_TARGET_CSV,	/* a CSV stream cell, already quoted when needed */
	FLOW_TARGET_JSON,	/* a JSON value (number, null, string token, array) */
	FLOW_TARGET_EXPORT,	/* a CSV export cell, before export_csv_field quoting */
};

/* What a value is rendered from. */
struct flow_field_ctx {
	const struct tft_flow *flow; /* borrowed */
	enum tft_flow_change change; /* streams: the event; TFT_CHANGE_NONE elsewhere */
	/*
	 * Streams: when it happened (also "now" for an open flow's duration);
	 * elsewhere the first SYN, and an open flow's duration runs to the clock.
	 */
	uint64_t at_ns;
	const struct names_provider *names; /* borrowed, may be NULL */
};

struct flow_field_value {
	const char *name; /* the word, e.g. "accepted" */
	uint64_t value;	  /* the field's number for it */
};

struct flow_field_desc {
	const char *name;	/* -o, --sort and filter key, e.g. "dport" */
	const char *alias;	/* another filter key, e.g. "proc" for comm; NULL: none */
	const char *key;	/* CSV column and JSON key, e.g. "dst_port" */
	const char *title;	/* screen column header, e.g. "DPORT" */
	const char *text_title; /* text stream header, e.g. "DPORT" */
	const char *help;	/* one line for the help screen, --help and the man page */
	enum flow_field_kind kind;
	unsigned flags;	 /* enum flow_field_flag */
	int stream_rank; /* position among the stream columns (1 first) */
	int text_width;	 /* text stream: padded to this; 0: not padded */
	int min_width;	 /* screen: below this the column is dropped */
	int max_width;	 /* screen: == min_width for fixed columns */
	int keep;	 /* screen: narrow terminals drop the lowest keep first */
	bool right;	 /* right-aligned (numbers), on the screen and in text */
	bool desc_first; /* sorting by it starts descending (newest, slowest first) */
	bool names;	 /* a domain-names column: hidden by `n` */
	bool owner;	 /* a column of who opened the flow: hidden by `o` */
	const struct flow_field_value *values; /* FLOW_KIND_ENUM: the words, NULL-terminated */
	/*
	 * The value as a number: the sort key (ascending order) and, for
	 * numbers and enums, what filter terms compare. False when the field
	 * has no such value (addresses, names) or none yet (handshake while
	 * pending: then *v is its sort key).
	 */
	bool (*number)(const struct tft_flow *f, uint64_t *v);
	/*
	 * Text fields: the sort key as three words, the text's first 24 bytes
	 * big-endian, so that keys order as the texts do (NULL: the number is
	 * the key). False when there is no value; the key then sorts last.
	 */
	bool (*text_key)(const struct tft_flow *f, uint64_t k[3]);
	/* The value as text for target into buf (NUL-terminated); returns its length. */
	size_t (*render)(const struct flow_field_ctx *c, enum flow_field_target target, char *buf,
			 size_t size);
	/* The screen style of the value, for enumerated fields; NULL: none. */
	enum flow_field_style (*style)(const struct tft_flow *f);
};

/* The descriptor of field id, or NULL for an unknown id. */
const struct flow_field_desc *flow_field(enum flow_field id);
/* Looks a field up by name ("dport") or screen title ("DPORT"), any case. 0 or -EINVAL. */
int flow_field_parse(const char *name, enum flow_field *out);
/*
 * Looks a field up by name or alias only, len bytes of name (the filter's
 * FIELD:VALUE). 0 or -EINVAL.
 */
int flow_field_parse_n(const char *name, size_t len, enum flow_field *out);
/*
 * The fields carrying flag, in order (stream order for the stream and
 * export flags, table order otherwise); returns how many.
 */
size_t flow_fields_with(unsigned flag, enum flow_field *out);
/* Field names carrying flag, joined by sep, e.g. "time,dir,src": for messages and --help. */
const char *flow_fields_names(unsigned flag, const char *sep, char *buf, size_t size);
/* The same with their stream keys (CSV columns, JSON keys), e.g. "time,event,id,direction". */
const char *flow_fields_keys(unsigned flag, const char *sep, char *buf, size_t size);

/* Renders field id of c for target into buf; returns buf. */
const char *flow_field_render(enum flow_field id, const struct flow_field_ctx *c,
			      enum flow_field_target target, char *buf, size_t size);

/* Shared formatting, also used by the detail screen and the filter. */
const char *flow_field_dir_name(uint8_t dir);
const char *flow_field_state_name(uint8_t state);
/* How a flow ended as its end word ("fin", "reset-by-peer", ...), or "" while it runs. */
const char *flow_field_end_name(uint8_t end);
/* Whether the flow ended (refused, unanswered, closed, half-open, ...): the screen dims it. */
bool flow_field_ended(const struct tft_flow *f);
/*
 * "Now" for a running flow's duration on the screen and in the export: the
 * clock, or (a replay) the recording's time. now NULL: the clock again.
 */
void flow_fields_set_now(uint64_t (*now)(void *ctx), void *ctx);
uint64_t flow_fields_now(void);
/* First SYN to its end, or to now_ns while it runs. */
uint64_t flow_field_duration_ns(const struct tft_flow *f, uint64_t now_ns);
/*
 * An owner's text (command, user, service, cgroup path; len bytes, NULL:
 * unknown) as target wants it: every byte outside printable ASCII spelt
 * \xHH, spaces too in the text stream; CSV and JSON quoted; unknown "?"
 * on the screen, null in JSON, empty elsewhere. Returns the length written.
 */
size_t flow_field_owner_text(const char *s, size_t len, enum flow_field_target t, char *buf,
			     size_t size);
/* A byte count for people: "999", "1.2K", "34.5M", "118G" (powers of 1024). */
void flow_field_bytes_short(uint64_t n, char *buf, size_t size);
/* A duration of ns nanoseconds in ms with µs precision ("1.234"). */
void flow_field_ms(uint64_t ns, char *buf, size_t size);
/* First SYN to answer in ms with µs precision ("1.234"), or "" while pending. */
void flow_field_handshake_ms(const struct tft_flow *f, char *buf, size_t size);
/* A CLOCK_MONOTONIC instant as RFC 3339 UTC with microseconds; buf holds 32. */
void flow_field_time_iso(uint64_t mono_ns, char *buf, size_t size);
/* The address of one end as text; buf holds INET6_ADDRSTRLEN. */
const char *flow_field_addr(uint8_t family, const uint8_t *addr, char *buf, size_t size);

/*
 * Longest text of one end's names in the text stream; longer ends with a cut
 * mark. Machine formats (CSV stream, JSON, the CSV export) are never cut.
 */
#define FLOW_NAMES_MAX_COLS 200
/* Room one end's names need as escaped text, uncut, NUL included: \xHH is 4 bytes a byte. */
#define FLOW_NAMES_TEXT_SIZE (NAMES_LIST_MAX * (4 * TFT_DNS_CACHE_NAME_MAX + 2) + 8)

/*
 * One end's names as safe text: each escaped for a terminal (\xHH), PTR
 * names marked with a leading '~', joined by sep, capped at max_cols
 * columns (0: no cap) with a cut mark; a full buffer ends the text. A
 * space or a byte of sep inside a name is escaped as \xHH too, so a name
 * cannot forge a separator. Returns buf ("" without names).
 */
const char *flow_names_text(const struct names_list *l, const char *sep, size_t max_cols, char *buf,
			    size_t size);
/*
 * JSON array of {"name":..,"source":..}: each name spelt as in text and CSV
 * (bytes outside printable ASCII and the backslash as \xHH), then
 * JSON-quoted, so the string holds printable ASCII only.
 */
void flow_names_json(const struct names_list *l, char *buf, size_t size);
/* Room one end's names need in JSON, NUL included. */
#define FLOW_NAMES_JSON_SIZE (NAMES_LIST_MAX * (6 * TFT_DNS_CACHE_NAME_MAX + 40) + 8)

#endif /* TFT_FLOW_FIELDS_H */
