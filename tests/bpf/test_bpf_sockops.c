/*
 * The sockops program through real sockets: the programs attached to a test
 * cgroup that this process joins, real loopback connections over IPv4 and
 * IPv6 that carry exactly 100000 bytes one way and 1234 the other, and the
 * capture's records applied to a flow table, as the pipeline does. Checks
 * each flow's end (who sent the first FIN, who reset), its payload byte
 * counts both ways, and that an incoming flow is established.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "cgroup.h"
#include "flow_table.h"
#include "../cgroup_join.h"
#include "../t.h"

#define TO_SERVER 100000
#define TO_CLIENT 1234

static struct flow_table *table;
static int nsock; /* socket records read */

static void on_tcp(const struct tft_tcp_event *ev, void *ctx)
{
	(void)ctx;
	flow_table_apply(table, ev, NULL);
}

static void on_sock(const struct tft_sock_event *ev, void *ctx)
{
	(void)ctx;
	nsock++;
	flow_table_apply_sock(table, ev, NULL);
}

static int send_all(int fd, size_t n)
{
	char buf[8192];

	memset(buf, 'x', sizeof(buf));
	while (n > 0) {
		ssize_t w = send(fd, buf, n < sizeof(buf) ? n : sizeof(buf), MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		n -= (size_t)w;
	}
	return 0;
}

static int recv_exactly(int fd, size_t n)
{
	char buf[8192];

	while (n > 0) {
		ssize_t r = recv(fd, buf, n < sizeof(buf) ? n : sizeof(buf), 0);

		if (r <= 0)
			return -1;
		n -= (size_t)r;
	}
	return 0;
}

enum ending {
	CLIENT_FIN_FIRST, /* the client closes, then the server */
	SERVER_FIN_FIRST, /* the server closes, then the client */
	SERVER_RESETS,	  /* the server aborts (SO_LINGER 0) */
};

struct server_arg {
	int listener;
	enum ending ending;
	int ok;
};

static void *serve(void *p)
{
	struct server_arg *a = p;
	int c = accept(a->listener, NULL, NULL);
	char b;

	if (c < 0)
		return NULL;
	if (recv_exactly(c, TO_SERVER) || send_all(c, TO_CLIENT))
		goto out;
	if (a->ending == SERVER_RESETS) {
		struct linger l = {1, 0};

		usleep(50000); /* the client has read what was sent: no data in flight */
		setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	} else if (a->ending == CLIENT_FIN_FIRST) {
		if (recv(c, &b, 1, 0) != 0) /* the client's FIN */
			goto out;
	}
	a->ok = 1;
out:
	close(c);
	return NULL;
}

/* One connection over family, ended as asked; 0 when both ends did their part. */
static int converse(int family, enum ending ending)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	socklen_t len = family == AF_INET ? sizeof(*a4) : sizeof(*a6);
	struct server_arg arg = {.ending = ending};
	int cl = -1, rc = -1;
	pthread_t th;
	char b;

	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET)
		a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		a6->sin6_addr = in6addr_loopback;
	arg.listener = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (arg.listener < 0 || bind(arg.listener, (struct sockaddr *)&ss, len) ||
	    listen(arg.listener, 4) || getsockname(arg.listener, (struct sockaddr *)&ss, &len))
		goto out;
	if (pthread_create(&th, NULL, serve, &arg))
		goto out;
	cl = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cl >= 0 && !connect(cl, (struct sockaddr *)&ss, len) && !send_all(cl, TO_SERVER) &&
	    !recv_exactly(cl, TO_CLIENT)) {
		if (ending == SERVER_FIN_FIRST || ending == SERVER_RESETS)
			rc = recv(cl, &b, 1, 0) <= 0 ? 0 : -1; /* the server's FIN, or its RST */
		else
			rc = 0;
	}
	if (cl >= 0)
		close(cl);
	pthread_join(th, NULL);
	if (!arg.ok)
		rc = -1;
