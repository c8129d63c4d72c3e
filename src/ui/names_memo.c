/* names_memo: one provider question per distinct address per frame (see the header). */
#include "names_memo.h"

#include <stdlib.h>
#include <string.h>

struct memo_entry {
	uint8_t family;
	uint8_t addr[16];
	uint32_t text; /* offset of the NUL-terminated names text in the arena */
};

struct names_memo {
	const struct names_provider *inner;
	struct memo_entry *entries;
	size_t n, entries_cap;
	uint32_t *slots;  /* open addressing: entry index + 1, 0 is empty */
	size_t slots_cap; /* a power of two, at least twice n */
	char *arena;
	size_t arena_len, arena_cap;
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
	free(m->slots);
	free(m->arena);
	free(m);
}

void names_memo_reset(struct names_memo *m, const struct names_provider *inner)
{
	m->inner = inner;
	m->n = 0;
	m->arena_len = 0;
	if (m->slots)
		memset(m->slots, 0, m->slots_cap * sizeof(*m->slots));
}

static size_t slot_of(uint8_t family, const uint8_t *addr, size_t cap)
{
	uint64_t a, b;

	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	a = (a ^ (b * 0x9e3779b97f4a7c15ull) ^ family) * 0xff51afd7ed558ccdull;
	return (size_t)(a ^ (a >> 29)) & (cap - 1);
}

static int grow_slots(struct names_memo *m)
{
	size_t cap = m->slots_cap ? 2 * m->slots_cap : 256, i;
	uint32_t *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -1;
	for (i = 0; i < m->n; i++) {
		size_t s = slot_of(m->entries[i].family, m->entries[i].addr, cap);

		while (slots[s])
			s = (s + 1) & (cap - 1);
		slots[s] = (uint32_t)i + 1;
	}
	free(m->slots);
	m->slots = slots;
	m->slots_cap = cap;
	return 0;
}

/* Appends the inner provider's text for addr to the arena; its offset, or -1. */
static long ask_inner(struct names_memo *m, uint8_t family, const uint8_t *addr)
{
	char buf[NAMES_MEMO_TEXT_MAX];
	size_t len, at = m->arena_len;

	len = strlen(names_provider_lookup(m->inner, family, addr, buf, sizeof(buf)));
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
	memcpy(m->arena + at, buf, len + 1);
	m->arena_len += len + 1;
	return (long)at;
}

long names_memo_index(struct names_memo *m, uint8_t family, const uint8_t *addr)
{
	struct memo_entry *e;
	size_t s;
	long text;

	if (2 * (m->n + 1) > m->slots_cap && grow_slots(m))
		return -1;
	for (s = slot_of(family, addr, m->slots_cap); m->slots[s];
	     s = (s + 1) & (m->slots_cap - 1)) {
		e = &m->entries[m->slots[s] - 1];
		if (e->family == family && !memcmp(e->addr, addr, 16))
			return (long)(m->slots[s] - 1);
	}
	if (m->n == m->entries_cap) {
		size_t cap = m->entries_cap ? 2 * m->entries_cap : 128;
		struct memo_entry *entries = realloc(m->entries, cap * sizeof(*entries));

		if (!entries)
			return -1;
		m->entries = entries;
		m->entries_cap = cap;
	}
	text = ask_inner(m, family, addr);
	if (text < 0)
		return -1;
	e = &m->entries[m->n];
	e->family = family;
	memcpy(e->addr, addr, 16);
	e->text = (uint32_t)text;
	m->slots[s] = (uint32_t)++m->n;
	return (long)(m->n - 1);
}

size_t names_memo_count(const struct names_memo *m)
{
	return m->n;
}

const char *names_memo_text(const struct names_memo *m, size_t index)
{
	return index < m->n ? m->arena + m->entries[index].text : "";
}

static size_t memo_names_for(void *ctx, uint8_t family, const uint8_t *addr, char *buf, size_t size)
{
	struct names_memo *m = ctx;
	long i = names_memo_index(m, family, addr);
	size_t len;

	if (i < 0)
		return strlen(names_provider_lookup(m->inner, family, addr, buf, size));
	len = strlen(names_memo_text(m, (size_t)i));
	if (len >= size)
		len = size - 1;
	memcpy(buf, names_memo_text(m, (size_t)i), len);
	buf[len] = '\0';
	return len;
}

struct names_provider names_memo_provider(struct names_memo *m)
{
	struct names_provider none = {NULL, NULL, NULL};
	struct names_provider p = {memo_names_for, m, NULL};

	if (!m->inner || !m->inner->names_for)
		return none;
	p.source = m->inner->source;
	return p;
}
