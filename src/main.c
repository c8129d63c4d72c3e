/*
 * tcpflowtop: parse options, wire capture -> flow table -> output through one
 * event loop, and tear down in reverse order.
 */
#include <argp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "capture.h"
#include "cgroup.h"
#include "cgroup_watch.h"
#include "clock.h"
#include "event_loop.h"
#include "exporters.h"
#include "filter.h"
#include "flow_fields.h"
#include "flow_groups.h"
#include "flow_pipeline.h"
#include "group_fields.h"
#include "group_stream.h"
#include "output_stream.h"
#include "parse_num.h"
#include "privs.h"
#include "proc_listeners.h"
#include "names.h"
#include "owner_names.h"
#include "record_file.h"
#include "replay.h"
#include "resolver.h"
#include "table_view.h"
#include "tui.h"

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
    "Shows each new TCP flow (its SYN) with direction, addresses, ports, the process, user "
    "and service behind it, and whether it was accepted (SYN-ACK), refused (RST) or is still "
    "pending, with SYN retransmissions and the handshake time; then how it ended (FIN and "
    "who closed first, reset by either side, unanswered, half-open) with bytes, duration and "
    "round-trip time. On a terminal it opens a live, sortable, filterable screen (press h "
    "there for its keys); with --batch, or whenever stdout is not a terminal, it streams "
    "lines in text, CSV or JSON lines; see tcpflowtop(8) for every column.\n\n"
    "Needs root, or CAP_BPF and CAP_NET_ADMIN; Linux 5.8+ with cgroup v2.\n\n"
    "Examples:\n"
    "  sudo tcpflowtop --batch --port 443,8000-8100\n"
    "  sudo tcpflowtop --format csv --duration 60 > flows.csv\n"
    "  sudo tcpflowtop --format json --direction in | jq .\n"
    "  sudo tcpflowtop --group-by remote --interval 10 --format csv\n"
    "  sudo tcpflowtop -w flows.tftrec --duration 600\n"
    "  tcpflowtop -r flows.tftrec --format csv\n"
    "  sudo tcpflowtop --serve --metrics 127.0.0.1:9477 --ipfix udp:collector:4739";

enum {
	OPT_CGROUP = 0x100,
	OPT_DIRECTION,
	OPT_RING_SIZE,
	OPT_CAPACITY,
	OPT_DNS_PORT,
	OPT_DNS_SERVER,
	OPT_NO_DNS,
	OPT_RESOLVE_WAIT,
	OPT_SORT,
	OPT_FILTER,
	OPT_EXPORT_DIR,
	OPT_NO_COLOR,
	OPT_USER,
	OPT_REALTIME,
	OPT_GROUP_BY,
	OPT_INTERVAL,
	OPT_SYN_TIMEOUT,
	OPT_IDLE,
	OPT_RESET_ALERT,
	OPT_HALF_OPEN,
	OPT_EVENTS,
	OPT_SERVE,
	OPT_METRICS,
	OPT_METRICS_PORT,
	OPT_METRICS_TOP,
	OPT_METRICS_BY,
	OPT_IPFIX,
	OPT_IPFIX_ACTIVE,
	OPT_IPFIX_REFRESH,
};

#define DNS_PORT 53
#define MAX_RESOLVE_WAIT_MS 60000

static const struct argp_option options[] = {
    {"batch", 'b', NULL, 0,
     "Stream lines instead of the screen (default when stdout is not a terminal)", 0},
    {"format", 'f', "FMT", 0, "Stream format: text (default), csv, json (JSON lines)", 0},
    {"duration", 'D', "SECONDS", 0, "Stop after SECONDS (fractions allowed)", 0},
    {"count", 'c', "N", 0, "Stop after N flows passing the filter have been printed", 0},
    {NULL, '4', NULL, 0, "IPv4 flows only", 1},
    {NULL, '6', NULL, 0, "IPv6 flows only", 1},
    {"port", 'p', "LIST", 0, "Flows with either port in LIST, e.g. 443,8000-8100; !LIST excludes",
     1},
    {"direction", OPT_DIRECTION, "DIR", 0, "in (incoming), out (outgoing) or all", 1},
    {"cgroup", OPT_CGROUP, "PATH", 0,
     "Watch this cgroup v2 directory and below (default: the cgroup v2 root); the "
     "programs sit on its parent, so a cgroup recreated at PATH is followed",
     2},
    {"ring-size", OPT_RING_SIZE, "BYTES", 0,
     "BPF ring buffer size, a power of two (default 4194304)", 2},
    {"capacity", OPT_CAPACITY, "N", 0,
     "Flows kept in the table; the oldest go first (default 100000)", 2},
    {"verbose", 'v', NULL, 0, "Show libbpf's debug messages", 2},
    {"user", OPT_USER, "NAME", 0,
     "Drop to this user once attached (default: the sudo user, else nobody)", 2},
    {"no-resolve", 'n', NULL, 0, "No reverse (PTR) lookups; names seen in DNS answers still show",
     4},
    {"no-dns", OPT_NO_DNS, NULL, 0, "No names at all: neither DNS answers nor reverse lookups", 4},
    {"dns-port", OPT_DNS_PORT, "LIST", 0,
     "Also read DNS answers from these source ports, e.g. 5353 (up to 3 besides 53)", 4},
    {"dns-server", OPT_DNS_SERVER, "ADDR[:PORT]", 0,
     "Reverse lookups go to this server (IPv6: [ADDR]:PORT; default: /etc/resolv.conf)", 4},
    {"resolve-wait", OPT_RESOLVE_WAIT, "MS", 0,
     "Streaming: hold each line up to MS milliseconds for its names (default 0)", 4},
    {"delay", 'd', "SECONDS", 0,
     "Screen: redraw new data at most every SECONDS (default 1, fractions allowed)", 3},
    {"columns", 'o', "LIST", 0,
     "Screen: columns and their order, e.g. time,dir,src,dst,dport (see the man page)", 3},
    {"sort", OPT_SORT, "[+|-]COL", 0,
     "Screen: sort by column COL, + ascending, - descending (default -time)", 3},
    {"filter", OPT_FILTER, "TEXT", 0,
     "Screen: the filter line, e.g. \"port 443 out\" (as typed after /)", 3},
    {"export-dir", OPT_EXPORT_DIR, "DIR", 0,
     "Screen: where e and SIGUSR1 write CSV snapshots (default .)", 3},
    {"no-color", OPT_NO_COLOR, NULL, 0, "Screen: no colours (also when NO_COLOR is set)", 3},
    {"write", 'w', "FILE", 0, "Also record every event to FILE (a new file, mode 0600) for -r", 5},
    {"read", 'r', "FILE", 0,
     "Replay a file made with -w instead of capturing (no root needed; - is stdin)", 5},
    {"realtime", OPT_REALTIME, NULL, 0, "With -r: replay at the recorded pace, not at full speed",
     5},
    {"group-by", OPT_GROUP_BY, "KIND", 0,
     "Stream groups instead of flows: remote (outgoing flows by service), listener (incoming "
     "flows by local address and port) or process (flows by owner: service and command); one "
     "block per --interval and one at exit",
     6},
    {"interval", OPT_INTERVAL, "SECONDS", 0,
     "With --group-by: seconds between blocks (default 10, fractions allowed)", 6},
    {"syn-timeout", OPT_SYN_TIMEOUT, "SECONDS", 0,
     "A SYN without answer this long is unanswered (default 3, retransmissions counted)", 7},
    {"idle", OPT_IDLE, "SECONDS", 0,
     "An established flow without data either way this long is idle (default 60)", 7},
    {"half-open", OPT_HALF_OPEN, "SECONDS", 0,
     "An incoming flow whose handshake's final ACK has not come this long after its SYN-ACK "
     "is half-open (default 30)",
     7},
    {"reset-alert", OPT_RESET_ALERT, "N", 0,
     "Alert when one service (address and port) takes more than N resets or refusals in 10 s "
     "(default 20; 0: never)",
     7},
    {"events", OPT_EVENTS, "LIST", 0,
     "Streaming: which records to print, any of new, update, close (default all; "
     "alerts come with close)",
     7},
    {"serve", OPT_SERVE, NULL, 0,
     "Headless: no screen and no stream, only --metrics and --ipfix (for systemd)", 8},
    {"metrics", OPT_METRICS, "ADDR:PORT", 0,
     "Serve Prometheus metrics at http://ADDR:PORT/metrics ([IPv6]:PORT; numeric address)", 8},
    {"metrics-port", OPT_METRICS_PORT, "LIST", 0,
     "Ports that always get their own label, e.g. 22,443 (default: listeners seen, and the "
     "busiest outgoing destination ports)",
     8},
    {"metrics-top", OPT_METRICS_TOP, "N", 0,
     "Busiest outgoing destination ports, and owners with --metrics-by, labelled (default 10, "
     "at most 64)",
     8},
    {"metrics-by", OPT_METRICS_BY, "KIND", 0,
     "Also count new flows by service or process (the busiest --metrics-top, the rest other)", 8},
    {"ipfix", OPT_IPFIX, "[udp:|tcp:]HOST[:PORT]", 0,
     "Send an IPFIX record per flow to this collector (default UDP, port 4739)", 8},
    {"ipfix-active", OPT_IPFIX_ACTIVE, "SECONDS", 0,
     "Interim IPFIX records for flows still open every SECONDS (default 300; 0: none)", 8},
    {"ipfix-refresh", OPT_IPFIX_REFRESH, "SECONDS", 0,
     "UDP: send the IPFIX templates again every SECONDS (default 600)", 8},
    {0},
};

