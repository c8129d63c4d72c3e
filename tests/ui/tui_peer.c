/*
 * Loopback peer for the screen's end-to-end test: a listener, or a client
 * that opens COUNT connections one after another and prints each local port.
 * -g DIR first moves the process into that cgroup (its cgroup.procs), so the
 * capture attached there sees its connections.
 *
 *   tui_peer [-g CGROUP] listen ADDR PORT     prints "ready", accepts until killed
 *   tui_peer [-g CGROUP] connect ADDR PORT N  prints one source port per line
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int join_cgroup(const char *dir)
{
	char path[4096], pid[32];
	int fd, n;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (write(fd, pid, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static int make_addr(const char *host, const char *port, struct sockaddr_storage *ss,
		     socklen_t *len)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	int p = atoi(port);

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)p);
		*len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*v6);
		return 0;
	}
	return -1;
}

static unsigned local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int i = 1, fd, one = 1, n;

	if (argc > 3 && !strcmp(argv[1], "-g")) {
		if (join_cgroup(argv[2]) < 0) {
			fprintf(stderr, "tcp_peer: joining cgroup %s: %s\n", argv[2],
				strerror(errno));
			return 1;
		}
		i = 3;
	}
	if (argc - i < 3 || make_addr(argv[i + 1], argv[i + 2], &ss, &len) < 0) {
		fprintf(stderr, "usage: tui_peer [-g CGROUP] listen|connect ADDR PORT [N]\n");
		return 2;
	}
	if (!strcmp(argv[i], "listen")) {
		fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 512) < 0) {
			fprintf(stderr, "tcp_peer: listen: %s\n", strerror(errno));
			return 1;
		}
		printf("ready\n");
		fflush(stdout);
		for (;;) {
			int c = accept(fd, NULL, NULL);

			if (c >= 0)
				close(c);
		}
	}
	n = argc - i > 3 ? atoi(argv[i + 3]) : 1;
	for (; n > 0; n--) {
		fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return 1;
		/* Refused is an outcome too: print the port either way. */
		connect(fd, (struct sockaddr *)&ss, len);
		printf("%u\n", local_port(fd));
		close(fd);
	}
	return 0;
}
