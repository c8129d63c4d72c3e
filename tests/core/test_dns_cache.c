/* dns_cache: TTL clamp, expiry, order, dedup, LRU by entries and bytes, negatives, stats. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "dns_cache.h"
#include "t.h"

#define S 1000000000ull

static uint8_t a4(uint8_t last, uint8_t out[16])
{
	memset(out, 0, 16);
	out[0] = 10;
	out[3] = last;
	return last;
}

static int add(struct dns_cache *c, const uint8_t addr[16], const char *name,
	       enum dns_name_source src, uint32_t ttl, uint64_t now)
{
	return dns_cache_add(c, 4, addr, name, strlen(name), src, ttl, now);
}

/* The i-th name of a lookup, or "(none)". */
static const char *nth(struct dns_cache *c, const uint8_t addr[16], uint64_t now, size_t i)
{
	const struct dns_names *n;
	const char *s;

	if (dns_cache_lookup(c, 4, addr, now, &n) != TFT_DNS_HIT)
		return "(miss)";
	s = dns_names_get(n, i, NULL, NULL);
	return s ? s : "(none)";
}

static size_t count(struct dns_cache *c, const uint8_t addr[16], uint64_t now)
{
	const struct dns_names *n;

	if (dns_cache_lookup(c, 4, addr, now, &n) != TFT_DNS_HIT)
		return 0;
	return dns_names_count(n);
}

static void test_new(void)
{
	struct dns_cache *c;

	errno = 0;
	CHECK(dns_cache_new(0, 100, 1, 2) == NULL && errno == EINVAL, "new: zero entries");
	errno = 0;
	CHECK(dns_cache_new(10, 0, 1, 2) == NULL && errno == EINVAL, "new: zero bytes");
	errno = 0;
	CHECK(dns_cache_new(10, 100, 3, 2) == NULL && errno == EINVAL, "new: floor > ceiling");
	c = dns_cache_new(10, 100, 1, 2);
	CHECK(c != NULL, "new: ok");
	dns_cache_free(c);
	dns_cache_free(NULL);
}

static void test_ttl(void)
{
	struct dns_cache *c = dns_cache_new(16, 4096, 30, 3600);
	struct dns_cache_stats st;
	const struct dns_names *n;
	uint8_t a[16], b[16], d[16];
	uint64_t t0 = 1000 * S;

	a4(1, a);
	a4(2, b);
	a4(3, d);
	/* TTL 0 still lives for the floor */
	CHECK_EQ(add(c, a, "short.test", TFT_NAME_DNS, 0, t0), 0, "ttl: add short");
	CHECK_STR(nth(c, a, t0 + 29 * S, 0), "short.test", "ttl: floor keeps it 29 s");
	CHECK_EQ(dns_cache_lookup(c, 4, a, t0 + 30 * S, &n), TFT_DNS_MISS, "ttl: gone at 30 s");
	CHECK(n == NULL, "ttl: out NULL on miss");
	/* a day-long TTL is cut to the ceiling */
	CHECK_EQ(add(c, b, "long.test", TFT_NAME_DNS, 86400, t0), 0, "ttl: add long");
	CHECK_STR(nth(c, b, t0 + 3599 * S, 0), "long.test", "ttl: 3599 s");
	CHECK_EQ(dns_cache_lookup(c, 4, b, t0 + 3600 * S, &n), TFT_DNS_MISS, "ttl: ceiling");
	/* in range: as given */
	CHECK_EQ(add(c, d, "mid.test", TFT_NAME_DNS, 100, t0), 0, "ttl: add mid");
	CHECK_EQ(count(c, d, t0 + 99 * S), 1, "ttl: 99 s");
	dns_cache_expire(c, t0 + 100 * S);
	dns_cache_stats(c, &st);
	CHECK_EQ(st.entries, 0, "expire: all gone");
	CHECK_EQ(st.bytes, 0, "expire: bytes back to 0");
	CHECK_EQ(st.expirations, 3, "expire: three names timed out");
	dns_cache_free(c);
}

