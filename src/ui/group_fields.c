/*
 * The group field table. The --group-by streams are interfaces people
 * script against (README, tcpflowtop(8)): renderings for the text, CSV and
 * JSON targets must not change by accident.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "group_fields.h"
#include "name_escape.h"

const char *group_kind_name(enum flow_group_kind kind)
{
	return kind == FLOW_GROUP_LISTENER  ? "listener"
	       : kind == FLOW_GROUP_PROCESS ? "process"
					    : "remote";
}

int group_kind_parse(const char *text, enum flow_group_kind *out)
{
	if (!strcmp(text, "remote"))
		*out = FLOW_GROUP_REMOTE;
	else if (!strcmp(text, "listener"))
		*out = FLOW_GROUP_LISTENER;
	else if (!strcmp(text, "process"))
		*out = FLOW_GROUP_PROCESS;
	else
		return -EINVAL;
	return 0;
}

void group_row_fill(struct group_row *r, uint32_t i, const struct flow_group *gr, uint64_t now_ns,
		    struct group_row_cache *cache)
{
	static const double qs[2] = {0.50, 0.95};
	struct group_row_cache local = {0};
	/* Only listeners count top clients (Space-Saving fills top[0] first). */
	const struct flow_group_client *top = gr->top[0].count ? flow_group_top_client(gr) : NULL;

	memset(r, 0, sizeof(*r));
	r->index = i;
	r->other = gr->other;
	r->flows = gr->flows;
	r->accepted = gr->accepted;
	r->refused = gr->refused;
	r->unanswered = gr->flows - gr->accepted - gr->refused;
	r->reset = gr->reset;
	r->retrans = gr->retrans;
	r->half_open = gr->half_open;
	r->bytes_in = gr->bytes_in;
	r->bytes_out = gr->bytes_out;
	r->last_pid = gr->last_pid;
	if (!cache)
		cache = &local;
	if (!cache->valid || cache->flows != gr->flows) {
		cache->clients = gr->hll ? flow_group_clients(gr) : 0;
		cache->flows = gr->flows;
	}
	if (!cache->valid || cache->hs_total != gr->hs.total) {
		uint64_t q[2];

		hdr_hist_quantiles(&gr->hs, qs, 2, q);
		cache->p50 = q[0];
		cache->p95 = q[1];
		cache->hs_total = gr->hs.total;
	}
	cache->valid = true;
	r->clients = cache->clients;
	r->answered = gr->hs.total;
	if (r->answered) {
		r->p50 = cache->p50;
		r->p95 = cache->p95;
		r->max = gr->hs.max;
	}
	r->rate_milli = (uint64_t)(flow_group_rate(gr, now_ns) * 1000 + 0.5);
	r->last_ns = gr->last_ns;
	if (top) {
		r->top_count = top->count;
		r->top_family = top->family;
		memcpy(r->top_addr, top->addr, 16);
	}
}

/* --- render helpers ------------------------------------------------------------------- */

static size_t put_text(char *buf, size_t size, const char *s)
{
	size_t n = strlen(s);

	if (!size)
		return 0;
	if (n >= size)
		n = size - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return n;
}

static size_t put_u(char *buf, size_t size, uint64_t v)
{
	snprintf(buf, size, "%llu", (unsigned long long)v);
	return strlen(buf);
}

/* Safe text for target: escaped for a terminal, quoted for CSV and JSON. */
static size_t put_untrusted(const char *s, size_t len, enum flow_field_target t, char *buf,
			    size_t size)
{
	char text[4 * FLOW_GROUP_NAME_MAX + 8];
	struct names_list l = {1, {{s, len, TFT_NAME_DNS}}};
	size_t n;

	switch (t) {
	case FLOW_TARGET_JSON:
		/* spelt as in text and CSV, then quoted, as flow_names_json spells names */
		n = tft_escape_term(text, sizeof(text), s, len, 0);
		tft_escape_json(buf, size, text, n < sizeof(text) ? n : strlen(text));
		return strlen(buf);
	case FLOW_TARGET_CSV:
		flow_names_text(&l, " ", FLOW_NAMES_MAX_COLS, text, sizeof(text));
		tft_escape_csv(buf, size, text, strlen(text));
		return strlen(buf);
	case FLOW_TARGET_TEXT:
		return strlen(flow_names_text(&l, ",", FLOW_NAMES_MAX_COLS, buf, size));
	default: /* the screen fits the cell; the export quotes the cell */
		return strlen(flow_names_text(&l, ",", 0, buf, size));
	}
}

