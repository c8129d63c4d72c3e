/*
 * Plain netlink: one request per family, then datagrams of inet_diag_msg
 * records until NLMSG_DONE. A dump abandoned on an error costs the socket
 * (see sock_diag_dump); each dump's own sequence number guards the rest.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
/* linux/tcp.h, not netinet/tcp.h: glibc's struct tcp_info stops before the byte counts. */
#include <linux/tcp.h>

#include "sock_diag.h"

/*
 * The kernel sizes a dump's datagrams to the reader's buffer, capped near
 * 32 KiB (netlink_dump), and a single inet_diag record is well under 1 KiB:
 * a datagram larger than this buffer is an error, not a case to grow for.
 */
#define SOCK_DIAG_BUF 32768
/* A dump is answered at once; a silent kernel must not hang the caller. */
#define SOCK_DIAG_TIMEOUT_S 2

struct sock_diag {
	int fd;
	uint32_t seq;
	void *buf; /* owned, SOCK_DIAG_BUF bytes, aligned for nlmsghdr */
};

/* A fresh netlink socket in d->fd: 0 or -errno (then d->fd is -1). */
static int open_fd(struct sock_diag *d)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	struct timeval tv = {.tv_sec = SOCK_DIAG_TIMEOUT_S};
	int err;

	d->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (d->fd < 0)
		return -errno;
	if (setsockopt(d->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    bind(d->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(d->fd);
		d->fd = -1;
		return err;
	}
	return 0;
}

struct sock_diag *sock_diag_open(void)
{
	struct sock_diag *d = calloc(1, sizeof(*d));
	int err;

	if (!d)
		return NULL;
	d->fd = -1;
	d->buf = malloc(SOCK_DIAG_BUF);
	if (!d->buf) {
		sock_diag_close(d);
		errno = ENOMEM;
		return NULL;
	}
	err = open_fd(d);
	if (err) {
		sock_diag_close(d);
		errno = -err;
		return NULL;
	}
	return d;
}

void sock_diag_close(struct sock_diag *d)
{
	if (!d)
		return;
	if (d->fd >= 0)
		close(d->fd);
	free(d->buf);
	free(d);
}

static int send_request(struct sock_diag *d, uint8_t family, uint32_t state_mask)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req = {
	    .nlh =
		{
		    .nlmsg_len = sizeof(req),
		    .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		    .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		    .nlmsg_seq = d->seq,
		},
	    .r =
		{
		    .sdiag_family = family,
		    .sdiag_protocol = IPPROTO_TCP,
		    .idiag_ext = 1 << (INET_DIAG_INFO - 1),
		    .idiag_states = state_mask,
		},
	};
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	ssize_t n;

	do
		n = sendto(d->fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == sizeof(req) ? 0 : -EIO;
}

static int is_v4_mapped(const uint8_t a[16])
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return !memcmp(a, prefix, sizeof(prefix));
}

static int is_any(const uint8_t a[16])
{
	static const uint8_t zero[16];

	return !memcmp(a, zero, sizeof(zero));
}

/* One record to an entry; -EPROTO when it is too short to be one. */
static int parse_msg(const struct nlmsghdr *h, struct sock_diag_entry *e)
{
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	const struct rtattr *a;
	int len; /* the attributes' bytes */

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return -EPROTO;
	len = (int)h->nlmsg_len - (int)NLMSG_SPACE(sizeof(*m));
	memset(e, 0, sizeof(*e));
	switch (m->idiag_family) {
	case AF_INET:
		e->family = 4;
		memcpy(e->laddr, m->id.idiag_src, 4);
		memcpy(e->raddr, m->id.idiag_dst, 4);
		break;
	case AF_INET6:
		e->family = 6;
		memcpy(e->laddr, m->id.idiag_src, 16);
		memcpy(e->raddr, m->id.idiag_dst, 16);
		/* A dual-stack socket's IPv4 peer: mapped or unset on each side. */
		if ((is_v4_mapped(e->laddr) || is_any(e->laddr)) &&
		    (is_v4_mapped(e->raddr) || is_any(e->raddr)) &&
		    (is_v4_mapped(e->laddr) || is_v4_mapped(e->raddr))) {
			e->family = 4;
			memmove(e->laddr, e->laddr + 12, 4);
			memmove(e->raddr, e->raddr + 12, 4);
			memset(e->laddr + 4, 0, 12);
			memset(e->raddr + 4, 0, 12);
		}
		break;
	default:
		return -EPROTO;
	}
	e->state = m->idiag_state;
	e->lport = ntohs(m->id.idiag_sport);
	e->rport = ntohs(m->id.idiag_dport);
	e->inode = m->idiag_inode;

	for (a = (const struct rtattr *)((const char *)m + NLMSG_ALIGN(sizeof(*m))); RTA_OK(a, len);
	     a = RTA_NEXT(a, len)) {
		struct tcp_info ti = {0};
		size_t n = RTA_PAYLOAD(a);

		if (a->rta_type != INET_DIAG_INFO)
			continue;
		/* An older kernel's tcp_info is shorter: its missing tail stays 0. */
		memcpy(&ti, RTA_DATA(a), n < sizeof(ti) ? n : sizeof(ti));
		e->bytes_acked = ti.tcpi_bytes_acked;
		e->bytes_received = ti.tcpi_bytes_received;
		e->segs_in = ti.tcpi_segs_in;
		e->segs_out = ti.tcpi_segs_out;
		e->rtt_us = ti.tcpi_rtt;
		e->total_retrans = ti.tcpi_total_retrans;
		e->last_data_recv_ms = ti.tcpi_last_data_recv;
		e->last_data_sent_ms = ti.tcpi_last_data_sent;
	}
	return 0;
}

