/*
 * IPFIX export (RFC 7011) through libfixbuf: one record per flow when it
 * ends (the pipeline's END change), when it leaves the table before that
 * (evicted, or still open at exit: flowEndReason says which), and every
 * active timeout while a long flow stays open.
 *
 * A record carries standard elements (addresses, ports, protocol, start and
 * end in wall-clock milliseconds, tcpControlBits, flowEndReason,
 * flowDirection; octetTotalCount and packetTotalCount for the initiator's
 * direction and their RFC 5103 reverse elements for the responder's, when
 * the flow's figures are known) and enterprise-specific elements under
 * IPFIX_PEN: both ends' names, the process name, pid, user and service,
 * as the text stream spells them (escaped, printable ASCII).
 *
 * The capture thread only builds records and queues them (bounded: a full
 * queue drops, counted); a thread of its own encodes and sends them, so a
 * collector that is slow, down or unreachable costs a counted drop, never
 * a stall. After a send or connect error the connection is made again a
 * second later, templates first. Over UDP the templates are sent again
 * every refresh interval (RFC 7011 10.3.6).
 */
#ifndef TFT_IPFIX_H
#define TFT_IPFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow_pipeline.h"
#include "names_provider.h"

/*
 * The enterprise number of tcpflowtop's own elements: it has none from IANA,
 * and RFC 5612 sets 32473 aside for documentation and private use, so they
 * collide with no vendor's. Collectors are configured with it (README).
 */
#define IPFIX_PEN 32473
/* The enterprise element numbers under IPFIX_PEN. */
enum ipfix_pen_element {
	IPFIX_IE_SOURCE_NAMES = 1,	/* string: the initiator's names, space separated */
	IPFIX_IE_DESTINATION_NAMES = 2, /* string: the responder's names */
	IPFIX_IE_PROCESS_NAME = 3,	/* string: comm of the flow's owner */
	IPFIX_IE_PROCESS_ID = 4,	/* unsigned32: its pid (tgid), 0 unknown */
	IPFIX_IE_USER_NAME = 5,		/* string */
	IPFIX_IE_SERVICE_NAME = 6,	/* string: the service field */
};

/* flowEndReason values (RFC 5102, IANA). */
#define IPFIX_END_IDLE 1      /* unanswered, half-open: it timed out */
#define IPFIX_END_ACTIVE 2    /* still open: an interim record (active timeout) */
#define IPFIX_END_EOF 3	      /* FIN or RST seen */
#define IPFIX_END_FORCED 4    /* still open when tcpflowtop stopped (or the table was cleared) */
#define IPFIX_END_RESOURCES 5 /* still open when evicted from the full table */

#define IPFIX_DEFAULT_PORT 4739
#define IPFIX_DEFAULT_ACTIVE_S 300
#define IPFIX_DEFAULT_REFRESH_S 600
#define IPFIX_QUEUE 8192	/* records waiting for the sending thread */
#define IPFIX_EXIT_WAIT_MS 1000 /* at exit, a record waits this long for room in the queue */
#define IPFIX_NAMES_MAX 256	/* bytes of one end's names text */
#define IPFIX_STR_MAX 128	/* bytes of the process, user, service texts */

/* One flow record as built on the capture thread: plain data. */
struct ipfix_record {
	uint64_t start_ms, end_ms; /* wall clock, ms since the epoch */
	bool has_counts;	   /* the flow's figures are known */
	uint64_t octets, packets;  /* initiator -> responder */
	uint64_t rev_octets, rev_packets;
	uint8_t family; /* 4 or 6 */
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;
	uint16_t tcp_flags;
	uint8_t end_reason; /* IPFIX_END_* */
	uint8_t direction;  /* flowDirection: 0 ingress (incoming), 1 egress (outgoing) */
	uint32_t pid;
	uint16_t snames_len, dnames_len, comm_len, user_len, service_len;
	char snames[IPFIX_NAMES_MAX], dnames[IPFIX_NAMES_MAX];
	char comm[IPFIX_STR_MAX], user[IPFIX_STR_MAX], service[IPFIX_STR_MAX];
};

/*
 * Fills r from f: the flow as it ends (or stays open) at end_ns
 * (CLOCK_MONOTONIC) with reason. names may be NULL. Pure but for the
 * clock anchor and the owner name caches the field table reads.
 */
void ipfix_record_build(const struct tft_flow *f, uint8_t reason, uint64_t end_ns,
			const struct names_provider *names, struct ipfix_record *r);
/* tcpControlBits: the flags the flow's state shows were seen, either way. */
uint16_t ipfix_tcp_flags(const struct tft_flow *f);
/* The flowEndReason of a flow that ended (f->end set). */
uint8_t ipfix_end_reason(const struct tft_flow *f);

enum ipfix_transport { IPFIX_UDP = 0, IPFIX_TCP = 1 };

struct ipfix_opts {
	enum ipfix_transport transport;
	char host[256]; /* a name or a numeric address, without brackets */
	char port[8];
	unsigned active_s;  /* interim records of open flows every active_s; 0: none */
	unsigned refresh_s; /* UDP: templates again every refresh_s */
	const struct names_provider *names; /* borrowed; NULL: no names */
};

/*
 * Parses [udp:|tcp:]HOST:PORT (HOST: a name, an IPv4 address or [IPv6];
 * PORT may be left out with its colon: 4739) into o's transport, host,
 * port. 0 or -EINVAL.
 */
int ipfix_parse_target(const char *spec, struct ipfix_opts *o);

struct ipfix;

/* Records queue from now on; nothing is sent before ipfix_start. NULL with errno. */
struct ipfix *ipfix_new(const struct ipfix_opts *opts);
/*
 * Starts the sending thread: after the privilege drop, so it has none.
 * 0 or -errno, one line in err.
 */
int ipfix_start(struct ipfix *x, char *err, size_t errlen);
/*
 * Sends what is queued (waiting at most about 2 s for a stalled collector)
 * and stops the thread; the stats stay readable. False when the thread is
 * stuck in a send or a connect (then it is left to the process exit); a
 * later call then waits no more.
 */
bool ipfix_stop(struct ipfix *x);
/* Stops, then frees. NULL is fine. */
void ipfix_free(struct ipfix *x);

/* The pipeline sink that queues the records. */
struct flow_sink ipfix_sink(struct ipfix *x);
/*
 * Queues r (copied). A full queue drops it (counted) at once, or after up
 * to wait_ms for room: only at exit, when no capture can be held up.
 * False when dropped.
 */
bool ipfix_queue(struct ipfix *x, const struct ipfix_record *r, unsigned wait_ms);

/*
 * Active timeout: queues an interim record for every flow of t still open
 * whose age crossed a multiple of active_s since the previous call. Call it
 * every second or so from the capture thread.
 */
void ipfix_tick(struct ipfix *x, const struct flow_table *t, uint64_t now_ns);

struct ipfix_stats {
	uint64_t queued;      /* records handed over by the capture thread */
	uint64_t sent;	      /* in messages handed to the socket */
	uint64_t dropped;     /* queue full, or lost with a failed send or connect */
	uint64_t errors;      /* failed connects and sends */
	uint64_t waiting;     /* in the queue now */
	char last_error[128]; /* the last failure, as libfixbuf tells it; "" when none */
};
void ipfix_stats(struct ipfix *x, struct ipfix_stats *out);

#endif /* TFT_IPFIX_H */
