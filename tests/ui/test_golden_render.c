/*
 * Everything a user sees of a set of crafted flows, rendered and compared
 * byte for byte with a golden file: the three stream formats (every change
 * kind, a lost record), the CSV export, every screen cell (full and fitted,
 * ASCII and UTF-8), the layout at several widths, every sort column both
 * ways, and word filters. The golden file was made before the field table
 * and the format split; refactors must keep it.
 *
 *   test_ui_golden_render GOLDEN          compare
 *   TFT_GOLDEN_WRITE=1 test_ui_golden_render GOLDEN    (re)write it
 *
 * Times: the clock anchor is left at 0 and TZ is UTC, so they are fixed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../flow_nth.h"
#include "../t.h"
#include "dns_cache.h"
#include "export_csv.h"
#include "filter.h"
#include "flows.h"
#include "names_provider.h"
#include "output_stream.h"
#include "table_view.h"

static char *out_buf;
static size_t out_len, out_cap;

__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (out_len + (size_t)n + 1 > out_cap) {
		out_cap = (out_len + (size_t)n + 1) * 2;
		out_buf = realloc(out_buf, out_cap);
	}
	va_start(ap, fmt);
	vsnprintf(out_buf + out_len, out_cap - out_len, fmt, ap);
	va_end(ap);
	out_len += (size_t)n;
}

static void say_bytes(const char *p, size_t n)
{
	if (out_len + n + 1 > out_cap) {
		out_cap = (out_len + n + 1) * 2;
		out_buf = realloc(out_buf, out_cap);
	}
	memcpy(out_buf + out_len, p, n);
	out_len += n;
	out_buf[out_len] = '\0';
}

static struct dns_cache *cache;

static void add_name(const char *addr, const char *name, size_t len, enum dns_name_source src)
{
	uint8_t a[16] = {0};
	int fam = strchr(addr, ':') ? 6 : 4;

	inet_pton(fam == 4 ? AF_INET : AF_INET6, addr, a);
	CHECK_EQ(dns_cache_add(cache, (uint8_t)fam, a, name, len, src, 3600, 1), 0, "add name");
}

static const struct dns_names *cache_get(uint8_t family, const uint8_t *addr)
{
	const struct dns_names *n = NULL;

	if (dns_cache_lookup(cache, family, addr, 2, &n) != TFT_DNS_HIT)
		return NULL;
	return n;
}

/* --- adapters: the only part that follows API changes --------------------------------- */

/* As main.c's provider. */
static size_t cache_names(void *ctx, uint8_t family, const uint8_t *addr, struct names_list *out)
{
	(void)ctx;
	return names_list_from_dns(cache_get(family, addr), out);
}

static const struct names_provider provider = {cache_names, NULL, "test", NULL};

static struct output_stream *stream_open(int fd, enum output_format fmt)
{
	struct output_stream_opts opts = {fmt, NULL, 0, 0};
	struct output_stream *o = output_stream_new(fd, &opts);

	output_stream_set_names(o, &provider);
	return o;
}

/* --- the flows ----------------------------------------------------------------------- */

static struct flow_table *table;

