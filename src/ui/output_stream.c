/*
 * The text, CSV and JSON-lines formats are interfaces people script against;
 * the README documents each column. Change them deliberately.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "name_escape.h"
#include "output_stream.h"

#define OUT_BUF_SIZE (512 * 1024)
/* Each end's names: text (escaped, joined), or a JSON array. */
#define NAMES_TEXT_SIZE (OUTPUT_NAMES_MAX_COLS + 8)
#define NAMES_JSON_SIZE (TFT_DNS_CACHE_NAMES_PER_ADDR * (6 * TFT_DNS_CACHE_NAME_MAX + 40) + 8)
/* Room kept free for one record: both ends' names and the fixed fields. */
#define OUT_RECORD_MAX (2 * NAMES_JSON_SIZE + 1024)

/*
 * Our own buffer and write(2) rather than stdio: a storm costs few syscalls,
 * the first write error is kept, and the buffer's lifetime is ours.
 */
struct output_stream {
	int fd; /* borrowed */
	enum output_format fmt;
	char *buf; /* owned, OUT_BUF_SIZE */
	size_t len;
	int err; /* first write error, as -errno */
	output_names_fn names;
	void *names_ctx; /* borrowed */
};

int output_format_parse(const char *text, enum output_format *fmt)
{
	if (!strcmp(text, "text"))
		*fmt = OUTPUT_TEXT;
	else if (!strcmp(text, "csv"))
		*fmt = OUTPUT_CSV;
	else if (!strcmp(text, "json") || !strcmp(text, "jsonl"))
		*fmt = OUTPUT_JSON;
	else
		return -EINVAL;
	return 0;
}

struct output_stream *output_stream_new(int fd, enum output_format fmt)
{
	struct output_stream *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->buf = malloc(OUT_BUF_SIZE);
	if (!o->buf) {
		free(o);
		errno = ENOMEM;
		return NULL;
	}
	o->fd = fd;
	o->fmt = fmt;
	return o;
}

void output_stream_free(struct output_stream *o)
{
	if (!o)
		return;
	output_stream_flush(o);
	free(o->buf);
	free(o);
}

int output_stream_flush(struct output_stream *o)
{
	size_t off = 0;

	while (off < o->len && !o->err) {
		ssize_t n = write(o->fd, o->buf + off, o->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = {.fd = o->fd, .events = POLLOUT};

			poll(&p, 1, -1);
			continue;
		}
		if (n <= 0)
			o->err = n < 0 ? -errno : -EIO;
		else
			off += (size_t)n;
	}
	o->len = 0; /* after an error nothing more can be written anyway */
	return o->err;
}

/* Appends one formatted record, flushing first when the buffer is nearly full. */
__attribute__((format(printf, 2, 3))) static int emit(struct output_stream *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->err)
		return o->err;
	if (OUT_BUF_SIZE - o->len < OUT_RECORD_MAX && output_stream_flush(o))
		return o->err;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, OUT_BUF_SIZE - o->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= OUT_BUF_SIZE - o->len)
		n = (int)(OUT_BUF_SIZE - o->len - 1); /* cannot happen with OUT_RECORD_MAX bounds */
	o->len += (size_t)n;
	return 0;
}

/*
 * The per-record path appends pieces directly: printf's format parsing was
 * most of tcpflowtop's CPU under a connect storm. A record is at most
 * OUT_RECORD_MAX bytes, and rec_begin makes that much room first.
 */
static int rec_begin(struct output_stream *o)
{
	if (o->err)
		return o->err;
	if (OUT_BUF_SIZE - o->len < OUT_RECORD_MAX)
		return output_stream_flush(o);
	return 0;
}

static void put(struct output_stream *o, const char *s, size_t n)
{
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void puts_(struct output_stream *o, const char *s)
{
	put(o, s, strlen(s));
}

static void putc_(struct output_stream *o, char c)
{
	o->buf[o->len++] = c;
}

static void putu(struct output_stream *o, unsigned long long v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, tmp + sizeof(tmp) - n, (size_t)n);
}

