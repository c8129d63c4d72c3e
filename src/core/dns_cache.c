/*
 * Address-to-names cache: a chained hash table on (family, address) plus an
 * intrusive doubly linked LRU list through the same entries, so add, lookup
 * and eviction are O(1) on average; expiry sweeps from a timer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "dns_cache.h"

#define NS_PER_S 1000000000ull
#define TFT_DNS_CACHE_MAX_BUCKETS (1u << 20)

struct name_rec {
	uint64_t expires_ns;
	uint32_t len; /* bytes in text, without the NUL */
	uint8_t src;  /* enum dns_name_source */
	char text[];  /* len bytes and a NUL */
};

/* Ordered: TFT_NAME_DNS names first, then by first addition. */
struct dns_names {
	uint8_t n;
	struct name_rec *v[TFT_DNS_CACHE_NAMES_PER_ADDR]; /* owned */
};

struct entry {
	struct entry *hnext;	   /* bucket chain */
	struct entry *prev, *next; /* LRU list, most recent after the sentinel */
	uint64_t hash;
	uint64_t neg_expires_ns; /* 0: no negative mark */
	uint8_t family;
	uint8_t addr[16];
	struct dns_names names;
};

struct dns_cache {
	struct entry **buckets; /* owned array of nbuckets chains of owned entries */
	size_t nbuckets;	/* a power of two */
	struct entry lru;	/* sentinel: lru.next most recent, lru.prev least */
	size_t max_entries, max_bytes;
	uint32_t ttl_floor_s, ttl_ceiling_s;
	uint64_t seed; /* random, so remote peers cannot aim addresses at one bucket */
	uint64_t adds; /* calls that may have changed what a lookup returns */
	struct dns_cache_stats st;
};

