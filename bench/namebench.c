/*
 * Names benchmark (bench/run only, not a test).
 *   namebench cache                 passive cache: lookups/s (hits and misses), adds/s
 *   namebench reverse SERVER:PORT N time until a reverse name arrives, through the
 *                                   resolver and event loop tcpflowtop uses, for N
 *                                   addresses 127.0.1.1.. that SERVER has PTR records for
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "dns_cache.h"
#include "event_loop.h"
#include "resolver.h"

#define CACHE_ADDRS 65536
#define LOOKUPS 4000000

static double secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void addr_of(uint32_t i, uint8_t a[16])
{
	memset(a, 0, 16);
	a[0] = 10;
	a[1] = (uint8_t)(i >> 16);
	a[2] = (uint8_t)(i >> 8);
	a[3] = (uint8_t)i;
}

static int bench_cache(void)
{
	struct dns_cache *c = dns_cache_new(CACHE_ADDRS, 16u << 20, 300, 86400);
	const struct dns_names *out;
	uint64_t now = 1000000000ULL, hits = 0;
	uint32_t i, x = 12345;
	uint8_t a[16];
	char name[64];
	double t0, t1, t2, t3;

	if (!c)
		return 1;
	t0 = secs();
	for (i = 0; i < CACHE_ADDRS; i++) {
		addr_of(i, a);
		snprintf(name, sizeof(name), "host-%u.example.com", i);
		dns_cache_add(c, 4, a, name, strlen(name), TFT_NAME_DNS, 600, now);
		snprintf(name, sizeof(name), "cdn-%u.example.net", i);
		dns_cache_add(c, 4, a, name, strlen(name), TFT_NAME_DNS, 600, now);
	}
	t1 = secs();
	for (i = 0; i < LOOKUPS; i++) {
		x = x * 1103515245u + 12345u; /* spread over the whole cache */
		addr_of((x >> 8) % CACHE_ADDRS, a);
		hits += dns_cache_lookup(c, 4, a, now, &out) == TFT_DNS_HIT;
	}
	t2 = secs();
	for (i = 0; i < LOOKUPS; i++) {
		addr_of(CACHE_ADDRS + i, a);
		dns_cache_lookup(c, 4, a, now, &out);
	}
	t3 = secs();
	printf("cache: %u addresses x 2 names added at %.2f M adds/s; lookups %.2f M/s (hits, %llu "
	       "of %u), %.2f M/s (misses)\n",
	       CACHE_ADDRS, 2.0 * CACHE_ADDRS / (t1 - t0) / 1e6, LOOKUPS / (t2 - t1) / 1e6,
	       (unsigned long long)hits, LOOKUPS, LOOKUPS / (t3 - t2) / 1e6);
	dns_cache_free(c);
	return hits == LOOKUPS ? 0 : 1;
}

struct reverse_run {
	struct event_loop *loop;
	double *asked_at;
	double *latency;
	int n, done, named;
};

static void on_name(uint8_t family, const uint8_t addr[16], const char *name, size_t len,
		    int status, void *ctx)
{
	struct reverse_run *r = ctx;
	int i = addr[3] - 1;

	(void)family;
	(void)len;
	(void)status;
	if (i >= 0 && i < r->n && r->latency[i] < 0) {
		r->latency[i] = secs() - r->asked_at[i];
		r->named += name != NULL;
		r->done++;
	}
	if (r->done == r->n)
		event_loop_stop(r->loop);
}

static void on_deadline(int fd, uint32_t events, void *ctx)
{
	(void)fd;
	(void)events;
	event_loop_stop(ctx);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int bench_reverse(const char *server, int n)
{
	struct reverse_run r = {.n = n};
	struct resolver_server srv;
	struct resolver_opts opts = {.server = &srv};
	struct resolver *res;
	char err[256];
	uint8_t a[16];
	int i, dl;

	if (n < 1 || n > 250 || resolver_parse_server(server, &srv))
		return 2;
	r.loop = event_loop_new();
	r.asked_at = calloc((size_t)n, sizeof(double));
	r.latency = calloc((size_t)n, sizeof(double));
	res = resolver_new(r.loop, &opts, on_name, &r, err, sizeof(err));
	if (!res) {
		fprintf(stderr, "namebench: %s\n", err);
		return 1;
	}
	for (i = 0; i < n; i++)
		r.latency[i] = -1;
	dl = event_loop_timerfd(10000, 0);
	event_loop_add(r.loop, dl, 1 /* EPOLLIN */, on_deadline, r.loop);
	for (i = 0; i < n; i++) {
		memset(a, 0, sizeof(a));
		a[0] = 127;
		a[2] = 1;
		a[3] = (uint8_t)(i + 1);
		r.asked_at[i] = secs();
		resolver_lookup(res, 4, a);
	}
	event_loop_run(r.loop);
	qsort(r.latency, (size_t)n, sizeof(double), cmp_double);
	printf("reverse: %d addresses asked at once, %d named; time to name: median %.2f ms, "
	       "max %.2f ms (%u in flight at most)\n",
	       n, r.named, r.latency[n / 2] * 1e3, r.latency[n - 1] * 1e3,
	       RESOLVER_DEFAULT_INFLIGHT);
	resolver_free(res);
	event_loop_free(r.loop);
	free(r.asked_at);
	free(r.latency);
	return r.named == n ? 0 : 1;
}

int main(int argc, char **argv)
{
	clock_init();
	if (argc == 2 && !strcmp(argv[1], "cache"))
		return bench_cache();
	if (argc == 4 && !strcmp(argv[1], "reverse"))
		return bench_reverse(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: namebench cache | reverse SERVER:PORT N\n");
	return 2;
}