static void test_names(void)
{
	struct dns_cache *c = dns_cache_new(16, 4096, 1, 3600);
	struct dns_cache_stats st;
	const struct dns_names *n;
	enum dns_name_source src;
	uint8_t a[16], a_dirty[16];
	size_t len;
	uint64_t gen;
	uint64_t t = 5 * S;

	a4(1, a);
	CHECK_EQ(add(c, a, "host.ptr.test", TFT_NAME_PTR, 600, t), 0, "order: ptr first in time");
	CHECK_EQ(add(c, a, "www.test", TFT_NAME_DNS, 60, t), 0, "order: dns");
	CHECK_EQ(add(c, a, "cdn.test", TFT_NAME_DNS, 60, t), 0, "order: dns 2");
	CHECK_EQ(count(c, a, t), 3, "order: three names");
	CHECK_STR(nth(c, a, t, 0), "www.test", "order: dns outranks ptr");
	CHECK_STR(nth(c, a, t, 1), "cdn.test", "order: dns in addition order");
	CHECK_STR(nth(c, a, t, 2), "host.ptr.test", "order: ptr last");
	CHECK_EQ(dns_cache_lookup(c, 4, a, t, &n), TFT_DNS_HIT, "get: hit");
	CHECK_STR(dns_names_get(n, 2, &len, &src), "host.ptr.test", "get: name");
	CHECK_EQ(len, 13, "get: len");
	CHECK_EQ(src, TFT_NAME_PTR, "get: source");
	CHECK(dns_names_get(n, 3, &len, &src) == NULL, "get: out of range");

	/* dedup, case-insensitively; refresh extends */
	CHECK_EQ(add(c, a, "WWW.Test", TFT_NAME_DNS, 600, t + 30 * S), 0, "dedup: again");
	CHECK_EQ(count(c, a, t + 30 * S), 3, "dedup: still three");
	CHECK_EQ(add(c, a, "CDN.TEST", TFT_NAME_DNS, 1, t + 30 * S), 0, "dedup: upper");
	CHECK_EQ(count(c, a, t + 30 * S), 3, "dedup: upper matches lower");
	CHECK_STR(nth(c, a, t + 30 * S, 1), "cdn.test", "dedup: first spelling kept");
	CHECK_STR(nth(c, a, t + 61 * S, 0), "www.test", "dedup: refreshed past its first ttl");
	CHECK_STR(nth(c, a, t + 61 * S, 1), "host.ptr.test", "dedup: cdn expired, not refreshed");
	/* a ptr name seen in DNS moves up */
	CHECK_EQ(add(c, a, "host.ptr.test", TFT_NAME_DNS, 600, t + 62 * S), 0, "upgrade: add");
	CHECK_EQ(dns_cache_lookup(c, 4, a, t + 62 * S, &n), TFT_DNS_HIT, "upgrade: hit");
	CHECK_EQ(dns_names_count(n), 2, "upgrade: no duplicate");
	dns_names_get(n, 1, NULL, &src);
	CHECK_EQ(src, TFT_NAME_DNS, "upgrade: now dns");
	/* ...and a dns name is not downgraded by a ptr sighting */
	CHECK_EQ(add(c, a, "www.test", TFT_NAME_PTR, 600, t + 62 * S), 0, "no downgrade: add");
	CHECK_EQ(dns_cache_lookup(c, 4, a, t + 62 * S, &n), TFT_DNS_HIT, "no downgrade: hit");
	dns_names_get(n, 0, NULL, &src);
	CHECK_EQ(src, TFT_NAME_DNS, "no downgrade: still dns");

	/* IPv4 keys ignore bytes after the first four */
	memcpy(a_dirty, a, 16);
	a_dirty[8] = 0xaa;
	CHECK_EQ(count(c, a_dirty, t + 62 * S), 2, "v4 key: trailing bytes ignored");
	/* same bytes as v6 are another key */
	CHECK_EQ(dns_cache_lookup(c, 6, a, t + 62 * S, &n), TFT_DNS_MISS, "v6 is another key");

	/* per-address cap: a 9th dns name replaces the soonest-expiring one */
	{
		struct dns_cache *c2 = dns_cache_new(4, 1 << 16, 1, 3600);
		char nm[32];
		unsigned int i;

		for (i = 0; i < TFT_DNS_CACHE_NAMES_PER_ADDR; i++) {
			snprintf(nm, sizeof(nm), "n%u.test", i);
			add(c2, a, nm, TFT_NAME_DNS, i == 3 ? 10 : 100, t);
		}
		CHECK_EQ(add(c2, a, "new.test", TFT_NAME_DNS, 100, t), 0, "cap: add 9th");
		CHECK_EQ(count(c2, a, t), TFT_DNS_CACHE_NAMES_PER_ADDR, "cap: still 8");
		CHECK_STR(nth(c2, a, t, 3), "n4.test", "cap: n3 (soonest) dropped");
		CHECK_STR(nth(c2, a, t, 7), "new.test", "cap: newcomer last");
		/* a ptr name does not displace dns names */
		CHECK_EQ(add(c2, a, "p.test", TFT_NAME_PTR, 100, t), 0, "cap: ptr refused quietly");
		CHECK_STR(nth(c2, a, t, 7), "new.test", "cap: ptr not added");
		dns_cache_stats(c2, &st);
		CHECK_EQ(st.name_evictions, 2, "cap: name evictions counted");
		dns_cache_free(c2);
	}

	/* argument checks: rejected calls change nothing, not even the generation */
	gen = dns_cache_generation(c);
	CHECK_EQ(dns_cache_add(NULL, 4, a, "x", 1, TFT_NAME_DNS, 1, t), -EINVAL, "no cache");
	CHECK_EQ(dns_cache_add_negative(NULL, 4, a, 1, t), -EINVAL, "neg: no cache");
	CHECK_EQ(dns_cache_add_negative(c, 5, a, 1, t), -EINVAL, "neg: bad family");
	CHECK_EQ(dns_cache_add(c, 5, a, "x", 1, TFT_NAME_DNS, 1, t), -EINVAL, "bad family");
	CHECK_EQ(dns_cache_add(c, 4, a, "x", 0, TFT_NAME_DNS, 1, t), -EINVAL, "empty name");
	CHECK_EQ(dns_cache_add(c, 4, a, "x", 1, (enum dns_name_source)7, 1, t), -EINVAL,
		 "bad source");
	CHECK_EQ(dns_cache_add(c, 4, a, "x", TFT_DNS_CACHE_NAME_MAX + 1, TFT_NAME_DNS, 1, t),
		 -E2BIG, "too long");
	CHECK_EQ(dns_cache_generation(c), gen, "rejected adds: same generation");
	CHECK_EQ(dns_cache_lookup(c, 4, NULL, t, &n), -EINVAL, "lookup NULL addr");
	dns_cache_free(c);
}

