/*
 * Groups live in one array, found by key through an open-addressing index;
 * none is ever removed (counts are since start), so the index needs no
 * tombstones. Each held flow's group is remembered in a second
 * open-addressing table keyed by flow id (linear probing from the id's low
 * bits, backward-shift deletion when the flow leaves), at least twice as
 * large as the flow table: the table may evict any flow first (ended ones
 * before open ones), so the ids held at once can be any set, not a window.
 * Answers and evictions find their group there without looking names up
 * again (a name learnt after the SYN would otherwise move the flow to
 * another group). The slot also remembers what of the flow was counted
 * already (answered, ended, half-open now, bytes so far), so a repeated or
 * late event cannot count it twice.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_name.h"
#include "flow_groups.h"
#include "owner_names.h"

#define NO_GROUP UINT32_MAX

/* What a slot's flow has counted in its group. */
#define SLOT_ANSWERED 0x01  /* in accepted or refused, and its handshake timed */
#define SLOT_ENDED 0x02	    /* its end was heard (reset counted if it was one) */
#define SLOT_HALF_OPEN 0x04 /* in the group's half_open now */

struct flow_slot {
	uint64_t id; /* the flow's id, 0: none */
	uint32_t group;
	uint8_t counted;	      /* SLOT_* */
	uint64_t bytes_in, bytes_out; /* the figures counted so far */
};

struct flow_groups {
	enum flow_group_kind kind;
	struct flow_group *groups; /* owned */
	size_t n, cap, max;
	uint32_t *index; /* owned: group indices by key hash, NO_GROUP when empty */
	size_t index_mask;
	uint32_t other;		 /* the `other` row's index, or NO_GROUP */
	struct flow_slot *slots; /* owned: held flows by id, id 0 when empty */
	size_t slot_mask;	 /* slots - 1, a power of two >= 2 * flow capacity */
	size_t nheld;		 /* slots in use, kept below the size so probes end */
	flow_groups_name_fn name;
	void *name_ctx;
	uint64_t now_ns;
	uint64_t other_flows, nomem;
	uint64_t next_tick, interval;
	flow_groups_tick_fn tick;
	void *tick_ctx;
};

static uint64_t mix64(uint64_t x)
{
	/* splitmix64's finaliser: every input bit reaches every output bit. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ull; /* FNV-1a */
	return h;
}

static uint64_t key_hash(const struct flow_group_key *k)
{
	uint64_t h = 0xcbf29ce484222325ull;

	h = hash_bytes(h, &k->family, 1);
	h = hash_bytes(h, &k->port, 2);
	h = hash_bytes(h, &k->owner, 1);
	h = hash_bytes(h, k->comm, k->comm_len);
	if (k->name_len)
		h = hash_bytes(h, k->name, k->name_len);
	else
		h = hash_bytes(h, k->addr, 16);
	return mix64(h);
}

static bool key_eq(const struct flow_group_key *a, const struct flow_group_key *b)
{
	return a->family == b->family && a->port == b->port && a->name_len == b->name_len &&
	       a->owner == b->owner && a->comm_len == b->comm_len &&
	       !memcmp(a->comm, b->comm, a->comm_len) &&
	       (a->name_len ? !memcmp(a->name, b->name, a->name_len)
			    : !memcmp(a->addr, b->addr, 16));
}

struct flow_groups *flow_groups_new(const struct flow_groups_opts *opts)
{
	struct flow_groups *g;
	size_t max = opts->max_groups ? opts->max_groups : FLOW_GROUPS_DEFAULT_MAX, size = 4;
	size_t nslots = 4;

