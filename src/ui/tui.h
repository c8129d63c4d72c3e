/*
 * The interactive screen: curses setup and restore, the key table, the
 * redraw policy. It reads the flow table (borrowed) and registers the
 * keyboard and its timers in the caller's event loop; main.c feeds it
 * events and signals. While it is up nothing else may write to the
 * terminal: tui_message holds messages back and tui_free prints them after
 * the screen is closed.
 */
#ifndef TFT_TUI_H
#define TFT_TUI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event_loop.h"
#include "filter.h"
#include "flow_table.h"
#include "names_provider.h"
#include "table_view.h"

struct tui_opts {
	const char *cgroup;	/* shown in the header */
	double delay;		/* seconds between redraws for new data; keys redraw at once */
	bool no_color;		/* --no-color; NO_COLOR is checked by tui_new */
	const char *export_dir; /* NULL: the working directory */
	enum flow_field cols[FLOW_FIELD_SCREEN_COUNT];
	size_t ncols; /* 0: the default columns */
	enum flow_field sort;
	bool sort_desc;
	struct filter filter; /* the initial filter: --port, --direction, --filter, -4/-6 */
	struct names_provider names;
};

/* Numbers the ui cannot read itself (it never sees the capture). */
struct tui_stats {
	uint64_t events_lost;	   /* ring buffer full: events the programs dropped */
	bool names_on;		   /* --no-dns unset: the names below mean something */
	uint64_t names_cached;	   /* addresses in the names cache */
	unsigned names_hit_pct;	   /* new flows' addresses the cache already named */
	uint64_t lookups_inflight; /* reverse lookups on the wire or queued */
	uint64_t lookups_failed;   /* reverse lookups that got no name */
};

struct tui;

/*
 * Opens the screen on the controlling terminal (stdin/stdout) and registers
 * stdin and its timers in loop (both borrowed, as is table). Takes over the
 * loop's idle callback to draw. On failure returns NULL, sets errno and
 * writes a one-line reason into err; the terminal is left as it was.
 */
struct tui *tui_new(const struct tui_opts *opts, struct flow_table *table, struct event_loop *loop,
		    char *err, size_t errlen);
/* Restores the terminal, then prints the held-back messages to stderr. NULL is fine. */
void tui_free(struct tui *t);

/* Flows were added or changed: redraw within the delay. */
void tui_flows_changed(struct tui *t);
void tui_set_stats(struct tui *t, const struct tui_stats *s);
/* The terminal changed size (SIGWINCH). */
void tui_resize(struct tui *t);
/* Writes the CSV snapshot of the current view (the `e` key, SIGUSR1). 0 or -errno. */
int tui_export(struct tui *t);
/* Shows a one-line message in the footer and prints it to stderr after the screen closes. */
void tui_message(struct tui *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* TFT_TUI_H */
