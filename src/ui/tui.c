/*
 * The screen. Keys map through a table of handlers, each returning a
 * reaction bitmask that the loop acts on once (htop's Action.c). New data
 * only marks the screen dirty: it is redrawn at most once per --delay, on a
 * one-shot timer, so a storm costs a few frames a second; keys redraw at
 * once. Drawing formats only the visible rows.
 *
 * Restoring the terminal: tui_free on every exit path of main.c (q, a
 * signal through the signalfd, a fatal error), and a handler for crashing
 * signals that writes the saved reset strings and termios, as htop's CRT.c
 * does. stderr is redirected into a memfd while the screen is up, so a stray
 * library message cannot scribble on it; tui_free replays it.
 */
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <term.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "export_csv.h"
#include "flow_fields.h"
#include "tui.h"

#define HEADER_LINES 3
#define RATE_SAMPLES 10
#define MSG_SHOW_NS (8ull * 1000000000ull)
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

struct tui;
typedef int (*tui_action)(struct tui *t);

struct tui {
	struct tui_opts opts;	  /* copy; opts.filter is the live filter */
	struct flow_table *table; /* borrowed */
	struct event_loop *loop;  /* borrowed */
	struct table_view *view;  /* owned */
	SCREEN *screen;		  /* owned */
	struct table_layout layout;
	struct tui_stats stats;
	tui_action actions[KEY_MAX + 1];
	enum tui_mode mode;
	bool color, utf8, paused, show_names, dirty, timer_armed, stdin_added;
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
	char msg[256];
	uint64_t msg_ns;
	char *held[HELD_MAX]; /* owned: messages to print after the screen closes */
	size_t nheld, held_dropped;
	int saved_stderr, stderr_memfd;
};

/* For the crash handler: what it needs, prepared while it is still safe. */
static struct termios crash_termios;
static bool crash_termios_ok;
static char crash_reset[128];
static size_t crash_reset_len;
static volatile sig_atomic_t crash_saved_stderr = -1;
static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
static struct sigaction crash_old[5];

