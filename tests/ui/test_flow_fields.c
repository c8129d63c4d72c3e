/*
 * The field table: every field is complete and renders for every target it
 * appears in, stream headers and records agree, screen columns come first,
 * and the man page (argv[1]) names every field.
 */
#include <ctype.h>
#include <errno.h>

#include "../t.h"
#include "flow_fields.h"
#include "flows.h"
#include "output_stream.h"
#include "owner_names.h"

static size_t one_name(void *ctx, uint8_t family, const uint8_t *addr, struct names_list *out)
{
	(void)ctx;
	(void)family;
	(void)addr;
	out->e[0] = (struct names_entry){"a,b c.example", 13, TFT_NAME_DNS};
	out->e[1] = (struct names_entry){"=ptr", 4, TFT_NAME_PTR};
	out->n = 2;
	return 2;
}

static const struct names_provider names = {one_name, NULL, "test", NULL};

static void test_descriptors(void)
{
	enum flow_field ids[FLOW_FIELD_COUNT], parsed;
	int i, ranks[FLOW_FIELD_COUNT + 1] = {0};
	char buf[512];

	for (i = 0; i < FLOW_FIELD_COUNT; i++) {
		const struct flow_field_desc *d = flow_field((enum flow_field)i);

		CHECK(d && d->name && d->key && d->title && d->text_title && d->help && d->render,
		      "every field complete");
		if (!d)
			continue;
		CHECK(d->kind >= FLOW_KIND_TIME && d->kind <= FLOW_KIND_TEXT, d->name);
		CHECK_EQ(flow_field_parse(d->name, &parsed), 0, d->name);
		CHECK_EQ(parsed, i, "parses back");
		CHECK_EQ(flow_field_parse(d->title, &parsed), 0, d->title);
		CHECK_EQ(!!(d->flags & FLOW_FIELD_ON_ANY_SCREEN), i < FLOW_FIELD_SCREEN_COUNT,
			 "screen columns come first");
		if (d->flags & FLOW_FIELD_ON_ANY_SCREEN)
			CHECK(d->min_width > 0 && d->max_width >= d->min_width && d->keep > 0,
			      "screen layout hints");
		if (d->kind == FLOW_KIND_ENUM)
			CHECK(d->values && d->values[0].name && d->number, "enum values");
		if (d->kind == FLOW_KIND_NUMBER)
			CHECK(d->number != NULL, "numbers have a number");
		if (d->flags & (FLOW_FIELD_ON_TEXT | FLOW_FIELD_ON_CSV | FLOW_FIELD_ON_JSON |
				FLOW_FIELD_ON_EXPORT)) {
			CHECK(d->stream_rank > 0 && d->stream_rank <= FLOW_FIELD_COUNT,
			      "stream rank");
			CHECK(!ranks[d->stream_rank], "ranks unique");
			ranks[d->stream_rank] = 1;
		}
	}
	CHECK(flow_field(FLOW_FIELD_COUNT) == NULL, "out of range");
	CHECK_EQ(flow_field_parse("nope", &parsed), -EINVAL, "unknown");
	CHECK_EQ(flow_fields_with(FLOW_FIELD_ON_ANY_SCREEN, ids), FLOW_FIELD_SCREEN_COUNT,
		 "screen");
	CHECK_STR(flow_fields_names(FLOW_FIELD_ON_SCREEN, ",", buf, sizeof(buf)),
		  "time,dir,src,sport,dst,dport,snames,dnames,state,retx,hs,end,bytes_in,bytes_out,"
		  "comm,service",
		  "screen names");
	CHECK_STR(flow_fields_names(FLOW_FIELD_ON_SCREEN_EXTRA, ",", buf, sizeof(buf)),
		  "pid,user,cgroup,closed_by,duration_ms,rtt_us,data_retrans,idle,syncookie",
		  "screen columns on request");
	/* The owner's columns come after every earlier one, so scripts keep reading those. */
	CHECK_STR(
	    flow_fields_names(FLOW_FIELD_ON_CSV, ",", buf, sizeof(buf)),
	    "time,event,id,dir,family,src,sport,dst,dport,state,retx,hs,snames,dnames,pid,comm,"
	    "user,service,cgroup,end,closed_by,duration_ms,bytes_in,bytes_out,rtt_us,data_retrans,"
	    "idle,syncookie",
	    "CSV order");
	CHECK_EQ(flow_field_parse_n("proc", 4, &parsed), 0, "proc: an alias");
	CHECK_EQ(parsed, FLOW_FIELD_COMM, "proc is comm");
	CHECK_EQ(flow_field_parse_n("svc", 3, &parsed), 0, "svc: an alias");
	CHECK_EQ(parsed, FLOW_FIELD_SERVICE, "svc is service");
	CHECK_STR(flow_field_dir_name(TFT_DIR_OUT), "out", "dir name");
	CHECK_STR(flow_field_state_name(TFT_STATE_PENDING), "pending", "state name");
}