struct env {
	bool batch;
	enum output_format format;
	double duration;	  /* seconds, 0 = forever */
	unsigned long long count; /* 0 = unlimited */
	struct filter filter;
	const char *cgroup;
	size_t ring_bytes;
	size_t capacity;
	bool verbose;
	uint16_t dns_ports[TFT_MAX_DNS_PORTS]; /* host order, 53 first */
	size_t n_dns_ports;
	struct resolver_server dns_server;
	bool has_dns_server;
	bool no_resolve;	  /* -n: no PTR lookups */
	bool no_dns;		  /* --no-dns: no DNS records, no PTR lookups */
	unsigned resolve_wait_ms; /* streaming: hold a line this long for its names */
	/* The screen's options; the filter above is shared with it. */
	double delay;
	enum flow_field cols[FLOW_FIELD_SCREEN_COUNT];
	size_t ncols; /* 0: default columns */
	enum flow_field sort;
	bool sort_desc;
	const char *export_dir;
	bool no_color;
	const char *user;	/* --user, NULL for SUDO_UID or nobody */
	const char *write_path; /* -w */
	const char *read_path;	/* -r */
	bool realtime;
	bool capture_opt;	       /* a flag that only a live capture uses (refused with -r) */
	enum flow_group_kind group_by; /* --group-by; 0: stream flows */
	double interval;	       /* --group-by: seconds between blocks */
	bool has_interval;
	double syn_timeout; /* seconds: a SYN unanswered this long ends unanswered */
	double idle;	    /* seconds: an established flow without data this long is idle */
	double half_open;   /* seconds: accepted incoming flow without its final ACK: half-open */
	uint64_t reset_alert;
	unsigned events;			   /* --events: enum output_event bits; 0: all */
	bool serve;				   /* --serve: only the exporters */
	struct exporters_opts exp;		   /* --metrics*, --ipfix* */
	uint16_t metrics_ports[METRICS_MAX_PORTS]; /* --metrics-port */
};

static struct env env = {
    .capacity = DEFAULT_CAPACITY,
    .dns_ports = {DNS_PORT},
    .n_dns_ports = 1,
    .delay = 1.0,
    .sort = FLOW_FIELD_TIME,
    .sort_desc = true,
    .interval = 10.0,
    .syn_timeout = 3.0,
    .idle = 60.0,
    .half_open = 30.0,
    .reset_alert = 20,
    .exp = {.metrics = {.top = METRICS_DEFAULT_TOP},
	    .ipfix = {.active_s = IPFIX_DEFAULT_ACTIVE_S, .refresh_s = IPFIX_DEFAULT_REFRESH_S}},
};

/*
 * --dns-port, --metrics-port LIST: comma-separated ports added to the *n
 * already in ports (a port given twice is kept once), at most max in all. 0, or
 * -EINVAL or -E2BIG with a one-line reason in err.
 */
