#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flow_pipeline.h"
#include "owner_names.h"
#include "sock_diag.h"

#define NS_PER_S 1000000000ull

struct flow_pipeline {
	struct flow_table *table;  /* owned */
	struct names *names;	   /* borrowed, may be NULL */
	struct record_writer *rec; /* borrowed, may be NULL */
	int rec_err;		   /* first failed record write; recording stops there */
	struct flow_sink sinks[FLOW_PIPELINE_MAX_SINKS];
	size_t nsinks;
	uint64_t counters[TFT_CNT_MAX];
	bool owners_off;
	struct proc_listeners *listeners; /* borrowed, may be NULL */
	bool has_owner;			  /* owner belongs to the next TCP record */
	struct tft_owner owner;
	struct flow_timeouts timeouts;
	uint64_t idle_ns;
	struct reset_alert *resets; /* owned */
	struct reset_alert_event last_alert;
	bool outcomes_on;
	bool live;
	uint64_t last_tick_ns;
	struct sock_diag *diag; /* owned, NULL: no sampling */
	bool mib_known;
	struct tcp_mib mib_base, mib_now; /* the kernel's counters at start and lately */
};

static void on_evict(const struct tft_flow *f, void *ctx)
{
	struct flow_pipeline *p = ctx;

	for (size_t i = 0; i < p->nsinks; i++)
		if (p->sinks[i].left)
			p->sinks[i].left(p->sinks[i].ctx, f, FLOW_LEAVE_EVICTED);
}

struct flow_pipeline *flow_pipeline_new(const struct flow_pipeline_opts *opts)
{
	struct flow_pipeline *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->table = flow_table_new(opts->capacity);
	if (!p->table) {
		int e = errno;

		free(p);
		errno = e;
		return NULL;
	}
	flow_table_set_evict_cb(p->table, on_evict, p);
	p->names = opts->names;
	p->rec = opts->rec;
	p->timeouts = opts->timeouts;
	p->idle_ns = opts->idle_ns;
	p->live = opts->live;
	p->resets = reset_alert_new(opts->reset_alert ? opts->reset_alert : UINT32_MAX);
	if (!p->resets) {
		flow_pipeline_free(p);
		errno = ENOMEM;
		return NULL;
	}
	if (p->live) {
		/* Both need no privilege: unavailable, they leave figures unknown, never flows. */
		p->diag = sock_diag_open();
		p->mib_known = tcp_mib_read("/proc", &p->mib_base) == 0;
		p->mib_now = p->mib_base;
	}
	return p;
}

void flow_pipeline_free(struct flow_pipeline *p)
{
	if (!p)
		return;
	flow_table_free(p->table);
	reset_alert_free(p->resets);
	sock_diag_close(p->diag);
	free(p);
}

int flow_pipeline_add_sink(struct flow_pipeline *p, const struct flow_sink *sink)
{
	if (p->nsinks == FLOW_PIPELINE_MAX_SINKS)
		return -E2BIG;
	p->sinks[p->nsinks++] = *sink;
	return 0;
}

/* -w: a record the pipeline took; after a failed write nothing more is written. */
static void record(struct flow_pipeline *p, const void *rec, size_t size)
{
	if (p->rec && !p->rec_err)
		p->rec_err = record_writer_ring(p->rec, rec, size);
}

/*
 * A reset or refusal counts against its service, the flow's destination:
 * the remote address and port of an outgoing flow, the local ones of an
 * incoming flow.
 */
static void count_reset(struct flow_pipeline *p, const struct tft_flow *f, uint64_t at_ns)
{
	struct reset_alert_event a;

	if (!reset_alert_add(p->resets, f->key.family, f->key.daddr, f->key.dport, at_ns, &a))
		return;
	p->last_alert = a;
	for (size_t i = 0; i < p->nsinks; i++)
		if (p->sinks[i].alert)
			p->sinks[i].alert(p->sinks[i].ctx, &a);
}

static void tell_changed(struct flow_pipeline *p, const struct tft_flow *f,
			 enum tft_flow_change change, uint64_t at_ns)
{
	for (size_t i = 0; i < p->nsinks; i++)
		if (p->sinks[i].changed)
			p->sinks[i].changed(p->sinks[i].ctx, f, change, at_ns);
	if (flow_change_ends(f, change) &&
	    (f->end == TFT_END_RESET_PEER || f->end == TFT_END_RESET_LOCAL))
		count_reset(p, f, at_ns);
}

