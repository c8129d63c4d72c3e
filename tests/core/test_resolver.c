/*
 * resolver.c against real DNS servers on loopback, all in one event loop:
 * - dnsmasq (started here on a port of its own, stopped by its PID) with PTR
 *   records, NXDOMAIN for the rest of its zones, and printable hostile names;
 *   duplicates asked while pending cost exactly one query (its query log);
 * - a UDP socket that never answers: the lookup fails as a timeout within
 *   c-ares' bound while a ticking timer shows the loop kept running;
 * - a tiny responder of our own that answers with raw control bytes (ESC) in
 *   the PTR name, which dnsmasq refuses to serve: what does c-ares do?
 * - the in-flight bound and queue overflow; lookups asked from a callback;
 *   own-socket recognition; teardown with lookups pending.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ares.h>

#include "event_loop.h"
#include "free_port.h"
#include "resolver.h"
#include "t.h"

#define DNSMASQ "/usr/sbin/dnsmasq"
#define MAX_ANSWERS 64

struct answer {
	uint8_t family;
	uint8_t addr[16];
	char name[300];
	int has_name;
	int status;
	uint64_t at_ms;
};

static struct event_loop *loop;
static struct answer answers[MAX_ANSWERS];
static int n_answers, want_answers;
static unsigned ticks;
static uint64_t t0_ms;
static unsigned max_seen_inflight;
static struct resolver *cur; /* the resolver the callback may poke */
static int chain_lookup;     /* ask for chain_addr from inside the callback of this answer */
static uint8_t chain_addr[16];

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_name(uint8_t family, const uint8_t addr[16], const char *name, size_t len,
		    int status, void *ctx)
{
	struct answer *a;

	(void)ctx;
	if (n_answers >= MAX_ANSWERS)
		return;
	a = &answers[n_answers++];
	a->family = family;
	memcpy(a->addr, addr, 16);
	a->has_name = name != NULL;
	if (name) {
		CHECK_EQ(strlen(name), len, "name length");
		snprintf(a->name, sizeof(a->name), "%s", name);
	}
	a->status = status;
	a->at_ms = now_ms() - t0_ms;
	if (cur && resolver_stats(cur)->in_flight > max_seen_inflight)
		max_seen_inflight = (unsigned)resolver_stats(cur)->in_flight;
	if (chain_lookup && cur && n_answers == chain_lookup) {
		chain_lookup = 0;
		CHECK_EQ(resolver_lookup(cur, 4, chain_addr), 0, "lookup from inside a callback");
	}
	if (n_answers >= want_answers)
		event_loop_stop(loop);
}

static void on_tick(int fd, uint32_t events, void *ctx)
{
	(void)events;
	(void)ctx;
	event_loop_timerfd_ack(fd);
	ticks++;
}

static void on_deadline(int fd, uint32_t events, void *ctx)
{
	(void)events;
	(void)ctx;
	event_loop_timerfd_ack(fd);
	fprintf(stderr, "deadline reached with %d of %d answers\n", n_answers, want_answers);
	event_loop_stop(loop);
}

/* Runs the loop until want answers arrived or deadline_ms passed. */
static void run_until(int want, unsigned deadline_ms)
{
	int dl = event_loop_timerfd(deadline_ms, 0);

	want_answers = want;
	if (n_answers < want) {
		event_loop_add(loop, dl, EPOLLIN, on_deadline, NULL);
		event_loop_run(loop);
		event_loop_del(loop, dl);
	}
	close(dl);
}

static const struct answer *find_answer(uint8_t family, const char *text)
{
	uint8_t a[16] = {0};
	int i;

	inet_pton(family == 4 ? AF_INET : AF_INET6, text, a);
	for (i = 0; i < n_answers; i++)
		if (answers[i].family == family && memcmp(answers[i].addr, a, 16) == 0)
			return &answers[i];
	return NULL;
}