/* Every field renders for every target it appears in, for each state of a flow. */
static void test_render(void)
{
	static const enum flow_field_target targets[] = {FLOW_TARGET_SCREEN, FLOW_TARGET_TEXT,
							 FLOW_TARGET_CSV, FLOW_TARGET_JSON,
							 FLOW_TARGET_EXPORT};
	static const unsigned flags[] = {FLOW_FIELD_ON_SCREEN, FLOW_FIELD_ON_TEXT,
					 FLOW_FIELD_ON_CSV, FLOW_FIELD_ON_JSON,
					 FLOW_FIELD_ON_EXPORT};
	struct flow_table *t = flow_table_new(8);
	const struct tft_flow *fl[2];
	char buf[FLOW_NAMES_JSON_SIZE];
	size_t k, j;
	int i;

	fl[0] = t_syn(t, "10.0.0.1", 40000, "10.0.0.9", 443, 1, 1000);
	fl[1] = t_syn(t, "fe80::1", 40001, "fe80::2", 22, 0, 2000);
	t_answer(t, "10.0.0.1", 40000, "10.0.0.9", 443, 1, 1000 + 1500000, 1);
	{
		struct tft_flow_owner o = {
		    .state = TFT_OWNER_KNOWN, .tgid = 7, .uid = 0, .cgroup_id = 9};

		memcpy(o.comm, "sh", 2);
		owner_names_learn(0, "root", 9, "/system.slice/sshd.service");
		flow_table_set_owner(t, fl[0]->id, &o);
	}
	for (k = 0; k < 2; k++) {
		struct flow_field_ctx c = {fl[k], TFT_CHANGE_NEW, fl[k]->syn_ns, &names};

		for (i = 0; i < FLOW_FIELD_COUNT; i++) {
			const struct flow_field_desc *d = flow_field((enum flow_field)i);

			for (j = 0; j < sizeof(targets) / sizeof(targets[0]); j++) {
				uint64_t v;
				/* outcomes of a running flow: no end, no figures yet */
				bool none = d->number && !d->number(fl[k], &v) &&
					    i != FLOW_FIELD_HS && i != FLOW_FIELD_DURATION &&
					    !d->owner;

				if (!(d->flags & flags[j]))
					continue;
				flow_field_render((enum flow_field)i, &c, targets[j], buf,
						  sizeof(buf));
				/* Only a pending flow's handshake time may be empty, and JSON has
				 * null. */
				CHECK(buf[0] || none ||
					  ((i == FLOW_FIELD_HS || d->owner) && k == 1 &&
					   targets[j] != FLOW_TARGET_JSON),
				      d->name);
				if (none)
					CHECK_STR(buf, targets[j] == FLOW_TARGET_JSON ? "null" : "",
						  d->name);
				/* An unknown owner: "?" on the screen, null in JSON. */
				if (d->owner && k == 1 && targets[j] == FLOW_TARGET_SCREEN)
					CHECK_STR(buf, "?", d->name);
				if (d->owner && k == 1 && targets[j] == FLOW_TARGET_JSON)
					CHECK_STR(buf, "null", d->name);
				if (targets[j] == FLOW_TARGET_JSON)
					CHECK(buf[0] == '"' || buf[0] == '[' ||
						  isdigit((unsigned char)buf[0]) ||
						  !strcmp(buf, "true") || !strcmp(buf, "false") ||
						  !strcmp(buf, "null"),
					      "a JSON value");
				CHECK(!strchr(buf, '\n') && !strchr(buf, '\x1b'), "one safe line");
			}
		}
	}
	flow_table_free(t);
}