static size_t put_addr(uint8_t family, const uint8_t *addr, enum flow_field_target t, char *buf,
		       size_t size)
{
	char a[64];

	flow_field_addr(family, addr, a, sizeof(a));
	if (t == FLOW_TARGET_JSON)
		return (size_t)snprintf(buf, size, "\"%s\"", a) < size ? strlen(buf) : 0;
	return put_text(buf, size, a);
}

/* Bytes on the screen in 1024s ("512", "1.5K", "23.4M", "118G"); elsewhere whole. */
static size_t put_bytes(uint64_t v, enum flow_field_target t, char *buf, size_t size)
{
	if (t != FLOW_TARGET_SCREEN)
		return put_u(buf, size, v);
	flow_field_bytes_short(v, buf, size);
	return strlen(buf);
}

/* part / whole as a percentage with one decimal ("25.0"); "" (JSON null) when whole is 0. */
static size_t put_pct(uint64_t part, uint64_t whole, enum flow_field_target t, char *buf,
		      size_t size)
{
	uint64_t tenths;

	if (!whole)
		return put_text(buf, size, t == FLOW_TARGET_JSON ? "null" : "");
	tenths = (part * 1000 + whole / 2) / whole;
	snprintf(buf, size, "%llu.%llu", (unsigned long long)(tenths / 10),
		 (unsigned long long)(tenths % 10));
	return strlen(buf);
}

/* µs as ms with µs precision ("1.234"), as the flows' handshake column. */
static size_t put_ms(uint64_t us, bool valid, enum flow_field_target t, char *buf, size_t size)
{
	if (!valid)
		return put_text(buf, size, t == FLOW_TARGET_JSON ? "null" : "");
	flow_field_ms(us * 1000, buf, size);
	return strlen(buf);
}

/* --- the fields ----------------------------------------------------------------------- */

#define ROW (c->row)

static uint64_t number_port(const struct group_field_ctx *c)
{
	return ROW->other ? 65536 : c->key->port;
}

static size_t render_port(const struct group_field_ctx *c, enum flow_field_target t, char *buf,
			  size_t size)
{
	if (ROW->other)
		return put_text(buf, size, t == FLOW_TARGET_JSON ? "null" : "");
	return put_u(buf, size, c->key->port);
}

static size_t render_endpoint(const struct group_field_ctx *c, enum flow_field_target t, char *buf,
			      size_t size)
{
	if (ROW->other)
		return put_text(buf, size, t == FLOW_TARGET_JSON ? "\"other\"" : "other");
	if (c->key->name_len)
		return put_untrusted(c->key->name, c->key->name_len, t, buf, size);
	return put_addr(c->key->family, c->key->addr, t, buf, size);
}

/* The owner of a process group; NULL when unknown (the "?" rows). */
static bool owner_known(const struct group_field_ctx *c)
{
	return !ROW->other && c->key->owner == TFT_OWNER_KNOWN;
}

static size_t render_process(const struct group_field_ctx *c, enum flow_field_target t, char *buf,
			     size_t size)
{
	if (ROW->other)
		return put_text(buf, size, t == FLOW_TARGET_JSON ? "\"other\"" : "other");
	if (!owner_known(c))
		return flow_field_owner_text(NULL, 0, t, buf, size);
	return flow_field_owner_text(c->key->comm, c->key->comm_len, t, buf, size);
}

/* The "?" rows say why the owner is unknown, in every target. */
static size_t render_service(const struct group_field_ctx *c, enum flow_field_target t, char *buf,
			     size_t size)
{
	const char *why;

	if (ROW->other)
		return put_text(buf, size, t == FLOW_TARGET_JSON ? "null" : "");
	if (!owner_known(c)) {
		why = c->key->owner == TFT_OWNER_NO_HOOK ? "(no owner hook)" : "(unknown owner)";
		if (t == FLOW_TARGET_JSON)
			return (size_t)snprintf(buf, size, "\"%s\"", why) < size ? strlen(buf) : 0;
		if (t == FLOW_TARGET_TEXT)
			why = c->key->owner == TFT_OWNER_NO_HOOK ? "(no\\x20owner\\x20hook)"
								 : "(unknown\\x20owner)";
		return put_text(buf, size, why);
	}
	if (!c->key->name_len)
		return flow_field_owner_text(NULL, 0, t, buf, size);
	return flow_field_owner_text(c->key->name, c->key->name_len, t, buf, size);
}