out:
	if (arg.listener >= 0)
		close(arg.listener);
	return rc;
}

/* The newest flow of a direction, after the capture had time to report both ends' closes. */
static const struct tft_flow *newest(enum tft_direction dir)
{
	const struct tft_flow *f, *found = NULL;

	for (f = flow_table_first(table); f; f = flow_table_next(table, f))
		if (f->key.dir == dir)
			found = f;
	return found;
}

static void settle(struct capture *c)
{
	struct timespec ts = {0, 20 * 1000 * 1000};
	int i;

	/* Closes come when each socket reaches CLOSE; TIME_WAIT's comes at once, no 60 s wait. */
	for (i = 0; i < 50; i++) {
		const struct tft_flow *in, *out;

		capture_drain(c);
		in = newest(TFT_DIR_IN);
		out = newest(TFT_DIR_OUT);
		if (in && out && in->end && out->end)
			return;
		nanosleep(&ts, NULL);
	}
}

static void check_case(struct capture *c, int family, enum ending ending, const char *what)
{
	const struct tft_flow *in, *out;
	char name[128];

	flow_table_clear(table);
	snprintf(name, sizeof(name), "%s: the conversation", what);
	CHECK_EQ(converse(family, ending), 0, name);
	settle(c);
	in = newest(TFT_DIR_IN);
	out = newest(TFT_DIR_OUT);
	snprintf(name, sizeof(name), "%s: both flows", what);
	CHECK(in && out, name);
	if (!in || !out)
		return;
	snprintf(name, sizeof(name), "%s: the flows are closed", what);
	CHECK(in->state == TFT_STATE_CLOSED && out->state == TFT_STATE_CLOSED, name);
	snprintf(name, sizeof(name), "%s: figures known", what);
	CHECK((in->flags & TFT_FLOW_F_FIGURES) && (out->flags & TFT_FLOW_F_FIGURES), name);
	snprintf(name, sizeof(name), "%s: client sent", what);
	CHECK_EQ(out->bytes_out, TO_SERVER, name);
	snprintf(name, sizeof(name), "%s: client received", what);
	CHECK_EQ(out->bytes_in, TO_CLIENT, name);
	snprintf(name, sizeof(name), "%s: server received", what);
	CHECK_EQ(in->bytes_in, TO_SERVER, name);
	snprintf(name, sizeof(name), "%s: server sent", what);
	CHECK_EQ(in->bytes_out, TO_CLIENT, name);
	snprintf(name, sizeof(name), "%s: no SYN cookie", what);
	CHECK(!(in->flags & TFT_FLOW_F_SYNCOOKIE), name);
	snprintf(name, sizeof(name), "%s: an RTT", what);
	CHECK(out->rtt_us > 0 && in->rtt_us > 0, name);
	snprintf(name, sizeof(name), "%s: ended after it began", what);
	CHECK(out->end_ns >= out->syn_ns && in->end_ns >= in->syn_ns, name);
	snprintf(name, sizeof(name), "%s: client's end", what);
	CHECK_EQ(out->end,
		 ending == CLIENT_FIN_FIRST   ? TFT_END_FIN_LOCAL
		 : ending == SERVER_FIN_FIRST ? TFT_END_FIN_PEER
					      : TFT_END_RESET_PEER,
		 name);
	snprintf(name, sizeof(name), "%s: server's end", what);
	CHECK_EQ(in->end,
		 ending == CLIENT_FIN_FIRST   ? TFT_END_FIN_PEER
		 : ending == SERVER_FIN_FIRST ? TFT_END_FIN_LOCAL
					      : TFT_END_RESET_LOCAL,
		 name);
}

/*
 * Programs on a parent, watching one child (as --cgroup does, to follow a
 * recreated cgroup): a sibling's sockets write no socket record at all, the
 * watched child's end as above.
 */
