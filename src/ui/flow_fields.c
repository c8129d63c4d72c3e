/*
 * The field table. The stream formats are interfaces people script against
 * (the README documents each column): a render function's output for the
 * text, CSV and JSON targets must not change by accident.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cgroup_name.h"
#include "clock.h"
#include "flow_fields.h"
#include "name_escape.h"
#include "owner_names.h"

/* --- shared formatting ------------------------------------------------------------- */

const char *flow_field_dir_name(uint8_t dir)
{
	return dir == TFT_DIR_IN ? "in" : dir == TFT_DIR_OUT ? "out" : "?";
}

const char *flow_field_state_name(uint8_t state)
{
	switch (state) {
	case TFT_STATE_PENDING:
		return "pending";
	case TFT_STATE_ACCEPTED:
		return "accepted";
	case TFT_STATE_REFUSED:
		return "refused";
	case TFT_STATE_ESTABLISHED:
		return "established";
	case TFT_STATE_CLOSED:
		return "closed";
	case TFT_STATE_UNANSWERED:
		return "unanswered";
	case TFT_STATE_HALF_OPEN:
		return "half-open";
	default:
		return "?";
	}
}

const char *flow_field_end_name(uint8_t end)
{
	switch (end) {
	case TFT_END_FIN_LOCAL:
	case TFT_END_FIN_PEER:
		return "fin";
	case TFT_END_RESET_PEER:
		return "reset-by-peer";
	case TFT_END_RESET_LOCAL:
		return "reset-by-local";
	case TFT_END_TIMEOUT:
		return "timeout";
	case TFT_END_HALF_OPEN:
		return "half-open";
	case TFT_END_OPEN:
		return "open";
	default:
		return "";
	}
}

bool flow_field_ended(const struct tft_flow *f)
{
	return f->end != TFT_END_NONE;
}

/*
 * The event column: a close record is any flow's last (closed, refused,
 * unanswered, half-open, or still open when it left); an update that only
 * turned the idle flag says which way.
 */
static const char *change_name(const struct flow_field_ctx *c)
{
	switch (c->change) {
	case TFT_CHANGE_NEW:
		return "new";
	case TFT_CHANGE_RETRANS:
		return "retrans";
	case TFT_CHANGE_END:
		return "close";
	case TFT_CHANGE_UPDATE:
		return c->flow->flags & TFT_FLOW_F_IDLE ? "idle" : "active";
	default:
		return "update";
	}
}

/* An address as text into buf (INET6_ADDRSTRLEN at least); returns its length. */
static size_t addr_text(uint8_t family, const uint8_t *addr, char *buf, size_t size)
{
	/* IPv4 by hand: glibc's inet_ntop formats it with sprintf, slow on the per-record path. */
	if (family == 4 && size >= INET_ADDRSTRLEN) {
		char *p = buf;
		int i;

		for (i = 0; i < 4; i++) {
			unsigned v = addr[i];

			if (v >= 100)
				*p++ = (char)('0' + v / 100);
			if (v >= 10)
				*p++ = (char)('0' + v / 10 % 10);
			*p++ = (char)('0' + v % 10);
			*p++ = i < 3 ? '.' : '\0';
		}
		return (size_t)(p - buf - 1);
	}
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, (socklen_t)size))
		snprintf(buf, size, "?");
	return strlen(buf);
}

const char *flow_field_addr(uint8_t family, const uint8_t *addr, char *buf, size_t size)
{
	addr_text(family, addr, buf, size);
	return buf;
}

/*
 * Calendar conversion (gmtime_r, localtime_r and their tz lookups) costs more
 * than the rest of a record: do it once per second, then add the fraction.
 */
struct second_cache {
	time_t sec;
	int valid;
	char text[24];
};

static const char *second_text(struct second_cache *c, time_t sec, bool local)
{
	struct tm tm;

	if (!c->valid || c->sec != sec) {
		if (local)
			localtime_r(&sec, &tm);
		else
			gmtime_r(&sec, &tm);
		strftime(c->text, sizeof(c->text), local ? "%H:%M:%S" : "%Y-%m-%dT%H:%M:%S", &tm);
		c->sec = sec;
		c->valid = 1;
	}
	return c->text;
}

/* n decimal digits of v, zero-padded, at p. */
static void digits(char *p, unsigned long v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* Local HH:MM:SS.mmm for people. */
static void time_local(uint64_t mono_ns, char *buf, size_t size)
{
	static struct second_cache cache;
	struct timespec ts = clock_mono_to_wall(mono_ns);
	const char *sec = second_text(&cache, ts.tv_sec, true);
	size_t n = strlen(sec);

	if (n + 5 > size) {
		buf[0] = '\0';
		return;
	}
	memcpy(buf, sec, n);
	buf[n] = '.';
	digits(buf + n + 1, (unsigned long)ts.tv_nsec / 1000000, 3);
	buf[n + 4] = '\0';
}

void flow_field_time_iso(uint64_t mono_ns, char *buf, size_t size)
{
	static struct second_cache cache;
	struct timespec ts = clock_mono_to_wall(mono_ns);
	const char *sec = second_text(&cache, ts.tv_sec, false);
	size_t n = strlen(sec);

	if (n + 9 > size) {
		buf[0] = '\0';
		return;
	}
	memcpy(buf, sec, n);
	buf[n] = '.';
	digits(buf + n + 1, (unsigned long)ts.tv_nsec / 1000, 6);
	buf[n + 7] = 'Z';
	buf[n + 8] = '\0';
}

void flow_field_ms(uint64_t d, char *buf, size_t size)
{
	if (d < 1000000000ULL && size >= 8) {
		/* the common case without snprintf: up to 999.999 ms */
		unsigned ms = (unsigned)(d / 1000000), n = ms >= 100 ? 3 : ms >= 10 ? 2 : 1;

		digits(buf, ms, (int)n);
		buf[n] = '.';
		digits(buf + n + 1, (unsigned long)(d / 1000 % 1000), 3);
		buf[n + 4] = '\0';
		return;
	}
	snprintf(buf, size, "%llu.%03u", (unsigned long long)(d / 1000000),
		 (unsigned)(d / 1000 % 1000));
}

void flow_field_handshake_ms(const struct tft_flow *f, char *buf, size_t size)
{
	if (f->state == TFT_STATE_PENDING || f->answer_ns < f->syn_ns) {
		buf[0] = '\0';
		return;
	}
	flow_field_ms(f->answer_ns - f->syn_ns, buf, size);
}

/*
 * The unit and the decimal are chosen on the value as printed: 1023.7K
 * would print "1024K", so it is "1.0M"; 99.97K would print "100.0K", so
 * it is "100K".
 */
void flow_field_bytes_short(uint64_t n, char *buf, size_t size)
{
	static const char units[] = "KMGTPE";
	double v = (double)n / 1024;
	size_t u = 0;

	if (n < 1024) {
		snprintf(buf, size, "%llu", (unsigned long long)n);
		return;
	}
	while (v >= 1023.5 && u + 1 < sizeof(units) - 1) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, v < 99.95 ? "%.1f%c" : "%.0f%c", v, units[u]);
}

