/*
 * Listeners older than tcpflowtop. From a fake /proc tree: net/tcp and
 * net/tcp6 lines in the kernel's format, fd links, comm, status and cgroup
 * files. Bound addresses, the wildcards (IPv6 taking IPv4 too), the
 * rate-limited rescan on a miss, and owners kept when their fds can no
 * longer be read. From the kernel's own table (sock_diag): this test's real
 * listening sockets, found by their inodes, and its other sockets left out.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc_listeners.h"
#include "t.h"

static char root[] = "/tmp/tft-test-proc.XXXXXX";
static const char *tcp_head = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
			      "retrnsmt   uid  timeout inode\n";

static void put(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	CHECK(f != NULL, rel);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void dir(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	CHECK(mkdir(path, 0755) == 0 || errno == EEXIST, rel);
}

static void sock_link(const char *rel, unsigned long inode)
{
	char path[512], target[64];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(target, sizeof(target), "socket:[%lu]", inode);
	CHECK(symlink(target, path) == 0, rel);
}

/* A process with a command name, real uid/gid and a cgroup path. */
static void process(const char *pid, const char *comm, unsigned uid, unsigned gid,
		    const char *cgroup)
{
	char rel[128], text[256];

	snprintf(rel, sizeof(rel), "proc/%s", pid);
	dir(rel);
	snprintf(rel, sizeof(rel), "proc/%s/fd", pid);
	dir(rel);
	snprintf(rel, sizeof(rel), "proc/%s/comm", pid);
	snprintf(text, sizeof(text), "%s\n", comm);
	put(rel, text);
	snprintf(rel, sizeof(rel), "proc/%s/status", pid);
	snprintf(text, sizeof(text), "Name:\t%s\nUid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\n",
		 comm, uid, uid, uid, uid, gid, gid, gid, gid);
	put(rel, text);
	snprintf(rel, sizeof(rel), "proc/%s/cgroup", pid);
	snprintf(text, sizeof(text), "0::%s\n", cgroup);
	put(rel, text);
}

static void tcp_lines(const char *lines)
{
	char text[4096];

	snprintf(text, sizeof(text), "%s%s", tcp_head, lines);
	put("proc/net/tcp", text);
}

#define LINE(sl, local, rem, st, inode)                                                            \
	"  " #sl ": " local " " rem " " st                                                         \
	" 00000000:00000000 00:00000000 00000000     0        0 " inode                            \
	" 1 0000000000000000 100 0 0 10 0\n"

static bool owner_of(struct proc_listeners *l, uint8_t family, const char *addr, uint16_t port,
		     uint64_t now, struct tft_owner *o)
{
	uint8_t a[16] = {0};

	inet_pton(family == 4 ? AF_INET : AF_INET6, addr, a);
	return proc_listeners_owner(l, family, a, port, now, o);
}

/* A TCP socket bound to a free port of addr, listening or not; its port in *port. */
static int tcp_socket(const char *addr, bool listening, uint16_t *port)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd;

	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		len = sizeof(*a4);
	} else {
		inet_pton(AF_INET6, addr, &a6->sin6_addr);
		a6->sin6_family = AF_INET6;
		len = sizeof(*a6);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (listening && listen(fd, 4) < 0) || getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		perror("tcp socket");
		exit(1);
	}
	*port = ntohs(ss.ss_family == AF_INET ? a4->sin_port : a6->sin6_port);
	return fd;
}

/* fake/proc/PID/fd/N -> socket:[the inode of fd] */
static void link_fd(const char *pid, int n, int fd)
{
	char rel[128];
	struct stat sb;

	CHECK(fstat(fd, &sb) == 0, "socket inode");
	snprintf(rel, sizeof(rel), "proc/%s/fd/%d", pid, n);
	sock_link(rel, (unsigned long)sb.st_ino);
}

/*
 * The kernel's table: which sockets are listeners, and their inodes, are
 * real; the processes holding them are the fake tree's, so the owners are
 * known exactly.
 */