static int parse_port_list(const char *list, uint16_t *ports, size_t *n, size_t max, char *err,
			   size_t errlen)
{
	const char *p = list;
	size_t len, i, given = *n;
	char tok[16];
	uint64_t v;

	for (;;) {
		len = strcspn(p, ",");
		if (!len || len >= sizeof(tok)) {
			snprintf(err, errlen, "bad port list \"%s\" (expected e.g. 22 or 22,443)",
				 list);
			return -EINVAL;
		}
		memcpy(tok, p, len);
		tok[len] = '\0';
		if (parse_u64(tok, 1, 65535, &v)) {
			snprintf(err, errlen, "bad port \"%s\" (1 to 65535)", tok);
			return -EINVAL;
		}
		for (i = 0; i < *n && ports[i] != v; i++)
			;
		if (i == *n) {
			if (*n == max) {
				snprintf(err, errlen, "too many ports in \"%s\" (at most %zu)",
					 list, max - given);
				return -E2BIG;
			}
			ports[(*n)++] = (uint16_t)v;
		}
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	uint64_t v = 0;
	char err[256];

	switch (key) {
	case 'b':
		env.batch = true;
		break;
	case 'f':
		if (output_format_parse(arg, &env.format))
			argp_error(state, "unknown format \"%s\" (expected text, csv or json)",
				   arg);
		break;
	case 'D':
		if (parse_seconds(arg, 0, 1e7, &env.duration) || !(env.duration > 0))
			argp_error(state, "bad duration \"%s\" (expected seconds > 0)", arg);
		break;
	case 'c':
		if (parse_u64(arg, 1, UINT64_MAX, &v))
			argp_error(state, "bad count \"%s\" (expected a whole number > 0)", arg);
		env.count = v;
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
		env.capture_opt = true;
		env.cgroup = arg;
		break;
	case OPT_RING_SIZE:
		if (parse_u64(arg, 0, SIZE_MAX, &v) || !capture_ring_size_valid((size_t)v))
			argp_error(
			    state,
			    "bad ring size \"%s\" (a power of two, 4096 to 1073741824 bytes)", arg);
		env.ring_bytes = (size_t)v;
		env.capture_opt = true;
		break;
	case OPT_CAPACITY:
		if (parse_u64(arg, 1, 100000000, &v))
			argp_error(state, "bad capacity \"%s\" (1 to 100000000 flows)", arg);
		env.capacity = (size_t)v;
		break;
	case 'v':
		env.verbose = true;
		break;
	case 'n':
		env.no_resolve = true;
		break;
	case OPT_NO_DNS:
		env.no_dns = true;
		break;
	case OPT_DNS_PORT:
		/* the last --dns-port wins, as other options do; 53 stays. The BPF programs
		   compare each port, hence the cap. */
		env.n_dns_ports = 1;
		if (parse_port_list(arg, env.dns_ports, &env.n_dns_ports, TFT_MAX_DNS_PORTS, err,
				    sizeof(err)))
			argp_error(state, "--dns-port: %s", err);
		env.capture_opt = true;
		break;
	case OPT_DNS_SERVER:
		if (resolver_parse_server(arg, &env.dns_server))
			argp_error(
			    state,
			    "bad DNS server \"%s\" (expected ADDR, ADDR:PORT or [IPv6]:PORT)", arg);
		env.has_dns_server = true;
		break;
	case OPT_RESOLVE_WAIT:
		if (parse_u64(arg, 0, MAX_RESOLVE_WAIT_MS, &v))
			argp_error(state, "bad resolve wait \"%s\" (0 to %d milliseconds)", arg,
				   MAX_RESOLVE_WAIT_MS);
		env.resolve_wait_ms = (unsigned)v;
		break;
	case 'd':
		if (parse_seconds(arg, 0.05, 3600, &env.delay))
			argp_error(state, "bad delay \"%s\" (expected seconds, 0.05 to 3600)", arg);
		break;
	case 'o':
		if (table_columns_parse(arg, env.cols, &env.ncols, err, sizeof(err)))
			argp_error(state, "%s", err);
		break;
	case OPT_SORT: {
		const char *name = arg;
		int dir = 0;

		if (*name == '+' || *name == '-')
			dir = *name++ == '-' ? -1 : 1;
		if (table_column_parse(name, &env.sort))
			argp_error(
			    state,
			    "unknown sort column \"%s\" (columns: %s; + ascending, - "
			    "descending)",
			    arg,
			    flow_fields_names(FLOW_FIELD_ON_ANY_SCREEN, ",", err, sizeof(err)));
		env.sort_desc = dir ? dir < 0 : flow_field(env.sort)->desc_first;
		break;
	}
	case OPT_FILTER:
		if (filter_parse_terms(&env.filter, arg, err, sizeof(err)))
			argp_error(state, "--filter: %s", err);
		break;
	case OPT_EXPORT_DIR:
		env.export_dir = arg;
		break;
	case OPT_NO_COLOR:
		env.no_color = true;
		break;
	case OPT_USER:
		env.user = arg;
		break;
	case 'w':
		env.write_path = arg;
		break;
	case 'r':
		env.read_path = arg;
		break;
	case OPT_REALTIME:
		env.realtime = true;
		break;
	case OPT_GROUP_BY:
		if (group_kind_parse(arg, &env.group_by))
			argp_error(
			    state,
			    "unknown group kind \"%s\" (expected remote, listener or process)",
			    arg);
		env.batch = true;
		break;
	case OPT_INTERVAL:
		if (parse_seconds(arg, 0.01, 86400, &env.interval))
			argp_error(state, "bad interval \"%s\" (expected seconds, 0.01 to 86400)",
				   arg);
		env.has_interval = true;
		break;
	case OPT_SYN_TIMEOUT:
		if (parse_seconds(arg, 0.01, 86400, &env.syn_timeout))
			argp_error(state,
				   "bad SYN timeout \"%s\" (expected seconds, 0.01 to 86400)", arg);
		break;
	case OPT_IDLE:
		if (parse_seconds(arg, 0.01, 86400 * 7, &env.idle))
			argp_error(state, "bad idle time \"%s\" (expected seconds, 0.01 to 604800)",
				   arg);
		break;
	case OPT_HALF_OPEN:
		if (parse_seconds(arg, 0.01, 86400, &env.half_open))
			argp_error(state,
				   "bad half-open time \"%s\" (expected seconds, 0.01 to 86400)",
				   arg);
		break;
	case OPT_RESET_ALERT:
		if (parse_u64(arg, 0, 1000000, &env.reset_alert))
			argp_error(state, "bad reset alert \"%s\" (expected a count, 0 to 1000000)",
				   arg);
		break;
	case OPT_EVENTS:
		if (output_events_parse(arg, &env.events))
			argp_error(state,
				   "bad events \"%s\" (expected a list of new, update, close)",
				   arg);
		break;
	case OPT_SERVE:
		env.serve = true;
		break;
	case OPT_METRICS:
		env.exp.metrics_addr = arg;
		break;
	case OPT_METRICS_PORT:
		/* the last --metrics-port wins, as other options do */
		env.exp.metrics.n_ports = 0;
		if (parse_port_list(arg, env.metrics_ports, &env.exp.metrics.n_ports,
				    METRICS_MAX_PORTS, err, sizeof(err)))
			argp_error(state, "--metrics-port: %s", err);
		env.exp.metrics.ports = env.metrics_ports;
		break;
	case OPT_METRICS_TOP:
		if (parse_u64(arg, 1, METRICS_MAX_TOP, &v))
			argp_error(state, "bad --metrics-top \"%s\" (1 to %d)", arg,
				   METRICS_MAX_TOP);
		env.exp.metrics.top = (size_t)v;
		break;
	case OPT_METRICS_BY:
		if (!strcmp(arg, "service"))
			env.exp.metrics.by = METRICS_BY_SERVICE;
		else if (!strcmp(arg, "process"))
			env.exp.metrics.by = METRICS_BY_PROCESS;
		else
			argp_error(state, "bad --metrics-by \"%s\" (expected service or process)",
				   arg);
		break;
	case OPT_IPFIX:
		if (ipfix_parse_target(arg, &env.exp.ipfix))
			argp_error(state,
				   "bad --ipfix \"%s\" (expected [udp:|tcp:]HOST[:PORT], IPv6 in "
				   "brackets: udp:[::1]:4739)",
				   arg);
		env.exp.ipfix_on = true;
		break;
	case OPT_IPFIX_ACTIVE:
	case OPT_IPFIX_REFRESH:
		if (parse_u64(arg, key == OPT_IPFIX_ACTIVE ? 0 : 1, 86400, &v))
			argp_error(state, "bad %s \"%s\" (seconds, %d to 86400)",
				   key == OPT_IPFIX_ACTIVE ? "--ipfix-active" : "--ipfix-refresh",
				   arg, key == OPT_IPFIX_ACTIVE ? 0 : 1);
		if (key == OPT_IPFIX_ACTIVE)
			env.exp.ipfix.active_s = (unsigned)v;
		else
			env.exp.ipfix.refresh_s = (unsigned)v;
		break;
	case ARGP_KEY_END:
		if (env.serve && !env.exp.metrics_addr && !env.exp.ipfix_on)
			argp_error(state,
				   "--serve runs only the exporters: give --metrics or --ipfix");
		if (env.serve && (env.batch || env.group_by || env.format))
			argp_error(state, "--serve shows nothing: --batch, --format and --group-by "
					  "set up output it does not make");
		if (!env.exp.metrics_addr && (env.exp.metrics.n_ports || env.exp.metrics.by))
			argp_error(state,
				   "--metrics-port and --metrics-by shape --metrics: give it");
		if (env.has_interval && !env.group_by)
			argp_error(state, "--interval sets the blocks of --group-by: give it too");
		if (env.group_by && env.count)
			argp_error(state, "--count counts flows printed; --group-by prints groups");
		if (env.group_by && env.events)
			argp_error(state, "--events picks flow records; --group-by prints groups");
		if (env.group_by && (env.filter.nterms || env.filter.has_ports || env.filter.dir ||
				     env.filter.family))
			argp_error(state, "--group-by counts every flow since start; filter the "
					  "groups on the screen (g, then /) instead");
		if (env.read_path && env.write_path)
			argp_error(state, "-r and -w exclude each other (copy the file instead)");
		if (env.read_path && env.capture_opt)
			argp_error(state,
				   "--cgroup, --ring-size and --dns-port set up a capture; a "
				   "replay (-r) uses the recorded one");
		if (env.realtime && !env.read_path)
			argp_error(state, "--realtime paces a replay: give -r FILE");
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument \"%s\"", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* --help's closing text gains the field names, from the field table. */
static char *help_filter(int key, const char *text, void *input)
{
	char screen[640], streams[640], *out;

	(void)input;
	if (key != ARGP_KEY_HELP_POST_DOC || !text)
		return (char *)text;
	flow_fields_names(FLOW_FIELD_ON_ANY_SCREEN, ", ", screen, sizeof(screen));
	flow_fields_keys(FLOW_FIELD_ON_CSV, ", ", streams, sizeof(streams));
	if (asprintf(&out,
		     "%s\n\nColumns (-o, --sort, and FIELD:VALUE filter terms): %s\n"
		     "Stream columns (CSV; JSON has the same keys, type for event): %s",
		     text, screen, streams) < 0)
		return (char *)text;
	return out;
}

/* Everything the loop's callbacks share. */
struct app {
	struct event_loop *loop;
	struct capture *capture;	  /* live, or */
	struct replay *replay;		  /* -r: records from a file */
	struct flow_pipeline *pipeline;	  /* ring records to flows and sinks */
	struct record_writer *rec;	  /* -w */
	struct names *names;		  /* NULL with --no-dns */
	struct proc_listeners *listeners; /* listeners older than tcpflowtop, from /proc */
	struct cgroup_watch *cgwatch;	  /* --cgroup: tells when it is removed or replaced */
	bool cg_follow;			 /* the programs are on its parent: a new one is followed */
	int cg_level;			 /* with cg_follow: its depth in the cgroup hierarchy */
	struct output_stream *out;	 /* batch mode */
	struct flow_groups *groups[4];	 /* by enum flow_group_kind: the screen, --group-by */
	struct group_stream *gstream;	 /* --group-by */
	struct tui *tui;		 /* screen mode */
	struct exporters *exporters;	 /* --metrics, --ipfix */
	struct names_provider exp_names; /* the exporters' names: borrowed by them */
	int drain_fd;
	int stop_fd;
	int signal_fd;
	int replay_fd;
	int exit_code;
	bool stopping;
	bool rec_failed; /* a write to the record file failed, and was reported */
	bool out_failed; /* a write to stdout failed, and was reported */
};

static void stop(struct app *app, int code)
{
	if (code && !app->exit_code)
		app->exit_code = code;
	app->stopping = true;
	event_loop_stop(app->loop);
}

/* To stderr, or held by the screen until it closes: nothing may write over it. */
static void report(struct app *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(struct app *app, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (app->tui)
		tui_message(app->tui, "%s", line);
	else
		fprintf(stderr, "%s\n", line);
}

/* A name arrived: the screen redraws at its next tick. */
static void on_names_changed(uint8_t family, const uint8_t addr[16], void *ctx)
{
	struct app *app = ctx;

	(void)family;
	(void)addr;
	if (app->tui)
		tui_flows_changed(app->tui);
}

/* Names for the screen, its export and the stream: never asks the resolver (new flows did). */
static size_t app_names(void *ctx, uint8_t family, const uint8_t *addr, struct names_list *out)
{
	struct app *app = ctx;

	return names_list_from_dns(app->names ? names_get(app->names, family, addr, false) : NULL,
				   out);
}

/* Changes whenever some address's names may have: the screen keeps its names memo until then. */
static uint64_t app_names_generation(void *ctx)
{
	struct app *app = ctx;

	return app->names ? names_generation(app->names) : 0;
}

/* Groups: the first name known for an address, as the flow's group is made (never asks). */
static size_t app_group_name(void *ctx, uint8_t family, const uint8_t *addr, char *buf, size_t size)
{
	struct app *app = ctx;
	const struct dns_names *d = app->names ? names_get(app->names, family, addr, false) : NULL;
	enum dns_name_source src;
	const char *name;
	size_t len = 0;

	if (!d || !dns_names_count(d))
		return 0;
	name = dns_names_get(d, 0, &len, &src);
	memcpy(buf, name, len < size ? len : size);
	return len;
}

/* --group-by: a block is due (an interval passed, in event time). */
static void on_group_tick(void *ctx, uint64_t at_ns)
{
	struct app *app = ctx;
	int err = group_stream_block(app->gstream, at_ns);

	if (err == -EPIPE) {
		stop(app, 0);
	} else if (err) {
		fprintf(stderr, "tcpflowtop: writing the output failed: %s\n", strerror(-err));
		stop(app, 1);
	}
}

/* --resolve-wait: the stream holds a line until both ends' names are settled. */
static bool app_names_settled(void *ctx, uint8_t family, const uint8_t *addr)
{
	struct app *app = ctx;

	return names_settled(app->names, family, addr);
}

/* The stream as a sink: it applies the filter, --count and --resolve-wait itself. */
static void stream_changed(void *ctx, const struct tft_flow *f, enum tft_flow_change change,
			   uint64_t at_ns)
{
	struct app *app = ctx;

	output_stream_flow(app->out, f, change, at_ns);
}

/* Record time: a replay's last records and exit are as of its file, not the clock. */
static uint64_t app_now(const struct app *app)
{
	return app->replay ? replay_now(app->replay) : clock_mono_ns();
}

/*
 * A flow still running when it leaves (evicted, or at exit) gets its close
 * record, end "open", when flows have outcomes: without them every
 * accepted flow would seem open.
 */
static void stream_left(void *ctx, const struct tft_flow *f, enum flow_leave why)
{
	struct app *app = ctx;
	bool open_closes = why != FLOW_LEAVE_CLEARED && f->end == TFT_END_NONE &&
			   flow_pipeline_has_outcomes(app->pipeline);

	output_stream_left(app->out, f, app_now(app), open_closes);
}

/* Durations of running flows on the screen and in exports: to record time. */
static uint64_t app_now_fn(void *ctx)
{
	return app_now(ctx);
}

static void stream_alert(void *ctx, const struct reset_alert_event *a)
{
	struct app *app = ctx;

	output_stream_alert(app->out, a);
}

static void stream_lost(void *ctx, uint64_t lost, uint64_t at_ns)
{
	struct app *app = ctx;

	fprintf(stderr,
		"tcpflowtop: %llu events lost so far: the ring buffer was full (raise "
		"--ring-size)\n",
		(unsigned long long)lost);
	output_stream_lost(app->out, lost, at_ns);
}

static void stream_ignored(void *ctx, uint64_t answers, uint64_t at_ns)
{
	struct app *app = ctx;

	output_stream_ignored(app->out, answers, at_ns);
}

static void on_replay_counters(const struct record_counters *c, void *ctx)
{
	struct app *app = ctx;

	flow_pipeline_counters(app->pipeline, c->total, c->at_ns);
}

/* Reads what the programs queued, reports new losses, flushes the output. */
static void drain(struct app *app, bool final)
{
	int err;

	if (app->capture) {
		uint64_t total[TFT_CNT_MAX];
		int i;

		err = capture_drain(app->capture);
		if (err < 0 && err != -EINTR) {
			report(app, "tcpflowtop: reading the ring buffer failed: %s",
			       strerror(-err));
			stop(app, 1);
			return;
		}
		for (i = 0; i < TFT_CNT_MAX; i++)
			total[i] = capture_counter(app->capture, (enum tft_counter)i);
		flow_pipeline_counters(app->pipeline, total, clock_mono_ns());
	}
	/* Timers run on record time: a replay's flows time out as they did when recorded. */
	flow_pipeline_tick(app->pipeline, app_now(app));
	err = flow_pipeline_flush(app->pipeline);
	if (err && !app->rec_failed) {
		/* What reached the file stays readable: recording stops, and so does the run. */
		report(app, "tcpflowtop: writing %s failed: %s", env.write_path, strerror(-err));
		app->rec_failed = true;
		stop(app, 1);
	}
	if (app->tui)
		return;
	if (app->gstream) {
		/* Live, quiet intervals still print; a replay's blocks follow its recorded times.
		 */
		if (app->capture)
			flow_groups_advance(app->groups[env.group_by], clock_mono_ns());
		return;
	}
	if (!app->out)
		return; /* --serve: no stream */
	output_stream_tick(app->out, clock_mono_ns(), final);
	err = output_stream_flush(app->out);
	if (err == -EPIPE) {
		stop(app, 0); /* the reader is gone, e.g. "| head" */
	} else if (err && !app->out_failed) {
		/* The error is sticky: the final drain sees it again and must not repeat it. */
		fprintf(stderr, "tcpflowtop: writing the output failed: %s\n", strerror(-err));
		app->out_failed = true;
		stop(app, 1);
	}
	if (output_stream_done(app->out))
		stop(app, 0);
}

static void on_ring(int fd, uint32_t events, void *ctx)
{
	(void)fd;
	(void)events;
	drain(ctx, false);
}

/*
 * Tells each change to the --cgroup directory once. While the parent the
 * programs are attached to lives, a new cgroup at the path is followed by
 * writing its id into the programs' memory; otherwise (programs on the
 * cgroup itself, or the parent gone) following needs another attach, which
 * needs the privileges given up at start.
 */
static void on_cgroup_change(struct app *app, enum cgroup_watch_event ev)
{
	uint64_t id = cgroup_watch_id(app->cgwatch);

	switch (ev) {
	case CGROUP_WATCH_GONE:
		report(app,
		       app->cg_follow ? "tcpflowtop: cgroup %s was removed: its flows will be "
					"seen again if it is created again"
				      : "tcpflowtop: cgroup %s was removed: no flow of it can be "
					"seen now",
		       env.cgroup);
		break;
	case CGROUP_WATCH_REPLACED:
		if (app->cg_follow && !capture_follow(app->capture, id)) {
			report(app,
			       "tcpflowtop: cgroup %s was recreated: now watching the new one "
			       "(id %llu)%s",
			       env.cgroup, (unsigned long long)id,
			       capture_outcomes_off(app->capture)
				   ? ""
				   : ", without how its flows end (that needs the privileges given "
				     "up after the attach; restart tcpflowtop)");
			flow_pipeline_outcomes_off(app->pipeline);
			break;
		}
		report(app,
		       "tcpflowtop: cgroup %s was removed and created again: its new flows are "
		       "not seen (following it needs the privileges given up after the attach; "
		       "restart tcpflowtop)",
		       env.cgroup);
		break;
	case CGROUP_WATCH_PARENT_GONE:
		app->cg_follow = false;
		report(app,
		       "tcpflowtop: cgroup %s, the parent the programs are attached to, was "
		       "removed: no flow of %s can be seen now (restart tcpflowtop)",
		       cgroup_watch_parent(app->cgwatch), env.cgroup);
		break;
	case CGROUP_WATCH_SAME:
		break;
	}
}

static void on_drain_timer(int fd, uint32_t events, void *ctx)
{
	struct app *app = ctx;

	(void)events;
	event_loop_timerfd_ack(fd);
	drain(app, false);
	if (app->exporters)
		exporters_tick(app->exporters, clock_mono_ns());
	if (app->cgwatch)
		on_cgroup_change(app, cgroup_watch_poll(app->cgwatch));
}

/* Records a replay delivers per wakeup at full speed: the screen's keys stay responsive. */
#define REPLAY_BATCH 65536

/*
 * -r: feeds the records due now. A batch run at full speed goes through the
 * file in one call (flushing and checking --count between batches); the
 * screen gets a batch a millisecond. The end of the file ends a batch run;
 * the screen stays up to be looked at.
 */
static void on_replay_timer(int fd, uint32_t events, void *ctx)
{
	struct app *app = ctx;
	uint64_t now, next;
	char err[256];
	int rc;

	(void)events;
	event_loop_timerfd_ack(fd);
	do {
		now = clock_mono_ns();
		rc = replay_step(app->replay, now, REPLAY_BATCH, &next, err, sizeof(err));
		drain(app, false);
	} while (rc > 0 && !app->tui && !env.realtime && !app->stopping);
	if (rc < 0) {
		report(app, "tcpflowtop: %s: %s (%llu records read before it)", env.read_path, err,
		       (unsigned long long)replay_records(app->replay));
		if (!app->exit_code)
			app->exit_code = 1;
	}
	if (rc <= 0) {
		if (!app->tui)
			stop(app, app->exit_code);
		else if (rc == 0)
			tui_message(app->tui, "tcpflowtop: replay of %s done: %llu records",
				    env.read_path, (unsigned long long)replay_records(app->replay));
		return;
	}
	if (!app->stopping)
		event_loop_timerfd_set(fd, next > now ? (unsigned)((next - now) / 1000000 + 1) : 1,
				       0);
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
	struct app *app = ctx;

	(void)events;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGWINCH:
			tui_resize(app->tui); /* NULL in batch mode: nothing to resize */
			break;
		case SIGUSR1:
			if (app->tui)
				tui_export(app->tui); /* for scripts: same as the e key */
			break;
		default:
			if (env.serve)
				fprintf(stderr, "tcpflowtop: SIG%s received, stopping\n",
					sigabbrev_np((int)si.ssi_signo));
			stop(app, 0);
			return;
		}
	}
}

/*
 * Batch mode: a pipe's write end reports EPOLLERR once its reader closes,
 * so "tcpflowtop -b | head -1" on a quiet host ends at once instead of at
 * its next write, with its programs detached.
 */
static void on_stdout_gone(int fd, uint32_t events, void *ctx)
{
	struct app *app = ctx;

	if (!(events & (EPOLLERR | EPOLLHUP)))
		return;
	event_loop_del(app->loop, fd);
	stop(app, 0);
}

/* Signals arrive through the loop as a signalfd, never as async handlers. */
static int block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGWINCH);
	sigaddset(set, SIGUSR1);
	signal(SIGPIPE, SIG_IGN); /* a closed pipe shows as EPIPE from the write */
	if (sigprocmask(SIG_BLOCK, set, NULL) < 0)
		return -errno;
	return 0;
}