static void crash_handler(int sig)
{
	ssize_t unused;

	if (crash_reset_len)
		unused = write(STDOUT_FILENO, crash_reset, crash_reset_len);
	if (crash_termios_ok)
		tcsetattr(STDIN_FILENO, TCSANOW, &crash_termios);
	if (crash_saved_stderr >= 0)
		dup2(crash_saved_stderr, STDERR_FILENO);
	(void)unused;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void crash_install(void)
{
	const char *caps[] = {"rmcup", "cnorm", "sgr0"};
	struct sigaction sa;
	size_t i;

	crash_reset_len = 0;
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		const char *s = tigetstr((char *)caps[i]);
		size_t n;

		if (!s || s == (char *)-1)
			continue;
		n = strlen(s);
		if (crash_reset_len + n < sizeof(crash_reset)) {
			memcpy(crash_reset + crash_reset_len, s, n);
			crash_reset_len += n;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = crash_handler;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(crash_signals) / sizeof(crash_signals[0]); i++)
		sigaction(crash_signals[i], &sa, &crash_old[i]);
}

static void crash_uninstall(void)
{
	size_t i;

	for (i = 0; i < sizeof(crash_signals) / sizeof(crash_signals[0]); i++)
		sigaction(crash_signals[i], &crash_old[i], NULL);
	crash_saved_stderr = -1;
}

void tui_message(struct tui *t, const char *fmt, ...)
{
	va_list ap;

	if (!t)
		return;
	va_start(ap, fmt);
	vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
	va_end(ap);
	t->msg_ns = clock_mono_ns();
	if (t->nheld < HELD_MAX) {
		t->held[t->nheld] = strdup(t->msg);
		if (t->held[t->nheld])
			t->nheld++;
	} else {
		t->held_dropped++;
	}
	t->dirty = true;
}

/* A transient note (export done): footer only, not repeated after exit. */
static void note(struct tui *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct tui *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
	va_end(ap);
	t->msg_ns = clock_mono_ns();
}

/* ---- layout helpers ---- */

static void compute_layout(struct tui *t)
{
	enum flow_field cols[FLOW_FIELD_SCREEN_COUNT];
	size_t i, n = 0;

	for (i = 0; i < t->opts.ncols; i++) {
		if (!t->show_names && flow_field(t->opts.cols[i])->names)
			continue;
		cols[n++] = t->opts.cols[i];
	}
	table_layout_compute(cols, n, COLS, &t->layout);
}

static size_t page_rows(void)
{
	int n = LINES - HEADER_LINES - 2;

	return n > 0 ? (size_t)n : 0;
}

static uint64_t newest_id(const struct tui *t)
{
	return flow_table_stats(t->table)->seen;
}

static int rebuild(struct tui *t)
{
	int err =
	    table_view_rebuild(t->view, t->table, &t->opts.filter, &t->opts.names, t->opts.sort,
			       t->opts.sort_desc, t->paused ? t->pause_max_id : UINT64_MAX);

	if (err)
		tui_message(t, "tcpflowtop: rebuilding the view failed: %s", strerror(-err));
	return err;
}

/* ---- drawing ---- */

static void put_fit(int y, int x, const char *text, int width, bool right, attr_t attr)
{
	char buf[1024];

	table_fit(text, width, right, false, buf, sizeof(buf));
	attron(attr);
	mvaddstr(y, x, buf);
	attroff(attr);
}

static void fmt_uptime(uint64_t ns, char *buf, size_t size)
{
	unsigned long long s = ns / 1000000000ull;

	if (s >= 86400)
		snprintf(buf, size, "%llud %02llu:%02llu:%02llu", s / 86400, s / 3600 % 24,
			 s / 60 % 60, s % 60);
	else
		snprintf(buf, size, "%02llu:%02llu:%02llu", s / 3600, s / 60 % 60, s % 60);
}

static void rates(const struct tui *t, double *last, double *avg)
{
	size_t newest = t->rate_pos, oldest;

	*last = *avg = 0;
	if (t->rate_n < 2)
		return;
	oldest = (t->rate_pos + RATE_SAMPLES - (t->rate_n - 1)) % RATE_SAMPLES;
	*last = (double)(t->rate_seen[newest] -
			 t->rate_seen[(newest + RATE_SAMPLES - 1) % RATE_SAMPLES]);
	*avg = (double)(t->rate_seen[newest] - t->rate_seen[oldest]) / (double)(t->rate_n - 1);
}

static attr_t alert_attr(const struct tui *t)
{
	return A_BOLD | (t->color ? COLOR_PAIR(CP_ALERT) : A_REVERSE);
}

static void draw_header(struct tui *t)
{
	const struct flow_table_stats *s = flow_table_stats(t->table);
	char line[512], up[32], filt[320];
	double last, avg;
	int x;

	fmt_uptime(clock_mono_ns() - t->start_ns, up, sizeof(up));
	snprintf(line, sizeof(line), "tcpflowtop on %s  cgroup %s  up %s", t->host,
		 t->opts.cgroup ? t->opts.cgroup : "?", up);
	put_fit(0, 0, line, COLS, false, A_BOLD);
	if (t->paused) {
		snprintf(line, sizeof(line), " PAUSED, %llu new since ",
			 (unsigned long long)(s->seen - t->pause_seen));
		x = COLS - (int)strlen(line);
		put_fit(0, x > 0 ? x : 0, line, COLS - (x > 0 ? x : 0), false, alert_attr(t));
	}

	rates(t, &last, &avg);
	snprintf(line, sizeof(line),
		 "new/s %.0f (avg %.1f)  flows %llu: in %llu out %llu  accepted %llu refused %llu "
		 "unanswered %llu",
		 last, avg, (unsigned long long)s->seen, (unsigned long long)s->seen_in,
		 (unsigned long long)s->seen_out, (unsigned long long)s->accepted,
		 (unsigned long long)s->refused,
		 (unsigned long long)flow_table_unanswered(t->table));
	put_fit(1, 0, line, COLS, false, A_NORMAL);

	/* Loss and eviction: quiet when zero, loud otherwise. */
	move(2, 0);
	clrtoeol();
	snprintf(line, sizeof(line), "lost %llu", (unsigned long long)t->stats.events_lost);
	put_fit(2, 0, line, (int)strlen(line), false,
		t->stats.events_lost ? alert_attr(t) : A_NORMAL);
	x = (int)strlen(line) + 2;
	snprintf(line, sizeof(line), "evicted %llu", (unsigned long long)s->evicted);
	if (x < COLS)
		put_fit(2, x, line, COLS - x < (int)strlen(line) ? COLS - x : (int)strlen(line),
			false, s->evicted ? alert_attr(t) : A_NORMAL);
	x += (int)strlen(line) + 2;
	/* What the keys set comes before the names figures: at 80 columns it must not be cut. */
	filter_describe(&t->opts.filter, filt, sizeof(filt));
	snprintf(line, sizeof(line), "filter %s  sort %s %s  rows %zu/%zu%s", filt,
		 flow_field(t->opts.sort)->name, t->opts.sort_desc ? "desc" : "asc",
		 table_view_count(t->view), flow_table_count(t->table),
		 t->show_names ? "" : "  names off");
	if (x < COLS)
		put_fit(2, x, line, COLS - x, false, A_NORMAL);
	x += (int)strlen(line) + 2;
	if (t->stats.names_on) {
		snprintf(line, sizeof(line), "names %llu (hit %u%%, lookups %llu, failed %llu)",
			 (unsigned long long)t->stats.names_cached, t->stats.names_hit_pct,
			 (unsigned long long)t->stats.lookups_inflight,
			 (unsigned long long)t->stats.lookups_failed);
		if (x < COLS)
			put_fit(2, x, line, COLS - x, false, A_NORMAL);
	}
}

static void draw_column_header(struct tui *t)
{
	int y = HEADER_LINES;
	attr_t bar = t->color ? COLOR_PAIR(CP_BAR) : A_REVERSE;
	/* The sort column stands out from the bar, as in htop. */
	attr_t sortattr = t->color ? COLOR_PAIR(CP_KEY) : A_BOLD | A_UNDERLINE;
	size_t i;

	attron(bar);
	mvhline(y, 0, ' ', COLS);
	attroff(bar);
	for (i = 0; i < t->layout.n; i++) {
		const struct flow_field_desc *d = flow_field(t->layout.col[i]);
		const char *mark;
		char buf[128];
		int w;

		if (t->layout.col[i] != t->opts.sort) {
			put_fit(y, t->layout.x[i], d->title, t->layout.width[i], d->right, bar);
			continue;
		}
		/* The mark takes the column's last cell, ASCII or not (▼ is 3 bytes, 1 cell). */
		if (t->utf8)
			mark = t->opts.sort_desc ? "\xe2\x96\xbc" : "\xe2\x96\xb2";
		else
			mark = t->opts.sort_desc ? "v" : "^";
		w = t->layout.width[i] - 1;
		table_fit(d->title, w > 0 ? w : 0, d->right, t->utf8, buf, sizeof(buf));
		attron(sortattr);
		mvaddstr(y, t->layout.x[i], buf);
		addstr(mark);
		attroff(sortattr);
	}
}

static attr_t cell_attr(const struct tui *t, enum flow_field c, const struct tft_flow *f)
{
	if (!t->color)
		return A_NORMAL;
	if (!flow_field(c)->style)
		return A_NORMAL;
	switch (flow_field(c)->style(f)) {
	case FLOW_STYLE_IN:
		return COLOR_PAIR(CP_IN);
	case FLOW_STYLE_OUT:
		return COLOR_PAIR(CP_OUT);
	case FLOW_STYLE_GOOD:
		return COLOR_PAIR(CP_ACCEPTED);
	case FLOW_STYLE_BAD:
		return COLOR_PAIR(CP_REFUSED);
	case FLOW_STYLE_WAITING:
		return COLOR_PAIR(CP_PENDING);
	default:
		return A_NORMAL;
	}
}

static void draw_rows(struct tui *t)
{
	size_t page = page_rows(), top, i, n = table_view_count(t->view);
	size_t sel = table_view_selected(t->view);
	uint64_t now = clock_mono_ns();
	uint64_t fresh = t->delay_ns * 2 > 2000000000ull ? t->delay_ns * 2 : 2000000000ull;

	top = table_view_scroll(t->view, page);
	for (i = 0; i < page && top + i < n; i++) {
		const struct tft_flow *f =
		    flow_table_by_id(t->table, table_view_id_at(t->view, top + i));
		int y = HEADER_LINES + 1 + (int)i;
		bool selected = top + i == sel;
		attr_t base = A_NORMAL;
		size_t c;

		if (!f)
			continue; /* evicted since the rebuild */
		if (now - f->syn_ns < fresh)
			base |= A_BOLD; /* new rows stand out briefly */
		if (selected) {
			base = A_REVERSE;
			attron(base);
			mvhline(y, 0, ' ', COLS);
			attroff(base);
		}
		for (c = 0; c < t->layout.n; c++) {
			enum flow_field col = t->layout.col[c];
			char text[512], buf[1024];

			table_cell_text(col, f, &t->opts.names, text, sizeof(text));
			table_fit(text, t->layout.width[c], flow_field(col)->right, t->utf8, buf,
				  sizeof(buf));
			attron(base | (selected ? A_NORMAL : cell_attr(t, col, f)));
			mvaddstr(y, t->layout.x[c], buf);
			attroff(base | (selected ? A_NORMAL : cell_attr(t, col, f)));
		}
	}
	if (!n) {
		const char *empty =
		    t->opts.filter.nterms || t->opts.filter.dir || t->opts.filter.has_ports ||
			    t->opts.filter.family
			? "No flow matches the filter (Esc in / clears it, d and p change it)."
			: "Waiting for new TCP connections...";

		put_fit(HEADER_LINES + 2, 1, empty, COLS - 1, false, A_NORMAL);
	}
}

struct hint {
	const char *key, *label;
};

static void draw_footer(struct tui *t)
{
	static const struct hint hints[] = {
	    /* Most needed first: a narrow terminal cuts the tail. */
	    {"h", "Help"},   {"q", "Quit"},	  {"/", "Filter"}, {"p", "Ports"},
	    {"d", "Dir"},    {"<>", "Sort"},	  {"I", "Invert"}, {"Spc", "Pause"},
	    {"e", "Export"}, {"Enter", "Detail"}, {"c", "Clear"},
	};
	int y = LINES - 1, x = 0;
	attr_t keyattr = t->color ? COLOR_PAIR(CP_KEY) : A_REVERSE;
	size_t i;

	move(y, 0);
	clrtoeol();
	if (t->mode == MODE_FILTER || t->mode == MODE_PORTS) {
		const char *prompt = t->mode == MODE_FILTER ? "Filter: " : "Ports: ";
		char line[EDIT_MAX + 32];
		int cx;

		put_fit(y, 0, prompt, (int)strlen(prompt), false, keyattr | A_BOLD);
		x = (int)strlen(prompt);
		snprintf(line, sizeof(line), "%s", t->edit);
		put_fit(y, x, line, COLS - x > 0 ? COLS - x : 0, false, A_NORMAL);
		cx = x + (int)strlen(t->edit);
		if (t->edit_err[0]) {
			int ex = cx + 3;

			if (ex < COLS)
				put_fit(y, ex, t->edit_err, COLS - ex, false, alert_attr(t));
		}
		move(y, cx < COLS ? cx : COLS - 1);
		return;
	}
	if (t->msg[0] && clock_mono_ns() - t->msg_ns < MSG_SHOW_NS) {
		put_fit(y, 0, t->msg, COLS, false, A_BOLD);
		return;
	}
	for (i = 0; i < sizeof(hints) / sizeof(hints[0]) && x < COLS; i++) {
		int kl = (int)strlen(hints[i].key), ll = (int)strlen(hints[i].label) + 1;

		put_fit(y, x, hints[i].key, kl < COLS - x ? kl : COLS - x, false,
			A_NORMAL | A_BOLD);
		x += kl;
		if (x >= COLS)
			break;
		put_fit(y, x, hints[i].label, ll < COLS - x ? ll : COLS - x, false, keyattr);
		x += ll;
	}
}

static const char *const help_lines[] = {
    "tcpflowtop: new TCP connections as they open. Keys:",
    "",
    "  q F10        quit                      h ? F1     this help",
    "  Up Down      move the selection        PgUp PgDn  a page",
    "  Home End     first / last row          Enter      every field of the selected flow",
    "  < >          sort by the column left / right of the current one",
    "  F6           sort menu                 I r        invert the sort order",
    "  (mouse)      click a column title to sort by it, again to invert",
    "  /            filter as you type; Enter keeps it, Esc clears it. Terms, AND-ed:",
    "                 443   80,443   port 8000-8100   !22   in   out   ipv4   ipv6",
    "                 accepted   refused   pending   any other word: part of an address",
    "                 or domain name;  ! before a term negates it",
    "  p            port list: 22   80,443   8000-8100   !22 (empty clears)",
    "  d            direction: all, incoming, outgoing",
    "  Space        pause the display; capture goes on, nothing is lost",
    "  n            show or hide the domain-name columns",
    "  c            clear the table (counters keep counting)",
    "  e            export the rows the filter and sort show to a CSV file",
    "  Ctrl-L       redraw the screen",
    "",
    "Rows are newest first. Bold rows are new. DIR in: a peer connected to this host;",
    "out: this host connected to a peer. STATE: accepted (SYN-ACK), refused (RST),",
    "pending (no answer yet). RETX: SYN retransmissions. HS_MS: handshake time.",
    "NAMES: the name the application asked for, then its CNAMEs, from DNS answers;",
    "~name: from a reverse (PTR) lookup, unverified. +N: more names (Enter shows all).",
    "",
    "Press any key to return.",
};

static void draw_help(struct tui *t)
{
	size_t i;

	(void)t;
	for (i = 0; i < sizeof(help_lines) / sizeof(help_lines[0]) && (int)i < LINES; i++)
		put_fit((int)i, 0, help_lines[i], COLS, false, i == 0 ? A_BOLD : A_NORMAL);
}

static void draw_detail(struct tui *t)
{
	const struct tft_flow *f = flow_table_by_id(t->table, table_view_selected_id(t->view));
	char text[1024], line[1200], a[64], b[64];
	const char *src = t->opts.names.source ? t->opts.names.source : "no name source yet";
	struct names_list names;
	int y = 0;

	put_fit(y++, 0, "Flow detail (Enter, Esc or q returns)", COLS, false, A_BOLD);
	y++;
	if (!f) {
		put_fit(y, 0, "The flow is no longer in the table.", COLS, false, A_NORMAL);
		return;
	}
#define ROW(label, ...)                                                                            \
	do {                                                                                       \
		snprintf(line, sizeof(line), "  %-18s ", label);                                   \
		snprintf(line + strlen(line), sizeof(line) - strlen(line), __VA_ARGS__);           \
		put_fit(y++, 0, line, COLS, false, A_NORMAL);                                      \
	} while (0)
	{
		struct timespec ts = clock_mono_to_wall(f->syn_ns);
		struct tm tm;

		localtime_r(&ts.tv_sec, &tm);
		strftime(a, sizeof(a), "%Y-%m-%d %H:%M:%S", &tm);
		ROW("first SYN", "%s.%06ld local time", a, ts.tv_nsec / 1000);
	}
	ROW("flow id", "%llu", (unsigned long long)f->id);
	ROW("direction", "%s",
	    f->key.dir == TFT_DIR_IN ? "in (a peer connected to this host)"
				     : "out (this host connected to a peer)");
	ROW("family", "IPv%u", f->key.family);
	ROW("source", "%s port %u", flow_field_addr(f->key.family, f->key.saddr, a, sizeof(a)),
	    f->key.sport);
	ROW("destination", "%s port %u", flow_field_addr(f->key.family, f->key.daddr, b, sizeof(b)),
	    f->key.dport);
	names_provider_lookup(&t->opts.names, f->key.family, f->key.saddr, &names);
	flow_names_text(&names, ",", 0, text, sizeof(text));
	table_fit(text, (int)strlen(text), false, t->utf8, line, sizeof(line)); /* sanitise */
	snprintf(text, sizeof(text), "%s", line);
	ROW("source names", "%s (%s)", text[0] ? text : "none known", src);
	names_provider_lookup(&t->opts.names, f->key.family, f->key.daddr, &names);
	flow_names_text(&names, ",", 0, text, sizeof(text));
	table_fit(text, (int)strlen(text), false, t->utf8, line, sizeof(line));
	snprintf(text, sizeof(text), "%s", line);
	ROW("destination names", "%s (%s)", text[0] ? text : "none known", src);
	ROW("state", "%s", flow_field_state_name(f->state));
	ROW("SYN retransmits", "%u", f->syn_retrans);
	table_cell_text(FLOW_FIELD_HS, f, NULL, text, sizeof(text));
	ROW("handshake", "%s", text[0] ? strcat(text, " ms") : "- (no answer yet)");
#undef ROW
}

static void draw_sort_menu(struct tui *t)
{
	int h = FLOW_FIELD_SCREEN_COUNT + 2, w = 22, y0 = HEADER_LINES + 1, i;
	WINDOW *win;

	if (y0 + h > LINES)
		y0 = LINES - h > 0 ? LINES - h : 0;
	win = newwin(h < LINES ? h : LINES, w < COLS ? w : COLS, y0, 0);
	if (!win)
		return;
	werase(win);
	box(win, 0, 0);
	mvwaddstr(win, 0, 2, "Sort by");
	for (i = 0; i < FLOW_FIELD_SCREEN_COUNT && i + 1 < h - 1; i++) {
		const struct flow_field_desc *d = flow_field((enum flow_field)i);

		if ((size_t)i == t->sort_menu_sel)
			wattron(win, A_REVERSE);
		mvwprintw(win, i + 1, 1, " %-13.13s%s ", d->title,
			  (enum flow_field)i == t->opts.sort
			      ? (t->opts.sort_desc ? " desc" : " asc ")
			      : "     ");
		if ((size_t)i == t->sort_menu_sel)
			wattroff(win, A_REVERSE);
	}
	wnoutrefresh(win);
	delwin(win);
}

static void draw(struct tui *t)
{
	erase();
	compute_layout(t);
	switch (t->mode) {
	case MODE_HELP:
		draw_help(t);
		break;
	case MODE_DETAIL:
		draw_detail(t);
		break;
	default:
		draw_header(t);
		draw_column_header(t);
		draw_rows(t);
		draw_footer(t);
		break;
	}
	curs_set(t->mode == MODE_FILTER || t->mode == MODE_PORTS ? 1 : 0);
	wnoutrefresh(stdscr);
	if (t->mode == MODE_SORT)
		draw_sort_menu(t);
	doupdate();
	t->last_draw_ns = clock_mono_ns();
	t->dirty = false;
}

/* ---- key handlers: each returns enum tui_reaction bits ---- */

static int act_quit(struct tui *t)
{
	(void)t;
	return TUI_QUIT;
}

static int act_up(struct tui *t)
{
	table_view_move(t->view, -1);
	return TUI_REDRAW;
}

static int act_down(struct tui *t)
{
	table_view_move(t->view, 1);
	return TUI_REDRAW;
}

static int act_pgup(struct tui *t)
{
	table_view_move(t->view, -(long)(page_rows() ? page_rows() : 1));
	return TUI_REDRAW;
}

static int act_pgdn(struct tui *t)
{
	table_view_move(t->view, (long)(page_rows() ? page_rows() : 1));
	return TUI_REDRAW;
}

static int act_home(struct tui *t)
{
	table_view_select(t->view, 0);
	return TUI_REDRAW;
}

static int act_end(struct tui *t)
{
	size_t n = table_view_count(t->view);

	table_view_select(t->view, n ? n - 1 : 0);
	return TUI_REDRAW;
}

static void set_sort(struct tui *t, enum flow_field c)
{
	if (c != t->opts.sort)
		t->opts.sort_desc = flow_field(c)->desc_first;
	t->opts.sort = c;
}

/* Moves the sort to the neighbouring shown column, as htop's < and >. */
static int sort_step(struct tui *t, int step)
{
	size_t i, n = t->layout.n;
	int cur = -1;

	if (!n)
		return TUI_OK;
	for (i = 0; i < n; i++) {
		if (t->layout.col[i] == t->opts.sort)
			cur = (int)i;
	}
	if (cur < 0)
		cur = step > 0 ? -1 : (int)n;
	cur += step;
	if (cur < 0 || cur >= (int)n)
		return TUI_OK;
	set_sort(t, t->layout.col[cur]);
	return TUI_REBUILD;
}

static int act_sort_left(struct tui *t)
{
	return sort_step(t, -1);
}

static int act_sort_right(struct tui *t)
{
	return sort_step(t, 1);
}

static int act_invert(struct tui *t)
{
	t->opts.sort_desc = !t->opts.sort_desc;
	return TUI_REBUILD;
}

static int act_sort_menu(struct tui *t)
{
	t->mode = MODE_SORT;
	t->sort_menu_sel = (size_t)t->opts.sort;
	return TUI_REDRAW;
}

static int act_filter(struct tui *t)
{
	t->mode = MODE_FILTER;
	snprintf(t->edit, sizeof(t->edit), "%s", t->opts.filter.text);
	snprintf(t->saved_filter, sizeof(t->saved_filter), "%s", t->opts.filter.text);
	t->edit_err[0] = '\0';
	return TUI_REDRAW;
}

static int act_ports(struct tui *t)
{
	t->mode = MODE_PORTS;
	t->edit[0] = '\0';
	if (t->opts.filter.has_ports)
		port_list_format(&t->opts.filter.ports, t->edit, sizeof(t->edit));
	t->edit_err[0] = '\0';
	return TUI_REDRAW;
}

static int act_direction(struct tui *t)
{
	uint8_t *d = &t->opts.filter.dir;

	*d = *d == 0 ? TFT_DIR_IN : *d == TFT_DIR_IN ? TFT_DIR_OUT : 0;
	note(t, "direction: %s", *d == 0 ? "all" : *d == TFT_DIR_IN ? "incoming" : "outgoing");
	return TUI_REBUILD;
}

static int act_pause(struct tui *t)
{
	t->paused = !t->paused;
	if (t->paused) {
		t->pause_max_id = newest_id(t);
		t->pause_seen = flow_table_stats(t->table)->seen;
	}
	return TUI_REBUILD;
}

static int act_names(struct tui *t)
{
	t->show_names = !t->show_names;
	return TUI_REDRAW;
}

static int act_clear(struct tui *t)
{
	flow_table_clear(t->table);
	note(t, "table cleared");
	return TUI_REBUILD;
}

static int act_export(struct tui *t)
{
	tui_export(t);
	return TUI_REDRAW;
}

static int act_help(struct tui *t)
{
	t->mode = MODE_HELP;
	return TUI_REDRAW;
}

static int act_detail(struct tui *t)
{
	if (!table_view_count(t->view))
		return TUI_OK;
	t->mode = MODE_DETAIL;
	return TUI_REDRAW;
}

static int act_refresh(struct tui *t)
{
	(void)t;
	clearok(curscr, TRUE);
	return TUI_REDRAW;
}

static int mouse_event(struct tui *t, const MEVENT *ev)
{
	int c;

	if (ev->bstate & BUTTON4_PRESSED)
		return act_up(t);
#ifdef BUTTON5_PRESSED
	if (ev->bstate & BUTTON5_PRESSED)
		return act_down(t);
#endif
	if (!(ev->bstate & BUTTON1_PRESSED))
		return TUI_OK;
	if (ev->y == HEADER_LINES) {
		c = table_layout_hit(&t->layout, ev->x);
		if (c < 0)
			return TUI_OK;
		if (t->layout.col[c] == t->opts.sort)
			t->opts.sort_desc = !t->opts.sort_desc;
		else
			set_sort(t, t->layout.col[c]);
		return TUI_REBUILD;
	}
	if (ev->y > HEADER_LINES && ev->y < LINES - 1) {
		size_t top = table_view_scroll(t->view, page_rows());
		size_t row = top + (size_t)(ev->y - HEADER_LINES - 1);

		if (row < table_view_count(t->view))
			table_view_select(t->view, row);
		return TUI_REDRAW;
	}
	return TUI_OK;
}

/*
 * One KEY_MOUSE can stand for several events (a press and its release read
 * together); getmouse() hands them out newest first, so collect them all and
 * act oldest first.
 */
#define MOUSE_BATCH 16
static int act_mouse(struct tui *t)
{
	MEVENT ev[MOUSE_BATCH];
	int n = 0, r = 0;

	while (n < MOUSE_BATCH && getmouse(&ev[n]) == OK)
		n++;
	while (n-- > 0)
		r |= mouse_event(t, &ev[n]);
	return r;
}

/* The key table, as htop's Action_setBindings. */
static void set_bindings(struct tui *t)
{
	tui_action *k = t->actions;

	k['q'] = act_quit;
	k[KEY_F(10)] = act_quit;
	k[KEY_UP] = act_up;
	k['k'] = act_up;
	k[KEY_DOWN] = act_down;
	k['j'] = act_down;
	k[KEY_PPAGE] = act_pgup;
	k[KEY_NPAGE] = act_pgdn;
	k[KEY_HOME] = act_home;
	k[KEY_END] = act_end;
	k['<'] = act_sort_left;
	k[','] = act_sort_left;
	k['>'] = act_sort_right;
	k['.'] = act_sort_right;
	k[KEY_F(6)] = act_sort_menu;
	k['I'] = act_invert;
	k['r'] = act_invert;
	k['/'] = act_filter;
	k[KEY_F(4)] = act_filter;
	k['p'] = act_ports;
	k['d'] = act_direction;
	k[' '] = act_pause;
	k['n'] = act_names;
	k['c'] = act_clear;
	k['e'] = act_export;
	k['h'] = act_help;
	k['?'] = act_help;
	k[KEY_F(1)] = act_help;
	k['\n'] = act_detail;
	k['\r'] = act_detail;
	k[KEY_ENTER] = act_detail;
	k[KEY_MOUSE] = act_mouse;
	k[12] = act_refresh; /* Ctrl-L */
}

static bool is_erase(int key)
{
	return key == KEY_BACKSPACE || key == 127 || key == 8;
}

/* The filter and port lines: every keystroke edits, then re-applies or re-checks. */
static int key_edit(struct tui *t, int key)
{
	size_t len = strlen(t->edit);
	char err[160];

	if (key == 27) { /* Esc: the filter line clears, the port prompt cancels */
		if (t->mode == MODE_FILTER)
			filter_parse_terms(&t->opts.filter, "", NULL, 0);
		t->mode = MODE_TABLE;
		return TUI_REBUILD;
	}
	if (key == '\n' || key == '\r' || key == KEY_ENTER) {
		if (t->mode == MODE_PORTS) {
			if (!t->edit[0]) {
				t->opts.filter.has_ports = false;
			} else if (port_list_parse(t->edit, &t->opts.filter.ports, err,
						   sizeof(err))) {
				snprintf(t->edit_err, sizeof(t->edit_err), "%s", err);
				return TUI_REDRAW;
			} else {
				t->opts.filter.has_ports = true;
			}
		} else if (t->edit_err[0]) {
			/* Enter on a bad line keeps the last good filter and says so. */
			note(t, "filter kept as \"%s\": %s", t->opts.filter.text, t->edit_err);
		}
		t->mode = MODE_TABLE;
		return TUI_REBUILD;
	}
	if (is_erase(key)) {
		if (len)
			t->edit[len - 1] = '\0';
	} else if (key == 21) { /* Ctrl-U */
		t->edit[0] = '\0';
	} else if (key >= 0x20 && key < 0x7f) {
		if (len + 1 < sizeof(t->edit)) {
			t->edit[len] = (char)key;
			t->edit[len + 1] = '\0';
		}
	} else {
		return TUI_OK;
	}
	t->edit_err[0] = '\0';
	if (t->mode == MODE_FILTER) {
		if (filter_parse_terms(&t->opts.filter, t->edit, err, sizeof(err)))
			snprintf(t->edit_err, sizeof(t->edit_err), "%s", err);
		return TUI_REBUILD;
	}
	return TUI_REDRAW;
}

static int key_sort_menu(struct tui *t, int key)
{
	switch (key) {
	case KEY_UP:
		if (t->sort_menu_sel > 0)
			t->sort_menu_sel--;
		return TUI_REDRAW;
	case KEY_DOWN:
		if (t->sort_menu_sel + 1 < FLOW_FIELD_SCREEN_COUNT)
			t->sort_menu_sel++;
		return TUI_REDRAW;
	case '\n':
	case '\r':
	case KEY_ENTER:
		set_sort(t, (enum flow_field)t->sort_menu_sel);
		t->mode = MODE_TABLE;
		return TUI_REBUILD;
	case 27:
	case 'q':
	case KEY_F(6):
		t->mode = MODE_TABLE;
		return TUI_REDRAW;
	default:
		return TUI_OK;
	}
}

static int handle_key(struct tui *t, int key)
{
	/* Outside the table a click only closes help; no event may linger in ncurses' queue. */
	if (key == KEY_MOUSE && t->mode != MODE_TABLE) {
		while (getmouse(&(MEVENT){0}) == OK)
			;
		if (t->mode != MODE_HELP)
			return TUI_OK;
	}
	switch (t->mode) {
	case MODE_HELP:
		t->mode = MODE_TABLE;
		return TUI_REDRAW;
	case MODE_DETAIL:
		if (key == 27 || key == 'q' || key == '\n' || key == '\r' || key == KEY_ENTER ||
		    is_erase(key) || key == KEY_LEFT) {
			t->mode = MODE_TABLE;
			return TUI_REDRAW;
		}
		return TUI_OK;
	case MODE_FILTER:
	case MODE_PORTS:
		return key_edit(t, key);
	case MODE_SORT:
		return key_sort_menu(t, key);
	default:
		break;
	}
	if (key >= 0 && key <= KEY_MAX && t->actions[key])
		return t->actions[key](t);
	return TUI_OK;
}

static void react(struct tui *t, int r)
{
	if (r & TUI_QUIT) {
		event_loop_stop(t->loop);
		return;
	}
	if (r & TUI_REBUILD)
		rebuild(t);
	if (r & (TUI_REBUILD | TUI_REDRAW))
		draw(t);
}

static void on_stdin(int fd, uint32_t events, void *ctx)
{
	struct tui *t = ctx;
	int key, r = 0, n = 0;

	if (events & (EPOLLHUP | EPOLLERR)) {
		/* The terminal is gone (SSH dropped): nothing left to draw on. */
		event_loop_del(t->loop, fd);
		t->stdin_added = false;
		tui_message(t, "tcpflowtop: the terminal closed");
		event_loop_stop(t->loop);
		return;
	}
	/* Every key queued now, then one reaction: a pasted filter costs one rebuild. */
	while ((key = getch()) != ERR && n++ < 256) {
		r |= handle_key(t, key);
		if (r & TUI_QUIT)
			break;
	}
	react(t, r);
}

/* Draws if the screen is dirty and the delay has passed, else arms the one-shot timer. */
static void maybe_draw(struct tui *t)
{
	uint64_t now = clock_mono_ns(), due;

	if (!t->dirty)
		return;
	due = t->last_draw_ns + t->delay_ns;
	if (now >= due) {
		if (!t->paused)
			rebuild(t);
		draw(t);
		return;
	}
	if (!t->timer_armed) {
		unsigned ms = (unsigned)((due - now + 999999) / 1000000);

		if (event_loop_timerfd_set(t->redraw_fd, ms ? ms : 1, 0) == 0)
			t->timer_armed = true;
	}
}

static void on_idle(void *ctx)
{
	maybe_draw(ctx);
}

static void on_redraw_timer(int fd, uint32_t events, void *ctx)
{
	struct tui *t = ctx;

	(void)events;
	event_loop_timerfd_ack(fd);
	t->timer_armed = false;
	maybe_draw(t);
}

static void on_tick(int fd, uint32_t events, void *ctx)
{
	struct tui *t = ctx;

	(void)events;
	event_loop_timerfd_ack(fd);
	t->rate_pos = (t->rate_pos + 1) % RATE_SAMPLES;
	t->rate_seen[t->rate_pos] = flow_table_stats(t->table)->seen;
	if (t->rate_n < RATE_SAMPLES)
		t->rate_n++;
	t->dirty = true; /* uptime and rates move: the header redraws on the delay */
}

void tui_flows_changed(struct tui *t)
{
	if (t)
		t->dirty = true;
}

void tui_set_stats(struct tui *t, const struct tui_stats *s)
{
	if (!t)
		return;
	if (s->events_lost != t->stats.events_lost || s->names_cached != t->stats.names_cached ||
	    s->names_hit_pct != t->stats.names_hit_pct ||
	    s->lookups_inflight != t->stats.lookups_inflight ||
	    s->lookups_failed != t->stats.lookups_failed)
		t->dirty = true;
	t->stats = *s;
}

void tui_resize(struct tui *t)
{
	struct winsize ws;

	if (!t)
		return;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
		resize_term(ws.ws_row, ws.ws_col);
	clearok(curscr, TRUE);
	draw(t);
}

static const struct tft_flow *export_row(void *ctx, size_t i)
{
	struct tui *t = ctx;

	return flow_table_by_id(t->table, table_view_id_at(t->view, i));
}

int tui_export(struct tui *t)
{
	const char *dir = t->opts.export_dir ? t->opts.export_dir : ".";
	char path[4096];
	size_t rows = 0;
	int err;

	/* Exactly what the screen shows: the current view, not a fresh rebuild. */
	err = export_csv_write(dir, time(NULL), table_view_count(t->view), export_row, t,
			       &t->opts.names, path, sizeof(path), &rows);
	if (err)
		note(t, "export to %s failed: %s", dir, strerror(-err));
	else
		note(t, "exported %zu rows to %s", rows, path);
	t->dirty = true;
	t->last_draw_ns = 0; /* show the result now */
	return err;
}

/* Colours only where the terminal has them and nobody asked for none (no-color.org). */
static void setup_colors(struct tui *t)
{
	const char *nc = getenv("NO_COLOR");

	t->color = has_colors() && !t->opts.no_color && !(nc && nc[0]);
	if (!t->color)
		return;
	start_color();
	use_default_colors();
	init_pair(CP_IN, COLOR_CYAN, -1);
	init_pair(CP_OUT, COLOR_MAGENTA, -1);
	init_pair(CP_ACCEPTED, COLOR_GREEN, -1);
	init_pair(CP_REFUSED, COLOR_RED, -1);
	init_pair(CP_PENDING, COLOR_YELLOW, -1);
	init_pair(CP_BAR, COLOR_BLACK, COLOR_GREEN);
	init_pair(CP_ALERT, COLOR_WHITE, COLOR_RED);
	init_pair(CP_KEY, COLOR_BLACK, COLOR_CYAN);
}

/* stderr into a memfd while the screen is up; tui_free replays it. */
static void capture_stderr(struct tui *t)
{
	t->stderr_memfd = memfd_create("tcpflowtop-stderr", MFD_CLOEXEC);
	if (t->stderr_memfd < 0)
		return;
	fflush(stderr);
	t->saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (t->saved_stderr < 0 || dup2(t->stderr_memfd, STDERR_FILENO) < 0) {
		if (t->saved_stderr >= 0)
			close(t->saved_stderr);
		close(t->stderr_memfd);
		t->saved_stderr = t->stderr_memfd = -1;
		return;
	}
	crash_saved_stderr = t->saved_stderr;
}

static void release_stderr(struct tui *t)
{
	char buf[4096];
	ssize_t n;

	if (t->saved_stderr < 0)
		return;
	fflush(stderr);
	dup2(t->saved_stderr, STDERR_FILENO);
	close(t->saved_stderr);
	t->saved_stderr = -1;
	if (lseek(t->stderr_memfd, 0, SEEK_SET) == 0) {
		while ((n = read(t->stderr_memfd, buf, sizeof(buf))) > 0) {
			if (write(STDERR_FILENO, buf, (size_t)n) != n)
				break;
		}
	}
	close(t->stderr_memfd);
	t->stderr_memfd = -1;
}

struct tui *tui_new(const struct tui_opts *opts, struct flow_table *table, struct event_loop *loop,
		    char *err, size_t errlen)
{
	struct termios tio;
	struct tui *t;
	int e;

	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->opts = *opts;
	t->table = table;
	t->loop = loop;
	t->tick_fd = t->redraw_fd = t->saved_stderr = t->stderr_memfd = -1;
	t->show_names = true;
	t->delay_ns = (uint64_t)(opts->delay * 1e9);
	if (!t->opts.ncols)
		t->opts.ncols = table_columns_default(t->opts.cols);
	t->start_ns = clock_mono_ns();
	if (gethostname(t->host, sizeof(t->host)) < 0)
		snprintf(t->host, sizeof(t->host), "?");
	t->host[sizeof(t->host) - 1] = '\0';
	t->view = table_view_new();
	if (!t->view) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	t->tick_fd = event_loop_timerfd(1000, 1);
	t->redraw_fd = event_loop_timerfd(0, 0);
	if (t->tick_fd < 0 || t->redraw_fd < 0) {
		errno = -(t->tick_fd < 0 ? t->tick_fd : t->redraw_fd);
		snprintf(err, errlen, "creating timers failed: %s", strerror(errno));
		goto fail;
	}

	setlocale(LC_CTYPE, "");
	t->utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	crash_termios_ok = tcgetattr(STDIN_FILENO, &tio) == 0;
	if (crash_termios_ok)
		crash_termios = tio;
	/* newterm, not initscr: an unknown TERM is an error to report, not an exit. */
	t->screen = newterm(NULL, stdout, stdin);
	if (!t->screen) {
		const char *term = getenv("TERM");

		snprintf(err, errlen,
			 "cannot open the screen on TERM=%s (set TERM to a known terminal, or use "
			 "--batch)",
			 term ? term : "(unset)");
		errno = ENOTTY;
		goto fail;
	}
	/* A terminal that cannot place the cursor (TERM=dumb) would only scroll garbage. */
	if (!cursor_address || cursor_address == (char *)-1 || !*cursor_address) {
		const char *term = getenv("TERM");

		snprintf(err, errlen,
			 "TERM=%s cannot place the cursor, so it cannot show the screen (set TERM "
			 "to your terminal, or use --batch)",
			 term ? term : "(unset)");
		errno = ENOTTY;
		goto fail;
	}
	crash_install();
	capture_stderr(t);
	set_escdelay(25);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	/*
	 * Every event a terminal in mode 1000 sends must be in the mask: ncurses
	 * waits for more input, in a blocking read(), after a press or release
	 * that its mask drops, and the screen would freeze after each click until
	 * the next key. Presses act at once, so no click-interval wait either.
	 */
	mousemask(BUTTON1_PRESSED | BUTTON1_RELEASED | BUTTON2_PRESSED | BUTTON2_RELEASED |
		      BUTTON3_PRESSED | BUTTON3_RELEASED | BUTTON4_PRESSED
#ifdef BUTTON5_PRESSED
		      | BUTTON5_PRESSED
#endif
		  ,
		  NULL);
	mouseinterval(0);
	setup_colors(t);
	set_bindings(t);

	if ((e = event_loop_add(loop, STDIN_FILENO, EPOLLIN, on_stdin, t)) ||
	    (e = event_loop_add(loop, t->tick_fd, EPOLLIN, on_tick, t)) ||
	    (e = event_loop_add(loop, t->redraw_fd, EPOLLIN, on_redraw_timer, t))) {
		snprintf(err, errlen, "watching the keyboard failed: %s", strerror(-e));
		errno = -e;
		goto fail;
	}
	t->stdin_added = true;
	event_loop_set_idle(loop, on_idle, t);
	rebuild(t);
	draw(t);
	return t;

fail:
	e = errno;
	tui_free(t);
	errno = e;
	return NULL;
}

void tui_free(struct tui *t)
{
	size_t i;

	if (!t)
		return;
	if (t->loop) {
		event_loop_set_idle(t->loop, NULL, NULL);
		if (t->stdin_added)
			event_loop_del(t->loop, STDIN_FILENO);
		if (t->tick_fd >= 0)
			event_loop_del(t->loop, t->tick_fd);
		if (t->redraw_fd >= 0)
			event_loop_del(t->loop, t->redraw_fd);
	}
	if (t->screen) {
		mousemask(0, NULL);
		curs_set(1);
		endwin();
		delscreen(t->screen);
		crash_uninstall();
	}
	release_stderr(t);
	for (i = 0; i < t->nheld; i++) {
		fprintf(stderr, "%s\n", t->held[i]);
		free(t->held[i]);
	}
	if (t->held_dropped)
		fprintf(stderr, "tcpflowtop: %zu more messages not shown\n", t->held_dropped);
	if (t->tick_fd >= 0)
		close(t->tick_fd);
	if (t->redraw_fd >= 0)
		close(t->redraw_fd);
	table_view_free(t->view);
	free(t);
}
