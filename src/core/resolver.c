/*
 * c-ares 1.18 in our epoll loop: ARES_OPT_SOCK_STATE_CB adds, modifies and
 * (with 0,0, just before c-ares closes the socket) deletes its sockets;
 * readiness calls ares_process_fd; one timerfd, re-armed from ares_timeout()
 * after every call into c-ares, drives retries and timeouts. No thread, no
 * blocking call. Lookups are ares_query() for the PTR name, parsed with
 * ares_parse_ptr_reply(): DNS only, so c-ares never reads /etc/hosts from
 * inside the loop, and the status says what happened (ares_gethostbyaddr
 * turns timeouts and NXDOMAIN alike into ARES_ENOTFOUND).
 *
 * Pending lookups live in a fixed pool (max_inflight + max_queue entries)
 * indexed by a hash on (family, address) for dedup, with a FIFO for those
 * waiting. The pool never moves, so an entry's address is the c-ares arg.
 *
 * Re-entrancy: c-ares may call on_host before ares_query returns, and
 * the user's callback may ask for more lookups. New queries are therefore
 * only sent by pump(), which never runs nested (busy): a lookup asked for from
 * inside a callback is queued and sent when the outer call unwinds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ares.h>

#include "err_msg.h"
#include "parse_num.h"
#include "resolver.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

#define RESOLVER_MAX_OWN 64

enum lookup_state {
	LOOKUP_FREE = 0,
	LOOKUP_QUEUED = 1,
	LOOKUP_INFLIGHT = 2,
};

struct lookup {
	struct resolver *r;   /* borrowed: the owner */
	struct lookup *hnext; /* hash chain */
	struct lookup *qnext; /* FIFO while queued; free list while free */
	uint8_t state;	      /* enum lookup_state */
	uint8_t family;
	uint8_t addr[16];
};

/* A socket c-ares opened: its local end, kept a while after close. */
struct own_sock {
	int fd;	  /* -1 once closed */
	int type; /* SOCK_DGRAM or SOCK_STREAM; 0: slot unused */
	uint8_t family;
	uint8_t addr[16];
	uint16_t port; /* host order */
	uint64_t cookie;
	uint64_t closed_ns; /* CLOCK_MONOTONIC; 0 while open */
};

struct resolver {
	ares_channel ch;	 /* owned */
	struct event_loop *loop; /* borrowed */
	int timer_fd;		 /* owned */
	resolver_name_cb cb;
	void *ctx;		  /* borrowed */
	struct lookup *pool;	  /* owned, max_inflight + max_queue entries */
	struct lookup **buckets;  /* owned, nbuckets heads */
	size_t nbuckets;	  /* power of two */
	struct lookup *free_list; /* borrowed from pool */
	struct lookup *q_head, *q_tail;
	unsigned max_inflight, max_queue;
	int busy;	 /* inside pump() or ares_process_fd(): do not send */
	bool destroying; /* inside ares_destroy(): callbacks only free */
	struct resolver_stats stats;
	struct own_sock own[RESOLVER_MAX_OWN];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static size_t addr_len(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

static size_t bucket_of(const struct resolver *r, uint8_t family, const uint8_t *addr)
{
	uint64_t h = 1469598103934665603ull ^ family; /* FNV-1a */
	size_t i;

	for (i = 0; i < addr_len(family); i++) {
		h ^= addr[i];
		h *= 1099511628211ull;
	}
	return (size_t)(h ^ (h >> 29)) & (r->nbuckets - 1);
}

static struct lookup *find(const struct resolver *r, uint8_t family, const uint8_t *addr)
{
	struct lookup *l = r->buckets[bucket_of(r, family, addr)];

	for (; l; l = l->hnext)
		if (l->family == family && memcmp(l->addr, addr, addr_len(family)) == 0)
			return l;
	return NULL;
}

/* Unlinks a finished in-flight lookup from its chain and returns it to the free list. */
static void release(struct resolver *r, struct lookup *l)
{
	struct lookup **pp = &r->buckets[bucket_of(r, l->family, l->addr)];

	while (*pp && *pp != l)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = l->hnext;
	l->hnext = NULL;
	l->state = LOOKUP_FREE;
	l->qnext = r->free_list;
	r->free_list = l;
}

/* --- own sockets ------------------------------------------------------------------------- */

static bool own_recent(const struct own_sock *o, uint64_t now)
{
	if (!o->type)
		return false;
	return o->fd >= 0 || now - o->closed_ns < (uint64_t)RESOLVER_OWN_GRACE_MS * 1000000ull;
}

static void own_opened(struct resolver *r, int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct own_sock *slot = NULL, *o;
	uint64_t now = now_ns(), cookie = 0;
	socklen_t ol;
	int type = 0, i;

	ol = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &ol) < 0)
		type = SOCK_DGRAM;
	ol = sizeof(cookie);
	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &ol) < 0)
		cookie = 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return;
	/* A free slot, else the one closed longest ago; never an open one. */
	for (i = 0; i < RESOLVER_MAX_OWN; i++) {
		o = &r->own[i];
		if (!own_recent(o, now)) {
			slot = o;
			break;
		}
		if (o->fd < 0 && (!slot || o->closed_ns < slot->closed_ns))
			slot = o;
	}
	if (!slot)
		return; /* 64 sockets open at once: c-ares opens one or two per server */
	memset(slot, 0, sizeof(*slot));
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;

		slot->family = 4;
		memcpy(slot->addr, &sin->sin_addr, 4);
		slot->port = ntohs(sin->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;

		slot->family = 6;
		memcpy(slot->addr, &sin6->sin6_addr, 16);
		slot->port = ntohs(sin6->sin6_port);
	} else {
		return;
	}
	slot->fd = fd;
	slot->type = type;
	slot->cookie = cookie;
}

