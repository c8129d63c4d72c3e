#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "group_stream.h"
#include "group_view.h"

/* A text column of an endpoint is padded to this; longer values push the line. */
#define TEXT_PAD 24
/* A line: time and kind, then each cell with its key or padding. */
#define LINE_MAX_BYTES (GROUP_FIELD_COUNT * (GROUP_CELL_SIZE + 32) + 256)

struct group_stream {
	int fd; /* borrowed */
	enum output_format format;
	const struct flow_groups *g; /* borrowed */
	struct group_view *view;     /* owned */
	char *buf;		     /* owned: one block */
	size_t len, cap;
	bool header_done;
	int err;
};

struct group_stream *group_stream_new(int fd, enum output_format format,
				      const struct flow_groups *g)
{
	struct group_stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->view = group_view_new();
	if (!s->view) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	s->fd = fd;
	s->format = format;
	s->g = g;
	return s;
}

void group_stream_free(struct group_stream *s)
{
	if (!s)
		return;
	group_view_free(s->view);
	free(s->buf);
	free(s);
}

/* Room for one more line; doubling: few reallocs, and a block costs at most twice its size. */
static bool room(struct group_stream *s)
{
	size_t cap = s->cap ? s->cap : LINE_MAX_BYTES;
	char *b;

	while (cap - s->len < LINE_MAX_BYTES)
		cap *= 2;
	if (cap == s->cap)
		return true;
	b = realloc(s->buf, cap);
	if (!b)
		return false;
	s->buf = b;
	s->cap = cap;
	return true;
}

static void put(struct group_stream *s, const char *text)
{
	size_t n = strlen(text);

	memcpy(s->buf + s->len, text, n);
	s->len += n;
}

static void pad(struct group_stream *s, const char *text, int width, bool right)
{
	int n = (int)strlen(text);

	for (; right && n < width; n++)
		put(s, " ");
	put(s, text);
	for (; !right && n < width; n++)
		put(s, " ");
}

static int text_width(enum group_field id)
{
	const struct group_field_desc *d = group_field(id);
	int w = d->text ? TEXT_PAD : d->width;

	return (int)strlen(d->title) > w ? (int)strlen(d->title) : w;
}

static void line(struct group_stream *s, const enum group_field *ids, size_t n,
		 const struct group_field_ctx *c, const char *iso, enum flow_group_kind kind)
{
	char cell[GROUP_CELL_SIZE];
	size_t k;

	switch (s->format) {
	case OUTPUT_TEXT:
		for (k = 0; k < n; k++) {
			const struct group_field_desc *d = group_field(ids[k]);

			if (c)
				group_field_render(ids[k], c, FLOW_TARGET_TEXT, cell, sizeof(cell));
			else
				snprintf(cell, sizeof(cell), "%s", d->title);
			if (k)
				put(s, "  ");
			pad(s, cell[0] ? cell : "-", k + 1 < n ? text_width(ids[k]) : 0, d->right);
		}
		break;
	case OUTPUT_CSV:
		put(s, c ? iso : "time");
		put(s, ",");
		put(s, c ? group_kind_name(kind) : "group_by");
		for (k = 0; k < n; k++) {
			put(s, ",");
			if (c)
				put(s, group_field_render(ids[k], c, FLOW_TARGET_CSV, cell,
							  sizeof(cell)));
			else
				put(s, group_field(ids[k])->key);
		}
		break;
	case OUTPUT_JSON:
		put(s, "{\"type\":\"group\",\"time\":\"");
		put(s, iso);
		put(s, "\",\"group_by\":\"");
		put(s, group_kind_name(kind));
		put(s, "\"");
		for (k = 0; k < n; k++) {
			put(s, ",\"");
			put(s, group_field(ids[k])->key);
			put(s, "\":");
			group_field_render(ids[k], c, FLOW_TARGET_JSON, cell, sizeof(cell));
			put(s, cell[0] ? cell : "null");
		}
		put(s, "}");
		break;
	}
	put(s, "\n");
}

static int write_all(struct group_stream *s)
{
	size_t off = 0;

	while (off < s->len && !s->err) {
		ssize_t n = write(s->fd, s->buf + off, s->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = {.fd = s->fd, .events = POLLOUT};

			poll(&p, 1, -1);
			continue;
		}
		if (n <= 0)
			s->err = n < 0 ? -errno : -EIO;
		else
			off += (size_t)n;
	}
	s->len = 0;
	return s->err;
}

int group_stream_block(struct group_stream *s, uint64_t at_ns)
{
	enum flow_group_kind kind = flow_groups_kind(s->g);
	enum group_field ids[GROUP_FIELD_COUNT];
	size_t n = group_fields_of(kind, ids), i, rows;
	char iso[40], head[128];

	if (s->err)
		return s->err;
	if (group_view_rebuild(s->view, s->g, NULL, GROUP_FIELD_FLOWS, true, at_ns) || !room(s))
		return -ENOMEM;
	flow_field_time_iso(at_ns, iso, sizeof(iso));
	rows = group_view_count(s->view);
	if (s->format == OUTPUT_TEXT) {
		snprintf(head, sizeof(head), "# %s group-by %s: %zu groups\n", iso,
			 group_kind_name(kind), rows);
		put(s, head);
		line(s, ids, n, NULL, iso, kind);
	} else if (s->format == OUTPUT_CSV && !s->header_done) {
		line(s, ids, n, NULL, iso, kind);
	}
	s->header_done = true;
	for (i = 0; i < rows; i++) {
		struct group_field_ctx c = {group_view_row(s->view, i),
					    group_view_key(s->view, s->g, i)};

		if (!c.key || !room(s))
			continue;
		line(s, ids, n, &c, iso, kind);
	}
	if (s->format == OUTPUT_TEXT)
		put(s, "\n");
	return write_all(s);
}
