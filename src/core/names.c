#include <arpa/inet.h>
#include <ares.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "clock.h"
#include "dns_parse.h"
#include "names.h"

/* Cache bounds: about 100 bytes a name, so a few MiB at most. */
#define NAMES_MAX_ENTRIES 65536
#define NAMES_MAX_BYTES (4u << 20)
/* A short TTL still names the flows opened just after the answer. */
#define NAMES_TTL_FLOOR_S 300
#define NAMES_TTL_CEILING_S 86400
/* A PTR answer's TTL is not passed on by the resolver: keep it this long. */
#define NAMES_PTR_TTL_S 3600
/* NXDOMAIN is an answer; a timeout may pass: ask again sooner. */
#define NAMES_NEG_NXDOMAIN_S 600
#define NAMES_NEG_FAILURE_S 60
/* Expired names leave the cache this often: lookups skip them anyway, this returns the memory. */
#define NAMES_EXPIRE_MS 30000

struct names {
	struct dns_cache *cache;   /* owned */
	struct resolver *resolver; /* owned; NULL when reverse lookups are off */
	struct event_loop *loop;   /* borrowed */
	int expire_fd;		   /* owned timerfd, -1 if none */
	bool passive;
	names_changed_cb cb;
	void *ctx; /* borrowed */
	uint64_t answers, malformed, over_limit, own_dns, own_flows;
	uint64_t asked, asked_hits; /* names_get with ask: once per new flow end */
	struct dns_response parsed; /* scratch: too large for the stack of a callback */
};

static void on_reverse(uint8_t family, const uint8_t addr[16], const char *name, size_t len,
		       int status, void *ctx)
{
	struct names *n = ctx;
	uint64_t now = clock_mono_coarse_ns();

	if (name && len) {
		dns_cache_add(n->cache, family, addr, name, len, TFT_NAME_PTR, NAMES_PTR_TTL_S,
			      now);
	} else {
		dns_cache_add_negative(
		    n->cache, family, addr,
		    status == ARES_ENOTFOUND ? NAMES_NEG_NXDOMAIN_S : NAMES_NEG_FAILURE_S, now);
	}
	if (n->cb)
		n->cb(family, addr, n->ctx);
}

static void on_expire_timer(int fd, uint32_t events, void *ctx)
{
	(void)events;
	event_loop_timerfd_ack(fd);
	names_expire(ctx);
}

struct names *names_new(struct event_loop *loop, const struct names_opts *opts, names_changed_cb cb,
			void *ctx, char *warn, size_t warnlen)
{
	struct names *n = calloc(1, sizeof(*n));
	int e;

	if (!n)
		return NULL;
	n->expire_fd = -1;
	n->cache = dns_cache_new(NAMES_MAX_ENTRIES, NAMES_MAX_BYTES, NAMES_TTL_FLOOR_S,
				 NAMES_TTL_CEILING_S);
	if (!n->cache) {
		free(n);
		return NULL;
	}
	n->loop = loop;
	n->expire_fd = event_loop_timerfd(NAMES_EXPIRE_MS, 1);
	if (n->expire_fd < 0 ||
	    (e = event_loop_add(loop, n->expire_fd, EPOLLIN, on_expire_timer, n))) {
		e = n->expire_fd < 0 ? -n->expire_fd : -e;
		if (n->expire_fd >= 0)
			close(n->expire_fd);
		dns_cache_free(n->cache);
		free(n);
		errno = e;
		return NULL;
	}
	n->passive = opts->passive;
	n->cb = cb;
	n->ctx = ctx;
	if (warn && warnlen)
		warn[0] = '\0';
	if (opts->reverse) {
		struct resolver_opts ropts = {
		    .server = opts->server,
		    .timeout_ms = opts->lookup_timeout_ms,
		};

		n->resolver = resolver_new(loop, &ropts, on_reverse, n, warn, warnlen);
	}
	return n;
}

void names_free(struct names *n)
{
	if (!n)
		return;
	resolver_free(n->resolver);
	if (n->expire_fd >= 0) {
		event_loop_del(n->loop, n->expire_fd);
		close(n->expire_fd);
	}
	dns_cache_free(n->cache);
	free(n);
}

void names_on_dns(struct names *n, const struct tft_dns_event *ev)
{
	size_t len = ev->len < TFT_DNS_MAX ? ev->len : TFT_DNS_MAX;
	uint16_t i;
	int err;

	if (!n->passive)
		return;
	n->answers++;
	if (ev->flags & TFT_DNS_F_TRUNCATED)
		err = dns_parse_response_prefix(ev->msg, len, &n->parsed);
	else
		err = dns_parse_response(ev->msg, len, &n->parsed);
	if (err) {
		n->malformed++;
		return;
	}
	n->over_limit += n->parsed.over_limit;
	if (!n->parsed.n_addrs)
		return;
	dns_cache_add_response(n->cache, &n->parsed, clock_mono_coarse_ns());
	if (n->cb) {
		for (i = 0; i < n->parsed.n_addrs; i++)
			n->cb(n->parsed.addrs[i].family, n->parsed.addrs[i].addr, n->ctx);
	}
}

bool names_is_own_dns(struct names *n, const struct tft_dns_event *ev)
{
	/* Answers to our own PTR queries: never into the passive cache. */
	if (!n->resolver || !resolver_owns_dns(n->resolver, ev))
		return false;
	n->own_dns++;
	return true;
}

bool names_is_own_tcp(struct names *n, const struct tft_tcp_event *ev)
{
	/* Only the SYN starts a flow; its source is c-ares' socket. */
	if (!n->resolver || (ev->flags & (TFT_TCP_SYN | TFT_TCP_ACK)) != TFT_TCP_SYN)
		return false;
	if (!resolver_owns_flow(n->resolver, ev->family, ev->saddr, ntohs(ev->sport)))
		return false;
	n->own_flows++;
	return true;
}

const struct dns_names *names_get(struct names *n, uint8_t family, const uint8_t addr[16], bool ask)
{
	const struct dns_names *out = NULL;
	int r = dns_cache_lookup(n->cache, family, addr, clock_mono_coarse_ns(), &out);

	if (ask) {
		n->asked++;
		n->asked_hits += r == TFT_DNS_HIT;
	}
	if (r == TFT_DNS_HIT)
		return out;
	if (r == TFT_DNS_MISS && ask && n->resolver)
		resolver_lookup(n->resolver, family, addr);
	return NULL;
}

bool names_settled(struct names *n, uint8_t family, const uint8_t addr[16])
{
	const struct dns_names *out = NULL;

	if (!n->resolver)
		return true;
	return dns_cache_lookup(n->cache, family, addr, clock_mono_coarse_ns(), &out) !=
	       TFT_DNS_MISS;
}

uint64_t names_generation(const struct names *n)
{
	return dns_cache_generation(n->cache);
}

void names_expire(struct names *n)
{
	dns_cache_expire(n->cache, clock_mono_coarse_ns());
}

void names_stats(struct names *n, struct names_stats *out)
{
	memset(out, 0, sizeof(*out));
	dns_cache_stats(n->cache, &out->cache);
	if (n->resolver) {
		out->reverse = *resolver_stats(n->resolver);
		out->reverse_on = true;
	}
	out->answers = n->answers;
	out->malformed = n->malformed;
	out->over_limit = n->over_limit;
	out->own_dns = n->own_dns;
	out->own_flows = n->own_flows;
	out->asked = n->asked;
	out->asked_hits = n->asked_hits;
}
