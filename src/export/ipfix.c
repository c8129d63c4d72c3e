/* IPFIX flow records: built on the capture thread, sent by a thread of their own. */
#include "ipfix.h"

#include <errno.h>
#include <fixbuf/public.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "flow_fields.h"
#include "parse_num.h"

/* ---- record building: pure */

uint16_t ipfix_tcp_flags(const struct tft_flow *f)
{
	uint16_t b = 0x02; /* SYN */

	switch (f->state) {
	case TFT_STATE_REFUSED:
		b |= 0x14; /* RST, ACK */
		break;
	case TFT_STATE_PENDING:
	case TFT_STATE_UNANSWERED:
		break;
	default:
		b |= 0x10; /* the SYN-ACK's ACK */
	}
	if (f->end == TFT_END_FIN_LOCAL || f->end == TFT_END_FIN_PEER)
		b |= 0x01;
	if (f->end == TFT_END_RESET_LOCAL || f->end == TFT_END_RESET_PEER)
		b |= 0x04;
	return b;
}

uint8_t ipfix_end_reason(const struct tft_flow *f)
{
	switch (f->end) {
	case TFT_END_TIMEOUT:
	case TFT_END_HALF_OPEN:
		return IPFIX_END_IDLE;
	case TFT_END_OPEN:
	case TFT_END_NONE:
		return IPFIX_END_FORCED;
	default:
		return IPFIX_END_EOF;
	}
}