/* -w: the owner with the names it has now, right before its TCP record. */
static void record_owner(struct flow_pipeline *p, const struct tft_owner *o)
{
	struct record_owner r = {.type = TFT_REC_OWNER, .owner = *o};
	const char *user, *cg;

	if (!p->rec || p->rec_err)
		return;
	user = owner_names_user(o->uid);
	cg = owner_names_cgroup(o->cgroup_id);
	if (user) {
		r.user_len = (uint8_t)strnlen(user, sizeof(r.user));
		memcpy(r.user, user, r.user_len);
	}
	if (cg) {
		r.cgroup_len = (uint16_t)strnlen(cg, sizeof(r.cgroup));
		memcpy(r.cgroup, cg, r.cgroup_len);
	}
	record(p, &r, sizeof(r));
}

void flow_pipeline_owner(struct flow_pipeline *p, const struct tft_owner *o, const char *user,
			 const char *cgroup)
{
	if (user || cgroup)
		owner_names_learn(o->uid, user, o->cgroup_id, cgroup);
	p->owner = *o;
	p->has_owner = true;
}

void flow_pipeline_use_listeners(struct flow_pipeline *p, struct proc_listeners *l)
{
	p->listeners = l;
}

/*
 * A SYN arriving with no owner: its listener may predate tcpflowtop (no
 * socket storage then); /proc may know it.
 */
static const struct tft_owner *older_listener(struct flow_pipeline *p,
					      const struct tft_tcp_event *ev)
{
	if (!p->listeners || ev->hook != TFT_HOOK_INGRESS ||
	    (ev->flags & (TFT_TCP_SYN | TFT_TCP_ACK | TFT_TCP_RST)) != TFT_TCP_SYN)
		return NULL;
	if (!proc_listeners_owner(p->listeners, ev->family, ev->daddr, ntohs(ev->dport), ev->ts_ns,
				  &p->owner))
		return NULL;
	return &p->owner;
}

void flow_pipeline_owners_off(struct flow_pipeline *p)
{
	p->owners_off = true;
}

/* A new flow's owner: its SYN's, or why there is none. */
static void set_owner(struct flow_pipeline *p, const struct tft_flow *f, const struct tft_owner *o)
{
	struct tft_flow_owner fo = {.state = p->owners_off ? TFT_OWNER_NO_HOOK : TFT_OWNER_UNKNOWN};

	if (o) {
		/*
		 * Named now, while the process's cgroup most likely still exists:
		 * the screen draws later, and a short-lived container's cgroup
		 * may be gone by then. Cached hits after the first.
		 */
		owner_names_user(o->uid);
		owner_names_cgroup(o->cgroup_id);
		fo.state = TFT_OWNER_KNOWN;
		fo.cgroup_id = o->cgroup_id;
		fo.tgid = o->tgid;
		fo.uid = o->uid;
		memcpy(fo.comm, o->comm, sizeof(fo.comm));
	}
	flow_table_set_owner(p->table, f->id, &fo);
}

void flow_pipeline_tcp(struct flow_pipeline *p, const struct tft_tcp_event *ev)
{
	const struct tft_flow *f = NULL;
	const struct tft_owner *owner = p->has_owner ? &p->owner : NULL;
	enum tft_flow_change change;
	uint64_t at_ns;

	p->has_owner = false; /* it was this record's, whatever becomes of it */
	if (!p->live)
		flow_pipeline_tick(p, ev->ts_ns); /* a replay's timers run on its records' time */
	/* A SYN from one of c-ares' TCP sockets: our own lookup, never a flow. */
	if (p->names && names_is_own_tcp(p->names, ev))
		return;
	if (!owner)
		owner = older_listener(p, ev);
	if (owner)
		record_owner(p, owner);
	record(p, ev, sizeof(*ev));
	change = flow_table_apply(p->table, ev, &f);
	if (change == TFT_CHANGE_NONE)
		return;
	if (change == TFT_CHANGE_NEW)
		set_owner(p, f, owner);
	if (change == TFT_CHANGE_NEW && p->names) {
		/* Misses start reverse lookups now, so names are there when shown. */
		names_get(p->names, f->key.family, f->key.saddr, true);
		names_get(p->names, f->key.family, f->key.daddr, true);
	}
	tell_changed(p, f, change, ev->ts_ns);
	/* Its answer may have been read first (another CPU's ring): it follows the new flow now. */
	if (change == TFT_CHANGE_NEW &&
	    flow_table_apply_early(p->table, &f, &at_ns) == TFT_CHANGE_STATE)
		tell_changed(p, f, TFT_CHANGE_STATE, at_ns);
}

