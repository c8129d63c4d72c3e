/* names_memo: one provider question per distinct address per frame (see the header). */
#include "names_memo.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "flow_fields.h"

/* A kept memo is dropped after this long anyway: a name past its TTL shows no longer. */
#define KEEP_NS (5ull * 1000000000ull)
/* ... or once it holds this many addresses: flows come and go, their addresses stay. */
#define KEEP_MAX_ENTRIES 262144
/* Flows whose two ends' indexes are remembered, by id: a direct-mapped table. */
#define FLOW_SLOTS_BITS 17

/* The indexes of one flow's ends; id 0 is empty (ids start at 1). */
struct flow_slot {
	uint64_t id;
	int32_t index[2]; /* [0] destination, [1] source; -1 not asked yet */
};

/* One name in the arena. */
struct memo_name {
	uint32_t off, len;
	uint8_t source;
};

struct memo_entry {
	uint8_t family;
	uint8_t addr[16];
	uint8_t n;	/* names */
	uint32_t names; /* index of the first in the names array */
	uint32_t text;	/* offset of the NUL-terminated escaped text in the arena */
	struct names_memo_marks marks;
};

/* The address in two words, so a probe compares without memcmp or a trip to the entry. */
struct memo_slot {
	uint64_t a, b;
	uint32_t index; /* entry index + 1, 0 is empty */
	uint8_t family;
};

struct names_memo {
	const struct names_provider *inner;
	struct names_provider last; /* the provider the entries came from */
	uint64_t generation;	    /* its generation then */
	uint64_t since_ns;	    /* when the entries started */
	uint64_t epoch;		    /* forgets so far */
	struct flow_slot *flows;    /* owned, 1 << FLOW_SLOTS_BITS, allocated on first use */
	struct memo_entry *entries;
	struct names_memo_marks *marks; /* apart and small: a filter reads them every row */
	size_t n, entries_cap;
	struct memo_name *names; /* every entry's names, in order */
	size_t names_n, names_cap;
	struct memo_slot *slots; /* open addressing, keyed in place: one cache line a probe */
	size_t slots_cap;	 /* a power of two, at least twice n */
	char *arena;
	size_t arena_len, arena_cap;
	/*
	 * The two addresses asked last: a filter asks for a row's source then
	 * its destination, and most rows share one end (this host).
	 */
	struct memo_slot recent[2];
	unsigned recent_next; /* which of them a miss replaces */
};

struct names_memo *names_memo_new(void)
{
	return calloc(1, sizeof(struct names_memo));
}

void names_memo_free(struct names_memo *m)
{
	if (!m)
		return;
	free(m->entries);
	free(m->marks);
	free(m->names);
	free(m->slots);
	free(m->arena);
	free(m->flows);
	free(m);
}

/* Whether the entries of the last frame still hold for inner. */
static bool still_valid(const struct names_memo *m, const struct names_provider *inner,
			uint64_t now)
{
	return inner && inner->generation && m->n && m->n < KEEP_MAX_ENTRIES &&
	       inner->names_for == m->last.names_for && inner->ctx == m->last.ctx &&
	       inner->generation == m->last.generation &&
	       inner->generation(inner->ctx) == m->generation && now - m->since_ns < KEEP_NS;
}

void names_memo_reset(struct names_memo *m, const struct names_provider *inner)
{
	uint64_t now = clock_mono_coarse_ns();

	if (still_valid(m, inner, now)) {
		m->inner = inner;
		memset(m->marks, 0, m->n * sizeof(*m->marks)); /* the filter may have changed */
		return;
	}
	m->inner = inner;
	if (inner) {
		m->last = *inner;
		m->generation = inner->generation ? inner->generation(inner->ctx) : 0;
	}
	m->since_ns = now;
	m->epoch++;
	if (m->flows)
		memset(m->flows, 0, sizeof(*m->flows) << FLOW_SLOTS_BITS);
	m->n = 0;
	m->names_n = 0;
	m->arena_len = 0;
	memset(m->recent, 0, sizeof(m->recent));
	if (m->slots)
		memset(m->slots, 0, m->slots_cap * sizeof(*m->slots));
}