/* s padded with spaces to width, left- or right-aligned (printf's %-*s and %*s). */
static void putpad(struct output_stream *o, const char *s, size_t width, bool right)
{
	size_t n = strlen(s);

	if (right)
		for (; n < width; width--)
			putc_(o, ' ');
	put(o, s, n);
	if (!right)
		for (; n < width; n++)
			putc_(o, ' ');
}

static void putupad(struct output_stream *o, unsigned long long v, size_t width, bool right)
{
	char tmp[24];

	snprintf(tmp, sizeof(tmp), "%llu", v);
	putpad(o, tmp, width, right);
}

void output_stream_set_names(struct output_stream *o, output_names_fn fn, void *ctx)
{
	o->names = fn;
	o->names_ctx = ctx;
}

static const struct dns_names *names_of(struct output_stream *o, uint8_t family,
					const uint8_t *addr)
{
	return o->names ? o->names(o->names_ctx, family, addr) : NULL;
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
const char *output_names_text(const struct dns_names *names, const char *sep, size_t max_cols,
			      char *buf, size_t size)
{
	char one[4 * TFT_DNS_CACHE_NAME_MAX + 1];
	size_t i, n = names ? dns_names_count(names) : 0, len = 0, cut;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		enum dns_name_source src;
		size_t nlen, k, olen;
		const char *name = dns_names_get(names, i, &nlen, &src);

		if (i && !append(buf, size, &len, sep, strlen(sep)))
			break;
		if (src == TFT_NAME_PTR && !append(buf, size, &len, "~", 1))
			break;
		olen = tft_escape_term(one, sizeof(one), name, nlen, 0);
		if (olen >= sizeof(one))
			olen = strlen(one);
		for (k = 0; k < olen; k++) {
			char hex[5];
			bool ok;

			/* a full buffer ends the name; the cap below marks the cut */
			if (one[k] == ' ' || strchr(sep, one[k])) {
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

/* JSON array of {"name":..,"source":..}: names keep their bytes, JSON-escaped. */
static void names_json(const struct dns_names *names, char *buf, size_t size)
{
	size_t i, n = names ? dns_names_count(names) : 0, len = 0;

	if (!n) {
		snprintf(buf, size, "[]");
		return;
	}
	len += (size_t)snprintf(buf, size, "[");
	for (i = 0; i < n && len < size; i++) {
		enum dns_name_source src;
		size_t nlen;
		const char *name = dns_names_get(names, i, &nlen, &src);

		len += (size_t)snprintf(buf + len, size - len, "%s{\"name\":", i ? "," : "");
		if (len >= size)
			break;
		len += tft_escape_json(buf + len, size - len, name, nlen);
		if (len >= size)
			break;
		len += (size_t)snprintf(buf + len, size - len, ",\"source\":\"%s\"}",
					src == TFT_NAME_PTR ? "ptr" : "dns");
	}
	if (len + 2 > size) {
		snprintf(buf, size, "[]"); /* cannot happen with the buffer sizes below */
		return;
	}
	snprintf(buf + len, size - len, "]");
}

const char *output_direction_name(uint8_t dir)
{
	return dir == TFT_DIR_IN ? "in" : dir == TFT_DIR_OUT ? "out" : "?";
}

const char *output_state_name(uint8_t state)
{
	switch (state) {
	case TFT_STATE_PENDING:
		return "pending";
	case TFT_STATE_ACCEPTED:
		return "accepted";
	case TFT_STATE_REFUSED:
		return "refused";
	default:
		return "?";
	}
}

const char *output_addr(uint8_t family, const uint8_t *addr, char *buf, size_t size)
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
		return buf;
	}
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, (socklen_t)size))
		snprintf(buf, size, "?");
	return buf;
}