/* Appends src to buf at *len, cut when full; returns false once full. */
static bool append(char *buf, size_t size, size_t *len, const char *src, size_t n)
{
	if (*len + n >= size)
		return false;
	memcpy(buf + *len, src, n);
	*len += n;
	buf[*len] = '\0';
	return true;
}

/*
 * Escaping is per name, so the separators and the '~' mark stay plain while
 * a name's own bytes cannot forge them: spaces inside a name (no real host
 * name has one) and separator bytes become \xHH like every other byte a
 * terminal or the text format's columns would misread.
 */
const char *flow_names_text(const struct names_list *l, const char *sep, size_t max_cols, char *buf,
			    size_t size)
{
	char one[4 * TFT_DNS_CACHE_NAME_MAX + 1];
	size_t i, n = l ? l->n : 0, len = 0, cut;

	if (!size)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		size_t k, olen;

		if (i && !append(buf, size, &len, sep, strlen(sep)))
			break;
		if (l->e[i].source == TFT_NAME_PTR && !append(buf, size, &len, "~", 1))
			break;
		olen = tft_escape_term(one, sizeof(one), l->e[i].name, l->e[i].len, 0);
		if (olen >= sizeof(one))
			olen = strlen(one);
		for (k = 0; k < olen; k++) {
			char hex[5];
			bool ok;

			/* a full buffer ends the name; the cap below marks the cut */
			if (one[k] == ' ' || one[k] == sep[0] ||
			    (sep[0] && sep[1] && strchr(sep, one[k]))) {
				snprintf(hex, sizeof(hex), "\\x%02x", (unsigned char)one[k]);
				ok = append(buf, size, &len, hex, 4);
			} else {
				ok = append(buf, size, &len, one + k, 1);
			}
			if (!ok)
				break;
		}
	}
	/* Escaped text is ASCII, a byte a column: cut without splitting a \xHH. */
	if (max_cols && len > max_cols) {
		size_t b;

		cut = max_cols - 1;
		for (b = 1; b <= 3 && b <= cut; b++) {
			if (buf[cut - b] == '\\') {
				cut -= b;
				break;
			}
		}
		if (cut + sizeof(TFT_ESC_CUT_MARK) <= size)
			memcpy(buf + cut, TFT_ESC_CUT_MARK, sizeof(TFT_ESC_CUT_MARK));
		else
			buf[cut] = '\0';
	}
	return buf;
}

/*
 * Each name is spelt as text and CSV spell it (every byte outside printable
 * ASCII, and the backslash, as \xHH), then quoted for JSON: the three
 * formats agree, an invalid byte is not confused with a code point (0xff is
 * not U+00FF), and nothing invisible (C1 controls, U+202E) reaches a
 * terminal through jq. Pieces are appended without printf: this runs twice
 * per JSON record.
 */
void flow_names_json(const struct names_list *l, char *buf, size_t size)
{
	char one[4 * TFT_DNS_CACHE_NAME_MAX + 1];
	size_t i, n = l ? l->n : 0, len = 1, olen;

	if (size < 3) {
		if (size)
			buf[0] = '\0';
		return;
	}
	buf[0] = '[';
	buf[1] = '\0';
	for (i = 0; i < n; i++) {
		const char *src = l->e[i].source == TFT_NAME_PTR ? ",\"source\":\"ptr\"}"
								 : ",\"source\":\"dns\"}";

		if ((i && !append(buf, size, &len, ",", 1)) ||
		    !append(buf, size, &len, "{\"name\":", 8))
			break;
		olen = tft_escape_term(one, sizeof(one), l->e[i].name, l->e[i].len, 0);
		if (olen >= sizeof(one))
			olen =
			    strlen(one); /* cannot happen: a name is at most the cache's longest */
		len += tft_escape_json(buf + len, size - len, one, olen);
		if (len >= size || !append(buf, size, &len, src, strlen(src)))
			break;
	}
	if (len + 2 > size) {
		memcpy(buf, "[]", 3); /* cannot happen with FLOW_NAMES_JSON_SIZE */
		return;
	}
	memcpy(buf + len, "]", 2);
}

/* --- render helpers ------------------------------------------------------------------- */

static size_t put_str(char *buf, size_t size, const char *s)
{
	size_t n = strlen(s);

	if (n >= size)
		n = size ? size - 1 : 0;
	if (size) {
		memcpy(buf, s, n);
		buf[n] = '\0';
	}
	return n;
}

/* A word (direction, state, event) or an address: JSON quotes it, nothing else needs to. */
static size_t put_word(char *buf, size_t size, const char *s, enum flow_field_target t)
{
	size_t n = strlen(s);

	if (t != FLOW_TARGET_JSON)
		return put_str(buf, size, s);
	/* Quoted by hand: printf was most of a record's cost under a connect storm. */
	if (n + 3 > size)
		return put_str(buf, size, "");
	buf[0] = '"';
	memcpy(buf + 1, s, n);
	buf[n + 1] = '"';
	buf[n + 2] = '\0';
	return n + 2;
}

static size_t put_u(char *buf, size_t size, unsigned long long v)
{
	unsigned long long p = 10;
	size_t n = 1, i;

	/* Digits counted by comparison, then written once: on every record, five times. */
	while (n < 20 && v >= p) {
		n++;
		if (p > UINT64_MAX / 10)
			break;
		p *= 10;
	}
	if (n >= size)
		return put_str(buf, size, "");
	buf[n] = '\0';
	if (v <= UINT32_MAX) {
		uint32_t w = (uint32_t)v;

		for (i = n; i-- > 0; w /= 10)
			buf[i] = (char)('0' + w % 10);
	} else {
		for (i = n; i-- > 0; v /= 10)
			buf[i] = (char)('0' + v % 10);
	}
	return n;
}

/* --- the fields ------------------------------------------------------------------------ */

static size_t render_time(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			  size_t size)
{
	char iso[40];

	switch (t) {
	case FLOW_TARGET_SCREEN:
		time_local(c->flow->syn_ns, buf, size);
		return strlen(buf);
	case FLOW_TARGET_TEXT:
		time_local(c->at_ns, buf, size);
		return strlen(buf);
	default:
		flow_field_time_iso(c->at_ns, iso, sizeof(iso));
		return put_word(buf, size, iso, t);
	}
}

static size_t render_event(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			   size_t size)
{
	return put_word(buf, size, change_name(c), t);
}

