/*
 * The screen's lifecycle and redraw policy. New data only marks the screen
 * dirty: it is redrawn at most once per --delay, on a one-shot timer, so a
 * storm costs a few frames a second; keys redraw at once, after every key
 * queued has been read. The terminal (tui_term.c), the drawing (tui_draw.c)
 * and the keys (tui_actions.c) share the state in tui_state.h.
 *
 * Restoring the terminal: tui_free on every exit path of main.c (q, a
 * signal through the signalfd, a fatal error); tui_term.c covers crashes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "export_csv.h"
#include "tui_state.h"

void tui_message(struct tui *t, const char *fmt, ...)
{
	va_list ap;

	if (!t)
		return;
	va_start(ap, fmt);
	vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
	va_end(ap);
	t->msg_ns = clock_mono_ns();
	tui_term_hold(&t->term, t->msg);
	t->dirty = true;
}

void tui_note(struct tui *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
	va_end(ap);
	t->msg_ns = clock_mono_ns();
}

struct flow_groups *tui_groups(const struct tui *t, enum tui_view v)
{
	switch (v) {
	case VIEW_REMOTE:
		return t->opts.remote;
	case VIEW_LISTENER:
		return t->opts.listener;
	case VIEW_PROCESS:
		return t->opts.process;
	default:
		return NULL;
	}
}

uint64_t tui_group_now(const struct tui *t, enum tui_view v)
{
	struct flow_groups *g = tui_groups(t, v);

	return t->opts.replay && g ? flow_groups_now(g) : clock_mono_ns();
}

static int rebuild(struct tui *t)
{
	int err;

	if (t->shown != VIEW_FLOWS) {
		enum tui_view v = t->shown;

		err = group_view_rebuild(t->gview[v], tui_groups(t, v), &t->gfilter[v], t->gsort[v],
					 t->gsort_desc[v], tui_group_now(t, v));
		if (err)
			tui_message(t, "tcpflowtop: rebuilding the view failed: %s",
				    strerror(-err));
		return err;
	}
	err = table_view_rebuild(t->view, t->table, &t->opts.filter, &t->opts.names, t->opts.sort,
				 t->opts.sort_desc, t->paused ? t->pause_max_id : UINT64_MAX);

	if (err)
		tui_message(t, "tcpflowtop: rebuilding the view failed: %s", strerror(-err));
	return err;
}

static void draw(struct tui *t)
{
	tui_draw(t);
	t->last_draw_ns = clock_mono_ns();
	t->dirty = false;
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
		r |= tui_actions_key(t, key);
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

static void sink_changed(void *ctx, const struct tft_flow *f, enum tft_flow_change change,
			 uint64_t at_ns)
{
	(void)f;
	(void)change;
	(void)at_ns;
	tui_flows_changed(ctx);
}

static void sink_lost(void *ctx, uint64_t lost, uint64_t at_ns)
{
	(void)lost;
	(void)at_ns;
	tui_flows_changed(ctx); /* the header's loss count turns loud */
}

/* The header shows the pipeline's last alert for a while from now (a replay's times are old). */
static void sink_alert(void *ctx, const struct reset_alert_event *a)
{
	struct tui *t = ctx;

	(void)a;
	t->alert_seen_ns = clock_mono_ns();
	tui_flows_changed(t);
}

/* The screen filters at draw time: filters hide rows, they never drop them. */
struct flow_sink tui_sink(struct tui *t)
{
	struct flow_sink s = {
	    .changed = sink_changed, .lost = sink_lost, .ctx = t, .alert = sink_alert};

	return s;
}

void tui_resize(struct tui *t)
{
	if (!t)
		return;
	tui_term_resize();
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

	/*
	 * The view as of the key or signal, rebuilt and drawn now: a view built
	 * at the last frame may list flows evicted since (a full table under
	 * churn), which the file would then lack. Nothing runs between this
	 * rebuild and the write, so every row the screen lists is written.
	 */
	rebuild(t);
	draw(t);
	if (t->shown != VIEW_FLOWS)
		err = group_view_export(t->gview[t->shown], tui_groups(t, t->shown), dir,
					time(NULL), path, sizeof(path), &rows);
	else
		err = export_csv_write(dir, time(NULL), table_view_count(t->view), export_row, t,
				       &t->opts.names, path, sizeof(path), &rows);
	if (err)
		tui_note(t, "export to %s failed: %s", dir, strerror(-err));
	else
		tui_note(t, "exported %zu rows to %s", rows, path);
	t->dirty = true;
	t->last_draw_ns = 0; /* show the result now */
	return err;
}

struct tui *tui_new(const struct tui_opts *opts, struct flow_pipeline *pipeline,
		    struct event_loop *loop, char *err, size_t errlen)
{
	struct tui *t;
	int e;

	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	tui_term_init(&t->term);
	t->opts = *opts;
	t->pipeline = pipeline;
	t->table = flow_pipeline_table(pipeline);
	t->loop = loop;
	t->tick_fd = t->redraw_fd = -1;
	t->show_names = true;
	t->show_owner = true;
	t->delay_ns = (uint64_t)(opts->delay * 1e9);
	t->default_cols = !t->opts.ncols;
	if (!t->opts.ncols)
		t->opts.ncols = table_columns_default(t->opts.cols);
	t->start_ns = clock_mono_ns();
	if (gethostname(t->host, sizeof(t->host)) < 0)
		snprintf(t->host, sizeof(t->host), "?");
	t->host[sizeof(t->host) - 1] = '\0';
	t->view = table_view_new();
	for (e = VIEW_REMOTE; e < VIEW_COUNT; e++) {
		t->gview[e] = group_view_new();
		t->gsort[e] = GROUP_FIELD_FLOWS;
		t->gsort_desc[e] = true;
		if (!t->gview[e])
			t->view = (table_view_free(t->view), NULL);
	}
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
	e = tui_term_open(&t->term, t->opts.no_color, err, errlen);
	if (e) {
		errno = -e;
		goto fail;
	}
	tui_actions_bind(t);

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
	tui_term_close(&t->term);
	if (t->tick_fd >= 0)
		close(t->tick_fd);
	if (t->redraw_fd >= 0)
		close(t->redraw_fd);
	table_view_free(t->view);
	for (int v = VIEW_REMOTE; v < VIEW_COUNT; v++)
		group_view_free(t->gview[v]);
	free(t);
}
