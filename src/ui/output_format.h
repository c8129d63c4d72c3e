/*
 * The stream formats behind one small interface: a header, a record per
 * flow change, a lost-events record and an end of run. Each format is one
 * file (format_text.c, format_csv.c, format_json.c) and writes into a
 * buffer output_stream hands it with room for one record; output_stream
 * keeps the buffering, flushing, errors, filter, count and names wait.
 */
#ifndef TFT_OUTPUT_FORMAT_H
#define TFT_OUTPUT_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "flow_fields.h"

/* Room for one record: both ends' names as JSON and the other fields. */
#define OUTPUT_RECORD_MAX (2 * FLOW_NAMES_JSON_SIZE + 2048)

/* Where a format appends: buf[len..size) is free, at least OUTPUT_RECORD_MAX bytes. */
struct format_buf {
	char *buf; /* borrowed */
	size_t len;
	size_t size;
};

struct output_format_ops {
	const char *name;  /* --format value, e.g. "json" */
	const char *alias; /* another accepted value, or NULL */
	/* Before any record (column titles), or nothing. */
	void (*header)(struct format_buf *b);
	/* One flow change; c->change says which, c->at_ns when. */
	void (*record)(struct format_buf *b, const struct flow_field_ctx *c);
	/* How many events were lost so far, or nothing. */
	void (*lost)(struct format_buf *b, uint64_t lost, uint64_t at_ns);
	/* How many DNS answers were ignored so far (they answered no query seen), or nothing. */
	void (*ignored)(struct format_buf *b, uint64_t answers, uint64_t at_ns);
	/* After the last record, or nothing. */
	void (*end)(struct format_buf *b);
};

extern const struct output_format_ops format_text;
extern const struct output_format_ops format_csv;
extern const struct output_format_ops format_json;

static inline void format_put(struct format_buf *b, const char *s, size_t n)
{
	if (n > b->size - b->len - 1)
		n = b->size - b->len - 1; /* cannot happen within OUTPUT_RECORD_MAX */
	memcpy(b->buf + b->len, s, n);
	b->len += n;
}

static inline void format_puts(struct format_buf *b, const char *s)
{
	format_put(b, s, strlen(s));
}

/* Renders field id for target straight into the buffer; returns its length. */
static inline size_t format_field(struct format_buf *b, enum flow_field id,
				  const struct flow_field_ctx *c, enum flow_field_target target)
{
	char *at = b->buf + b->len;
	size_t n;

	at[0] = '\0';
	n = flow_field(id)->render(c, target, at, b->size - b->len);
	b->len += n;
	return n;
}

#endif /* TFT_OUTPUT_FORMAT_H */
