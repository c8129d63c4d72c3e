/*
 * Drawing the screen from its state: the header meters, the column header,
 * the visible rows only, the footer (key hints from the bindings table, or
 * the line editor's prompt), and the help, detail and sort-menu screens.
 * Nothing here changes what the screen shows; the keys do that.
 */
#include <ctype.h>
#include <curses.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "flow_fields.h"
#include "tui_state.h"

/* Enough lines for any terminal the help is read on; the rest is cut. */
#define HELP_LINES_MAX 64
#define HINTS_MAX 32

size_t tui_page_rows(void)
{
	int n = LINES - HEADER_LINES - 2;

	return n > 0 ? (size_t)n : 0;
}

static void compute_layout(struct tui *t)
{
	/* Without socket outcomes the byte columns would stay empty: give their room away. */
	bool no_bytes = t->default_cols && !flow_pipeline_has_outcomes(t->pipeline);
	enum flow_field cols[FLOW_FIELD_SCREEN_COUNT];
	size_t i, n = 0;

	if (t->shown != VIEW_FLOWS)
		group_layout_compute((enum flow_group_kind)t->shown, COLS, &t->glayout);
	for (i = 0; i < t->opts.ncols; i++) {
		if (!t->show_names && flow_field(t->opts.cols[i])->names)
			continue;
		if (no_bytes && (t->opts.cols[i] == FLOW_FIELD_BYTES_IN ||
				 t->opts.cols[i] == FLOW_FIELD_BYTES_OUT))
			continue;
		if (!t->show_owner && flow_field(t->opts.cols[i])->owner)
			continue;
		cols[n++] = t->opts.cols[i];
	}
	table_layout_compute(cols, n, COLS, &t->layout);
}

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
	return A_BOLD | (t->term.color ? COLOR_PAIR(CP_ALERT) : A_REVERSE);
}

/*
 * Loud items of line 2 after the losses, each only when it has something
 * to say: the kernel's listen counters since start, and the last reset
 * alert for ALERT_SHOW_NS after the screen heard of it. Returns the next x.
 */
static int draw_kernel_and_alert(struct tui *t, const struct flow_stats *st, int x)
{
	char line[160], addr[48];
	int n;

	if (st->mib_known &&
	    (st->mib.syncookies_sent || st->mib.listen_overflows || st->mib.listen_drops)) {
		snprintf(line, sizeof(line), "cookies %llu overflows %llu drops %llu",
			 (unsigned long long)st->mib.syncookies_sent,
			 (unsigned long long)st->mib.listen_overflows,
			 (unsigned long long)st->mib.listen_drops);
		n = (int)strlen(line);
		if (x < COLS)
			put_fit(2, x, line, COLS - x < n ? COLS - x : n, false, alert_attr(t));
		x += n + 2;
	}
	if (st->alerts && t->alert_seen_ns && clock_mono_ns() - t->alert_seen_ns < ALERT_SHOW_NS) {
		const struct reset_alert_event *a = &st->last_alert;

		flow_field_addr(a->family, a->addr, addr, sizeof(addr));
		snprintf(line, sizeof(line),
			 a->family == 6 ? "RESETS [%s]:%u %llu/%ds" : "RESETS %s:%u %llu/%ds", addr,
			 a->port, (unsigned long long)a->count, RESET_ALERT_WINDOW_S);
		n = (int)strlen(line);
		if (x < COLS)
			put_fit(2, x, line, COLS - x < n ? COLS - x : n, false, alert_attr(t));
		x += n + 2;
	}
	return x;
}

