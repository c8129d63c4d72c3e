/* The CSV stream (LF line ends, as text tools expect): the field table's stream columns. */
#include "output_format.h"

static void csv_header(struct format_buf *b)
{
	enum flow_field ids[FLOW_FIELD_COUNT];
	size_t n = flow_fields_with(FLOW_FIELD_ON_CSV, ids), i;

	for (i = 0; i < n; i++) {
		if (i)
			b->buf[b->len++] = ',';
		format_puts(b, flow_field(ids[i])->key);
	}
	b->buf[b->len++] = '\n';
}

static void csv_record(struct format_buf *b, const struct flow_field_ctx *c)
{
	static enum flow_field ids[FLOW_FIELD_COUNT];
	static size_t n;
	size_t i;

	if (!n)
		n = flow_fields_with(FLOW_FIELD_ON_CSV, ids);
	for (i = 0; i < n; i++) {
		if (i)
			b->buf[b->len++] = ',';
		format_field(b, ids[i], c, FLOW_TARGET_CSV);
	}
	b->buf[b->len++] = '\n';
}

static void csv_lost(struct format_buf *b, uint64_t lost, uint64_t at_ns)
{
	/* A row of another shape would break readers; losses go to stderr. */
	(void)b;
	(void)lost;
	(void)at_ns;
}

/* A row of the same columns, so readers keep one shape (output_format.h). */
static void csv_alert(struct format_buf *b, const struct reset_alert_event *a)
{
	enum flow_field ids[FLOW_FIELD_COUNT];
	size_t n = flow_fields_with(FLOW_FIELD_ON_CSV, ids), i;
	struct flow_field_ctx c;
	struct tft_flow stand_in;

	format_alert_ctx(a, &stand_in, &c);
	for (i = 0; i < n; i++) {
		if (i)
			b->buf[b->len++] = ',';
		format_alert_cell(b, ids[i], &c, a->count, FLOW_TARGET_CSV);
	}
	b->buf[b->len++] = '\n';
}

static void csv_end(struct format_buf *b)
{
	(void)b;
}

const struct output_format_ops format_csv = {
    .name = "csv",
    .header = csv_header,
    .record = csv_record,
    .lost = csv_lost,
    .alert = csv_alert,
    .end = csv_end,
};