/* NLMSG_OK and NLMSG_NEXT with an unsigned length (clang's -Wsign-compare rejects the macros). */
static bool msg_ok(const struct nlmsghdr *h, size_t left)
{
	return left >= sizeof(*h) && h->nlmsg_len >= sizeof(*h) && h->nlmsg_len <= left;
}

static struct nlmsghdr *msg_next(struct nlmsghdr *h, size_t *left)
{
	size_t step = NLMSG_ALIGN(h->nlmsg_len);

	*left = step < *left ? *left - step : 0;
	return (struct nlmsghdr *)((char *)h + step);
}

/* One datagram's messages. 1 at NLMSG_DONE, 0 for more, or -errno. */
static int handle(struct sock_diag *d, size_t got, sock_diag_cb cb, void *ctx)
{
	size_t left = got;
	struct nlmsghdr *h;

	for (h = d->buf; msg_ok(h, left); h = msg_next(h, &left)) {
		struct sock_diag_entry e;
		int err;

		if (h->nlmsg_seq != d->seq)
			continue; /* the tail of an abandoned dump */
		switch (h->nlmsg_type) {
		case NLMSG_DONE:
			/* The dump's own error, when it failed midway. */
			if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
				int v;

				memcpy(&v, NLMSG_DATA(h), sizeof(v));
				if (v < 0)
					return v;
			}
			return 1;
		case NLMSG_ERROR:
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
				return -EPROTO;
			err = ((const struct nlmsgerr *)NLMSG_DATA(h))->error;
			return err < 0 ? err : -EPROTO;
		case SOCK_DIAG_BY_FAMILY:
			err = parse_msg(h, &e);
			if (err)
				return err;
			cb(&e, ctx);
			break;
		default:
			break;
		}
	}
	/* Bytes left over that do not make a whole message: cut short. */
	return left ? -EPROTO : 0;
}

static int dump_family(struct sock_diag *d, uint8_t family, uint32_t state_mask, sock_diag_cb cb,
		       void *ctx)
{
	int err;

	d->seq++;
	err = send_request(d, family, state_mask);
	if (err)
		return err;
	for (;;) {
		struct sockaddr_nl from;
		struct iovec iov = {.iov_base = d->buf, .iov_len = SOCK_DIAG_BUF};
		struct msghdr msg = {
		    .msg_name = &from,
		    .msg_namelen = sizeof(from),
		    .msg_iov = &iov,
		    .msg_iovlen = 1,
		};
		ssize_t n = recvmsg(d->fd, &msg, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		}
		if (msg.msg_flags & MSG_TRUNC)
			return -EMSGSIZE;
		if (n == 0)
			return -EPROTO;
		if (from.nl_pid != 0)
			continue; /* not from the kernel */
		err = handle(d, (size_t)n, cb, ctx);
		if (err)
			return err < 0 ? err : 0;
	}
}

int sock_diag_dump(struct sock_diag *d, uint32_t state_mask, sock_diag_cb cb, void *ctx)
{
	int err = d->fd < 0 ? open_fd(d) : 0;

	if (!err)
		err = dump_family(d, AF_INET, state_mask, cb, ctx);
	if (!err) {
		err = dump_family(d, AF_INET6, state_mask, cb, ctx);
		/* A kernel without IPv6 has no inet6 diag handler: no IPv6 sockets either. */
		if (err == -ENOENT)
			err = 0;
	}
	if (err && d->fd >= 0) {
		/*
		 * A dump left midway keeps running in the kernel, which refuses
		 * the next one (EBUSY) until it is read to the end: start over
		 * on a new socket instead. Reopened at the next dump if this fails.
		 */
		close(d->fd);
		open_fd(d);
	}
	return err;
}