static void own_closed(struct resolver *r, int fd)
{
	int i;

	for (i = 0; i < RESOLVER_MAX_OWN; i++) {
		if (r->own[i].type && r->own[i].fd == fd) {
			r->own[i].fd = -1;
			r->own[i].closed_ns = now_ns();
		}
	}
}

static bool own_match(const struct resolver *r, int type, uint8_t family, const uint8_t *addr,
		      uint16_t port)
{
	uint64_t now = 0;
	int i;

	for (i = 0; i < RESOLVER_MAX_OWN; i++) {
		const struct own_sock *o = &r->own[i];

		if (!o->type || (type && o->type != type) || o->family != family ||
		    o->port != port || memcmp(o->addr, addr, addr_len(family)) != 0)
			continue;
		if (!now)
			now = now_ns();
		if (own_recent(o, now))
			return true;
	}
	return false;
}

bool resolver_owns_flow(const struct resolver *r, uint8_t family, const uint8_t addr[16],
			uint16_t port)
{
	if (!r)
		return false;
	return own_match(r, SOCK_STREAM, family, addr, port);
}

bool resolver_owns_dns(const struct resolver *r, const struct tft_dns_event *ev)
{
	uint64_t now = 0;
	int i;

	if (!r)
		return false;
	if (ev->sk_cookie) {
		for (i = 0; i < RESOLVER_MAX_OWN; i++) {
			if (!r->own[i].type || r->own[i].cookie != ev->sk_cookie)
				continue;
			if (!now)
				now = now_ns();
			if (own_recent(&r->own[i], now))
				return true;
		}
	}
	/* An answer addressed to one of our sockets, whoever's socket sent it. */
	return own_match(r, 0, ev->family, ev->daddr, ntohs(ev->dport));
}

/* --- c-ares plumbing --------------------------------------------------------------------- */

static void rearm(struct resolver *r)
{
	struct timeval tv, *tp;
	unsigned ms = 0;

	tp = ares_timeout(r->ch, NULL, &tv);
	if (tp) {
		ms = (unsigned)tp->tv_sec * 1000u + (unsigned)((tp->tv_usec + 999) / 1000);
		if (!ms)
			ms = 1; /* due now; 0 would disarm */
	}
	event_loop_timerfd_set(r->timer_fd, ms, 0);
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct lookup *l = arg;
	struct resolver *r = l->r;
	struct hostent *h = NULL;
	uint8_t family = l->family, addr[16];
	const char *name = NULL;

	(void)timeouts;
	if (r->destroying || status == ARES_EDESTRUCTION)
		return; /* resolver_free() drops the pool itself */
	memcpy(addr, l->addr, sizeof(addr));
	r->stats.in_flight--;
	release(r, l);
	if (status == ARES_ECANCELLED)
		return; /* not an answer: nothing to cache */
	if (status == ARES_SUCCESS) {
		/*
		 * c-ares 1.18 validates the PTR name as a hostname here: a name
		 * with bytes outside [A-Za-z0-9-._/] is ARES_EBADRESP, no name.
		 */
		status = ares_parse_ptr_reply(abuf, alen, addr, (int)addr_len(family),
					      family == 4 ? AF_INET : AF_INET6, &h);
		if (status == ARES_SUCCESS && h && h->h_name && h->h_name[0])
			name = h->h_name;
		else if (status == ARES_SUCCESS)
			status = ARES_ENODATA;
	}
	if (name) {
		r->stats.done++;
	} else {
		r->stats.failed++;
		if (status == ARES_ETIMEOUT)
			r->stats.timeouts++;
	}
	if (r->cb)
		r->cb(family, addr, name, name ? strlen(name) : 0, status, r->ctx);
	if (h)
		ares_free_hostent(h);
}

