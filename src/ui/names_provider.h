/*
 * The hook through which the screen and the CSV export ask for the domain
 * names of an address. The names cache is built elsewhere; until it is wired
 * in, the provider is empty and the domain columns show empty cells.
 */
#ifndef TFT_NAMES_PROVIDER_H
#define TFT_NAMES_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

/*
 * Writes the names known for addr ("a.example,b.example", each name as the
 * cache holds it, untrusted bytes included) into buf, NUL-terminated, and
 * returns the length written; 0 and buf[0] = '\0' when none is known.
 * Must not block: it reads a cache, it never resolves.
 */
typedef size_t (*names_for_fn)(void *ctx, uint8_t family, const uint8_t *addr, char *buf,
			       size_t size);

struct names_provider {
	names_for_fn names_for; /* NULL: no names known */
	void *ctx;		/* borrowed */
	const char *source;	/* where names come from, for the detail view, e.g. "DNS answers" */
};

/* The provider's names for addr, or "" when it has none or there is no provider. */
static inline const char *names_provider_lookup(const struct names_provider *p, uint8_t family,
						const uint8_t *addr, char *buf, size_t size)
{
	if (!size)
		return "";
	buf[0] = '\0';
	if (p && p->names_for)
		p->names_for(p->ctx, family, addr, buf, size);
	buf[size - 1] = '\0';
	return buf;
}

#endif /* TFT_NAMES_PROVIDER_H */