void flow_pipeline_sock(struct flow_pipeline *p, const struct tft_sock_event *ev)
{
	const struct tft_flow *f = NULL;
	enum tft_flow_change change;

	if (!p->live) {
		if (!p->outcomes_on)
			flow_pipeline_outcomes_on(p); /* a recording made with them */
		flow_pipeline_tick(p, ev->ts_ns);
	}
	record(p, ev, sizeof(*ev));
	change = flow_table_apply_sock(p->table, ev, &f);
	if (change != TFT_CHANGE_NONE)
		tell_changed(p, f, change, ev->ts_ns);
}

void flow_pipeline_outcomes_on(struct flow_pipeline *p)
{
	p->outcomes_on = true;
	flow_table_set_outcomes(p->table, true);
}

void flow_pipeline_outcomes_off(struct flow_pipeline *p)
{
	p->outcomes_on = false;
	flow_table_set_outcomes(p->table, false);
}

static void on_expired(const struct tft_flow *f, enum tft_flow_change change, void *ctx)
{
	struct flow_pipeline *p = ctx;

	tell_changed(p, f, change, f->end_ns);
}

struct sample_ctx {
	struct flow_pipeline *p;
	uint64_t idle_ms;
};

/* One socket of the dump: the open flow it belongs to, if any, takes its figures. */
static void on_socket(const struct sock_diag_entry *e, void *ctx)
{
	struct sample_ctx *sc = ctx;
	struct flow_sample s = {
	    .bytes_in = e->bytes_received,
	    .bytes_out = e->bytes_acked,
	    .segs_in = e->segs_in,
	    .segs_out = e->segs_out,
	    .rtt_us = e->rtt_us,
	    .retrans = e->total_retrans,
	    .idle = e->last_data_recv_ms >= sc->idle_ms && e->last_data_sent_ms >= sc->idle_ms,
	};
	struct tft_flow_key key = {.family = e->family};
	size_t alen = e->family == 4 ? 4 : 16;
	const struct tft_flow *f = NULL;

	/* Ours if we connected (outgoing), else if we accepted (incoming). */
	key.dir = TFT_DIR_OUT;
	key.sport = e->lport;
	key.dport = e->rport;
	memcpy(key.saddr, e->laddr, alen);
	memcpy(key.daddr, e->raddr, alen);
	if (flow_table_find(sc->p->table, &key)) {
		if (s.bytes_out > 0)
			s.bytes_out--; /* the connecting end counts its SYN (sock_diag.h) */
	} else {
		key.dir = TFT_DIR_IN;
		key.sport = e->rport;
		key.dport = e->lport;
		memset(key.saddr, 0, sizeof(key.saddr));
		memset(key.daddr, 0, sizeof(key.daddr));
		memcpy(key.saddr, e->raddr, alen);
		memcpy(key.daddr, e->laddr, alen);
	}
	if (flow_table_sample(sc->p->table, &key, &s, &f) == TFT_CHANGE_UPDATE)
		tell_changed(sc->p, f, TFT_CHANGE_UPDATE, sc->p->last_tick_ns);
}

void flow_pipeline_tick(struct flow_pipeline *p, uint64_t now_ns)
{
	if (now_ns < p->last_tick_ns + NS_PER_S)
		return;
	p->last_tick_ns = now_ns;
	flow_table_expire(p->table, now_ns, &p->timeouts, on_expired, p);
	if (p->diag) {
		struct sample_ctx sc = {p, p->idle_ns / 1000000};

		sock_diag_dump(p->diag, 1u << 1 /* TCP_ESTABLISHED */, on_socket, &sc);
	}
	if (p->mib_known)
		tcp_mib_read("/proc", &p->mib_now);
}