	if (max < 2 || max > UINT32_MAX / 4 || !opts->flow_capacity ||
	    opts->flow_capacity > SIZE_MAX / 4 / sizeof(struct flow_slot) ||
	    (opts->kind != FLOW_GROUP_REMOTE && opts->kind != FLOW_GROUP_LISTENER &&
	     opts->kind != FLOW_GROUP_PROCESS)) {
		errno = EINVAL;
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	while (size < 2 * max)
		size *= 2;
	while (nslots < 2 * opts->flow_capacity)
		nslots *= 2;
	g->index = malloc(size * sizeof(*g->index));
	g->slots = calloc(nslots, sizeof(*g->slots));
	if (!g->index || !g->slots) {
		flow_groups_free(g);
		errno = ENOMEM;
		return NULL;
	}
	memset(g->index, 0xff, size * sizeof(*g->index));
	g->index_mask = size - 1;
	g->slot_mask = nslots - 1;
	g->kind = opts->kind;
	g->max = max;
	g->other = NO_GROUP;
	g->name = opts->name;
	g->name_ctx = opts->name_ctx;
	return g;
}

void flow_groups_free(struct flow_groups *g)
{
	size_t i;

	if (!g)
		return;
	for (i = 0; i < g->n; i++) {
		hdr_hist_free(&g->groups[i].hs);
		free(g->groups[i].hll);
	}
	free(g->groups);
	free(g->index);
	free(g->slots);
	free(g);
}

/* A new group, or NO_GROUP when memory is short. */
static uint32_t add_group(struct flow_groups *g, const struct flow_group_key *k, bool other)
{
	struct flow_group *gr;

	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 64;

		if (cap > g->max)
			cap = g->max;
		gr = realloc(g->groups, cap * sizeof(*gr));
		if (!gr)
			return NO_GROUP;
		g->groups = gr;
		g->cap = cap;
	}
	gr = &g->groups[g->n];
	memset(gr, 0, sizeof(*gr));
	if (k)
		gr->key = *k;
	else
		gr->key.owner = FLOW_GROUP_OWNER_OTHER; /* no flow's key: no filter, no "?" */
	gr->other = other;
	if (g->kind != FLOW_GROUP_REMOTE) {
		gr->hll = calloc(FLOW_GROUP_HLL_REGS, 1);
		if (!gr->hll)
			g->nomem++; /* the group counts; its distinct clients or pids stay unknown
				     */
	}
	return (uint32_t)g->n++;
}

/* The group of key k, made if new; past the cap, `other`. */
static uint32_t find_group(struct flow_groups *g, const struct flow_group_key *k)
{
	size_t i = key_hash(k) & g->index_mask;
	uint32_t gi;

	for (; g->index[i] != NO_GROUP; i = (i + 1) & g->index_mask)
		if (key_eq(&g->groups[g->index[i]].key, k))
			return g->index[i];
	/* One place stays for `other`. */
	if (g->n + 1 < g->max) {
		gi = add_group(g, k, false);
		if (gi != NO_GROUP) {
			g->index[i] = gi;
			return gi;
		}
	}
	if (g->other == NO_GROUP)
		g->other = add_group(g, NULL, true);
	return g->other;
}

/*
 * A process group: the owner's service, as the SERVICE column names it
 * (cut to FLOW_GROUP_NAME_MAX bytes), and command; an unknown owner only
 * by why it is unknown. The cgroup's path was looked up when the flow took
 * its owner, so this is a cached hit.
 */
static void make_process_key(const struct tft_flow *f, struct flow_group_key *k)
{
	char svc[FLOW_GROUP_NAME_MAX + 1];
	const char *path;

	k->owner = f->owner.state;
	if (f->owner.state != TFT_OWNER_KNOWN)
		return;
	k->comm_len = (uint8_t)strnlen(f->owner.comm, sizeof(f->owner.comm));
	memcpy(k->comm, f->owner.comm, k->comm_len);
	path = owner_names_cgroup(f->owner.cgroup_id);
	if (path) {
		cgroup_short_name(path, svc, sizeof(svc));
		k->name_len = (uint16_t)strlen(svc);
		memcpy(k->name, svc, k->name_len);
	}
}