static size_t count_char(const char *s, char ch, const char *end)
{
	size_t n = 0;

	for (; s < end && *s; s++)
		n += *s == ch;
	return n;
}

/* Stream headers and records have as many columns. */
static void test_header_and_record_agree(void)
{
	static const enum output_format fmts[] = {OUTPUT_TEXT, OUTPUT_CSV};
	struct flow_table *t = flow_table_new(8);
	const struct tft_flow *f = t_syn(t, "10.0.0.1", 40000, "10.0.0.9", 443, 1, 1000);
	char buf[4096];
	size_t i, n;

	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		FILE *tmp = tmpfile();
		struct output_stream *o = output_stream_new(
		    fileno(tmp), &(struct output_stream_opts){fmts[i], NULL, 0, 0});
		struct names_provider plain = {NULL, NULL, NULL, NULL};
		char *nl, sep = fmts[i] == OUTPUT_CSV ? ',' : ' ';
		size_t h, r;

		output_stream_set_names(o, &plain);
		output_stream_header(o);
		output_stream_flow(o, f, TFT_CHANGE_NEW, f->syn_ns);
		output_stream_free(o);
		rewind(tmp);
		n = fread(buf, 1, sizeof(buf) - 1, tmp);
		buf[n] = '\0';
		fclose(tmp);
		nl = strchr(buf, '\n');
		CHECK(nl != NULL, "two lines");
		if (!nl)
			continue;
		if (sep == ',') {
			h = count_char(buf, ',', nl);
			r = count_char(nl + 1, ',', buf + n);
		} else {
			/* Text: count the gaps between words. */
			char *p;

			for (h = 0, p = buf; p < nl; p++)
				h += p > buf && *p != ' ' && p[-1] == ' ';
			for (r = 0, p = nl + 1; *p && *p != '\n'; p++)
				r += p > nl + 1 && *p != ' ' && p[-1] == ' ';
		}
		CHECK_EQ(h, r, fmts[i] == OUTPUT_CSV ? "CSV columns agree" : "text columns agree");
	}
	flow_table_free(t);
}

/* The man page names every field (-o, --sort, filter terms) and every stream column. */
static void test_man_page(const char *path)
{
	static char page[1 << 17];
	FILE *f = fopen(path, "r");
	size_t n;
	int i;

	CHECK(f != NULL, "man page readable");
	if (!f)
		return;
	n = fread(page, 1, sizeof(page) - 1, f);
	page[n] = '\0';
	fclose(f);
	for (i = 0; i < FLOW_FIELD_COUNT; i++) {
		const struct flow_field_desc *d = flow_field((enum flow_field)i);
		char want[64];

		snprintf(want, sizeof(want), ".B %s", d->name);
		CHECK(strstr(page, want) ||
			  (snprintf(want, sizeof(want), ".BR %s ", d->name), strstr(page, want)),
		      d->name);
		if (d->flags & (FLOW_FIELD_ON_CSV | FLOW_FIELD_ON_EXPORT))
			CHECK(strstr(page, d->key) != NULL, d->key);
	}
}

