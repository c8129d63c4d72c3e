/*
 * What the keys do. One table binds keys to handlers, as htop's
 * Action_setBindings does, and carries each binding's help text and footer
 * hint, so the help screen and the footer cannot drift from what the keys
 * do. Each handler returns a reaction bitmask that the loop acts on once.
 * The line editor (filter, ports) and the sort menu own the keys while they
 * are open, so they are mode handlers, not bindings.
 */
#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tui_state.h"

#define TUI_KEY_ESC 27
#define TUI_KEY_CTRL(c) ((c)&0x1f)

static bool is_enter(int key)
{
	return key == '\n' || key == '\r' || key == KEY_ENTER;
}

static bool is_erase(int key)
{
	return key == KEY_BACKSPACE || key == 127 || key == 8;
}

static bool in_groups(const struct tui *t)
{
	return t->shown != VIEW_FLOWS;
}

static size_t rows_count(const struct tui *t)
{
	return in_groups(t) ? group_view_count(t->gview[t->shown]) : table_view_count(t->view);
}

static void select_row(struct tui *t, size_t i)
{
	if (in_groups(t))
		group_view_select(t->gview[t->shown], i);
	else
		table_view_select(t->view, i);
}

static int move_by(struct tui *t, long delta)
{
	if (in_groups(t))
		group_view_move(t->gview[t->shown], delta);
	else
		table_view_move(t->view, delta);
	return TUI_REDRAW;
}

static void set_group_sort(struct tui *t, enum group_field c)
{
	if (c != t->gsort[t->shown])
		t->gsort_desc[t->shown] = group_field(c)->desc_first;
	t->gsort[t->shown] = c;
}

static void set_sort(struct tui *t, enum flow_field c)
{
	if (c != t->opts.sort)
		t->opts.sort_desc = flow_field(c)->desc_first;
	t->opts.sort = c;
}

/* ---- bound keys: each returns enum tui_reaction bits ---- */

static int act_quit(struct tui *t, int key)
{
	(void)t;
	(void)key;
	return TUI_QUIT;
}

static int act_help(struct tui *t, int key)
{
	(void)key;
	t->mode = MODE_HELP;
	return TUI_REDRAW;
}

static int act_move(struct tui *t, int key)
{
	return move_by(t, key == KEY_UP || key == 'k' ? -1 : 1);
}

static int act_page(struct tui *t, int key)
{
	long page = (long)(tui_page_rows() ? tui_page_rows() : 1);

	return move_by(t, key == KEY_PPAGE ? -page : page);
}

static int act_home_end(struct tui *t, int key)
{
	size_t n = rows_count(t);

	select_row(t, key == KEY_HOME || !n ? 0 : n - 1);
	return TUI_REDRAW;
}

/*
 * Enter on a group: the flow table, filtered to the group's flows by the
 * filter's own FIELD:VALUE terms (so the filter line says what is shown);
 * Esc restores the flow filter and returns to the group view.
 */
static int open_group(struct tui *t)
{
	struct group_view *gv = t->gview[t->shown];
	size_t sel = group_view_selected(gv);
	const struct flow_group_key *k = group_view_key(gv, tui_groups(t, t->shown), sel);
	char text[TFT_FILTER_TEXT_MAX], err[160];
	struct filter f;

	if (!k || group_view_row(gv, sel)->other) {
		tui_note(t, "other: the flows of groups beyond the cap have no one filter");
		return TUI_REDRAW;
	}
	group_flow_filter((enum flow_group_kind)t->shown, k, text, sizeof(text));
	memset(&f, 0, sizeof(f));
	if (filter_parse_terms(&f, text, err, sizeof(err))) {
		tui_note(t, "no filter for this group: %s", err);
		return TUI_REDRAW;
	}
	t->flow_filter_saved = t->opts.filter;
	t->opts.filter = f;
	t->back_to = t->shown;
	t->shown = VIEW_FLOWS;
	return TUI_REBUILD;
}

static int act_detail(struct tui *t, int key)
{
	(void)key;
	if (in_groups(t))
		return group_view_count(t->gview[t->shown]) ? open_group(t) : TUI_OK;
	if (!table_view_count(t->view))
		return TUI_OK;
	t->mode = MODE_DETAIL;
	return TUI_REDRAW;
}

