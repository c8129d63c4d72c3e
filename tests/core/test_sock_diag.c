/*
 * sock_diag against real loopback connections: over 127.0.0.1, over ::1,
 * and IPv4 into a dual-stack IPv6 listener (a v4-mapped socket). Exactly
 * 100000 bytes go one way and 1234 the other; both ends are found in a dump
 * by their 4-tuples with their byte counts, states, ports and inodes. Then
 * idle times, a half close, the state mask, a request socket in SYN_RECV,
 * and the same dump as user nobody.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sock_diag.h"
#include "t.h"

#define UP_BYTES 100000
#define DOWN_BYTES 1234
#define SEEN_MAX 65536

/* Every entry of one dump, copied out of the callback. */
struct seen {
	struct sock_diag_entry *v;
	size_t n, cap;
};

static void collect(const struct sock_diag_entry *e, void *ctx)
{
	struct seen *s = ctx;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		struct sock_diag_entry *v;

		if (cap > SEEN_MAX || !(v = realloc(s->v, cap * sizeof(*v))))
			return;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = *e;
}

static int dump(struct sock_diag *d, uint32_t mask, struct seen *s)
{
	s->n = 0;
	return sock_diag_dump(d, mask, collect, s);
}

/* One end of a connection, as the dump should show it. */
struct end {
	uint8_t family;
	uint8_t laddr[16], raddr[16];
	uint16_t lport, rport;
	uint64_t inode;
};

/* The end's address and inode from the socket itself; a v4-mapped address as IPv4. */
static void end_of(int fd, struct end *x)
{
	struct sockaddr_storage l, r;
	socklen_t ll = sizeof(l), rl = sizeof(r);
	struct stat sb;

	memset(x, 0, sizeof(*x));
	CHECK(getsockname(fd, (struct sockaddr *)&l, &ll) == 0, "getsockname");
	CHECK(getpeername(fd, (struct sockaddr *)&r, &rl) == 0, "getpeername");
	CHECK(fstat(fd, &sb) == 0, "fstat");
	x->inode = sb.st_ino;
	if (l.ss_family == AF_INET) {
		const struct sockaddr_in *a = (void *)&l, *b = (void *)&r;

		x->family = 4;
		memcpy(x->laddr, &a->sin_addr, 4);
		memcpy(x->raddr, &b->sin_addr, 4);
		x->lport = ntohs(a->sin_port);
		x->rport = ntohs(b->sin_port);
	} else {
		const struct sockaddr_in6 *a = (void *)&l, *b = (void *)&r;

		x->family = 6;
		x->lport = ntohs(a->sin6_port);
		x->rport = ntohs(b->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
			x->family = 4;
			memcpy(x->laddr, a->sin6_addr.s6_addr + 12, 4);
			memcpy(x->raddr, b->sin6_addr.s6_addr + 12, 4);
		} else {
			memcpy(x->laddr, &a->sin6_addr, 16);
			memcpy(x->raddr, &b->sin6_addr, 16);
		}
	}
}

static const struct sock_diag_entry *find(const struct seen *s, const struct end *x)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct sock_diag_entry *e = &s->v[i];

		if (e->family == x->family && e->lport == x->lport && e->rport == x->rport &&
		    !memcmp(e->laddr, x->laddr, 16) && !memcmp(e->raddr, x->raddr, 16))
			return e;
	}
	return NULL;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A listener on the loopback (or the dual-stack wildcard) of family af, port chosen by the kernel.
 */
static int listen_on(int af, bool dual, struct sockaddr_storage *sa, socklen_t *len)
{
	int fd = socket(af, SOCK_STREAM | SOCK_CLOEXEC, 0), off = 0;

	memset(sa, 0, sizeof(*sa));
	if (af == AF_INET) {
		struct sockaddr_in *a = (void *)sa;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (void *)sa;

		a->sin6_family = AF_INET6;
		a->sin6_addr = dual ? in6addr_any : in6addr_loopback;
		*len = sizeof(*a);
		if (dual)
			CHECK(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) == 0,
			      "dual stack");
	}
	CHECK(fd >= 0, "listener socket");
	CHECK(bind(fd, (struct sockaddr *)sa, *len) == 0, "bind");
	CHECK(listen(fd, 8) == 0, "listen");
	CHECK(getsockname(fd, (struct sockaddr *)sa, len) == 0, "listener name");
	return fd;
}