static int lookup_text(struct resolver *r, uint8_t family, const char *text)
{
	uint8_t a[16] = {0};

	inet_pton(family == 4 ? AF_INET : AF_INET6, text, a);
	return resolver_lookup(r, family, a);
}

/* A loopback UDP socket on a free port; returns the fd, port in *port. */
static int udp_socket(uint16_t *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) < 0) {
		perror("udp socket");
		exit(1);
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/* --- dnsmasq ------------------------------------------------------------------------------ */

static pid_t dnsmasq_pid = -1;

static void stop_dnsmasq(void)
{
	if (dnsmasq_pid > 0) {
		kill(dnsmasq_pid, SIGTERM);
		waitpid(dnsmasq_pid, NULL, 0);
		dnsmasq_pid = -1;
	}
}

/* A blocking probe: does the server on port answer a query yet? */
static int server_answers(uint16_t port)
{
	static const uint8_t q[] = {0x12, 0x34, 1,   0,	  0,   1,   0,	 0, 0, 0, 0, 0, 7,
				    'e',  'x',	'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1};
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct timeval tv = {.tv_usec = 100000};
	uint8_t buf[512];
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	sendto(fd, q, sizeof(q), 0, (struct sockaddr *)&sin, sizeof(sin));
	n = recv(fd, buf, sizeof(buf), 0);
	close(fd);
	return n >= 12 && buf[0] == 0x12 && buf[1] == 0x34;
}

#define V6_REV "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"

static int start_dnsmasq(uint16_t port, const char *logfile)
{
	char portarg[32], logarg[300];
	int i;

	snprintf(portarg, sizeof(portarg), "--port=%u", port);
	snprintf(logarg, sizeof(logarg), "--log-facility=%s", logfile);
	dnsmasq_pid = fork();
	if (dnsmasq_pid < 0)
		return -errno;
	if (dnsmasq_pid == 0) {
		execl(DNSMASQ, DNSMASQ, "--no-daemon", portarg, "--listen-address=127.0.0.1",
		      "--bind-interfaces", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
		      "--user=root", "--group=root", "--log-queries", logarg,
		      "--local=/2.0.192.in-addr.arpa/", "--local=/8.b.d.0.1.0.0.2.ip6.arpa/",
		      "--ptr-record=1.2.0.192.in-addr.arpa,one.example",
		      "--ptr-record=2.2.0.192.in-addr.arpa,two.example",
		      "--ptr-record=" V6_REV ",six.example",
		      "--ptr-record=5.2.0.192.in-addr.arpa,evil name;$(x).example",
		      "--ptr-record=6.2.0.192.in-addr.arpa,back\\033slash.example", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 50; i++) {
		if (server_answers(port))
			return 0;
		if (waitpid(dnsmasq_pid, NULL, WNOHANG) == dnsmasq_pid) {
			dnsmasq_pid = -1;
			return -ECHILD;
		}
	}
	return -ETIMEDOUT;
}

/*
 * dnsmasq on a free loopback port. Another process can still take the port between the check
 * and dnsmasq's bind, so a start that exits early is tried again.
 */
static int start_dnsmasq_somewhere(const char *logfile, uint16_t *port)
{
	struct sockaddr_storage ss = {.ss_family = AF_INET};
	int attempt, err = -ECHILD;

	((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (attempt = 0; attempt < 5 && err == -ECHILD; attempt++) {
		*port = free_port(&ss, sizeof(struct sockaddr_in));
		if (!*port)
			return -EADDRINUSE;
		err = start_dnsmasq(*port, logfile);
	}
	return err;
}

/* Lines of the dnsmasq log holding needle. */
static int count_in_file(const char *path, const char *needle)
{
	char line[1024];
	FILE *f = fopen(path, "r");
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

/* --- a responder answering every PTR query with a name holding raw bytes --------------------- */

static const uint8_t raw_label[] = {'e', 'v', 'i', 'l', 0x1b, '[', '3', '1', 'm', 'x'};

static void on_raw_query(int fd, uint32_t events, void *ctx)
{
	uint8_t q[512], r[600];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n;
	size_t qend, o;

	(void)events;
	(void)ctx;
	n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
	if (n < 17)
		return;
	for (qend = 12; qend < (size_t)n && q[qend]; qend += q[qend] + 1u)
		;
	qend += 5; /* root label, type, class */
	if (qend > (size_t)n)
		return;
	memcpy(r, q, qend);
	r[2] = 0x85; /* QR, AA, RD */
	r[3] = 0x80;
	r[6] = 0;
	r[7] = 1; /* one answer */
	r[8] = r[9] = r[10] = r[11] = 0;
	o = qend;
	r[o++] = 0xc0; /* the question's name */
	r[o++] = 12;
	r[o++] = 0;
	r[o++] = 12; /* PTR */
	r[o++] = 0;
	r[o++] = 1;
	memset(r + o, 0, 3);
	o += 3;
	r[o++] = 60; /* TTL */
	r[o++] = 0;
	r[o++] = (uint8_t)(1 + sizeof(raw_label) + 9);
	r[o++] = sizeof(raw_label);
	memcpy(r + o, raw_label, sizeof(raw_label));
	o += sizeof(raw_label);
	memcpy(r + o, "\7example\0", 9);
	o += 9;
	sendto(fd, r, o, 0, (struct sockaddr *)&from, fl);
}

/* --- the tests ------------------------------------------------------------------------------ */

static struct resolver *make(uint16_t port, unsigned inflight, unsigned queue, unsigned timeout_ms)
{
	struct resolver_server srv;
	struct resolver_opts o = {.max_inflight = inflight,
				  .max_queue = queue,
				  .timeout_ms = timeout_ms,
				  .tries = 2,
				  .server = &srv};
	char spec[64], err[256];
	struct resolver *r;

	snprintf(spec, sizeof(spec), "127.0.0.1:%u", port);
	CHECK_EQ(resolver_parse_server(spec, &srv), 0, "parse server");
	r = resolver_new(loop, &o, on_name, NULL, err, sizeof(err));
	if (!r)
		fprintf(stderr, "resolver_new: %s\n", err);
	CHECK(r != NULL, "resolver_new");
	return r;
}

static void reset_answers(void)
{
	n_answers = 0;
	memset(answers, 0, sizeof(answers));
	t0_ms = now_ms();
	max_seen_inflight = 0;
}

static void test_parse_server(void)
{
	struct resolver_server s;

	CHECK_EQ(resolver_parse_server("127.0.0.1", &s), 0, "v4");
	CHECK_EQ(s.family, 4, "v4 family");
	CHECK_EQ(s.port, 53, "v4 default port");
	CHECK_EQ(resolver_parse_server("127.0.0.2:5353", &s), 0, "v4:port");
	CHECK_EQ(s.port, 5353, "v4 port");
	CHECK_EQ(s.addr[3], 2, "v4 addr");
	CHECK_EQ(resolver_parse_server("[::1]:5353", &s), 0, "[v6]:port");
	CHECK_EQ(s.family, 6, "v6 family");
	CHECK_EQ(s.port, 5353, "v6 port");
	CHECK_EQ(s.addr[15], 1, "v6 addr");
	CHECK_EQ(resolver_parse_server("::1", &s), 0, "bare v6");
	CHECK_EQ(s.port, 53, "bare v6 port");
	CHECK_EQ(resolver_parse_server("[::1]", &s), 0, "[v6]");
	CHECK(resolver_parse_server("", &s) < 0, "empty");
	CHECK(resolver_parse_server("1.2.3.4:0", &s) < 0, "port 0");
	CHECK(resolver_parse_server("1.2.3.4:65536", &s) < 0, "port too big");
	CHECK(resolver_parse_server("1.2.3.4:53x", &s) < 0, "port junk");
	CHECK(resolver_parse_server("1.2.3:53", &s) < 0, "short v4");
	CHECK(resolver_parse_server("[::1:53", &s) < 0, "no bracket");
	CHECK(resolver_parse_server("[::1]x", &s) < 0, "junk after bracket");
	CHECK(resolver_parse_server("example.com", &s) < 0, "a name");
}

static void test_dnsmasq(uint16_t port, const char *logfile)
{
	struct resolver *r = make(port, 16, 64, 500);
	const struct resolver_stats *st;
	const struct answer *a;
	int i;

	if (!r)
		return;
	cur = r;
	reset_answers();
	CHECK_EQ(lookup_text(r, 4, "192.0.2.1"), 0, "first ask");
	CHECK_EQ(lookup_text(r, 4, "192.0.2.1"), 1, "dup while pending");
	CHECK_EQ(lookup_text(r, 4, "192.0.2.2"), 0, "second address");
	CHECK_EQ(lookup_text(r, 6, "2001:db8::1"), 0, "v6 address");
	CHECK_EQ(lookup_text(r, 4, "192.0.2.99"), 0, "nxdomain address");
	CHECK_EQ(lookup_text(r, 4, "192.0.2.5"), 0, "printable hostile name");
	CHECK_EQ(lookup_text(r, 4, "192.0.2.6"), 0, "backslash name");
	for (i = 0; i < 3; i++) {
		CHECK_EQ(lookup_text(r, 4, "192.0.2.1"), 1, "dup again");
		CHECK_EQ(lookup_text(r, 4, "192.0.2.99"), 1, "dup nxdomain");
	}
	CHECK_EQ(lookup_text(r, 6, "2001:db8::1"), 1, "dup v6");
	CHECK_EQ(resolver_lookup(r, 5, answers[0].addr), -EAFNOSUPPORT, "bad family");
	st = resolver_stats(r);
	CHECK_EQ(st->deduped, 8, "deduped");
	CHECK_EQ(st->in_flight + st->queued, 6, "pending");

	run_until(6, 5000);
	CHECK_EQ(n_answers, 6, "one answer per address");
	a = find_answer(4, "192.0.2.1");
	CHECK(a && a->has_name, "one.example answered");
	if (a)
		CHECK_STR(a->name, "one.example", "192.0.2.1");
	a = find_answer(4, "192.0.2.2");
	if (a)
		CHECK_STR(a->name, "two.example", "192.0.2.2");
	CHECK(a != NULL, "192.0.2.2 answered");
	a = find_answer(6, "2001:db8::1");
	if (a)
		CHECK_STR(a->name, "six.example", "2001:db8::1");
	CHECK(a != NULL, "2001:db8::1 answered");
	a = find_answer(4, "192.0.2.99");
	CHECK(a && !a->has_name, "NXDOMAIN has no name");
	if (a)
		CHECK_EQ(a->status, ARES_ENOTFOUND, "NXDOMAIN status");
	a = find_answer(4, "192.0.2.5");
	CHECK(a != NULL, "hostile name answered");
	if (a)
		fprintf(stderr, "c-ares on PTR \"evil name;$(x).example\": %s (%s)\n",
			a->has_name ? a->name : "no name", ares_strerror(a->status));
	a = find_answer(4, "192.0.2.6");
	CHECK(a != NULL, "backslash name answered");
	if (a)
		fprintf(stderr, "c-ares on PTR \"back\\033slash.example\": %s (%s)\n",
			a->has_name ? a->name : "no name", ares_strerror(a->status));

	st = resolver_stats(r);
	CHECK_EQ(st->started, 6, "started");
	CHECK_EQ(st->in_flight, 0, "none in flight");
	CHECK_EQ(st->queued, 0, "none queued");
	CHECK_EQ(st->done + st->failed, 6, "done + failed");
	CHECK(st->failed >= 1, "NXDOMAIN counted as failed");
	CHECK_EQ(st->timeouts, 0, "no timeouts");

	/* Exactly one query per address reached the server. */
	usleep(200000);
	CHECK_EQ(count_in_file(logfile, "query[PTR] 1.2.0.192.in-addr.arpa"), 1, "one query .1");
	CHECK_EQ(count_in_file(logfile, "query[PTR] 2.2.0.192.in-addr.arpa"), 1, "one query .2");
	CHECK_EQ(count_in_file(logfile, "query[PTR] 99.2.0.192.in-addr.arpa"), 1, "one query .99");
	CHECK_EQ(count_in_file(logfile, "query[PTR] " V6_REV), 1, "one query v6");

	/* Answered: asking again is a new lookup (caching is the caller's job). */
	reset_answers();
	CHECK_EQ(lookup_text(r, 4, "192.0.2.1"), 0, "ask again after the answer");
	run_until(1, 3000);
	CHECK_EQ(n_answers, 1, "second answer");
	resolver_free(r);
	cur = NULL;
}

/* At most max_inflight on the wire, the queue bounded, overflow counted; lookups from callbacks. */
static void test_limits(uint16_t port)
{
	struct resolver *r = make(port, 2, 3, 500);
	const struct resolver_stats *st;
	char ip[32];
	int i, ok = 0;

	if (!r)
		return;
	cur = r;
	reset_answers();
	inet_pton(AF_INET, "192.0.2.2", chain_addr);
	chain_lookup = 5; /* once the queue has room again */
	for (i = 10; i < 16; i++) {
		snprintf(ip, sizeof(ip), "192.0.2.%d", i);
		if (lookup_text(r, 4, ip) == 0)
			ok++;
		CHECK(resolver_stats(r)->in_flight <= 2, "in flight bounded");
	}
	st = resolver_stats(r);
	CHECK_EQ(ok, 5, "two in flight + three queued accepted");
	CHECK_EQ(st->dropped, 1, "overflow counted");
	CHECK_EQ(st->in_flight, 2, "two in flight");
	CHECK_EQ(st->queued, 3, "three queued");
	run_until(6, 5000);
	CHECK_EQ(n_answers, 6, "five answers and the chained one");
	CHECK(max_seen_inflight <= 2, "in flight bounded in callbacks");
	CHECK(find_answer(4, "192.0.2.2") && find_answer(4, "192.0.2.2")->has_name,
	      "lookup asked from a callback answered");
	CHECK_EQ(st->started, 6, "started");
	CHECK_EQ(st->failed, 5, "NXDOMAINs failed");
	resolver_free(r);
	cur = NULL;
}

/* A server that never answers: a timeout within the bound, the loop alive, our socket known. */
static void test_timeout(void)
{
	uint16_t port, qport = 0;
	int silent = udp_socket(&port), tick = event_loop_timerfd(20, 1);
	struct resolver *r = make(port, 4, 4, 200); /* gives up after 200 + 400 ms */
	struct tft_dns_event ev;
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	uint8_t buf[512];
	const struct answer *a;

	if (!r)
		return;
	event_loop_add(loop, tick, EPOLLIN, on_tick, NULL);
	reset_answers();
	ticks = 0;
	CHECK_EQ(lookup_text(r, 4, "192.0.2.1"), 0, "ask the silent server");
	/* Peek at the query (never answered) to learn the resolver's own port. */
	usleep(50000);
	if (recvfrom(silent, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT, (struct sockaddr *)&from,
		     &fl) > 0)
		qport = ntohs(from.sin_port);
	CHECK(qport != 0, "query reached the silent server");
	memset(&ev, 0, sizeof(ev));
	ev.type = TFT_REC_DNS;
	ev.family = 4;
	ev.saddr[0] = ev.daddr[0] = 127;
	ev.saddr[3] = ev.daddr[3] = 1;
	ev.sport = htons(port);
	ev.dport = htons(qport);
	CHECK(resolver_owns_dns(r, &ev), "an answer to our socket is ours");
	ev.dport = htons((uint16_t)(qport + 1));
	CHECK(!resolver_owns_dns(r, &ev), "another port is not ours");
	ev.sk_cookie = 12345;
	CHECK(!resolver_owns_dns(r, &ev), "an unknown cookie is not ours");
	CHECK(!resolver_owns_flow(r, 4, ev.daddr, qport), "no TCP socket of ours");

	run_until(1, 3000);
	CHECK_EQ(n_answers, 1, "the lookup ended");
	a = find_answer(4, "192.0.2.1");
	CHECK(a && !a->has_name, "no name");
	if (a) {
		CHECK_EQ(a->status, ARES_ETIMEOUT, "timeout status");
		CHECK(a->at_ms >= 550 && a->at_ms <= 1500, "within the bound (600 ms)");
		fprintf(stderr, "timeout after %llu ms, %u ticks of 20 ms meanwhile\n",
			(unsigned long long)a->at_ms, ticks);
		CHECK(ticks >= a->at_ms / 20 / 2, "the loop kept running");
	}
	CHECK_EQ(resolver_stats(r)->timeouts, 1, "timeout counted");
	CHECK_EQ(resolver_stats(r)->failed, 1, "timeout is a failure");
	ev.dport = htons(qport);
	ev.sk_cookie = 0;
	CHECK(resolver_owns_dns(r, &ev), "still ours for a grace period after close");

	/* Teardown with lookups pending: ARES_EDESTRUCTION must not reach on_name. */
	reset_answers();
	CHECK_EQ(lookup_text(r, 4, "192.0.2.7"), 0, "pending at teardown");
	CHECK_EQ(lookup_text(r, 4, "192.0.2.8"), 0, "pending at teardown 2");
	resolver_free(r);
	CHECK_EQ(n_answers, 0, "no callback from teardown");
	event_loop_del(loop, tick);
	close(tick);
	close(silent);
}

/* Raw control bytes in a PTR name, which dnsmasq will not serve. */
static void test_raw_bytes(void)
{
	uint16_t port;
	int fd = udp_socket(&port);
	struct resolver *r;
	const struct answer *a;

	event_loop_add(loop, fd, EPOLLIN, on_raw_query, NULL);
	r = make(port, 4, 4, 500);
	if (r) {
		reset_answers();
		lookup_text(r, 4, "192.0.2.1");
		run_until(1, 3000);
		a = find_answer(4, "192.0.2.1");
		CHECK(a != NULL, "raw-bytes name answered");
		if (a) {
			fprintf(stderr, "c-ares on PTR \"evil\\x1b[31mx.example\": %s (%s)\n",
				a->has_name ? "a name" : "no name", ares_strerror(a->status));
			/* c-ares 1.18 validates PTR names as hostnames: the lookup fails. */
			if (a->has_name)
				CHECK(strchr(a->name, 0x1b) == NULL, "no raw ESC handed out");
		}
		resolver_free(r);
	}
	event_loop_del(loop, fd);
	close(fd);
}

int main(void)
{
	char logfile[] = "/tmp/tft-dnsmasq-XXXXXX";
	uint16_t port;
	int lfd, err;

	signal(SIGPIPE, SIG_IGN);
	test_parse_server();
	loop = event_loop_new();
	CHECK(loop != NULL, "loop");
	if (!loop)
		return t_done();

	test_timeout();
	test_raw_bytes();

	if (access(DNSMASQ, X_OK) != 0) {
		fprintf(stderr, "skipped: %s missing (apt-get install dnsmasq-base)\n", DNSMASQ);
		event_loop_free(loop);
		return T_SKIP;
	}
	lfd = mkstemp(logfile);
	if (lfd >= 0)
		close(lfd);
	chmod(logfile, 0666);
	err = start_dnsmasq_somewhere(logfile, &port);
	CHECK_EQ(err, 0, "dnsmasq started");
	if (!err) {
		test_dnsmasq(port, logfile);
		test_limits(port);
	}
	stop_dnsmasq();
	unlink(logfile);
	event_loop_free(loop);
	return t_done();
}
