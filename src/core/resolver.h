/*
 * Reverse (PTR) lookups through c-ares inside the one event loop: at most
 * max_inflight queries on the wire, the rest in a bounded FIFO, one lookup per
 * address however often it is asked for while pending. Answers and failures
 * go to one callback; caching them is the caller's business.
 */
#ifndef TFT_RESOLVER_H
#define TFT_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event_loop.h"
#include "tft_events.h"

#define RESOLVER_DEFAULT_INFLIGHT 16
#define RESOLVER_DEFAULT_QUEUE 1024
#define RESOLVER_DEFAULT_TIMEOUT_MS 1500
#define RESOLVER_DEFAULT_TRIES 2

/* A parsed --dns-server. */
struct resolver_server {
	uint8_t family;	  /* 4 or 6 */
	uint8_t addr[16]; /* IPv4 in the first 4 bytes */
	uint16_t port;	  /* host order; 53 when not given */
};

struct resolver_opts {
	unsigned max_inflight; /* 0: RESOLVER_DEFAULT_INFLIGHT */
	unsigned max_queue;    /* 0: RESOLVER_DEFAULT_QUEUE */
	/*
	 * c-ares per-try timeout and tries (0: defaults). c-ares doubles the
	 * timeout each round over the servers, so with one server a lookup
	 * gives up after timeout_ms * (2^tries - 1).
	 */
	unsigned timeout_ms;
	unsigned tries;
	const struct resolver_server *server; /* borrowed; NULL: /etc/resolv.conf */
};

struct resolver_stats {
	uint64_t in_flight; /* queries on the wire now */
	uint64_t queued;    /* waiting for a free slot now */
	uint64_t started;   /* lookups handed to c-ares since start */
	uint64_t done;	    /* answered with a name */
	uint64_t failed;    /* answered without a name: NXDOMAIN, SERVFAIL, bad reply, timeout... */
	uint64_t timeouts;  /* of failed: no answer in time */
	uint64_t dropped;   /* not queued: the queue was full */
	uint64_t deduped;   /* asked again while already pending */
	uint64_t errors;    /* a c-ares socket could not join the event loop */
};

/*
 * One finished lookup. name is the PTR name (NUL-terminated, len bytes,
 * unverified: whoever owns the address space wrote it), or NULL with a c-ares
 * status (ARES_ENOTFOUND for NXDOMAIN, ARES_ETIMEOUT, ARES_EBADRESP...). Valid
 * only during the call. The callback may call resolver_lookup(), but not
 * resolver_free().
 */
typedef void (*resolver_name_cb)(uint8_t family, const uint8_t addr[16], const char *name,
				 size_t len, int status, void *ctx);

struct resolver;

/*
 * Creates the c-ares channel with its sockets and timer in loop (borrowed: it
 * must outlive the resolver). Returns NULL, sets errno and writes a one-line
 * reason into err on failure.
 */
struct resolver *resolver_new(struct event_loop *loop, const struct resolver_opts *opts,
			      resolver_name_cb cb, void *ctx, char *err, size_t errlen);
/*
 * Cancels what is pending without calling cb (c-ares' ARES_EDESTRUCTION
 * callbacks are absorbed here) and closes the sockets. Call it before the
 * loop is freed. NULL is fine.
 */
void resolver_free(struct resolver *r);

/*
 * Asks for the PTR name of addr (family 4: first 4 bytes). Returns 0 when a
 * lookup was started or queued, 1 when one for this address is already
 * pending (no new query), -ENOSPC when the queue is full (counted in
 * dropped), -EAFNOSUPPORT for another family.
 */
int resolver_lookup(struct resolver *r, uint8_t family, const uint8_t addr[16]);

/* Borrowed, valid until the next call into the resolver. */
const struct resolver_stats *resolver_stats(const struct resolver *r);

/*
 * Own traffic. The resolver remembers the local address and port (and the
 * socket cookie) of every socket c-ares opened, for RESOLVER_OWN_GRACE_MS
 * after it closed, since records reach user space later than the packets.
 *
 * resolver_owns_flow: a TCP record whose source (addr, port host order) is
 * one of our TCP sockets: c-ares' TCP fallback, seen outgoing and, with a
 * resolver on this host, incoming.
 * resolver_owns_dns: a DNS record delivered to one of our sockets (by socket
 * cookie on ingress; by destination address and port, which also catches a
 * local server's egress answer to us).
 */
#define RESOLVER_OWN_GRACE_MS 5000
bool resolver_owns_flow(const struct resolver *r, uint8_t family, const uint8_t addr[16],
			uint16_t port);
bool resolver_owns_dns(const struct resolver *r, const struct tft_dns_event *ev);

/*
 * Parses --dns-server: "ADDR", "ADDR:PORT" (IPv4), "V6ADDR", "[V6ADDR]" or
 * "[V6ADDR]:PORT". Returns 0 or -EINVAL.
 */
int resolver_parse_server(const char *s, struct resolver_server *out);

#endif /* TFT_RESOLVER_H */