static uint64_t wall_ms(uint64_t mono_ns)
{
	struct timespec ts = clock_mono_to_wall(mono_ns);

	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One end's names, cut at IPFIX_NAMES_MAX bytes: buf holds that many. */
static uint16_t names_text(const struct names_provider *np, uint8_t family, const uint8_t *addr,
			   char *buf)
{
	/*
	 * flow_names_text adds a \xHH escape whole or not at all, so a buffer
	 * with room for one more escape past IPFIX_NAMES_MAX holds the first
	 * IPFIX_NAMES_MAX bytes of the uncut text.
	 */
	char text[IPFIX_NAMES_MAX + 4];
	struct names_list l;
	size_t n;

	names_provider_lookup(np, family, addr, &l);
	flow_names_text(&l, " ", 0, text, sizeof(text));
	n = strlen(text);
	if (n > IPFIX_NAMES_MAX)
		n = IPFIX_NAMES_MAX; /* an escape cut at the end stays printable ASCII */
	memcpy(buf, text, n);
	return (uint16_t)n;
}

static uint16_t field_text(enum flow_field id, const struct tft_flow *f, char *buf, size_t size)
{
	struct flow_field_ctx c = {.flow = f, .at_ns = f->syn_ns};
	char text[4 * IPFIX_STR_MAX];
	size_t n;

	flow_field_render(id, &c, FLOW_TARGET_TEXT, text, sizeof(text));
	n = strlen(text);
	if (n > size)
		n = size;
	memcpy(buf, text, n);
	return (uint16_t)n;
}

void ipfix_record_build(const struct tft_flow *f, uint8_t reason, uint64_t end_ns,
			const struct names_provider *names, struct ipfix_record *r)
{
	bool out = f->key.dir == TFT_DIR_OUT;

	memset(r, 0, offsetof(struct ipfix_record, snames));
	r->start_ms = wall_ms(f->syn_ns);
	r->end_ms = wall_ms(end_ns > f->syn_ns ? end_ns : f->syn_ns);
	if (f->flags & TFT_FLOW_F_FIGURES) {
		/* The initiator is the source: this host for an outgoing flow. */
		r->has_counts = true;
		r->octets = out ? f->bytes_out : f->bytes_in;
		r->packets = out ? f->segs_out : f->segs_in;
		r->rev_octets = out ? f->bytes_in : f->bytes_out;
		r->rev_packets = out ? f->segs_in : f->segs_out;
	}
	r->family = f->key.family;
	memcpy(r->saddr, f->key.saddr, 16);
	memcpy(r->daddr, f->key.daddr, 16);
	r->sport = f->key.sport;
	r->dport = f->key.dport;
	r->tcp_flags = ipfix_tcp_flags(f);
	r->end_reason = reason;
	r->direction = out ? 1 : 0;
	r->pid = f->owner.state == TFT_OWNER_KNOWN ? f->owner.tgid : 0;
	r->snames_len = names_text(names, f->key.family, f->key.saddr, r->snames);
	r->dnames_len = names_text(names, f->key.family, f->key.daddr, r->dnames);
	r->comm_len = field_text(FLOW_FIELD_COMM, f, r->comm, IPFIX_STR_MAX);
	r->user_len = field_text(FLOW_FIELD_USER, f, r->user, IPFIX_STR_MAX);
	r->service_len = field_text(FLOW_FIELD_SERVICE, f, r->service, IPFIX_STR_MAX);
}

int ipfix_parse_target(const char *spec, struct ipfix_opts *o)
{
	const char *s = spec, *host, *end, *port = NULL;
	size_t hl;
	uint64_t p;

	o->transport = IPFIX_UDP;
	if (!strncmp(s, "udp:", 4)) {
		s += 4;
	} else if (!strncmp(s, "tcp:", 4)) {
		o->transport = IPFIX_TCP;
		s += 4;
	}
	if (*s == '[') {
		host = s + 1;
		end = strchr(host, ']');
		if (!end || (end[1] && end[1] != ':'))
			return -EINVAL;
		if (end[1])
			port = end + 2;
	} else {
		host = s;
		end = strchr(s, ':');
		if (end && strchr(end + 1, ':'))
			return -EINVAL; /* an IPv6 address needs its brackets */
		if (end)
			port = end + 1;
		else
			end = s + strlen(s);
	}
	hl = (size_t)(end - host);
	if (!hl || hl >= sizeof(o->host))
		return -EINVAL;
	memcpy(o->host, host, hl);
	o->host[hl] = '\0';
	if (!port) {
		snprintf(o->port, sizeof(o->port), "%d", IPFIX_DEFAULT_PORT);
		return 0;
	}
	if (parse_u64(port, 1, 65535, &p))
		return -EINVAL;
	snprintf(o->port, sizeof(o->port), "%" PRIu64, p);
	return 0;
}

/* ---- the sending side: libfixbuf, on its own thread */

/* Template features, as fbInfoElementSpec_t flags: a template takes the specs whose bits it has. */
#define T_V4 0x1
#define T_V6 0x2
#define T_COUNTS 0x4
#define T_ALL (T_V4 | T_V6 | T_COUNTS)

/* The internal record: fields in the order of the spec below, sizes as given there. */
struct wire_record {
	uint64_t start_ms, end_ms;
	uint64_t octets, packets, rev_octets, rev_packets;
	fbVarfield_t snames, dnames, comm, user, service;
	uint8_t saddr6[16], daddr6[16];
	uint32_t saddr4, daddr4; /* host order, as fixbuf wants numbers internally */
	uint32_t pid;
	uint16_t sport, dport, tcp_flags;
	uint8_t proto, reason, direction;
	uint8_t pad[3];
};

static fbInfoElementSpec_t wire_spec[] = {
    {"flowStartMilliseconds", 8, 0},
    {"flowEndMilliseconds", 8, 0},
    {"octetTotalCount", 8, T_COUNTS},
    {"packetTotalCount", 8, T_COUNTS},
    {"reverseOctetTotalCount", 8, T_COUNTS},
    {"reversePacketTotalCount", 8, T_COUNTS},
    {"tftSourceNames", FB_IE_VARLEN, 0},
    {"tftDestinationNames", FB_IE_VARLEN, 0},
    {"tftProcessName", FB_IE_VARLEN, 0},
    {"tftUserName", FB_IE_VARLEN, 0},
    {"tftServiceName", FB_IE_VARLEN, 0},
    {"sourceIPv6Address", 16, T_V6},
    {"destinationIPv6Address", 16, T_V6},
    {"sourceIPv4Address", 4, T_V4},
    {"destinationIPv4Address", 4, T_V4},
    {"tftProcessId", 4, 0},
    {"sourceTransportPort", 2, 0},
    {"destinationTransportPort", 2, 0},
    {"tcpControlBits", 2, 0},
    {"protocolIdentifier", 1, 0},
    {"flowEndReason", 1, 0},
    {"flowDirection", 1, 0},
    {"paddingOctets", 3, T_ALL},
    FB_IESPEC_NULL,
};

static fbInfoElement_t pen_elements[] = {
    FB_IE_INIT_FULL("tftSourceNames", IPFIX_PEN, IPFIX_IE_SOURCE_NAMES, FB_IE_VARLEN, FB_IE_DEFAULT,
		    0, 0, FB_STRING, NULL),
    FB_IE_INIT_FULL("tftDestinationNames", IPFIX_PEN, IPFIX_IE_DESTINATION_NAMES, FB_IE_VARLEN,
		    FB_IE_DEFAULT, 0, 0, FB_STRING, NULL),
    FB_IE_INIT_FULL("tftProcessName", IPFIX_PEN, IPFIX_IE_PROCESS_NAME, FB_IE_VARLEN, FB_IE_DEFAULT,
		    0, 0, FB_STRING, NULL),
    FB_IE_INIT_FULL("tftProcessId", IPFIX_PEN, IPFIX_IE_PROCESS_ID, 4, FB_IE_F_ENDIAN, 0, 0,
		    FB_UINT_32, NULL),
    FB_IE_INIT_FULL("tftUserName", IPFIX_PEN, IPFIX_IE_USER_NAME, FB_IE_VARLEN, FB_IE_DEFAULT, 0, 0,
		    FB_STRING, NULL),
    FB_IE_INIT_FULL("tftServiceName", IPFIX_PEN, IPFIX_IE_SERVICE_NAME, FB_IE_VARLEN, FB_IE_DEFAULT,
		    0, 0, FB_STRING, NULL),
    FB_IE_NULL,
};

/* External templates by family and counts: [v6][counts]. */
static const uint32_t ext_flags[2][2] = {{T_V4, T_V4 | T_COUNTS}, {T_V6, T_V6 | T_COUNTS}};

struct ipfix {
	struct ipfix_opts opts;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock; /* guards the queue, the stats and the flags below */
	pthread_cond_t wake;  /* records queued, or stop */
	pthread_cond_t done_cv;
	pthread_cond_t space;	/* the queue has room again */
	struct ipfix_record *q; /* owned ring of IPFIX_QUEUE */
	size_t head, n;
	bool stop, done, joined;
	bool stalled; /* a wait for room timed out */
	struct ipfix_stats st;
	uint64_t last_tick_ns;
	/* The sending thread's own. */
	fbInfoModel_t *model;
	fbConnSpec_t spec;
	fBuf_t *fbuf; /* owns its session and exporter; NULL: not connected */
	uint16_t int_tid, ext_tid[2][2];
	uint64_t in_message; /* records appended to the message not yet sent */
	uint64_t retry_ns, templates_ns;
	uint16_t cur_tid;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void disconnect(struct ipfix *x)
{
	if (x->fbuf)
		fBufFree(x->fbuf);
	x->fbuf = NULL;
	x->cur_tid = 0;
}

/*
 * libfixbuf reports a failed UDP send (the collector's port unreachable) as
 * a glib warning on stderr and goes on as if sent. On the sending thread the
 * warning is caught instead: the message is counted lost and the
 * connection made again. Other threads' messages go to glib's default.
 */
static __thread bool log_caught;
static __thread bool send_lost;
static __thread char lost_why[128];

static void on_glib_log(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data)
{
	if (!log_caught) {
		g_log_default_handler(domain, level, msg, data);
		return;
	}
	if (strstr(msg, "error") && !send_lost) {
		send_lost = true;
		snprintf(lost_why, sizeof(lost_why), "%s", msg);
	}
}

/* Counts a failure: the records of the message under way are lost with it. */
static void failed(struct ipfix *x, GError **err)
{
	char msg[sizeof(x->st.last_error)];

	snprintf(msg, sizeof(msg), "%s",
		 err && *err ? (*err)->message
		 : send_lost ? lost_why
			     : "out of memory");
	send_lost = false;
	if (err)
		g_clear_error(err);
	disconnect(x);
	x->retry_ns = now_ns() + 1000000000ull;
	pthread_mutex_lock(&x->lock);
	x->st.errors++;
	x->st.dropped += x->in_message;
	snprintf(x->st.last_error, sizeof(x->st.last_error), "%s", msg);
	pthread_mutex_unlock(&x->lock);
	x->in_message = 0;
}

/*
 * The templates in a message of their own. A message starts only in
 * automatic mode; records go in manual mode, so that a full message shows
 * (FB_ERROR_EOM) and the records it held are counted when it is sent.
 */
static bool send_templates(struct ipfix *x, GError **err)
{
	bool ok;

	send_lost = false;
	fBufSetAutomaticMode(x->fbuf, TRUE);
	ok = fbSessionExportTemplates(fBufGetSession(x->fbuf), err) && fBufEmit(x->fbuf, err) &&
	     !send_lost;
	fBufSetAutomaticMode(x->fbuf, FALSE);
	x->templates_ns = now_ns();
	x->cur_tid = 0;
	return ok;
}

static bool connect_collector(struct ipfix *x)
{
	fbSession_t *session = NULL;
	fbExporter_t *exporter;
	fbTemplate_t *t;
	GError *err = NULL;
	int v6, counts;

	session = fbSessionAlloc(x->model);
	t = fbTemplateAlloc(x->model);
	if (!fbTemplateAppendSpecArray(t, wire_spec, T_ALL, &err) ||
	    !(x->int_tid = fbSessionAddTemplate(session, TRUE, FB_TID_AUTO, t, &err)))
		goto fail;
	for (v6 = 0; v6 < 2; v6++) {
		for (counts = 0; counts < 2; counts++) {
			t = fbTemplateAlloc(x->model);
			if (!fbTemplateAppendSpecArray(t, wire_spec, ext_flags[v6][counts], &err) ||
			    !(x->ext_tid[v6][counts] = fbSessionAddTemplate(
				  session, FALSE, (uint16_t)(256 + v6 * 2 + counts), t, &err)))
				goto fail;
		}
	}
	exporter = fbExporterAllocNet(&x->spec);
	if (!exporter)
		goto fail;
	x->fbuf = fBufAllocForExport(session, exporter);
	session = NULL; /* the buffer owns it now */
	if (!fBufSetInternalTemplate(x->fbuf, x->int_tid, &err) || !send_templates(x, &err))
		goto fail;
	return true;
fail:
	if (session)
		fbSessionFree(session);
	failed(x, &err);
	return false;
}

static void to_wire(const struct ipfix_record *r, struct wire_record *w)
{
	memset(w, 0, sizeof(*w));
	w->start_ms = r->start_ms;
	w->end_ms = r->end_ms;
	w->octets = r->octets;
	w->packets = r->packets;
	w->rev_octets = r->rev_octets;
	w->rev_packets = r->rev_packets;
	w->snames = (fbVarfield_t){r->snames_len, (uint8_t *)r->snames};
	w->dnames = (fbVarfield_t){r->dnames_len, (uint8_t *)r->dnames};
	w->comm = (fbVarfield_t){r->comm_len, (uint8_t *)r->comm};
	w->user = (fbVarfield_t){r->user_len, (uint8_t *)r->user};
	w->service = (fbVarfield_t){r->service_len, (uint8_t *)r->service};
	if (r->family == 6) {
		memcpy(w->saddr6, r->saddr, 16);
		memcpy(w->daddr6, r->daddr, 16);
	} else {
		w->saddr4 = (uint32_t)r->saddr[0] << 24 | (uint32_t)r->saddr[1] << 16 |
			    (uint32_t)r->saddr[2] << 8 | r->saddr[3];
		w->daddr4 = (uint32_t)r->daddr[0] << 24 | (uint32_t)r->daddr[1] << 16 |
			    (uint32_t)r->daddr[2] << 8 | r->daddr[3];
	}
	w->pid = r->pid;
	w->sport = r->sport;
	w->dport = r->dport;
	w->tcp_flags = r->tcp_flags;
	w->proto = 6;
	w->reason = r->end_reason;
	w->direction = r->direction;
}

static bool emit(struct ipfix *x)
{
	GError *err = NULL;

	if (!x->in_message)
		return true;
	send_lost = false;
	if (!fBufEmit(x->fbuf, &err) || send_lost) {
		failed(x, &err);
		return false;
	}
	pthread_mutex_lock(&x->lock);
	x->st.sent += x->in_message;
	pthread_mutex_unlock(&x->lock);
	x->in_message = 0;
	return true;
}

/* Appends one record to the message, sending the message first when it is full. */
static bool append(struct ipfix *x, const struct ipfix_record *r)
{
	uint16_t tid = x->ext_tid[r->family == 6][r->has_counts];
	struct wire_record w;
	GError *err = NULL;
	int attempt;

	to_wire(r, &w);
	for (attempt = 0; attempt < 2; attempt++) {
		if (tid != x->cur_tid) {
			if (!fBufSetExportTemplate(x->fbuf, tid, &err)) {
				failed(x, &err);
				return false;
			}
			x->cur_tid = tid;
		}
		if (fBufAppend(x->fbuf, (uint8_t *)&w, sizeof(w), &err)) {
			x->in_message++;
			return true;
		}
		if (!g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM))
			break;
		g_clear_error(&err);
		if (!emit(x))
			return false;
	}
	failed(x, &err);
	return false;
}

#define BATCH 256

static void *sender(void *arg)
{
	struct ipfix *x = arg;
	struct ipfix_record *batch = malloc(BATCH * sizeof(*batch));
	size_t n, i;

	log_caught = true;
	pthread_mutex_lock(&x->lock);
	for (;;) {
		struct timespec ts;

		if (!x->n && !x->stop) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += 200000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&x->wake, &x->lock, &ts);
		}
		for (n = 0; batch && n < BATCH && x->n; n++) {
			batch[n] = x->q[x->head];
			x->head = (x->head + 1) % IPFIX_QUEUE;
			x->n--;
		}
		if (!batch) {
			x->st.dropped += x->n;
			x->n = 0;
		}
		if (n || !batch)
			pthread_cond_broadcast(&x->space);
		if (x->stop && !n)
			break;
		pthread_mutex_unlock(&x->lock);

		if (!x->fbuf && now_ns() >= x->retry_ns)
			connect_collector(x);
		/* A failed append dropped the message under way; its record is counted here. */
		for (i = 0; i < n && x->fbuf; i++)
			if (!append(x, &batch[i]))
				break;
		if (i < n) {
			pthread_mutex_lock(&x->lock);
			x->st.dropped += n - i;
			pthread_mutex_unlock(&x->lock);
		}
		if (x->fbuf && x->opts.transport == IPFIX_UDP && x->opts.refresh_s &&
		    now_ns() - x->templates_ns >= x->opts.refresh_s * 1000000000ull) {
			GError *err = NULL;

			if (emit(x) && !send_templates(x, &err))
				failed(x, &err);
		}
		pthread_mutex_lock(&x->lock);
		if (!x->n && x->fbuf) {
			pthread_mutex_unlock(&x->lock);
			emit(x);
			pthread_mutex_lock(&x->lock);
		}
	}
	x->done = true;
	pthread_cond_broadcast(&x->done_cv);
	pthread_mutex_unlock(&x->lock);
	free(batch);
	return NULL;
}