static void draw_header(struct tui *t)
{
	struct flow_stats st;
	const struct flow_table_stats *s = &st.flows;
	char line[512], up[32], filt[320];
	double last, avg;
	int x;

	flow_pipeline_stats(t->pipeline, &st);
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
		 "unanswered %llu unsure %llu",
		 last, avg, (unsigned long long)s->seen, (unsigned long long)s->seen_in,
		 (unsigned long long)s->seen_out, (unsigned long long)s->accepted,
		 (unsigned long long)s->refused, (unsigned long long)st.unanswered,
		 (unsigned long long)st.unsure);
	if (st.outcomes_on) {
		size_t len = strlen(line);

		snprintf(line + len, sizeof(line) - len, "  established %llu half-open %llu",
			 (unsigned long long)s->established, (unsigned long long)s->half_open);
	}
	put_fit(1, 0, line, COLS, false, A_NORMAL);

	/* Loss and eviction: quiet when zero, loud otherwise. */
	move(2, 0);
	clrtoeol();
	snprintf(line, sizeof(line), "lost %llu", (unsigned long long)st.counters[TFT_CNT_RB_FULL]);
	put_fit(2, 0, line, (int)strlen(line), false,
		st.counters[TFT_CNT_RB_FULL] ? alert_attr(t) : A_NORMAL);
	x = (int)strlen(line) + 2;
	snprintf(line, sizeof(line), "evicted %llu (%llu pending)", (unsigned long long)s->evicted,
		 (unsigned long long)s->evicted_pending);
	if (x < COLS)
		put_fit(2, x, line, COLS - x < (int)strlen(line) ? COLS - x : (int)strlen(line),
			false, s->evicted ? alert_attr(t) : A_NORMAL);
	x += (int)strlen(line) + 2;
	x = draw_kernel_and_alert(t, &st, x);
	if (t->shown != VIEW_FLOWS) {
		struct flow_groups *g = tui_groups(t, t->shown);
		struct flow_groups_stats gs;
		const char *gf = t->gfilter[t->shown].text;

		flow_groups_stats(g, &gs);
		snprintf(line, sizeof(line),
			 "by %s  filter %s%s  sort %s %s  groups %zu/%zu  other %llu",
			 t->shown == VIEW_REMOTE     ? "remote service"
			 : t->shown == VIEW_LISTENER ? "local listener"
						     : "process",
			 gf[0] ? "/" : "none", gf, group_field(t->gsort[t->shown])->name,
			 t->gsort_desc[t->shown] ? "desc" : "asc",
			 group_view_count(t->gview[t->shown]), gs.groups,
			 (unsigned long long)gs.other_flows);
		if (x < COLS)
			put_fit(2, x, line, COLS - x, false, A_NORMAL);
		return;
	}
	/* What the keys set comes before the names figures: at 80 columns it must not be cut. */
	filter_describe(&t->opts.filter, filt, sizeof(filt));
	snprintf(line, sizeof(line), "filter %s  sort %s %s  rows %zu/%zu%s", filt,
		 flow_field(t->opts.sort)->name, t->opts.sort_desc ? "desc" : "asc",
		 table_view_count(t->view), st.held, t->show_names ? "" : "  name columns hidden");
	if (x < COLS)
		put_fit(2, x, line, COLS - x, false, A_NORMAL);
	x += (int)strlen(line) + 2;
	/* Beside hidden columns the cache figures would read as if names were off. */
	if (st.names_on && t->show_names) {
		const struct names_stats *n = &st.names;

		uint64_t ignored = st.counters[TFT_CNT_DNS_UNMATCHED];
		char extra[48] = "";

		/* Answers to no query seen (spoofing, or a query sent before start): shown once
		 * any. */
		if (ignored)
			snprintf(extra, sizeof(extra), ", ignored %llu",
				 (unsigned long long)ignored);
		snprintf(line, sizeof(line), "names %llu (hit %u%%, lookups %llu, failed %llu%s)",
			 (unsigned long long)n->cache.entries,
			 n->asked ? (unsigned)(n->asked_hits * 100 / n->asked) : 0,
			 (unsigned long long)(n->reverse.in_flight + n->reverse.queued),
			 (unsigned long long)n->reverse.failed, extra);
		if (x < COLS)
			put_fit(2, x, line, COLS - x, false, A_NORMAL);
	}
}