static void print_summary(const struct app *app)
{
	struct flow_stats st;
	const struct flow_table_stats *s = &st.flows;

	flow_pipeline_stats(app->pipeline, &st);
	fprintf(stderr,
		"tcpflowtop: %llu flows seen (%llu in, %llu out; %llu accepted, %llu refused, "
		"%llu unanswered, %llu unsure), %llu events lost, %llu flows evicted (%llu "
		"pending)\n",
		(unsigned long long)s->seen, (unsigned long long)s->seen_in,
		(unsigned long long)s->seen_out, (unsigned long long)s->accepted,
		(unsigned long long)s->refused, (unsigned long long)st.unanswered,
		(unsigned long long)st.unsure, (unsigned long long)st.counters[TFT_CNT_RB_FULL],
		(unsigned long long)s->evicted, (unsigned long long)s->evicted_pending);
	/* How flows ended; timeouts end flows even without the sockops program. */
	fprintf(stderr,
		"tcpflowtop: outcomes: %llu established (%llu by SYN cookie), %llu half-open; "
		"ended: %llu fin (%llu local, %llu peer), %llu reset by peer, %llu reset by "
		"local, %llu timeout, %llu half-open; %llu evicted while open; %llu reset "
		"alerts%s\n",
		(unsigned long long)s->established, (unsigned long long)s->syncookies,
		(unsigned long long)s->half_open,
		(unsigned long long)(s->ends[TFT_END_FIN_LOCAL] + s->ends[TFT_END_FIN_PEER]),
		(unsigned long long)s->ends[TFT_END_FIN_LOCAL],
		(unsigned long long)s->ends[TFT_END_FIN_PEER],
		(unsigned long long)s->ends[TFT_END_RESET_PEER],
		(unsigned long long)s->ends[TFT_END_RESET_LOCAL],
		(unsigned long long)s->ends[TFT_END_TIMEOUT],
		(unsigned long long)s->ends[TFT_END_HALF_OPEN], (unsigned long long)s->evicted_open,
		(unsigned long long)st.alerts,
		st.outcomes_on ? "" : " (no socket outcomes: only timeouts and refusals)");
	if (st.mib_known)
		fprintf(stderr,
			"tcpflowtop: kernel since start: %llu SYN cookies sent (%llu valid, %llu "
			"failed), %llu listen overflows, %llu listen drops\n",
			(unsigned long long)st.mib.syncookies_sent,
			(unsigned long long)st.mib.syncookies_recv,
			(unsigned long long)st.mib.syncookies_failed,
			(unsigned long long)st.mib.listen_overflows,
			(unsigned long long)st.mib.listen_drops);
	if (st.names_on) {
		const struct names_stats *n = &st.names;

		fprintf(stderr,
			"tcpflowtop: names: %llu DNS answers seen (%llu malformed, %llu truncated, "
			"%llu records over the parser's limits), %llu answers to no query seen "
			"ignored, cache %llu addresses, hit rate %llu%% of %llu; ",
			(unsigned long long)n->answers, (unsigned long long)n->malformed,
			(unsigned long long)st.counters[TFT_CNT_DNS_TRUNC],
			(unsigned long long)n->over_limit,
			(unsigned long long)st.counters[TFT_CNT_DNS_UNMATCHED],
			(unsigned long long)n->cache.entries,
			(unsigned long long)(n->asked ? n->asked_hits * 100 / n->asked : 0),
			(unsigned long long)n->asked);
		if (n->reverse_on)
			fprintf(stderr,
				"reverse lookups %llu (%llu named, %llu failed, %llu timed out, "
				"%llu in flight, %llu not queued); ",
				(unsigned long long)n->reverse.started,
				(unsigned long long)n->reverse.done,
				(unsigned long long)n->reverse.failed,
				(unsigned long long)n->reverse.timeouts,
				(unsigned long long)n->reverse.in_flight,
				(unsigned long long)n->reverse.dropped);
		else
			fprintf(stderr, "reverse lookups off; ");
		fprintf(stderr, "own DNS traffic ignored: %llu answers, %llu flows\n",
			(unsigned long long)n->own_dns, (unsigned long long)n->own_flows);
	}
}