static void test_kernel_table(void)
{
	char proc[128];
	struct proc_listeners *l;
	struct tft_owner o;
	uint16_t p4, p6, pbound, plate, pconn;
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int l4 = tcp_socket("127.0.0.1", true, &p4), l6 = tcp_socket("::1", true, &p6);
	int bound = tcp_socket("127.0.0.1", false, &pbound);
	int lconn = tcp_socket("127.0.0.1", true, &pconn), client, server, late;
	const uint64_t s = 1000000000ull;

	/* an established pair, both ends held by the process: neither is a listener */
	client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	to.sin_port = htons(pconn);
	CHECK(client >= 0 && connect(client, (struct sockaddr *)&to, sizeof(to)) == 0, "connect");
	server = accept(lconn, NULL, NULL);
	CHECK(server >= 0, "accept");
	close(lconn); /* the listener itself goes */

	process("4242", "realsrv", 7, 8, "/");
	link_fd("4242", 3, l4);
	link_fd("4242", 4, l6);
	link_fd("4242", 5, bound);
	link_fd("4242", 6, client);
	link_fd("4242", 7, server);
	snprintf(proc, sizeof(proc), "%s/proc", root);

	l = proc_listeners_new(proc, NULL, LISTENER_TABLE_SOCK_DIAG);
	CHECK(l != NULL, "scan the kernel's table");
	if (!l)
		return;
	CHECK_EQ(proc_listeners_count(l), 2, "the two listeners have owners, no other socket");
	CHECK(owner_of(l, 4, "127.0.0.1", p4, 0, &o) && o.tgid == 4242 && o.uid == 7,
	      "IPv4 listener: its process and uid");
	CHECK_STR(o.comm, "realsrv", "its command");
	CHECK(owner_of(l, 6, "::1", p6, 0, &o) && o.tgid == 4242, "IPv6 listener");
	CHECK(!owner_of(l, 4, "127.0.0.1", pbound, 0, &o), "bound, not listening: no owner");
	CHECK(!owner_of(l, 4, "127.0.0.1", pconn, 0, &o), "closed listener: no owner");

	late = tcp_socket("127.0.0.1", true, &plate);
	link_fd("4242", 8, late);
	CHECK(owner_of(l, 4, "127.0.0.1", plate, 100 * s, &o) && o.tgid == 4242,
	      "a listener opened later: found by the rescan on a miss");
	proc_listeners_free(l);
	close(late);
	close(client);
	close(server);
	close(bound);
	close(l6);
	close(l4);
}

