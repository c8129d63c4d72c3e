/*
 * Test peer for end-to-end tests; bounded in time so nothing outlives a test.
 *   tcp_peer listen ADDR PORTFILE [SECONDS]  accept and close connections;
 *                                            writes the bound port to PORTFILE
 *   tcp_peer connect ADDR PORT               prints "LOCALPORT ok" or "LOCALPORT refused"
 *   tcp_peer freeport ADDR                   prints a port free for TCP and UDP now,
 *                                            outside the ephemeral range
 *   tcp_peer resolve SERVER PORT NAME [aaaa] asks SERVER:PORT (UDP) for NAME's A (or
 *                                            AAAA) records; prints each answered address
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns_parse.h"
#include "free_port.h"

static int parse_addr(const char *text, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof(*a4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, text, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
		return AF_INET6;
	}
	fprintf(stderr, "tcp_peer: bad address %s\n", text);
	exit(2);
}

static uint16_t local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	getsockname(fd, (struct sockaddr *)&ss, &len);
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int bound_socket(const char *addr, int *family)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	*family = parse_addr(addr, 0, &ss, &len);
	fd = socket(*family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0) {
		perror("tcp_peer: bind");
		exit(1);
	}
	return fd;
}

static int do_listen(const char *addr, const char *portfile, int seconds)
{
	time_t end = time(NULL) + seconds;
	int family, fd = bound_socket(addr, &family);
	FILE *f;

	if (listen(fd, 128) < 0) {
		perror("tcp_peer: listen");
		return 1;
	}
	f = fopen(portfile, "w");
	if (!f) {
		perror("tcp_peer: portfile");
		return 1;
	}
	fprintf(f, "%u\n", local_port(fd));
	fclose(f);
	while (time(NULL) < end) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		if (poll(&p, 1, 200) > 0) {
			int c = accept(fd, NULL, NULL);

			if (c >= 0)
				close(c);
		}
	}
	return 0;
}

static int do_connect(const char *addr, const char *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int family = parse_addr(addr, (uint16_t)atoi(port), &ss, &len);
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rc;

	if (fd < 0) {
		perror("tcp_peer: socket");
		return 1;
	}
	rc = connect(fd, (struct sockaddr *)&ss, len);
	if (rc < 0 && errno != ECONNREFUSED) {
		perror("tcp_peer: connect");
		return 1;
	}
	printf("%u %s\n", local_port(fd), rc == 0 ? "ok" : "refused");
	close(fd);
	return 0;
}

static int do_freeport(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len;
	uint16_t port;

	parse_addr(addr, 0, &ss, &len);
	port = free_port(&ss, len);
	if (!port) {
		fprintf(stderr, "tcp_peer: no free port on %s\n", addr);
		return 1;
	}
	printf("%u\n", port);
	return 0;
}

/* A minimal DNS query over UDP, answered by our own parser: no resolver config needed. */
static int do_resolve(const char *server, const char *port, const char *name, int aaaa)
{
	uint8_t q[512], a[4096];
	struct sockaddr_storage ss;
	struct dns_response r;
	struct pollfd p;
	size_t len = 12, i;
	socklen_t sl;
	const char *label = name;
	int family = parse_addr(server, (uint16_t)atoi(port), &ss, &sl);
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	memset(q, 0, sizeof(q));
	q[0] = 0x12;
	q[1] = 0x34;
	q[2] = 0x01; /* RD */
	q[5] = 1;    /* one question */
	while (*label && len < 300) {
		size_t l = strcspn(label, ".");

		q[len++] = (uint8_t)l;
		memcpy(q + len, label, l);
		len += l;
		label += l + (label[l] == '.');
	}
	q[len++] = 0;
	q[len++] = 0;
	q[len++] = aaaa ? 28 : 1;
	q[len++] = 0;
	q[len++] = 1;
	if (fd < 0 || sendto(fd, q, len, 0, (struct sockaddr *)&ss, sl) < 0) {
		perror("tcp_peer: resolve");
		return 1;
	}
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	if (poll(&p, 1, 3000) <= 0 || (n = recv(fd, a, sizeof(a), 0)) <= 0) {
		fprintf(stderr, "tcp_peer: no DNS answer\n");
		return 1;
	}
	if (dns_parse_response(a, (size_t)n, &r)) {
		fprintf(stderr, "tcp_peer: bad DNS answer\n");
		return 1;
	}
	for (i = 0; i < r.n_addrs; i++) {
		char text[INET6_ADDRSTRLEN];

		inet_ntop(r.addrs[i].family == 4 ? AF_INET : AF_INET6, r.addrs[i].addr, text,
			  sizeof(text));
		printf("%s\n", text);
	}
	close(fd);
	return r.n_addrs ? 0 : 1;
}

int main(int argc, char **argv)
{
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "resolve"))
		return do_resolve(argv[2], argv[3], argv[4], argc == 6 && !strcmp(argv[5], "aaaa"));
	if (argc >= 4 && !strcmp(argv[1], "listen"))
		return do_listen(argv[2], argv[3], argc > 4 ? atoi(argv[4]) : 60);
	if (argc == 4 && !strcmp(argv[1], "connect"))
		return do_connect(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "freeport"))
		return do_freeport(argv[2]);
	fprintf(stderr, "usage: tcp_peer listen ADDR PORTFILE [SECONDS] | connect ADDR PORT | "
			"freeport ADDR | resolve SERVER PORT NAME [aaaa]\n");
	return 2;
}
