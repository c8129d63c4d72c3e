/*
 * JSON lines: a "flow" record for a new flow, an "update" record for a
 * change (answer, establishment, retransmission, idle flag), a "close"
 * record for a flow's end, a "lost" record for lost events, an "alert"
 * record for a reset burst.
 */
#include <stdio.h>

#include "output_format.h"

static void json_header(struct format_buf *b)
{
	(void)b; /* every record names its keys */
}

static void json_record(struct format_buf *b, const struct flow_field_ctx *c)
{
	/* Each key's `,"key":` once: the per-record path stays free of strlen and printf. */
	static enum flow_field ids[FLOW_FIELD_COUNT];
	static char keys[FLOW_FIELD_COUNT][40];
	static size_t n, key_len[FLOW_FIELD_COUNT];
	size_t i;

	if (!n) {
		n = flow_fields_with(FLOW_FIELD_ON_JSON, ids);
		for (i = 0; i < n; i++)
			key_len[i] = (size_t)snprintf(keys[i], sizeof(keys[i]),
						      ",\"%s\":", flow_field(ids[i])->key);
	}
	if (c->change == TFT_CHANGE_NEW)
		format_put(b, "{\"type\":\"flow\"", 14);
	else if (c->change == TFT_CHANGE_END)
		format_put(b, "{\"type\":\"close\"", 15);
	else
		format_put(b, "{\"type\":\"update\"", 16);
	for (i = 0; i < n; i++) {
		format_put(b, keys[i], key_len[i]);
		format_field(b, ids[i], c, FLOW_TARGET_JSON);
	}
	format_put(b, "}\n", 2);
}

/* A running total: {"type":TYPE,"time":...,KEY:N}. */
static void json_total(struct format_buf *b, const char *type, const char *key, uint64_t n,
		       uint64_t at_ns)
{
	char t[40];
	int w;

	flow_field_time_iso(at_ns, t, sizeof(t));
	w = snprintf(b->buf + b->len, b->size - b->len,
		     "{\"type\":\"%s\",\"time\":\"%s\",\"%s\":%llu}\n", type, t, key,
		     (unsigned long long)n);
	if (w > 0 && (size_t)w < b->size - b->len)
		b->len += (size_t)w;
}

static void json_lost(struct format_buf *b, uint64_t lost, uint64_t at_ns)
{
	json_total(b, "lost", "events_lost", lost, at_ns);
}

static void json_ignored(struct format_buf *b, uint64_t answers, uint64_t at_ns)
{
	json_total(b, "dns_ignored", "answers_ignored", answers, at_ns);
}

static void json_alert(struct format_buf *b, const struct reset_alert_event *a)
{
	char t[40], addr[48];
	int w;

	flow_field_time_iso(a->at_ns, t, sizeof(t));
	flow_field_addr(a->family, a->addr, addr, sizeof(addr));
	w = snprintf(
	    b->buf + b->len, b->size - b->len,
	    "{\"type\":\"alert\",\"time\":\"%s\",\"family\":%u,\"addr\":\"%s\",\"port\":%u,"
	    "\"count\":%llu,\"window_s\":%d}\n",
	    t, a->family, addr, a->port, (unsigned long long)a->count, RESET_ALERT_WINDOW_S);
	if (w > 0 && (size_t)w < b->size - b->len)
		b->len += (size_t)w;
}

static void json_end(struct format_buf *b)
{
	(void)b;
}

const struct output_format_ops format_json = {
    .name = "json",
    .alias = "jsonl",
    .header = json_header,
    .record = json_record,
    .lost = json_lost,
    .ignored = json_ignored,
    .alert = json_alert,
    .end = json_end,
};