struct ipfix *ipfix_new(const struct ipfix_opts *opts)
{
	struct ipfix *x = calloc(1, sizeof(*x));
	pthread_condattr_t ca;

	if (!x || !(x->q = calloc(IPFIX_QUEUE, sizeof(*x->q)))) {
		free(x);
		errno = ENOMEM;
		return NULL;
	}
	x->opts = *opts;
	x->spec.transport = opts->transport == IPFIX_TCP ? FB_TCP : FB_UDP;
	x->spec.host = x->opts.host;
	x->spec.svc = x->opts.port;
	pthread_mutex_init(&x->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&x->wake, &ca);
	pthread_cond_init(&x->done_cv, &ca);
	pthread_cond_init(&x->space, &ca);
	pthread_condattr_destroy(&ca);
	return x;
}

static void set_log_handler(void)
{
	g_log_set_handler(NULL, G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
			  on_glib_log, NULL);
}

int ipfix_start(struct ipfix *x, char *err, size_t errlen)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int e;

	pthread_once(&once, set_log_handler);
	x->model = fbInfoModelAlloc();
	fbInfoModelAddElementArray(x->model, pen_elements);
	e = pthread_create(&x->thread, NULL, sender, x);
	if (e) {
		snprintf(err, errlen, "IPFIX: starting its thread failed: %s", strerror(e));
		return -e;
	}
	x->started = true;
	return 0;
}