static const char *change_name(enum tft_flow_change change)
{
	return change == TFT_CHANGE_NEW	      ? "new"
	       : change == TFT_CHANGE_RETRANS ? "retrans"
					      : "update";
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
static void time_text(uint64_t mono_ns, char *buf, size_t size)
{
	static struct second_cache cache;
	struct timespec ts = clock_mono_to_wall(mono_ns);
	const char *sec = second_text(&cache, ts.tv_sec, true);
	size_t n = strlen(sec);

	if (n + 5 > size)
		return;
	memcpy(buf, sec, n);
	buf[n] = '.';
	digits(buf + n + 1, (unsigned long)ts.tv_nsec / 1000000, 3);
	buf[n + 4] = '\0';
}

/* RFC 3339 UTC with microseconds for machines. */
void output_time_iso(uint64_t mono_ns, char *buf, size_t size)
{
	static struct second_cache cache;
	struct timespec ts = clock_mono_to_wall(mono_ns);
	const char *sec = second_text(&cache, ts.tv_sec, false);
	size_t n = strlen(sec);

	if (n + 9 > size)
		return;
	memcpy(buf, sec, n);
	buf[n] = '.';
	digits(buf + n + 1, (unsigned long)ts.tv_nsec / 1000, 6);
	buf[n + 7] = 'Z';
	buf[n + 8] = '\0';
}

/* Handshake time in ms with µs precision, or "" while pending. */
void output_handshake_ms(const struct tft_flow *f, char *buf, size_t size)
{
	uint64_t d;

	if (f->state == TFT_STATE_PENDING || f->answer_ns < f->syn_ns) {
		buf[0] = '\0';
		return;
	}
	d = f->answer_ns - f->syn_ns;
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

int output_stream_header(struct output_stream *o)
{
	switch (o->fmt) {
	case OUTPUT_TEXT:
		return emit(o, "%-12s %-7s %-3s %-3s %-39s %5s %-39s %5s %-8s %4s %10s %s %s\n",
			    "TIME", "EVENT", "DIR", "FAM", "SRC", "SPORT", "DST", "DPORT", "STATE",
			    "RETX", "HS_MS", "SRC_NAMES", "DST_NAMES");
	case OUTPUT_CSV:
		return emit(o, "time,event,id,direction,family,src_addr,src_port,dst_addr,"
			       "dst_port,state,syn_retrans,handshake_ms,src_names,dst_names\n");
	default:
		return 0;
	}
}

int output_stream_flow(struct output_stream *o, const struct tft_flow *f,
		       enum tft_flow_change change, uint64_t at_ns)
{
	char t[40], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], hs[32];
	const struct tft_flow_key *k = &f->key;
	const struct dns_names *sn, *dn;
	static char sj[NAMES_JSON_SIZE], dj[NAMES_JSON_SIZE]; /* large: off the stack */
	char st[NAMES_TEXT_SIZE], dt[NAMES_TEXT_SIZE], sc[4 * NAMES_TEXT_SIZE],
	    dc[4 * NAMES_TEXT_SIZE];
	int rc;

	output_addr(k->family, k->saddr, src, sizeof(src));
	output_addr(k->family, k->daddr, dst, sizeof(dst));
	output_handshake_ms(f, hs, sizeof(hs));
	/* Borrowed until the next lookup: render one end before looking up the other. */
	sn = names_of(o, k->family, k->saddr);
	if (o->fmt == OUTPUT_JSON)
		names_json(sn, sj, sizeof(sj));
	else
		output_names_text(sn, o->fmt == OUTPUT_TEXT ? "," : " ", OUTPUT_NAMES_MAX_COLS, st,
				  sizeof(st));
	dn = names_of(o, k->family, k->daddr);
	if (o->fmt == OUTPUT_JSON)
		names_json(dn, dj, sizeof(dj));
	else
		output_names_text(dn, o->fmt == OUTPUT_TEXT ? "," : " ", OUTPUT_NAMES_MAX_COLS, dt,
				  sizeof(dt));

	rc = rec_begin(o);
	if (rc)
		return rc;
	switch (o->fmt) {
	case OUTPUT_TEXT:
		time_text(at_ns, t, sizeof(t));
		putpad(o, t, 12, false);
		putc_(o, ' ');
		putpad(o, change_name(change), 7, false);
		putc_(o, ' ');
		putpad(o, output_direction_name(k->dir), 3, false);
		putc_(o, ' ');
		putupad(o, k->family, 3, false);
		putc_(o, ' ');
		putpad(o, src, 39, false);
		putc_(o, ' ');
		putupad(o, k->sport, 5, true);
		putc_(o, ' ');
		putpad(o, dst, 39, false);
		putc_(o, ' ');
		putupad(o, k->dport, 5, true);
		putc_(o, ' ');
		putpad(o, output_state_name(f->state), 8, false);
		putc_(o, ' ');
		putupad(o, f->syn_retrans, 4, true);
		putc_(o, ' ');
		putpad(o, hs[0] ? hs : "-", 10, true);
		putc_(o, ' ');
		puts_(o, st[0] ? st : "-");
		putc_(o, ' ');
		puts_(o, dt[0] ? dt : "-");
		putc_(o, '\n');
		break;
	case OUTPUT_CSV:
		output_time_iso(at_ns, t, sizeof(t));
		tft_escape_csv(sc, sizeof(sc), st, strlen(st));
		tft_escape_csv(dc, sizeof(dc), dt, strlen(dt));
		puts_(o, t);
		putc_(o, ',');
		puts_(o, change_name(change));
		putc_(o, ',');
		putu(o, f->id);
		putc_(o, ',');
		puts_(o, output_direction_name(k->dir));
		putc_(o, ',');
		putu(o, k->family);
		putc_(o, ',');
		puts_(o, src);
		putc_(o, ',');
		putu(o, k->sport);
		putc_(o, ',');
		puts_(o, dst);
		putc_(o, ',');
		putu(o, k->dport);
		putc_(o, ',');
		puts_(o, output_state_name(f->state));
		putc_(o, ',');
		putu(o, f->syn_retrans);
		putc_(o, ',');
		puts_(o, hs);
		putc_(o, ',');
		puts_(o, sc);
		putc_(o, ',');
		puts_(o, dc);
		putc_(o, '\n');
		break;
	default:
		output_time_iso(at_ns, t, sizeof(t));
		puts_(o, "{\"type\":\"");
		puts_(o, change == TFT_CHANGE_NEW ? "flow" : "update");
		puts_(o, "\",\"time\":\"");
		puts_(o, t);
		puts_(o, "\",\"id\":");
		putu(o, f->id);
		puts_(o, ",\"direction\":\"");
		puts_(o, output_direction_name(k->dir));
		puts_(o, "\",\"family\":");
		putu(o, k->family);
		puts_(o, ",\"src_addr\":\"");
		puts_(o, src);
		puts_(o, "\",\"src_port\":");
		putu(o, k->sport);
		puts_(o, ",\"dst_addr\":\"");
		puts_(o, dst);
		puts_(o, "\",\"dst_port\":");
		putu(o, k->dport);
		puts_(o, ",\"state\":\"");
		puts_(o, output_state_name(f->state));
		puts_(o, "\",\"syn_retrans\":");
		putu(o, f->syn_retrans);
		puts_(o, ",\"handshake_ms\":");
		puts_(o, hs[0] ? hs : "null");
		puts_(o, ",\"src_names\":");
		puts_(o, sj);
		puts_(o, ",\"dst_names\":");
		puts_(o, dj);
		puts_(o, "}\n");
		break;
	}
	return rc;
}

int output_stream_lost(struct output_stream *o, uint64_t lost, uint64_t at_ns)
{
	char t[40];

	if (o->fmt != OUTPUT_JSON)
		return 0;
	output_time_iso(at_ns, t, sizeof(t));
	return emit(o, "{\"type\":\"lost\",\"time\":\"%s\",\"events_lost\":%llu}\n", t,
		    (unsigned long long)lost);
}
