/*
 * tcpflowtop: parse options, wire capture -> flow table -> output through one
 * event loop, and tear down in reverse order.
 */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "capture.h"
#include "cgroup.h"
#include "clock.h"
#include "event_loop.h"
#include "filter.h"
#include "flow_table.h"
#include "output_stream.h"
#include "privs.h"

#ifndef TFT_VERSION
#define TFT_VERSION "0.0.0"
#endif

/* Drain period: the programs do not wake us per event, so this bounds latency. */
#define DRAIN_INTERVAL_MS 50
#define DEFAULT_CAPACITY 100000

const char *argp_program_version = "tcpflowtop " TFT_VERSION;
const char *argp_program_bug_address = NULL;

static const char doc[] =
	"tcpflowtop -- watch new TCP connections as they open.\v"
	"Shows each new TCP flow (its SYN) with direction, addresses, ports, and whether it was "
	"accepted (SYN-ACK), refused (RST) or is still pending, with SYN retransmissions and the "
	"handshake time. Output is a stream of lines (--batch, chosen whenever stdout is not a "
	"terminal) in text, CSV or JSON lines; see the README for every column.\n\n"
	"Needs root, or CAP_BPF and CAP_NET_ADMIN; Linux 5.8+ with cgroup v2.\n\n"
	"Examples:\n"
	"  sudo tcpflowtop --batch --port 443,8000-8100\n"
	"  sudo tcpflowtop --format csv --duration 60 > flows.csv\n"
	"  sudo tcpflowtop --format json --direction in | jq .";

enum {
	OPT_CGROUP = 0x100,
	OPT_DIRECTION,
	OPT_RING_SIZE,
	OPT_CAPACITY,
	OPT_USER, /* harden: privilege drop */
};

static const struct argp_option options[] = {
	{"batch", 'b', NULL, 0, "Stream lines instead of the screen (default when stdout is not a terminal)", 0},
	{"format", 'f', "FMT", 0, "Stream format: text (default), csv, json (JSON lines)", 0},
	{"duration", 'D', "SECONDS", 0, "Stop after SECONDS (fractions allowed)", 0},
	{"count", 'c', "N", 0, "Stop after N new flows have been printed", 0},
	{NULL, '4', NULL, 0, "IPv4 flows only", 1},
	{NULL, '6', NULL, 0, "IPv6 flows only", 1},
	{"port", 'p', "LIST", 0, "Flows with either port in LIST, e.g. 443,8000-8100; !LIST excludes", 1},
	{"direction", OPT_DIRECTION, "DIR", 0, "in (incoming), out (outgoing) or all", 1},
	{"cgroup", OPT_CGROUP, "PATH", 0, "Watch this cgroup v2 directory (default: the cgroup v2 root)", 2},
	{"ring-size", OPT_RING_SIZE, "BYTES", 0, "BPF ring buffer size, a power of two (default 4194304)", 2},
	{"capacity", OPT_CAPACITY, "N", 0, "Flows kept in the table; the oldest go first (default 100000)", 2},
	{"verbose", 'v', NULL, 0, "Show libbpf's debug messages", 2},
	{"user", OPT_USER, "NAME", 0, "Drop to this user once attached (default: the sudo user, else nobody)", 2},
	{0},
};

struct env {
	bool batch;
	enum output_format format;
	double duration; /* seconds, 0 = forever */
	unsigned long long count; /* 0 = unlimited */
	struct filter filter;
	const char *cgroup;
	size_t ring_bytes;
	size_t capacity;
	bool verbose;
	const char *user; /* harden: --user, NULL for SUDO_UID or nobody */
};

static struct env env = {
	.capacity = DEFAULT_CAPACITY,
};