static uint64_t mix64(uint64_t x)
{
	/* splitmix64 finalizer */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static uint64_t key_hash(const struct dns_cache *c, uint8_t family, const uint8_t addr[16])
{
	uint64_t a, b;

	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	return mix64(mix64(mix64(c->seed ^ family) ^ a) ^ b);
}

static uint64_t expiry(uint64_t now_ns, uint32_t ttl_s)
{
	uint64_t d = (uint64_t)ttl_s * NS_PER_S;

	return now_ns > UINT64_MAX - d ? UINT64_MAX : now_ns + d;
}

static void lru_unlink(struct entry *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
}

static void lru_push_front(struct dns_cache *c, struct entry *e)
{
	e->prev = &c->lru;
	e->next = c->lru.next;
	c->lru.next->prev = e;
	c->lru.next = e;
}

static void lru_touch(struct dns_cache *c, struct entry *e)
{
	lru_unlink(e);
	lru_push_front(c, e);
}

static struct entry *find(struct dns_cache *c, uint8_t family, const uint8_t addr[16],
			  uint64_t hash)
{
	struct entry *e;

	for (e = c->buckets[hash & (c->nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == hash && e->family == family && !memcmp(e->addr, addr, 16))
			return e;
	return NULL;
}

static void name_remove(struct dns_cache *c, struct entry *e, size_t i)
{
	struct dns_names *n = &e->names;

	c->st.bytes -= n->v[i]->len;
	free(n->v[i]);
	memmove(&n->v[i], &n->v[i + 1], (n->n - i - 1) * sizeof(n->v[0]));
	n->n--;
}

static void entry_delete(struct dns_cache *c, struct entry *e)
{
	struct entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];

	while (e->names.n)
		name_remove(c, e, e->names.n - 1);
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(e);
	free(e);
	c->st.entries--;
}

/* Drop expired names and an expired negative mark; true if nothing is left. */
static int entry_prune(struct dns_cache *c, struct entry *e, uint64_t now_ns)
{
	size_t i = 0;

	while (i < e->names.n) {
		if (e->names.v[i]->expires_ns <= now_ns) {
			name_remove(c, e, i);
			c->st.expirations++;
		} else {
			i++;
		}
	}
	if (e->neg_expires_ns && e->neg_expires_ns <= now_ns) {
		e->neg_expires_ns = 0;
		c->st.expirations++;
	}
	return !e->names.n && !e->neg_expires_ns;
}

static int valid_key(uint8_t family, const uint8_t *addr)
{
	return addr && (family == 4 || family == 6);
}

/* IPv4 keys use only addr[0..3]: whatever the caller left after them is ignored. */
static void norm_key(uint8_t family, const uint8_t *addr, uint8_t key[16])
{
	memset(key, 0, 16);
	memcpy(key, addr, family == 4 ? 4 : 16);
}

/* The entry for the (normalised) key, created after evicting to make room if absent. */
static struct entry *get_or_create(struct dns_cache *c, uint8_t family, const uint8_t key[16])
{
	uint64_t hash = key_hash(c, family, key);
	struct entry *e = find(c, family, key, hash);
	size_t b;

	if (e) {
		lru_touch(c, e);
		return e;
	}
	while (c->st.entries >= c->max_entries) {
		entry_delete(c, c->lru.prev);
		c->st.evictions++;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->hash = hash;
	e->family = family;
	memcpy(e->addr, key, 16);
	b = hash & (c->nbuckets - 1);
	e->hnext = c->buckets[b];
	c->buckets[b] = e;
	lru_push_front(c, e);
	c->st.entries++;
	return e;
}

static int name_eq(const struct name_rec *r, const char *name, size_t len)
{
	size_t i;

	if (r->len != len)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char a = (unsigned char)r->text[i], b = (unsigned char)name[i];

		if (a >= 'A' && a <= 'Z')
			a += 'a' - 'A';
		if (b >= 'A' && b <= 'Z')
			b += 'a' - 'A';
		if (a != b)
			return 0;
	}
	return 1;
}

/* Insert r in rank order: after every name of the same or better source. */
static void names_insert(struct dns_names *n, struct name_rec *r)
{
	size_t at = n->n;

	while (at > 0 && n->v[at - 1]->src > r->src)
		at--;
	memmove(&n->v[at + 1], &n->v[at], (n->n - at) * sizeof(n->v[0]));
	n->v[at] = r;
	n->n++;
}

/* Index of the name to drop for a newcomer of source src, or -1 to drop the newcomer. */
static int weakest(const struct dns_names *n, uint8_t src)
{
	int best = -1;
	size_t i;

	for (i = 0; i < n->n; i++) {
		if (n->v[i]->src < src)
			continue; /* ranks above the newcomer */
		if (best < 0 || n->v[i]->src > n->v[best]->src ||
		    (n->v[i]->src == n->v[best]->src &&
		     n->v[i]->expires_ns < n->v[best]->expires_ns))
			best = (int)i;
	}
	return best;
}

/* Soonest-expiring name of e. e has at least one name. */
static size_t soonest(const struct dns_names *n)
{
	size_t i, best = 0;

	for (i = 1; i < n->n; i++)
		if (n->v[i]->expires_ns < n->v[best]->expires_ns)
			best = i;
	return best;
}

int dns_cache_add(struct dns_cache *c, uint8_t family, const uint8_t addr[16], const char *name,
		  size_t name_len, enum dns_name_source src, uint32_t ttl_s, uint64_t now_ns)
{
	struct name_rec *r;
	struct entry *e;
	uint8_t key[16];
	uint64_t exp;
	uint32_t ttl = ttl_s;
	size_t i;

	if (!c || !valid_key(family, addr) || !name || !name_len ||
	    (src != TFT_NAME_DNS && src != TFT_NAME_PTR))
		return -EINVAL;
	if (name_len > TFT_DNS_CACHE_NAME_MAX || name_len > c->max_bytes)
		return -E2BIG;
	c->adds++;
	if (ttl < c->ttl_floor_s)
		ttl = c->ttl_floor_s;
	if (ttl > c->ttl_ceiling_s)
		ttl = c->ttl_ceiling_s;
	exp = expiry(now_ns, ttl);

	norm_key(family, addr, key);
	e = get_or_create(c, family, key);
	if (!e)
		return -ENOMEM;
	entry_prune(c, e, now_ns);
	e->neg_expires_ns = 0;

	for (i = 0; i < e->names.n; i++) {
		r = e->names.v[i];
		if (!name_eq(r, name, name_len))
			continue;
		if (exp > r->expires_ns)
			r->expires_ns = exp;
		if (src < r->src) {
			/* re-rank: take it out and insert it with its better source */
			memmove(&e->names.v[i], &e->names.v[i + 1],
				(e->names.n - i - 1) * sizeof(e->names.v[0]));
			e->names.n--;
			r->src = (uint8_t)src;
			names_insert(&e->names, r);
		}
		return 0;
	}

	if (e->names.n == TFT_DNS_CACHE_NAMES_PER_ADDR) {
		int w = weakest(&e->names, (uint8_t)src);

		c->st.name_evictions++;
		if (w < 0)
			return 0; /* every name held ranks above this one */
		name_remove(c, e, (size_t)w);
	}
	while (c->st.bytes + name_len > c->max_bytes) {
		if (c->lru.prev != e) {
			entry_delete(c, c->lru.prev);
			c->st.evictions++;
		} else {
			/* e is the only entry left: make room among its own names */
			name_remove(c, e, soonest(&e->names));
			c->st.name_evictions++;
		}
	}

	r = malloc(sizeof(*r) + name_len + 1);
	if (!r)
		return -ENOMEM;
	r->expires_ns = exp;
	r->len = (uint32_t)name_len;
	r->src = (uint8_t)src;
	memcpy(r->text, name, name_len);
	r->text[name_len] = '\0';
	names_insert(&e->names, r);
	c->st.bytes += name_len;
	return 0;
}

int dns_cache_add_response(struct dns_cache *c, const struct dns_response *parsed, uint64_t now_ns)
{
	size_t i, k;
	int err;

	if (!c || !parsed)
		return -EINVAL;
	for (i = 0; i < parsed->n_addrs && i < TFT_DNS_MAX_ADDRS; i++) {
		const struct dns_addr *a = &parsed->addrs[i];

		for (k = 0; k < a->chain_len && k < parsed->chain_len; k++) {
			const struct dns_name *n = &parsed->chain[k];

			if (!n->len)
				continue;
			err = dns_cache_add(c, a->family, a->addr, n->text, n->len, TFT_NAME_DNS,
					    a->chain_ttl, now_ns);
			if (err)
				return err;
		}
	}
	return 0;
}

int dns_cache_add_negative(struct dns_cache *c, uint8_t family, const uint8_t addr[16],
			   uint32_t ttl_s, uint64_t now_ns)
{
	struct entry *e;
	uint8_t key[16];

	if (!c || !valid_key(family, addr))
		return -EINVAL;
	c->adds++;
	norm_key(family, addr, key);
	e = get_or_create(c, family, key);
	if (!e)
		return -ENOMEM;
	e->neg_expires_ns = expiry(now_ns, ttl_s);
	if (!e->neg_expires_ns)
		e->neg_expires_ns = 1; /* 0 means unset; expires at once anyway */
	return 0;
}

int dns_cache_lookup(struct dns_cache *c, uint8_t family, const uint8_t addr[16], uint64_t now_ns,
		     const struct dns_names **out)
{
	uint8_t key[16];
	struct entry *e;

	if (out)
		*out = NULL;
	if (!c || !valid_key(family, addr) || !out)
		return -EINVAL;
	norm_key(family, addr, key);
	e = find(c, family, key, key_hash(c, family, key));
	if (!e) {
		c->st.misses++;
		return TFT_DNS_MISS;
	}
	if (entry_prune(c, e, now_ns)) {
		entry_delete(c, e);
		c->st.misses++;
		return TFT_DNS_MISS;
	}
	lru_touch(c, e);
	if (e->names.n) {
		c->st.hits++;
		*out = &e->names;
		return TFT_DNS_HIT;
	}
	c->st.neg_hits++;
	return TFT_DNS_NEGATIVE;
}

size_t dns_names_count(const struct dns_names *n)
{
	return n ? n->n : 0;
}

const char *dns_names_get(const struct dns_names *n, size_t i, size_t *len,
			  enum dns_name_source *src)
{
	if (!n || i >= n->n)
		return NULL;
	if (len)
		*len = n->v[i]->len;
	if (src)
		*src = (enum dns_name_source)n->v[i]->src;
	return n->v[i]->text;
}

uint64_t dns_cache_generation(const struct dns_cache *c)
{
	/* Every change is an add or is counted as an eviction or an expiry. */
	return c->adds + c->st.evictions + c->st.name_evictions + c->st.expirations;
}

void dns_cache_expire(struct dns_cache *c, uint64_t now_ns)
{
	struct entry *e, *prev;

	if (!c)
		return;
	for (e = c->lru.prev; e != &c->lru; e = prev) {
		prev = e->prev;
		if (entry_prune(c, e, now_ns))
			entry_delete(c, e);
	}
}

void dns_cache_stats(const struct dns_cache *c, struct dns_cache_stats *st)
{
	if (!st)
		return;
	if (!c) {
		memset(st, 0, sizeof(*st));
		return;
	}
	*st = c->st;
}

struct dns_cache *dns_cache_new(size_t max_entries, size_t max_bytes, uint32_t ttl_floor_s,
				uint32_t ttl_ceiling_s)
{
	struct dns_cache *c;

	if (!max_entries || !max_bytes || ttl_floor_s > ttl_ceiling_s) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto err_nomem;
	c->nbuckets = 16;
	while (c->nbuckets < max_entries && c->nbuckets < TFT_DNS_CACHE_MAX_BUCKETS)
		c->nbuckets <<= 1;
	c->buckets = calloc(c->nbuckets, sizeof(c->buckets[0]));
	if (!c->buckets)
		goto err_free;
	c->lru.next = c->lru.prev = &c->lru;
	c->max_entries = max_entries;
	c->max_bytes = max_bytes;
	c->ttl_floor_s = ttl_floor_s;
	c->ttl_ceiling_s = ttl_ceiling_s;
	if (getrandom(&c->seed, sizeof(c->seed), GRND_NONBLOCK) != sizeof(c->seed))
		c->seed = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)c;
	return c;

err_free:
	free(c);
err_nomem:
	errno = ENOMEM;
	return NULL;
}

void dns_cache_free(struct dns_cache *c)
{
	if (!c)
		return;
	while (c->lru.next != &c->lru)
		entry_delete(c, c->lru.next);
	free(c->buckets);
	free(c);
}