static bool number_id(const struct tft_flow *f, uint64_t *v)
{
	*v = f->id;
	return true;
}

static size_t render_id(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			size_t size)
{
	(void)t;
	return put_u(buf, size, c->flow->id);
}

static bool number_time(const struct tft_flow *f, uint64_t *v)
{
	*v = f->syn_ns;
	return true;
}

static bool number_dir(const struct tft_flow *f, uint64_t *v)
{
	*v = f->key.dir;
	return true;
}

static size_t render_dir(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			 size_t size)
{
	return put_word(buf, size, flow_field_dir_name(c->flow->key.dir), t);
}

static enum flow_field_style style_dir(const struct tft_flow *f)
{
	return f->key.dir == TFT_DIR_IN ? FLOW_STYLE_IN : FLOW_STYLE_OUT;
}

static bool number_family(const struct tft_flow *f, uint64_t *v)
{
	*v = f->key.family;
	return true;
}

static size_t render_family(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			    size_t size)
{
	(void)t;
	return put_u(buf, size, c->flow->key.family);
}

static size_t render_addr(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			  size_t size, bool src)
{
	const uint8_t *addr = src ? c->flow->key.saddr : c->flow->key.daddr;
	size_t q = t == FLOW_TARGET_JSON, n;

	/* Straight into buf, quoted for JSON: this is on every record's path. */
	if (size < INET6_ADDRSTRLEN + 2)
		return put_str(buf, size, "");
	n = addr_text(c->flow->key.family, addr, buf + q, size - 2 * q);
	if (q) {
		buf[0] = '"';
		buf[n + 1] = '"';
		buf[n + 2] = '\0';
	}
	return n + 2 * q;
}

static size_t render_src(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			 size_t size)
{
	return render_addr(c, t, buf, size, true);
}

static size_t render_dst(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			 size_t size)
{
	return render_addr(c, t, buf, size, false);
}

static bool number_sport(const struct tft_flow *f, uint64_t *v)
{
	*v = f->key.sport;
	return true;
}

static size_t render_sport(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			   size_t size)
{
	(void)t;
	return put_u(buf, size, c->flow->key.sport);
}

static bool number_dport(const struct tft_flow *f, uint64_t *v)
{
	*v = f->key.dport;
	return true;
}

static size_t render_dport(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			   size_t size)
{
	(void)t;
	return put_u(buf, size, c->flow->key.dport);
}

/*
 * One end's names for target. The screen shows the first and how many more
 * ("a.example +2"; the detail view shows them all); the export separates
 * names with spaces but escapes commas inside them as the screen does. Only
 * the text stream caps its column: CSV and JSON are read by programs, which
 * must get every name whole.
 */
static size_t render_names(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			   size_t size, bool src)
{
	const struct tft_flow_key *k = &c->flow->key;
	static char text[FLOW_NAMES_TEXT_SIZE]; /* too big for a stack frame per record */
	struct names_list l;
	char *p;

	names_provider_lookup(c->names, k->family, src ? k->saddr : k->daddr, &l);
	switch (t) {
	case FLOW_TARGET_SCREEN: {
		struct names_list first = l;
		size_t len;

		first.n = l.n ? 1 : 0;
		len = strlen(flow_names_text(&first, ",", 0, buf, size));
		if (l.n > 1 && len + 1 < size)
			snprintf(buf + len, size - len, " +%zu", l.n - 1);
		return strlen(buf);
	}
	case FLOW_TARGET_TEXT:
		return strlen(flow_names_text(&l, ",", FLOW_NAMES_MAX_COLS, buf, size));
	case FLOW_TARGET_CSV:
		flow_names_text(&l, " ", 0, text, sizeof(text));
		tft_escape_csv(buf, size, text, strlen(text));
		return strlen(buf);
	case FLOW_TARGET_JSON:
		flow_names_json(&l, buf, size);
		return strlen(buf);
	case FLOW_TARGET_EXPORT:
		flow_names_text(&l, ",", 0, buf, size);
		for (p = buf; *p; p++)
			if (*p == ',')
				*p = ' ';
		return (size_t)(p - buf);
	}
	return 0;
}

static size_t render_snames(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			    size_t size)
{
	return render_names(c, t, buf, size, true);
}

static size_t render_dnames(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			    size_t size)
{
	return render_names(c, t, buf, size, false);
}

static bool number_state(const struct tft_flow *f, uint64_t *v)
{
	*v = f->state;
	return true;
}

static size_t render_state(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			   size_t size)
{
	return put_word(buf, size, flow_field_state_name(c->flow->state), t);
}

static enum flow_field_style style_state(const struct tft_flow *f)
{
	switch (f->state) {
	case TFT_STATE_ACCEPTED:
	case TFT_STATE_ESTABLISHED:
		return FLOW_STYLE_GOOD;
	case TFT_STATE_PENDING:
		return FLOW_STYLE_WAITING;
	case TFT_STATE_CLOSED:
		return f->end == TFT_END_FIN_LOCAL || f->end == TFT_END_FIN_PEER ? FLOW_STYLE_ENDED
										 : FLOW_STYLE_BAD;
	default:
		return FLOW_STYLE_BAD; /* refused, unanswered, half-open */
	}
}

static bool number_retx(const struct tft_flow *f, uint64_t *v)
{
	*v = f->syn_retrans;
	return true;
}

static size_t render_retx(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			  size_t size)
{
	(void)t;
	return put_u(buf, size, c->flow->syn_retrans);
}

/* Pending flows have no handshake time: they sort as the slowest. The filter compares ms. */
static bool number_hs(const struct tft_flow *f, uint64_t *v)
{
	if (f->state == TFT_STATE_PENDING || f->answer_ns < f->syn_ns) {
		*v = UINT64_MAX;
		return false;
	}
	*v = f->answer_ns - f->syn_ns;
	return true;
}

static size_t render_hs(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			size_t size)
{
	flow_field_handshake_ms(c->flow, buf, size);
	if (t == FLOW_TARGET_JSON && !buf[0])
		return put_str(buf, size, "null");
	return strlen(buf);
}

/*
 * Who opened the flow. A process names itself and cgroup names are chosen
 * by whoever may create cgroups, so every byte outside printable ASCII (and
 * the backslash) is spelt \xHH in every target, as names are; the text
 * stream also spells spaces so, since it separates columns by them. Then
 * CSV quotes and defuses formulas, and JSON quotes. Unknown: "?" on the
 * screen, empty in text and CSV, null in JSON.
 */