#define NUMBER(fn, expr)                                                                           \
	static uint64_t number_##fn(const struct group_field_ctx *c)                               \
	{                                                                                          \
		return (expr);                                                                     \
	}
#define RENDER_U(fn, expr)                                                                         \
	NUMBER(fn, expr)                                                                           \
	static size_t render_##fn(const struct group_field_ctx *c, enum flow_field_target t,       \
				  char *buf, size_t size)                                          \
	{                                                                                          \
		(void)t;                                                                           \
		return put_u(buf, size, (expr));                                                   \
	}

RENDER_U(flows, ROW->flows)
RENDER_U(accepted, ROW->accepted)
RENDER_U(retx, ROW->retrans)
RENDER_U(half_open, ROW->half_open)
RENDER_U(clients, ROW->clients)
RENDER_U(top_flows, ROW->top_count)
RENDER_U(pids, ROW->clients)

NUMBER(last_pid, ROW->last_pid)

static size_t render_last_pid(const struct group_field_ctx *c, enum flow_field_target t, char *buf,
			      size_t size)
{
	if (!ROW->last_pid)
		return put_text(buf, size, t == FLOW_TARGET_JSON ? "null" : "");
	return put_u(buf, size, ROW->last_pid);
}

NUMBER(bytes_in, ROW->bytes_in)
NUMBER(bytes_out, ROW->bytes_out)

static size_t render_bytes_in(const struct group_field_ctx *c, enum flow_field_target t, char *buf,
			      size_t size)
{
	return put_bytes(ROW->bytes_in, t, buf, size);
}

static size_t render_bytes_out(const struct group_field_ctx *c, enum flow_field_target t, char *buf,
			       size_t size)
{
	return put_bytes(ROW->bytes_out, t, buf, size);
}

/* Shares sort as parts per million; a group without flows sorts first. */
NUMBER(refused, ROW->flows ? ROW->refused * 1000000 / ROW->flows : 0)
NUMBER(unanswered, ROW->flows ? ROW->unanswered * 1000000 / ROW->flows : 0)
NUMBER(reset, ROW->flows ? ROW->reset * 1000000 / ROW->flows : 0)

static size_t render_reset(const struct group_field_ctx *c, enum flow_field_target t, char *buf,
			   size_t size)
{
	return put_pct(ROW->reset, ROW->flows, t, buf, size);
}

static size_t render_refused(const struct group_field_ctx *c, enum flow_field_target t, char *buf,
			     size_t size)
{
	return put_pct(ROW->refused, ROW->flows, t, buf, size);
}

static size_t render_unanswered(const struct group_field_ctx *c, enum flow_field_target t,
				char *buf, size_t size)
{
	return put_pct(ROW->unanswered, ROW->flows, t, buf, size);
}

NUMBER(rate, ROW->rate_milli)

static size_t render_rate(const struct group_field_ctx *c, enum flow_field_target t, char *buf,
			  size_t size)
{
	uint64_t tenths = (ROW->rate_milli + 50) / 100;

	(void)t;
	snprintf(buf, size, "%llu.%llu", (unsigned long long)(tenths / 10),
		 (unsigned long long)(tenths % 10));
	return strlen(buf);
}

/* Groups without a handshake time sort as the slowest, as pending flows do. */
NUMBER(p50, ROW->answered ? ROW->p50 : UINT64_MAX)
NUMBER(p95, ROW->answered ? ROW->p95 : UINT64_MAX)
NUMBER(max, ROW->answered ? ROW->max : UINT64_MAX)

static size_t render_p50(const struct group_field_ctx *c, enum flow_field_target t, char *buf,
			 size_t size)
{
	return put_ms(ROW->p50, ROW->answered, t, buf, size);
}

