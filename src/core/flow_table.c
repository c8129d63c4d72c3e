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

struct slot {
	struct tft_flow flow;
	uint32_t hnext; /* next slot in the same bucket, or NO_SLOT */
};

struct flow_table {
	struct slot *slots; /* owned, capacity entries */
	uint32_t *buckets;  /* owned, nbuckets heads */
	size_t capacity;
	size_t nbuckets; /* power of two */
	size_t head;	 /* slot of the oldest flow */
	size_t count;
	uint64_t next_id; /* id of the next flow created */
	/*
	 * Pending flows held, and of them those created before the last loss
	 * (id <= loss_mark), whose answer may have been lost: O(1) counts kept
	 * on every change, eviction and clear.
	 */
	uint64_t pending, unsure, loss_mark;
	struct flow_table_stats stats;
	flow_table_evict_cb evict_cb;
	void *evict_ctx; /* borrowed */
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
	if (!t->slots || !t->buckets) {
		flow_table_free(t);
		errno = ENOMEM;
		return NULL;
	}
	memset(t->buckets, 0xff, t->nbuckets * sizeof(*t->buckets));
	t->next_id = 1;
	return t;
}

void flow_table_free(struct flow_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t->buckets);
	free(t);
}

/*
 * Keys are built zeroed, so padding is stable. Eight bytes a step with a
 * multiplicative mix: byte-wise FNV was a tenth of the CPU under a storm.
 */
static size_t key_bucket(const struct flow_table *t, const struct tft_flow_key *key)
{
	uint64_t w[(sizeof(*key) + 7) / 8] = {0}, h = 0x9e3779b97f4a7c15ULL;
	size_t i;

	memcpy(w, key, sizeof(*key));
	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		h ^= w[i];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
	}
	return (size_t)(h ^ (h >> 32)) & (t->nbuckets - 1);
}

static bool key_equal(const struct tft_flow_key *a, const struct tft_flow_key *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
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

static void unlink_slot(struct flow_table *t, uint32_t victim)
{
	uint32_t *link = &t->buckets[key_bucket(t, &t->slots[victim].flow.key)];

	while (*link != NO_SLOT) {
		if (*link == victim) {
			*link = t->slots[victim].hnext;
			return;
		}
		link = &t->slots[*link].hnext;
	}
}

/* A pending flow stops being pending here (answered, evicted or cleared). */
static void pending_done(struct flow_table *t, const struct tft_flow *f)
{
	t->pending--;
	if (f->id <= t->loss_mark)
		t->unsure--;
}

static struct tft_flow *insert(struct flow_table *t, const struct tft_flow_key *key)
{
	uint32_t s;
	size_t b;

	if (t->count == t->capacity) {
		const struct tft_flow *old = &t->slots[t->head].flow;

		if (t->evict_cb)
			t->evict_cb(old, t->evict_ctx);
		if (old->state == TFT_STATE_PENDING) {
			t->stats.evicted_pending++;
			pending_done(t, old);
		}
		unlink_slot(t, (uint32_t)t->head);
		t->head = (t->head + 1) % t->capacity;
		t->count--;
		t->stats.evicted++;
	}
	s = (uint32_t)((t->head + t->count) % t->capacity);
	t->count++;
	memset(&t->slots[s].flow, 0, sizeof(t->slots[s].flow));
	t->slots[s].flow.key = *key;
	t->slots[s].flow.id = t->next_id++;
	b = key_bucket(t, key);
	t->slots[s].hnext = t->buckets[b];
	t->buckets[b] = s;
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

	if (ev->family != 4 && ev->family != 6)
		return TFT_CHANGE_NONE;

	if ((ev->flags & (TFT_TCP_SYN | TFT_TCP_ACK | TFT_TCP_RST)) == TFT_TCP_SYN) {
		make_key(&key, ev, false, egress ? TFT_DIR_OUT : TFT_DIR_IN);
		f = (struct tft_flow *)flow_table_find(t, &key);
		if (f && f->isn == ev->seq) {
			if (f->state != TFT_STATE_PENDING)
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
	make_key(&key, ev, true, egress ? TFT_DIR_IN : TFT_DIR_OUT);
	f = (struct tft_flow *)flow_table_find(t, &key);
	if (!f || f->state != TFT_STATE_PENDING || ev->ack != f->isn + 1)
		return TFT_CHANGE_NONE;
	switch (ev->flags & (TFT_TCP_SYN | TFT_TCP_ACK | TFT_TCP_RST)) {
	case TFT_TCP_SYN | TFT_TCP_ACK:
		f->state = TFT_STATE_ACCEPTED;
		t->stats.accepted++;
		break;
	case TFT_TCP_RST | TFT_TCP_ACK:
		f->state = TFT_STATE_REFUSED;
		t->stats.refused++;
		break;
	default:
		return TFT_CHANGE_NONE;
	}
	pending_done(t, f);
	f->answer_ns = ev->ts_ns;
	if (out)
		*out = f;
	return TFT_CHANGE_STATE;
}

size_t flow_table_count(const struct flow_table *t)
{
	return t->count;
}

size_t flow_table_capacity(const struct flow_table *t)
{
	return t->capacity;
}

const struct tft_flow *flow_table_at(const struct flow_table *t, size_t i)
{
	if (i >= t->count)
		return NULL;
	return &t->slots[(t->head + i) % t->capacity].flow;
}

const struct tft_flow *flow_table_by_id(const struct flow_table *t, uint64_t id)
{
	uint64_t oldest;

	if (t->count == 0)
		return NULL;
	oldest = t->slots[t->head].flow.id;
	if (id < oldest || id - oldest >= t->count)
		return NULL;
	return flow_table_at(t, (size_t)(id - oldest));
}

void flow_table_set_evict_cb(struct flow_table *t, flow_table_evict_cb cb, void *ctx)
{
	t->evict_cb = cb;
	t->evict_ctx = ctx;
}

void flow_table_clear(struct flow_table *t)
{
	memset(t->buckets, 0xff, t->nbuckets * sizeof(*t->buckets));
	t->head = 0;
	t->count = 0;
	t->pending = 0;
	t->unsure = 0;
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
