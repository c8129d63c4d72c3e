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
/* Room kept free for one record: two ends of JSON-escaped names fit. */
#define OUT_RECORD_MAX (2 * TFT_DNS_CACHE_NAMES_PER_ADDR * (6 * TFT_DNS_CACHE_NAME_MAX + 40) + 1024)

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

/* Local HH:MM:SS.mmm for people. */
static void time_text(uint64_t mono_ns, char *buf, size_t size)
{
	struct timespec ts = clock_mono_to_wall(mono_ns);
	struct tm tm;

	localtime_r(&ts.tv_sec, &tm);
	snprintf(buf, size, "%02d:%02d:%02d.%03ld", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 ts.tv_nsec / 1000000);
}

/* RFC 3339 UTC with microseconds for machines. */
void output_time_iso(uint64_t mono_ns, char *buf, size_t size)
{
	struct timespec ts = clock_mono_to_wall(mono_ns);
	struct tm tm;
	size_t n;

	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%06ldZ", ts.tv_nsec / 1000);
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
	snprintf(buf, size, "%llu.%03llu", (unsigned long long)(d / 1000000),
		 (unsigned long long)(d / 1000 % 1000));
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

/* Each end's names: text (escaped, joined), or a JSON array. */
#define NAMES_TEXT_SIZE (OUTPUT_NAMES_MAX_COLS + 8)
#define NAMES_JSON_SIZE (TFT_DNS_CACHE_NAMES_PER_ADDR * (6 * TFT_DNS_CACHE_NAME_MAX + 40) + 8)

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

	switch (o->fmt) {
	case OUTPUT_TEXT:
		time_text(at_ns, t, sizeof(t));
		rc = emit(o, "%-12s %-7s %-3s %-3u %-39s %5u %-39s %5u %-8s %4u %10s %s %s\n", t,
			  change_name(change), output_direction_name(k->dir), k->family, src,
			  k->sport, dst, k->dport, output_state_name(f->state), f->syn_retrans,
			  hs[0] ? hs : "-", st[0] ? st : "-", dt[0] ? dt : "-");
		break;
	case OUTPUT_CSV:
		output_time_iso(at_ns, t, sizeof(t));
		tft_escape_csv(sc, sizeof(sc), st, strlen(st));
		tft_escape_csv(dc, sizeof(dc), dt, strlen(dt));
		rc = emit(o, "%s,%s,%llu,%s,%u,%s,%u,%s,%u,%s,%u,%s,%s,%s\n", t,
			  change_name(change), (unsigned long long)f->id,
			  output_direction_name(k->dir), k->family, src, k->sport, dst, k->dport,
			  output_state_name(f->state), f->syn_retrans, hs, sc, dc);
		break;
	default:
		output_time_iso(at_ns, t, sizeof(t));
		rc =
		    emit(o,
			 "{\"type\":\"%s\",\"time\":\"%s\",\"id\":%llu,\"direction\":\"%s\","
			 "\"family\":%u,\"src_addr\":\"%s\",\"src_port\":%u,\"dst_addr\":\"%s\","
			 "\"dst_port\":%u,\"state\":\"%s\",\"syn_retrans\":%u,\"handshake_ms\":%s,"
			 "\"src_names\":%s,\"dst_names\":%s}\n",
			 change == TFT_CHANGE_NEW ? "flow" : "update", t, (unsigned long long)f->id,
			 output_direction_name(k->dir), k->family, src, k->sport, dst, k->dport,
			 output_state_name(f->state), f->syn_retrans, hs[0] ? hs : "null", sj, dj);
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