static int resolve_cgroup(char *buf, size_t size)
{
	int err;

	if (env.cgroup) {
		err = cgroup_check_v2_dir(env.cgroup);
		if (err) {
			fprintf(stderr, "tcpflowtop: --cgroup %s: %s\n", env.cgroup,
				err == -EMEDIUMTYPE
				    ? "not a cgroup v2 directory (cgroup v1 or another filesystem)"
				: err == -ENOTDIR ? "not a directory"
						  : strerror(-err));
			return err;
		}
		snprintf(buf, size, "%s", env.cgroup);
		return 0;
	}
	err = cgroup_find_v2_root("/proc/self/mounts", buf, size);
	if (err == -ENOENT)
		fprintf(
		    stderr,
		    "tcpflowtop: no cgroup v2 hierarchy is mounted (mount one with "
		    "\"mount -t cgroup2 none /sys/fs/cgroup/unified\", or pass --cgroup PATH)\n");
	else if (err)
		fprintf(stderr, "tcpflowtop: cannot read /proc/self/mounts: %s\n", strerror(-err));
	return err;
}

static void on_tcp(const struct tft_tcp_event *ev, void *ctx)
{
	struct app *app = ctx;

	flow_pipeline_tcp(app->pipeline, ev);
}

static void on_sock(const struct tft_sock_event *ev, void *ctx)
{
	struct app *app = ctx;

	flow_pipeline_sock(app->pipeline, ev);
}