/* Moves exactly n bytes from fd a to fd b; bounded in rounds and time. */
static bool pump(int a, int b, size_t n)
{
	static char buf[16384];
	size_t sent = 0, got = 0;
	uint64_t deadline = now_ms() + 5000;

	memset(buf, 'x', sizeof(buf));
	for (int round = 0; round < 100000 && got < n && now_ms() < deadline; round++) {
		struct pollfd p[2] = {{.fd = a, .events = sent < n ? POLLOUT : 0},
				      {.fd = b, .events = POLLIN}};

		if (poll(p, 2, 500) < 0)
			return false;
		if (p[0].revents & POLLOUT) {
			size_t want = n - sent < sizeof(buf) ? n - sent : sizeof(buf);
			ssize_t w = send(a, buf, want, MSG_DONTWAIT | MSG_NOSIGNAL);

			if (w > 0)
				sent += (size_t)w;
		}
		if (p[1].revents & POLLIN) {
			ssize_t r = recv(b, buf, sizeof(buf), MSG_DONTWAIT);

			if (r <= 0)
				return false;
			got += (size_t)r;
		}
	}
	return sent == n && got == n;
}

struct conn {
	const char *name;
	int lfd, cfd, sfd;
	struct end c, s; /* client end, server end */
};

static void conn_open(struct conn *k, const char *name, int laf, bool dual, int caf)
{
	struct sockaddr_storage sa;
	socklen_t len;

	k->name = name;
	k->lfd = listen_on(laf, dual, &sa, &len);
	if (dual) {
		/* IPv4 into the IPv6 listener: the accepted socket is v4-mapped. */
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_port = ((struct sockaddr_in6 *)&sa)->sin6_port,
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

		memcpy(&sa, &a, sizeof(a));
		len = sizeof(a);
	}
	k->cfd = socket(caf, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(k->cfd >= 0, "client socket");
	CHECK(connect(k->cfd, (struct sockaddr *)&sa, len) == 0, name);
	k->sfd = accept4(k->lfd, NULL, NULL, SOCK_CLOEXEC);
	CHECK(k->sfd >= 0, name);
	end_of(k->cfd, &k->c);
	end_of(k->sfd, &k->s);
	CHECK(pump(k->cfd, k->sfd, UP_BYTES), name);
	CHECK(pump(k->sfd, k->cfd, DOWN_BYTES), name);
}

static void conn_close(struct conn *k)
{
	close(k->cfd);
	close(k->sfd);
	close(k->lfd);
}

/* Dumps until both ends show every byte acknowledged (delayed ACKs), at most 2 s. */
static void dump_settled(struct sock_diag *d, uint32_t mask, struct seen *s, const struct conn *k,
			 uint64_t up_acked, uint64_t down_acked)
{
	uint64_t deadline = now_ms() + 2000;

	for (int i = 0; i < 200; i++) {
		const struct sock_diag_entry *c, *v;

		CHECK_EQ(dump(d, mask, s), 0, "dump");
		c = find(s, &k->c);
		v = find(s, &k->s);
		if ((c && v && c->bytes_acked == up_acked && v->bytes_acked == down_acked) ||
		    now_ms() >= deadline)
			return;
		usleep(10000);
	}
}

static void check_established(struct sock_diag *d, struct seen *s, const struct conn *k)
{
	const struct sock_diag_entry *c, *v;

	dump_settled(d, 1u << TCP_ESTABLISHED, s, k, UP_BYTES + 1, DOWN_BYTES);
	c = find(s, &k->c);
	v = find(s, &k->s);
	CHECK(c != NULL, k->name);
	CHECK(v != NULL, k->name);
	if (!c || !v)
		return;
	fprintf(stderr, "%s: client acked %llu received %llu segs %u/%u rtt %u us\n", k->name,
		(unsigned long long)c->bytes_acked, (unsigned long long)c->bytes_received,
		c->segs_in, c->segs_out, c->rtt_us);
	/*
	 * Found by experiment (6.x): the connecting side's bytes_acked counts
	 * its SYN (+1: tcp_ack moves snd_una past the ISN when the SYN-ACK
	 * arrives), the accepting side's does not count its SYN-ACK (the child
	 * socket starts with snd_una after it), and bytes_received never counts
	 * the peer's SYN. The FIN is counted; see check_half_close.
	 */
	CHECK_EQ(c->bytes_acked, UP_BYTES + 1, "client bytes_acked: payload and SYN");
	CHECK_EQ(c->bytes_received, DOWN_BYTES, "client bytes_received");
	CHECK_EQ(v->bytes_acked, DOWN_BYTES, "server bytes_acked");
	CHECK_EQ(v->bytes_received, UP_BYTES, "server bytes_received");
	CHECK_EQ(c->state, TCP_ESTABLISHED, "client state");
	CHECK_EQ(v->state, TCP_ESTABLISHED, "server state");
	CHECK_EQ(c->family, k->c.family, "client family");
	CHECK_EQ(c->lport, k->c.lport, "client lport");
	CHECK_EQ(c->rport, v->lport, "client rport is the server's port");
	CHECK_EQ(c->inode, k->c.inode, "client inode");
	CHECK_EQ(v->inode, k->s.inode, "server inode");
	/* 100000 bytes take at least two segments even at loopback's 64 KiB MSS. */
	CHECK(c->segs_out >= 3 && v->segs_in >= 3, "segments counted");
	CHECK(c->rtt_us > 0, "client rtt");
	CHECK_EQ(c->total_retrans, 0, "no retransmits on loopback");
	CHECK(c->last_data_sent_ms < 1000 && v->last_data_recv_ms < 1000, "data just now");
}

static void check_idle(struct sock_diag *d, struct seen *s, const struct conn *k)
{
	const struct sock_diag_entry *c, *v;

	CHECK_EQ(dump(d, 1u << TCP_ESTABLISHED, s), 0, "dump idle");
	c = find(s, &k->c);
	v = find(s, &k->s);
	CHECK(c && v, k->name);
	if (!c || !v)
		return;
	CHECK(c->last_data_sent_ms >= 1000, "client sent nothing for 1.1 s");
	CHECK(c->last_data_recv_ms >= 1000, "client received nothing for 1.1 s");
	CHECK(v->last_data_sent_ms >= 1000, "server sent nothing for 1.1 s");
	CHECK(v->last_data_recv_ms >= 1000, "server received nothing for 1.1 s");
}

/* The client's FIN, read and acknowledged by the server. */
static void check_half_close(struct sock_diag *d, struct seen *s, const struct conn *k)
{
	const uint32_t mask = 1u << TCP_FIN_WAIT2 | 1u << TCP_CLOSE_WAIT;
	const struct sock_diag_entry *c, *v;
	char b;

	CHECK(shutdown(k->cfd, SHUT_WR) == 0, "shutdown");
	CHECK(recv(k->sfd, &b, 1, 0) == 0, "server reads the FIN");
	dump_settled(d, mask, s, k, UP_BYTES + 2, DOWN_BYTES);
	c = find(s, &k->c);
	v = find(s, &k->s);
	CHECK(c && v, k->name);
	if (!c || !v)
		return;
	CHECK_EQ(c->state, TCP_FIN_WAIT2, "client state after FIN");
	CHECK_EQ(v->state, TCP_CLOSE_WAIT, "server state after FIN");
	/* The FIN takes one sequence number, and both counts take it too. */
	CHECK_EQ(c->bytes_acked, UP_BYTES + 2, "client bytes_acked: payload, SYN and FIN");
	CHECK_EQ(v->bytes_received, UP_BYTES + 1, "server bytes_received: payload and FIN");
	CHECK_EQ(c->bytes_received, DOWN_BYTES, "client bytes_received unchanged");
	CHECK_EQ(v->bytes_acked, DOWN_BYTES, "server bytes_acked unchanged");
}

static void check_mask(struct sock_diag *d, struct seen *s, const struct conn *k)
{
	bool listener = false;

	CHECK_EQ(dump(d, 1u << TCP_LISTEN, s), 0, "dump listeners");
	CHECK(find(s, &k->c) == NULL, "no established socket among listeners");
	for (size_t i = 0; i < s->n; i++) {
		CHECK_EQ(s->v[i].state, TCP_LISTEN, "only listeners");
		listener |= s->v[i].lport == k->s.lport && s->v[i].family == k->s.family;
	}
	CHECK(listener, "the test's listener is listed");
}

/*
 * A request socket: with TCP_DEFER_ACCEPT the listener drops the client's
 * bare final ACK, so the client is established and the server side stays a
 * request socket in SYN_RECV until data or the timeout.
 */
static void check_syn_recv(struct sock_diag *d, struct seen *s)
{
	struct sockaddr_storage sa;
	socklen_t len;
	int lfd = listen_on(AF_INET, false, &sa, &len), cfd, defer = 10;
	const struct sock_diag_entry *e;
	struct end c, x;

	CHECK(setsockopt(lfd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer)) == 0,
	      "TCP_DEFER_ACCEPT");
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(connect(cfd, (struct sockaddr *)&sa, len) == 0, "connect to deferring listener");
	end_of(cfd, &c);
	memset(&x, 0, sizeof(x));
	x.family = 4;
	memcpy(x.laddr, c.raddr, 4);
	memcpy(x.raddr, c.laddr, 4);
	x.lport = c.rport;
	x.rport = c.lport;
	for (int i = 0; i < 100; i++) {
		CHECK_EQ(dump(d, 1u << TCP_SYN_RECV, s), 0, "dump SYN_RECV");
		if ((e = find(s, &x)))
			break;
		usleep(10000);
	}
	CHECK(e != NULL, "request socket listed");
	if (e) {
		CHECK_EQ(e->state, TCP_SYN_RECV, "request socket state");
		CHECK_EQ(e->inode, 0, "request socket has no inode");
		CHECK_EQ(e->bytes_acked, 0, "request socket has no tcp_info");
	}
	CHECK_EQ(dump(d, 1u << TCP_ESTABLISHED, s), 0, "dump established");
	CHECK(find(s, &x) == NULL, "request socket not among established");
	close(cfd);
	close(lfd);
}

