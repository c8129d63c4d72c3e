/*
 * connstorm: a bounded loopback connect storm with its own listeners.
 *
 *   connstorm -n CONNECTIONS [-c CLIENT_THREADS] [-r RATE/s] [-t MAX_SECONDS]
 *             [-P LISTENER_PORTS] [-l LOGFILE] [-6]
 *
 * Each client connects to one of P listeners on 127.0.0.1 (or ::1 with -6),
 * waits for the server's FIN and closes: the server closes first, so the
 * TIME_WAIT sockets sit on the server side and the clients' ephemeral ports
 * stay free; P listeners spread the 4-tuples so that 100k connections do not
 * reuse one in TIME_WAIT. Prints one line:
 *   connections=N failed=F seconds=S rate=R
 * With -l, writes "family sport dport" per successful connection to LOGFILE.
 * Bounded: stops after N connections or MAX_SECONDS (default 120).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_LISTENERS 64

static long n_total = 1000, rate;
static int n_threads = 2, n_listeners = 16, family = AF_INET;
static double max_seconds = 120;
static const char *log_path;

static int lfds[MAX_LISTENERS];
static struct sockaddr_storage laddrs[MAX_LISTENERS];
static socklen_t laddr_len;
static atomic_long next_conn, done_ok, done_fail;
static atomic_int stop_accept;
static double t_start;

struct client {
	pthread_t th;
	int idx;
	unsigned short *log; /* sport, dport pairs; owned */
	long nlog;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *acceptor(void *arg)
{
	int ep = epoll_create1(0), i;
	struct epoll_event ev, evs[MAX_LISTENERS];

	(void)arg;
	for (i = 0; i < n_listeners; i++) {
		ev.events = EPOLLIN;
		ev.data.fd = lfds[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, lfds[i], &ev);
	}
	while (!atomic_load(&stop_accept)) {
		int n = epoll_wait(ep, evs, MAX_LISTENERS, 100);

		for (i = 0; i < n; i++) {
			int fd;

			while ((fd = accept4(evs[i].data.fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
				close(fd);
		}
	}
	close(ep);
	return NULL;
}

static void *client(void *arg)
{
	struct client *cl = arg;
	double per = rate ? (double)n_threads / rate : 0, next = now();
	struct timeval rcv_timeout = {5, 0};
	long i;
	char b;

	while ((i = atomic_fetch_add(&next_conn, 1)) < n_total) {
		int li = (int)(i % n_listeners), fd;
		struct sockaddr_storage me;
		socklen_t ml = sizeof(me);

		if (now() - t_start > max_seconds)
			break;
		if (per > 0) {
			double d;

			next += per;
			d = next - now();
			if (d > 0) {
				struct timespec ts = {(time_t)d, (long)((d - (time_t)d) * 1e9)};

				nanosleep(&ts, NULL);
			}
		}
		fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0)
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rcv_timeout, sizeof(rcv_timeout));
		if (fd < 0 || connect(fd, (struct sockaddr *)&laddrs[li], laddr_len) < 0) {
			atomic_fetch_add(&done_fail, 1);
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (cl->log && getsockname(fd, (struct sockaddr *)&me, &ml) == 0) {
			unsigned short sp = family == AF_INET
						? ntohs(((struct sockaddr_in *)&me)->sin_port)
						: ntohs(((struct sockaddr_in6 *)&me)->sin6_port);
			cl->log[2 * cl->nlog] = sp;
			cl->log[2 * cl->nlog + 1] =
			    family == AF_INET
				? ntohs(((struct sockaddr_in *)&laddrs[li])->sin_port)
				: ntohs(((struct sockaddr_in6 *)&laddrs[li])->sin6_port);
			cl->nlog++;
		}
		/* Wait for the server's FIN (it closes first); bounded by SO_RCVTIMEO. */
		while (recv(fd, &b, 1, 0) > 0)
			;
		close(fd);
		atomic_fetch_add(&done_ok, 1);
	}
	return NULL;
}

static int listen_all(void)
{
	int i, one = 1;

	for (i = 0; i < n_listeners; i++) {
		struct sockaddr_storage *a = &laddrs[i];
		socklen_t l;

		memset(a, 0, sizeof(*a));
		if (family == AF_INET) {
			struct sockaddr_in *s = (struct sockaddr_in *)a;

			s->sin_family = AF_INET;
			s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			laddr_len = sizeof(*s);
		} else {
			struct sockaddr_in6 *s = (struct sockaddr_in6 *)a;

			s->sin6_family = AF_INET6;
			s->sin6_addr = in6addr_loopback;
			laddr_len = sizeof(*s);
		}
		lfds[i] = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (lfds[i] < 0)
			return -errno;
		setsockopt(lfds[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(lfds[i], (struct sockaddr *)a, laddr_len) < 0 || listen(lfds[i], 4096) < 0)
			return -errno;
		l = sizeof(*a);
		if (getsockname(lfds[i], (struct sockaddr *)a, &l) < 0)
			return -errno;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: connstorm -n CONNECTIONS [-c THREADS] [-r RATE] [-t MAX_SECONDS] "
			"[-P LISTENERS] [-l LOGFILE] [-6]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct client *cls;
	pthread_t acc;
	double secs;
	int opt, i, e;

	while ((opt = getopt(argc, argv, "n:c:r:t:P:l:6h")) != -1) {
		switch (opt) {
		case 'n':
			n_total = atol(optarg);
			break;
		case 'c':
			n_threads = atoi(optarg);
			break;
		case 'r':
			rate = atol(optarg);
			break;
		case 't':
			max_seconds = atof(optarg);
			break;
		case 'P':
			n_listeners = atoi(optarg);
			break;
		case 'l':
			log_path = optarg;
			break;
		case '6':
			family = AF_INET6;
			break;
		default:
			usage();
		}
	}
	if (n_total < 1 || n_total > 10000000 || n_threads < 1 || n_threads > 256 ||
	    n_listeners < 1 || n_listeners > MAX_LISTENERS || rate < 0 || max_seconds <= 0)
		usage();
	e = listen_all();
	if (e) {
		fprintf(stderr, "connstorm: listen: %s\n", strerror(-e));
		return 1;
	}
	cls = calloc((size_t)n_threads, sizeof(*cls));
	if (!cls)
		return 1;
	if (pthread_create(&acc, NULL, acceptor, NULL))
		return 1;
	t_start = now();
	for (i = 0; i < n_threads; i++) {
		cls[i].idx = i;
		if (log_path) {
			cls[i].log = calloc((size_t)n_total * 2, sizeof(unsigned short));
			if (!cls[i].log)
				return 1;
		}
		if (pthread_create(&cls[i].th, NULL, client, &cls[i]))
			return 1;
	}
	for (i = 0; i < n_threads; i++)
		pthread_join(cls[i].th, NULL);
	secs = now() - t_start;
	atomic_store(&stop_accept, 1);
	pthread_join(acc, NULL);
	if (log_path) {
		FILE *f = fopen(log_path, "w");
		long j;

		if (!f) {
			perror("connstorm: log");
			return 1;
		}
		for (i = 0; i < n_threads; i++)
			for (j = 0; j < cls[i].nlog; j++)
				fprintf(f, "%d %u %u\n", family == AF_INET ? 4 : 6,
					cls[i].log[2 * j], cls[i].log[2 * j + 1]);
		fclose(f);
	}
	printf("connections=%ld failed=%ld seconds=%.3f rate=%.0f\n", atomic_load(&done_ok),
	       atomic_load(&done_fail), secs, atomic_load(&done_ok) / secs);
	for (i = 0; i < n_threads; i++)
		free(cls[i].log);
	free(cls);
	return atomic_load(&done_fail) ? 1 : 0;
}