/* Leaving a group's flows (Esc, g): the flow filter the user had comes back. */
static void leave_group_flows(struct tui *t)
{
	if (in_groups(t) || t->back_to == VIEW_FLOWS)
		return;
	t->opts.filter = t->flow_filter_saved;
	t->back_to = VIEW_FLOWS;
}

static int act_back(struct tui *t, int key)
{
	enum tui_view back_to = t->back_to;

	(void)key;
	if (in_groups(t) || back_to == VIEW_FLOWS)
		return TUI_OK;
	leave_group_flows(t);
	t->shown = back_to;
	return TUI_REBUILD;
}

static const char *view_name(enum tui_view v)
{
	return v == VIEW_REMOTE	    ? "by remote service"
	       : v == VIEW_LISTENER ? "by local listener"
	       : v == VIEW_PROCESS  ? "by process"
				    : "flows";
}

/*
 * g: flows -> by remote service -> by local listener -> by process -> flows
 * (views without groups skipped).
 */
static int act_groups(struct tui *t, int key)
{
	enum tui_view v = t->shown;

	(void)key;
	leave_group_flows(t);
	do
		v = (enum tui_view)((v + 1) % VIEW_COUNT);
	while (v != VIEW_FLOWS && !tui_groups(t, v));
	t->shown = v;
	tui_note(t, "view: %s", view_name(v));
	return TUI_REBUILD;
}

