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
#include "flow_table.h"
#include "names_provider.h"

/* Columns are data: adding one is a new row in the descriptor table in table_view.c. */
enum table_col {
	TABLE_COL_TIME = 0,
	TABLE_COL_DIR,
	TABLE_COL_SRC,
	TABLE_COL_SPORT,
	TABLE_COL_DST,
	TABLE_COL_DPORT,
	TABLE_COL_SNAMES,
	TABLE_COL_DNAMES,
	TABLE_COL_STATE,
	TABLE_COL_RETX,
	TABLE_COL_HS,
	TABLE_COL_COUNT
};

struct table_column_desc {
	const char *name;  /* -o and --sort key, e.g. "dport" */
	const char *title; /* column header, e.g. "DPORT" */
	const char *help;  /* one line for the help screen and the man page */
	int min_width;	   /* below this the column is dropped */
	int max_width;	   /* == min_width for fixed columns */
	int keep;	   /* narrow terminals drop the lowest keep first */
	bool right;	   /* right-aligned (numbers) */
	bool desc_first;   /* sorting by it starts descending (newest, slowest first) */
	bool names;	   /* a domain-names column: hidden by `n` */
};

const struct table_column_desc *table_column(enum table_col c);
/* Looks a column up by name ("dport") or title ("DPORT"). 0 or -EINVAL. */
int table_column_parse(const char *name, enum table_col *out);
/*
 * Parses a -o list: "time,dir,src,dport" (commas or spaces). Each column at
 * most once. Returns 0 or -EINVAL with a one-line reason in err.
 */
int table_columns_parse(const char *list, enum table_col *cols, size_t *n, char *err,
			size_t errlen);
/* The default columns, in order; returns how many. */
size_t table_columns_default(enum table_col *cols);

struct table_layout {
	size_t n; /* columns shown */
	enum table_col col[TABLE_COL_COUNT];
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
void table_layout_compute(const enum table_col *cols, size_t n, int width,
			  struct table_layout *out);
/* The layout column at screen column x, or -1. */
int table_layout_hit(const struct table_layout *l, int x);

/* The full text of a cell (unfitted); names from the provider, "" if none. */
const char *table_cell_text(enum table_col c, const struct tft_flow *f,
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
int table_compare(const struct tft_flow *a, const struct tft_flow *b, enum table_col c, bool desc,
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
		       const struct names_provider *names, enum table_col sort, bool desc,
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