static size_t slot_of(uint8_t family, uint64_t a, uint64_t b, size_t cap)
{
	a = (a ^ (b * 0x9e3779b97f4a7c15ull) ^ family) * 0xff51afd7ed558ccdull;
	return (size_t)(a ^ (a >> 29)) & (cap - 1);
}

static int grow_slots(struct names_memo *m)
{
	size_t cap = m->slots_cap ? 2 * m->slots_cap : 256, i;
	struct memo_slot *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -1;
	for (i = 0; i < m->n; i++) {
		const struct memo_entry *e = &m->entries[i];
		uint64_t a, b;
		size_t s;

		memcpy(&a, e->addr, 8);
		memcpy(&b, e->addr + 8, 8);
		s = slot_of(e->family, a, b, cap);
		while (slots[s].index)
			s = (s + 1) & (cap - 1);
		slots[s] = (struct memo_slot){a, b, (uint32_t)i + 1, e->family};
	}
	free(m->slots);
	m->slots = slots;
	m->slots_cap = cap;
	return 0;
}

/* Copies len bytes and a NUL into the arena; the offset, or -1. */
static long arena_put(struct names_memo *m, const char *s, size_t len)
{
	size_t at = m->arena_len;

	if (m->arena_len + len + 1 > m->arena_cap) {
		size_t cap = m->arena_cap ? 2 * m->arena_cap : 4096;
		char *arena;

		while (cap < m->arena_len + len + 1)
			cap *= 2;
		if (cap > UINT32_MAX || !(arena = realloc(m->arena, cap)))
			return -1;
		m->arena = arena;
		m->arena_cap = cap;
	}
	memcpy(m->arena + at, s, len);
	m->arena[at + len] = '\0';
	m->arena_len += len + 1;
	return (long)at;
}

/* Asks inner for addr's names and keeps them, and their text, in e. 0 or -1. */
static int ask_inner(struct names_memo *m, struct memo_entry *e, uint8_t family,
		     const uint8_t *addr)
{
	static char text[NAMES_MEMO_TEXT_MAX];
	struct names_list l;
	size_t i;
	long off;

	names_provider_lookup(m->inner, family, addr, &l);
	if (m->names_n + l.n > m->names_cap) {
		size_t cap = m->names_cap ? 2 * m->names_cap : 256;
		struct memo_name *names;

		while (cap < m->names_n + l.n)
			cap *= 2;
		names = realloc(m->names, cap * sizeof(*names));
		if (!names)
			return -1;
		m->names = names;
		m->names_cap = cap;
	}
	flow_names_text(&l, ",", 0, text, sizeof(text));
	off = arena_put(m, text, strlen(text));
	if (off < 0)
		return -1;
	e->text = (uint32_t)off;
	e->names = (uint32_t)m->names_n;
	e->n = (uint8_t)l.n;
	for (i = 0; i < l.n; i++) {
		struct memo_name *nm = &m->names[m->names_n + i];

		off = arena_put(m, l.e[i].name, l.e[i].len);
		if (off < 0)
			return -1;
		nm->off = (uint32_t)off;
		nm->len = (uint32_t)l.e[i].len;
		nm->source = (uint8_t)l.e[i].source;
	}
	m->names_n += l.n;
	return 0;
}

long names_memo_index(struct names_memo *m, uint8_t family, const uint8_t *addr)
{
	struct memo_entry *e;
	uint64_t a, b;
	size_t s;

	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	for (s = 0; s < 2; s++) {
		const struct memo_slot *r = &m->recent[s];

		if (r->index && r->a == a && r->b == b && r->family == family) {
			m->recent_next = (unsigned)s ^ 1; /* keep this one, replace the other */
			return (long)(r->index - 1);
		}
	}
	if (2 * (m->n + 1) > m->slots_cap && grow_slots(m))
		return -1;
	for (s = slot_of(family, a, b, m->slots_cap); m->slots[s].index;
	     s = (s + 1) & (m->slots_cap - 1)) {
		const struct memo_slot *sl = &m->slots[s];

		if (sl->a == a && sl->b == b && sl->family == family) {
			m->recent[m->recent_next] = *sl;
			m->recent_next ^= 1;
			return (long)(sl->index - 1);
		}
	}
	if (m->n == m->entries_cap) {
		size_t cap = m->entries_cap ? 2 * m->entries_cap : 128;
		struct memo_entry *entries = realloc(m->entries, cap * sizeof(*entries));
		struct names_memo_marks *marks;

		if (!entries)
			return -1;
		m->entries = entries;
		marks = realloc(m->marks, cap * sizeof(*marks));
		if (!marks)
			return -1;
		m->marks = marks;
		m->entries_cap = cap;
	}
	e = &m->entries[m->n];
	memset(e, 0, sizeof(*e));
	memset(&m->marks[m->n], 0, sizeof(m->marks[0]));
	if (ask_inner(m, e, family, addr))
		return -1;
	e->family = family;
	memcpy(e->addr, addr, 16);
	m->slots[s] = (struct memo_slot){a, b, (uint32_t)++m->n, family};
	return (long)(m->n - 1);
}