/*
 * A process names itself: control bytes never reach a terminal, a space
 * cannot split a text column, a leading '=' is no spreadsheet formula, and
 * JSON gets a plain string. The service is the cgroup's short form.
 */
static void test_owner(void)
{
	struct flow_table *t = flow_table_new(8);
	struct tft_flow_owner o = {
	    .state = TFT_OWNER_KNOWN, .tgid = 4242, .uid = 4343, .cgroup_id = 77};
	const struct tft_flow *f = t_syn(t, "10.0.0.1", 40000, "10.0.0.9", 443, 1, 1000);
	struct flow_field_ctx c = {f, TFT_CHANGE_NEW, f->syn_ns, NULL};
	char buf[512];
	uint64_t v;

	memcpy(o.comm, "=x\x1b[2J y\x7f", 9);
	owner_names_learn(
	    4343, "alice", 77,
	    "/system.slice/"
	    "docker-3f2a1b9c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8.scope");
	flow_table_set_owner(t, f->id, &o);
	CHECK_STR(flow_field_render(FLOW_FIELD_COMM, &c, FLOW_TARGET_SCREEN, buf, sizeof(buf)),
		  "=x\\x1b[2J y\\x7f", "screen: control bytes escaped");
	CHECK_STR(flow_field_render(FLOW_FIELD_COMM, &c, FLOW_TARGET_TEXT, buf, sizeof(buf)),
		  "=x\\x1b[2J\\x20y\\x7f", "text: the space too");
	CHECK_STR(flow_field_render(FLOW_FIELD_COMM, &c, FLOW_TARGET_CSV, buf, sizeof(buf)),
		  "\"'=x\\x1b[2J y\\x7f\"", "CSV: a formula defused");
	CHECK_STR(flow_field_render(FLOW_FIELD_COMM, &c, FLOW_TARGET_JSON, buf, sizeof(buf)),
		  "\"=x\\\\x1b[2J y\\\\x7f\"", "JSON: a plain string");
	CHECK_STR(flow_field_render(FLOW_FIELD_PID, &c, FLOW_TARGET_CSV, buf, sizeof(buf)), "4242",
		  "pid");
	CHECK_STR(flow_field_render(FLOW_FIELD_USER, &c, FLOW_TARGET_TEXT, buf, sizeof(buf)),
		  "alice", "user name");
	CHECK_STR(flow_field_render(FLOW_FIELD_SERVICE, &c, FLOW_TARGET_SCREEN, buf, sizeof(buf)),
		  "docker:3f2a1b9c4d5e", "service: the container");
	CHECK(strstr(flow_field_render(FLOW_FIELD_CGROUP, &c, FLOW_TARGET_JSON, buf, sizeof(buf)),
		     "/system.slice/docker-3f2a") != NULL,
	      "cgroup: the path");
	CHECK(flow_field(FLOW_FIELD_USER)->number(f, &v), "user sorts");
	CHECK_EQ(v >> 24, 0x616c696365ull, "by its name's first bytes");
	o.uid = 5555; /* no name known: the number */
	flow_table_set_owner(t, f->id, &o);
	CHECK_STR(flow_field_render(FLOW_FIELD_USER, &c, FLOW_TARGET_SCREEN, buf, sizeof(buf)),
		  "5555", "an unknown uid as a number");
	flow_table_free(t);
	owner_names_reset();
}

/*
 * Outcomes: every state and end word, closed_by only for a fin end,
 * duration to the end or to the record's time, figures only when known,
 * bytes short on the screen and exact elsewhere; sort and filter numbers.
 */
