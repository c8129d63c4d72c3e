/*
 * The per-frame names memo: one question per address, stable indexes, growth,
 * reset; kept across frames while the provider's generation stays, with
 * each flow's ends remembered by id.
 */
#include <stdint.h>

#include "../t.h"
#include "names_memo.h"

static unsigned asked;

/*
 * "h<a>.<b>" for 10.0.a.b, nothing for addresses ending in 0; IPv6 the same
 * from its last bytes, plus a PTR name.
 */
static size_t numbered(void *ctx, uint8_t family, const uint8_t *addr, struct names_list *out)
{
	static char buf[2][64];
	int last = family == 4 ? 3 : 15;

	(void)ctx;
	asked++;
	out->n = 0;
	if (!addr[last])
		return 0;
	snprintf(buf[0], sizeof(buf[0]), "h%u.%u%s", addr[last - 1], addr[last],
		 family == 6 ? ".v6" : "");
	out->e[out->n++] = (struct names_entry){buf[0], strlen(buf[0]), TFT_NAME_DNS};
	if (family == 6) {
		snprintf(buf[1], sizeof(buf[1]), "p,%u", addr[last]);
		out->e[out->n++] = (struct names_entry){buf[1], strlen(buf[1]), TFT_NAME_PTR};
	}
	return out->n;
}

static uint64_t generation;

static uint64_t numbered_generation(void *ctx)
{
	(void)ctx;
	return generation;
}

static void addr_of(unsigned i, uint8_t family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (family == 4) {
		addr[0] = 10, addr[2] = (uint8_t)(i >> 8), addr[3] = (uint8_t)i;
	} else {
		addr[0] = 0xfd, addr[14] = (uint8_t)(i >> 8), addr[15] = (uint8_t)i;
	}
}

int main(void)
{
	struct names_provider inner = {numbered, NULL, "numbers", NULL};
	struct names_memo *m = names_memo_new();
	struct names_provider p;
	uint8_t addr[16];
	char buf[64], want[64];
	struct names_list l;
	unsigned i;
	long idx;
	int bad = 0;

	CHECK(m != NULL, "new");
	names_memo_reset(m, &inner);
	/* 5,000 addresses of each family: the slots grow many times over. */
	for (i = 0; i < 10000; i++) {
		addr_of(i % 5000, i < 5000 ? 4 : 6, addr);
		bad += names_memo_index(m, i < 5000 ? 4 : 6, addr) != (long)i;
	}
	CHECK_EQ(bad, 0, "indexes run 0.. in first-asked order, IPv4 and IPv6 apart");
	CHECK_EQ(names_memo_count(m), 10000, "count");
	CHECK_EQ(asked, 10000, "asked once per address");
	for (i = 0, bad = 0; i < 10000; i++) {
		addr_of(i % 5000, i < 5000 ? 4 : 6, addr);
		bad += names_memo_index(m, i < 5000 ? 4 : 6, addr) != (long)i;
	}
	CHECK_EQ(bad, 0, "the same index again");
	CHECK_EQ(asked, 10000, "no second question");
	addr_of(0x1234, 4, addr);
	idx = names_memo_index(m, 4, addr);
	CHECK_STR(names_memo_text(m, (size_t)idx), "h18.52", "text");
	addr_of(0x1200, 6, addr);
	CHECK_STR(names_memo_text(m, (size_t)names_memo_index(m, 6, addr)), "", "no names");
	CHECK_STR(names_memo_text(m, 999999), "", "out of range");

	/* The provider view: the list, copied, as the inner provider gave it. */
	p = names_memo_provider(m);
	CHECK_STR(p.source, "numbers", "source passes through");
	addr_of(0x0a0b, 6, addr);
	names_provider_lookup(&p, 6, addr, &l);
	CHECK_EQ(l.n, 2, "two names");
	snprintf(buf, sizeof(buf), "%.*s", (int)l.e[0].len, l.e[0].name);
	snprintf(want, sizeof(want), "h10.11.v6");
	CHECK_STR(buf, want, "through the provider");
	CHECK_EQ(l.e[1].source, TFT_NAME_PTR, "source kept");
	CHECK_STR(names_memo_text(m, (size_t)names_memo_index(m, 6, addr)), "h10.11.v6,~p\\x2c11",
		  "text escaped once, PTR marked, commas inside a name escaped");

	/* Reset: names are asked afresh (they change between frames). */
	names_memo_reset(m, &inner);
	CHECK_EQ(names_memo_count(m), 0, "reset empties");
	addr_of(7, 4, addr);
	CHECK_EQ(names_memo_index(m, 4, addr), 0, "first index again");
	CHECK_EQ(asked, 10001, "asked again after reset");

	/* With a generation: kept while it stays, the marks cleared each frame, forgotten when it
	 * moves. */
	{
		struct names_provider gen = {numbered, NULL, "numbers", numbered_generation};
		struct tft_flow f = {.id = 42, .key = {.family = 4}};
		uint64_t epoch;

		addr_of(0x0102, 4, f.key.saddr);
		addr_of(0x0103, 4, f.key.daddr);
		names_memo_reset(m, &gen);
		epoch = names_memo_epoch(m);
		asked = 0;
		idx = names_memo_flow_index(m, &f, true);
		CHECK(idx >= 0, "flow source index");
		CHECK_EQ(names_memo_flow_index(m, &f, false), idx + 1, "flow destination index");
		CHECK_EQ(names_memo_flow_index(m, &f, true), idx, "flow source again");
		CHECK_EQ(asked, 2, "each end asked once");
		names_memo_marks(m, (size_t)idx)->known = 1;
		names_memo_reset(m, &gen);
		CHECK_EQ(names_memo_epoch(m), epoch, "same generation: kept");
		CHECK_EQ(names_memo_flow_index(m, &f, false), idx + 1, "kept index");
		CHECK_EQ(asked, 2, "nothing asked in the next frame");
		CHECK_EQ(names_memo_marks(m, (size_t)idx)->known, 0, "marks cleared each frame");
		CHECK_STR(names_memo_text(m, (size_t)idx), "h1.2", "kept text");
		generation++;
		names_memo_reset(m, &gen);
		CHECK(names_memo_epoch(m) != epoch, "generation moved: forgotten");
		CHECK_EQ(names_memo_count(m), 0, "empty after the generation moved");
		CHECK_EQ(names_memo_flow_index(m, &f, true), 0, "flow asked afresh");
		CHECK_EQ(asked, 3, "asked again");
		/* Another flow in the same remembered slot does not inherit its indexes. */
		f.id += (uint64_t)1 << 17;
		addr_of(0x0104, 4, f.key.saddr);
		CHECK_EQ(names_memo_flow_index(m, &f, true), 1, "slot reused by another id");
		/* Without a generation: forgotten every frame, as before. */
		names_memo_reset(m, &inner);
		CHECK_EQ(names_memo_count(m), 0, "no generation: reset empties");
	}

	/* No inner provider: no names, and a provider that says so. */
	names_memo_reset(m, NULL);
	CHECK(names_memo_provider(m).names_for == NULL, "no provider, no names_for");
	CHECK_STR(names_memo_text(m, (size_t)names_memo_index(m, 4, addr)), "", "empty text");
	names_memo_free(m);
	return t_done();
}