static void make_key(struct flow_groups *g, const struct tft_flow *f, struct flow_group_key *k)
{
	memset(k, 0, offsetof(struct flow_group_key, name));
	if (g->kind == FLOW_GROUP_PROCESS) {
		make_process_key(f, k);
		return;
	}
	k->port = f->key.dport;
	if (g->kind == FLOW_GROUP_REMOTE && g->name) {
		size_t n =
		    g->name(g->name_ctx, f->key.family, f->key.daddr, k->name, sizeof(k->name));

		if (n && n <= FLOW_GROUP_NAME_MAX) {
			k->name_len = (uint16_t)n;
			return;
		}
	}
	k->family = f->key.family;
	memcpy(k->addr, f->key.daddr, 16);
}

/* Distinct values: HyperLogLog, register by the top 8 bits, rank from the rest. */
static void hll_add(uint8_t *regs, uint8_t tag, const void *v, size_t len)
{
	uint64_t h = mix64(hash_bytes(0xcbf29ce484222325ull ^ tag, v, len));
	unsigned r = (unsigned)(h >> 56);
	uint64_t w = h << 8;
	uint8_t rho = w ? (uint8_t)(__builtin_clzll(w) + 1) : 57;

	if (rho > regs[r])
		regs[r] = rho;
}

uint64_t flow_group_clients(const struct flow_group *gr)
{
	const double m = FLOW_GROUP_HLL_REGS, alpha = 0.7213 / (1 + 1.079 / m);
	double sum = 0, e;
	unsigned i, zeros = 0;

	if (!gr->hll)
		return 0;
	for (i = 0; i < FLOW_GROUP_HLL_REGS; i++) {
		sum += ldexp(1.0, -gr->hll[i]);
		zeros += !gr->hll[i];
	}
	e = alpha * m * m / sum;
	/* Few clients: linear counting on the empty registers is near exact. */
	if (e <= 2.5 * m && zeros)
		e = m * log(m / zeros);
	return (uint64_t)(e + 0.5);
}

/* Top clients by Space-Saving: a newcomer replaces the smallest, inheriting its count as error. */
static void top_add(struct flow_group *gr, uint8_t family, const uint8_t *addr)
{
	struct flow_group_client *c, *min = NULL;
	size_t i;

	for (i = 0; i < FLOW_GROUP_TOP_CLIENTS; i++) {
		c = &gr->top[i];
		if (c->count && c->family == family && !memcmp(c->addr, addr, 16)) {
			c->count++;
			return;
		}
		if (!min || c->count < min->count)
			min = c;
	}
	min->err = min->count;
	min->count++;
	min->family = family;
	memcpy(min->addr, addr, 16);
}

const struct flow_group_client *flow_group_top_client(const struct flow_group *gr)
{
	const struct flow_group_client *best = NULL;
	size_t i;

	for (i = 0; i < FLOW_GROUP_TOP_CLIENTS; i++)
		if (gr->top[i].count && (!best || gr->top[i].count > best->count))
			best = &gr->top[i];
	return best;
}

double flow_group_rate(const struct flow_group *gr, uint64_t now_ns)
{
	uint64_t now = now_ns / 1000000000ull, sum = 0;
	size_t i;

	for (i = 0; i < FLOW_GROUP_RATE_SECONDS; i++)
		if (gr->rate_n[i] && gr->rate_sec[i] <= now &&
		    gr->rate_sec[i] + FLOW_GROUP_RATE_SECONDS > now)
			sum += gr->rate_n[i];
	return (double)sum / FLOW_GROUP_RATE_SECONDS;
}

static void count_new(struct flow_groups *g, struct flow_group *gr, const struct tft_flow *f,
		      uint64_t at_ns)
{
	uint64_t sec = at_ns / 1000000000ull;
	size_t slot = sec % FLOW_GROUP_RATE_SECONDS;

	if (!gr->flows)
		gr->first_ns = at_ns;
	gr->flows++;
	if (gr->rate_sec[slot] != sec || !gr->rate_n[slot]) {
		gr->rate_sec[slot] = sec;
		gr->rate_n[slot] = 0;
	}
	gr->rate_n[slot]++;
	if (g->kind == FLOW_GROUP_LISTENER) {
		if (gr->hll)
			hll_add(gr->hll, f->key.family, f->key.saddr, 16);
		top_add(gr, f->key.family, f->key.saddr);
	} else if (g->kind == FLOW_GROUP_PROCESS && f->owner.state == TFT_OWNER_KNOWN) {
		gr->last_pid = f->owner.tgid;
		if (gr->hll)
			hll_add(gr->hll, 0, &f->owner.tgid, sizeof(f->owner.tgid));
	}
	if (gr->other)
		g->other_flows++;
}