static void on_owner(const struct tft_owner *o, void *ctx)
{
	struct app *app = ctx;

	flow_pipeline_owner(app->pipeline, o, NULL, NULL);
}

static void on_replay_owner(const struct record_owner *r, void *ctx)
{
	char user[RECORD_OWNER_USER_MAX + 1], cg[RECORD_OWNER_CGROUP_MAX + 1];
	struct app *app = ctx;

	snprintf(user, sizeof(user), "%.*s", (int)r->user_len, r->user);
	snprintf(cg, sizeof(cg), "%.*s", (int)r->cgroup_len, r->cgroup);
	flow_pipeline_owner(app->pipeline, &r->owner, user, cg);
}

static void on_dns(const struct tft_dns_event *ev, void *ctx)
{
	struct app *app = ctx;

	flow_pipeline_dns(app->pipeline, ev);
}

/*
 * -r: the file stands in for the capture. Its header sets the clock (times
 * show as recorded) and the names: from the recorded answers, with reverse
 * lookups only when a --dns-server asks for them, since the addresses may
 * belong to another network. As root, privileges go as after an attach.
 */
static int open_replay(struct app *app, struct record_file_info *info, char *cgroup, size_t len)
{
	struct replay_cbs cbs = {on_tcp, on_dns, on_replay_counters, app, on_replay_owner, on_sock};
	struct privs_target drop_to;
	char err[512];

	if (geteuid() == 0 && privs_choose_target(env.user, &drop_to, err, sizeof(err))) {
		fprintf(stderr, "tcpflowtop: %s\n", err);
		return -1;
	}
	app->replay = replay_new(env.read_path, env.realtime, &cbs, info, err, sizeof(err));
	if (!app->replay) {
		fprintf(stderr, "tcpflowtop: -r %s: %s\n", env.read_path, err);
		return -1;
	}
	if (geteuid() == 0 && privs_drop(&drop_to, err, sizeof(err))) {
		fprintf(stderr, "tcpflowtop: dropping privileges failed: %s\n", err);
		return -1;
	}
	clock_set_anchor(info->wall_minus_mono_ns);
	snprintf(cgroup, len, "%s (replay of %.*s)", info->cgroup, 512, env.read_path);
	env.no_resolve = env.no_resolve || !env.has_dns_server;
	env.no_dns = env.no_dns || !info->n_dns_ports;
	return 0;
}

/* -w: created before the programs load, so a path that cannot be written fails first. */
static int open_recording(struct app *app, const char *cgroup, const struct privs_target *owner)
{
	struct record_file_info info = {
	    .wall_minus_mono_ns = clock_anchor(),
	    .start_ns = clock_mono_ns(),
	    .ring_bytes = (uint32_t)(env.ring_bytes ? env.ring_bytes : TFT_RING_DEFAULT),
	    .n_dns_ports = (uint8_t)(env.no_dns ? 0 : env.n_dns_ports),
	};
	char err[512];

	memcpy(info.dns_ports, env.dns_ports, sizeof(info.dns_ports));
	snprintf(info.cgroup, sizeof(info.cgroup), "%.*s", (int)sizeof(info.cgroup) - 1, cgroup);
	app->rec =
	    record_writer_new(env.write_path, &info, owner->uid, owner->gid, err, sizeof(err));
	if (!app->rec) {
		fprintf(stderr, "tcpflowtop: %s\n", err);
		return -1;
	}
	return 0;
}

/*
 * --cgroup below the root: the programs go on its parent and pass over the
 * parent's other children, so that a cgroup recreated at the path can be
 * followed with no privilege. Where its depth in the hierarchy cannot be
 * known (a cgroup namespace), they go on the cgroup itself, as the message
 * says. The watch takes the id the programs start with, so no change
 * between the two goes untold.
 */
static int open_cgroup_watch(struct app *app, const char *cgroup)
{
	int e = cgroup_level(cgroup, &app->cg_level);

	if (e == -EXDEV)
		fprintf(stderr,
			"tcpflowtop: cgroup %s: its depth in the cgroup hierarchy cannot be known "
			"here (a cgroup namespace, or a mount of part of it): if it is removed and "
			"created again, its new flows will not be seen\n",
			cgroup);
	else if (e)
		fprintf(stderr,
			"tcpflowtop: cgroup %s: finding its depth failed: %s: if it is removed "
			"and created again, its new flows will not be seen\n",
			cgroup, strerror(-e));
	app->cg_follow = !e && app->cg_level > 0;
	app->cgwatch = cgroup_watch_new(cgroup, app->cg_follow);
	if (!app->cgwatch) {
		fprintf(stderr, "tcpflowtop: cgroup %s: %s\n", cgroup, strerror(errno));
		return -1;
	}
	return 0;
}

