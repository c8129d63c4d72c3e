/*
 * Serves the metrics over HTTP with libmicrohttpd, in its own thread: the
 * capture thread publishes a copy of the counters under a mutex (a memcpy),
 * and each scrape renders its own copy, so neither slow nor many clients
 * can hold capture up. Connections are bounded (METRICS_HTTP_MAX_CONN, the
 * rest closed at accept), time out (METRICS_HTTP_TIMEOUT_S) and get a small
 * memory budget: a request larger than it is answered 4xx by the library.
 * GET or HEAD /metrics answer 200; another path 404; another method 405.
 */
#ifndef TFT_METRICS_HTTP_H
#define TFT_METRICS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

#define METRICS_HTTP_MAX_CONN 64
#define METRICS_HTTP_TIMEOUT_S 10
#define METRICS_HTTP_MEMORY 16384 /* per connection: the request line and headers must fit */

/*
 * Opens a listening TCP socket on spec, "ADDR:PORT" or "[IPv6]:PORT" (a
 * numeric address; PORT 0 picks one). Done before the privilege drop, so a
 * port below 1024 works. Returns the fd or -errno, with one line in err.
 */
int metrics_http_listen(const char *spec, char *err, size_t errlen);

/* The address a listening fd is bound to, as "ADDR:PORT" ("[ADDR]:PORT" for IPv6). */
void metrics_http_addr(int fd, char *buf, size_t size);

struct metrics_http;

/*
 * Starts serving on fd (taken: closed by metrics_http_free). Start it after the privilege drop: the
 * thread then has none. NULL with errno, one line in err.
 */
struct metrics_http *metrics_http_start(int fd, char *err, size_t errlen);
/* Stops the thread, closes the socket. NULL is fine. */
void metrics_http_free(struct metrics_http *h);

/* The counters scrapes show from now on (copied). */
void metrics_http_publish(struct metrics_http *h, const struct metrics_counters *c);

/* Scrapes answered 200 so far. */
uint64_t metrics_http_scrapes(struct metrics_http *h);

#endif /* TFT_METRICS_HTTP_H */