static size_t render_p95(const struct group_field_ctx *c, enum flow_field_target t, char *buf,
			 size_t size)
{
	return put_ms(ROW->p95, ROW->answered, t, buf, size);
}

static size_t render_max(const struct group_field_ctx *c, enum flow_field_target t, char *buf,
			 size_t size)
{
	return put_ms(ROW->max, ROW->answered, t, buf, size);
}

static uint64_t number_top(const struct group_field_ctx *c)
{
	const uint8_t *a = ROW->top_addr;

	/* Family first, then the address's leading bytes: enough to order clients. */
	return (uint64_t)ROW->top_family << 56 | (uint64_t)a[0] << 48 | (uint64_t)a[1] << 40 |
	       (uint64_t)a[2] << 32 | (uint64_t)a[3] << 24 | (uint64_t)a[4] << 16 |
	       (uint64_t)a[5] << 8 | a[6];
}

static size_t render_top(const struct group_field_ctx *c, enum flow_field_target t, char *buf,
			 size_t size)
{
	if (!ROW->top_count)
		return put_text(buf, size, t == FLOW_TARGET_JSON ? "null" : "");
	return put_addr(ROW->top_family, ROW->top_addr, t, buf, size);
}

NUMBER(last, ROW->last_ns)

static size_t render_last(const struct group_field_ctx *c, enum flow_field_target t, char *buf,
			  size_t size)
{
	char iso[40];

	if (t == FLOW_TARGET_SCREEN || t == FLOW_TARGET_TEXT) {
		struct timespec ts = clock_mono_to_wall(ROW->last_ns);
		struct tm tm;

		localtime_r(&ts.tv_sec, &tm);
		strftime(buf, size, "%H:%M:%S", &tm);
		return strlen(buf);
	}
	flow_field_time_iso(ROW->last_ns, iso, sizeof(iso));
	if (t == FLOW_TARGET_JSON)
		return (size_t)snprintf(buf, size, "\"%s\"", iso) < size ? strlen(buf) : 0;
	return put_text(buf, size, iso);
}

static uint64_t number_none(const struct group_field_ctx *c)
{
	(void)c;
	return 0;
}

#define ALL (GROUP_IN_REMOTE | GROUP_IN_LISTENER | GROUP_IN_PROCESS)

