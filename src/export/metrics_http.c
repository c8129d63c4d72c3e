/* The metrics over HTTP: libmicrohttpd's own thread renders a published copy. */
#include "metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "parse_num.h"

struct metrics_http {
	struct MHD_Daemon *d;
	pthread_mutex_t lock; /* guards shown and scrapes */
	struct metrics_counters shown;
	uint64_t scrapes;
};

static int parse_spec(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *h = spec;
	size_t hl;
	uint64_t port;

	colon = strrchr(spec, ':');
	if (!colon || colon == spec || parse_u64(colon + 1, 0, 65535, &port))
		return -EINVAL;
	hl = (size_t)(colon - spec);
	if (*h == '[') {
		if (hl < 3 || spec[hl - 1] != ']')
			return -EINVAL;
		h++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (spec[0] != '[' &&
	    inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		return 0;
	}
	if (spec[0] == '[' &&
	    inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return 0;
	}
	return -EINVAL;
}

int metrics_http_listen(const char *spec, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, e;

	if (parse_spec(spec, &ss, &len)) {
		snprintf(err, errlen,
			 "--metrics %s: expected ADDR:PORT or [IPv6]:PORT with a numeric address, "
			 "e.g. 127.0.0.1:9477",
			 spec);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 64) < 0)
		goto fail;
	return fd;
fail:
	e = errno;
	snprintf(err, errlen, "--metrics %s: %s%s", spec, strerror(e),
		 e == EADDRINUSE      ? " (another process serves that port: choose another)"
		 : e == EADDRNOTAVAIL ? " (not an address of this host)"
		 : e == EACCES	      ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
				      : "");
	if (fd >= 0)
		close(fd);
	return -e;
}

void metrics_http_addr(int fd, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char a[INET6_ADDRSTRLEN];

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		snprintf(buf, size, "?");
		return;
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, size, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, size, "%s:%u", a, ntohs(s4->sin_port));
	}
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *text)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct metrics_http *h = cls;
	struct metrics_counters *copy;
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *body = NULL;
	size_t len = 0;
	FILE *out;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, "not found: the metrics are at /metrics\n");
	/* Rendered outside the lock: the capture thread waits a memcpy at most. */
	copy = malloc(sizeof(*copy));
	if (!copy)
		return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory\n");
	pthread_mutex_lock(&h->lock);
	memcpy(copy, &h->shown, sizeof(*copy));
	pthread_mutex_unlock(&h->lock);
	out = open_memstream(&body, &len);
	if (!out || metrics_render(copy, out)) {
		if (out)
			fclose(out);
		free(body);
		free(copy);
		return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory\n");
	}
	fclose(out);
	free(copy);
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	pthread_mutex_lock(&h->lock);
	h->scrapes++;
	pthread_mutex_unlock(&h->lock);
	return ret;
}

struct metrics_http *metrics_http_start(int fd, char *err, size_t errlen)
{
	struct metrics_http *h = calloc(1, sizeof(*h));

	if (!h) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&h->lock, NULL);
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
				on_request, h, MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_HTTP_MAX_CONN,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_HTTP_TIMEOUT_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_HTTP_MEMORY,
				MHD_OPTION_END);
	if (!h->d) {
		int e = errno ? errno : EIO;

		/* The library may have closed fd already: left to the exit. */
		snprintf(err, errlen, "starting the metrics server failed: %s", strerror(e));
		pthread_mutex_destroy(&h->lock);
		free(h);
		errno = e;
		return NULL;
	}
	return h;
}

void metrics_http_free(struct metrics_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d); /* closes the listening socket too */
	pthread_mutex_destroy(&h->lock);
	free(h);
}

void metrics_http_publish(struct metrics_http *h, const struct metrics_counters *c)
{
	pthread_mutex_lock(&h->lock);
	memcpy(&h->shown, c, sizeof(*c));
	pthread_mutex_unlock(&h->lock);
}

uint64_t metrics_http_scrapes(struct metrics_http *h)
{
	uint64_t n;

	pthread_mutex_lock(&h->lock);
	n = h->scrapes;
	pthread_mutex_unlock(&h->lock);
	return n;
}
