/* Tests: a loopback port that a server started next can bind for both TCP and UDP. */
#ifndef TFT_TEST_FREE_PORT_H
#define TFT_TEST_FREE_PORT_H

#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Can a socket of this type bind ss (port set) right now? */
static inline int port_bindable(const struct sockaddr_storage *ss, socklen_t len, int type)
{
	int one = 1, fd = socket(ss->ss_family, type | SOCK_CLOEXEC, 0), ok;

	if (fd < 0)
		return 0;
	/* as servers do: a TIME_WAIT left by an earlier test must not count as taken */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ok = bind(fd, (const struct sockaddr *)ss, len) == 0;
	close(fd);
	return ok;
}

/*
 * A port on the address in ss (its port ignored) where both a TCP and a UDP socket can bind;
 * 0 if none. The port comes from below the kernel's ephemeral range, so no connection made
 * meanwhile, by this test or anything else on the host, can be handed it before the server
 * binds; the start depends on the pid, so processes asking one after another get different
 * ports.
 */
static inline uint16_t free_port(struct sockaddr_storage *ss, socklen_t len)
{
	unsigned lo = 32768, hi = 60999, first, end, span, i;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

	if (f) {
		if (fscanf(f, "%u %u", &lo, &hi) != 2)
			lo = 32768, hi = 60999;
		fclose(f);
	}
	if (lo >= 11000)
		first = 10000, end = lo;
	else if (hi < 64535)
		first = hi + 1, end = 65536;
	else /* the whole range is ephemeral: take what is free */
		first = 1024, end = 65536;
	span = end - first;
	for (i = 0; i < span; i++) {
		uint16_t port = (uint16_t)(first + ((unsigned)getpid() * 7919u + i) % span);

		if (ss->ss_family == AF_INET)
			((struct sockaddr_in *)ss)->sin_port = htons(port);
		else
			((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
		if (port_bindable(ss, len, SOCK_STREAM) && port_bindable(ss, len, SOCK_DGRAM))
			return port;
	}
	return 0;
}

#endif