static void draw_column_header(struct tui *t)
{
	int y = HEADER_LINES;
	attr_t bar = t->term.color ? COLOR_PAIR(CP_BAR) : A_REVERSE;
	/* The sort column stands out from the bar, as in htop. */
	attr_t sortattr = t->term.color ? COLOR_PAIR(CP_KEY) : A_BOLD | A_UNDERLINE;
	size_t i;

	attron(bar);
	mvhline(y, 0, ' ', COLS);
	attroff(bar);
	for (i = 0; t->shown != VIEW_FLOWS && i < t->glayout.n; i++) {
		const struct group_field_desc *d = group_field(t->glayout.col[i]);
		char buf[128];
		int w = t->glayout.width[i];

		if (t->glayout.col[i] != t->gsort[t->shown]) {
			put_fit(y, t->glayout.x[i], d->title, w, d->right, bar);
			continue;
		}
		table_fit(d->title, w > 1 ? w - 1 : 0, d->right, t->term.utf8, buf, sizeof(buf));
		attron(sortattr);
		mvaddstr(y, t->glayout.x[i], buf);
		addstr(t->term.utf8 ? (t->gsort_desc[t->shown] ? "\xe2\x96\xbc" : "\xe2\x96\xb2")
				    : (t->gsort_desc[t->shown] ? "v" : "^"));
		attroff(sortattr);
	}
	for (i = 0; t->shown == VIEW_FLOWS && i < t->layout.n; i++) {
		const struct flow_field_desc *d = flow_field(t->layout.col[i]);
		const char *mark;
		char buf[128];
		int w;

		if (t->layout.col[i] != t->opts.sort) {
			put_fit(y, t->layout.x[i], d->title, t->layout.width[i], d->right, bar);
			continue;
		}
		/* The mark takes the column's last cell, ASCII or not (▼ is 3 bytes, 1 cell). */
		if (t->term.utf8)
			mark = t->opts.sort_desc ? "\xe2\x96\xbc" : "\xe2\x96\xb2";
		else
			mark = t->opts.sort_desc ? "v" : "^";
		w = t->layout.width[i] - 1;
		table_fit(d->title, w > 0 ? w : 0, d->right, t->term.utf8, buf, sizeof(buf));
		attron(sortattr);
		mvaddstr(y, t->layout.x[i], buf);
		addstr(mark);
		attroff(sortattr);
	}
}

static attr_t cell_attr(const struct tui *t, enum flow_field c, const struct tft_flow *f)
{
	if (!t->term.color)
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
	case FLOW_STYLE_ENDED:
		return A_DIM;
	default:
		return A_NORMAL;
	}
}

/* The rows of a group view: refused or unanswered shares stand out. */
static void draw_group_rows(struct tui *t)
{
	struct group_view *gv = t->gview[t->shown];
	struct flow_groups *g = tui_groups(t, t->shown);
	size_t page = tui_page_rows(), top = group_view_scroll(gv, page), i, c;
	size_t n = group_view_count(gv), sel = group_view_selected(gv);

	for (i = 0; i < page && top + i < n; i++) {
		struct group_field_ctx ctx = {group_view_row(gv, top + i),
					      group_view_key(gv, g, top + i)};
		int y = HEADER_LINES + 1 + (int)i;
		bool selected = top + i == sel;
		attr_t base = selected ? A_REVERSE : A_NORMAL;

		if (!ctx.key)
			continue;
		if (selected) {
			attron(base);
			mvhline(y, 0, ' ', COLS);
			attroff(base);
		}
		for (c = 0; c < t->glayout.n; c++) {
			enum group_field col = t->glayout.col[c];
			const struct group_field_desc *d = group_field(col);
			attr_t a = base;
			char text[1100], buf[1200];

			group_field_render(col, &ctx, FLOW_TARGET_SCREEN, text, sizeof(text));
			if (!selected && t->term.color &&
			    ((col == GROUP_FIELD_REFUSED && ctx.row->refused) ||
			     (col == GROUP_FIELD_UNANSWERED && ctx.row->unanswered) ||
			     (col == GROUP_FIELD_RESET && ctx.row->reset)))
				a |= COLOR_PAIR(CP_REFUSED);
			table_fit(text, t->glayout.width[c], d->right, t->term.utf8, buf,
				  sizeof(buf));
			attron(a);
			mvaddstr(y, t->glayout.x[c], buf);
			attroff(a);
		}
	}
	if (!n)
		put_fit(HEADER_LINES + 2, 1,
			t->gfilter[t->shown].nterms
			    ? "No group matches the filter (Esc in / clears it)."
			    : "No flows of this kind yet (g shows the next view).",
			COLS - 1, false, A_NORMAL);
}