/* The slot of held flow id, or NULL. */
static struct flow_slot *slot_of(struct flow_groups *g, uint64_t id)
{
	size_t i;

	for (i = id & g->slot_mask; g->slots[i].id; i = (i + 1) & g->slot_mask)
		if (g->slots[i].id == id)
			return &g->slots[i];
	return NULL;
}

/* The slot for new flow id (its own if held already), or NULL when full (a leave went unheard). */
static struct flow_slot *slot_add(struct flow_groups *g, uint64_t id)
{
	size_t i;

	for (i = id & g->slot_mask; g->slots[i].id; i = (i + 1) & g->slot_mask)
		if (g->slots[i].id == id)
			return &g->slots[i];
	if (g->nheld + 1 > g->slot_mask) /* one empty slot always stays: probes stop there */
		return NULL;
	g->nheld++;
	return &g->slots[i];
}

/*
 * Empties slot s, then moves back each later slot of its probe run that
 * would no longer be reached from its home, so no run has a gap.
 */
static void slot_delete(struct flow_groups *g, struct flow_slot *s)
{
	size_t i = (size_t)(s - g->slots), j = i, home;

	for (;;) {
		j = (j + 1) & g->slot_mask;
		if (!g->slots[j].id)
			break;
		home = g->slots[j].id & g->slot_mask;
		if (((j - home) & g->slot_mask) >= ((j - i) & g->slot_mask)) {
			g->slots[i] = g->slots[j];
			i = j;
		}
	}
	g->slots[i].id = 0;
	g->nheld--;
}

static bool ours(const struct flow_groups *g, const struct tft_flow *f)
{
	if (g->kind == FLOW_GROUP_PROCESS)
		return true;
	return f->key.dir == (g->kind == FLOW_GROUP_REMOTE ? TFT_DIR_OUT : TFT_DIR_IN);
}

static bool accepted_state(uint8_t state)
{
	return state == TFT_STATE_ACCEPTED || state == TFT_STATE_ESTABLISHED ||
	       state == TFT_STATE_CLOSED || state == TFT_STATE_HALF_OPEN;
}

/* Figures only grow while a flow lives: the growth since the last sample counted. */
static void count_bytes(struct flow_group *gr, struct flow_slot *s, const struct tft_flow *f)
{
	if (!(f->flags & TFT_FLOW_F_FIGURES))
		return;
	if (f->bytes_in > s->bytes_in) {
		gr->bytes_in += f->bytes_in - s->bytes_in;
		s->bytes_in = f->bytes_in;
	}
	if (f->bytes_out > s->bytes_out) {
		gr->bytes_out += f->bytes_out - s->bytes_out;
		s->bytes_out = f->bytes_out;
	}
}

/*
 * Counts what the flow's state shows that its slot has not counted yet:
 * whatever event carries it (an answer read before its SYN arrives as
 * STATE right after NEW; an unanswered flow may end without a STATE).
 */
