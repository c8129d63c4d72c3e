/*
 * Flows live in a ring of `capacity` slots in creation order, so the oldest
 * is evicted first and a flow's slot follows from its id. A chained hash over
 * slot indexes finds a flow by key; chains put the newest first, so a port
 * reused after an old flow finished finds the new flow.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "flow_table.h"

#define NO_SLOT UINT32_MAX

/*
 * Answers kept aside: at most EARLY_MAX, each for at most EARLY_NS of record
 * time. A SYN read after its answer is one from another CPU's ring that the
 * reader reached later, within one drain or the next (tens of ms).
 */
#define EARLY_MAX 1024u
#define EARLY_BUCKETS 2048u
#define EARLY_NS 2000000000ull

struct early {
	struct tft_flow_key key; /* of the flow it answers */
	uint64_t ts_ns;
	uint32_t ack;
	uint32_t hnext; /* next in the same bucket, or NO_SLOT */
	uint8_t state;	/* TFT_STATE_ACCEPTED or TFT_STATE_REFUSED; PENDING: slot unused */
};

struct slot {
	struct tft_flow flow;
	uint32_t hnext;	       /* next slot in the same key bucket, or NO_SLOT */
	uint32_t inext;	       /* next slot in the same id bucket, or NO_SLOT */
	uint32_t prev, next;   /* creation order; next also links free slots */
	uint32_t eprev, enext; /* end order, while the flow has ended */
	bool used;
	bool in_ended;
};

/* A doubly linked list of slots, through one pair of links. */
struct slot_list {
	uint32_t head, tail;
};

struct flow_table {
	struct slot *slots;   /* owned, capacity entries */
	uint32_t *buckets;    /* owned, nbuckets heads, by key */
	uint32_t *id_buckets; /* owned, nbuckets heads, by id */
	size_t capacity;
	size_t nbuckets; /* power of two */
	size_t count;
	size_t fresh;		/* slots never used: [fresh, capacity) */
	uint32_t free_head;	/* slots used and freed, through next */
	struct slot_list all;	/* every flow, creation order */
	struct slot_list ended; /* flows that ended, end order: evicted first */
	uint64_t next_id;	/* id of the next flow created */
	/*
	 * Pending flows held (unanswered ones included: an answer may still
	 * come), and of them those created before the last loss (id <=
	 * loss_mark), whose answer may have been lost: O(1) counts kept on
	 * every change, eviction and clear.
	 */
	uint64_t pending, unsure, loss_mark;
	struct flow_table_stats stats;
	flow_table_evict_cb evict_cb;
	void *evict_ctx; /* borrowed */
	/* answers read before their SYN: a ring of EARLY_MAX in arrival order, hashed by key */
	struct early *early;	 /* owned */
	uint32_t *early_buckets; /* owned, EARLY_BUCKETS heads */
	size_t early_head, early_count;
	uint64_t newest_ns;	   /* latest record time seen: early answers age against it */
	struct tft_flow *last_new; /* the flow the last apply created, or NULL */
	bool outcomes;		   /* established incoming flows report so */
};

struct flow_table *flow_table_new(size_t capacity)
{
	struct flow_table *t;

	if (capacity == 0 || capacity >= NO_SLOT) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->capacity = capacity;
	t->nbuckets = 16;
	while (t->nbuckets < capacity)
		t->nbuckets <<= 1;
	t->slots = calloc(capacity, sizeof(*t->slots));
	t->buckets = malloc(t->nbuckets * sizeof(*t->buckets));
	t->id_buckets = malloc(t->nbuckets * sizeof(*t->id_buckets));
	t->early = calloc(EARLY_MAX, sizeof(*t->early));
	t->early_buckets = malloc(EARLY_BUCKETS * sizeof(*t->early_buckets));
	if (!t->slots || !t->buckets || !t->id_buckets || !t->early || !t->early_buckets) {
		flow_table_free(t);
		errno = ENOMEM;
		return NULL;
	}
	memset(t->early_buckets, 0xff, EARLY_BUCKETS * sizeof(*t->early_buckets));
	t->next_id = 1;
	flow_table_clear(t);
	return t;
}

void flow_table_free(struct flow_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t->buckets);
	free(t->id_buckets);
	free(t->early);
	free(t->early_buckets);
	free(t);
}

