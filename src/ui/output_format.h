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
#include "reset_alert.h"

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
	/* A reset burst hit a service. */
	void (*alert)(struct format_buf *b, const struct reset_alert_event *a);
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

/*
 * An alert as a row of the flow columns (text and CSV): the flow fields
 * render it from a flow standing in for the service (family, dst_addr,
 * dst_port, time); event says "alert", state holds the count, other
 * cells are empty. Fills *stand_in and c for format_alert_cell.
 */
static inline void format_alert_ctx(const struct reset_alert_event *a, struct tft_flow *stand_in,
				    struct flow_field_ctx *c)
{
	memset(stand_in, 0, sizeof(*stand_in));
	stand_in->key.family = a->family;
	memcpy(stand_in->key.daddr, a->addr, sizeof(stand_in->key.daddr));
	stand_in->key.dport = a->port;
	stand_in->syn_ns = a->at_ns;
	memset(c, 0, sizeof(*c));
	c->flow = stand_in;
	c->at_ns = a->at_ns;
}

/* One cell of an alert row into the buffer (see format_alert_ctx); returns its length. */
size_t format_alert_cell(struct format_buf *b, enum flow_field id, const struct flow_field_ctx *c,
			 uint64_t count, enum flow_field_target target);

#endif /* TFT_OUTPUT_FORMAT_H */
