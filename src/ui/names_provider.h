/*
 * The hook through which the screen, the streams and the CSV export ask for
 * the domain names of an address. Names stay structured (bytes, length,
 * source) until the edge that shows them escapes them once: the terminal,
 * a CSV cell, a JSON string.
 */
#ifndef TFT_NAMES_PROVIDER_H
#define TFT_NAMES_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include "dns_cache.h"

#define NAMES_LIST_MAX TFT_DNS_CACHE_NAMES_PER_ADDR

/* One name as the cache holds it: untrusted bytes, NUL included, not terminated by len. */
struct names_entry {
	const char *name; /* borrowed, see names_for_fn */
	size_t len;
	enum dns_name_source source; /* TFT_NAME_DNS or TFT_NAME_PTR */
};

/* The names of one address, in the cache's order (DNS answers first). */
struct names_list {
	size_t n;
	struct names_entry e[NAMES_LIST_MAX];
};

/*
 * Fills out with the names known for addr (out->n = 0 when none) and
 * returns out->n. The name bytes are borrowed until the next call on the
 * same provider. Must not block: it reads a cache, it never resolves.
 */
typedef size_t (*names_for_fn)(void *ctx, uint8_t family, const uint8_t *addr,
			       struct names_list *out);

/* A number that changes whenever some address's names may have. */
typedef uint64_t (*names_generation_fn)(void *ctx);

struct names_provider {
	names_for_fn names_for; /* NULL: no names known */
	void *ctx;		/* borrowed */
	const char *source;	/* where names come from, for the detail view, e.g. "DNS answers" */
	/* NULL: unknown, names may change at any time; else what a view may cache by. */
	names_generation_fn generation;
};

/* The provider's names for addr (empty when it has none or there is no provider); returns out. */
static inline const struct names_list *names_provider_lookup(const struct names_provider *p,
							     uint8_t family, const uint8_t *addr,
							     struct names_list *out)
{
	out->n = 0;
	if (p && p->names_for)
		p->names_for(p->ctx, family, addr, out);
	return out;
}

/* A cache lookup result as a list (borrowed from the cache like the lookup). */
static inline size_t names_list_from_dns(const struct dns_names *d, struct names_list *out)
{
	size_t i, n = d ? dns_names_count(d) : 0;

	if (n > NAMES_LIST_MAX)
		n = NAMES_LIST_MAX;
	for (i = 0; i < n; i++)
		out->e[i].name = dns_names_get(d, i, &out->e[i].len, &out->e[i].source);
	out->n = n;
	return n;
}

#endif /* TFT_NAMES_PROVIDER_H */
