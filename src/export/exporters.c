/* Metrics and IPFIX, wired to the pipeline and ticked by the capture thread. */
#include "exporters.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics_http.h"

/* The metrics a scrape sees are at most this old. */
#define PUBLISH_NS 250000000ull
/* Active timeouts are checked this often. */
#define IPFIX_TICK_NS 1000000000ull

struct exporters {
	struct flow_pipeline *p; /* borrowed */
	struct metrics *m;
	int http_fd;
	struct metrics_http *http;
	char http_addr[64];
	struct ipfix *ipfix;
	struct ipfix_opts ipfix_opts;
	uint64_t published_ns, ipfix_tick_ns;
};

struct exporters *exporters_new(const struct exporters_opts *o, struct flow_pipeline *p, char *err,
				size_t errlen)
{
	struct exporters *e = calloc(1, sizeof(*e));
	struct flow_sink sink;
	int r;

	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->p = p;
	e->http_fd = -1;
	if (o->metrics_addr) {
		e->m = metrics_new(&o->metrics);
		if (!e->m) {
			snprintf(err, errlen, "setting up the metrics failed: %s", strerror(errno));
			goto fail;
		}
		e->http_fd = metrics_http_listen(o->metrics_addr, err, errlen);
		if (e->http_fd < 0) {
			errno = -e->http_fd;
			goto fail;
		}
		metrics_http_addr(e->http_fd, e->http_addr, sizeof(e->http_addr));
		sink = metrics_sink(e->m);
		r = flow_pipeline_add_sink(p, &sink);
		if (r) {
			snprintf(err, errlen, "too many sinks");
			errno = -r;
			goto fail;
		}
	}
	if (o->ipfix_on) {
		e->ipfix_opts = o->ipfix;
		e->ipfix = ipfix_new(&o->ipfix);
		if (!e->ipfix) {
			snprintf(err, errlen, "setting up IPFIX failed: %s", strerror(errno));
			goto fail;
		}
		sink = ipfix_sink(e->ipfix);
		r = flow_pipeline_add_sink(p, &sink);
		if (r) {
			snprintf(err, errlen, "too many sinks");
			errno = -r;
			goto fail;
		}
	}
	return e;
fail:
	exporters_free(e);
	return NULL;
}

int exporters_start(struct exporters *e, char *err, size_t errlen)
{
	int r;

	if (e->http_fd >= 0) {
		e->http = metrics_http_start(e->http_fd, err, errlen);
		e->http_fd = -1; /* taken */
		if (!e->http)
			return -errno;
	}
	if (e->ipfix) {
		r = ipfix_start(e->ipfix, err, errlen);
		if (r)
			return r;
	}
	exporters_tick(e, 0);
	return 0;
}

void exporters_tick(struct exporters *e, uint64_t now_ns)
{
	struct ipfix_stats is;
	struct flow_stats st;

	if (e->ipfix && now_ns - e->ipfix_tick_ns >= IPFIX_TICK_NS) {
		e->ipfix_tick_ns = now_ns;
		ipfix_tick(e->ipfix, flow_pipeline_table(e->p), now_ns);
	}
	if (!e->m || (now_ns && now_ns - e->published_ns < PUBLISH_NS))
		return;
	e->published_ns = now_ns;
	flow_pipeline_stats(e->p, &st);
	metrics_update(e->m, &st);
	if (e->ipfix) {
		ipfix_stats(e->ipfix, &is);
		metrics_set_ipfix(e->m, is.sent, is.dropped, is.errors);
	}
	if (e->http)
		metrics_http_publish(e->http, metrics_counters(e->m));
}

void exporters_describe(const struct exporters *e, char *buf, size_t size)
{
	int n = 0;

	buf[0] = '\0';
	if (e->m)
		n = snprintf(buf, size, "metrics on http://%s/metrics", e->http_addr);
	if (e->ipfix && n >= 0 && (size_t)n < size) {
		int tcp = e->ipfix_opts.transport == IPFIX_TCP;
		char templates[48];

		/* over TCP the templates go once per connection; over UDP they are sent again */
		if (tcp)
			snprintf(templates, sizeof(templates), "templates once per connection");
		else
			snprintf(templates, sizeof(templates), "templates every %u s",
				 e->ipfix_opts.refresh_s);
		snprintf(buf + n, size - (size_t)n, "%sIPFIX over %s to %s port %s (%s)",
			 n ? ", " : "", tcp ? "TCP" : "UDP", e->ipfix_opts.host, e->ipfix_opts.port,
			 templates);
	}
}

void exporters_finish(struct exporters *e, char *buf, size_t size)
{
	struct ipfix_stats is;
	int n = 0;

	buf[0] = '\0';
	if (e->http) {
		unsigned long long scrapes = metrics_http_scrapes(e->http);

		metrics_http_free(e->http);
		e->http = NULL;
		n = snprintf(buf, size, "metrics: %llu scrapes served", scrapes);
	}
	if (e->ipfix)
		ipfix_stop(e->ipfix); /* the last records sent first, whatever room buf has */
	if (e->ipfix && n >= 0 && (size_t)n < size) {
		ipfix_stats(e->ipfix, &is);
		snprintf(buf + n, size - (size_t)n,
			 "%sIPFIX: %llu records sent, %llu dropped (queue full or collector "
			 "unreachable), %llu send errors%s%s%s",
			 n ? "; " : "", (unsigned long long)is.sent, (unsigned long long)is.dropped,
			 (unsigned long long)is.errors, is.errors ? " (last: " : "", is.last_error,
			 is.errors ? ")" : "");
	}
}

void exporters_free(struct exporters *e)
{
	if (!e)
		return;
	metrics_http_free(e->http);
	if (e->http_fd >= 0)
		close(e->http_fd);
	ipfix_free(e->ipfix);
	metrics_free(e->m);
	free(e);
}