/* Loads and attaches the programs, then gives up every privilege. */
static int open_capture(struct app *app, const char *cgroup, const struct privs_target *drop_to)
{
	struct capture_opts copts = {
	    .cgroup_path = cgroup,
	    .ring_bytes = env.ring_bytes,
	    .verbose = env.verbose,
	    .dns_ports = env.dns_ports,
	    .n_dns_ports = env.no_dns ? 0 : env.n_dns_ports,
	    .on_owner = on_owner,
	    .on_sock = on_sock,
	};
	char err[512], root[512];
	const char *off;

	if (app->cg_follow) {
		copts.watch_level = (unsigned)app->cg_level;
		copts.watch_cgroup_id = cgroup_watch_id(app->cgwatch);
	}
	app->capture = capture_new(&copts, on_tcp, on_dns, app, err, sizeof(err));
	if (!app->capture) {
		fprintf(stderr, "tcpflowtop: %s\n", err);
		return -1;
	}
	off = capture_owner_off(app->capture);
	if (off) {
		fprintf(stderr, "tcpflowtop: flows show without their process: %s\n", off);
		flow_pipeline_owners_off(app->pipeline);
	}
	off = capture_outcomes_off(app->capture);
	if (off)
		fprintf(
		    stderr,
		    "tcpflowtop: flows show without how they ended (bytes, duration, RTT): %s\n",
		    off);
	else
		flow_pipeline_outcomes_on(app->pipeline);
	/* Cgroup ids name directories of the whole hierarchy, not only the watched cgroup. */
	if (cgroup_find_v2_root("/proc/self/mounts", root, sizeof(root)) == 0)
		owner_names_init(root);
	else
		root[0] = '\0';
	/* Listeners older than the programs: read while every process's fds are readable. */
	app->listeners =
	    proc_listeners_new("/proc", root[0] ? root : NULL, LISTENER_TABLE_SOCK_DIAG);
	if (app->listeners)
		flow_pipeline_use_listeners(app->pipeline, app->listeners);
	/* Loaded, attached and mapped: nothing below needs privileges. */
	if (privs_drop(drop_to, err, sizeof(err))) {
		fprintf(stderr, "tcpflowtop: dropping privileges failed: %s\n", err);
		return -1;
	}
	return 0;
}

/* Names from DNS answers and reverse lookups; without them tcpflowtop still runs. */
static void open_names(struct app *app)
{
	struct names_opts nopts = {
	    .passive = true,
	    .reverse = !env.no_resolve,
	    .server = env.has_dns_server ? &env.dns_server : NULL,
	};
	char err[512];

	app->names = names_new(app->loop, &nopts, on_names_changed, app, err, sizeof(err));
	if (!app->names)
		fprintf(stderr, "tcpflowtop: names off: %s\n", strerror(errno));
	else if (err[0])
		fprintf(stderr, "tcpflowtop: reverse lookups off: %s\n", err);
}

static int open_screen(struct app *app, const char *cgroup)
{
	struct tui_opts topts = {
	    .cgroup = cgroup,
	    .delay = env.delay,
	    .no_color = env.no_color,
	    .export_dir = env.export_dir,
	    .ncols = env.ncols,
	    .sort = env.sort,
	    .sort_desc = env.sort_desc,
	    .filter = env.filter,
	    .names = {app_names, app, "DNS answers seen; ~ marks a reverse (PTR) lookup",
		      app_names_generation},
	    .remote = app->groups[FLOW_GROUP_REMOTE],
	    .listener = app->groups[FLOW_GROUP_LISTENER],
	    .process = app->groups[FLOW_GROUP_PROCESS],
	    .replay = app->replay != NULL,
	};
	struct flow_sink sink;
	char err[512];

	memcpy(topts.cols, env.cols, sizeof(topts.cols));
	app->tui = tui_new(&topts, app->pipeline, app->loop, err, sizeof(err));
	if (!app->tui) {
		fprintf(stderr, "tcpflowtop: %s\n", err);
		return -1;
	}
	sink = tui_sink(app->tui);
	return flow_pipeline_add_sink(app->pipeline, &sink);
}

/*
 * The groups the screen cycles through (g), or the one --group-by prints:
 * sinks from the start, since their counts are totals since start.
 */
static int open_groups(struct app *app, uint64_t start_ns)
{
	enum flow_group_kind kinds[] = {FLOW_GROUP_REMOTE, FLOW_GROUP_LISTENER, FLOW_GROUP_PROCESS};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct flow_groups_opts gopts = {kinds[i], 0, env.capacity, app_group_name, app};
		struct flow_sink sink;

		if (env.batch && env.group_by != kinds[i])
			continue;
		app->groups[kinds[i]] = flow_groups_new(&gopts);
		if (!app->groups[kinds[i]])
			return -1;
		sink = flow_groups_sink(app->groups[kinds[i]]);
		if (flow_pipeline_add_sink(app->pipeline, &sink))
			return -1;
	}
	if (!env.batch)
		return 0;
	app->gstream = group_stream_new(STDOUT_FILENO, env.format, app->groups[env.group_by]);
	if (!app->gstream)
		return -1;
	flow_groups_set_interval(app->groups[env.group_by], start_ns,
				 (uint64_t)(env.interval * 1e9), on_group_tick, app);
	return 0;
}

static int open_stream(struct app *app)
{
	struct flow_sink sink = {.changed = stream_changed,
				 .left = stream_left,
				 .lost = stream_lost,
				 .ignored = stream_ignored,
				 .ctx = app,
				 .alert = stream_alert};

	if (app->names) {
		struct names_provider np = {app_names, app, NULL, NULL};

		output_stream_set_names(app->out, &np); /* copied */
		if (env.resolve_wait_ms &&
		    output_stream_set_hold(app->out, env.resolve_wait_ms, app_names_settled, app)) {
			fprintf(stderr, "tcpflowtop: out of memory\n");
			return -1;
		}
	}
	return flow_pipeline_add_sink(app->pipeline, &sink);
}

/*
 * --metrics, --ipfix: sinks from the start, the metrics port bound while
 * privileged; their threads start only after the privilege drop.
 */
static int open_exporters(struct app *app)
{
	char err[512];

	app->exp_names = (struct names_provider){app->names ? app_names : NULL, app, NULL, NULL};
	env.exp.ipfix.names = &app->exp_names;
	app->exporters = exporters_new(&env.exp, app->pipeline, err, sizeof(err));
	if (!app->exporters) {
		fprintf(stderr, "tcpflowtop: %s\n", err);
		return -1;
	}
	return 0;
}

static int start_exporters(struct app *app)
{
	char err[512];

	if (exporters_start(app->exporters, err, sizeof(err))) {
		fprintf(stderr, "tcpflowtop: %s\n", err);
		return -1;
	}
	exporters_describe(app->exporters, err, sizeof(err));
	fprintf(stderr, "tcpflowtop: exporting: %s\n", err);
	return 0;
}

