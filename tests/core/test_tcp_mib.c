/*
 * TcpExt from a fake /proc tree: counters found by name in any position,
 * absent ones left 0, and malformed files refused (names and values differing
 * in count, numbers beyond 64 bits, no TcpExt, names with no values). Then
 * the real /proc: a listener with a full accept queue must move
 * ListenOverflows and ListenDrops.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tcp_mib.h"
#include "t.h"

static char root[] = "/tmp/tft-test-mib.XXXXXX";
static char path[256];

static void put(const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL, "write fake netstat");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* The fake file holds text; returns tcp_mib_read's result, out filled on success. */
static int read_text(const char *text, struct tcp_mib *out)
{
	put(text);
	return tcp_mib_read(root, out);
}

static void test_by_name(void)
{
	struct tcp_mib m;

	/* Kernel order differs from the struct's, other counters between, another group around. */
	CHECK_EQ(read_text("TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed EmbryonicRsts "
			   "ListenOverflows ListenDrops TCPTimeouts\n"
			   "TcpExt: 11 22 33 44 55 66 77\n"
			   "IpExt: InNoRoutes ListenDrops\n"
			   "IpExt: 5 999\n",
			   &m),
		 0, "full TcpExt");
	CHECK_EQ(m.syncookies_sent, 11, "SyncookiesSent");
	CHECK_EQ(m.syncookies_recv, 22, "SyncookiesRecv");
	CHECK_EQ(m.syncookies_failed, 33, "SyncookiesFailed");
	CHECK_EQ(m.listen_overflows, 55, "ListenOverflows");
	CHECK_EQ(m.listen_drops, 66, "ListenDrops, not IpExt's namesake");

	CHECK_EQ(read_text("IpExt: InNoRoutes\nIpExt: 1\n"
			   "TcpExt: ListenDrops SyncookiesSent\nTcpExt: 7 3\n",
			   &m),
		 0, "reordered, partial");
	CHECK_EQ(m.listen_drops, 7, "ListenDrops by name");
	CHECK_EQ(m.syncookies_sent, 3, "SyncookiesSent by name");
	CHECK_EQ(m.syncookies_recv, 0, "absent counter stays 0");
	CHECK_EQ(m.listen_overflows, 0, "absent counter stays 0");

	/* The largest 64-bit value is a value; no trailing newline at the end of the file. */
	CHECK_EQ(read_text("TcpExt: ListenOverflows\nTcpExt: 18446744073709551615", &m), 0,
		 "u64 max");
	CHECK(m.listen_overflows == UINT64_MAX, "u64 max kept");
}

static void test_malformed(void)
{
	struct tcp_mib m = {.listen_drops = 4242};

	CHECK_EQ(read_text("TcpExt: ListenOverflows ListenDrops\nTcpExt: 1\n", &m), -EPROTO,
		 "fewer values than names");
	CHECK_EQ(read_text("TcpExt: ListenOverflows\nTcpExt: 1 2\n", &m), -EPROTO,
		 "more values than names");
	CHECK_EQ(read_text("TcpExt: ListenOverflows\nTcpExt: 18446744073709551616\n", &m), -EPROTO,
		 "value beyond 64 bits");
	CHECK_EQ(read_text("TcpExt: ListenOverflows\nTcpExt: 99999999999999999999999999\n", &m),
		 -EPROTO, "huge value");
	CHECK_EQ(read_text("TcpExt: ListenOverflows\nTcpExt: -1\n", &m), -EPROTO, "negative");
	CHECK_EQ(read_text("TcpExt: ListenOverflows\nTcpExt: 12a\n", &m), -EPROTO, "not a number");
	CHECK_EQ(read_text("IpExt: InNoRoutes\nIpExt: 1\n", &m), -EPROTO, "no TcpExt");
	CHECK_EQ(read_text("", &m), -EPROTO, "empty file");
	CHECK_EQ(read_text("TcpExt: ListenOverflows\n", &m), -EPROTO, "names without values");
	CHECK_EQ(read_text("TcpExt: ListenOverflows\nIpExt: 1\n", &m), -EPROTO,
		 "names followed by another group");
	CHECK_EQ(read_text("TcpExtra: ListenOverflows\nTcpExtra: 1\n", &m), -EPROTO,
		 "a longer group name is not TcpExt");
	CHECK_EQ(m.listen_drops, 4242, "out untouched on error");
}