static void count_state(struct flow_groups *g, struct flow_group *gr, struct flow_slot *s,
			const struct tft_flow *f, enum tft_flow_change change)
{
	bool half_open = f->state == TFT_STATE_HALF_OPEN;

	if (!(s->counted & SLOT_ANSWERED) &&
	    (f->state == TFT_STATE_REFUSED || accepted_state(f->state))) {
		s->counted |= SLOT_ANSWERED;
		if (f->state == TFT_STATE_REFUSED)
			gr->refused++;
		else
			gr->accepted++;
		/* A flow established by a SYN cookie may have no answer seen: no time. */
		if (f->answer_ns && f->answer_ns >= f->syn_ns &&
		    hdr_hist_add(&gr->hs, (f->answer_ns - f->syn_ns) / 1000))
			g->nomem++;
	}
	if (half_open != !!(s->counted & SLOT_HALF_OPEN)) {
		s->counted ^= SLOT_HALF_OPEN;
		if (half_open)
			gr->half_open++;
		else
			gr->half_open--;
	}
	count_bytes(gr, s, f);
	if (change == TFT_CHANGE_END && !(s->counted & SLOT_ENDED)) {
		s->counted |= SLOT_ENDED;
		/* Refused flows end by a reset too: they count as refused only. */
		if ((f->end == TFT_END_RESET_PEER || f->end == TFT_END_RESET_LOCAL) &&
		    accepted_state(f->state))
			gr->reset++;
	}
}

static void on_changed(void *ctx, const struct tft_flow *f, enum tft_flow_change change,
		       uint64_t at_ns)
{
	struct flow_groups *g = ctx;
	struct flow_group_key k;
	struct flow_group *gr;
	struct flow_slot *s;
	uint32_t gi;

	if (g->tick && at_ns >= g->next_tick)
		flow_groups_advance(g, at_ns);
	if (at_ns > g->now_ns)
		g->now_ns = at_ns;
	if (!ours(g, f))
		return;
	if (change == TFT_CHANGE_NEW) {
		make_key(g, f, &k);
		gi = find_group(g, &k);
		s = gi != NO_GROUP ? slot_add(g, f->id) : NULL;
		if (!s) {
			g->nomem++;
			return;
		}
		*s = (struct flow_slot){.id = f->id, .group = gi};
		gr = &g->groups[gi];
		count_new(g, gr, f, at_ns);
		gr->last_ns = at_ns;
		count_state(g, gr, s, f, change);
		return;
	}
	s = slot_of(g, f->id);
	if (!s)
		return;
	gr = &g->groups[s->group];
	gr->last_ns = at_ns > gr->last_ns ? at_ns : gr->last_ns;
	if (change == TFT_CHANGE_RETRANS)
		gr->retrans++;
	count_state(g, gr, s, f, change);
}

static void on_left(void *ctx, const struct tft_flow *f, enum flow_leave why)
{
	struct flow_groups *g = ctx;
	struct flow_slot *s;

	(void)why;
	if (!ours(g, f) || !(s = slot_of(g, f->id)))
		return;
	if (s->counted & SLOT_HALF_OPEN)
		g->groups[s->group].half_open--;
	slot_delete(g, s);
}

struct flow_sink flow_groups_sink(struct flow_groups *g)
{
	struct flow_sink s = {.changed = on_changed, .left = on_left, .ctx = g};

	return s;
}

enum flow_group_kind flow_groups_kind(const struct flow_groups *g)
{
	return g->kind;
}

size_t flow_groups_count(const struct flow_groups *g)
{
	return g->n;
}

const struct flow_group *flow_groups_at(const struct flow_groups *g, size_t i)
{
	return i < g->n ? &g->groups[i] : NULL;
}

uint64_t flow_groups_now(const struct flow_groups *g)
{
	return g->now_ns;
}

void flow_groups_stats(const struct flow_groups *g, struct flow_groups_stats *out)
{
	out->groups = g->n;
	out->max_groups = g->max;
	out->other_flows = g->other_flows;
	out->nomem = g->nomem;
}

void flow_groups_set_interval(struct flow_groups *g, uint64_t start_ns, uint64_t interval_ns,
			      flow_groups_tick_fn tick, void *ctx)
{
	g->interval = interval_ns ? interval_ns : 1;
	g->next_tick = start_ns + g->interval;
	g->tick = tick;
	g->tick_ctx = ctx;
}

void flow_groups_advance(struct flow_groups *g, uint64_t now_ns)
{
	if (!g->tick)
		return;
	while (now_ns >= g->next_tick) {
		uint64_t at = g->next_tick;

		g->next_tick += g->interval;
		if (at > g->now_ns)
			g->now_ns = at;
		g->tick(g->tick_ctx, at);
	}
}