/* "4.3.2.1.in-addr.arpa" or the 32 nibbles of "...ip6.arpa". */
static void reverse_name(const struct lookup *l, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *a = l->addr;
	size_t o = 0;
	int i;

	if (l->family == 4) {
		snprintf(buf, size, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
		return;
	}
	for (i = 15; i >= 0 && o + 4 < size; i--) {
		buf[o++] = hex[a[i] & 0xf];
		buf[o++] = '.';
		buf[o++] = hex[a[i] >> 4];
		buf[o++] = '.';
	}
	snprintf(buf + o, size - o, "ip6.arpa");
}

/* Sends queued lookups while there is room. Never nested. */
static void pump(struct resolver *r)
{
	char qname[80];
	struct lookup *l;

	if (r->busy || r->destroying)
		return;
	r->busy++;
	while (r->q_head && r->stats.in_flight < r->max_inflight) {
		l = r->q_head;
		r->q_head = l->qnext;
		if (!r->q_head)
			r->q_tail = NULL;
		l->qnext = NULL;
		l->state = LOOKUP_INFLIGHT;
		r->stats.queued--;
		r->stats.in_flight++;
		r->stats.started++;
		reverse_name(l, qname, sizeof(qname));
		/* May call on_answer (and free l) before it returns: l is not used after. */
		ares_query(r->ch, qname, ns_c_in, ns_t_ptr, on_answer, l);
	}
	r->busy--;
}

static void process(struct resolver *r, ares_socket_t rfd, ares_socket_t wfd)
{
	r->busy++;
	ares_process_fd(r->ch, rfd, wfd);
	r->busy--;
	pump(r);
	rearm(r);
}

static void on_sock_ready(int fd, uint32_t events, void *ctx)
{
	ares_socket_t rfd = ARES_SOCKET_BAD, wfd = ARES_SOCKET_BAD;

	/* Errors and hang-ups are read (or written) to surface them to c-ares. */
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		rfd = fd;
	if (events & EPOLLOUT)
		wfd = fd;
	process(ctx, rfd, wfd);
}

static void on_timer(int fd, uint32_t events, void *ctx)
{
	(void)events;
	event_loop_timerfd_ack(fd);
	process(ctx, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct resolver *r = data;
	uint32_t ev = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0);

	if (!ev) {
		/* c-ares is about to close fd. */
		event_loop_del(r->loop, fd);
		own_closed(r, fd);
		return;
	}
	if (event_loop_mod(r->loop, fd, ev) == 0)
		return;
	if (event_loop_add(r->loop, fd, ev, on_sock_ready, r) < 0) {
		r->stats.errors++; /* its queries will time out */
		return;
	}
	own_opened(r, fd);
}

/* --- API ----------------------------------------------------------------------------------- */

struct resolver *resolver_new(struct event_loop *loop, const struct resolver_opts *opts,
			      resolver_name_cb cb, void *ctx, char *err, size_t errlen)
{
	struct ares_options ao;
	struct resolver *r;
	size_t n, i;
	int st, e = ENOMEM;

	st = ares_library_init(ARES_LIB_INIT_ALL);
	if (st != ARES_SUCCESS) {
		err_msg(err, errlen, "c-ares initialisation failed: %s", ares_strerror(st));
		errno = ENOMEM;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		ares_library_cleanup();
		err_msg(err, errlen, "resolver: %s", strerror(ENOMEM));
		errno = ENOMEM;
		return NULL;
	}
	r->loop = loop;
	r->cb = cb;
	r->ctx = ctx;
	r->timer_fd = -1;
	r->max_inflight =
	    opts && opts->max_inflight ? opts->max_inflight : RESOLVER_DEFAULT_INFLIGHT;
	r->max_queue = opts && opts->max_queue ? opts->max_queue : RESOLVER_DEFAULT_QUEUE;
	n = (size_t)r->max_inflight + r->max_queue;
	r->pool = calloc(n, sizeof(*r->pool));
	for (r->nbuckets = 16; r->nbuckets < 2 * n; r->nbuckets *= 2)
		;
	r->buckets = calloc(r->nbuckets, sizeof(*r->buckets));
	if (!r->pool || !r->buckets) {
		err_msg(err, errlen, "resolver: %s", strerror(ENOMEM));
		goto fail;
	}
	for (i = n; i-- > 0;) {
		r->pool[i].r = r;
		r->pool[i].qnext = r->free_list;
		r->free_list = &r->pool[i];
	}

	memset(&ao, 0, sizeof(ao));
	ao.sock_state_cb = on_sock_state;
	ao.sock_state_cb_data = r;
	ao.timeout =
	    (int)(opts && opts->timeout_ms ? opts->timeout_ms : RESOLVER_DEFAULT_TIMEOUT_MS);
	ao.tries = (int)(opts && opts->tries ? opts->tries : RESOLVER_DEFAULT_TRIES);
	/*
	 * ares_query ignores lookups, but left unset, ares_init_options of
	 * c-ares 1.18 failed with ARES_ENOMEM on this Debian 12 host while
	 * deriving them from the system's configuration.
	 */
	ao.lookups = (char *)"b";
	st = ares_init_options(&r->ch, &ao,
			       ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
				   ARES_OPT_LOOKUPS);
	if (st != ARES_SUCCESS) {
		r->ch = NULL;
		e = st == ARES_ENOMEM ? ENOMEM : EINVAL;
		err_msg(err, errlen,
			"c-ares channel setup failed (check /etc/resolv.conf, or pass "
			"--dns-server): %s",
			ares_strerror(st));
		goto fail;
	}
	if (opts && opts->server) {
		struct ares_addr_port_node node;

		memset(&node, 0, sizeof(node));
		node.family = opts->server->family == 4 ? AF_INET : AF_INET6;
		memcpy(&node.addr, opts->server->addr, addr_len(opts->server->family));
		node.udp_port = opts->server->port;
		node.tcp_port = opts->server->port;
		st = ares_set_servers_ports(r->ch, &node);
		if (st != ARES_SUCCESS) {
			e = EINVAL;
			err_msg(err, errlen, "setting the DNS server failed: %s",
				ares_strerror(st));
			goto fail;
		}
	}

	r->timer_fd = event_loop_timerfd(0, 0);
	if (r->timer_fd < 0) {
		e = -r->timer_fd;
		r->timer_fd = -1;
		err_msg(err, errlen, "resolver timer: %s", strerror(e));
		goto fail;
	}
	st = event_loop_add(loop, r->timer_fd, EPOLLIN, on_timer, r);
	if (st < 0) {
		e = -st;
		err_msg(err, errlen, "resolver timer: %s", strerror(e));
		goto fail;
	}
	return r;

fail:
	resolver_free(r);
	errno = e;
	return NULL;
}

void resolver_free(struct resolver *r)
{
	if (!r)
		return;
	/* Callbacks fire from inside ares_destroy (ARES_EDESTRUCTION): they only return. */
	r->destroying = true;
	if (r->ch)
		ares_destroy(r->ch);
	if (r->timer_fd >= 0) {
		event_loop_del(r->loop, r->timer_fd);
		close(r->timer_fd);
	}
	free(r->buckets);
	free(r->pool);
	free(r);
	ares_library_cleanup();
}

int resolver_lookup(struct resolver *r, uint8_t family, const uint8_t addr[16])
{
	struct lookup *l;

	if (family != 4 && family != 6)
		return -EAFNOSUPPORT;
	if (r->destroying)
		return -ESHUTDOWN;
	if (find(r, family, addr)) {
		r->stats.deduped++;
		return 1;
	}
	if (r->stats.queued >= r->max_queue || !r->free_list) {
		r->stats.dropped++;
		return -ENOSPC;
	}
	l = r->free_list;
	r->free_list = l->qnext;
	memset(l->addr, 0, sizeof(l->addr));
	memcpy(l->addr, addr, addr_len(family));
	l->family = family;
	l->state = LOOKUP_QUEUED;
	l->qnext = NULL;
	l->hnext = r->buckets[bucket_of(r, family, l->addr)];
	r->buckets[bucket_of(r, family, l->addr)] = l;
	if (r->q_tail)
		r->q_tail->qnext = l;
	else
		r->q_head = l;
	r->q_tail = l;
	r->stats.queued++;
	if (!r->busy) {
		pump(r);
		rearm(r);
	}
	return 0;
}

const struct resolver_stats *resolver_stats(const struct resolver *r)
{
	return &r->stats;
}

static int parse_port(const char *s, uint16_t *port)
{
	uint64_t v;

	if (parse_u64(s, 1, 65535, &v))
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int resolver_parse_server(const char *s, struct resolver_server *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *colon;
	size_t n;

	if (!s || !*s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->port = 53;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close)
			return -EINVAL;
		n = (size_t)(close - s - 1);
		memcpy(buf, s + 1, n);
		buf[n] = '\0';
		if (close[1] == ':') {
			if (parse_port(close + 2, &out->port))
				return -EINVAL;
		} else if (close[1]) {
			return -EINVAL;
		}
		out->family = 6;
		return inet_pton(AF_INET6, buf, out->addr) == 1 ? 0 : -EINVAL;
	}
	if (inet_pton(AF_INET6, s, out->addr) == 1) {
		out->family = 6; /* bare IPv6, no port */
		return 0;
	}
	colon = strchr(s, ':');
	n = colon ? (size_t)(colon - s) : strlen(s);
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (colon && parse_port(colon + 1, &out->port))
		return -EINVAL;
	out->family = 4;
	return inet_pton(AF_INET, buf, out->addr) == 1 ? 0 : -EINVAL;
}
