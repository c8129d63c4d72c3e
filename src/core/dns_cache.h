/*
 * Passive address-to-names cache: names learnt from DNS answers the host
 * received, and from reverse (PTR) lookups of addresses that had none.
 * Bounded in entries and in name bytes, least recently used evicted first.
 * Time is passed in (CLOCK_MONOTONIC nanoseconds), so nothing here reads a
 * clock. Not thread-safe.
 */
#ifndef TFT_DNS_CACHE_H
#define TFT_DNS_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "dns_parse.h"

/* Names kept per address; a new name past this replaces the weakest one. */
#define TFT_DNS_CACHE_NAMES_PER_ADDR 8
/* Longest name accepted, in bytes (PTR names may arrive already escaped). */
#define TFT_DNS_CACHE_NAME_MAX 1024

/* Where a name came from. Lower values rank first in a lookup's names. */
enum dns_name_source {
	TFT_NAME_DNS = 1, /* observed in a DNS answer (A/AAAA, CNAME chain) */
	TFT_NAME_PTR = 2, /* from a reverse lookup */
};

/* What dns_cache_lookup found. */
enum dns_cache_result {
	TFT_DNS_MISS = 0,     /* nothing known: a reverse lookup may be asked */
	TFT_DNS_HIT = 1,      /* *out has at least one name */
	TFT_DNS_NEGATIVE = 2, /* a reverse lookup failed recently: do not ask again yet */
};

struct dns_cache_stats {
	uint64_t entries;	 /* addresses held now (negative ones included) */
	uint64_t bytes;		 /* name bytes held now */
	uint64_t hits;		 /* lookups that returned names */
	uint64_t neg_hits;	 /* lookups that returned TFT_DNS_NEGATIVE */
	uint64_t misses;	 /* lookups that found nothing */
	uint64_t evictions;	 /* addresses dropped to respect max_entries or max_bytes */
	uint64_t name_evictions; /* names dropped: TFT_DNS_CACHE_NAMES_PER_ADDR or max_bytes */
	uint64_t expirations;	 /* names and negative marks that timed out */
};

struct dns_cache;
struct dns_names; /* the names of one address, borrowed from the cache */

/*
 * max_entries addresses and max_bytes name bytes at most. A name's lifetime
 * is its TTL clamped to [ttl_floor_s, ttl_ceiling_s]: the floor keeps a
 * short-TTL name for the flows opened just after the answer. Returns NULL
 * with errno EINVAL (a zero bound, floor > ceiling) or ENOMEM.
 */
struct dns_cache *dns_cache_new(size_t max_entries, size_t max_bytes, uint32_t ttl_floor_s,
				uint32_t ttl_ceiling_s);
void dns_cache_free(struct dns_cache *c);

/*
 * Add one name (name_len bytes, any bytes) for an address (family 4 or 6;
 * IPv4 in addr[0..3]). The same name again (ASCII case-insensitive) is not
 * duplicated: its expiry is extended, and a TFT_NAME_DNS sighting upgrades
 * a PTR name. Names of a lookup come TFT_NAME_DNS first, then in the order
 * first added. Clears a negative mark. Evicts least recently used addresses
 * as needed. Returns 0, -EINVAL (bad family or source, empty name), -E2BIG
 * (name longer than TFT_DNS_CACHE_NAME_MAX or max_bytes) or -ENOMEM.
 */
int dns_cache_add(struct dns_cache *c, uint8_t family, const uint8_t addr[16], const char *name,
		  size_t name_len, enum dns_name_source src, uint32_t ttl_s, uint64_t now_ns);

/*
 * Add every address of a parsed response with its chain, asked name first
 * then each CNAME, as TFT_NAME_DNS with the address's chain_ttl. Empty
 * (root) names are skipped. Returns 0 or the first error of dns_cache_add
 * (the names before it stay added).
 */
int dns_cache_add_response(struct dns_cache *c, const struct dns_response *parsed, uint64_t now_ns);

/*
 * Remember that a reverse lookup for the address failed (error or NXDOMAIN)
 * for ttl_s seconds (not clamped). A lookup then answers TFT_DNS_NEGATIVE
 * unless the address has live names. Returns 0, -EINVAL or -ENOMEM.
 */
int dns_cache_add_negative(struct dns_cache *c, uint8_t family, const uint8_t addr[16],
			   uint32_t ttl_s, uint64_t now_ns);

/*
 * Look an address up and mark it recently used; drops its expired names.
 * Returns enum dns_cache_result, or -EINVAL. On TFT_DNS_HIT, *out is set,
 * borrowed and valid until the next call on c other than dns_cache_stats;
 * otherwise *out is NULL.
 */
int dns_cache_lookup(struct dns_cache *c, uint8_t family, const uint8_t addr[16], uint64_t now_ns,
		     const struct dns_names **out);

/* Names in a lookup result, and the i-th one (NUL-terminated; *len excludes the NUL). */
size_t dns_names_count(const struct dns_names *n);
const char *dns_names_get(const struct dns_names *n, size_t i, size_t *len,
			  enum dns_name_source *src);

/*
 * A number that changes whenever a lookup's result may have (a name added,
 * evicted or expired): a view can keep what it derived from lookups while
 * it stays the same.
 */
uint64_t dns_cache_generation(const struct dns_cache *c);

/* Drop every expired name and negative mark; call from a timer. O(entries). */
void dns_cache_expire(struct dns_cache *c, uint64_t now_ns);

void dns_cache_stats(const struct dns_cache *c, struct dns_cache_stats *st);

#endif /* TFT_DNS_CACHE_H */