/* Timers and signals in the loop; -D's one-shot timer; the ring's fd or the replay's timer. */
static int watch(struct app *app, sigset_t *sigs)
{
	app->signal_fd = signalfd(-1, sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	app->drain_fd = event_loop_timerfd(DRAIN_INTERVAL_MS, 1);
	if (app->signal_fd < 0 || app->drain_fd < 0 ||
	    event_loop_add(app->loop, app->signal_fd, EPOLLIN, on_signal, app) ||
	    event_loop_add(app->loop, app->drain_fd, EPOLLIN, on_drain_timer, app))
		return -1;
	if (app->capture &&
	    event_loop_add(app->loop, capture_fd(app->capture), EPOLLIN, on_ring, app))
		return -1;
	/* Only hang-up and error: EPERM for a regular file, which has no reader to lose. */
	if (app->out || app->gstream)
		event_loop_add(app->loop, STDOUT_FILENO, 0, on_stdout_gone, app);
	if (env.duration > 0) {
		double ms = env.duration * 1000.0;

		app->stop_fd = event_loop_timerfd(ms < 1 ? 1 : (unsigned)ms, 0);
		if (app->stop_fd < 0 ||
		    event_loop_add(app->loop, app->stop_fd, EPOLLIN, on_stop_timer, app))
			return -1;
	}
	return 0;
}

/* Starts the replay once the sinks are in place. */
static int start_replay(struct app *app)
{
	app->replay_fd = event_loop_timerfd(1, 0);
	if (app->replay_fd < 0)
		return -1;
	return event_loop_add(app->loop, app->replay_fd, EPOLLIN, on_replay_timer, app) ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const struct argp argp = {options, parse_arg, NULL, doc, NULL, help_filter, NULL};
	struct app app = {.drain_fd = -1, .stop_fd = -1, .signal_fd = -1, .replay_fd = -1};
	struct flow_pipeline_opts popts;
	struct record_file_info info;
	struct privs_target drop_to;
	char cgroup[PATH_MAX], err[512];
	sigset_t sigs;
	int e;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	/* The screen needs a terminal on both ends: keys in, drawing out. */
	if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO) || env.serve)
		env.batch = true;
	/* Nobody's client ports become labels: the range connect() picks them from. */
	if (env.exp.metrics_addr &&
	    metrics_ephemeral_range("/proc/sys/net/ipv4/ip_local_port_range",
				    &env.exp.metrics.eph_lo, &env.exp.metrics.eph_hi)) {
		env.exp.metrics.eph_lo = 32768; /* Linux's default */
		env.exp.metrics.eph_hi = 60999;
	}

	if (env.read_path) {
		if (open_replay(&app, &info, cgroup, sizeof(cgroup))) {
			replay_free(app.replay);
			return 1;
		}
	} else {
		if (resolve_cgroup(cgroup, sizeof(cgroup)))
			return 1;
		if (!privs_can_load_bpf()) {
			fprintf(stderr,
				"tcpflowtop: not permitted to load BPF programs (run as root, or "
				"grant CAP_BPF and CAP_NET_ADMIN)\n");
			return 1;
		}
		/* The user to drop to, picked before loading: a bad --user fails early. */
		if (privs_choose_target(env.user, &drop_to, err, sizeof(err))) {
			fprintf(stderr, "tcpflowtop: %s\n", err);
			return 1;
		}
		clock_init();
	}

	app.exit_code = 1; /* until the loop runs */
	e = block_signals(&sigs);
	if (e) {
		fprintf(stderr, "tcpflowtop: blocking signals failed: %s\n", strerror(-e));
		goto cleanup;
	}
	app.loop = event_loop_new();
	if (env.batch && !env.group_by && !env.serve) {
		struct output_stream_opts sopts = {env.format, &env.filter, env.count, env.events};

		app.out = output_stream_new(STDOUT_FILENO, &sopts);
	}
	if (!app.loop || (env.batch && !env.group_by && !env.serve && !app.out)) {
		fprintf(stderr, "tcpflowtop: setting up failed: %s\n", strerror(errno));
		goto cleanup;
	}
	if (!env.no_dns)
		open_names(&app);
	if (env.write_path && open_recording(&app, cgroup, &drop_to))
		goto cleanup;
	popts = (struct flow_pipeline_opts){
	    .capacity = env.capacity,
	    .names = app.names,
	    .rec = app.rec,
	    .timeouts = {(uint64_t)(env.syn_timeout * 1e9), (uint64_t)(env.half_open * 1e9)},
	    .idle_ns = (uint64_t)(env.idle * 1e9),
	    .reset_alert = (uint32_t)env.reset_alert,
	    .live = !env.read_path,
	};
	app.pipeline = flow_pipeline_new(&popts);
	if (!app.pipeline) {
		fprintf(stderr, "tcpflowtop: setting up failed: %s\n", strerror(errno));
		goto cleanup;
	}
	if ((!env.batch || env.group_by) &&
	    open_groups(&app, app.replay ? info.start_ns : clock_mono_ns())) {
		fprintf(stderr, "tcpflowtop: setting up the groups failed: %s\n", strerror(errno));
		goto cleanup;
	}
	if (env.batch && !env.group_by && !env.serve && open_stream(&app))
		goto cleanup;
	if ((env.exp.metrics_addr || env.exp.ipfix_on) && open_exporters(&app))
		goto cleanup;
	/* The root cgroup cannot be removed; a named one can, under the running programs. */
	if (!app.replay && env.cgroup && open_cgroup_watch(&app, cgroup))
		goto cleanup;
	if (!app.replay && open_capture(&app, cgroup, &drop_to))
		goto cleanup;
	if (app.exporters && start_exporters(&app))
		goto cleanup;
	if (watch(&app, &sigs)) {
		fprintf(stderr, "tcpflowtop: setting up the event loop failed: %s\n",
			strerror(errno));
		goto cleanup;
	}

	if (env.batch) {
		/* The header goes out only once the programs are attached: scripts may wait for it.
		 */
		if (app.out) {
			output_stream_header(app.out);
			output_stream_flush(app.out);
		}
		if (app.replay)
			fprintf(stderr, "tcpflowtop: replaying %s, recorded in cgroup %s\n",
				env.read_path, info.cgroup);
		else
			fprintf(stderr, "tcpflowtop: watching new TCP flows in cgroup %s\n",
				cgroup);
	} else if (open_screen(&app, cgroup)) {
		goto cleanup;
	}
	if (app.replay)
		flow_fields_set_now(app_now_fn, &app);
	if (app.replay && start_replay(&app)) {
		report(&app, "tcpflowtop: setting up the replay failed: %s", strerror(errno));
		goto cleanup;
	}

	app.exit_code = 0;
	e = event_loop_run(app.loop);
	if (e) {
		report(&app, "tcpflowtop: event loop failed: %s", strerror(-e));
		app.exit_code = 1;
	}
	if (app.out || app.tui || app.exporters) {
		/* What arrived before the stop; then every flow still held gets its last record. */
		drain(&app, false);
		flow_pipeline_finish(app.pipeline);
	}
	drain(&app, true); /* what arrived before the stop, and every held line */
	if (app.gstream && !app.exit_code) {
		struct flow_groups *g = app.groups[env.group_by];

		/* The last block: as of the last event of a replay, or now. */
		e = group_stream_block(
		    app.gstream, app.replay
				     ? (flow_groups_now(g) ? flow_groups_now(g) : info.start_ns)
				     : clock_mono_ns());
		if (e && e != -EPIPE) {
			fprintf(stderr, "tcpflowtop: writing the output failed: %s\n",
				strerror(-e));
			app.exit_code = 1;
		}
	}
	/* Close the screen first: held messages and the summary print on a sane terminal. */
	tui_free(app.tui);
	app.tui = NULL;
	if (app.exporters) /* their last records went out above: the threads stop */
		exporters_finish(app.exporters, err, sizeof(err));
	print_summary(&app);
	if (app.exporters && err[0])
		fprintf(stderr, "tcpflowtop: %s\n", err);

cleanup:
	exporters_free(app.exporters); /* their threads first: they read nothing else */
	/* First: ares_destroy fires callbacks and closes sockets still in the loop. */
	names_free(app.names);
	tui_free(app.tui);
	capture_free(app.capture);
	replay_free(app.replay);
	owner_names_reset();
	e = record_writer_free(app.rec);
	if (e && !app.rec_failed) {
		fprintf(stderr, "tcpflowtop: writing %s failed: %s\n", env.write_path,
			strerror(-e));
		app.exit_code = 1;
	}
	if (app.replay_fd >= 0)
		close(app.replay_fd);
	if (app.stop_fd >= 0)
		close(app.stop_fd);
	if (app.drain_fd >= 0)
		close(app.drain_fd);
	if (app.signal_fd >= 0)
		close(app.signal_fd);
	cgroup_watch_free(app.cgwatch);
	output_stream_free(app.out);
	group_stream_free(app.gstream);
	flow_pipeline_free(app.pipeline);
	proc_listeners_free(app.listeners);
	flow_groups_free(app.groups[FLOW_GROUP_REMOTE]);
	flow_groups_free(app.groups[FLOW_GROUP_LISTENER]);
	flow_groups_free(app.groups[FLOW_GROUP_PROCESS]);
	event_loop_free(app.loop);
	return app.exit_code;
}