static void test_lru_entries(void)
{
	struct dns_cache *c = dns_cache_new(3, 1 << 16, 1, 3600);
	struct dns_cache_stats st;
	const struct dns_names *n;
	uint8_t a[16], b[16], d[16], e[16];
	uint64_t t = S;

	a4(1, a);
	a4(2, b);
	a4(3, d);
	a4(4, e);
	add(c, a, "a.test", TFT_NAME_DNS, 100, t);
	add(c, b, "b.test", TFT_NAME_DNS, 100, t);
	add(c, d, "d.test", TFT_NAME_DNS, 100, t);
	/* touch a: b becomes least recently used */
	CHECK_EQ(dns_cache_lookup(c, 4, a, t, &n), TFT_DNS_HIT, "lru: touch a");
	add(c, e, "e.test", TFT_NAME_DNS, 100, t);
	CHECK_EQ(dns_cache_lookup(c, 4, b, t, &n), TFT_DNS_MISS, "lru: b evicted");
	CHECK_EQ(dns_cache_lookup(c, 4, a, t, &n), TFT_DNS_HIT, "lru: a kept");
	CHECK_EQ(dns_cache_lookup(c, 4, d, t, &n), TFT_DNS_HIT, "lru: d kept");
	CHECK_EQ(dns_cache_lookup(c, 4, e, t, &n), TFT_DNS_HIT, "lru: e kept");
	dns_cache_stats(c, &st);
	CHECK_EQ(st.entries, 3, "lru: 3 entries");
	CHECK_EQ(st.evictions, 1, "lru: one eviction");
	CHECK_EQ(st.hits, 4, "lru: hits");
	CHECK_EQ(st.misses, 1, "lru: misses");
	dns_cache_free(c);
}

