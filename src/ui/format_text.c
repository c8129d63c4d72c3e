/* The text stream: one line per change, columns padded for people, "-" for no value. */
#include "output_format.h"

static void pad(struct format_buf *b, size_t n)
{
	for (; n > 0; n--)
		b->buf[b->len++] = ' ';
}

/* Writes text (len bytes at b's end already, or s) padded to width, as the field aligns. */
static void column(struct format_buf *b, const struct flow_field_desc *d, size_t start, size_t len)
{
	size_t width = (size_t)d->text_width;

	if (len >= width)
		return;
	if (d->right) {
		memmove(b->buf + start + (width - len), b->buf + start, len);
		memset(b->buf + start, ' ', width - len);
		b->len = start + width;
	} else {
		pad(b, width - len);
	}
}

static void text_header(struct format_buf *b)
{
	enum flow_field ids[FLOW_FIELD_COUNT];
	size_t n = flow_fields_with(FLOW_FIELD_ON_TEXT, ids), i;

	for (i = 0; i < n; i++) {
		const struct flow_field_desc *d = flow_field(ids[i]);
		size_t start = b->len;

		if (i)
			b->buf[b->len++] = ' ', start++;
		format_puts(b, d->text_title);
		column(b, d, start, b->len - start);
	}
	b->buf[b->len++] = '\n';
}

static void text_record(struct format_buf *b, const struct flow_field_ctx *c)
{
	static enum flow_field ids[FLOW_FIELD_COUNT];
	static size_t n;
	size_t i;

	if (!n)
		n = flow_fields_with(FLOW_FIELD_ON_TEXT, ids);
	for (i = 0; i < n; i++) {
		const struct flow_field_desc *d = flow_field(ids[i]);
		size_t start, len;

		if (i)
			b->buf[b->len++] = ' ';
		start = b->len;
		len = format_field(b, ids[i], c, FLOW_TARGET_TEXT);
		if (!len) {
			b->buf[b->len++] = '-';
			len = 1;
		}
		column(b, d, start, len);
	}
	b->buf[b->len++] = '\n';
}

static void text_lost(struct format_buf *b, uint64_t lost, uint64_t at_ns)
{
	/* People read losses on stderr; the columns stay flows only. */
	(void)b;
	(void)lost;
	(void)at_ns;
}

/* The flow columns, padded as flows are: event "alert", the count under STATE. */
static void text_alert(struct format_buf *b, const struct reset_alert_event *a)
{
	enum flow_field ids[FLOW_FIELD_COUNT];
	size_t n = flow_fields_with(FLOW_FIELD_ON_TEXT, ids), i;
	struct flow_field_ctx c;
	struct tft_flow stand_in;

	format_alert_ctx(a, &stand_in, &c);
	for (i = 0; i < n; i++) {
		size_t start, len;

		if (i)
			b->buf[b->len++] = ' ';
		start = b->len;
		len = format_alert_cell(b, ids[i], &c, a->count, FLOW_TARGET_TEXT);
		if (!len) {
			b->buf[b->len++] = '-';
			len = 1;
		}
		column(b, flow_field(ids[i]), start, len);
	}
	b->buf[b->len++] = '\n';
}

static void text_end(struct format_buf *b)
{
	(void)b;
}

const struct output_format_ops format_text = {
    .name = "text",
    .header = text_header,
    .record = text_record,
    .lost = text_lost,
    .alert = text_alert,
    .end = text_end,
};