/* Strict unsigned parse: digits only, in [min, max]. */
static int parse_ull(const char *s, unsigned long long min, unsigned long long max,
		     unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	unsigned long long v = 0;
	char err[256];
	char *end;

	switch (key) {
	case 'b':
		env.batch = true;
		break;
	case 'f':
		if (output_format_parse(arg, &env.format))
			argp_error(state, "unknown format \"%s\" (expected text, csv or json)", arg);
		break;
	case 'D':
		errno = 0;
		env.duration = strtod(arg, &end);
		if (errno || end == arg || *end || !(env.duration > 0) || env.duration > 1e7)
			argp_error(state, "bad duration \"%s\" (expected seconds > 0)", arg);
		break;
	case 'c':
		if (parse_ull(arg, 1, ULLONG_MAX, &env.count))
			argp_error(state, "bad count \"%s\" (expected a whole number > 0)", arg);
		break;
	case '4':
	case '6':
		if (env.filter.family && env.filter.family != key - '0')
			argp_error(state, "-4 and -6 exclude each other");
		env.filter.family = (uint8_t)(key - '0');
		break;
	case 'p':
		if (port_list_parse(arg, &env.filter.ports, err, sizeof(err)))
			argp_error(state, "%s", err);
		env.filter.has_ports = true;
		break;
	case OPT_DIRECTION:
		if (filter_parse_direction(arg, &env.filter.dir))
			argp_error(state, "bad direction \"%s\" (expected in, out or all)", arg);
		break;
	case OPT_CGROUP:
		env.cgroup = arg;
		break;
	case OPT_RING_SIZE:
		if (parse_ull(arg, 0, SIZE_MAX, &v) || !capture_ring_size_valid((size_t)v))
			argp_error(state,
				   "bad ring size \"%s\" (a power of two, 4096 to 1073741824 bytes)",
				   arg);
		env.ring_bytes = (size_t)v;
		break;
	case OPT_CAPACITY:
		if (parse_ull(arg, 1, 100000000, &v))
			argp_error(state, "bad capacity \"%s\" (1 to 100000000 flows)", arg);
		env.capacity = (size_t)v;
		break;
	case 'v':
		env.verbose = true;
		break;
	case OPT_USER:
		env.user = arg;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument \"%s\"", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* Everything the loop's callbacks share. */
struct app {
	struct event_loop *loop;
	struct capture *capture;
	struct flow_table *table;
	struct output_stream *out;
	int drain_fd;
	int stop_fd;
	int signal_fd;
	unsigned long long printed;
	uint64_t lost_reported;
	int exit_code;
};

static void stop(struct app *app, int code)
{
	if (code && !app->exit_code)
		app->exit_code = code;
	event_loop_stop(app->loop);
}

static void on_tcp(const struct tft_tcp_event *ev, void *ctx)
{
	struct app *app = ctx;
	const struct tft_flow *f = NULL;
	enum tft_flow_change change;

	change = flow_table_apply(app->table, ev, &f);
	if (change == TFT_CHANGE_NONE || !filter_match(&env.filter, f))
		return;
	/* After --count new flows, updates of those flows still print until exit. */
	if (change == TFT_CHANGE_NEW) {
		if (env.count && app->printed >= env.count)
			return;
		app->printed++;
	}
	output_stream_flow(app->out, f, change, ev->ts_ns);
}

/* Reads what the programs queued, reports new losses, flushes the output. */
static void drain(struct app *app)
{
	uint64_t lost;
	int err;

	err = capture_drain(app->capture);
	if (err < 0 && err != -EINTR) {
		fprintf(stderr, "tcpflowtop: reading the ring buffer failed: %s\n", strerror(-err));
		stop(app, 1);
		return;
	}
	lost = capture_lost(app->capture);
	if (lost > app->lost_reported) {
		fprintf(stderr,
			"tcpflowtop: %llu events lost so far: the ring buffer was full (raise --ring-size)\n",
			(unsigned long long)lost);
		output_stream_lost(app->out, lost, clock_mono_ns());
		app->lost_reported = lost;
	}
	err = output_stream_flush(app->out);
	if (err == -EPIPE) {
		stop(app, 0); /* the reader is gone, e.g. "| head" */
	} else if (err) {
		fprintf(stderr, "tcpflowtop: writing the output failed: %s\n", strerror(-err));
		stop(app, 1);
	}
	if (env.count && app->printed >= env.count)
		stop(app, 0);
}

static void on_ring(int fd, uint32_t events, void *ctx)
{
	(void)fd;
	(void)events;
	drain(ctx);
}

static void on_drain_timer(int fd, uint32_t events, void *ctx)
{
	(void)events;
	event_loop_timerfd_ack(fd);
	drain(ctx);
}

static void on_stop_timer(int fd, uint32_t events, void *ctx)
{
	(void)events;
	event_loop_timerfd_ack(fd);
	stop(ctx, 0);
}

static void on_signal(int fd, uint32_t events, void *ctx)
{
	struct signalfd_siginfo si;

	(void)events;
	if (read(fd, &si, sizeof(si)) == sizeof(si))
		stop(ctx, 0);
}

/* Signals arrive through the loop as a signalfd, never as async handlers. */
static int block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	signal(SIGPIPE, SIG_IGN); /* a closed pipe shows as EPIPE from the write */
	if (sigprocmask(SIG_BLOCK, set, NULL) < 0)
		return -errno;
	return 0;
}

static void print_summary(const struct app *app)
{
	const struct flow_table_stats *s = flow_table_stats(app->table);

	fprintf(stderr,
		"tcpflowtop: %llu flows seen (%llu in, %llu out; %llu accepted, %llu refused, "
		"%llu unanswered), %llu events lost, %llu flows evicted\n",
		(unsigned long long)s->seen, (unsigned long long)s->seen_in,
		(unsigned long long)s->seen_out, (unsigned long long)s->accepted,
		(unsigned long long)s->refused,
		(unsigned long long)flow_table_unanswered(app->table),
		(unsigned long long)capture_lost(app->capture), (unsigned long long)s->evicted);
}

static int resolve_cgroup(char *buf, size_t size)
{
	int err;

	if (env.cgroup) {
		err = cgroup_check_v2_dir(env.cgroup);
		if (err) {
			fprintf(stderr, "tcpflowtop: --cgroup %s: %s\n", env.cgroup,
				err == -EMEDIUMTYPE ? "not a cgroup v2 directory (cgroup v1 or another filesystem)"
				: err == -ENOTDIR   ? "not a directory"
						    : strerror(-err));
			return err;
		}
		snprintf(buf, size, "%s", env.cgroup);
		return 0;
	}
	err = cgroup_find_v2_root("/proc/self/mounts", buf, size);
	if (err == -ENOENT)
		fprintf(stderr, "tcpflowtop: no cgroup v2 hierarchy is mounted (mount one with "
				"\"mount -t cgroup2 none /sys/fs/cgroup/unified\", or pass --cgroup PATH)\n");
	else if (err)
		fprintf(stderr, "tcpflowtop: cannot read /proc/self/mounts: %s\n", strerror(-err));
	return err;
}

int main(int argc, char **argv)
{
	static const struct argp argp = {options, parse_arg, NULL, doc, NULL, NULL, NULL};
	struct capture_opts copts = {0};
	struct app app = {.drain_fd = -1, .stop_fd = -1, .signal_fd = -1};
	char cgroup[PATH_MAX], err[512];
	struct privs_target drop_to;
	sigset_t sigs;
	int e;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	if (!isatty(STDOUT_FILENO))
		env.batch = true;
	/* The interactive screen is not built yet: a terminal gets the text stream too. */
	env.batch = true;

	if (resolve_cgroup(cgroup, sizeof(cgroup)))
		return 1;
	if (!privs_can_load_bpf()) {
		fprintf(stderr, "tcpflowtop: not permitted to load BPF programs (run as root, or "
				"grant CAP_BPF and CAP_NET_ADMIN)\n");
		return 1;
	}
	/* harden: pick the user to drop to before loading, so a bad --user fails early. */
	if (privs_choose_target(env.user, &drop_to, err, sizeof(err))) {
		fprintf(stderr, "tcpflowtop: %s\n", err);
		return 1;
	}
	clock_init();

	e = block_signals(&sigs);
	if (e) {
		fprintf(stderr, "tcpflowtop: blocking signals failed: %s\n", strerror(-e));
		return 1;
	}
	app.exit_code = 0;
	app.loop = event_loop_new();
	app.table = flow_table_new(env.capacity);
	app.out = output_stream_new(stdout, env.format);
	if (!app.loop || !app.table || !app.out) {
		fprintf(stderr, "tcpflowtop: setting up failed: %s\n", strerror(errno));
		app.exit_code = 1;
		goto cleanup;
	}

	copts.cgroup_path = cgroup;
	copts.ring_bytes = env.ring_bytes;
	copts.verbose = env.verbose;
	app.capture = capture_new(&copts, on_tcp, NULL, &app, err, sizeof(err));
	if (!app.capture) {
		fprintf(stderr, "tcpflowtop: %s\n", err);
		app.exit_code = 1;
		goto cleanup;
	}
	/* harden: loaded, attached and mapped: nothing below needs privileges. */
	if (privs_drop(&drop_to, err, sizeof(err))) {
		fprintf(stderr, "tcpflowtop: dropping privileges failed: %s\n", err);
		app.exit_code = 1;
		goto cleanup;
	}

	app.signal_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	app.drain_fd = event_loop_timerfd(DRAIN_INTERVAL_MS, 1);
	if (app.signal_fd < 0 || app.drain_fd < 0 ||
	    event_loop_add(app.loop, app.signal_fd, EPOLLIN, on_signal, &app) ||
	    event_loop_add(app.loop, app.drain_fd, EPOLLIN, on_drain_timer, &app) ||
	    event_loop_add(app.loop, capture_fd(app.capture), EPOLLIN, on_ring, &app)) {
		fprintf(stderr, "tcpflowtop: setting up the event loop failed: %s\n",
			strerror(errno));
		app.exit_code = 1;
		goto cleanup;
	}
	if (env.duration > 0) {
		double ms = env.duration * 1000.0;

		app.stop_fd = event_loop_timerfd(ms < 1 ? 1 : (unsigned)ms, 0);
		if (app.stop_fd < 0 ||
		    event_loop_add(app.loop, app.stop_fd, EPOLLIN, on_stop_timer, &app)) {
			fprintf(stderr, "tcpflowtop: setting up the timer failed: %s\n",
				strerror(errno));
			app.exit_code = 1;
			goto cleanup;
		}
	}

	/* The header goes out only once the programs are attached: scripts may wait for it. */
	output_stream_header(app.out);
	output_stream_flush(app.out);
	fprintf(stderr, "tcpflowtop: watching new TCP flows in cgroup %s\n", cgroup);

	e = event_loop_run(app.loop);
	if (e) {
		fprintf(stderr, "tcpflowtop: event loop failed: %s\n", strerror(-e));
		app.exit_code = 1;
	}
	drain(&app); /* what arrived before the stop */
	print_summary(&app);

cleanup:
	capture_free(app.capture);
	if (app.stop_fd >= 0)
		close(app.stop_fd);
	if (app.drain_fd >= 0)
		close(app.drain_fd);
	if (app.signal_fd >= 0)
		close(app.signal_fd);
	output_stream_free(app.out);
	flow_table_free(app.table);
	event_loop_free(app.loop);
	return app.exit_code;
}