static void test_lru_bytes(void)
{
	/* 20 name bytes at most */
	struct dns_cache *c = dns_cache_new(100, 20, 1, 3600);
	struct dns_cache_stats st;
	const struct dns_names *n;
	uint8_t a[16], b[16], d[16];
	uint64_t t = S;

	a4(1, a);
	a4(2, b);
	a4(3, d);
	add(c, a, "aaaaaaa", TFT_NAME_DNS, 100, t); /* 7 */
	add(c, b, "bbbbbbb", TFT_NAME_DNS, 100, t); /* 14 */
	dns_cache_stats(c, &st);
	CHECK_EQ(st.bytes, 14, "bytes: 14");
	CHECK_EQ(dns_cache_lookup(c, 4, a, t, &n), TFT_DNS_HIT, "bytes: touch a");
	add(c, d, "ddddddd", TFT_NAME_DNS, 100, t); /* 21 > 20: b goes */
	dns_cache_stats(c, &st);
	CHECK_EQ(st.bytes, 14, "bytes: back to 14");
	CHECK_EQ(st.entries, 2, "bytes: two entries");
	CHECK_EQ(st.evictions, 1, "bytes: one eviction");
	CHECK_EQ(dns_cache_lookup(c, 4, b, t, &n), TFT_DNS_MISS, "bytes: b evicted");
	CHECK_EQ(dns_cache_lookup(c, 4, a, t, &n), TFT_DNS_HIT, "bytes: a kept");
	/* one address alone over the budget drops its own soonest names */
	add(c, d, "eeeeeeeeeee", TFT_NAME_DNS, 50, t); /* 7+7+11 > 20: a goes, 18 */
	add(c, d, "ff", TFT_NAME_DNS, 100, t);	       /* 20: fits */
	add(c, d, "gggg", TFT_NAME_DNS, 100, t);       /* own soonest (eee..) goes */
	dns_cache_stats(c, &st);
	CHECK_EQ(st.entries, 1, "bytes: only d left");
	CHECK_EQ(st.bytes, 13, "bytes: ddddddd ff gggg");
	CHECK(st.bytes <= 20, "bytes: bound held");
	CHECK_EQ(count(c, d, t), 3, "bytes: three names on d");
	CHECK_STR(nth(c, d, t, 0), "ddddddd", "bytes: oldest kept (later expiry)");
	CHECK_EQ(add(c, d, "012345678901234567890", TFT_NAME_DNS, 1, t), -E2BIG,
		 "bytes: name over max_bytes");
	dns_cache_free(c);
}

static void test_negative(void)
{
	struct dns_cache *c = dns_cache_new(8, 4096, 1, 3600);
	struct dns_cache_stats st;
	const struct dns_names *n;
	uint8_t a[16], v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	uint64_t t = 100 * S;

	a4(1, a);
	CHECK_EQ(dns_cache_lookup(c, 4, a, t, &n), TFT_DNS_MISS, "neg: miss first");
	CHECK_EQ(dns_cache_add_negative(c, 4, a, 300, t), 0, "neg: add");
	CHECK_EQ(dns_cache_lookup(c, 4, a, t + 299 * S, &n), TFT_DNS_NEGATIVE, "neg: remembered");
	CHECK(n == NULL, "neg: no names");
	CHECK_EQ(dns_cache_lookup(c, 4, a, t + 300 * S, &n), TFT_DNS_MISS, "neg: expired");
	/* a name learnt later wins over a negative mark */
	CHECK_EQ(dns_cache_add_negative(c, 6, v6, 300, t), 0, "neg6: add");
	CHECK_EQ(dns_cache_add(c, 6, v6, "six.test", 8, TFT_NAME_DNS, 60, t + S), 0,
		 "neg6: name arrives");
	CHECK_EQ(dns_cache_lookup(c, 6, v6, t + 2 * S, &n), TFT_DNS_HIT, "neg6: hit");
	CHECK_EQ(dns_cache_lookup(c, 6, v6, t + 62 * S, &n), TFT_DNS_MISS,
		 "neg6: mark cleared by the name");
	/* negative marks expire in the sweep too */
	CHECK_EQ(dns_cache_add_negative(c, 4, a, 10, t), 0, "neg sweep: add");
	dns_cache_expire(c, t + 9 * S);
	dns_cache_stats(c, &st);
	CHECK_EQ(st.entries, 1, "neg sweep: kept before expiry");
	dns_cache_expire(c, t + 10 * S);
	dns_cache_stats(c, &st);
	CHECK_EQ(st.entries, 0, "neg sweep: removed");
	CHECK_EQ(st.neg_hits, 1, "neg: neg_hits");
	CHECK_EQ(st.hits, 1, "neg: hits");
	CHECK_EQ(st.misses, 3, "neg: misses");
	dns_cache_free(c);
}

