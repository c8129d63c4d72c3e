#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flow_pipeline.h"
#include "owner_names.h"

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
	return p;
}

void flow_pipeline_free(struct flow_pipeline *p)
{
	if (!p)
		return;
	flow_table_free(p->table);
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

static void tell_changed(struct flow_pipeline *p, const struct tft_flow *f,
			 enum tft_flow_change change, uint64_t at_ns)
{
	for (size_t i = 0; i < p->nsinks; i++)
		if (p->sinks[i].changed)
			p->sinks[i].changed(p->sinks[i].ctx, f, change, at_ns);
}

/* -w: the owner with the names it has now, right before its TCP record. */
static void record_owner(struct flow_pipeline *p, const struct tft_owner *o)
{
	const char *user = owner_names_user(o->uid), *cg = owner_names_cgroup(o->cgroup_id);
	struct record_owner r = {.type = TFT_REC_OWNER, .owner = *o};

	if (!p->rec || p->rec_err)
		return;
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
	size_t n = flow_table_count(p->table), i, k;

	for (i = 0; i < n; i++) {
		const struct tft_flow *f = flow_table_at(p->table, i);

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
}