bool ipfix_stop(struct ipfix *x)
{
	struct timespec ts;
	bool asked;

	if (!x->started || x->joined)
		return x->joined || !x->started;
	pthread_mutex_lock(&x->lock);
	/* A thread that outlived one wait is stuck: the exit is not held up twice. */
	asked = x->stop;
	x->stop = true;
	pthread_cond_signal(&x->wake);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += 2;
	while (!asked && !x->done &&
	       pthread_cond_timedwait(&x->done_cv, &x->lock, &ts) != ETIMEDOUT)
		;
	x->joined = x->done;
	pthread_mutex_unlock(&x->lock);
	if (x->joined)
		pthread_join(x->thread, NULL);
	return x->joined;
}

void ipfix_free(struct ipfix *x)
{
	if (!x)
		return;
	if (!ipfix_stop(x))
		return; /* stuck in a send or a connect: left to the process exit */
	disconnect(x);
	if (x->model)
		fbInfoModelFree(x->model);
	pthread_cond_destroy(&x->wake);
	pthread_cond_destroy(&x->done_cv);
	pthread_cond_destroy(&x->space);
	pthread_mutex_destroy(&x->lock);
	free(x->q);
	free(x);
}

bool ipfix_queue(struct ipfix *x, const struct ipfix_record *r, unsigned wait_ms)
{
	struct timespec ts;
	bool ok;

	pthread_mutex_lock(&x->lock);
	/* One wait in vain shows a stalled collector: the rest drop at once. */
	if (x->n == IPFIX_QUEUE && wait_ms && x->started && !x->stop && !x->stalled) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += wait_ms / 1000;
		ts.tv_nsec += (long)(wait_ms % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		while (x->n == IPFIX_QUEUE &&
		       pthread_cond_timedwait(&x->space, &x->lock, &ts) != ETIMEDOUT)
			;
		x->stalled = x->n == IPFIX_QUEUE;
	}
	ok = x->n < IPFIX_QUEUE;
	if (ok) {
		x->q[(x->head + x->n) % IPFIX_QUEUE] = *r;
		x->n++;
		x->st.queued++;
		if (x->n == 1)
			pthread_cond_signal(&x->wake);
	} else {
		x->st.dropped++;
	}
	pthread_mutex_unlock(&x->lock);
	return ok;
}

