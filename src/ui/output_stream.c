/*
 * The stream's buffer, writes and policy (filter, count, names wait); the
 * formats themselves are output_format.h's, one file each. The formats are
 * interfaces people script against; the README documents each column.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "id_set.h"
#include "line_queue.h"
#include "output_format.h"
#include "output_stream.h"

#define OUT_BUF_SIZE (512 * 1024 + OUTPUT_RECORD_MAX)
/* Records held for names at most; a storm beyond it prints the oldest early. */
#define HELD_LINES_MAX 65536

static const struct output_format_ops *const formats[] = {
    [OUTPUT_TEXT] = &format_text,
    [OUTPUT_CSV] = &format_csv,
    [OUTPUT_JSON] = &format_json,
};

/*
 * Our own buffer and write(2) rather than stdio: a storm costs few syscalls,
 * the first write error is kept, and the buffer's lifetime is ours.
 */
struct output_stream {
	int fd; /* borrowed */
	const struct output_format_ops *fmt;
	char *buf; /* owned, OUT_BUF_SIZE */
	size_t len;
	int err; /* first write error, as -errno */
	struct names_provider names;
	struct filter filter;
	bool has_filter;
	unsigned long long count, printed;
	unsigned events; /* enum output_event bits */
	/*
	 * With a filter, --count or --events: the flows introduced (their
	 * first record printed) that may still change, i.e. not ended yet.
	 * Owned; NULL when every flow is introduced by its SYN.
	 */
	struct id_set *introduced;
	struct line_queue *held; /* owned; NULL without --resolve-wait */
	uint64_t wait_ns;
	output_settled_fn settled;
	void *settled_ctx; /* borrowed */
};

int output_events_parse(const char *text, unsigned *mask)
{
	static const struct {
		const char *name;
		unsigned bits;
	} words[] = {{"new", OUTPUT_EVENT_NEW},
		     {"update", OUTPUT_EVENT_UPDATE},
		     {"close", OUTPUT_EVENT_CLOSE},
		     {"all", OUTPUT_EVENT_ALL}};
	const char *p = text;
	unsigned m = 0;
	size_t n, i;

	for (;;) {
		n = strcspn(p, ",");
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (strlen(words[i].name) == n && !strncmp(p, words[i].name, n))
				break;
		if (i == sizeof(words) / sizeof(words[0]))
			return -EINVAL;
		m |= words[i].bits;
		if (!p[n])
			break;
		p += n + 1;
	}
	*mask = m;
	return 0;
}