/* Moves the sort to the neighbouring shown column, as htop's < and >. */
static int act_sort_step(struct tui *t, int key)
{
	int step = key == '<' || key == ',' ? -1 : 1;
	size_t i, n = t->layout.n;
	int cur = -1;

	if (in_groups(t)) {
		const struct group_layout *l = &t->glayout;

		for (i = 0; i < l->n; i++)
			if (l->col[i] == t->gsort[t->shown])
				cur = (int)i;
		if (cur < 0)
			cur = step > 0 ? -1 : (int)l->n;
		cur += step;
		if (cur < 0 || cur >= (int)l->n)
			return TUI_OK;
		set_group_sort(t, l->col[cur]);
		return TUI_REBUILD;
	}
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

static int act_sort_menu(struct tui *t, int key)
{
	(void)key;
	t->mode = MODE_SORT;
	t->sort_menu_sel = (size_t)t->opts.sort;
	if (in_groups(t)) {
		enum group_field ids[GROUP_FIELD_COUNT];
		size_t n = group_fields_of((enum flow_group_kind)t->shown, ids), i;

		for (i = 0, t->sort_menu_sel = 0; i < n; i++)
			if (ids[i] == t->gsort[t->shown])
				t->sort_menu_sel = i;
	}
	return TUI_REDRAW;
}

static int act_invert(struct tui *t, int key)
{
	(void)key;
	if (in_groups(t))
		t->gsort_desc[t->shown] = !t->gsort_desc[t->shown];
	else
		t->opts.sort_desc = !t->opts.sort_desc;
	return TUI_REBUILD;
}

static int mouse_event(struct tui *t, const MEVENT *ev)
{
	int c;

	if (ev->bstate & BUTTON4_PRESSED)
		return move_by(t, -1);
#ifdef BUTTON5_PRESSED
	if (ev->bstate & BUTTON5_PRESSED)
		return move_by(t, 1);
#endif
	if (!(ev->bstate & BUTTON1_PRESSED))
		return TUI_OK;
	if (ev->y == HEADER_LINES && in_groups(t)) {
		c = group_layout_hit(&t->glayout, ev->x);
		if (c < 0)
			return TUI_OK;
		if (t->glayout.col[c] == t->gsort[t->shown])
			t->gsort_desc[t->shown] = !t->gsort_desc[t->shown];
		else
			set_group_sort(t, t->glayout.col[c]);
		return TUI_REBUILD;
	}
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
		size_t top = in_groups(t) ? group_view_scroll(t->gview[t->shown], tui_page_rows())
					  : table_view_scroll(t->view, tui_page_rows());
		size_t row = top + (size_t)(ev->y - HEADER_LINES - 1);

		if (row < rows_count(t))
			select_row(t, row);
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
static int act_mouse(struct tui *t, int key)
{
	MEVENT ev[MOUSE_BATCH];
	int n = 0, r = 0;

	(void)key;
	while (n < MOUSE_BATCH && getmouse(&ev[n]) == OK)
		n++;
	while (n-- > 0)
		r |= mouse_event(t, &ev[n]);
	return r;
}

static int act_filter(struct tui *t, int key)
{
	const char *now = in_groups(t) ? t->gfilter[t->shown].text : t->opts.filter.text;

	(void)key;
	t->mode = MODE_FILTER;
	snprintf(t->edit, sizeof(t->edit), "%s", now);
	snprintf(t->saved_filter, sizeof(t->saved_filter), "%s", now);
	t->edit_err[0] = '\0';
	return TUI_REDRAW;
}

/* p and d narrow flows; a group view counts every flow and has its own filter (/). */
static int flows_only(struct tui *t)
{
	tui_note(t, "p, d and C filter flows; in a group view, filter with /");
	return TUI_REDRAW;
}

static int act_ports(struct tui *t, int key)
{
	(void)key;
	if (in_groups(t))
		return flows_only(t);
	t->mode = MODE_PORTS;
	t->edit[0] = '\0';
	if (t->opts.filter.has_ports)
		port_list_format(&t->opts.filter.ports, t->edit, sizeof(t->edit));
	t->edit_err[0] = '\0';
	return TUI_REDRAW;
}

static int act_direction(struct tui *t, int key)
{
	uint8_t *d = &t->opts.filter.dir;

	(void)key;
	if (in_groups(t))
		return flows_only(t);
	*d = *d == 0 ? TFT_DIR_IN : *d == TFT_DIR_IN ? TFT_DIR_OUT : 0;
	tui_note(t, "direction: %s", *d == 0 ? "all" : *d == TFT_DIR_IN ? "incoming" : "outgoing");
	return TUI_REBUILD;
}

static int act_pause(struct tui *t, int key)
{
	(void)key;
	t->paused = !t->paused;
	if (t->paused) {
		/* Ids count from 1, so the newest id is the number of flows seen. */
		t->pause_max_id = flow_table_stats(t->table)->seen;
		t->pause_seen = flow_table_stats(t->table)->seen;
	}
	return TUI_REBUILD;
}

/* n: the name columns; o: the owner's (process, service, and pid, user, cgroup with -o). */
static int act_columns(struct tui *t, int key)
{
	if (key == 'o')
		t->show_owner = !t->show_owner;
	else
		t->show_names = !t->show_names;
	return TUI_REDRAW;
}

/* C: flows that ended (closed, refused, unanswered, half-open) hidden or shown. */
static int act_hide_ended(struct tui *t, int key)
{
	(void)key;
	if (in_groups(t))
		return flows_only(t);
	t->opts.filter.hide_ended = !t->opts.filter.hide_ended;
	tui_note(t, "%s", t->opts.filter.hide_ended ? "ended flows hidden" : "ended flows shown");
	return TUI_REBUILD;
}

static int act_clear(struct tui *t, int key)
{
	(void)key;
	flow_pipeline_clear(t->pipeline);
	tui_note(t, "table cleared (group counts are since start and stay)");
	return TUI_REBUILD;
}

static int act_export(struct tui *t, int key)
{
	(void)key;
	tui_export(t);
	return TUI_REDRAW;
}

static int act_refresh(struct tui *t, int key)
{
	(void)t;
	(void)key;
	clearok(curscr, TRUE);
	return TUI_REDRAW;
}

/* ---- the bindings table ---- */

static const char *const filter_terms[] = {
    "443 8000-8100 !22 in out ipv4 ipv6 pending accepted refused established closed",
    "unanswered half-open reset idle FIELD:VALUE (dport:80-90, bytes_in:>999)",
    "any other word: part of an address or domain name;  ! before a term negates it",
    NULL,
};

/* In help-screen order; a short help text shares its line with the next binding. */
static const struct tui_binding bindings[] = {
    {.label = "q F10",
     .codes = {'q', KEY_F(10)},
     .act = act_quit,
     .help = "quit",
     .hint_key = "q",
     .hint = "Quit",
     .hint_order = 2},
    {.label = "h ? F1",
     .codes = {'h', '?', KEY_F(1)},
     .act = act_help,
     .help = "this help",
     .hint_key = "h",
     .hint = "Help",
     .hint_order = 1},
    {.label = "Up Down",
     .codes = {KEY_UP, 'k', KEY_DOWN, 'j'},
     .act = act_move,
     .help = "move the selection"},
    {.label = "PgUp PgDn", .codes = {KEY_PPAGE, KEY_NPAGE}, .act = act_page, .help = "a page"},
    {.label = "Home End",
     .codes = {KEY_HOME, KEY_END},
     .act = act_home_end,
     .help = "first / last row"},
    {.label = "Enter",
     .codes = {'\n', '\r', KEY_ENTER},
     .act = act_detail,
     .help = "flow detail; on a group: the group's flows",
     .hint_key = "Enter",
     .hint = "Detail",
     .hint_order = 10},
    {.label = "< >",
     .codes = {'<', ',', '>', '.'},
     .act = act_sort_step,
     .help = "sort by the column left / right of the current one",
     .hint_key = "<>",
     .hint = "Sort",
     .hint_order = 6},
    {.label = "F6", .codes = {KEY_F(6)}, .act = act_sort_menu, .help = "sort menu"},
    {.label = "I r",
     .codes = {'I', 'r'},
     .act = act_invert,
     .help = "invert the sort order",
     .hint_key = "I",
     .hint = "Invert",
     .hint_order = 7},
    {.label = "(mouse)",
     .codes = {KEY_MOUSE},
     .act = act_mouse,
     .help = "click a column title to sort by it, again to invert"},
    {.label = "/",
     .codes = {'/', KEY_F(4)},
     .act = act_filter,
     .help = "filter as you type; Enter keeps it, Esc clears it. Terms, AND-ed:",
     .more = filter_terms,
     .hint_key = "/",
     .hint = "Filter",
     .hint_order = 3},
    {.label = "Esc",
     .codes = {TUI_KEY_ESC},
     .act = act_back,
     .help = "back to the group view",
     .hint_key = "Esc",
     .hint = "Back",
     .hint_order = 13},
    {.label = "g",
     .codes = {'g'},
     .act = act_groups,
     .help = "flows / by remote / by listener / by process",
     .hint_key = "g",
     .hint = "Groups",
     .hint_order = 12},
    {.label = "p",
     .codes = {'p'},
     .act = act_ports,
     .help = "ports: 80,443 8000-8100",
     .hint_key = "p",
     .hint = "Ports",
     .hint_order = 4},
    {.label = "d",
     .codes = {'d'},
     .act = act_direction,
     .help = "direction: all, in, out",
     .hint_key = "d",
     .hint = "Dir",
     .hint_order = 5},
    {.label = "Space",
     .codes = {' '},
     .act = act_pause,
     .help = "pause; capture goes on",
     .hint_key = "Spc",
     .hint = "Pause",
     .hint_order = 8},
    {.label = "n o", .codes = {'n', 'o'}, .act = act_columns, .help = "show/hide names, process"},
    {.label = "C",
     .codes = {'C'},
     .act = act_hide_ended,
     .help = "hide/show ended flows",
     .hint_key = "C",
     .hint = "Ended",
     .hint_order = 14},
    {.label = "c",
     .codes = {'c'},
     .act = act_clear,
     .help = "clear the table (counters keep counting)",
     .hint_key = "c",
     .hint = "Clear",
     .hint_order = 11},
    {.label = "e",
     .codes = {'e'},
     .act = act_export,
     .help = "export the view to CSV",
     .hint_key = "e",
     .hint = "Export",
     .hint_order = 9},
    {.label = "Ctrl-L",
     .codes = {TUI_KEY_CTRL('L')},
     .act = act_refresh,
     .help = "redraw the screen"},
};

#define NBINDINGS (sizeof(bindings) / sizeof(bindings[0]))

const struct tui_binding *tui_bindings(size_t *n)
{
	*n = NBINDINGS;
	return bindings;
}

size_t tui_footer_hints(const struct tui_binding **out, size_t max)
{
	size_t i, j, n = 0;

	/* Insertion by order; only the first max are kept. */
	for (i = 0; i < NBINDINGS; i++) {
		const struct tui_binding *b = &bindings[i];

		if (!b->hint_key || !b->hint)
			continue;
		for (j = n < max ? n : max; j > 0 && out[j - 1]->hint_order > b->hint_order; j--) {
			if (j < max)
				out[j] = out[j - 1];
		}
		if (j < max)
			out[j] = b;
		n++;
	}
	return n;
}

/* ---- the help screen ---- */

/* The columns of a key line: "  KEY          HELP                      KEY        HELP". */
#define HELP_KEY_W 12
#define HELP_TEXT_W 25
#define HELP_KEY2_W 10

static const char *const help_intro[] = {
    "tcpflowtop: new TCP connections as they open. Keys:",
};

/* The columns' paragraph is drawn from the field table; these lines explain the rest. */
static const char *const help_names[] = {
    "GROUPS (g): totals since start; REFUSED% UNANS% RESET% of flows; HS_P50/P95/MAX handshake ms.",
    "NAMES: the name the application asked for, then its CNAMEs, from DNS answers;",
    "~name: from a reverse (PTR) lookup, unverified. +N: more names (Enter shows all).",
    "Press any key to return.",
};

/* Help lines are cut to this width: the tmux test's pane, and most terminals. */
#define HELP_WRAP 99

static void help_put(char (*text)[TUI_HELP_LINE_MAX], size_t max, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void help_put(char (*text)[TUI_HELP_LINE_MAX], size_t max, size_t *n, const char *fmt, ...)
{
	va_list ap;

	if (*n < max) {
		va_start(ap, fmt);
		vsnprintf(text[*n], TUI_HELP_LINE_MAX, fmt, ap);
		va_end(ap);
	}
	(*n)++;
}

/* Two bindings share a line when the first's keys and help fit the left half. */
static bool help_pairs(const struct tui_binding *a, const struct tui_binding *b)
{
	return !a->more && !b->more && strlen(a->label) <= HELP_KEY_W &&
	       strlen(a->help) <= HELP_TEXT_W && strlen(b->label) <= HELP_KEY2_W;
}

/*
 * "Rows are newest first. ... TIME: when the first SYN was seen. DIR: ..."
 * for every screen column, wrapped at word boundaries to HELP_WRAP.
 */
static void help_columns(char (*text)[TUI_HELP_LINE_MAX], size_t max, size_t *n)
{
	enum flow_field ids[FLOW_FIELD_COUNT];
	size_t k = flow_fields_with(FLOW_FIELD_ON_SCREEN, ids), i, len;
	char para[2048], *p, *end;
	int w;

	w = snprintf(para, sizeof(para),
		     "Rows are newest first. Bold rows are new, dim ones ended.");
	len = w > 0 ? (size_t)w : 0;
	for (i = 0; i < k && len < sizeof(para); i++) {
		w = snprintf(para + len, sizeof(para) - len, " %s: %s.", flow_field(ids[i])->title,
			     flow_field(ids[i])->help);
		if (w > 0)
			len += (size_t)w;
	}
	help_put(text, max, n, "%s", "");
	for (p = para; *p;) {
		size_t rest = strlen(p), cut = rest;

		if (rest > HELP_WRAP) {
			for (cut = HELP_WRAP; cut > 0 && p[cut] != ' '; cut--)
				;
			if (!cut)
				cut = HELP_WRAP;
		}
		end = p + cut;
		help_put(text, max, n, "%.*s", (int)cut, p);
		p = *end == ' ' ? end + 1 : end;
	}
}

size_t tui_help_lines(char (*text)[TUI_HELP_LINE_MAX], size_t max)
{
	size_t i, n = 0;
	const char *const *m;

	for (i = 0; i < sizeof(help_intro) / sizeof(help_intro[0]); i++)
		help_put(text, max, &n, "%s", help_intro[i]);
	for (i = 0; i < NBINDINGS; i++) {
		const struct tui_binding *a = &bindings[i], *b = &bindings[i + 1];

		if (i + 1 < NBINDINGS && help_pairs(a, b)) {
			help_put(text, max, &n, "  %-*s %-*s %-*s %s", HELP_KEY_W, a->label,
				 HELP_TEXT_W, a->help, HELP_KEY2_W, b->label, b->help);
			i++;
			continue;
		}
		help_put(text, max, &n, "  %-*s %s", HELP_KEY_W, a->label, a->help);
		for (m = a->more; m && *m; m++)
			help_put(text, max, &n, "  %-*s   %s", HELP_KEY_W, "", *m);
	}
	help_columns(text, max, &n);
	for (i = 0; i < sizeof(help_names) / sizeof(help_names[0]); i++)
		help_put(text, max, &n, "%s", help_names[i]);
	return n;
}

/* ---- dispatch ---- */

void tui_actions_bind(struct tui *t)
{
	size_t i, j;

	memset(t->keymap, 0, sizeof(t->keymap));
	for (i = 0; i < NBINDINGS; i++) {
		for (j = 0; j < TUI_BINDING_CODES && bindings[i].codes[j]; j++) {
			int key = bindings[i].codes[j];

			if (key > 0 && key <= KEY_MAX)
				t->keymap[key] = &bindings[i];
		}
	}
}

/* The filter and port lines: every keystroke edits, then re-applies or re-checks. */
static int key_edit(struct tui *t, int key)
{
	size_t len = strlen(t->edit);
	char err[160];

	if (key == TUI_KEY_ESC) { /* the filter line clears, the port prompt cancels */
		if (t->mode == MODE_FILTER && in_groups(t))
			group_filter_parse(&t->gfilter[t->shown], "", NULL, 0);
		else if (t->mode == MODE_FILTER)
			filter_parse_terms(&t->opts.filter, "", NULL, 0);
		t->mode = MODE_TABLE;
		return TUI_REBUILD;
	}
	if (is_enter(key)) {
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
			tui_note(t, "filter kept as \"%s\": %s",
				 in_groups(t) ? t->gfilter[t->shown].text : t->opts.filter.text,
				 t->edit_err);
		}
		t->mode = MODE_TABLE;
		return TUI_REBUILD;
	}
	if (is_erase(key)) {
		if (len)
			t->edit[len - 1] = '\0';
	} else if (key == TUI_KEY_CTRL('U')) {
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
	if (t->mode == MODE_FILTER && in_groups(t)) {
		if (group_filter_parse(&t->gfilter[t->shown], t->edit, err, sizeof(err)))
			snprintf(t->edit_err, sizeof(t->edit_err), "%s", err);
		return TUI_REBUILD;
	}
	if (t->mode == MODE_FILTER) {
		if (filter_parse_terms(&t->opts.filter, t->edit, err, sizeof(err)))
			snprintf(t->edit_err, sizeof(t->edit_err), "%s", err);
		return TUI_REBUILD;
	}
	return TUI_REDRAW;
}

static int key_sort_menu(struct tui *t, int key)
{
	enum group_field ids[GROUP_FIELD_COUNT];
	size_t n = in_groups(t) ? group_fields_of((enum flow_group_kind)t->shown, ids)
				: FLOW_FIELD_SCREEN_COUNT;

	if (is_enter(key) && in_groups(t)) {
		if (t->sort_menu_sel < n)
			set_group_sort(t, ids[t->sort_menu_sel]);
		t->mode = MODE_TABLE;
		return TUI_REBUILD;
	}
	if (is_enter(key)) {
		set_sort(t, (enum flow_field)t->sort_menu_sel);
		t->mode = MODE_TABLE;
		return TUI_REBUILD;
	}
	switch (key) {
	case KEY_UP:
		if (t->sort_menu_sel > 0)
			t->sort_menu_sel--;
		return TUI_REDRAW;
	case KEY_DOWN:
		if (t->sort_menu_sel + 1 < n)
			t->sort_menu_sel++;
		return TUI_REDRAW;
	case TUI_KEY_ESC:
	case 'q':
	case KEY_F(6):
		t->mode = MODE_TABLE;
		return TUI_REDRAW;
	default:
		return TUI_OK;
	}
}

int tui_actions_key(struct tui *t, int key)
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
		if (key == TUI_KEY_ESC || key == 'q' || is_enter(key) || is_erase(key) ||
		    key == KEY_LEFT) {
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
	if (key > 0 && key <= KEY_MAX && t->keymap[key])
		return t->keymap[key]->act(t, key);
	return TUI_OK;
}