static void make_flows(void)
{
	static const char esc[] = "esc\x1b[2J\x07\x7f\x80\xff.example";
	static const char nul[] = "nul\0byte.example";
	char longname[300];

	/* v4 out accepted, names with commas, spaces, quotes, '='. */
	t_syn(table, "10.0.0.1", 40000, "10.0.0.9", 443, 1, 1000000);
	t_answer(table, "10.0.0.1", 40000, "10.0.0.9", 443, 1, 1000000 + 1234567, 1);
	/* v4 in refused, slow answer (over a second). */
	t_syn(table, "192.168.100.200", 51234, "10.0.0.1", 22, 0, 2000000);
	t_answer(table, "192.168.100.200", 51234, "10.0.0.1", 22, 0, 2000000 + 1500000000ull, 0);
	/* v4 out pending with two retransmissions. */
	t_syn(table, "10.0.0.1", 40002, "10.0.0.10", 8080, 1, 3000000);
	t_syn(table, "10.0.0.1", 40002, "10.0.0.10", 8080, 1, 4000000);
	t_syn(table, "10.0.0.1", 40002, "10.0.0.10", 8080, 1, 5000000);
	/* v6 out accepted, long names. */
	t_syn(table, "2001:db8::1", 40003, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 443, 1,
	      6000000);
	t_answer(table, "2001:db8::1", 40003, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 443, 1,
		 6000000 + 999999, 1);
	/* v6 in pending, loopback. */
	t_syn(table, "::1", 50000, "::1", 631, 0, 7000000);
	/* v6 link-local refused after retransmission. */
	t_syn(table, "fe80::1", 40004, "fe80::2", 80, 1, 8000000);
	t_syn(table, "fe80::1", 40004, "fe80::2", 80, 1, 9000000);
	t_answer(table, "fe80::1", 40004, "fe80::2", 80, 1, 9000000 + 5000, 0);
	/* v4 in accepted, same destination as the first (shared names). */
	t_syn(table, "10.0.0.77", 1, "10.0.0.9", 65535, 0, 10000000);
	t_answer(table, "10.0.0.77", 1, "10.0.0.9", 65535, 0, 10000000 + 100000000, 1);

	add_name("10.0.0.9", "www.example.com", 15, TFT_NAME_DNS);
	add_name("10.0.0.9", "cdn,edge.example.net", 20, TFT_NAME_DNS);
	add_name("10.0.0.9", "space name.example", 18, TFT_NAME_DNS);
	add_name("10.0.0.9", "=cmd|' /c calc'!A1", 18, TFT_NAME_PTR);
	add_name("192.168.100.200", "scanner.\"evil\".example", 22, TFT_NAME_PTR);
	add_name("10.0.0.10", esc, sizeof(esc) - 1, TFT_NAME_DNS);
	add_name("10.0.0.10", nul, sizeof(nul) - 1, TFT_NAME_DNS);
	add_name("10.0.0.10", "back\\slash.Example", 18, TFT_NAME_DNS);
	memset(longname, 'a', sizeof(longname));
	memcpy(longname + 250, ".example", 8);
	add_name("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", longname, 258, TFT_NAME_DNS);
	add_name("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "UPPER.Example.ORG", 17, TFT_NAME_DNS);
	add_name("2001:db8::1", "client.example", 14, TFT_NAME_PTR);
	add_name("::1", "localhost", 9, TFT_NAME_DNS);
	add_name("10.0.0.1", "-leading-dash.example", 21, TFT_NAME_DNS);
	add_name("10.0.0.1", "+plus.example", 13, TFT_NAME_PTR);
	add_name("10.0.0.1", "@at.example", 11, TFT_NAME_DNS);
	add_name("fe80::2", "caf\xc3\xa9.example", 13, TFT_NAME_DNS);
}

/* --- rendering ----------------------------------------------------------------------- */

static void slurp_fd(int fd)
{
	char buf[4096];
	ssize_t n;

	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		say_bytes(buf, (size_t)n);
}

static void render_stream(enum output_format fmt, const char *label)
{
	static const enum tft_flow_change changes[] = {TFT_CHANGE_NEW, TFT_CHANGE_STATE,
						       TFT_CHANGE_RETRANS};
	FILE *tmp = tmpfile();
	struct output_stream *o = stream_open(fileno(tmp), fmt);
	size_t i, c;

	output_stream_header(o);
	for (i = 0; i < flow_table_count(table); i++)
		for (c = 0; c < 3; c++)
			output_stream_flow(o, flow_nth(table, i), changes[c],
					   flow_nth(table, i)->syn_ns + 1000 * c);
	output_stream_lost(o, 42, 123456789);
	CHECK_EQ(output_stream_flush(o), 0, "flush");
	output_stream_free(o);
	say("=== stream %s\n", label);
	slurp_fd(fileno(tmp));
	fclose(tmp);
}

static const struct tft_flow *export_row(void *ctx, size_t i)
{
	(void)ctx;
	return flow_nth(table, flow_table_count(table) - 1 - i);
}

static void render_export(void)
{
	char dir[] = "/tmp/tft-golden-XXXXXX", path[512];
	size_t written = 0;
	int fd;

	CHECK(mkdtemp(dir) != NULL, "temp dir");
	CHECK_EQ(export_csv_write(dir, 1700000000, flow_table_count(table), export_row, NULL,
				  &provider, path, sizeof(path), &written),
		 0, "export");
	say("=== export (%zu rows)\n", written);
	fd = open(path, O_RDONLY);
	slurp_fd(fd);
	close(fd);
	unlink(path);
	rmdir(dir);
}

static void render_cells(void)
{
	int widths[] = {0, 1, 3, 6, 12, 24, 60};
	size_t i, w;
	int c;

	say("=== cells\n");
	for (i = 0; i < flow_table_count(table); i++) {
		const struct tft_flow *f = flow_nth(table, i);

		for (c = 0; c < FLOW_FIELD_SCREEN_COUNT; c++) {
			char text[512], fit[2048];

			table_cell_text((enum flow_field)c, f, &provider, text, sizeof(text));
			say("%zu %s [%s]\n", i, flow_field((enum flow_field)c)->name, text);
			for (w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
				table_fit(text, widths[w], flow_field((enum flow_field)c)->right,
					  w % 2, fit, sizeof(fit));
				say("  %d%s |%s|\n", widths[w], w % 2 ? "u" : "a", fit);
			}
		}
	}
}

static void render_columns(void)
{
	enum flow_field cols[FLOW_FIELD_SCREEN_COUNT];
	size_t n = table_columns_default(cols), i;
	int widths[] = {5, 40, 80, 100, 120, 160, 250, 400};
	struct table_layout l;
	char err[256];
	size_t w;

	say("=== columns\n");
	for (i = 0; i < FLOW_FIELD_SCREEN_COUNT; i++) {
		const struct flow_field_desc *d = flow_field((enum flow_field)i);

		say("%s|%s|%s|%d|%d|%d|%d|%d|%d\n", d->name, d->title, d->help, d->min_width,
		    d->max_width, d->keep, d->right, d->desc_first, d->names);
	}
	for (w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
		table_layout_compute(cols, n, widths[w], &l);
		say("layout %d dropped %zu:", widths[w], l.dropped);
		for (i = 0; i < l.n; i++)
			say(" %s@%d+%d", flow_field(l.col[i])->name, l.x[i], l.width[i]);
		say("\n");
	}
	say("parse bogus: %d ", table_columns_parse("time,bogus", cols, &n, err, sizeof(err)));
	say("%s\n", err);
	say("parse twice: %d ", table_columns_parse("time,TIME", cols, &n, err, sizeof(err)));
	say("%s\n", err);
	say("parse empty: %d ", table_columns_parse(" , ", cols, &n, err, sizeof(err)));
	say("%s\n", err);
	say("parse ok: %d", table_columns_parse("DEST NAMES", cols, &n, err, sizeof(err)));
	say(" %d\n", table_columns_parse("hs dport,src", cols, &n, err, sizeof(err)));
	for (i = 0; i < n; i++)
		say(" %s", flow_field(cols[i])->name);
	say("\n");
}

static void render_sorts(void)
{
	struct table_view *v = table_view_new();
	size_t i;
	int c, d;

	say("=== sorts\n");
	for (c = 0; c < FLOW_FIELD_SCREEN_COUNT; c++) {
		for (d = 0; d < 2; d++) {
			table_view_rebuild(v, table, NULL, &provider, (enum flow_field)c, d,
					   UINT64_MAX);
			say("%s %s:", flow_field((enum flow_field)c)->name, d ? "desc" : "asc");
			for (i = 0; i < table_view_count(v); i++)
				say(" %llu", (unsigned long long)table_view_id_at(v, i));
			say("\n");
		}
	}
	table_view_free(v);
}

static void render_filters(void)
{
	static const char *const lines[] = {
	    "example",	   "EXAMPLE",	   "10.0.0",   "::1",	       "fe80::1",
	    "fe80",	   "ffff",	   "\\x1b",    "\\x2c",	       "cdn",
	    "~",	   "~=cmd",	   "!example", "out accepted", "443",
	    "!443",	   "ipv6 pending", "port 22",  "caf",	       "localhost",
	    "calc'!a1",	   "2001:db8::1",  "in",       "!in ipv4",     ",",
	    "192.168.100", "8080",	   "refused",  "UPPER",	       "aaaaaaaa"};
	struct table_view *v = table_view_new();
	struct filter f;
	char err[256];
	size_t i, k;

	say("=== filters\n");
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		memset(&f, 0, sizeof(f));
		say("[%s] %d:", lines[i], filter_parse_terms(&f, lines[i], err, sizeof(err)));
		table_view_rebuild(v, table, &f, &provider, FLOW_FIELD_TIME, false, UINT64_MAX);
		for (k = 0; k < table_view_count(v); k++)
			say(" %llu", (unsigned long long)table_view_id_at(v, k));
		say(" | no names:");
		for (k = 0; k < flow_table_count(table); k++)
			if (filter_match(&f, flow_nth(table, k)))
				say(" %llu", (unsigned long long)flow_nth(table, k)->id);
		say("\n");
	}
	table_view_free(v);
}

