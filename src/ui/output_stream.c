/*
 * The text, CSV and JSON-lines formats are interfaces people script against;
 * the README documents each column. Change them deliberately.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "output_stream.h"

#define OUT_BUF_SIZE (256 * 1024)

struct output_stream {
	FILE *out; /* borrowed */
	enum output_format fmt;
	char *buf; /* owned: stdio buffer, so a storm costs few write(2)s */
	int err;   /* first write error, as -errno */
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

struct output_stream *output_stream_new(FILE *out, enum output_format fmt)
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
	o->out = out;
	o->fmt = fmt;
	setvbuf(out, o->buf, _IOFBF, OUT_BUF_SIZE);
	return o;
}

void output_stream_free(struct output_stream *o)
{
	if (!o)
		return;
	fflush(o->out);
	/* The buffer belongs to o: detach it before freeing. */
	setvbuf(o->out, NULL, _IOLBF, 0);
	free(o->buf);
	free(o);
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
	return change == TFT_CHANGE_NEW ? "new" : change == TFT_CHANGE_RETRANS ? "retrans" : "update";
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

static int check(struct output_stream *o, int rc)
{
	if (rc < 0 && !o->err)
		o->err = errno ? -errno : -EIO;
	return rc < 0 ? o->err : 0;
}

int output_stream_header(struct output_stream *o)
{
	switch (o->fmt) {
	case OUTPUT_TEXT:
		return check(o, fprintf(o->out, "%-12s %-7s %-3s %-3s %-39s %5s %-39s %5s %-8s %4s %10s\n",
					"TIME", "EVENT", "DIR", "FAM", "SRC", "SPORT", "DST", "DPORT",
					"STATE", "RETX", "HS_MS"));
	case OUTPUT_CSV:
		return check(o, fputs("time,event,id,direction,family,src_addr,src_port,dst_addr,"
				      "dst_port,state,syn_retrans,handshake_ms\n",
				      o->out));
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
		rc = fprintf(o->out, "%-12s %-7s %-3s %-3u %-39s %5u %-39s %5u %-8s %4u %10s\n", t,
			     change_name(change), output_direction_name(k->dir), k->family, src,
			     k->sport, dst, k->dport, output_state_name(f->state), f->syn_retrans,
			     hs[0] ? hs : "-");
		break;
	case OUTPUT_CSV:
		time_iso(at_ns, t, sizeof(t));
		rc = fprintf(o->out, "%s,%s,%llu,%s,%u,%s,%u,%s,%u,%s,%u,%s\n", t,
			     change_name(change), (unsigned long long)f->id,
			     output_direction_name(k->dir), k->family, src, k->sport, dst, k->dport,
			     output_state_name(f->state), f->syn_retrans, hs);
		break;
	default:
		time_iso(at_ns, t, sizeof(t));
		rc = fprintf(o->out,
			     "{\"type\":\"%s\",\"time\":\"%s\",\"id\":%llu,\"direction\":\"%s\","
			     "\"family\":%u,\"src_addr\":\"%s\",\"src_port\":%u,\"dst_addr\":\"%s\","
			     "\"dst_port\":%u,\"state\":\"%s\",\"syn_retrans\":%u,\"handshake_ms\":%s}\n",
			     change == TFT_CHANGE_NEW ? "flow" : "update", t, (unsigned long long)f->id,
			     output_direction_name(k->dir), k->family, src, k->sport, dst, k->dport,
			     output_state_name(f->state), f->syn_retrans, hs[0] ? hs : "null");
		break;
	}
	return check(o, rc);
}

int output_stream_lost(struct output_stream *o, uint64_t lost, uint64_t at_ns)
{
	char t[40];

	if (o->fmt != OUTPUT_JSON)
		return 0;
	time_iso(at_ns, t, sizeof(t));
	return check(o, fprintf(o->out, "{\"type\":\"lost\",\"time\":\"%s\",\"events_lost\":%llu}\n",
				t, (unsigned long long)lost));
}

int output_stream_flush(struct output_stream *o)
{
	errno = 0;
	if (fflush(o->out) == EOF && !o->err)
		o->err = errno ? -errno : -EIO;
	return o->err;
}