static const struct group_field_desc fields[GROUP_FIELD_COUNT] = {
    [GROUP_FIELD_REMOTE] = {"remote", "remote", "REMOTE SERVICE",
			    "destination name when one was known at the SYN, else address",
			    GROUP_IN_REMOTE, true, 14, 40, 20, false, false, number_none,
			    render_endpoint},
    [GROUP_FIELD_LOCAL] = {"local", "local", "LOCAL ADDRESS", "the listener's local address",
			   GROUP_IN_LISTENER, true, 14, 39, 20, false, false, number_none,
			   render_endpoint},
    [GROUP_FIELD_PORT] = {"port", "port", "PORT", "destination port: the service or listener",
			  GROUP_IN_REMOTE | GROUP_IN_LISTENER, false, 6, 6, 19, true, false,
			  number_port, render_port},
    [GROUP_FIELD_PROCESS] = {"process", "comm", "PROCESS",
			     "the owner's command: who connected (out), the listener (in)",
			     GROUP_IN_PROCESS, true, 12, 15, 20, false, false, number_none,
			     render_process},
    [GROUP_FIELD_SERVICE] = {"service", "service", "SERVICE",
			     "the owner's unit or container, as the flows' SERVICE column",
			     GROUP_IN_PROCESS, true, 18, 32, 19, false, false, number_none,
			     render_service},
    [GROUP_FIELD_FLOWS] = {"flows", "flows", "FLOWS", "new flows since start", ALL, false, 8, 8, 18,
			   true, true, number_flows, render_flows},
    [GROUP_FIELD_RATE] = {"rate", "new_per_s", "NEW/S", "new flows a second, last 10 s", ALL, false,
			  7, 7, 12, true, true, number_rate, render_rate},
    [GROUP_FIELD_ACCEPTED] = {"accepted", "accepted", "ACCEPT", "flows answered by SYN-ACK", ALL,
			      false, 7, 7, 10, true, true, number_accepted, render_accepted},
    [GROUP_FIELD_REFUSED] = {"refused", "refused_pct", "REFUSED%", "share answered by RST", ALL,
			     false, 9, 9, 17, true, true, number_refused, render_refused},
    [GROUP_FIELD_UNANSWERED] = {"unanswered", "unanswered_pct", "UNANS%",
				"share not answered (yet)", ALL, false, 7, 7, 16, true, true,
				number_unanswered, render_unanswered},
    [GROUP_FIELD_RESET] = {"reset", "reset_pct", "RESET%",
			   "share ended by a reset after being accepted", ALL, false, 7, 7, 16,
			   true, true, number_reset, render_reset},
    [GROUP_FIELD_RETX] = {"retx", "syn_retrans", "RETX", "SYN retransmissions", ALL, false, 6, 6, 9,
			  true, true, number_retx, render_retx},
    [GROUP_FIELD_P50] = {"p50", "handshake_p50_ms", "HS_P50", "median handshake, ms", ALL, false, 8,
			 8, 14, true, true, number_p50, render_p50},
    [GROUP_FIELD_P95] = {"p95", "handshake_p95_ms", "HS_P95", "95th percentile handshake, ms", ALL,
			 false, 8, 8, 15, true, true, number_p95, render_p95},
    [GROUP_FIELD_MAX] = {"max", "handshake_max_ms", "HS_MAX", "slowest handshake, ms", ALL, false,
			 8, 8, 8, true, true, number_max, render_max},
    [GROUP_FIELD_BYTES_IN] = {"bytesin", "bytes_in", "BYTES_IN",
			      "payload bytes received (screen: K, M, G of 1024)", ALL, false, 9, 9,
			      4, true, true, number_bytes_in, render_bytes_in},
    [GROUP_FIELD_BYTES_OUT] = {"bytesout", "bytes_out", "BYTES_OUT",
			       "payload bytes sent and acknowledged", ALL, false, 10, 10, 4, true,
			       true, number_bytes_out, render_bytes_out},
    [GROUP_FIELD_HALF_OPEN] =
	{"halfopen", "half_open", "HALFOPEN",
	 "flows half-open now: SYN-ACK sent, no final ACK (held in the table)", GROUP_IN_LISTENER,
	 false, 9, 9, 13, true, true, number_half_open, render_half_open},
    [GROUP_FIELD_CLIENTS] = {"clients", "clients", "CLIENTS",
			     "distinct client addresses (estimated beyond a few)",
			     GROUP_IN_LISTENER, false, 8, 8, 7, true, true, number_clients,
			     render_clients},
    [GROUP_FIELD_TOP] = {"top", "top_client", "TOP CLIENT", "client with the most flows",
			 GROUP_IN_LISTENER, true, 11, 39, 6, false, false, number_top, render_top},
    [GROUP_FIELD_TOP_FLOWS] = {"topflows", "top_client_flows", "TOP#",
			       "its flows (an over-count when clients are many)", GROUP_IN_LISTENER,
			       false, 6, 6, 5, true, true, number_top_flows, render_top_flows},
    [GROUP_FIELD_PIDS] = {"pids", "pids", "PIDS", "distinct process ids (estimated beyond a few)",
			  GROUP_IN_PROCESS, false, 6, 6, 7, true, true, number_pids, render_pids},
    [GROUP_FIELD_LAST_PID] = {"pid", "last_pid", "LASTPID", "the newest flow's process id",
			      GROUP_IN_PROCESS, false, 8, 8, 6, true, true, number_last_pid,
			      render_last_pid},
    [GROUP_FIELD_LAST] = {"last", "last_seen", "LAST", "last change (local time)", ALL, false, 9, 9,
			  11, false, true, number_last, render_last},
};

const struct group_field_desc *group_field(enum group_field id)
{
	return (unsigned)id < GROUP_FIELD_COUNT ? &fields[id] : NULL;
}

int group_field_parse_n(const char *name, size_t len, enum group_field *out)
{
	int i;

	for (i = 0; i < GROUP_FIELD_COUNT; i++) {
		if (strlen(fields[i].name) == len && !strncasecmp(name, fields[i].name, len)) {
			*out = (enum group_field)i;
			return 0;
		}
	}
	return -EINVAL;
}