void names_memo_prefetch(const struct names_memo *m, uint8_t family, const uint8_t *addr)
{
	uint64_t a, b;

	if (!m->slots_cap)
		return;
	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	__builtin_prefetch(&m->slots[slot_of(family, a, b, m->slots_cap)]);
}

uint64_t names_memo_epoch(const struct names_memo *m)
{
	return m->epoch;
}

long names_memo_flow_index(struct names_memo *m, const struct tft_flow *f, bool src)
{
	struct flow_slot *s;
	long i;

	if (!m->flows && !(m->flows = calloc((size_t)1 << FLOW_SLOTS_BITS, sizeof(*m->flows))))
		return names_memo_index(m, f->key.family, src ? f->key.saddr : f->key.daddr);
	s = &m->flows[f->id & (((uint64_t)1 << FLOW_SLOTS_BITS) - 1)];
	if (s->id != f->id) {
		s->id = f->id;
		s->index[0] = s->index[1] = -1;
	}
	if (s->index[src] >= 0)
		return s->index[src];
	i = names_memo_index(m, f->key.family, src ? f->key.saddr : f->key.daddr);
	s->index[src] = (int32_t)i;
	return i;
}

void names_memo_flow_prefetch(const struct names_memo *m, const struct tft_flow *f, bool src)
{
	const struct flow_slot *s;

	if (m->flows) {
		s = &m->flows[f->id & (((uint64_t)1 << FLOW_SLOTS_BITS) - 1)];
		if (s->id == f->id && s->index[src] >= 0)
			return; /* known: no probe to prepare */
	}
	names_memo_prefetch(m, f->key.family, src ? f->key.saddr : f->key.daddr);
}

size_t names_memo_count(const struct names_memo *m)
{
	return m->n;
}

const char *names_memo_text(const struct names_memo *m, size_t index)
{
	return index < m->n ? m->arena + m->entries[index].text : "";
}

const struct names_list *names_memo_list(const struct names_memo *m, size_t index,
					 struct names_list *out)
{
	size_t i;

	out->n = 0;
	if (index >= m->n)
		return out;
	for (i = 0; i < m->entries[index].n; i++) {
		const struct memo_name *nm = &m->names[m->entries[index].names + i];

		out->e[i].name = m->arena + nm->off;
		out->e[i].len = nm->len;
		out->e[i].source = (enum dns_name_source)nm->source;
	}
	out->n = m->entries[index].n;
	return out;
}

const uint8_t *names_memo_addr(const struct names_memo *m, size_t index, uint8_t *family)
{
	*family = m->entries[index].family;
	return m->entries[index].addr;
}

struct names_memo_marks *names_memo_marks(struct names_memo *m, size_t index)
{
	return index < m->n ? &m->marks[index] : NULL;
}

static size_t memo_names_for(void *ctx, uint8_t family, const uint8_t *addr, struct names_list *out)
{
	struct names_memo *m = ctx;
	long i = names_memo_index(m, family, addr);

	if (i < 0)
		return names_provider_lookup(m->inner, family, addr, out)->n;
	return names_memo_list(m, (size_t)i, out)->n;
}

struct names_provider names_memo_provider(struct names_memo *m)
{
	struct names_provider none = {NULL, NULL, NULL, NULL};
	struct names_provider p = {memo_names_for, m, NULL, NULL};

	if (!m->inner || !m->inner->names_for)
		return none;
	p.source = m->inner->source;
	return p;
}