int output_format_parse(const char *text, enum output_format *fmt)
{
	size_t i;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (!strcmp(text, formats[i]->name) ||
		    (formats[i]->alias && !strcmp(text, formats[i]->alias))) {
			*fmt = (enum output_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

struct output_stream *output_stream_new(int fd, const struct output_stream_opts *opts)
{
	struct output_stream *o;

	if (opts && (unsigned)opts->format >= sizeof(formats) / sizeof(formats[0])) {
		errno = EINVAL;
		return NULL;
	}
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->buf = malloc(OUT_BUF_SIZE);
	if (!o->buf) {
		free(o);
		errno = ENOMEM;
		return NULL;
	}
	o->fd = fd;
	o->fmt = formats[opts ? opts->format : OUTPUT_TEXT];
	if (opts && opts->filter) {
		o->filter = *opts->filter;
		o->has_filter = true;
	}
	o->count = opts ? opts->count : 0;
	o->events = opts && opts->events ? opts->events : OUTPUT_EVENT_ALL;
	if (o->has_filter || o->count || o->events != OUTPUT_EVENT_ALL) {
		o->introduced = id_set_new();
		if (!o->introduced) {
			free(o->buf);
			free(o);
			errno = ENOMEM;
			return NULL;
		}
	}
	return o;
}

void output_stream_free(struct output_stream *o)
{
	if (!o)
		return;
	output_stream_flush(o);
	line_queue_free(o->held);
	id_set_free(o->introduced);
	free(o->buf);
	free(o);
}

void output_stream_set_names(struct output_stream *o, const struct names_provider *names)
{
	if (names)
		o->names = *names;
	else
		memset(&o->names, 0, sizeof(o->names));
}

int output_stream_set_hold(struct output_stream *o, unsigned wait_ms, output_settled_fn settled,
			   void *ctx)
{
	if (!o->held) {
		o->held = line_queue_new(HELD_LINES_MAX);
		if (!o->held)
			return -ENOMEM;
	}
	o->wait_ns = (uint64_t)wait_ms * 1000000ULL;
	o->settled = settled;
	o->settled_ctx = ctx;
	return 0;
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

/*
 * Room for one record, flushing first when the buffer is nearly full: a
 * record is at most OUTPUT_RECORD_MAX bytes. 0 or the stream's error.
 */
static int begin(struct output_stream *o, struct format_buf *b)
{
	if (o->err)
		return o->err;
	if (OUT_BUF_SIZE - o->len < OUTPUT_RECORD_MAX && output_stream_flush(o))
		return o->err;
	b->buf = o->buf;
	b->len = o->len;
	b->size = OUT_BUF_SIZE;
	return 0;
}

static void commit(struct output_stream *o, const struct format_buf *b)
{
	o->len = b->len;
}

int output_stream_header(struct output_stream *o)
{
	struct format_buf b;
	int rc = begin(o, &b);

	if (rc)
		return rc;
	o->fmt->header(&b);
	commit(o, &b);
	return 0;
}

static int print(struct output_stream *o, const struct tft_flow *f, enum tft_flow_change change,
		 uint64_t at_ns)
{
	struct flow_field_ctx c = {f, change, at_ns, &o->names};
	struct format_buf b;
	int rc = begin(o, &b);

	if (rc)
		return rc;
	o->fmt->record(&b, &c);
	commit(o, &b);
	return 0;
}

static bool names_ready(struct output_stream *o, const struct tft_flow *f)
{
	return !o->settled || (o->settled(o->settled_ctx, f->key.family, f->key.saddr) &&
			       o->settled(o->settled_ctx, f->key.family, f->key.daddr));
}

/* Prints held records, oldest first, while ready or due; at least `force` of them regardless. */
static void release(struct output_stream *o, uint64_t now, size_t force)
{
	const struct held_line *h;

	while (o->held && (h = line_queue_head(o->held))) {
		if (!force && now < h->deadline_ns && !names_ready(o, &h->flow))
			break;
		print(o, &h->flow, h->change, h->at_ns);
		line_queue_pop(o->held);
		if (force)
			force--;
	}
}

static unsigned event_of(enum tft_flow_change change)
{
	return change == TFT_CHANGE_NEW	  ? OUTPUT_EVENT_NEW
	       : change == TFT_CHANGE_END ? OUTPUT_EVENT_CLOSE
					  : OUTPUT_EVENT_UPDATE;
}

/*
 * Whether to print this change, and as what. A flow is introduced by its
 * first record that passes the filter and the events selected: `new`
 * when new records are selected (at its SYN, or on a later change: a flow
 * that matches only once refused or closed is introduced then, in that
 * state, with its final figures), else the record it is. Only introduced
 * flows get later records, and --count counts introductions. A flow that
 * ended cannot change again (unless a late answer reopens it, which
 * introduces it afresh), so the set holds open flows only.
 */
static bool admit(struct output_stream *o, const struct tft_flow *f, enum tft_flow_change *change)
{
	bool known;

	if (!o->introduced)
		return true;
	known = *change != TFT_CHANGE_NEW && id_set_has(o->introduced, f->id);
	if (known && f->end != TFT_END_NONE)
		id_set_del(o->introduced, f->id);
	/* Word and names terms see the names known now, as the screen's filter does. */
	if (o->has_filter &&
	    !filter_match_names(&o->filter, f, o->names.names_for ? &o->names : NULL))
		return false;
	if (known)
		return o->events & event_of(*change);
	if (o->count && o->printed >= o->count)
		return false;
	if (o->events & OUTPUT_EVENT_NEW)
		*change = TFT_CHANGE_NEW;
	if (!(o->events & event_of(*change)))
		return false;
	/* Without room to remember it, a flow is shown once, in its state now. */
	if (f->end == TFT_END_NONE)
		id_set_add(o->introduced, f->id);
	o->printed++;
	return true;
}

void output_stream_forget(struct output_stream *o, uint64_t id)
{
	if (o->introduced)
		id_set_del(o->introduced, id);
}

int output_stream_flow(struct output_stream *o, const struct tft_flow *f,
		       enum tft_flow_change change, uint64_t at_ns)
{
	/* A refusal ends the flow at its answer: that record is its close. */
	if (flow_change_ends(f, change))
		change = TFT_CHANGE_END;
	if (!admit(o, f, &change))
		return 0;
	if (!o->introduced && change == TFT_CHANGE_NEW)
		o->printed++;
	if (o->held) {
		struct held_line h = {
		    .flow = *f,
		    .change = change,
		    .at_ns = at_ns,
		    .deadline_ns = clock_mono_ns() + o->wait_ns,
		};

		if (!line_queue_push(o->held, &h)) {
			release(o, clock_mono_ns(), 1); /* full: the oldest goes out now */
			line_queue_push(o->held, &h);
		}
		return o->err;
	}
	return print(o, f, change, at_ns);
}

int output_stream_left(struct output_stream *o, const struct tft_flow *f, uint64_t at_ns,
		       bool open_closes)
{
	int rc = 0;

	if (f->end == TFT_END_NONE && open_closes) {
		struct tft_flow last = *f;

		last.end = TFT_END_OPEN;
		last.end_ns = at_ns > f->syn_ns ? at_ns : f->syn_ns;
		rc = output_stream_flow(o, &last, TFT_CHANGE_END, at_ns);
	}
	output_stream_forget(o, f->id);
	return rc;
}

int output_stream_alert(struct output_stream *o, const struct reset_alert_event *a)
{
	struct format_buf b;
	int rc;

	if (!o->fmt->alert || !(o->events & OUTPUT_EVENT_CLOSE))
		return 0;
	/* Behind the held records: the stream stays in time order. */
	release(o, clock_mono_ns(), SIZE_MAX);
	rc = begin(o, &b);
	if (rc)
		return rc;
	o->fmt->alert(&b, a);
	commit(o, &b);
	return 0;
}

/* A running total through one of the format's ops; a format without it prints nothing. */
static int total(struct output_stream *o, void (*op)(struct format_buf *, uint64_t, uint64_t),
		 uint64_t n, uint64_t at_ns)
{
	struct format_buf b;
	int rc;

	if (!op)
		return 0; /* text and CSV rows have one shape: the summary counts these */
	rc = begin(o, &b);
	if (rc)
		return rc;
	op(&b, n, at_ns);
	commit(o, &b);
	return 0;
}

int output_stream_lost(struct output_stream *o, uint64_t lost, uint64_t at_ns)
{
	return total(o, o->fmt->lost, lost, at_ns);
}

int output_stream_ignored(struct output_stream *o, uint64_t answers, uint64_t at_ns)
{
	return total(o, o->fmt->ignored, answers, at_ns);
}

size_t format_alert_cell(struct format_buf *b, enum flow_field id, const struct flow_field_ctx *c,
			 uint64_t count, enum flow_field_target target)
{
	char *at = b->buf + b->len;
	size_t n;

	at[0] = '\0';
	switch (id) {
	case FLOW_FIELD_TIME:
	case FLOW_FIELD_FAMILY:
	case FLOW_FIELD_DST:
	case FLOW_FIELD_DPORT:
		return format_field(b, id, c, target);
	case FLOW_FIELD_EVENT:
		format_puts(b, "alert");
		return 5;
	case FLOW_FIELD_STATE:
		n = (size_t)snprintf(at, b->size - b->len, "%llu", (unsigned long long)count);
		b->len += n;
		return n;
	default:
		return 0;
	}
}

void output_stream_tick(struct output_stream *o, uint64_t now_ns, bool final)
{
	struct format_buf b;

	release(o, now_ns, final ? SIZE_MAX : 0);
	if (final && !begin(o, &b)) {
		o->fmt->end(&b);
		commit(o, &b);
	}
}

bool output_stream_done(const struct output_stream *o)
{
	return o->count && o->printed >= o->count;
}