static void test_outcomes(void)
{
	static const char *const states[] = {"pending", "accepted",   "refused",  "established",
					     "closed",	"unanswered", "half-open"};
	static const struct {
		uint8_t end;
		const char *word, *closed_by;
	} ends[] = {{TFT_END_FIN_LOCAL, "fin", "local"},
		    {TFT_END_FIN_PEER, "fin", "peer"},
		    {TFT_END_RESET_PEER, "reset-by-peer", ""},
		    {TFT_END_RESET_LOCAL, "reset-by-local", ""},
		    {TFT_END_TIMEOUT, "timeout", ""},
		    {TFT_END_HALF_OPEN, "half-open", ""},
		    {TFT_END_OPEN, "open", ""}};
	struct tft_flow f = {0};
	struct flow_field_ctx c = {&f, TFT_CHANGE_END, 0, NULL};
	char buf[256];
	uint64_t v, fin_v;
	size_t i;

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		f.state = (uint8_t)i;
		CHECK_STR(
		    flow_field_render(FLOW_FIELD_STATE, &c, FLOW_TARGET_CSV, buf, sizeof(buf)),
		    states[i], "state word");
		CHECK(flow_field(FLOW_FIELD_STATE)->values[i].name &&
			  !strcmp(flow_field(FLOW_FIELD_STATE)->values[i].name, states[i]),
		      "state words are the filter's values");
	}
	f.state = TFT_STATE_CLOSED;
	f.key.family = 4;
	f.syn_ns = 1000000000ULL;
	f.end_ns = f.syn_ns + 61234567ULL;
	c.at_ns = f.end_ns + 999; /* ended: the end counts, not the record's time */
	flow_field(FLOW_FIELD_END)->number(&(struct tft_flow){.end = TFT_END_FIN_LOCAL}, &fin_v);
	for (i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		f.end = ends[i].end;
		CHECK_STR(flow_field_render(FLOW_FIELD_END, &c, FLOW_TARGET_TEXT, buf, sizeof(buf)),
			  ends[i].word, "end word");
		CHECK_STR(flow_field_end_name(f.end), ends[i].word, "end name");
		CHECK_STR(
		    flow_field_render(FLOW_FIELD_CLOSED_BY, &c, FLOW_TARGET_CSV, buf, sizeof(buf)),
		    ends[i].closed_by, "closed_by");
		CHECK(flow_field(FLOW_FIELD_END)->number(&f, &v), "an end has a number");
		CHECK_EQ(v == fin_v, !strcmp(ends[i].word, "fin"),
			 "both fins are one filter value");
		CHECK(flow_field_ended(&f), "ended");
	}
	f.end = TFT_END_FIN_LOCAL;
	CHECK_STR(flow_field_render(FLOW_FIELD_CLOSED_BY, &c, FLOW_TARGET_JSON, buf, sizeof(buf)),
		  "\"local\"", "json closed_by");
	CHECK_STR(flow_field_render(FLOW_FIELD_DURATION, &c, FLOW_TARGET_JSON, buf, sizeof(buf)),
		  "61.234", "duration to the end, in ms");
	CHECK(flow_field(FLOW_FIELD_DURATION)->number(&f, &v) && v == 61234567ULL,
	      "duration's number: ns");
	f.end = TFT_END_NONE;
	CHECK(!flow_field_ended(&f), "running");
	CHECK_STR(flow_field_render(FLOW_FIELD_END, &c, FLOW_TARGET_JSON, buf, sizeof(buf)), "null",
		  "no end: null");
	CHECK_STR(flow_field_render(FLOW_FIELD_CLOSED_BY, &c, FLOW_TARGET_JSON, buf, sizeof(buf)),
		  "null", "nobody closed: null");
	CHECK_STR(flow_field_render(FLOW_FIELD_DURATION, &c, FLOW_TARGET_CSV, buf, sizeof(buf)),
		  "61.235", "running: duration to the record's time");

	/* Figures: unknown until sampled; then exact, short on the screen. */
	CHECK_STR(flow_field_render(FLOW_FIELD_BYTES_IN, &c, FLOW_TARGET_JSON, buf, sizeof(buf)),
		  "null", "no figures: null");
	CHECK(!flow_field(FLOW_FIELD_BYTES_IN)->number(&f, &v) && v == 0,
	      "no figures: no value, sorts as 0");
	f.flags = TFT_FLOW_F_FIGURES;
	f.bytes_in = 1536;
	f.bytes_out = 5ULL << 30;
	f.rtt_us = 42;
	f.data_retrans = 3;
	CHECK_STR(flow_field_render(FLOW_FIELD_BYTES_IN, &c, FLOW_TARGET_CSV, buf, sizeof(buf)),
		  "1536", "bytes in, exact");
	CHECK_STR(flow_field_render(FLOW_FIELD_BYTES_IN, &c, FLOW_TARGET_SCREEN, buf, sizeof(buf)),
		  "1536", "bytes in, exact on the screen up to 7 digits");
	CHECK_STR(flow_field_render(FLOW_FIELD_BYTES_OUT, &c, FLOW_TARGET_EXPORT, buf, sizeof(buf)),
		  "5368709120", "bytes out, exact in the export");
	CHECK_STR(flow_field_render(FLOW_FIELD_BYTES_OUT, &c, FLOW_TARGET_SCREEN, buf, sizeof(buf)),
		  "5.0G", "bytes out, short");
	CHECK_STR(flow_field_render(FLOW_FIELD_RTT, &c, FLOW_TARGET_JSON, buf, sizeof(buf)), "42",
		  "rtt");
	CHECK_STR(
	    flow_field_render(FLOW_FIELD_DATA_RETRANS, &c, FLOW_TARGET_TEXT, buf, sizeof(buf)), "3",
	    "data retransmits");
	CHECK_STR(flow_field_render(FLOW_FIELD_IDLE, &c, FLOW_TARGET_JSON, buf, sizeof(buf)),
		  "false", "idle: false");
	f.flags |= TFT_FLOW_F_IDLE | TFT_FLOW_F_SYNCOOKIE;
	CHECK_STR(flow_field_render(FLOW_FIELD_IDLE, &c, FLOW_TARGET_CSV, buf, sizeof(buf)), "yes",
		  "idle: yes");
	CHECK_STR(flow_field_render(FLOW_FIELD_SYNCOOKIE, &c, FLOW_TARGET_JSON, buf, sizeof(buf)),
		  "true", "syncookie: true");
	c.change = TFT_CHANGE_UPDATE;
	CHECK_STR(flow_field_render(FLOW_FIELD_EVENT, &c, FLOW_TARGET_CSV, buf, sizeof(buf)),
		  "idle", "event idle");
	c.change = TFT_CHANGE_END;
	CHECK_STR(flow_field_render(FLOW_FIELD_EVENT, &c, FLOW_TARGET_CSV, buf, sizeof(buf)),
		  "close", "event close");
	flow_field_bytes_short(999, buf, sizeof(buf));
	CHECK_STR(buf, "999", "short: plain below 1K");
	flow_field_bytes_short(300ULL << 20, buf, sizeof(buf));
	CHECK_STR(buf, "300M", "short: no decimal from 100 up");
	/* the unit and the decimal follow the value as printed */
	flow_field_bytes_short((1ULL << 30) - 1, buf, sizeof(buf));
	CHECK_STR(buf, "1.0G", "short: 1023.99..M is 1.0G, not 1024M");
	flow_field_bytes_short(102369, buf, sizeof(buf));
	CHECK_STR(buf, "100K", "short: 99.97K is 100K, not 100.0K");
	flow_field_bytes_short(102348, buf, sizeof(buf));
	CHECK_STR(buf, "99.9K", "short: 99.949K keeps its decimal");
}

int main(int argc, char **argv)
{
	test_descriptors();
	test_render();
	test_owner();
	test_outcomes();
	test_header_and_record_agree();
	if (argc > 1)
		test_man_page(argv[1]);
	else
		CHECK(0, "usage: test_ui_flow_fields tcpflowtop.8");
	return t_done();
}