int main(void)
{
	char proc[128], cg[128], path[512];
	struct proc_listeners *l;
	struct tft_owner o;
	struct stat sb;
	const uint64_t s = 1000000000ull;

	if (!mkdtemp(root))
		return 1;
	dir("proc");
	dir("proc/net");
	dir("cg");
	dir("cg/system.slice");
	dir("cg/system.slice/old.service");
	tcp_lines(LINE(0, "0100007F:1F90", "00000000:0000", "0A", "1001")   /* 127.0.0.1:8080 */
		  LINE(1, "00000000:0050", "00000000:0000", "0A", "1002")   /* 0.0.0.0:80 */
		  LINE(2, "0100007F:1F91", "0100007F:9C40", "01", "1003")); /* established */
	put("proc/net/tcp6",
	    "  sl  local_address                         remote_address                        st\n"
	    "   0: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A "
	    "00000000:00000000 00:00000000 00000000     0        0 1004 1 0000000000000000 100 0 0 "
	    "10 0\n"
	    "   1: 00000000000000000000000001000000:20FB 00000000000000000000000000000000:0000 0A "
	    "00000000:00000000 00:00000000 00000000     0        0 1005 1 0000000000000000 100 0 0 "
	    "10 0\n");
	process("1234", "oldsrv", 1000, 100, "/system.slice/old.service");
	sock_link("proc/1234/fd/3", 1001);
	sock_link("proc/1234/fd/4", 1002);
	sock_link("proc/1234/fd/5", 1003);
	process("99", "web6", 0, 0, "/");
	sock_link("proc/99/fd/7", 1004);
	sock_link("proc/99/fd/8", 1005);
	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(cg, sizeof(cg), "%s/cg", root);

	l = proc_listeners_new(proc, cg, LISTENER_TABLE_PROC_NET);
	CHECK(l != NULL, "scan");
	if (!l)
		return t_done();
	CHECK_EQ(proc_listeners_count(l), 4,
		 "four listeners with owners (not the established one)");
	CHECK(owner_of(l, 4, "127.0.0.1", 8080, 0, &o), "bound address");
	CHECK_EQ(o.tgid, 1234, "its process");
	CHECK_STR(o.comm, "oldsrv", "its command");
	CHECK_EQ(o.uid, 1000, "its uid");
	CHECK_EQ(o.gid, 100, "its gid");
	snprintf(path, sizeof(path), "%s/system.slice/old.service", cg);
	CHECK(stat(path, &sb) == 0 && o.cgroup_id == sb.st_ino,
	      "its cgroup id: the directory's inode");
	CHECK(owner_of(l, 4, "10.1.2.3", 80, 0, &o) && o.tgid == 1234, "IPv4 wildcard");
	CHECK(owner_of(l, 4, "127.0.0.1", 443, 0, &o) && o.tgid == 99, "IPv6 wildcard takes IPv4");
	CHECK(owner_of(l, 6, "::1", 8443, 0, &o) && o.tgid == 99, "IPv6 bound ::1");
	CHECK(owner_of(l, 6, "::2", 443, 0, &o) && o.tgid == 99, "IPv6 wildcard");
	CHECK(!owner_of(l, 4, "127.0.0.1", 8081, 0, &o), "nothing on 8081: no owner");
	CHECK(!owner_of(l, 6, "::1", 80, 0, &o), "an IPv4 wildcard does not take IPv6");

	/* A listener that appears later: a miss rescans, at most every PROC_LISTENERS_RESCAN_S. */
	tcp_lines(LINE(0, "0100007F:1F90", "00000000:0000", "0A", "1001")
		      LINE(1, "00000000:0050", "00000000:0000", "0A", "1002")
			  LINE(2, "0100007F:2328", "00000000:0000", "0A", "1006")); /* :9000 */
	process("555", "late", 1, 1, "/");
	sock_link("proc/555/fd/3", 1006);
	CHECK(owner_of(l, 4, "127.0.0.1", 9000, 100 * s, &o) && o.tgid == 555,
	      "first miss rescans");
	tcp_lines(LINE(0, "0100007F:1F90", "00000000:0000", "0A", "1001")
		      LINE(1, "0100007F:2328", "00000000:0000", "0A", "1006")
			  LINE(2, "0100007F:2329", "00000000:0000", "0A", "1007")); /* :9001 */
	sock_link("proc/555/fd/4", 1007);
	CHECK(!owner_of(l, 4, "127.0.0.1", 9001, 105 * s, &o), "within the limit: no rescan");
	CHECK(owner_of(l, 4, "127.0.0.1", 9001, 111 * s, &o) && o.tgid == 555, "after it: rescan");
	CHECK(!owner_of(l, 4, "10.1.2.3", 80, 111 * s, &o), "a listener gone is forgotten");

	/* fds no longer readable (after the privilege drop): owners found before stay. */
	snprintf(path, sizeof(path), "rm -rf %s/proc/1234", root);
	CHECK(system(path) == 0, "remove a process dir");
	CHECK(!owner_of(l, 4, "127.0.0.1", 1, 130 * s, &o), "a miss rescans");
	CHECK(owner_of(l, 4, "127.0.0.1", 8080, 130 * s, &o) && o.tgid == 1234,
	      "the owner found before carries over");
	proc_listeners_free(l);

	CHECK(proc_listeners_new("/nonexistent-proc", NULL, LISTENER_TABLE_PROC_NET) == NULL,
	      "no /proc: NULL");
	test_kernel_table();
	snprintf(path, sizeof(path), "rm -rf %s", root);
	CHECK(system(path) == 0, "cleanup");
	return t_done();
}