static void test_add_response(void)
{
	struct dns_cache *c = dns_cache_new(8, 4096, 10, 3600);
	static struct dns_response r;
	const struct dns_names *n;
	enum dns_name_source src;

	r.qr = 1;
	r.chain_len = 3;
	strcpy(r.chain[0].text, "www.example.test");
	r.chain[0].len = 16;
	strcpy(r.chain[1].text, "edge.cdn.test");
	r.chain[1].len = 13;
	strcpy(r.chain[2].text, "e1.cdn.test");
	r.chain[2].len = 11;
	r.n_addrs = 2;
	r.addrs[0].family = 4;
	r.addrs[0].addr[0] = 192;
	r.addrs[0].addr[3] = 1;
	r.addrs[0].ttl = 20;
	r.addrs[0].chain_ttl = 20;
	r.addrs[0].chain_len = 3;
	r.addrs[1].family = 6;
	r.addrs[1].addr[0] = 0x20;
	r.addrs[1].chain_len = 1; /* owned by the asked name only */
	r.addrs[1].chain_ttl = 100;

	CHECK_EQ(dns_cache_add_response(c, &r, S), 0, "resp: add");
	CHECK_EQ(dns_cache_lookup(c, 4, r.addrs[0].addr, S, &n), TFT_DNS_HIT, "resp: v4 hit");
	CHECK_EQ(dns_names_count(n), 3, "resp: whole chain");
	CHECK_STR(dns_names_get(n, 0, NULL, &src), "www.example.test", "resp: asked name first");
	CHECK_EQ(src, TFT_NAME_DNS, "resp: source dns");
	CHECK_STR(dns_names_get(n, 1, NULL, NULL), "edge.cdn.test", "resp: then cname 1");
	CHECK_STR(dns_names_get(n, 2, NULL, NULL), "e1.cdn.test", "resp: then cname 2");
	CHECK_EQ(dns_cache_lookup(c, 6, r.addrs[1].addr, S, &n), TFT_DNS_HIT, "resp: v6 hit");
	CHECK_EQ(dns_names_count(n), 1, "resp: v6 one name");
	CHECK_EQ(dns_cache_lookup(c, 4, r.addrs[0].addr, 21 * S, &n), TFT_DNS_MISS,
		 "resp: chain ttl 20 s honoured");
	dns_cache_free(c);
}

/* Many addresses through a small table: the hash and LRU stay consistent. */
static void test_churn(void)
{
	struct dns_cache *c = dns_cache_new(64, 1 << 20, 1, 3600);
	struct dns_cache_stats st;
	const struct dns_names *n;
	uint8_t a[16] = {0};
	unsigned int i, hits = 0;

	for (i = 0; i < 10000; i++) {
		a[14] = (uint8_t)(i >> 8);
		a[15] = (uint8_t)i;
		dns_cache_add(c, 6, a, "churn.test", 10, TFT_NAME_DNS, 100, S);
	}
	for (i = 10000 - 64; i < 10000; i++) {
		a[14] = (uint8_t)(i >> 8);
		a[15] = (uint8_t)i;
		hits += dns_cache_lookup(c, 6, a, S, &n) == TFT_DNS_HIT;
	}
	dns_cache_stats(c, &st);
	CHECK_EQ(hits, 64, "churn: the last 64 present");
	CHECK_EQ(st.entries, 64, "churn: entries bounded");
	CHECK_EQ(st.evictions, 10000 - 64, "churn: evictions counted");
	CHECK_EQ(st.bytes, 640, "churn: bytes");
	dns_cache_free(c);
}

int main(void)
{
	test_new();
	test_ttl();
	test_names();
	test_lru_entries();
	test_lru_bytes();
	test_negative();
	test_add_response();
	test_churn();
	return t_done();
}