size_t flow_field_owner_text(const char *s, size_t len, enum flow_field_target t, char *buf,
			     size_t size)
{
	char esc[4 * OWNER_NAMES_PATH_MAX + 1], *o = esc;
	size_t n, i;

	if (!s)
		return put_str(buf, size,
			       t == FLOW_TARGET_SCREEN ? "?"
			       : t == FLOW_TARGET_JSON ? "null"
						       : "");
	n = tft_escape_term(esc, sizeof(esc), s, len, 0);
	if (n >= sizeof(esc))
		n = strlen(esc);
	if (t == FLOW_TARGET_TEXT && memchr(esc, ' ', n)) {
		static char spaced[sizeof(esc) * 4];

		for (i = 0, o = spaced; i < n && o + 5 < spaced + sizeof(spaced); i++) {
			if (esc[i] == ' ') {
				memcpy(o, "\\x20", 4);
				o += 4;
			} else {
				*o++ = esc[i];
			}
		}
		*o = '\0';
		n = (size_t)(o - spaced);
		o = spaced;
	} else {
		o = esc;
	}
	switch (t) {
	case FLOW_TARGET_CSV:
		tft_escape_csv(buf, size, o, n);
		return strlen(buf);
	case FLOW_TARGET_JSON:
		tft_escape_json(buf, size, o, n);
		return strlen(buf);
	default:
		return put_str(buf, size, o);
	}
}

static bool owner_known(const struct tft_flow *f)
{
	return f->owner.state == TFT_OWNER_KNOWN;
}

/* A text sort key: its first 8 bytes, big-endian, so keys order as the text does. */
static uint64_t text_key(const char *s)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < 8; i++)
		v = v << 8 | (s && *s ? (uint8_t)*s++ : 0);
	return v;
}

/* Text fields with no value sort after those with one, ascending. */
static bool text_number(const char *s, uint64_t *v)
{
	*v = s ? text_key(s) : UINT64_MAX;
	return s != NULL;
}

/* The wide key: 24 bytes in three words, so names alike in their first 8 bytes still order. */
static bool text_key3(const char *s, uint64_t k[3])
{
	for (int w = 0; w < 3; w++) {
		k[w] = s ? 0 : UINT64_MAX;
		for (int i = 0; s && i < 8; i++)
			k[w] = k[w] << 8 | (*s ? (uint8_t)*s++ : 0);
	}
	return s != NULL;
}

static bool number_pid(const struct tft_flow *f, uint64_t *v)
{
	*v = owner_known(f) ? f->owner.tgid : UINT64_MAX;
	return owner_known(f);
}

static size_t render_pid(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			 size_t size)
{
	if (!owner_known(c->flow))
		return flow_field_owner_text(NULL, 0, t, buf, size);
	return put_u(buf, size, c->flow->owner.tgid);
}

static const char *comm_of(const struct tft_flow *f, size_t *len)
{
	*len = strnlen(f->owner.comm, sizeof(f->owner.comm));
	return owner_known(f) ? f->owner.comm : NULL;
}

static bool number_comm(const struct tft_flow *f, uint64_t *v)
{
	char comm[sizeof(f->owner.comm) + 1];
	size_t len;
	const char *s = comm_of(f, &len);

	if (s) {
		memcpy(comm, s, len);
		comm[len] = '\0';
	}
	return text_number(s ? comm : NULL, v);
}

static bool key_comm(const struct tft_flow *f, uint64_t k[3])
{
	char comm[sizeof(f->owner.comm) + 1];
	size_t len;
	const char *s = comm_of(f, &len);

	if (s) {
		memcpy(comm, s, len);
		comm[len] = '\0';
	}
	return text_key3(s ? comm : NULL, k);
}

static size_t render_comm(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			  size_t size)
{
	size_t len;
	const char *s = comm_of(c->flow, &len);

	return flow_field_owner_text(s, len, t, buf, size);
}

/* The user name, or the uid as a number when it has none; NULL when the owner is unknown. */
static const char *user_of(const struct tft_flow *f, char *num, size_t size)
{
	const char *name;

	if (!owner_known(f))
		return NULL;
	name = owner_names_user(f->owner.uid);
	if (name)
		return name;
	snprintf(num, size, "%u", f->owner.uid);
	return num;
}

static bool number_user(const struct tft_flow *f, uint64_t *v)
{
	char num[16];

	return text_number(user_of(f, num, sizeof(num)), v);
}

static bool key_user(const struct tft_flow *f, uint64_t k[3])
{
	char num[16];

	return text_key3(user_of(f, num, sizeof(num)), k);
}

static size_t render_user(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			  size_t size)
{
	char num[16];
	const char *s = user_of(c->flow, num, sizeof(num));

	return flow_field_owner_text(s, s ? strlen(s) : 0, t, buf, size);
}

static const char *cgroup_of(const struct tft_flow *f)
{
	return owner_known(f) ? owner_names_cgroup(f->owner.cgroup_id) : NULL;
}

static const char *service_of(const struct tft_flow *f, char *buf, size_t size)
{
	const char *path = cgroup_of(f);

	return path ? cgroup_short_name(path, buf, size) : NULL;
}

static bool number_service(const struct tft_flow *f, uint64_t *v)
{
	char svc[OWNER_NAMES_PATH_MAX];

	return text_number(service_of(f, svc, sizeof(svc)), v);
}

static bool key_service(const struct tft_flow *f, uint64_t k[3])
{
	char svc[OWNER_NAMES_PATH_MAX];

	return text_key3(service_of(f, svc, sizeof(svc)), k);
}

static size_t render_service(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			     size_t size)
{
	char svc[OWNER_NAMES_PATH_MAX];
	const char *s = service_of(c->flow, svc, sizeof(svc));

	return flow_field_owner_text(s, s ? strlen(s) : 0, t, buf, size);
}

static bool number_cgroup(const struct tft_flow *f, uint64_t *v)
{
	return text_number(cgroup_of(f), v);
}

static bool key_cgroup(const struct tft_flow *f, uint64_t k[3])
{
	return text_key3(cgroup_of(f), k);
}

static size_t render_cgroup(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			    size_t size)
{
	const char *s = cgroup_of(c->flow);

	return flow_field_owner_text(s, s ? strlen(s) : 0, t, buf, size);
}

/* --- outcomes: how the flow ended and the socket's figures ------------------------------ */

/* No value: "" on the screen, text and CSV (text shows "-"), null in JSON. */
static size_t put_none(char *buf, size_t size, enum flow_field_target t)
{
	return put_str(buf, size, t == FLOW_TARGET_JSON ? "null" : "");
}

/* A yes/no flag: true or false in JSON, yes or no elsewhere. */
static size_t put_bool(char *buf, size_t size, bool v, enum flow_field_target t)
{
	if (t == FLOW_TARGET_JSON)
		return put_str(buf, size, v ? "true" : "false");
	return put_str(buf, size, v ? "yes" : "no");
}

static bool has_figures(const struct tft_flow *f)
{
	return f->flags & TFT_FLOW_F_FIGURES;
}

