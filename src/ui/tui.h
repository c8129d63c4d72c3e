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
#include "flow_groups.h"
#include "flow_pipeline.h"
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
	struct flow_groups *remote;   /* borrowed: the by-remote-service view; NULL: none */
	struct flow_groups *listener; /* borrowed: the by-local-listener view; NULL: none */
	struct flow_groups *process;  /* borrowed: the by-process view; NULL: none */
	bool replay; /* a replay: group rates look back from the last recorded event */
};

struct tui;

/*
 * Opens the screen on the controlling terminal (stdin/stdout) and registers
 * stdin and its timers in loop (both borrowed, as is the pipeline, whose
 * table and stats it shows). Takes over the
 * loop's idle callback to draw. On failure returns NULL, sets errno and
 * writes a one-line reason into err; the terminal is left as it was.
 */
struct tui *tui_new(const struct tui_opts *opts, struct flow_pipeline *pipeline,
		    struct event_loop *loop, char *err, size_t errlen);
/* The screen as a sink of the pipeline: new flows, changes and losses redraw it. */
struct flow_sink tui_sink(struct tui *t);
/* Restores the terminal, then prints the held-back messages to stderr. NULL is fine. */
void tui_free(struct tui *t);

/* Flows or their names changed: redraw within the delay. */
void tui_flows_changed(struct tui *t);
/* The terminal changed size (SIGWINCH). */
void tui_resize(struct tui *t);
/* Writes the CSV snapshot of the current view (the `e` key, SIGUSR1). 0 or -errno. */
int tui_export(struct tui *t);
/* Shows a one-line message in the footer and prints it to stderr after the screen closes. */
void tui_message(struct tui *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* TFT_TUI_H */