void flow_pipeline_dns(struct flow_pipeline *p, const struct tft_dns_event *ev)
{
	if (!p->names || names_is_own_dns(p->names, ev))
		return;
	record(p, ev, sizeof(*ev));
	names_on_dns(p->names, ev);
}

void flow_pipeline_counters(struct flow_pipeline *p, const uint64_t total[TFT_CNT_MAX],
			    uint64_t at_ns)
{
	uint64_t lost_before = p->counters[TFT_CNT_RB_FULL];
	uint64_t ignored_before = p->counters[TFT_CNT_DNS_UNMATCHED];

	if (!memcmp(total, p->counters, sizeof(p->counters)))
		return;
	memcpy(p->counters, total, sizeof(p->counters));
	if (p->rec && !p->rec_err) {
		struct record_counters c = {.at_ns = at_ns};

		memcpy(c.total, total, sizeof(c.total));
		p->rec_err = record_writer_counters(p->rec, &c);
	}
	if (total[TFT_CNT_RB_FULL] > lost_before) {
		/* Any pending flow's answer may be among what was lost: not "unanswered". */
		flow_table_mark_loss(p->table);
		for (size_t i = 0; i < p->nsinks; i++)
			if (p->sinks[i].lost)
				p->sinks[i].lost(p->sinks[i].ctx, total[TFT_CNT_RB_FULL], at_ns);
	}
	if (total[TFT_CNT_DNS_UNMATCHED] > ignored_before) {
		for (size_t i = 0; i < p->nsinks; i++)
			if (p->sinks[i].ignored)
				p->sinks[i].ignored(p->sinks[i].ctx, total[TFT_CNT_DNS_UNMATCHED],
						    at_ns);
	}
}

int flow_pipeline_flush(struct flow_pipeline *p)
{
	if (p->rec && !p->rec_err)
		p->rec_err = record_writer_flush(p->rec);
	return p->rec_err;
}

static void tell_all_left(struct flow_pipeline *p, enum flow_leave why)
{
	const struct tft_flow *f;
	size_t k;

	for (f = flow_table_first(p->table); f; f = flow_table_next(p->table, f)) {
		for (k = 0; k < p->nsinks; k++)
			if (p->sinks[k].left)
				p->sinks[k].left(p->sinks[k].ctx, f, why);
	}
}

void flow_pipeline_clear(struct flow_pipeline *p)
{
	tell_all_left(p, FLOW_LEAVE_CLEARED);
	flow_table_clear(p->table);
}

void flow_pipeline_finish(struct flow_pipeline *p)
{
	tell_all_left(p, FLOW_LEAVE_EXIT);
}

struct flow_table *flow_pipeline_table(struct flow_pipeline *p)
{
	return p->table;
}

void flow_pipeline_stats(const struct flow_pipeline *p, struct flow_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->flows = *flow_table_stats(p->table);
	out->unanswered = flow_table_unanswered(p->table);
	out->unsure = flow_table_unsure(p->table);
	out->held = flow_table_count(p->table);
	out->capacity = flow_table_capacity(p->table);
	memcpy(out->counters, p->counters, sizeof(out->counters));
	if (p->names) {
		out->names_on = true;
		names_stats(p->names, &out->names);
	}
	out->alerts = reset_alert_count(p->resets);
	out->last_alert = p->last_alert;
	out->outcomes_on = p->outcomes_on;
	out->mib_known = p->mib_known;
	if (p->mib_known) {
		out->mib.syncookies_sent = p->mib_now.syncookies_sent - p->mib_base.syncookies_sent;
		out->mib.syncookies_recv = p->mib_now.syncookies_recv - p->mib_base.syncookies_recv;
		out->mib.syncookies_failed =
		    p->mib_now.syncookies_failed - p->mib_base.syncookies_failed;
		out->mib.listen_overflows =
		    p->mib_now.listen_overflows - p->mib_base.listen_overflows;
		out->mib.listen_drops = p->mib_now.listen_drops - p->mib_base.listen_drops;
	}
}

bool flow_pipeline_has_outcomes(const struct flow_pipeline *p)
{
	return p->outcomes_on;
}
