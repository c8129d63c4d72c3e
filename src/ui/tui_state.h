/*
 * The screen's state, private to its four files, as htop hands its State to
 * every action: tui.c (lifecycle, redraw policy), tui_term.c (the terminal),
 * tui_draw.c (drawing) and tui_actions.c (keys). main.c sees only tui.h.
 */
#ifndef TFT_TUI_STATE_H
#define TFT_TUI_STATE_H

#include <curses.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "group_view.h"
#include "tui.h"
#include "tui_bindings.h"

/* Screen lines above the column header: title, rates, loss and filter. */
#define HEADER_LINES 3
#define RATE_SAMPLES 10			      /* one a second: the header's average rate */
#define MSG_SHOW_NS (8ull * 1000000000ull)    /* how long a footer message stays */
#define ALERT_SHOW_NS (30ull * 1000000000ull) /* how long the header shows a reset alert */
#define HELD_MAX 64
#define EDIT_MAX TFT_FILTER_TEXT_MAX

/* What a key handler asks the loop to do. */
enum tui_reaction {
	TUI_OK = 0,
	TUI_REDRAW = 1 << 0,  /* draw now */
	TUI_REBUILD = 1 << 1, /* filter or sort changed: rebuild the rows, then draw */
	TUI_QUIT = 1 << 2,
};

enum tui_mode {
	MODE_TABLE = 0,
	MODE_HELP,
	MODE_DETAIL,
	MODE_FILTER, /* editing the filter line */
	MODE_PORTS,  /* editing the port list */
	MODE_SORT,   /* the F6 sort menu */
};

enum color_pair {
	CP_IN = 1,
	CP_OUT,
	CP_ACCEPTED,
	CP_REFUSED,
	CP_PENDING,
	CP_BAR,
	CP_ALERT,
	CP_KEY,
};

/* What the table shows: flows, or the groups of a flow_groups kind (g cycles). */
enum tui_view {
	VIEW_FLOWS = 0,
	VIEW_REMOTE = FLOW_GROUP_REMOTE,
	VIEW_LISTENER = FLOW_GROUP_LISTENER,
	VIEW_PROCESS = FLOW_GROUP_PROCESS,
	VIEW_COUNT
};

/* The terminal while the screen is up (tui_term.c). */
struct tui_term {
	SCREEN *screen; /* owned */
	bool color, utf8;
	int saved_stderr, stderr_memfd; /* -1 unless stderr goes to the memfd */
	char *held[HELD_MAX];		/* owned: messages to print after the screen closes */
	size_t nheld, held_dropped;
};

struct tui {
	struct tui_opts opts;	  /* copy; opts.filter is the live filter */
	struct flow_table *table; /* borrowed */
	struct event_loop *loop;  /* borrowed */
	struct table_view *view;  /* owned */
	struct tui_term term;
	struct table_layout layout;		       /* the columns shown, as of the last draw */
	struct flow_pipeline *pipeline;		       /* borrowed */
	const struct tui_binding *keymap[KEY_MAX + 1]; /* borrowed from the bindings table */
	enum tui_mode mode;
	bool paused, show_names, show_owner, dirty, timer_armed, stdin_added;
	bool default_cols; /* no -o: the byte columns wait for outcomes (the sockops program) */
	int tick_fd, redraw_fd;
	uint64_t start_ns, last_draw_ns, delay_ns;
	uint64_t pause_max_id, pause_seen; /* newest id and stats.seen when paused */
	uint64_t rate_seen[RATE_SAMPLES];  /* stats.seen at the last ticks, newest at rate_pos */
	size_t rate_pos, rate_n;
	char host[64];
	char edit[EDIT_MAX]; /* the line being edited in MODE_FILTER / MODE_PORTS */
	char edit_err[160];
	char saved_filter[TFT_FILTER_TEXT_MAX];
	size_t sort_menu_sel;
	char msg[256]; /* the footer message, shown for MSG_SHOW_NS after msg_ns */
	uint64_t msg_ns;
	uint64_t alert_seen_ns; /* when the screen heard of the last reset alert; 0: none */
	/* Group views: by enum tui_view (VIEW_FLOWS unused). */
	enum tui_view shown;
	struct group_view *gview[VIEW_COUNT]; /* owned */
	struct group_view_filter gfilter[VIEW_COUNT];
	enum group_field gsort[VIEW_COUNT];
	bool gsort_desc[VIEW_COUNT];
	struct group_layout glayout; /* as of the last draw */
	enum tui_view back_to;	     /* after Enter on a group: where Esc returns, or VIEW_FLOWS */
	struct filter flow_filter_saved; /* the flow filter before Enter on a group */
};

/* tui.c: the groups of a group view, or NULL. */
struct flow_groups *tui_groups(const struct tui *t, enum tui_view v);
/* tui.c: the time group rates look back from (the last recorded event in a replay). */
uint64_t tui_group_now(const struct tui *t, enum tui_view v);

/* tui.c: a transient footer note (export done), not repeated after exit. */
void tui_note(struct tui *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* tui_term.c */
/* Before anything else: tui_term_close must be safe on a term never opened. */
void tui_term_init(struct tui_term *term);
/*
 * Opens curses on stdin/stdout, installs the crash handler and moves stderr
 * into a memfd. 0, or -errno with a one-line reason in err; either way
 * tui_term_close undoes what was done.
 */
int tui_term_open(struct tui_term *term, bool no_color, char *err, size_t errlen);
/* Restores the terminal, replays stderr, prints the held messages. */
void tui_term_close(struct tui_term *term);
/* Keeps a copy of msg for tui_term_close to print. */
void tui_term_hold(struct tui_term *term, const char *msg);
/* Follows the terminal's new size (SIGWINCH); the next draw repaints all. */
void tui_term_resize(void);

/* tui_draw.c */
/* Rows of the table that fit under the header and above the footer. */
size_t tui_page_rows(void);
/* Paints the whole screen for the current mode; recomputes t->layout. */
void tui_draw(struct tui *t);

/* tui_actions.c */
/* Fills t->keymap from the bindings table. */
void tui_actions_bind(struct tui *t);
/* One key, in the current mode: returns enum tui_reaction bits. */
int tui_actions_key(struct tui *t, int key);

#endif /* TFT_TUI_STATE_H */