static void export_flow(struct ipfix *x, const struct tft_flow *f, uint8_t reason, uint64_t end_ns,
			unsigned wait_ms)
{
	struct ipfix_record r;

	ipfix_record_build(f, reason, end_ns, x->opts.names, &r);
	ipfix_queue(x, &r, wait_ms);
}

static void on_changed(void *ctx, const struct tft_flow *f, enum tft_flow_change change,
		       uint64_t at_ns)
{
	if (flow_change_ends(f, change))
		export_flow(ctx, f, ipfix_end_reason(f), f->end_ns ? f->end_ns : at_ns, 0);
}

/* A flow that ended was sent at its END; one leaving before that is sent now. */
static void on_left(void *ctx, const struct tft_flow *f, enum flow_leave why)
{
	if (f->end != TFT_END_NONE && f->end != TFT_END_OPEN)
		return;
	/* At exit capture is over: waiting for room loses no event, and keeps the records. */
	export_flow(ctx, f, why == FLOW_LEAVE_EVICTED ? IPFIX_END_RESOURCES : IPFIX_END_FORCED,
		    clock_mono_ns(), why == FLOW_LEAVE_EXIT ? IPFIX_EXIT_WAIT_MS : 0);
}

struct flow_sink ipfix_sink(struct ipfix *x)
{
	return (struct flow_sink){.changed = on_changed, .left = on_left, .ctx = x};
}

/* An open flow: answered, not ended. Pending ones end as unanswered soon enough. */
static bool open_flow(const struct tft_flow *f)
{
	return f->end == TFT_END_NONE &&
	       (f->state == TFT_STATE_ACCEPTED || f->state == TFT_STATE_ESTABLISHED);
}

void ipfix_tick(struct ipfix *x, const struct flow_table *t, uint64_t now)
{
	uint64_t period = (uint64_t)x->opts.active_s * 1000000000ull, prev = x->last_tick_ns;
	const struct tft_flow *f;

	x->last_tick_ns = now;
	if (!period || !prev || now <= prev)
		return;
	for (f = flow_table_first(t); f; f = flow_table_next(t, f)) {
		/* A multiple of the period since its SYN passed between the two ticks. */
		if (open_flow(f) && f->syn_ns < prev &&
		    (now - f->syn_ns) / period > (prev - f->syn_ns) / period)
			export_flow(x, f, IPFIX_END_ACTIVE, now, 0);
	}
}

void ipfix_stats(struct ipfix *x, struct ipfix_stats *out)
{
	pthread_mutex_lock(&x->lock);
	*out = x->st;
	out->waiting = x->n;
	pthread_mutex_unlock(&x->lock);
}