static void test_sizes(void)
{
	struct tcp_mib m;
	char *big;
	size_t n = 2u << 20;

	CHECK_EQ(tcp_mib_read("/nonexistent-tft-root", &m), -ENOENT, "missing file");

	/* A long names line (100000 names): read, not cut. */
	big = malloc(n + 64);
	CHECK(big != NULL, "malloc");
	if (!big)
		return;
	{
		size_t len = 0;
		int i;

		len += (size_t)sprintf(big + len, "TcpExt:");
		for (i = 0; i < 100000; i++)
			len += (size_t)sprintf(big + len, " X%d", i);
		len += (size_t)sprintf(big + len, " ListenDrops\nTcpExt:");
		for (i = 0; i < 100000; i++)
			len += (size_t)sprintf(big + len, " 0");
		sprintf(big + len, " 31\n");
		CHECK_EQ(read_text(big, &m), 0, "long lines");
		CHECK_EQ(m.listen_drops, 31, "counter after 100000 others");
	}
	/* A file beyond any real netstat is refused rather than read without bound. */
	memset(big, 'x', n);
	big[n] = '\0';
	CHECK_EQ(read_text(big, &m), -EFBIG, "oversized file");
	free(big);
}

/*
 * The real counters: a listener with backlog 0 that never accepts holds one
 * connection; the SYNs after it find the accept queue full and are dropped,
 * counted in ListenOverflows and ListenDrops. The counters are the whole
 * namespace's and only grow, so others' traffic cannot make this fail.
 */
static void test_real(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	struct tcp_mib before, after;
	int lfd, c[4];

	CHECK_EQ(tcp_mib_read("/proc", &before), 0, "read /proc");
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(lfd >= 0, "socket");
	CHECK(bind(lfd, (struct sockaddr *)&sa, len) == 0, "bind");
	CHECK(listen(lfd, 0) == 0, "listen");
	CHECK(getsockname(lfd, (struct sockaddr *)&sa, &len) == 0, "getsockname");
	for (int i = 0; i < 4; i++) {
		c[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		CHECK(c[i] >= 0, "client socket");
		CHECK(connect(c[i], (struct sockaddr *)&sa, len) == 0 || errno == EINPROGRESS,
		      "connect");
	}
	for (int i = 0; i < 100; i++) {
		CHECK_EQ(tcp_mib_read("/proc", &after), 0, "read /proc again");
		if (after.listen_overflows > before.listen_overflows)
			break;
		usleep(10000);
	}
	fprintf(
	    stderr, "real: overflows %llu -> %llu, drops %llu -> %llu, cookies sent %llu -> %llu\n",
	    (unsigned long long)before.listen_overflows, (unsigned long long)after.listen_overflows,
	    (unsigned long long)before.listen_drops, (unsigned long long)after.listen_drops,
	    (unsigned long long)before.syncookies_sent, (unsigned long long)after.syncookies_sent);
	CHECK(after.listen_overflows > before.listen_overflows, "ListenOverflows moved");
	CHECK(after.listen_drops > before.listen_drops, "ListenDrops moved");
	CHECK(after.listen_drops >= after.listen_overflows, "every overflow is a drop");
	for (int i = 0; i < 4; i++)
		close(c[i]);
	close(lfd);
}

int main(void)
{
	char dir[256];

	CHECK(mkdtemp(root) != NULL, "mkdtemp");
	snprintf(dir, sizeof(dir), "%s/net", root);
	CHECK(mkdir(dir, 0755) == 0, "mkdir net");
	snprintf(path, sizeof(path), "%s/net/netstat", root);
	test_by_name();
	test_malformed();
	test_sizes();
	test_real();
	unlink(path);
	rmdir(dir);
	rmdir(root);
	return t_done();
}