/*
 * The same dump as user nobody with no capabilities: sock_diag shows every
 * user's sockets and their tcp_info, as `ss -ti` does for anyone.
 */
static void check_unprivileged(const struct conn *k)
{
	pid_t pid;
	int status;

	if (geteuid() != 0) {
		fprintf(stderr, "not root: already running unprivileged\n");
		return;
	}
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		struct sock_diag *d;
		struct seen s = {0};
		const struct sock_diag_entry *e;

		if (setgroups(0, NULL) || setgid(65534) || setuid(65534) || getuid() != 65534)
			_exit(2);
		d = sock_diag_open();
		if (!d || dump(d, 1u << TCP_ESTABLISHED, &s))
			_exit(3);
		e = find(&s, &k->s);
		_exit(e && e->bytes_received == UP_BYTES && e->inode == k->s.inode ? 0 : 4);
	}
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "dump as nobody finds the socket");
}

int main(void)
{
	struct conn k[3];
	struct seen s = {0};
	struct sock_diag *d = sock_diag_open();

	CHECK(d != NULL, "sock_diag_open");
	if (!d)
		return t_done();
	conn_open(&k[0], "127.0.0.1", AF_INET, false, AF_INET);
	conn_open(&k[1], "::1", AF_INET6, false, AF_INET6);
	conn_open(&k[2], "IPv4 into dual stack", AF_INET6, true, AF_INET);
	CHECK_EQ(k[2].s.family, 4, "v4-mapped end expected as IPv4");
	for (int i = 0; i < 3; i++)
		check_established(d, &s, &k[i]);
	check_unprivileged(&k[0]);
	check_mask(d, &s, &k[1]);
	check_syn_recv(d, &s);
	usleep(1100000);
	for (int i = 0; i < 3; i++)
		check_idle(d, &s, &k[i]);
	for (int i = 0; i < 3; i++)
		check_half_close(d, &s, &k[i]);
	for (int i = 0; i < 3; i++)
		conn_close(&k[i]);
	sock_diag_close(d);
	free(s.v);
	return t_done();
}