static void draw_rows(struct tui *t)
{
	size_t page = tui_page_rows(), top, i, n = table_view_count(t->view);
	size_t sel = table_view_selected(t->view);
	uint64_t now = clock_mono_ns();
	uint64_t fresh = t->delay_ns * 2 > 2000000000ull ? t->delay_ns * 2 : 2000000000ull;

	if (t->shown != VIEW_FLOWS) {
		draw_group_rows(t);
		return;
	}
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
		if (flow_field_ended(f))
			base |= A_DIM; /* over: closed, refused, unanswered, half-open */
		else if (now - f->syn_ns < fresh)
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
			table_fit(text, t->layout.width[c], flow_field(col)->right, t->term.utf8,
				  buf, sizeof(buf));
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

static void draw_footer(struct tui *t)
{
	const struct tui_binding *hints[HINTS_MAX];
	size_t nhints = tui_footer_hints(hints, HINTS_MAX), i;
	int y = LINES - 1, x = 0;
	attr_t keyattr = t->term.color ? COLOR_PAIR(CP_KEY) : A_REVERSE;

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
	if (nhints > HINTS_MAX)
		nhints = HINTS_MAX;
	for (i = 0; i < nhints && x < COLS; i++) {
		int kl = (int)strlen(hints[i]->hint_key), ll = (int)strlen(hints[i]->hint) + 1;

		put_fit(y, x, hints[i]->hint_key, kl < COLS - x ? kl : COLS - x, false,
			A_NORMAL | A_BOLD);
		x += kl;
		if (x >= COLS)
			break;
		put_fit(y, x, hints[i]->hint, ll < COLS - x ? ll : COLS - x, false, keyattr);
		x += ll;
	}
}

static void draw_help(void)
{
	char text[HELP_LINES_MAX][TUI_HELP_LINE_MAX];
	size_t n = tui_help_lines(text, HELP_LINES_MAX), i;

	for (i = 0; i < n && i < HELP_LINES_MAX && (int)i < LINES; i++)
		put_fit((int)i, 0, text[i], COLS, false, i == 0 ? A_BOLD : A_NORMAL);
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
	table_fit(text, (int)strlen(text), false, t->term.utf8, line, sizeof(line)); /* sanitise */
	snprintf(text, sizeof(text), "%s", line);
	ROW("source names", "%s (%s)", text[0] ? text : "none known", src);
	names_provider_lookup(&t->opts.names, f->key.family, f->key.daddr, &names);
	flow_names_text(&names, ",", 0, text, sizeof(text));
	table_fit(text, (int)strlen(text), false, t->term.utf8, line, sizeof(line));
	snprintf(text, sizeof(text), "%s", line);
	ROW("destination names", "%s (%s)", text[0] ? text : "none known", src);
	ROW("state", "%s%s", flow_field_state_name(f->state),
	    f->flags & TFT_FLOW_F_SYNCOOKIE ? " (answered by a SYN cookie: no SYN-ACK seen)" : "");
	if (f->end != TFT_END_NONE) {
		table_cell_text(FLOW_FIELD_CLOSED_BY, f, NULL, a, sizeof(a));
		ROW("end", "%s%s%s", flow_field_end_name(f->end), a[0] ? ", closed by " : "", a);
	} else {
		ROW("end", "- (running%s)", f->flags & TFT_FLOW_F_IDLE ? ", idle" : "");
	}
	table_cell_text(FLOW_FIELD_DURATION, f, NULL, text, sizeof(text));
	ROW("duration", "%s ms%s", text, f->end == TFT_END_NONE ? " so far" : "");
	if (f->flags & TFT_FLOW_F_FIGURES) {
		ROW("bytes", "%llu in, %llu out (%u segments in, %u out)",
		    (unsigned long long)f->bytes_in, (unsigned long long)f->bytes_out, f->segs_in,
		    f->segs_out);
		ROW("round trip", "%u us smoothed, %u data retransmits", f->rtt_us,
		    f->data_retrans);
	} else {
		ROW("bytes", "- (%s)", f->end == TFT_END_NONE ? "not sampled yet" : "not known");
	}
	ROW("SYN retransmits", "%u", f->syn_retrans);
	table_cell_text(FLOW_FIELD_HS, f, NULL, text, sizeof(text));
	ROW("handshake", "%s", text[0] ? strcat(text, " ms") : "- (no answer yet)");
	/* Who opened it: every owner field of the table, or why nobody is known. */
	if (f->owner.state != TFT_OWNER_KNOWN) {
		ROW("process", "? (%s)",
		    f->owner.state == TFT_OWNER_NO_HOOK
			? "this kernel could not run the owner hooks"
			: "its socket is older than tcpflowtop and was not found in /proc, or the "
			  "record naming it was lost");
	} else {
		for (int i = 0; i < FLOW_FIELD_COUNT; i++) {
			const struct flow_field_desc *d = flow_field((enum flow_field)i);
			char label[32];
			size_t k;

			if (!d->owner)
				continue;
			for (k = 0; d->title[k] && k + 1 < sizeof(label); k++)
				label[k] = (char)tolower((unsigned char)d->title[k]);
			label[k] = '\0';
			table_cell_text((enum flow_field)i, f, NULL, text, sizeof(text));
			table_fit(text, (int)strlen(text), false, t->term.utf8, line, sizeof(line));
			snprintf(text, sizeof(text), "%s", line);
			ROW(label, "%s", text);
		}
	}
#undef ROW
}

static void draw_sort_menu(struct tui *t)
{
	enum group_field ids[GROUP_FIELD_COUNT];
	int ng =
	    t->shown != VIEW_FLOWS ? (int)group_fields_of((enum flow_group_kind)t->shown, ids) : 0;
	int h = (ng ? ng : FLOW_FIELD_SCREEN_COUNT) + 2, w = 22, y0 = HEADER_LINES + 1, i;
	WINDOW *win;

	if (y0 + h > LINES)
		y0 = LINES - h > 0 ? LINES - h : 0;
	win = newwin(h < LINES ? h : LINES, w < COLS ? w : COLS, y0, 0);
	if (!win)
		return;
	werase(win);
	box(win, 0, 0);
	mvwaddstr(win, 0, 2, "Sort by");
	for (i = 0; i < ng && i + 1 < h - 1; i++) {
		const struct group_field_desc *d = group_field(ids[i]);

		if ((size_t)i == t->sort_menu_sel)
			wattron(win, A_REVERSE);
		mvwprintw(win, i + 1, 1, " %-13.13s%s ", d->title,
			  ids[i] == t->gsort[t->shown]
			      ? (t->gsort_desc[t->shown] ? " desc" : " asc ")
			      : "     ");
		if ((size_t)i == t->sort_menu_sel)
			wattroff(win, A_REVERSE);
	}
	for (i = 0; !ng && i < FLOW_FIELD_SCREEN_COUNT && i + 1 < h - 1; i++) {
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

void tui_draw(struct tui *t)
{
	erase();
	compute_layout(t);
	switch (t->mode) {
	case MODE_HELP:
		draw_help();
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
}
