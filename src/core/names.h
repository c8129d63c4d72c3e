/*
 * Names for addresses: the passive cache fed by DNS answers the programs
 * saw, backfilled by reverse lookups for misses. Also keeps tcpflowtop's own
 * lookups out of the flows and the cache.
 */
#ifndef TFT_NAMES_H
#define TFT_NAMES_H

#include <stdbool.h>
#include <stdint.h>

#include "dns_cache.h"
#include "event_loop.h"
#include "resolver.h"
#include "tft_events.h"

struct names_opts {
	bool passive;			      /* learn names from DNS answers */
	bool reverse;			      /* ask PTR for addresses the cache does not know */
	const struct resolver_server *server; /* borrowed; NULL: /etc/resolv.conf */
	unsigned lookup_timeout_ms;	      /* 0: the resolver's default */
};

struct names_stats {
	struct dns_cache_stats cache;
	struct resolver_stats reverse; /* zero when reverse lookups are off */
	bool reverse_on;
	uint64_t answers;    /* DNS answers seen (ours excluded) */
	uint64_t malformed;  /* of which could not be parsed */
	uint64_t over_limit; /* records dropped by the parser's limits (dns_parse.h) */
	uint64_t own_dns;    /* answers to our own lookups, dropped */
	uint64_t own_flows;  /* TCP flows of our own lookups, dropped */
	uint64_t asked;	     /* addresses of new flows looked up */
	uint64_t asked_hits; /* of which the cache already named: the hit rate */
};

/* A name arrived for (family, addr): rows showing it may redraw. */
typedef void (*names_changed_cb)(uint8_t family, const uint8_t addr[16], void *ctx);

struct names;

/*
 * Returns NULL with errno set and a one-line reason in err when the cache
 * cannot be made. A resolver that cannot start is not fatal: reverse
 * lookups stay off and *warn (if non-NULL) says why.
 */
struct names *names_new(struct event_loop *loop, const struct names_opts *opts, names_changed_cb cb,
			void *ctx, char *warn, size_t warnlen);
/* Frees the resolver first: its teardown fires callbacks. NULL is fine. */
void names_free(struct names *n);

/* Whether a DNS record answers one of our own reverse lookups: drop it (counted). */
bool names_is_own_dns(struct names *n, const struct tft_dns_event *ev);
/* One DNS record from the capture, not our own: parse it and learn its names. */
void names_on_dns(struct names *n, const struct tft_dns_event *ev);
/* Whether a TCP record belongs to our own lookups (DNS over TCP): drop it. */
bool names_is_own_tcp(struct names *n, const struct tft_tcp_event *ev);

/*
 * The names of an address (borrowed, valid until the next call into n), or
 * NULL. With ask, a miss starts a reverse lookup (once per address).
 */
const struct dns_names *names_get(struct names *n, uint8_t family, const uint8_t addr[16],
				  bool ask);
/* True when no better answer is coming for addr: names known, lookup failed, or none asked. */
bool names_settled(struct names *n, uint8_t family, const uint8_t addr[16]);

/* Changes whenever names_get's answer for some address may have (see dns_cache_generation). */
uint64_t names_generation(const struct names *n);
/* Drops expired names; call from a timer. */
void names_expire(struct names *n);
void names_stats(struct names *n, struct names_stats *out);

#endif /* TFT_NAMES_H */