static int compare_or_write(const char *path)
{
	FILE *g;
	char *want;
	long size;

	if (getenv("TFT_GOLDEN_WRITE")) {
		g = fopen(path, "wb");
		CHECK(g != NULL, "open golden for writing");
		if (g) {
			fwrite(out_buf, 1, out_len, g);
			fclose(g);
		}
		return t_done();
	}
	g = fopen(path, "rb");
	CHECK(g != NULL, "open golden");
	if (!g)
		return t_done();
	fseek(g, 0, SEEK_END);
	size = ftell(g);
	rewind(g);
	want = malloc((size_t)size + 1);
	CHECK_EQ(fread(want, 1, (size_t)size, g), size, "read golden");
	fclose(g);
	CHECK_EQ(out_len, size, "same length as the golden file");
	if (out_len == (size_t)size && memcmp(out_buf, want, out_len) == 0) {
		CHECK(1, "identical");
	} else {
		size_t i = 0, line = 1, lim = out_len < (size_t)size ? out_len : (size_t)size;

		for (; i < lim && out_buf[i] == want[i]; i++)
			line += out_buf[i] == '\n';
		CHECK(0, "identical to the golden file");
		fprintf(stderr, "first difference at byte %zu, line %zu\n", i, line);
		g = fopen("golden_render.out", "wb");
		if (g) {
			fwrite(out_buf, 1, out_len, g);
			fclose(g);
			fprintf(stderr, "this run's output: golden_render.out\n");
		}
	}
	free(want);
	return t_done();
}

/* As a replay does: running flows' durations run to the recording's time, here 1 s in. */
static uint64_t record_now(void *ctx)
{
	(void)ctx;
	return 1000000000ULL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s GOLDEN\n", argv[0]);
		return 2;
	}
	setenv("TZ", "UTC", 1);
	tzset();
	flow_fields_set_now(record_now, NULL);
	table = flow_table_new(64);
	cache = dns_cache_new(64, 1 << 20, 60, 86400);
	make_flows();
	render_stream(OUTPUT_TEXT, "text");
	render_stream(OUTPUT_CSV, "csv");
	render_stream(OUTPUT_JSON, "json");
	render_export();
	render_cells();
	render_columns();
	render_sorts();
	render_filters();
	flow_table_free(table);
	dns_cache_free(cache);
	return compare_or_write(argv[1]);
}
