/*
 * A group view as rows: the groups of one flow_groups object as of one
 * moment, filtered, sorted, with a selection that follows a group, and
 * laid out in columns from the group field table. Pure: no curses, no I/O
 * (but the CSV export, through export_csv's safe writer).
 */
#ifndef TFT_GROUP_VIEW_H
#define TFT_GROUP_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "flow_groups.h"
#include "group_fields.h"

#define GROUP_FILTER_MAX_TERMS 16
#define GROUP_FILTER_TEXT_MAX 256
#define GROUP_FILTER_WORD_MAX 64

struct group_term {
	bool negate;
	bool field;			  /* FIELD:VALUE; else a word */
	uint8_t id;			  /* enum group_field */
	uint64_t lo, hi;		  /* numbers: the range, in the shown unit's whole part */
	char word[GROUP_FILTER_WORD_MAX]; /* lower case: a piece of the text */
};

/*
 * The group screens' filter line: terms AND-ed, `!` negates one. A word is
 * a piece of the endpoint (name or address), the port, the top client, or
 * the process or service;
 * FIELD:VALUE names a group field: text fields match a piece, numbers the
 * whole part of the value as the text stream writes it (the screen may
 * shorten it: bytes are 1.5M there, whole bytes here), exactly or as a
 * range (refused:20-100, p95:5-999, flows:40, bytesin:1048576-99999999999).
 */
struct group_view_filter {
	size_t nterms;
	struct group_term terms[GROUP_FILTER_MAX_TERMS];
	char text[GROUP_FILTER_TEXT_MAX];
};

/* Parses text into f (f unchanged on error). 0 or -EINVAL with a one-line reason in err. */
int group_filter_parse(struct group_view_filter *f, const char *text, char *err, size_t errlen);
bool group_filter_match(const struct group_view_filter *f, enum flow_group_kind kind,
			const struct group_field_ctx *c);

struct group_layout {
	size_t n;
	enum group_field col[GROUP_FIELD_COUNT];
	int x[GROUP_FIELD_COUNT];
	int width[GROUP_FIELD_COUNT];
};

/* The view's columns at width cells: the least kept dropped first, spare width to text. */
void group_layout_compute(enum flow_group_kind kind, int width, struct group_layout *out);
int group_layout_hit(const struct group_layout *l, int x);

struct group_view;

struct group_view *group_view_new(void);
void group_view_free(struct group_view *v);

/*
 * Rebuilds the rows from g as of now_ns (rates look back from it): the
 * groups f matches (NULL: all), sorted by sort (ties by group index, desc
 * flips all). The selection stays on its group. 0 or -ENOMEM.
 */
int group_view_rebuild(struct group_view *v, const struct flow_groups *g,
		       const struct group_view_filter *f, enum group_field sort, bool desc,
		       uint64_t now_ns);
size_t group_view_count(const struct group_view *v);
const struct group_row *group_view_row(const struct group_view *v, size_t i);
/* The key of row i's group (borrowed from g, as flow_groups_at). */
const struct flow_group_key *group_view_key(const struct group_view *v, const struct flow_groups *g,
					    size_t i);
size_t group_view_selected(const struct group_view *v);
void group_view_move(struct group_view *v, long delta);
void group_view_select(struct group_view *v, size_t index);
size_t group_view_scroll(struct group_view *v, size_t page_rows);

/*
 * Writes the rows, in order, as a CSV snapshot through export_csv's safe
 * writer (tcpflowtop-YYYYmmdd-HHMMSS.csv in dir): a group_by column, then
 * the view's fields by their CSV keys. 0 or -errno.
 */
int group_view_export(const struct group_view *v, const struct flow_groups *g, const char *dir,
		      time_t now, char *path, size_t pathlen, size_t *written);

#endif /* TFT_GROUP_VIEW_H */