/* The end as the filter and the sort see it: both fin ends are one word. */
static bool number_end(const struct tft_flow *f, uint64_t *v)
{
	*v = f->end == TFT_END_FIN_PEER ? TFT_END_FIN_LOCAL : f->end;
	return f->end != TFT_END_NONE;
}

static size_t render_end(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			 size_t size)
{
	if (c->flow->end == TFT_END_NONE)
		return put_none(buf, size, t);
	return put_word(buf, size, flow_field_end_name(c->flow->end), t);
}

static enum flow_field_style style_end(const struct tft_flow *f)
{
	switch (f->end) {
	case TFT_END_NONE:
		return FLOW_STYLE_NONE;
	case TFT_END_FIN_LOCAL:
	case TFT_END_FIN_PEER:
	case TFT_END_OPEN:
		return FLOW_STYLE_ENDED;
	default:
		return FLOW_STYLE_BAD;
	}
}

/* 1 local, 2 peer: the words' order. */
static bool number_closed_by(const struct tft_flow *f, uint64_t *v)
{
	*v = f->end == TFT_END_FIN_LOCAL ? 1 : f->end == TFT_END_FIN_PEER ? 2 : 0;
	return *v != 0;
}

static size_t render_closed_by(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			       size_t size)
{
	uint64_t v;

	if (!number_closed_by(c->flow, &v))
		return put_none(buf, size, t);
	return put_word(buf, size, v == 1 ? "local" : "peer", t);
}

/* First SYN to its end, or to now (the record's time in a stream, else the clock). */
static uint64_t duration_ns(const struct tft_flow *f, uint64_t now)
{
	uint64_t to = f->end != TFT_END_NONE ? f->end_ns : now;

	return to > f->syn_ns ? to - f->syn_ns : 0;
}

static uint64_t (*now_fn)(void *ctx);
static void *now_ctx;

void flow_fields_set_now(uint64_t (*now)(void *ctx), void *ctx)
{
	now_fn = now;
	now_ctx = ctx;
}

uint64_t flow_fields_now(void)
{
	return now_fn ? now_fn(now_ctx) : clock_mono_ns();
}

/*
 * Ended flows sort by their duration; running ones as longer than any, the
 * oldest first, so the order does not move with the clock while sorting.
 * The filter compares a running flow's duration to now (flow_field_duration_ns).
 */
static bool number_duration(const struct tft_flow *f, uint64_t *v)
{
	if (f->end == TFT_END_NONE) {
		*v = UINT64_MAX - f->syn_ns;
		return false;
	}
	*v = duration_ns(f, 0);
	return true;
}

uint64_t flow_field_duration_ns(const struct tft_flow *f, uint64_t now_ns)
{
	return duration_ns(f, now_ns);
}

static size_t render_duration(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			      size_t size)
{
	bool stream = t == FLOW_TARGET_TEXT || t == FLOW_TARGET_CSV || t == FLOW_TARGET_JSON;

	flow_field_ms(duration_ns(c->flow, stream ? c->at_ns : flow_fields_now()), buf, size);
	return strlen(buf);
}

/* Figures: known only once the socket was sampled or closed; unknown ones sort as 0. */
static bool figure(const struct tft_flow *f, uint64_t value, uint64_t *v)
{
	*v = has_figures(f) ? value : 0;
	return has_figures(f);
}

static bool number_bytes_in(const struct tft_flow *f, uint64_t *v)
{
	return figure(f, f->bytes_in, v);
}

static bool number_bytes_out(const struct tft_flow *f, uint64_t *v)
{
	return figure(f, f->bytes_out, v);
}

static bool number_rtt(const struct tft_flow *f, uint64_t *v)
{
	return figure(f, f->rtt_us, v);
}

static bool number_data_retrans(const struct tft_flow *f, uint64_t *v)
{
	return figure(f, f->data_retrans, v);
}

/* Byte counts the screen shows exactly: up to 7 digits; larger ones short (12.3M). */
#define SCREEN_BYTES_EXACT 10000000ULL

/* A figure: exact in every stream and the export; on the screen, large byte counts short. */
static size_t render_figure(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			    size_t size, bool (*number)(const struct tft_flow *, uint64_t *),
			    bool bytes)
{
	uint64_t v;

	if (!number(c->flow, &v))
		return put_none(buf, size, t);
	if (bytes && t == FLOW_TARGET_SCREEN && v >= SCREEN_BYTES_EXACT) {
		flow_field_bytes_short(v, buf, size);
		return strlen(buf);
	}
	return put_u(buf, size, v);
}

static size_t render_bytes_in(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			      size_t size)
{
	return render_figure(c, t, buf, size, number_bytes_in, true);
}

static size_t render_bytes_out(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			       size_t size)
{
	return render_figure(c, t, buf, size, number_bytes_out, true);
}

static size_t render_rtt(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			 size_t size)
{
	return render_figure(c, t, buf, size, number_rtt, false);
}

static size_t render_data_retrans(const struct flow_field_ctx *c, enum flow_field_target t,
				  char *buf, size_t size)
{
	return render_figure(c, t, buf, size, number_data_retrans, false);
}

static bool number_idle(const struct tft_flow *f, uint64_t *v)
{
	*v = !!(f->flags & TFT_FLOW_F_IDLE);
	return true;
}

static size_t render_idle(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			  size_t size)
{
	return put_bool(buf, size, c->flow->flags & TFT_FLOW_F_IDLE, t);
}

static bool number_syncookie(const struct tft_flow *f, uint64_t *v)
{
	*v = !!(f->flags & TFT_FLOW_F_SYNCOOKIE);
	return true;
}

static size_t render_syncookie(const struct flow_field_ctx *c, enum flow_field_target t, char *buf,
			       size_t size)
{
	return put_bool(buf, size, c->flow->flags & TFT_FLOW_F_SYNCOOKIE, t);
}

static const struct flow_field_value dir_values[] = {
    {"in", TFT_DIR_IN}, {"out", TFT_DIR_OUT}, {NULL, 0}};
static const struct flow_field_value state_values[] = {
    {"pending", TFT_STATE_PENDING},	{"accepted", TFT_STATE_ACCEPTED},
    {"refused", TFT_STATE_REFUSED},	{"established", TFT_STATE_ESTABLISHED},
    {"closed", TFT_STATE_CLOSED},	{"unanswered", TFT_STATE_UNANSWERED},
    {"half-open", TFT_STATE_HALF_OPEN}, {NULL, 0}};
/* As number_end counts them: both fin ends are "fin". */
static const struct flow_field_value end_values[] = {{"fin", TFT_END_FIN_LOCAL},
						     {"reset-by-peer", TFT_END_RESET_PEER},
						     {"reset-by-local", TFT_END_RESET_LOCAL},
						     {"timeout", TFT_END_TIMEOUT},
						     {"half-open", TFT_END_HALF_OPEN},
						     {"open", TFT_END_OPEN},
						     {NULL, 0}};