static void test_follow(const char *dir, const char *own)
{
	char watched[PATH_MAX + 48], sibling[PATH_MAX + 48], err[512];
	struct capture_opts opts = {.ring_bytes = 1 << 20, .on_sock = on_sock};
	struct capture *c;
	uint64_t id = 0;
	int level = 0;

	snprintf(watched, sizeof(watched), "%s/watched", dir);
	snprintf(sibling, sizeof(sibling), "%s/sibling", dir);
	CHECK(!mkdir(watched, 0755) && !mkdir(sibling, 0755), "follow: test cgroups made");
	CHECK(!cgroup_level(watched, &level) && !cgroup_id(watched, &id), "follow: level and id");
	opts.cgroup_path = watched;
	opts.watch_level = (unsigned)level;
	opts.watch_cgroup_id = id;
	c = capture_new(&opts, on_tcp, NULL, NULL, err, sizeof(err));
	CHECK(c != NULL, "follow: programs on the parent");
	if (c) {
		CHECK(capture_follows(c), "follow: the programs are on the parent");
		CHECK_EQ(enter_cgroup(sibling), 0, "follow: into the sibling");
		nsock = 0;
		CHECK_EQ(converse(AF_INET, CLIENT_FIN_FIRST), 0,
			 "follow: the sibling's conversation");
		usleep(200000);
		capture_drain(c);
		CHECK_EQ(nsock, 0, "follow: a sibling's sockets write no record");
		CHECK_EQ(enter_cgroup(watched), 0, "follow: into the watched cgroup");
		check_case(c, AF_INET, CLIENT_FIN_FIRST, "follow: the watched cgroup");
		CHECK(nsock >= 3, "follow: the watched cgroup's sockets write theirs");
		CHECK_EQ(enter_cgroup(own), 0, "follow: back to the test's own cgroup");
		capture_free(c);
	} else {
		fprintf(stderr, "# %s\n", err);
	}
	rmdir(watched);
	rmdir(sibling);
}

int main(void)
{
	char root[PATH_MAX], own[PATH_MAX], dir[PATH_MAX + 32], err[512];
	struct capture_opts opts = {.ring_bytes = 1 << 20, .on_sock = on_sock};
	struct capture *c;

	if (geteuid() != 0) {
		fprintf(stderr, "SKIP: BPF tests need root (CAP_BPF + CAP_NET_ADMIN)\n");
		return T_SKIP;
	}
	if (cgroup_find_v2_root("/proc/self/mounts", root, sizeof(root)) ||
	    own_cgroup(root, own, sizeof(own))) {
		fprintf(stderr, "SKIP: no cgroup v2 hierarchy here\n");
		return T_SKIP;
	}
	snprintf(dir, sizeof(dir), "%s/tft-sockops-%d", root, (int)getpid());
	if (mkdir(dir, 0755)) {
		fprintf(stderr, "FAIL: mkdir %s: %s\n", dir, strerror(errno));
		return 1;
	}
	table = flow_table_new(64);
	opts.cgroup_path = dir;
	c = capture_new(&opts, on_tcp, NULL, NULL, err, sizeof(err));
	CHECK(c != NULL, "programs loaded and attached");
	if (c) {
		CHECK(capture_outcomes_off(c) == NULL, "the sockops program runs");
		CHECK_EQ(enter_cgroup(dir), 0, "into the test cgroup");
		check_case(c, AF_INET, CLIENT_FIN_FIRST, "IPv4, client closes first");
		check_case(c, AF_INET, SERVER_FIN_FIRST, "IPv4, server closes first");
		check_case(c, AF_INET, SERVER_RESETS, "IPv4, server resets");
		check_case(c, AF_INET6, CLIENT_FIN_FIRST, "IPv6, client closes first");
		check_case(c, AF_INET6, SERVER_RESETS, "IPv6, server resets");
		CHECK_EQ(enter_cgroup(own), 0, "back to the test's own cgroup");
		capture_free(c);
	} else {
		fprintf(stderr, "# %s\n", err);
	}
	test_follow(dir, own);
	flow_table_free(table);
	rmdir(dir);
	return t_done();
}