size_t group_fields_of(enum flow_group_kind kind, enum group_field *out)
{
	size_t n = 0;
	int i;

	for (i = 0; i < GROUP_FIELD_COUNT; i++)
		if (fields[i].views & (1u << kind))
			out[n++] = (enum group_field)i;
	return n;
}

const char *group_field_render(enum group_field id, const struct group_field_ctx *c,
			       enum flow_field_target t, char *buf, size_t size)
{
	if (!size)
		return "";
	buf[0] = '\0';
	if ((unsigned)id < GROUP_FIELD_COUNT)
		fields[id].render(c, t, buf, size);
	return buf;
}

/* A flow filter word holds at most this many bytes. */
#define FILTER_PIECE_MAX 63

/* How much of escaped text of n bytes fits max bytes without ending inside a \xHH escape. */
static size_t escaped_cut(const char *text, size_t n, size_t max)
{
	size_t b;

	if (n <= max)
		return n;
	for (b = 1; b <= 3; b++)
		if (text[max - b] == '\\')
			return max - b;
	return max;
}

/*
 * " FIELD:PIECE" for untrusted text as the flow table's screen writes it:
 * its longest run without a space (the filter splits words on spaces), at
 * most 63 bytes and never ending inside a \xHH escape. Nothing for "".
 */
static void add_piece(char *buf, size_t size, const char *field, const char *s, size_t len)
{
	char esc[4 * FLOW_GROUP_NAME_MAX + 1];
	size_t n = tft_escape_term(esc, sizeof(esc), s, len, 0), i, run = 0, best = 0, at = 0;
	size_t used = strlen(buf);

	if (n >= sizeof(esc))
		n = strlen(esc);
	for (i = 0; i <= n; i++) {
		if (i < n && esc[i] != ' ') {
			run++;
			continue;
		}
		if (run > best) {
			best = run;
			at = i - run;
		}
		run = 0;
	}
	best = escaped_cut(esc + at, best, FILTER_PIECE_MAX);
	if (best && used < size)
		snprintf(buf + used, size - used, " %s:%.*s", field, (int)best, esc + at);
}

const char *group_flow_filter(enum flow_group_kind kind, const struct flow_group_key *key,
			      char *buf, size_t size)
{
	char text[4 * FLOW_GROUP_NAME_MAX + 8], a[64];
	struct names_list l = {1, {{key->name, key->name_len, TFT_NAME_DNS}}};
	size_t cut;

	if (!size)
		return buf;
	buf[0] = '\0';
	if (kind == FLOW_GROUP_PROCESS) {
		/* Unknown owners, and unknown services, show as "?" on the flows' screen. */
		if (key->owner == FLOW_GROUP_OWNER_OTHER)
			return buf; /* `other`: no one filter shows its flows */
		if (key->owner != TFT_OWNER_KNOWN)
			snprintf(buf, size, "proc:? svc:?");
		else if (!key->comm_len && !key->name_len)
			snprintf(buf, size, "svc:?"); /* a command cannot be asked for by "" */
		else {
			add_piece(buf, size, "proc", key->comm, key->comm_len);
			if (key->name_len)
				add_piece(buf, size, "svc", key->name, key->name_len);
			else
				snprintf(buf + strlen(buf), size - strlen(buf), " svc:?");
			if (buf[0] == ' ')
				memmove(buf, buf + 1, strlen(buf));
		}
		return buf;
	}
	if (!key->family && !key->name_len)
		return buf; /* `other`: no one filter shows its flows */
	if (kind == FLOW_GROUP_LISTENER) {
		flow_field_addr(key->family, key->addr, a, sizeof(a));
		snprintf(buf, size, "in dst:%s dport:%u", a, key->port);
	} else if (key->name_len) {
		/* The filter matches the escaped text; a word holds at most 63 bytes of it. */
		flow_names_text(&l, ",", 0, text, sizeof(text));
		cut = escaped_cut(text, strlen(text), FILTER_PIECE_MAX);
		snprintf(buf, size, "out dnames:%.*s dport:%u", (int)cut, text, key->port);
	} else if (key->family) {
		flow_field_addr(key->family, key->addr, a, sizeof(a));
		snprintf(buf, size, "out dst:%s dport:%u", a, key->port);
	}
	return buf;
}
