/*
 * The flow table as rows on a screen: column descriptors, their layout at a
 * given width, cell text, sort comparators, and the filtered+sorted row list
 * with a selection that follows a flow id. Pure: no curses, no I/O, so it is
 * tested without a terminal; tui.c draws what this module computes.
 */
#ifndef TFT_TABLE_VIEW_H
#define TFT_TABLE_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "filter.h"
#include "flow_fields.h"
#include "flow_table.h"
#include "names_provider.h"

/*
 * The screen's columns are the fields of flow_fields.h that can show on
 * screen (FLOW_FIELD_ON_SCREEN): adding one is a descriptor there.
 */
#define TABLE_COL_COUNT FLOW_FIELD_SCREEN_COUNT

/* Looks a screen column up by name ("dport") or title ("DPORT"). 0 or -EINVAL. */
int table_column_parse(const char *name, enum flow_field *out);
/*
 * Parses a -o list: "time,dir,src,dport" (commas or spaces). Each column at
 * most once. Returns 0 or -EINVAL with a one-line reason in err (listing
 * the columns).
 */
int table_columns_parse(const char *list, enum flow_field *cols, size_t *n, char *err,
			size_t errlen);
/* The default columns, in order; returns how many. */
size_t table_columns_default(enum flow_field *cols);

struct table_layout {
	size_t n; /* columns shown */
	enum flow_field col[TABLE_COL_COUNT];
	int x[TABLE_COL_COUNT]; /* first screen column of each */
	int width[TABLE_COL_COUNT];
	size_t dropped; /* chosen columns that did not fit */
};

/*
 * Fits the chosen columns into width cells, one space between columns:
 * when even their minimum widths do not fit, the columns with the lowest
 * keep are dropped first; spare width then grows addresses (to fit IPv4,
 * then names a little, then IPv6) and names. Order is kept.
 */
void table_layout_compute(const enum flow_field *cols, size_t n, int width,
			  struct table_layout *out);
/* The layout column at screen column x, or -1. */
int table_layout_hit(const struct table_layout *l, int x);

/*
 * The full text of a cell (unfitted); names from the provider, "" if none:
 * the first name escaped for a terminal and how many more ("a.example +2").
 */
const char *table_cell_text(enum flow_field c, const struct tft_flow *f,
			    const struct names_provider *names, char *buf, size_t size);

/*
 * Pads or cuts text to exactly width cells into out. Text too long is cut
 * with a visible mark in the last cell ("~", or "…" when utf8). Bytes that
 * are not printable ASCII show as "?" (U+FFFD when utf8): names are untrusted.
 */
void table_fit(const char *text, int width, bool right, bool utf8, char *out, size_t size);

/*
 * Orders two flows by column c; ties fall back to the flow id, and desc
 * flips the whole result (tie-break included), as htop's Process_compare.
 */
int table_compare(const struct tft_flow *a, const struct tft_flow *b, enum flow_field c, bool desc,
		  const struct names_provider *names);

struct table_view;

struct table_view *table_view_new(void);
void table_view_free(struct table_view *v);

/*
 * Rebuilds the rows: the flows of t that match f (NULL: all), with
 * id <= max_id (UINT64_MAX: no limit; a paused screen passes the newest id
 * it showed), sorted by sort.
 * The selection stays on its flow if that flow is still a row. 0 or -ENOMEM.
 */
int table_view_rebuild(struct table_view *v, const struct flow_table *t, const struct filter *f,
		       const struct names_provider *names, enum flow_field sort, bool desc,
		       uint64_t max_id);
size_t table_view_count(const struct table_view *v);
/* The flow id of row i (0 <= i < count). */
uint64_t table_view_id_at(const struct table_view *v, size_t i);

/* The selected row index (0 when there are no rows). */
size_t table_view_selected(const struct table_view *v);
/* The selected flow's id, or 0 when there are no rows. */
uint64_t table_view_selected_id(const struct table_view *v);
/* Moves the selection by delta rows, clamped; it then follows its flow id. */
void table_view_move(struct table_view *v, long delta);
void table_view_select(struct table_view *v, size_t index);
/* The first row to draw so that the selection shows in a page of rows. */
size_t table_view_scroll(struct table_view *v, size_t page_rows);

#endif /* TFT_TABLE_VIEW_H */
