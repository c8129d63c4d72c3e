/* Streaming output for pipes: one line (or JSON record) per new flow and per change. */
#ifndef TFT_OUTPUT_STREAM_H
#define TFT_OUTPUT_STREAM_H

#include <stdint.h>
#include <stddef.h>

#include "dns_cache.h"
#include "flow_table.h"

enum output_format {
	OUTPUT_TEXT = 0,
	OUTPUT_CSV = 1,
	OUTPUT_JSON = 2,
};

struct output_stream;

/* The names known now for one address, or NULL. */
typedef const struct dns_names *(*output_names_fn)(void *ctx, uint8_t family, const uint8_t *addr);

/* Longest text of one end's names in text and CSV output; longer ends with a cut mark. */
#define OUTPUT_NAMES_MAX_COLS 200

/* Returns 0 and sets *fmt for "text", "csv" or "json" (also "jsonl"); -EINVAL otherwise. */
int output_format_parse(const char *text, enum output_format *fmt);

/* Writes to fd (borrowed), buffered: call output_stream_flush after a batch. */
struct output_stream *output_stream_new(int fd, enum output_format fmt);
void output_stream_free(struct output_stream *o);

/* Where names come from; without it the name columns stay empty. */
void output_stream_set_names(struct output_stream *o, output_names_fn fn, void *ctx);

/* The header line (text and CSV); JSON has none. */
int output_stream_header(struct output_stream *o);
/*
 * One record for a flow that changed: TFT_CHANGE_NEW prints the flow,
 * TFT_CHANGE_STATE and TFT_CHANGE_RETRANS print an update. at_ns is when
 * the change happened (CLOCK_MONOTONIC).
 */
int output_stream_flow(struct output_stream *o, const struct tft_flow *f,
		       enum tft_flow_change change, uint64_t at_ns);
/* JSON only: a record saying how many events were lost so far. */
int output_stream_lost(struct output_stream *o, uint64_t lost, uint64_t at_ns);
/* Returns 0, or -errno of the first failed write (EPIPE when the reader left). */
int output_stream_flush(struct output_stream *o);

/* Shared formatting, also used by the screen and the CSV export. */
const char *output_direction_name(uint8_t dir);
const char *output_state_name(uint8_t state);
/*
 * One end's names as safe text: each escaped for a terminal (\xHH), PTR
 * names marked with a leading '~', joined by sep, capped at max_cols
 * columns with a cut mark. Returns buf ("" when names is NULL).
 */
const char *output_names_text(const struct dns_names *names, const char *sep, size_t max_cols,
			      char *buf, size_t size);
/* First SYN to answer in ms with µs precision ("1.234"), or "" while pending. */
void output_handshake_ms(const struct tft_flow *f, char *buf, size_t size);
/* A CLOCK_MONOTONIC instant as RFC 3339 UTC with microseconds; buf holds 32. */
void output_time_iso(uint64_t mono_ns, char *buf, size_t size);
/* The address of one end as text; buf holds INET6_ADDRSTRLEN. */
const char *output_addr(uint8_t family, const uint8_t *addr, char *buf, size_t size);

#endif /* TFT_OUTPUT_STREAM_H */
