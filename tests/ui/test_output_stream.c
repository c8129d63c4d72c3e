/* Stream formats: text, CSV and JSON lines are interfaces; check their exact shape. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "name_escape.h"
#include "flow_fields.h"
#include "output_stream.h"
#include "t.h"

static struct tft_flow sample(void)
{
	struct tft_flow f = {0};

	f.id = 7;
	f.key.family = 6;
	f.key.dir = TFT_DIR_OUT;
	f.key.sport = 40000;
	f.key.dport = 443;
	inet_pton(AF_INET6, "2001:db8::1", f.key.saddr);
	inet_pton(AF_INET6, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", f.key.daddr);
	f.syn_ns = 1000000000ULL;
	f.answer_ns = 1000000000ULL + 1234567ULL;
	f.state = TFT_STATE_ACCEPTED;
	f.syn_retrans = 2;
	return f;
}

/* Writes one record in fmt into buf. */
static void render(enum output_format fmt, const struct tft_flow *f, enum tft_flow_change ch,
		   char *buf, size_t size, int header)
{
	FILE *tmp = tmpfile();
	struct output_stream_opts opts = {fmt, NULL, 0, 0};
	struct output_stream *o = output_stream_new(fileno(tmp), &opts);
	size_t n;

	if (header)
		output_stream_header(o);
	output_stream_flow(o, f, ch, f->syn_ns);
	CHECK_EQ(output_stream_flush(o), 0, "flush ok");
	output_stream_free(o);
	rewind(tmp);
	n = fread(buf, 1, size - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
}

/* Splits a CSV line on commas (our fields here never hold commas). */
static int split(char *line, char **fields, int max)
{
	int n = 0;
	char *save = NULL, *tok;

	line[strcspn(line, "\n")] = '\0';
	for (tok = strtok_r(line, ",", &save); tok && n < max; tok = strtok_r(NULL, ",", &save))
		fields[n++] = tok;
	return n;
}

static void test_csv(void)
{
	struct tft_flow f = sample();
	char buf[2048], *fields[20], *second;

	render(OUTPUT_CSV, &f, TFT_CHANGE_NEW, buf, sizeof(buf), 1);
	CHECK(strncmp(buf,
		      "time,event,id,direction,family,src_addr,src_port,dst_addr,dst_port,state,"
		      "syn_retrans,handshake_ms,src_names,dst_names,pid,comm,user,service,cgroup,"
		      "end,closed_by,duration_ms,bytes_in,bytes_out,rtt_us,data_retrans,idle,"
		      "syncookie\n",
		      strlen("time,event,id,direction,family,src_addr,src_port,dst_addr,dst_port,"
			     "state,syn_retrans,handshake_ms,src_names,dst_names,pid,comm,user,"
			     "service,cgroup,end,closed_by,duration_ms,bytes_in,bytes_out,rtt_us,"
			     "data_retrans,idle,syncookie\n")) == 0,
	      "csv header");
	second = strchr(buf, '\n') + 1;
	/* duration_ms, idle and syncookie always have a value */
	CHECK_EQ(split(second, fields, 20), 15, "15 non-empty csv fields (no names)");
	CHECK(strlen(fields[0]) == 27 && fields[0][10] == 'T' && fields[0][26] == 'Z',
	      "RFC 3339 UTC time with microseconds");
	CHECK_STR(fields[1], "new", "event");
	CHECK_STR(fields[2], "7", "id");
	CHECK_STR(fields[3], "out", "direction");
	CHECK_STR(fields[4], "6", "family");
	CHECK_STR(fields[5], "2001:db8::1", "src");
	CHECK_STR(fields[6], "40000", "sport");
	CHECK_STR(fields[7], "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "dst");
	CHECK_STR(fields[8], "443", "dport");
	CHECK_STR(fields[9], "accepted", "state");
	CHECK_STR(fields[10], "2", "retrans");
	CHECK_STR(fields[11], "1.234", "handshake ms");

	f.state = TFT_STATE_PENDING;
	f.answer_ns = 0;
	render(OUTPUT_CSV, &f, TFT_CHANGE_RETRANS, buf, sizeof(buf), 0);
	CHECK(strstr(buf, ",retrans,7,") != NULL, "retrans event");
	CHECK(strstr(buf, ",pending,2,,,,,,,,,,,") != NULL,
	      "empty handshake and names while pending");
}

static void test_json(void)
{
	struct tft_flow f = sample();
	char buf[2048];

	render(OUTPUT_JSON, &f, TFT_CHANGE_STATE, buf, sizeof(buf), 1);
	CHECK(buf[0] == '{', "no header line in JSON");
	CHECK(strstr(buf, "\"type\":\"update\"") != NULL, "update record");
	CHECK(strstr(buf, "\"id\":7,") != NULL, "id");
	CHECK(strstr(buf, "\"src_addr\":\"2001:db8::1\",\"src_port\":40000") != NULL, "src");
	CHECK(strstr(buf, "\"state\":\"accepted\"") != NULL, "state");
	CHECK(
	    strstr(buf,
		   "\"handshake_ms\":1.234,\"src_names\":[],\"dst_names\":[],\"pid\":null,"
		   "\"comm\":null,\"user\":null,\"service\":null,\"cgroup\":null,\"end\":null,") !=
		NULL,
	    "handshake number, empty names");
	CHECK_EQ(strchr(buf, '\n') - buf + 1, (long long)strlen(buf), "exactly one line");

	f.state = TFT_STATE_PENDING;
	render(OUTPUT_JSON, &f, TFT_CHANGE_NEW, buf, sizeof(buf), 0);
	CHECK(strstr(buf, "\"type\":\"flow\"") != NULL, "flow record");
	CHECK(strstr(buf, "\"handshake_ms\":null,") != NULL, "null while pending");
}

static void test_text(void)
{
	struct tft_flow f = sample();
	char buf[2048], *line;

	f.key.family = 4;
	memset(f.key.saddr, 0, 16);
	memset(f.key.daddr, 0, 16);
	inet_pton(AF_INET, "127.0.0.1", f.key.saddr);
	inet_pton(AF_INET, "127.0.0.2", f.key.daddr);
	render(OUTPUT_TEXT, &f, TFT_CHANGE_NEW, buf, sizeof(buf), 1);
	CHECK(strncmp(buf, "TIME", 4) == 0, "text header");
	line = strchr(buf, '\n') + 1;
	CHECK(line[2] == ':' && line[5] == ':' && line[8] == '.', "HH:MM:SS.mmm");
	CHECK(strstr(line, " new ") && strstr(line, " out ") && strstr(line, " 127.0.0.1 ") &&
		  strstr(line, " 127.0.0.2 ") && strstr(line, " accepted ") &&
		  strstr(line, " 1.234 - - "),
	      "text fields");
}

static void test_errors_and_names(void)
{
	enum output_format fmt;

	CHECK_EQ(output_format_parse("csv", &fmt), 0, "csv");
	CHECK_EQ(fmt, OUTPUT_CSV, "csv value");
	CHECK_EQ(output_format_parse("jsonl", &fmt), 0, "jsonl alias");
	CHECK_EQ(output_format_parse("xml", &fmt), -EINVAL, "unknown format");
	CHECK_STR(flow_field_dir_name(TFT_DIR_IN), "in", "in");
	CHECK_STR(flow_field_state_name(TFT_STATE_REFUSED), "refused", "refused");
}

/* A full device: the write error is reported, not lost. */
static void test_write_error(void)
{
	FILE *full = fopen("/dev/full", "w");
	struct tft_flow f = sample();
	struct output_stream *o;

	if (!full)
		return;
	o = output_stream_new(fileno(full), &(struct output_stream_opts){OUTPUT_CSV, NULL, 0, 0});
	output_stream_flow(o, &f, TFT_CHANGE_NEW, f.syn_ns);
	CHECK_EQ(output_stream_flush(o), -ENOSPC, "ENOSPC reported");
	output_stream_free(o);
	fclose(full);
}

/* Names: a real cache provides them; hostile bytes must come out safe. */
static struct dns_cache *cache;

static size_t cache_names(void *ctx, uint8_t family, const uint8_t *addr, struct names_list *l)
{
	const struct dns_names *out = NULL;

	(void)ctx;
	if (dns_cache_lookup(cache, family, addr, 1, &out) != TFT_DNS_HIT)
		out = NULL;
	return names_list_from_dns(out, l);
}

static const struct names_provider cache_provider = {cache_names, NULL, "test", NULL};

static void render_names(enum output_format fmt, const struct tft_flow *f, char *buf, size_t size)
{
	FILE *tmp = tmpfile();
	struct output_stream *o =
	    output_stream_new(fileno(tmp), &(struct output_stream_opts){fmt, NULL, 0, 0});
	size_t n;

	output_stream_set_names(o, &cache_provider);
	output_stream_flow(o, f, TFT_CHANGE_NEW, f->syn_ns);
	output_stream_free(o);
	rewind(tmp);
	n = fread(buf, 1, size - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
}

/*
 * Machine formats never cut: eight valid 253-byte names (four labels of
 * 63) come out whole in CSV and JSON, and only the text format cuts.
 */
static void test_long_names(void)
{
	static char buf[256 * 1024];
	struct tft_flow f = sample();
	char names[8][254];
	int i, j;

	memset(f.key.daddr, 0, 16);
	f.key.daddr[15] = 12;
	for (i = 0; i < 8; i++) {
		for (j = 0; j < 253; j++)
			names[i][j] = (j + 1) % 64 == 0 ? '.' : (char)('a' + (i + j) % 26);
		names[i][253] = '\0';
		CHECK_EQ(dns_cache_add(cache, 6, f.key.daddr, names[i], 253, TFT_NAME_DNS, 60, 1),
			 0, "a 253-byte name");
	}
	render_names(OUTPUT_CSV, &f, buf, sizeof(buf));
	for (i = 0; i < 8; i++)
		CHECK(strstr(buf, names[i]) != NULL, "csv: every long name whole");
	CHECK(strstr(buf, TFT_ESC_CUT_MARK) == NULL, "csv: no cut mark");
	render_names(OUTPUT_JSON, &f, buf, sizeof(buf));
	for (i = 0; i < 8; i++)
		CHECK(strstr(buf, names[i]) != NULL, "json: every long name whole");
	render_names(OUTPUT_TEXT, &f, buf, sizeof(buf));
	CHECK(strstr(buf, TFT_ESC_CUT_MARK " ") != NULL, "text: cut, with its mark");
}

static void test_names(void)
{
	static const char evil[] = "\x1b]0;pwned\x07=cmd|' /C calc'!A0";
	struct tft_flow f = sample();
	char buf[8192];

	cache = dns_cache_new(16, 65536, 60, 3600);
	dns_cache_add(cache, 6, f.key.daddr, "www.example.test", 16, TFT_NAME_DNS, 60, 1);
	dns_cache_add(cache, 6, f.key.daddr, "cdn.example.test", 16, TFT_NAME_DNS, 60, 1);
	dns_cache_add(cache, 6, f.key.saddr, "host.ptr.test", 13, TFT_NAME_PTR, 60, 1);

	render_names(OUTPUT_CSV, &f, buf, sizeof(buf));
	CHECK(strstr(buf, ",~host.ptr.test,www.example.test cdn.example.test,,,,,,,") != NULL,
	      "csv: names, ptr marked ~, asked name first");
	render_names(OUTPUT_TEXT, &f, buf, sizeof(buf));
	CHECK(strstr(buf, " ~host.ptr.test www.example.test,cdn.example.test ") != NULL,
	      "text: names joined by commas");
	render_names(OUTPUT_JSON, &f, buf, sizeof(buf));
	CHECK(strstr(buf, "\"src_names\":[{\"name\":\"host.ptr.test\",\"source\":\"ptr\"}]") !=
		  NULL,
	      "json: ptr source");
	CHECK(strstr(buf,
		     "\"dst_names\":[{\"name\":\"www.example.test\",\"source\":\"dns\"},"
		     "{\"name\":\"cdn.example.test\",\"source\":\"dns\"}],\"pid\":null") != NULL,
	      "json: dns names in order");

	/* A hostile name: escape codes, a formula, quotes and spaces. */
	memset(f.key.daddr, 0, 16);
	f.key.daddr[15] = 9;
	dns_cache_add(cache, 6, f.key.daddr, evil, sizeof(evil) - 1, TFT_NAME_DNS, 60, 1);
	render_names(OUTPUT_TEXT, &f, buf, sizeof(buf));
	CHECK(strchr(buf, 0x1b) == NULL && strchr(buf, 0x07) == NULL, "text: no raw control bytes");
	CHECK(strstr(buf, "\\x1b]0;pwned\\x07=cmd|'\\x20/C\\x20calc'!A0 ") != NULL,
	      "text: escaped, spaces too, one column");
	render_names(OUTPUT_CSV, &f, buf, sizeof(buf));
	CHECK(strchr(buf, 0x1b) == NULL, "csv: no raw ESC");
	CHECK(strstr(buf, ",\\x1b]0;pwned\\x07=cmd|'\\x20/C\\x20calc'!A0,,,,,,,") != NULL,
	      "csv: escaped cell");
	render_names(OUTPUT_JSON, &f, buf, sizeof(buf));
	CHECK(strstr(buf, "\"name\":\"\\\\x1b]0;pwned\\\\x07=cmd|' /C calc'!A0\"") != NULL,
	      "json: spelt as in text and CSV, \\xHH inside a JSON string");

	/* Bytes JSON would carry as characters: invalid UTF-8, a C1 control, U+202E. */
	{
		static const char odd[] = "a\xff\xc2\x9b\xe2\x80\xae\\b.test";
		const char *p;

		memset(f.key.daddr, 0, 16);
		f.key.daddr[15] = 13;
		dns_cache_add(cache, 6, f.key.daddr, odd, sizeof(odd) - 1, TFT_NAME_DNS, 60, 1);
		render_names(OUTPUT_JSON, &f, buf, sizeof(buf));
		CHECK(strstr(buf, "\"name\":\"a\\\\xff\\\\xc2\\\\x9b\\\\xe2\\\\x80\\\\xae"
				  "\\\\x5cb.test\"") != NULL,
		      "json: every byte outside printable ASCII as \\xHH, like text");
		for (p = buf; *p; p++)
			CHECK(((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f) || *p == '\n',
			      "json: printable ASCII only");
		CHECK(strstr(buf, "\\u00") == NULL, "json: no \\u00XX for a byte");
		render_names(OUTPUT_CSV, &f, buf, sizeof(buf));
		CHECK(strstr(buf, ",a\\xff\\xc2\\x9b\\xe2\\x80\\xae\\x5cb.test,,,,,,,") != NULL,
		      "csv: the same spelling");
	}

	/* A formula-leading name is neutralised in its CSV cell. */
	memset(f.key.daddr, 0, 16);
	f.key.daddr[15] = 10;
	dns_cache_add(cache, 6, f.key.daddr, "=HYPERLINK(\"x\")", 15, TFT_NAME_DNS, 60, 1);
	render_names(OUTPUT_CSV, &f, buf, sizeof(buf));
	CHECK(strstr(buf, ",\"'=HYPERLINK(\"\"x\"\")\",,,,,,,") != NULL,
	      "csv: formula neutralised");

	/* A very long set of names is cut with a mark, within the column cap. */
	{
		char longname[250];
		const char *line, *mark;
		int i;

		memset(longname, 'a', sizeof(longname));
		memset(f.key.daddr, 0, 16);
		f.key.daddr[15] = 11;
		for (i = 0; i < 3; i++) {
			longname[0] = (char)('a' + i);
			dns_cache_add(cache, 6, f.key.daddr, longname, sizeof(longname),
				      TFT_NAME_DNS, 60, 1);
		}
		render_names(OUTPUT_TEXT, &f, buf, sizeof(buf));
		/* The owner's columns follow the names: the names column ends at its mark. */
		mark = strstr(buf, TFT_ESC_CUT_MARK " ");
		CHECK(mark != NULL, "cut mark");
		for (line = mark; mark && line > buf && line[-1] != ' '; line--)
			;
		CHECK_EQ(mark ? (size_t)(mark - line) : 0, FLOW_NAMES_MAX_COLS - 1,
			 "capped at the column limit");
	}
	test_long_names();
	dns_cache_free(cache);
}

/* The hand-made fast paths agree with inet_ntop and printf. */
static void test_fast_formatting(void)
{
	static const char *v4[] = {"0.0.0.0", "255.255.255.255", "10.0.100.7", "127.0.0.1",
				   "1.20.199.9"};
	static const uint64_t ns[] = {0,	999,	   1000,       1234567,	       9999999,
				      99999999, 999999999, 1000000000, 123456789012ULL};
	struct tft_flow f = sample();
	char buf[64], want[64];
	uint8_t a[16] = {0};
	size_t i;

	for (i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		inet_pton(AF_INET, v4[i], a);
		CHECK_STR(flow_field_addr(4, a, buf, sizeof(buf)), v4[i], "ipv4 text");
	}
	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		f.answer_ns = f.syn_ns + ns[i];
		flow_field_handshake_ms(&f, buf, sizeof(buf));
		snprintf(want, sizeof(want), "%llu.%03llu", (unsigned long long)(ns[i] / 1000000),
			 (unsigned long long)(ns[i] / 1000 % 1000));
		CHECK_STR(buf, want, "handshake ms");
	}
}

/* Reads what fd holds from the start. */
static void slurp(FILE *tmp, char *buf, size_t size)
{
	size_t n;

	rewind(tmp);
	n = fread(buf, 1, size - 1, tmp);
	buf[n] = '\0';
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The stream's own policy: its filter, --count and done. */
static void test_filter_and_count(void)
{
	struct tft_flow f = sample();
	struct filter flt = {0};
	char err[128], buf[4096];
	FILE *tmp = tmpfile();
	struct output_stream *o;

	CHECK_EQ(filter_parse_terms(&flt, "dport:443", err, sizeof(err)), 0, "filter");
	o = output_stream_new(fileno(tmp), &(struct output_stream_opts){OUTPUT_CSV, &flt, 2, 0});
	f.state = TFT_STATE_PENDING; /* as every flow is at its SYN */
	CHECK(!output_stream_done(o), "not done at start");
	output_stream_flow(o, &f, TFT_CHANGE_NEW, f.syn_ns);
	f.key.dport = 80;
	f.id = 8;
	output_stream_flow(o, &f, TFT_CHANGE_NEW, f.syn_ns); /* filtered out: not counted */
	CHECK(!output_stream_done(o), "a filtered flow does not count");
	f.key.dport = 443;
	output_stream_flow(o, &f, TFT_CHANGE_NEW, f.syn_ns);
	CHECK(output_stream_done(o), "done after two");
	f.id = 9;
	output_stream_flow(o, &f, TFT_CHANGE_NEW, f.syn_ns); /* past the count */
	f.id = 7;
	f.state = TFT_STATE_ACCEPTED;
	output_stream_flow(o, &f, TFT_CHANGE_STATE, f.syn_ns); /* an update still prints */
	output_stream_lost(o, 5, f.syn_ns);		       /* CSV: nothing */
	output_stream_tick(o, f.syn_ns, true);
	CHECK_EQ(output_stream_flush(o), 0, "flush");
	output_stream_free(o);
	slurp(tmp, buf, sizeof(buf));
	fclose(tmp);
	CHECK_EQ(count_lines(buf), 3, "two new, one update");
	CHECK(strstr(buf, ",new,7,") && strstr(buf, ",new,8,") && !strstr(buf, ",new,9,") &&
		  strstr(buf, ",update,7,"),
	      "the right records");
}

/* Runs the changes through a CSV stream with filter text (or none) and count; returns lines. */
struct change {
	uint64_t id;
	enum tft_flow_change change;
	uint8_t state;
};

static size_t run_changes(const char *filter_text, unsigned long long count,
			  const struct change *ch, size_t n, char *buf, size_t size, bool *done)
{
	struct tft_flow f = sample();
	struct filter flt = {0};
	char err[128];
	FILE *tmp = tmpfile();
	struct output_stream *o;
	size_t i;

	if (filter_text)
		CHECK_EQ(filter_parse_terms(&flt, filter_text, err, sizeof(err)), 0, "filter");
	o = output_stream_new(fileno(tmp), &(struct output_stream_opts){
					       OUTPUT_CSV, filter_text ? &flt : NULL, count, 0});
	for (i = 0; i < n; i++) {
		if (ch[i].change == TFT_CHANGE_NONE) { /* evicted */
			output_stream_forget(o, ch[i].id);
			continue;
		}
		f.id = ch[i].id;
		f.key.sport = (uint16_t)(40000 + ch[i].id);
		f.state = ch[i].state;
		output_stream_flow(o, &f, ch[i].change, f.syn_ns);
	}
	*done = output_stream_done(o);
	output_stream_tick(o, f.syn_ns, true);
	output_stream_free(o);
	slurp(tmp, buf, size);
	fclose(tmp);
	return count_lines(buf);
}

/*
 * --count with filters: each flow introduced by its own `new` record (when
 * it first matches), no record for a flow never introduced, and the count
 * reached ends the run.
 */
static void test_count_introduces(void)
{
	enum { P = TFT_STATE_PENDING, A = TFT_STATE_ACCEPTED, R = TFT_STATE_REFUSED };
	const enum tft_flow_change NEW = TFT_CHANGE_NEW, ST = TFT_CHANGE_STATE,
				   RT = TFT_CHANGE_RETRANS;
	char buf[8192];
	bool done;

	/* -c 1 --filter refused: the refused flow's first record is a `new` one, then done. */
	{
		const struct change ch[] = {{1, NEW, P}, {2, NEW, P}, {1, ST, A},
					    {2, ST, R},	 {3, NEW, P}, {3, ST, R}};

		CHECK_EQ(run_changes("refused", 1, ch, 6, buf, sizeof(buf), &done), 1,
			 "-c 1 --filter refused: one record");
		CHECK(strstr(buf, ",new,2,") && strstr(buf, ",refused,"),
		      "introduced by a new record, in its refused state");
		CHECK(done, "-c 1 --filter refused: done");
	}
	/* -c 3 without a filter: no update for flows 4 and 5, never introduced. */
	{
		const struct change ch[] = {{1, NEW, P}, {2, NEW, P}, {3, NEW, P}, {4, NEW, P},
					    {5, NEW, P}, {4, RT, P},  {1, ST, A},  {4, ST, A},
					    {5, ST, R},	 {3, ST, R}};

		CHECK_EQ(run_changes(NULL, 3, ch, 10, buf, sizeof(buf), &done), 5,
			 "-c 3: three new and their two updates");
		CHECK(!strstr(buf, ",4,") && !strstr(buf, ",5,"), "-c 3: no orphan records");
		CHECK(strstr(buf, ",update,1,") && strstr(buf, ",update,3,"), "-c 3: updates");
		CHECK(done, "-c 3: done");
	}
	/* A filter without a count: introduced on the matching change; gone flows forgotten. */
	{
		const struct change ch[] = {
		    {1, NEW, P}, {1, ST, R}, {2, NEW, P}, {2, RT, P}, {2, TFT_CHANGE_NONE, P},
		    {2, ST, R}};

		CHECK_EQ(run_changes("refused", 0, ch, 6, buf, sizeof(buf), &done), 2,
			 "--filter refused: one line each");
		CHECK(strstr(buf, ",new,1,") && !strstr(buf, ",update,"),
		      "--filter refused: a new record, no orphan update");
		CHECK(!done, "no count: never done");
	}
}

static int settled_calls;
static bool settled_now;

static bool settled(void *ctx, uint8_t family, const uint8_t *addr)
{
	(void)ctx;
	(void)family;
	(void)addr;
	settled_calls++;
	return settled_now;
}

/* --resolve-wait: records wait for names, in order, and all leave at the end. */
static void test_hold(void)
{
	struct tft_flow f = sample();
	char buf[4096];
	FILE *tmp = tmpfile();
	struct output_stream *o =
	    output_stream_new(fileno(tmp), &(struct output_stream_opts){OUTPUT_JSON, NULL, 0, 0});

	CHECK_EQ(output_stream_set_hold(o, 60000, settled, NULL), 0, "hold");
	output_stream_flow(o, &f, TFT_CHANGE_NEW, f.syn_ns);
	output_stream_tick(o, clock_mono_ns(), false);
	CHECK_EQ(output_stream_flush(o), 0, "flush");
	slurp(tmp, buf, sizeof(buf));
	CHECK_EQ(count_lines(buf), 0, "held while names are unsettled");
	CHECK(settled_calls > 0, "asked whether names settled");
	settled_now = true;
	output_stream_tick(o, clock_mono_ns(), false);
	output_stream_flush(o);
	slurp(tmp, buf, sizeof(buf));
	CHECK_EQ(count_lines(buf), 1, "released once settled");
	settled_now = false;
	output_stream_flow(o, &f, TFT_CHANGE_STATE, f.syn_ns);
	output_stream_tick(o, clock_mono_ns() + 61000000000ull, false);
	output_stream_flush(o);
	slurp(tmp, buf, sizeof(buf));
	CHECK_EQ(count_lines(buf), 2, "released when the wait is over");
	output_stream_flow(o, &f, TFT_CHANGE_RETRANS, f.syn_ns);
	output_stream_tick(o, clock_mono_ns(), true);
	output_stream_flush(o);
	slurp(tmp, buf, sizeof(buf));
	CHECK_EQ(count_lines(buf), 3, "final releases everything");
	output_stream_free(o);
	fclose(tmp);
}

/* A flow that closed: the peer sent the first FIN, 5.5 s after its SYN, with figures. */
static struct tft_flow closed_sample(void)
{
	struct tft_flow f = sample();

	f.state = TFT_STATE_CLOSED;
	f.end = TFT_END_FIN_PEER;
	f.end_ns = f.syn_ns + 5500000000ULL;
	f.flags = TFT_FLOW_F_FIGURES;
	f.bytes_in = 1200;
	f.bytes_out = 34;
	f.rtt_us = 250;
	f.data_retrans = 1;
	return f;
}

/* One stream with opts; ops run on it; returns what it wrote. */
struct stream_run {
	FILE *tmp;
	struct output_stream *o;
};

static struct output_stream *run_open(struct stream_run *r, enum output_format fmt, unsigned events,
				      unsigned long long count)
{
	r->tmp = tmpfile();
	r->o = output_stream_new(fileno(r->tmp),
				 &(struct output_stream_opts){fmt, NULL, count, events});
	return r->o;
}

static void run_close(struct stream_run *r, char *buf, size_t size)
{
	output_stream_tick(r->o, 0, true);
	CHECK_EQ(output_stream_flush(r->o), 0, "flush");
	output_stream_free(r->o);
	slurp(r->tmp, buf, size);
	fclose(r->tmp);
}

/* A flow's end is a close record with its final figures, in every format. */
static void test_close_records(void)
{
	struct tft_flow f = closed_sample();
	char buf[4096], *fields[40], *second;

	render(OUTPUT_CSV, &f, TFT_CHANGE_END, buf, sizeof(buf), 1);
	second = strchr(buf, '\n') + 1;
	CHECK(strstr(second, ",close,7,out,6,") != NULL, "csv: a close event");
	CHECK(strstr(second, ",443,closed,2,1.234,") != NULL, "csv: state closed");
	CHECK(strstr(second, ",fin,peer,5500.000,1200,34,250,1,no,no\n") != NULL,
	      "csv: end, who closed, duration and figures last");
	CHECK_EQ(split(second, fields, 40), 21, "csv: the close's non-empty cells");

	render(OUTPUT_JSON, &f, TFT_CHANGE_END, buf, sizeof(buf), 0);
	CHECK(!strncmp(buf, "{\"type\":\"close\",", 16), "json: a close record");
	CHECK(strstr(buf, "\"state\":\"closed\"") != NULL, "json: state");
	CHECK(strstr(buf, ",\"end\":\"fin\",\"closed_by\":\"peer\",\"duration_ms\":5500.000,"
			  "\"bytes_in\":1200,\"bytes_out\":34,\"rtt_us\":250,\"data_retrans\":1,"
			  "\"idle\":false,\"syncookie\":false}\n") != NULL,
	      "json: the outcome keys");

	render(OUTPUT_TEXT, &f, TFT_CHANGE_END, buf, sizeof(buf), 0);
	CHECK(strstr(buf, " close ") != NULL && strstr(buf, " closed ") != NULL, "text: close");
	CHECK(strstr(buf, " fin            peer      ") != NULL, "text: end and closed_by padded");
	CHECK(strstr(buf, "    5500.000       1200         34      250         1 no   no    \n") !=
		  NULL,
	      "text: figures right-aligned");

	/* Reset by the local end: no closed_by; a SYN cookie flow says so. */
	f.end = TFT_END_RESET_LOCAL;
	f.flags |= TFT_FLOW_F_SYNCOOKIE;
	render(OUTPUT_JSON, &f, TFT_CHANGE_END, buf, sizeof(buf), 0);
	CHECK(strstr(buf, "\"end\":\"reset-by-local\",\"closed_by\":null,") != NULL,
	      "json: reset by local, nobody closed");
	CHECK(strstr(buf, "\"syncookie\":true}") != NULL, "json: syncookie");

	/* A running flow: no end, no figures yet; its duration runs to the record's time. */
	f = sample();
	render(OUTPUT_JSON, &f, TFT_CHANGE_STATE, buf, sizeof(buf), 0);
	CHECK(strstr(buf, "\"type\":\"update\"") != NULL, "json: an answer is an update");
	CHECK(strstr(buf, "\"end\":null,\"closed_by\":null,\"duration_ms\":0.000,\"bytes_in\":null,"
			  "\"bytes_out\":null,\"rtt_us\":null,\"data_retrans\":null,") != NULL,
	      "json: nulls while running");
	render(OUTPUT_TEXT, &f, TFT_CHANGE_STATE, buf, sizeof(buf), 0);
	CHECK(strstr(buf, " -              -         ") != NULL, "text: - for no end");

	/* A refusal ends the flow at its answer: that is its close. */
	f.state = TFT_STATE_REFUSED;
	f.end = TFT_END_RESET_PEER;
	f.end_ns = f.answer_ns;
	render(OUTPUT_CSV, &f, TFT_CHANGE_STATE, buf, sizeof(buf), 0);
	CHECK(strstr(buf, ",close,7,") && strstr(buf, ",refused,") &&
		  strstr(buf, ",reset-by-peer,,1.234,"),
	      "csv: a refusal is a close");

	/* The idle flag turning: event idle, then active. */
	f = sample();
	f.state = TFT_STATE_ESTABLISHED;
	f.flags = TFT_FLOW_F_IDLE | TFT_FLOW_F_FIGURES;
	render(OUTPUT_CSV, &f, TFT_CHANGE_UPDATE, buf, sizeof(buf), 0);
	CHECK(strstr(buf, ",idle,7,") && strstr(buf, ",established,") && strstr(buf, ",yes,no\n"),
	      "csv: idle");
	f.flags = TFT_FLOW_F_FIGURES;
	render(OUTPUT_CSV, &f, TFT_CHANGE_UPDATE, buf, sizeof(buf), 0);
	CHECK(strstr(buf, ",active,7,") && strstr(buf, ",no,no\n"), "csv: active again");
	render(OUTPUT_JSON, &f, TFT_CHANGE_UPDATE, buf, sizeof(buf), 0);
	CHECK(strstr(buf, "\"type\":\"update\"") != NULL, "json: idle turns are updates");
}

/* --events picks records; a flow is introduced by its first record printed. */
static void test_events(void)
{
	struct tft_flow f = sample(), g;
	struct stream_run r;
	unsigned m;
	char buf[8192];

	CHECK_EQ(output_events_parse("close", &m), 0, "parse close");
	CHECK_EQ(m, OUTPUT_EVENT_CLOSE, "close");
	CHECK_EQ(output_events_parse("new,update", &m), 0, "parse a list");
	CHECK_EQ(m, OUTPUT_EVENT_NEW | OUTPUT_EVENT_UPDATE, "new,update");
	CHECK_EQ(output_events_parse("all", &m), 0, "parse all");
	CHECK_EQ(m, OUTPUT_EVENT_ALL, "all");
	CHECK_EQ(output_events_parse("new,", &m), -EINVAL, "an empty item");
	CHECK_EQ(output_events_parse("opened", &m), -EINVAL, "an unknown word");

	/* --events close: one line per flow, at its end; --count counts those. */
	run_open(&r, OUTPUT_CSV, OUTPUT_EVENT_CLOSE, 1);
	f.state = TFT_STATE_PENDING;
	output_stream_flow(r.o, &f, TFT_CHANGE_NEW, f.syn_ns);
	f.state = TFT_STATE_ACCEPTED;
	output_stream_flow(r.o, &f, TFT_CHANGE_STATE, f.answer_ns);
	CHECK(!output_stream_done(r.o), "nothing printed yet");
	g = closed_sample();
	output_stream_flow(r.o, &g, TFT_CHANGE_END, g.end_ns);
	CHECK(output_stream_done(r.o), "-c 1: done after one close");
	g.id = 8;
	output_stream_flow(r.o, &g, TFT_CHANGE_END, g.end_ns); /* past the count */
	run_close(&r, buf, sizeof(buf));
	CHECK_EQ(count_lines(buf), 1, "--events close: only the close");
	CHECK(strstr(buf, ",close,7,") != NULL, "the close of flow 7");

	/* --events new: the opens only, no updates, no closes, no alerts. */
	run_open(&r, OUTPUT_JSON, OUTPUT_EVENT_NEW, 0);
	f = sample();
	f.state = TFT_STATE_PENDING;
	output_stream_flow(r.o, &f, TFT_CHANGE_NEW, f.syn_ns);
	output_stream_flow(r.o, &f, TFT_CHANGE_RETRANS, f.syn_ns);
	g = closed_sample();
	output_stream_flow(r.o, &g, TFT_CHANGE_END, g.end_ns);
	output_stream_alert(r.o, &(struct reset_alert_event){.family = 4, .port = 80, .count = 21});
	run_close(&r, buf, sizeof(buf));
	CHECK_EQ(count_lines(buf), 1, "--events new: one line");
	CHECK(strstr(buf, "\"type\":\"flow\"") != NULL, "the new flow");

	/* --events new,close: a flow's first and last lines. */
	run_open(&r, OUTPUT_CSV, OUTPUT_EVENT_NEW | OUTPUT_EVENT_CLOSE, 0);
	f = sample();
	f.state = TFT_STATE_PENDING;
	output_stream_flow(r.o, &f, TFT_CHANGE_NEW, f.syn_ns);
	f.state = TFT_STATE_ACCEPTED;
	output_stream_flow(r.o, &f, TFT_CHANGE_STATE, f.answer_ns);
	g = closed_sample();
	output_stream_flow(r.o, &g, TFT_CHANGE_END, g.end_ns);
	run_close(&r, buf, sizeof(buf));
	CHECK_EQ(count_lines(buf), 2, "--events new,close: two lines");
	CHECK(strstr(buf, ",new,7,") && strstr(buf, ",close,7,") && !strstr(buf, ",update,"),
	      "new and close, no update");
}

/* A flow still open when it leaves gets a close record, end open; an ended one nothing more. */
static void test_left_open(void)
{
	struct tft_flow f = sample(), g = closed_sample();
	struct stream_run r;
	char buf[8192];

	f.state = TFT_STATE_ESTABLISHED;
	run_open(&r, OUTPUT_JSON, 0, 0);
	output_stream_flow(r.o, &f, TFT_CHANGE_NEW, f.syn_ns);
	output_stream_flow(r.o, &g, TFT_CHANGE_END, g.end_ns);
	CHECK_EQ(output_stream_left(r.o, &f, f.syn_ns + 2000000000ULL, true), 0, "left open");
	CHECK_EQ(output_stream_left(r.o, &g, g.end_ns + 1, true), 0, "left ended");
	f.id = 9;
	CHECK_EQ(output_stream_left(r.o, &f, f.syn_ns + 3000000000ULL, false), 0, "no outcomes");
	run_close(&r, buf, sizeof(buf));
	CHECK_EQ(count_lines(buf), 3, "new, close, and the left-open close");
	CHECK(strstr(buf, "\"type\":\"close\",\"time\"") != NULL, "close records");
	CHECK(strstr(buf, "\"state\":\"established\",\"syn_retrans\":2") != NULL,
	      "left in its state");
	CHECK(strstr(buf, "\"end\":\"open\",\"closed_by\":null,\"duration_ms\":2000.000,") != NULL,
	      "end open, duration to when it left");
	CHECK(!strstr(buf, "\"id\":9"), "without outcomes, open says nothing");
}

/* A reset burst: a JSON alert record; text and CSV rows of the same columns. */
static void test_alert(void)
{
	struct reset_alert_event a = {
	    .family = 4, .port = 8080, .count = 21, .at_ns = 2000000000ULL};
	struct stream_run r;
	char buf[8192], *nl, *fields[40], t[40];
	size_t i, header_cells = 1, row_cells = 1;

	inet_pton(AF_INET, "10.1.2.3", a.addr);
	flow_field_time_iso(a.at_ns, t, sizeof(t));
	run_open(&r, OUTPUT_JSON, 0, 0);
	CHECK_EQ(output_stream_alert(r.o, &a), 0, "json alert");
	run_close(&r, buf, sizeof(buf));
	{
		char want[256];

		snprintf(want, sizeof(want),
			 "{\"type\":\"alert\",\"time\":\"%s\",\"family\":4,\"addr\":\"10.1.2.3\","
			 "\"port\":8080,\"count\":21,\"window_s\":10}\n",
			 t);
		CHECK_STR(buf, want, "json: the alert record");
	}

	run_open(&r, OUTPUT_CSV, 0, 0);
	output_stream_header(r.o);
	output_stream_alert(r.o, &a);
	run_close(&r, buf, sizeof(buf));
	nl = strchr(buf, '\n');
	CHECK(nl != NULL, "csv: header and row");
	if (!nl)
		return;
	for (i = 0; buf + i < nl; i++)
		header_cells += buf[i] == ',';
	for (i = 1; nl[i] && nl[i] != '\n'; i++)
		row_cells += nl[i] == ',';
	CHECK_EQ(row_cells, header_cells, "csv: an alert row has the flow columns");
	CHECK_EQ(split(nl + 1, fields, 40), 6, "csv: six cells set");
	CHECK_STR(fields[0], t, "csv: time");
	CHECK_STR(fields[1], "alert", "csv: event");
	CHECK_STR(fields[2], "4", "csv: family");
	CHECK_STR(fields[3], "10.1.2.3", "csv: dst_addr");
	CHECK_STR(fields[4], "8080", "csv: dst_port");
	CHECK_STR(fields[5], "21", "csv: the count under state");

	run_open(&r, OUTPUT_TEXT, 0, 0);
	output_stream_alert(r.o, &a);
	run_close(&r, buf, sizeof(buf));
	CHECK(strstr(buf, " alert   -   4   - ") != NULL, "text: alert, family");
	CHECK(strstr(buf, "10.1.2.3                                 8080 21          ") != NULL,
	      "text: the service and the count, padded");
	CHECK_EQ(count_lines(buf), 1, "text: one line");
}

int main(void)
{
	clock_init();
	test_csv();
	test_json();
	test_close_records();
	test_events();
	test_left_open();
	test_alert();
	test_text();
	test_errors_and_names();
	test_write_error();
	test_names();
	test_fast_formatting();
	test_filter_and_count();
	test_count_introduces();
	test_hold();
	return t_done();
}