/*
 * Keys are built zeroed, so padding is stable. Eight bytes a step with a
 * multiplicative mix: byte-wise FNV was a tenth of the CPU under a storm.
 */
static uint64_t key_hash(const struct tft_flow_key *key)
{
	uint64_t w[(sizeof(*key) + 7) / 8] = {0}, h = 0x9e3779b97f4a7c15ULL;
	size_t i;

	memcpy(w, key, sizeof(*key));
	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		h ^= w[i];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
	}
	return h ^ (h >> 32);
}

static size_t key_bucket(const struct flow_table *t, const struct tft_flow_key *key)
{
	return (size_t)key_hash(key) & (t->nbuckets - 1);
}

static bool key_equal(const struct tft_flow_key *a, const struct tft_flow_key *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static size_t id_bucket(const struct flow_table *t, uint64_t id)
{
	return (size_t)id & (t->nbuckets - 1); /* ids are consecutive: spread evenly */
}

static struct tft_flow *by_id(const struct flow_table *t, uint64_t id)
{
	uint32_t s;

	for (s = t->id_buckets[id_bucket(t, id)]; s != NO_SLOT; s = t->slots[s].inext)
		if (t->slots[s].flow.id == id)
			return &t->slots[s].flow;
	return NULL;
}

static uint32_t slot_of(const struct flow_table *t, const struct tft_flow *f)
{
	return (uint32_t)((const struct slot *)(const void *)f - t->slots);
}

void flow_table_set_owner(struct flow_table *t, uint64_t id, const struct tft_flow_owner *owner)
{
	struct tft_flow *f = by_id(t, id);

	if (f)
		f->owner = *owner;
}

const struct tft_flow *flow_table_find(const struct flow_table *t, const struct tft_flow_key *key)
{
	uint32_t s;

	for (s = t->buckets[key_bucket(t, key)]; s != NO_SLOT; s = t->slots[s].hnext) {
		if (key_equal(&t->slots[s].flow.key, key))
			return &t->slots[s].flow;
	}
	return NULL;
}

static void unchain(struct flow_table *t, uint32_t *link, uint32_t victim, bool by_key)
{
	while (*link != NO_SLOT) {
		uint32_t *next = by_key ? &t->slots[*link].hnext : &t->slots[*link].inext;

		if (*link == victim) {
			*link = *next;
			return;
		}
		link = next;
	}
}

/* Appends slot s to a list through its creation links (ended: its end links). */
static void list_append(struct flow_table *t, struct slot_list *l, uint32_t s, bool ended)
{
	uint32_t *prev = ended ? &t->slots[s].eprev : &t->slots[s].prev;
	uint32_t *next = ended ? &t->slots[s].enext : &t->slots[s].next;

	*prev = l->tail;
	*next = NO_SLOT;
	if (l->tail == NO_SLOT)
		l->head = s;
	else if (ended)
		t->slots[l->tail].enext = s;
	else
		t->slots[l->tail].next = s;
	l->tail = s;
}

static void list_remove(struct flow_table *t, struct slot_list *l, uint32_t s, bool ended)
{
	uint32_t prev = ended ? t->slots[s].eprev : t->slots[s].prev;
	uint32_t next = ended ? t->slots[s].enext : t->slots[s].next;

	if (prev == NO_SLOT)
		l->head = next;
	else if (ended)
		t->slots[prev].enext = next;
	else
		t->slots[prev].next = next;
	if (next == NO_SLOT)
		l->tail = prev;
	else if (ended)
		t->slots[next].eprev = prev;
	else
		t->slots[next].prev = prev;
}

/* A pending flow stops being pending here (answered, evicted or cleared). */
static void pending_done(struct flow_table *t, const struct tft_flow *f)
{
	t->pending--;
	if (f->id <= t->loss_mark)
		t->unsure--;
}

static bool is_pending(const struct tft_flow *f)
{
	return f->state == TFT_STATE_PENDING || f->state == TFT_STATE_UNANSWERED;
}

/* The flow ended: it joins the eviction order and the counts by end. */
static void ended(struct flow_table *t, struct tft_flow *f, uint8_t end, uint64_t ts_ns)
{
	uint32_t s = slot_of(t, f);

	f->end = end;
	f->end_ns = ts_ns > f->syn_ns ? ts_ns : f->syn_ns;
	t->stats.ends[end]++;
	if (t->slots[s].in_ended)
		list_remove(t, &t->ended, s, true);
	list_append(t, &t->ended, s, true);
	t->slots[s].in_ended = true;
}

/* An ended flow runs again (a late answer): it leaves the eviction order. */
static void reopened(struct flow_table *t, struct tft_flow *f)
{
	uint32_t s = slot_of(t, f);

	if (t->slots[s].in_ended) {
		list_remove(t, &t->ended, s, true);
		t->slots[s].in_ended = false;
	}
	t->stats.ends[f->end]--;
	f->end = TFT_END_NONE;
	f->end_ns = 0;
}

static void drop_slot(struct flow_table *t, uint32_t s)
{
	struct tft_flow *f = &t->slots[s].flow;

	if (is_pending(f))
		pending_done(t, f);
	unchain(t, &t->buckets[key_bucket(t, &f->key)], s, true);
	unchain(t, &t->id_buckets[id_bucket(t, f->id)], s, false);
	list_remove(t, &t->all, s, false);
	if (t->slots[s].in_ended)
		list_remove(t, &t->ended, s, true);
	t->slots[s].used = false;
	t->slots[s].in_ended = false;
	t->slots[s].next = t->free_head;
	t->free_head = s;
	t->count--;
}

/* Makes room: the flow that ended first, else the oldest (open) one. */
static void evict_one(struct flow_table *t)
{
	uint32_t s = t->ended.head != NO_SLOT ? t->ended.head : t->all.head;
	const struct tft_flow *old = &t->slots[s].flow;

	if (t->evict_cb)
		t->evict_cb(old, t->evict_ctx);
	if (is_pending(old))
		t->stats.evicted_pending++;
	else if (old->end == TFT_END_NONE)
		t->stats.evicted_open++;
	t->stats.evicted++;
	drop_slot(t, s);
}

static struct tft_flow *insert(struct flow_table *t, const struct tft_flow_key *key)
{
	uint32_t s;
	size_t b;

	if (t->count == t->capacity)
		evict_one(t);
	if (t->free_head != NO_SLOT) {
		s = t->free_head;
		t->free_head = t->slots[s].next;
	} else {
		s = (uint32_t)t->fresh++;
	}
	t->count++;
	memset(&t->slots[s].flow, 0, sizeof(t->slots[s].flow));
	t->slots[s].used = true;
	t->slots[s].in_ended = false;
	t->slots[s].flow.key = *key;
	t->slots[s].flow.id = t->next_id++;
	b = key_bucket(t, key);
	t->slots[s].hnext = t->buckets[b];
	t->buckets[b] = s;
	b = id_bucket(t, t->slots[s].flow.id);
	t->slots[s].inext = t->id_buckets[b];
	t->id_buckets[b] = s;
	list_append(t, &t->all, s, false);
	return &t->slots[s].flow;
}

static void make_key(struct tft_flow_key *key, const struct tft_tcp_event *ev, bool reverse,
		     uint8_t dir)
{
	size_t alen = ev->family == 4 ? 4 : 16;

	memset(key, 0, sizeof(*key));
	key->family = ev->family;
	key->dir = dir;
	if (!reverse) {
		key->sport = ntohs(ev->sport);
		key->dport = ntohs(ev->dport);
		memcpy(key->saddr, ev->saddr, alen);
		memcpy(key->daddr, ev->daddr, alen);
	} else {
		key->sport = ntohs(ev->dport);
		key->dport = ntohs(ev->sport);
		memcpy(key->saddr, ev->daddr, alen);
		memcpy(key->daddr, ev->saddr, alen);
	}
}

static uint32_t *early_head_of(struct flow_table *t, const struct tft_flow_key *key)
{
	return &t->early_buckets[key_hash(key) & (EARLY_BUCKETS - 1)];
}

/* Takes slot i out of its hash chain and marks it unused (it stays in the ring until the head). */
static void early_forget(struct flow_table *t, uint32_t i)
{
	uint32_t *link = early_head_of(t, &t->early[i].key);

	while (*link != NO_SLOT) {
		if (*link == i) {
			*link = t->early[i].hnext;
			break;
		}
		link = &t->early[*link].hnext;
	}
	t->early[i].state = TFT_STATE_PENDING;
}

/* Drops the oldest while full or too old (the ring is in arrival order, close to time order). */
static void early_expire(struct flow_table *t, bool make_room)
{
	while (t->early_count > 0) {
		struct early *e = &t->early[t->early_head];

		if (e->state != TFT_STATE_PENDING && !(make_room && t->early_count == EARLY_MAX) &&
		    e->ts_ns + EARLY_NS >= t->newest_ns)
			break;
		if (e->state != TFT_STATE_PENDING)
			early_forget(t, (uint32_t)t->early_head);
		t->early_head = (t->early_head + 1) % EARLY_MAX;
		t->early_count--;
	}
}

static void early_keep(struct flow_table *t, const struct tft_flow_key *key, uint8_t state,
		       uint32_t ack, uint64_t ts_ns)
{
	uint32_t i, *head;

	early_expire(t, true);
	i = (uint32_t)((t->early_head + t->early_count) % EARLY_MAX);
	t->early_count++;
	head = early_head_of(t, key);
	t->early[i] = (struct early){.key = *key, .ts_ns = ts_ns, .ack = ack, .state = state};
	t->early[i].hnext = *head;
	*head = i;
}

/* The kept answer to flow f (same key, acknowledging its SYN), or NO_SLOT. */
static uint32_t early_find(struct flow_table *t, const struct tft_flow *f)
{
	uint32_t i;

	for (i = *early_head_of(t, &f->key); i != NO_SLOT; i = t->early[i].hnext)
		if (t->early[i].ack == f->isn + 1 && key_equal(&t->early[i].key, &f->key))
			return i;
	return NO_SLOT;
}

static void answer(struct flow_table *t, struct tft_flow *f, uint8_t state, uint64_t ts_ns)
{
	pending_done(t, f);
	if (f->end != TFT_END_NONE)
		reopened(t, f); /* unanswered until now */
	f->state = state;
	f->answer_ns = ts_ns;
	if (state == TFT_STATE_ACCEPTED) {
		t->stats.accepted++;
		return;
	}
	t->stats.refused++;
	ended(t, f, f->key.dir == TFT_DIR_OUT ? TFT_END_RESET_PEER : TFT_END_RESET_LOCAL, ts_ns);
}

/*
 * A RST arriving after the handshake: the peer reset the flow, whichever way
 * it was opened. The socket's close record, read next, says it ended.
 */
static bool mark_reset_in(struct flow_table *t, const struct tft_tcp_event *ev)
{
	struct tft_flow_key key;
	struct tft_flow *f;

	make_key(&key, ev, true, TFT_DIR_OUT);
	f = (struct tft_flow *)flow_table_find(t, &key);
	if (!f) {
		make_key(&key, ev, false, TFT_DIR_IN);
		f = (struct tft_flow *)flow_table_find(t, &key);
	}
	if (!f || is_pending(f) || f->end != TFT_END_NONE)
		return false;
	f->flags |= TFT_FLOW_F_RST_IN;
	return true;
}

/*
 * A SYN leaving is an outgoing flow, one arriving an incoming flow; the answer
 * travels the other way, so a SYN-ACK or RST seen on ingress answers an
 * outgoing flow and is keyed with its addresses swapped.
 */
enum tft_flow_change flow_table_apply(struct flow_table *t, const struct tft_tcp_event *ev,
				      const struct tft_flow **out)
{
	bool egress = ev->hook == TFT_HOOK_EGRESS;
	struct tft_flow_key key;
	struct tft_flow *f;
	uint8_t state;

	t->last_new = NULL;
	if (ev->family != 4 && ev->family != 6)
		return TFT_CHANGE_NONE;
	if (ev->ts_ns > t->newest_ns)
		t->newest_ns = ev->ts_ns;

	if ((ev->flags & (TFT_TCP_SYN | TFT_TCP_ACK | TFT_TCP_RST)) == TFT_TCP_SYN) {
		make_key(&key, ev, false, egress ? TFT_DIR_OUT : TFT_DIR_IN);
		f = (struct tft_flow *)flow_table_find(t, &key);
		if (f && f->isn == ev->seq) {
			if (!is_pending(f))
				return TFT_CHANGE_NONE; /* a late duplicate */
			f->syn_retrans++;
			t->stats.retrans++;
			if (out)
				*out = f;
			return TFT_CHANGE_RETRANS;
		}
		f = insert(t, &key);
		t->pending++;
		f->syn_ns = ev->ts_ns;
		f->isn = ev->seq;
		t->last_new = f;
		t->stats.seen++;
		if (egress)
			t->stats.seen_out++;
		else
			t->stats.seen_in++;
		if (out)
			*out = f;
		return TFT_CHANGE_NEW;
	}

	/* An answer: SYN-ACK, or RST-ACK, acknowledging the SYN. */
	switch (ev->flags & (TFT_TCP_SYN | TFT_TCP_ACK | TFT_TCP_RST)) {
	case TFT_TCP_SYN | TFT_TCP_ACK:
		state = TFT_STATE_ACCEPTED;
		break;
	case TFT_TCP_RST | TFT_TCP_ACK:
		state = TFT_STATE_REFUSED;
		break;
	case TFT_TCP_RST:
		if (!egress)
			mark_reset_in(t, ev);
		return TFT_CHANGE_NONE;
	default:
		return TFT_CHANGE_NONE;
	}
	make_key(&key, ev, true, egress ? TFT_DIR_IN : TFT_DIR_OUT);
	f = (struct tft_flow *)flow_table_find(t, &key);
	if (!(f && is_pending(f) && ev->ack == f->isn + 1) && state == TFT_STATE_REFUSED &&
	    !egress && mark_reset_in(t, ev))
		return TFT_CHANGE_NONE; /* a reset after the handshake */
	if (!f || !is_pending(f) || ev->ack != f->isn + 1) {
		/* Perhaps its SYN is still to be read: keep it aside for a while. */
		early_keep(t, &key, state, ev->ack, ev->ts_ns);
		return TFT_CHANGE_NONE;
	}
	answer(t, f, state, ev->ts_ns);
	if (out)
		*out = f;
	return TFT_CHANGE_STATE;
}

enum tft_flow_change flow_table_apply_early(struct flow_table *t, const struct tft_flow **out,
					    uint64_t *at_ns)
{
	struct tft_flow *f = t->last_new;
	uint32_t i;

	t->last_new = NULL;
	if (!f || t->early_count == 0)
		return TFT_CHANGE_NONE;
	early_expire(t, false);
	i = early_find(t, f);
	if (i == NO_SLOT)
		return TFT_CHANGE_NONE;
	/* Never before the SYN: its stamp and the answer's may come from different clocks' reads.
	 */
	answer(t, f, t->early[i].state,
	       t->early[i].ts_ns > f->syn_ns ? t->early[i].ts_ns : f->syn_ns);
	early_forget(t, i);
	if (out)
		*out = f;
	if (at_ns)
		*at_ns = f->answer_ns;
	return TFT_CHANGE_STATE;
}

static void sock_key(struct tft_flow_key *key, const struct tft_sock_event *ev, uint8_t dir)
{
	size_t alen = ev->family == 4 ? 4 : 16;

	memset(key, 0, sizeof(*key));
	key->family = ev->family;
	key->dir = dir;
	if (dir == TFT_DIR_OUT) {
		key->sport = ntohs(ev->lport);
		key->dport = ntohs(ev->rport);
		memcpy(key->saddr, ev->laddr, alen);
		memcpy(key->daddr, ev->raddr, alen);
	} else {
		key->sport = ntohs(ev->rport);
		key->dport = ntohs(ev->lport);
		memcpy(key->saddr, ev->raddr, alen);
		memcpy(key->daddr, ev->laddr, alen);
	}
}

/*
 * The socket's counters as the flow's figures. They count sequence space:
 * the connecting end's bytes_acked its SYN (the accepting end's not its
 * SYN-ACK), both the FINs, sent and acknowledged or received; payload is
 * what is left. total_retrans counts SYNs sent again too.
 */
static void take_figures(struct tft_flow *f, const struct tft_sock_event *ev)
{
	uint64_t out = ev->bytes_acked, in = ev->bytes_received;
	uint32_t syns = f->key.dir == TFT_DIR_OUT ? f->syn_retrans : 0;

	if (out > 0 && f->key.dir == TFT_DIR_OUT)
		out--; /* the SYN */
	if (ev->end == TFT_SOCK_END_FIN_LOCAL || ev->end == TFT_SOCK_END_FIN_PEER) {
		if (out > 0)
			out--; /* our FIN, acknowledged */
		if (in > 0)
			in--; /* theirs */
	}
	f->bytes_in = in;
	f->bytes_out = out;
	f->segs_in = ev->segs_in;
	f->segs_out = ev->segs_out;
	f->rtt_us = ev->srtt_us;
	f->data_retrans = ev->total_retrans > syns ? ev->total_retrans - syns : 0;
	f->flags |= TFT_FLOW_F_FIGURES;
}

static uint8_t flow_end(const struct tft_flow *f, uint8_t sock_end)
{
	switch (sock_end) {
	case TFT_SOCK_END_FIN_LOCAL:
		return TFT_END_FIN_LOCAL;
	case TFT_SOCK_END_FIN_PEER:
		return TFT_END_FIN_PEER;
	case TFT_SOCK_END_RESET_PEER:
		return TFT_END_RESET_PEER;
	case TFT_SOCK_END_TIMEOUT:
		return TFT_END_TIMEOUT;
	default:
		return f->flags & TFT_FLOW_F_RST_IN ? TFT_END_RESET_PEER : TFT_END_RESET_LOCAL;
	}
}

/* An incoming flow's handshake completed; without a SYN-ACK seen, a SYN cookie answered it. */
static void established(struct flow_table *t, struct tft_flow *f, uint64_t ts_ns)
{
	if (is_pending(f)) {
		answer(t, f, TFT_STATE_ACCEPTED, ts_ns);
		f->flags |= TFT_FLOW_F_SYNCOOKIE;
		t->stats.syncookies++;
	} else if (f->end != TFT_END_NONE) {
		if (f->state == TFT_STATE_HALF_OPEN)
			t->stats.half_open--; /* its final ACK came after all */
		reopened(t, f);
	}
	f->state = TFT_STATE_ESTABLISHED;
	t->stats.established++;
}

enum tft_flow_change flow_table_apply_sock(struct flow_table *t, const struct tft_sock_event *ev,
					   const struct tft_flow **out)
{
	struct tft_flow_key key;
	struct tft_flow *f;

	t->last_new = NULL;
	if (ev->family != 4 && ev->family != 6)
		return TFT_CHANGE_NONE;
	if (ev->ts_ns > t->newest_ns)
		t->newest_ns = ev->ts_ns;
	if (ev->op == TFT_SOCK_ESTABLISHED) {
		sock_key(&key, ev, TFT_DIR_IN);
		f = (struct tft_flow *)flow_table_find(t, &key);
		if (!f || f->state == TFT_STATE_ESTABLISHED || f->state == TFT_STATE_CLOSED ||
		    f->state == TFT_STATE_REFUSED)
			return TFT_CHANGE_NONE;
		established(t, f, ev->ts_ns);
		if (out)
			*out = f;
		return TFT_CHANGE_STATE;
	}
	if (ev->op != TFT_SOCK_CLOSED)
		return TFT_CHANGE_NONE;
	/* Which end the socket was is not in the record: its flow is one of the two keys. */
	sock_key(&key, ev, TFT_DIR_OUT);
	f = (struct tft_flow *)flow_table_find(t, &key);
	if (!f) {
		sock_key(&key, ev, TFT_DIR_IN);
		f = (struct tft_flow *)flow_table_find(t, &key);
	}
	if (!f || f->state == TFT_STATE_CLOSED || f->state == TFT_STATE_REFUSED)
		return TFT_CHANGE_NONE;
	if (is_pending(f))
		return TFT_CHANGE_NONE; /* its answer was lost: closed without ever being accepted
					 */
	if (f->end != TFT_END_NONE)
		reopened(t, f); /* half-open until now */
	take_figures(f, ev);
	f->flags &= (uint8_t)~TFT_FLOW_F_IDLE;
	f->state = TFT_STATE_CLOSED;
	ended(t, f, flow_end(f, ev->end), ev->ts_ns);
	if (out)
		*out = f;
	return TFT_CHANGE_END;
}

void flow_table_set_outcomes(struct flow_table *t, bool on)
{
	t->outcomes = on;
}

void flow_table_expire(struct flow_table *t, uint64_t now_ns, const struct flow_timeouts *to,
		       flow_table_change_cb cb, void *ctx)
{
	uint32_t s, next;

	for (s = t->all.head; s != NO_SLOT; s = next) {
		struct tft_flow *f = &t->slots[s].flow;

		next = t->slots[s].next;
		if (f->end != TFT_END_NONE)
			continue;
		if (f->state == TFT_STATE_PENDING && now_ns >= f->syn_ns + to->syn_ns) {
			f->state = TFT_STATE_UNANSWERED;
			ended(t, f, TFT_END_TIMEOUT, now_ns);
		} else if (t->outcomes && f->state == TFT_STATE_ACCEPTED &&
			   f->key.dir == TFT_DIR_IN && f->id > t->loss_mark &&
			   now_ns >= f->answer_ns + to->half_open_ns) {
			f->state = TFT_STATE_HALF_OPEN;
			t->stats.half_open++;
			ended(t, f, TFT_END_HALF_OPEN, now_ns);
		} else {
			continue;
		}
		if (cb)
			cb(f, TFT_CHANGE_END, ctx);
	}
}

enum tft_flow_change flow_table_sample(struct flow_table *t, const struct tft_flow_key *key,
				       const struct flow_sample *smp, const struct tft_flow **out)
{
	struct tft_flow *f = (struct tft_flow *)flow_table_find(t, key);
	uint32_t syns;
	bool was_idle;

	if (!f || f->end != TFT_END_NONE || is_pending(f))
		return TFT_CHANGE_NONE;
	f->bytes_in = smp->bytes_in;
	f->bytes_out = smp->bytes_out;
	f->segs_in = smp->segs_in;
	f->segs_out = smp->segs_out;
	f->rtt_us = smp->rtt_us;
	/* As at the close: SYNs sent again are not data retransmissions. */
	syns = f->key.dir == TFT_DIR_OUT ? f->syn_retrans : 0;
	f->data_retrans = smp->retrans > syns ? smp->retrans - syns : 0;
	f->flags |= TFT_FLOW_F_FIGURES;
	was_idle = f->flags & TFT_FLOW_F_IDLE;
	if (was_idle == smp->idle)
		return TFT_CHANGE_NONE;
	if (smp->idle)
		f->flags |= TFT_FLOW_F_IDLE;
	else
		f->flags &= (uint8_t)~TFT_FLOW_F_IDLE;
	if (out)
		*out = f;
	return TFT_CHANGE_UPDATE;
}

size_t flow_table_count(const struct flow_table *t)
{
	return t->count;
}

size_t flow_table_capacity(const struct flow_table *t)
{
	return t->capacity;
}

const struct tft_flow *flow_table_first(const struct flow_table *t)
{
	return t->all.head == NO_SLOT ? NULL : &t->slots[t->all.head].flow;
}

const struct tft_flow *flow_table_next(const struct flow_table *t, const struct tft_flow *f)
{
	uint32_t next = t->slots[slot_of(t, f)].next;

	return next == NO_SLOT ? NULL : &t->slots[next].flow;
}

size_t flow_table_slots(const struct flow_table *t)
{
	return t->fresh;
}

const struct tft_flow *flow_table_slot(const struct flow_table *t, size_t i)
{
	if (i >= t->fresh || !t->slots[i].used)
		return NULL;
	return &t->slots[i].flow;
}

const struct tft_flow *flow_table_by_id(const struct flow_table *t, uint64_t id)
{
	return by_id(t, id);
}

void flow_table_set_evict_cb(struct flow_table *t, flow_table_evict_cb cb, void *ctx)
{
	t->evict_cb = cb;
	t->evict_ctx = ctx;
}

void flow_table_clear(struct flow_table *t)
{
	memset(t->buckets, 0xff, t->nbuckets * sizeof(*t->buckets));
	memset(t->id_buckets, 0xff, t->nbuckets * sizeof(*t->id_buckets));
	t->fresh = 0;
	t->free_head = NO_SLOT;
	t->all.head = t->all.tail = NO_SLOT;
	t->ended.head = t->ended.tail = NO_SLOT;
	t->count = 0;
	t->pending = 0;
	t->unsure = 0;
	t->last_new = NULL;
}

const struct flow_table_stats *flow_table_stats(const struct flow_table *t)
{
	return &t->stats;
}

void flow_table_mark_loss(struct flow_table *t)
{
	t->loss_mark = t->next_id - 1;
	t->unsure = t->pending;
}

uint64_t flow_table_unanswered(const struct flow_table *t)
{
	return t->pending - t->unsure;
}

uint64_t flow_table_unsure(const struct flow_table *t)
{
	return t->unsure;
}
