/*
 * Streaming output for pipes: one line (or JSON record) per new flow and per
 * change, in a format of output_format.h. The stream decides what to print
 * (its filter, --count) and when (--resolve-wait holds a record until its
 * names settle), buffers, and writes; the caller feeds it every change and
 * ticks it.
 */
#ifndef TFT_OUTPUT_STREAM_H
#define TFT_OUTPUT_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "filter.h"
#include "flow_table.h"
#include "names_provider.h"
#include "reset_alert.h"

enum output_format {
	OUTPUT_TEXT = 0,
	OUTPUT_CSV = 1,
	OUTPUT_JSON = 2,
};

struct output_stream;

/* Which records a stream prints (--events). */
enum output_event {
	OUTPUT_EVENT_NEW = 1 << 0,    /* a flow's first record */
	OUTPUT_EVENT_UPDATE = 1 << 1, /* answered, established, retrans, idle or active */
	OUTPUT_EVENT_CLOSE = 1 << 2,  /* a flow's last record: it ended, or left still open */
	OUTPUT_EVENT_ALL = OUTPUT_EVENT_NEW | OUTPUT_EVENT_UPDATE | OUTPUT_EVENT_CLOSE,
};

/*
 * Parses --events: a comma-separated list of new, update, close (or all).
 * 0 and *mask, or -EINVAL.
 */
int output_events_parse(const char *text, unsigned *mask);

/* Returns 0 and sets *fmt for "text", "csv" or "json" (also "jsonl"); -EINVAL otherwise. */
int output_format_parse(const char *text, enum output_format *fmt);

struct output_stream_opts {
	enum output_format format;
	const struct filter *filter; /* copied; NULL: every flow */
	unsigned long long count;    /* stop after this many flows introduced; 0: no limit */
	unsigned events;	     /* enum output_event bits; 0: all */
};

/*
 * Writes to fd (borrowed), buffered: call output_stream_flush after a
 * batch. opts NULL: text, every flow, no limit. NULL and errno on failure.
 */
struct output_stream *output_stream_new(int fd, const struct output_stream_opts *opts);
/* Flushes what is buffered (held records are dropped: tick with final first). NULL is fine. */
void output_stream_free(struct output_stream *o);

/* Where names come from (copied; ctx borrowed); without it the name columns stay empty. */
void output_stream_set_names(struct output_stream *o, const struct names_provider *names);

/* Whether no better names are coming for addr (known, failed, or none asked). */
typedef bool (*output_settled_fn)(void *ctx, uint8_t family, const uint8_t *addr);

/*
 * --resolve-wait: hold each record up to wait_ms for both ends' names to
 * settle; records leave in arrival order (a record waits behind an older
 * one). 0 or -ENOMEM.
 */
int output_stream_set_hold(struct output_stream *o, unsigned wait_ms, output_settled_fn settled,
			   void *ctx);

/* The header line (text and CSV); JSON has none. */
int output_stream_header(struct output_stream *o);
/*
 * A flow changed at at_ns (CLOCK_MONOTONIC). A change that leaves the flow
 * ended (TFT_CHANGE_END, or a refusal) is its close record. A flow is
 * introduced by its first record that passes the filter and the events
 * selected: a `new` record when new records are selected (at its SYN, or
 * on a later change, then in its state at that change, even its end);
 * otherwise the record it is. Later changes of an
 * introduced flow print (update, idle, active, close) when they pass the
 * filter and are selected; a flow never introduced prints nothing. --count
 * counts introductions: past it, no flow is introduced. With a hold, the
 * record is queued (a copy of the flow) and printed by a later tick.
 */
int output_stream_flow(struct output_stream *o, const struct tft_flow *f,
		       enum tft_flow_change change, uint64_t at_ns);
/* The flow left the table (evicted): it cannot change again, forget it. */
void output_stream_forget(struct output_stream *o, uint64_t id);
/*
 * The flow leaves the table at at_ns (evicted, or tcpflowtop stops): one
 * still running gets its close record, end "open" and its duration to
 * at_ns, when open_closes (the flows have outcomes, so "open" means open);
 * then it is forgotten.
 */
int output_stream_left(struct output_stream *o, const struct tft_flow *f, uint64_t at_ns,
		       bool open_closes);
/*
 * A reset burst: a JSON "alert" record; in text and CSV a row of the flow
 * columns with event "alert", the service in family, dst_addr and dst_port,
 * the count in state. Printed when close records are selected.
 */
int output_stream_alert(struct output_stream *o, const struct reset_alert_event *a);
/* A record saying how many events were lost so far (JSON only). */
int output_stream_lost(struct output_stream *o, uint64_t lost, uint64_t at_ns);
/* A record saying how many DNS answers were ignored so far, answering no query seen (JSON only). */
int output_stream_ignored(struct output_stream *o, uint64_t answers, uint64_t at_ns);
/*
 * Prints held records whose names settled or whose wait is over at now_ns;
 * final prints every one and ends the run (the format's end of run).
 */
void output_stream_tick(struct output_stream *o, uint64_t now_ns, bool final);
/* True once --count flows were introduced: the caller stops (and ticks final). */
bool output_stream_done(const struct output_stream *o);
/* Returns 0, or -errno of the first failed write (EPIPE when the reader left). */
int output_stream_flush(struct output_stream *o);

#endif /* TFT_OUTPUT_STREAM_H */