static const struct flow_field_value closed_by_values[] = {{"local", 1}, {"peer", 2}, {NULL, 0}};
static const struct flow_field_value bool_values[] = {
    {"no", 0}, {"yes", 1}, {"false", 0}, {"true", 1}, {NULL, 0}};

#define SCREEN FLOW_FIELD_ON_SCREEN
#define STREAMS (FLOW_FIELD_ON_TEXT | FLOW_FIELD_ON_CSV | FLOW_FIELD_ON_JSON)
#define EXPORT FLOW_FIELD_ON_EXPORT
#define SCREEN_EXTRA FLOW_FIELD_ON_SCREEN_EXTRA

/*
 * keep: narrow terminals drop the lowest first; addresses and the service
 * port last. Fixed screen widths leave a cell for the sort arrow after the
 * title. stream_rank orders the stream and export columns.
 */
static const struct flow_field_desc fields[FLOW_FIELD_COUNT] = {
    [FLOW_FIELD_TIME] = {.name = "time",
			 .key = "time",
			 .title = "TIME",
			 .text_title = "TIME",
			 .help = "when the first SYN was seen (local time)",
			 .kind = FLOW_KIND_TIME,
			 .flags = SCREEN | STREAMS | EXPORT,
			 .stream_rank = 1,
			 .text_width = 12,
			 .min_width = 12,
			 .max_width = 12,
			 .keep = 9,
			 .desc_first = true,
			 .number = number_time,
			 .render = render_time},
    [FLOW_FIELD_EVENT] = {.name = "event",
			  .key = "event",
			  .title = "EVENT",
			  .text_title = "EVENT",
			  .help = "streams: new (a flow), update (answered, established), retrans "
				  "(SYN sent again), idle or active (the idle flag turned), close "
				  "(its last record), alert (a reset burst)",
			  .kind = FLOW_KIND_TEXT,
			  .flags = FLOW_FIELD_ON_TEXT | FLOW_FIELD_ON_CSV,
			  .stream_rank = 2,
			  .text_width = 7,
			  .render = render_event},
    [FLOW_FIELD_ID] = {.name = "id",
		       .key = "id",
		       .title = "ID",
		       .text_title = "ID",
		       .help = "streams and export: the flow's number, one higher per new flow",
		       .kind = FLOW_KIND_NUMBER,
		       .flags = FLOW_FIELD_ON_CSV | FLOW_FIELD_ON_JSON | EXPORT,
		       .stream_rank = 3,
		       .right = true,
		       .number = number_id,
		       .render = render_id},
    [FLOW_FIELD_DIR] = {.name = "dir",
			.key = "direction",
			.title = "DIR",
			.text_title = "DIR",
			.help = "in: a peer connected to this host; out: this host connected",
			.kind = FLOW_KIND_ENUM,
			.flags = SCREEN | STREAMS | EXPORT,
			.stream_rank = 4,
			.text_width = 3,
			.min_width = 4,
			.max_width = 4,
			.keep = 11,
			.values = dir_values,
			.number = number_dir,
			.render = render_dir,
			.style = style_dir},
    [FLOW_FIELD_FAMILY] = {.name = "family",
			   .key = "family",
			   .title = "FAM",
			   .text_title = "FAM",
			   .help = "streams and export: 4 or 6 (IP version)",
			   .kind = FLOW_KIND_NUMBER,
			   .flags = STREAMS | EXPORT,
			   .stream_rank = 5,
			   .text_width = 3,
			   .number = number_family,
			   .render = render_family},
    [FLOW_FIELD_SRC] = {.name = "src",
			.key = "src_addr",
			.title = "SOURCE",
			.text_title = "SRC",
			.help = "address of the end that sent the SYN",
			.kind = FLOW_KIND_ADDRESS,
			.flags = SCREEN | STREAMS | EXPORT,
			.stream_rank = 6,
			.text_width = 39,
			.min_width = 12,
			.max_width = 39,
			.keep = 14,
			.render = render_src},
    [FLOW_FIELD_SPORT] = {.name = "sport",
			  .key = "src_port",
			  .title = "SPORT",
			  .text_title = "SPORT",
			  .help = "source port",
			  .kind = FLOW_KIND_NUMBER,
			  .flags = SCREEN | STREAMS | EXPORT,
			  .stream_rank = 7,
			  .text_width = 5,
			  .min_width = 6,
			  .max_width = 6,
			  .keep = 8,
			  .right = true,
			  .number = number_sport,
			  .render = render_sport},
    [FLOW_FIELD_DST] = {.name = "dst",
			.key = "dst_addr",
			.title = "DESTINATION",
			.text_title = "DST",
			.help = "address the SYN was sent to",
			.kind = FLOW_KIND_ADDRESS,
			.flags = SCREEN | STREAMS | EXPORT,
			.stream_rank = 8,
			.text_width = 39,
			.min_width = 12,
			.max_width = 39,
			.keep = 12,
			.render = render_dst},
    [FLOW_FIELD_DPORT] = {.name = "dport",
			  .key = "dst_port",
			  .title = "DPORT",
			  .text_title = "DPORT",
			  .help = "destination port (the service)",
			  .kind = FLOW_KIND_NUMBER,
			  .flags = SCREEN | STREAMS | EXPORT,
			  .stream_rank = 9,
			  .text_width = 5,
			  .min_width = 6,
			  .max_width = 6,
			  .keep = 13,
			  .right = true,
			  .number = number_dport,
			  .render = render_dport},
    [FLOW_FIELD_STATE] =
	{.name = "state",
	 .key = "state",
	 .title = "STATE",
	 .text_title = "STATE",
	 .help = "pending, accepted, refused, established, closed, unanswered, half-open",
	 .kind = FLOW_KIND_ENUM,
	 .flags = SCREEN | STREAMS | EXPORT,
	 .stream_rank = 10,
	 .text_width = 11,
	 .min_width = 8,
	 .max_width = 12,
	 .keep = 10,
	 .values = state_values,
	 .number = number_state,
	 .render = render_state,
	 .style = style_state},
    [FLOW_FIELD_RETX] = {.name = "retx",
			 .key = "syn_retrans",
			 .title = "RETX",
			 .text_title = "RETX",
			 .help = "SYN retransmissions",
			 .kind = FLOW_KIND_NUMBER,
			 .flags = SCREEN | STREAMS | EXPORT,
			 .stream_rank = 11,
			 .text_width = 4,
			 .min_width = 5,
			 .max_width = 5,
			 .keep = 5,
			 .right = true,
			 .desc_first = true,
			 .number = number_retx,
			 .render = render_retx},
    [FLOW_FIELD_HS] = {.name = "hs",
		       .key = "handshake_ms",
		       .title = "HS_MS",
		       .text_title = "HS_MS",
		       .help = "handshake time SYN to answer, in ms",
		       .kind = FLOW_KIND_NUMBER,
		       .flags = SCREEN | STREAMS | EXPORT,
		       .stream_rank = 12,
		       .text_width = 10,
		       .min_width = 8,
		       .max_width = 8,
		       .keep = 6,
		       .right = true,
		       .desc_first = true,
		       .number = number_hs,
		       .render = render_hs},
    [FLOW_FIELD_SNAMES] = {.name = "snames",
			   .key = "src_names",
			   .title = "SOURCE NAMES",
			   .text_title = "SRC_NAMES",
			   .help = "domain names of the source address",
			   .kind = FLOW_KIND_NAMES,
			   .flags = SCREEN | STREAMS | EXPORT,
			   .stream_rank = 13,
			   .min_width = 10,
			   .max_width = 48,
			   .keep = 4,
			   .names = true,
			   .render = render_snames},
    [FLOW_FIELD_DNAMES] = {.name = "dnames",
			   .key = "dst_names",
			   .title = "DEST NAMES",
			   .text_title = "DST_NAMES",
			   .help = "domain names of the destination address",
			   .kind = FLOW_KIND_NAMES,
			   .flags = SCREEN | STREAMS | EXPORT,
			   .stream_rank = 14,
			   .min_width = 10,
			   .max_width = 48,
			   .keep = 7,
			   .names = true,
			   .render = render_dnames},
    /*
     * Who opened the flow: appended to the streams and the export (ranks 15
     * on), so scripts reading the columns before keep working. The screen
     * drops them first on narrow terminals.
     */
    [FLOW_FIELD_PID] = {.name = "pid",
			.key = "pid",
			.title = "PID",
			.text_title = "PID",
			.help = "process id of the owner: the connecting process (out) or the "
				"listener's (in)",
			.kind = FLOW_KIND_NUMBER,
			.flags = SCREEN_EXTRA | STREAMS | EXPORT,
			.stream_rank = 15,
			.text_width = 7,
			.min_width = 8,
			.max_width = 8,
			.keep = 1,
			.right = true,
			.owner = true,
			.number = number_pid,
			.render = render_pid},
    [FLOW_FIELD_COMM] = {.name = "comm",
			 .alias = "proc",
			 .key = "comm",
			 .title = "PROCESS",
			 .text_title = "COMM",
			 .help = "command of the owner: who connected (out), the listener (in)",
			 .kind = FLOW_KIND_TEXT,
			 .flags = SCREEN | STREAMS | EXPORT,
			 .stream_rank = 16,
			 .text_width = 15,
			 .min_width = 8,
			 .max_width = 15,
			 .keep = 3,
			 .owner = true,
			 .number = number_comm,
			 .text_key = key_comm,
			 .render = render_comm},
    [FLOW_FIELD_USER] = {.name = "user",
			 .key = "user",
			 .title = "USER",
			 .text_title = "USER",
			 .help = "user of the owner (its uid when the name is unknown)",
			 .kind = FLOW_KIND_TEXT,
			 .flags = SCREEN_EXTRA | STREAMS | EXPORT,
			 .stream_rank = 17,
			 .text_width = 8,
			 .min_width = 6,
			 .max_width = 12,
			 .keep = 1,
			 .owner = true,
			 .number = number_user,
			 .text_key = key_user,
			 .render = render_user},
    [FLOW_FIELD_SERVICE] = {.name = "service",
			    .alias = "svc",
			    .key = "service",
			    .title = "SERVICE",
			    .text_title = "SERVICE",
			    .help = "its unit or container (x.service, docker:ID, pod:UID)",
			    .kind = FLOW_KIND_TEXT,
			    .flags = SCREEN | STREAMS | EXPORT,
			    .stream_rank = 18,
			    .min_width = 10,
			    .max_width = 20,
			    .keep = 2,
			    .owner = true,
			    .number = number_service,
			    .text_key = key_service,
			    .render = render_service},
    [FLOW_FIELD_CGROUP] = {.name = "cgroup",
			   .key = "cgroup",
			   .title = "CGROUP",
			   .text_title = "CGROUP",
			   .help = "the owner's cgroup v2 path",
			   .kind = FLOW_KIND_TEXT,
			   .flags = SCREEN_EXTRA | STREAMS | EXPORT,
			   .stream_rank = 19,
			   .min_width = 10,
			   .max_width = 48,
			   .keep = 1,
			   .owner = true,
			   .number = number_cgroup,
			   .text_key = key_cgroup,
			   .render = render_cgroup},
    /*
     * How the flow ended and the socket's figures: appended after the
     * owner's columns (ranks 20 on). END and the bytes are default screen
     * columns that narrow terminals drop first.
     */
    [FLOW_FIELD_END] =
	{.name = "end",
	 .key = "end",
	 .title = "END",
	 .text_title = "END",
	 .help = "fin, reset-by-peer, reset-by-local, timeout, half-open, open (left running)",
	 .kind = FLOW_KIND_ENUM,
	 .flags = SCREEN | STREAMS | EXPORT,
	 .stream_rank = 20,
	 .text_width = 14,
	 .min_width = 6,
	 .max_width = 15,
	 .keep = 1,
	 .values = end_values,
	 .number = number_end,
	 .render = render_end,
	 .style = style_end},
    [FLOW_FIELD_CLOSED_BY] = {.name = "closed_by",
			      .key = "closed_by",
			      .title = "CLOSED_BY",
			      .text_title = "CLOSED_BY",
			      .help = "who sent the first FIN: local or peer (fin ends only)",
			      .kind = FLOW_KIND_ENUM,
			      .flags = SCREEN_EXTRA | STREAMS | EXPORT,
			      .stream_rank = 21,
			      .text_width = 9,
			      .min_width = 10,
			      .max_width = 10,
			      .keep = 1,
			      .values = closed_by_values,
			      .number = number_closed_by,
			      .render = render_closed_by},
    [FLOW_FIELD_DURATION] = {.name = "duration_ms",
			     .alias = "duration",
			     .key = "duration_ms",
			     .title = "DUR_MS",
			     .text_title = "DURATION_MS",
			     .help = "first SYN to its end, or to now while open, in ms",
			     .kind = FLOW_KIND_NUMBER,
			     .flags = SCREEN_EXTRA | STREAMS | EXPORT,
			     .stream_rank = 22,
			     .text_width = 11,
			     .min_width = 10,
			     .max_width = 13,
			     .keep = 1,
			     .right = true,
			     .desc_first = true,
			     .number = number_duration,
			     .render = render_duration},
    [FLOW_FIELD_BYTES_IN] = {.name = "bytes_in",
			     .key = "bytes_in",
			     .title = "B_IN",
			     .text_title = "BYTES_IN",
			     .help = "bytes received",
			     .kind = FLOW_KIND_NUMBER,
			     .flags = SCREEN | STREAMS | EXPORT,
			     .stream_rank = 23,
			     .text_width = 10,
			     .min_width = 8,
			     .max_width = 8,
			     .keep = 1,
			     .right = true,
			     .desc_first = true,
			     .number = number_bytes_in,
			     .render = render_bytes_in},
    [FLOW_FIELD_BYTES_OUT] = {.name = "bytes_out",
			      .key = "bytes_out",
			      .title = "B_OUT",
			      .text_title = "BYTES_OUT",
			      .help = "bytes sent",
			      .kind = FLOW_KIND_NUMBER,
			      .flags = SCREEN | STREAMS | EXPORT,
			      .stream_rank = 24,
			      .text_width = 10,
			      .min_width = 8,
			      .max_width = 8,
			      .keep = 1,
			      .right = true,
			      .desc_first = true,
			      .number = number_bytes_out,
			      .render = render_bytes_out},
    [FLOW_FIELD_RTT] = {.name = "rtt_us",
			.alias = "rtt",
			.key = "rtt_us",
			.title = "RTT_US",
			.text_title = "RTT_US",
			.help = "smoothed round-trip time in microseconds",
			.kind = FLOW_KIND_NUMBER,
			.flags = SCREEN_EXTRA | STREAMS | EXPORT,
			.stream_rank = 25,
			.text_width = 8,
			.min_width = 8,
			.max_width = 8,
			.keep = 1,
			.right = true,
			.desc_first = true,
			.number = number_rtt,
			.render = render_rtt},
    [FLOW_FIELD_DATA_RETRANS] = {.name = "data_retrans",
				 .key = "data_retrans",
				 .title = "D_RETX",
				 .text_title = "DATA_RETX",
				 .help = "segments sent again after the handshake",
				 .kind = FLOW_KIND_NUMBER,
				 .flags = SCREEN_EXTRA | STREAMS | EXPORT,
				 .stream_rank = 26,
				 .text_width = 9,
				 .min_width = 7,
				 .max_width = 7,
				 .keep = 1,
				 .right = true,
				 .desc_first = true,
				 .number = number_data_retrans,
				 .render = render_data_retrans},
    [FLOW_FIELD_IDLE] = {.name = "idle",
			 .key = "idle",
			 .title = "IDLE",
			 .text_title = "IDLE",
			 .help = "established, and no data either way for the --idle time",
			 .kind = FLOW_KIND_ENUM,
			 .flags = SCREEN_EXTRA | STREAMS | EXPORT,
			 .stream_rank = 27,
			 .text_width = 4,
			 .min_width = 5,
			 .max_width = 5,
			 .keep = 1,
			 .values = bool_values,
			 .number = number_idle,
			 .render = render_idle},
    [FLOW_FIELD_SYNCOOKIE] = {.name = "syncookie",
			      .alias = "cookie",
			      .key = "syncookie",
			      .title = "COOKIE",
			      .text_title = "COOKIE",
			      .help =
				  "established though no SYN-ACK was seen: a SYN cookie answered",
			      .kind = FLOW_KIND_ENUM,
			      .flags = SCREEN_EXTRA | STREAMS | EXPORT,
			      .stream_rank = 28,
			      .text_width = 6,
			      .min_width = 7,
			      .max_width = 7,
			      .keep = 1,
			      .values = bool_values,
			      .number = number_syncookie,
			      .render = render_syncookie},
};

