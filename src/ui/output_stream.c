/*
 * The text, CSV and JSON-lines formats are interfaces people script against;
 * the README documents each column. Change them deliberately.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "output_stream.h"

#define OUT_BUF_SIZE (256 * 1024)
#define OUT_RECORD_MAX 4096 /* room kept free for one record */

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
static void time_iso(uint64_t mono_ns, char *buf, size_t size)
{
	struct timespec ts = clock_mono_to_wall(mono_ns);
	struct tm tm;
	size_t n;

	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%06ldZ", ts.tv_nsec / 1000);
}

/* Handshake time in ms with µs precision, or "" while pending. */
static void handshake_ms(const struct tft_flow *f, char *buf, size_t size)
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
		return emit(o, "%-12s %-7s %-3s %-3s %-39s %5s %-39s %5s %-8s %4s %10s\n", "TIME",
			    "EVENT", "DIR", "FAM", "SRC", "SPORT", "DST", "DPORT", "STATE", "RETX",
			    "HS_MS");
	case OUTPUT_CSV:
		return emit(o, "time,event,id,direction,family,src_addr,src_port,dst_addr,"
			       "dst_port,state,syn_retrans,handshake_ms\n");
	default:
		return 0;
	}
}

int output_stream_flow(struct output_stream *o, const struct tft_flow *f,
		       enum tft_flow_change change, uint64_t at_ns)
{
	char t[40], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], hs[32];
	const struct tft_flow_key *k = &f->key;
	int rc;

	output_addr(k->family, k->saddr, src, sizeof(src));
	output_addr(k->family, k->daddr, dst, sizeof(dst));
	handshake_ms(f, hs, sizeof(hs));

	switch (o->fmt) {
	case OUTPUT_TEXT:
		time_text(at_ns, t, sizeof(t));
		rc = emit(o, "%-12s %-7s %-3s %-3u %-39s %5u %-39s %5u %-8s %4u %10s\n", t,
			  change_name(change), output_direction_name(k->dir), k->family, src,
			  k->sport, dst, k->dport, output_state_name(f->state), f->syn_retrans,
			  hs[0] ? hs : "-");
		break;
	case OUTPUT_CSV:
		time_iso(at_ns, t, sizeof(t));
		rc = emit(o, "%s,%s,%llu,%s,%u,%s,%u,%s,%u,%s,%u,%s\n", t, change_name(change),
			  (unsigned long long)f->id, output_direction_name(k->dir), k->family, src,
			  k->sport, dst, k->dport, output_state_name(f->state), f->syn_retrans, hs);
		break;
	default:
		time_iso(at_ns, t, sizeof(t));
		rc = emit(
		    o,
		    "{\"type\":\"%s\",\"time\":\"%s\",\"id\":%llu,\"direction\":\"%s\","
		    "\"family\":%u,\"src_addr\":\"%s\",\"src_port\":%u,\"dst_addr\":\"%s\","
		    "\"dst_port\":%u,\"state\":\"%s\",\"syn_retrans\":%u,\"handshake_ms\":%s}\n",
		    change == TFT_CHANGE_NEW ? "flow" : "update", t, (unsigned long long)f->id,
		    output_direction_name(k->dir), k->family, src, k->sport, dst, k->dport,
		    output_state_name(f->state), f->syn_retrans, hs[0] ? hs : "null");
		break;
	}
	return rc;
}

int output_stream_lost(struct output_stream *o, uint64_t lost, uint64_t at_ns)
{
	char t[40];

	if (o->fmt != OUTPUT_JSON)
		return 0;
	time_iso(at_ns, t, sizeof(t));
	return emit(o, "{\"type\":\"lost\",\"time\":\"%s\",\"events_lost\":%llu}\n", t,
		    (unsigned long long)lost);
}