const struct flow_field_desc *flow_field(enum flow_field id)
{
	if ((unsigned)id >= FLOW_FIELD_COUNT)
		return NULL;
	return &fields[id];
}

int flow_field_parse_n(const char *name, size_t len, enum flow_field *out)
{
	int i;

	for (i = 0; i < FLOW_FIELD_COUNT; i++) {
		const char *alias = fields[i].alias;

		if ((strlen(fields[i].name) == len && !strncasecmp(name, fields[i].name, len)) ||
		    (alias && strlen(alias) == len && !strncasecmp(name, alias, len))) {
			*out = (enum flow_field)i;
			return 0;
		}
	}
	return -EINVAL;
}

int flow_field_parse(const char *name, enum flow_field *out)
{
	int i;

	if (!flow_field_parse_n(name, strlen(name), out))
		return 0;
	for (i = 0; i < FLOW_FIELD_COUNT; i++) {
		if (!strcasecmp(name, fields[i].title)) {
			*out = (enum flow_field)i;
			return 0;
		}
	}
	return -EINVAL;
}

size_t flow_fields_with(unsigned flag, enum flow_field *out)
{
	bool by_rank = flag & (FLOW_FIELD_ON_TEXT | FLOW_FIELD_ON_CSV | FLOW_FIELD_ON_JSON |
			       FLOW_FIELD_ON_EXPORT);
	size_t n = 0;
	int i, r;

	if (!by_rank) {
		for (i = 0; i < FLOW_FIELD_COUNT; i++)
			if (fields[i].flags & flag)
				out[n++] = (enum flow_field)i;
		return n;
	}
	for (r = 1; r <= FLOW_FIELD_COUNT; r++)
		for (i = 0; i < FLOW_FIELD_COUNT; i++)
			if (fields[i].stream_rank == r && (fields[i].flags & flag))
				out[n++] = (enum flow_field)i;
	return n;
}

static const char *join(unsigned flag, bool keys, const char *sep, char *buf, size_t size)
{
	enum flow_field ids[FLOW_FIELD_COUNT];
	size_t n = flow_fields_with(flag, ids), i, len = 0;

	if (!size)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		const struct flow_field_desc *d = &fields[ids[i]];
		int w =
		    snprintf(buf + len, size - len, "%s%s", i ? sep : "", keys ? d->key : d->name);

		if (w < 0 || (size_t)w >= size - len)
			break;
		len += (size_t)w;
	}
	return buf;
}

const char *flow_fields_names(unsigned flag, const char *sep, char *buf, size_t size)
{
	return join(flag, false, sep, buf, size);
}

const char *flow_fields_keys(unsigned flag, const char *sep, char *buf, size_t size)
{
	return join(flag, true, sep, buf, size);
}

const char *flow_field_render(enum flow_field id, const struct flow_field_ctx *c,
			      enum flow_field_target target, char *buf, size_t size)
{
	if (!size)
		return "";
	buf[0] = '\0';
	if ((unsigned)id < FLOW_FIELD_COUNT)
		fields[id].render(c, target, buf, size);
	return buf;
}
