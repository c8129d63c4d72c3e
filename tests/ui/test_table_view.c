/* Columns, layout at several widths, cell fitting, comparators, rows and selection. */
#include <errno.h>

#include "../flow_nth.h"
#include "../t.h"
#include "clock.h"
#include "flows.h"
#include "owner_names.h"
#include "table_view.h"

/* The layout's width for column c, or -1 when it was dropped. */
static int width_of(const struct table_layout *l, enum flow_field c)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (l->col[i] == c)
			return l->width[i];
	}
	return -1;
}

static void check_fits(const struct table_layout *l, int width, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		CHECK(l->x[i] + l->width[i] <= width, name);
		if (i)
			CHECK_EQ(l->x[i], l->x[i - 1] + l->width[i - 1] + 1, name);
	}
}

static void test_layout(void)
{
	enum flow_field cols[FLOW_FIELD_SCREEN_COUNT];
	size_t n = table_columns_default(cols);
	struct table_layout l;

	/* pid, user, cgroup and six outcome columns are screen columns on request only */
	CHECK_EQ(n, FLOW_FIELD_SCREEN_COUNT - 9, "default has every default column");

	table_layout_compute(cols, n, 160, &l);
	check_fits(&l, 160, "160 fits");
	CHECK_EQ(l.n, n, "160 shows all");
	CHECK_EQ(width_of(&l, FLOW_FIELD_END), 6, "160: the end at its narrowest");
	CHECK_EQ(width_of(&l, FLOW_FIELD_BYTES_IN), 8, "160: bytes in");
	table_layout_compute(cols, n, 147, &l);
	CHECK_EQ(l.dropped, 1, "147 drops one");
	CHECK_EQ(width_of(&l, FLOW_FIELD_END), -1, "147: the end goes first");

	table_layout_compute(cols, n, 120, &l);
	check_fits(&l, 120, "120 fits");
	CHECK_EQ(l.n, n - 4, "120 shows all but four");
	CHECK_EQ(l.dropped, 4, "120 drops four");
	CHECK_EQ(width_of(&l, FLOW_FIELD_BYTES_IN), -1, "120: the outcome columns go first");
	CHECK_EQ(width_of(&l, FLOW_FIELD_BYTES_OUT), -1, "120: bytes out too");
	CHECK_EQ(width_of(&l, FLOW_FIELD_SERVICE), -1, "120: then the service");
	CHECK_EQ(width_of(&l, FLOW_FIELD_COMM), 8, "120: the process stays");
	CHECK_EQ(width_of(&l, FLOW_FIELD_SRC), 15, "120: IPv4 fits");
	CHECK_EQ(width_of(&l, FLOW_FIELD_DST), 15, "120: IPv4 fits dst");
	CHECK_EQ(width_of(&l, FLOW_FIELD_SNAMES), 11, "120: names share the rest");
	CHECK_EQ(width_of(&l, FLOW_FIELD_DNAMES), 11, "120: dnames");
	CHECK_EQ(l.x[l.n - 1] + l.width[l.n - 1], 120, "120 used fully");

	table_layout_compute(cols, n, 80, &l);
	check_fits(&l, 80, "80 fits");
	CHECK_EQ(l.dropped, 8, "80 drops eight");
	CHECK_EQ(width_of(&l, FLOW_FIELD_SERVICE), -1, "80: the owner's columns dropped first");
	CHECK_EQ(width_of(&l, FLOW_FIELD_COMM), -1, "80: process dropped");
	CHECK_EQ(width_of(&l, FLOW_FIELD_SNAMES), -1, "80: then source names");
	CHECK_EQ(width_of(&l, FLOW_FIELD_RETX), -1, "80: retransmits dropped");
	CHECK_EQ(width_of(&l, FLOW_FIELD_HS), -1, "80: handshake dropped");
	CHECK_EQ(width_of(&l, FLOW_FIELD_DNAMES), 10, "80: dest names kept");
	CHECK_EQ(width_of(&l, FLOW_FIELD_SRC), 14, "80: src grows with the spare");
	CHECK_EQ(width_of(&l, FLOW_FIELD_DST), 13, "80: dst");
	CHECK_EQ(l.col[0], FLOW_FIELD_TIME, "80: order kept");

	table_layout_compute(cols, n, 270, &l);
	check_fits(&l, 270, "270 fits");
	CHECK_EQ(l.n, n, "270 shows all");
	CHECK_EQ(width_of(&l, FLOW_FIELD_SRC), 39, "270: IPv6 fits");
	CHECK_EQ(width_of(&l, FLOW_FIELD_DST), 39, "270: IPv6 fits dst");
	CHECK_EQ(width_of(&l, FLOW_FIELD_COMM), 15, "270: process at its max");
	CHECK_EQ(width_of(&l, FLOW_FIELD_SERVICE), 20, "270: service at its max");
	CHECK_EQ(width_of(&l, FLOW_FIELD_STATE), 12, "270: \"established\" whole");
	CHECK_EQ(width_of(&l, FLOW_FIELD_END), 15, "270: \"reset-by-local\" whole");
	table_layout_compute(cols, n, 340, &l);
	CHECK_EQ(width_of(&l, FLOW_FIELD_SNAMES), 48, "340: names at their max");
	table_layout_compute(cols, n, 270, &l);
	CHECK_EQ(width_of(&l, FLOW_FIELD_TIME), 12, "270: fixed stays fixed");

	table_layout_compute(cols, n, 40, &l);
	check_fits(&l, 40, "40 fits");
	CHECK_EQ(l.n, 4, "40 keeps four");
	CHECK_EQ(l.col[0], FLOW_FIELD_DIR, "40: dir");
	CHECK_EQ(l.col[1], FLOW_FIELD_SRC, "40: src");
	CHECK_EQ(l.col[2], FLOW_FIELD_DST, "40: dst");
	CHECK_EQ(l.col[3], FLOW_FIELD_DPORT, "40: dport");

	table_layout_compute(cols, n, 5, &l);
	CHECK_EQ(l.n, 1, "tiny terminal keeps one column");
	CHECK_EQ(l.col[0], FLOW_FIELD_SRC, "the most important one");

	CHECK_EQ(table_layout_hit(&l, 0), 0, "hit first column");
	table_layout_compute(cols, n, 120, &l);
	CHECK_EQ(table_layout_hit(&l, l.x[5] + 1), 5, "hit dport");
	CHECK_EQ(table_layout_hit(&l, 119), (int)l.n - 1, "hit last");
}

static void test_columns_parse(void)
{
	enum flow_field cols[FLOW_FIELD_SCREEN_COUNT], c;
	struct table_layout l;
	char err[256];
	size_t n = 0;

	CHECK_EQ(table_columns_parse("dport,src,STATE", cols, &n, err, sizeof(err)), 0, "-o list");
	CHECK_EQ(n, 3, "three columns");
	CHECK_EQ(cols[0], FLOW_FIELD_DPORT, "order as given");
	CHECK_EQ(cols[2], FLOW_FIELD_STATE, "titles work too");
	table_layout_compute(cols, n, 80, &l);
	CHECK_EQ(l.n, 3, "chosen columns only");
	CHECK_EQ(l.col[0], FLOW_FIELD_DPORT, "chosen order drawn");
	CHECK_EQ(table_columns_parse("time,bogus", cols, &n, err, sizeof(err)), -EINVAL, "unknown");
	CHECK(strstr(err, "bogus") != NULL, "names the bad column");
	CHECK_EQ(table_columns_parse("time,time", cols, &n, err, sizeof(err)), -EINVAL, "twice");
	CHECK_EQ(table_columns_parse(",", cols, &n, err, sizeof(err)), -EINVAL, "empty");
	CHECK_EQ(table_column_parse("hs", &c), 0, "parse hs");
	CHECK_EQ(c, FLOW_FIELD_HS, "hs");
	CHECK_EQ(table_column_parse("nope", &c), -EINVAL, "parse nope");
}

static void test_fit(void)
{
	char buf[128];

	table_fit("127.0.0.1", 12, false, false, buf, sizeof(buf));
	CHECK_STR(buf, "127.0.0.1   ", "pad left-aligned");
	table_fit("443", 6, true, false, buf, sizeof(buf));
	CHECK_STR(buf, "   443", "pad right-aligned");
	table_fit("2001:db8:85a3::8a2e:370:7334", 12, false, false, buf, sizeof(buf));
	CHECK_STR(buf, "2001:db8:85~", "cut with a mark");
	table_fit("2001:db8:85a3::8a2e:370:7334", 12, false, true, buf, sizeof(buf));
	CHECK_STR(buf, "2001:db8:85\xe2\x80\xa6", "cut with an ellipsis in UTF-8");
	table_fit("evil\x1b[2Jname", 14, false, false, buf, sizeof(buf));
	CHECK_STR(buf, "evil?[2Jname  ", "escape bytes defused");
	table_fit("a\x07", 3, false, true, buf, sizeof(buf));
	CHECK_STR(buf, "a\xef\xbf\xbd ", "U+FFFD in UTF-8");
	table_fit("abc", 0, false, false, buf, sizeof(buf));
	CHECK_STR(buf, "", "zero width");
	table_fit("abc", 3, false, false, buf, sizeof(buf));
	CHECK_STR(buf, "abc", "exact fit, no mark");
}

static void test_compare_and_view(void)
{
	struct flow_table *t = flow_table_new(8);
	const struct tft_flow *a, *b, *c, *d;
	struct table_view *v = table_view_new();
	struct filter f = {0};
	char err[128], buf[64];
	uint64_t id_b;
	size_t i;

	clock_init();
	/* a and b share a timestamp: the tie breaks on id. */
	a = t_syn(t, "10.0.0.1", 40000, "10.0.0.9", 443, 1, 1000);
	b = t_syn(t, "10.0.0.1", 40001, "10.0.0.9", 80, 1, 1000);
	c = t_syn(t, "10.0.0.5", 40002, "10.0.0.1", 22, 0, 3000);
	t_answer(t, "10.0.0.1", 40000, "10.0.0.9", 443, 1, 1000 + 5000000, 1); /* 5 ms */
	t_answer(t, "10.0.0.1", 40001, "10.0.0.9", 80, 1, 1000 + 250000, 1);   /* 0.25 ms */
	CHECK(a && b && c, "flows");
	CHECK(table_compare(a, b, FLOW_FIELD_TIME, false, NULL) < 0, "same time: lower id first");
	CHECK(table_compare(a, b, FLOW_FIELD_TIME, true, NULL) > 0, "desc flips the tie-break");
	CHECK(table_compare(a, c, FLOW_FIELD_TIME, false, NULL) < 0, "older first ascending");
	CHECK(table_compare(a, b, FLOW_FIELD_DPORT, false, NULL) > 0, "443 after 80");
	CHECK(table_compare(b, a, FLOW_FIELD_HS, false, NULL) < 0, "faster handshake first");
	CHECK(table_compare(a, c, FLOW_FIELD_HS, false, NULL) < 0, "pending sorts as slowest");
	CHECK(table_compare(c, a, FLOW_FIELD_DIR, false, NULL) < 0, "in before out");
	CHECK(table_compare(a, c, FLOW_FIELD_SRC, false, NULL) < 0, "10.0.0.1 before 10.0.0.5");
	CHECK(table_compare(a, a, FLOW_FIELD_DPORT, false, NULL) == 0, "equal to itself");
	CHECK(table_compare(a, b, FLOW_FIELD_SNAMES, false, NULL) < 0, "no names: by id");

	table_cell_text(FLOW_FIELD_HS, a, NULL, buf, sizeof(buf));
	CHECK_STR(buf, "5.000", "handshake cell");
	table_cell_text(FLOW_FIELD_HS, c, NULL, buf, sizeof(buf));
	CHECK_STR(buf, "", "pending has no handshake");
	table_cell_text(FLOW_FIELD_DIR, c, NULL, buf, sizeof(buf));
	CHECK_STR(buf, "in", "dir cell");
	table_cell_text(FLOW_FIELD_STATE, a, NULL, buf, sizeof(buf));
	CHECK_STR(buf, "accepted", "state cell");
	table_cell_text(FLOW_FIELD_DNAMES, a, NULL, buf, sizeof(buf));
	CHECK_STR(buf, "", "names empty without a provider");

	/* Newest first, as the screen starts. */
	CHECK_EQ(table_view_rebuild(v, t, &f, NULL, FLOW_FIELD_TIME, true, UINT64_MAX), 0,
		 "rebuild");
	CHECK_EQ(table_view_count(v), 3, "three rows");
	CHECK_EQ(table_view_id_at(v, 0), c->id, "newest first");
	CHECK_EQ(table_view_id_at(v, 1), b->id, "tie: higher id first when desc");
	CHECK_EQ(table_view_id_at(v, 2), a->id, "oldest last");

	/* The selection follows its flow when rows arrive above it. */
	table_view_select(v, 1);
	id_b = table_view_selected_id(v);
	CHECK_EQ(id_b, b->id, "selected b");
	d = t_syn(t, "10.0.0.1", 40003, "10.0.0.9", 8080, 1, 9000);
	CHECK(d != NULL, "d");
	table_view_rebuild(v, t, &f, NULL, FLOW_FIELD_TIME, true, UINT64_MAX);
	CHECK_EQ(table_view_selected(v), 2, "b moved down a row");
	CHECK_EQ(table_view_selected_id(v), id_b, "selection still on b");
	table_view_rebuild(v, t, &f, NULL, FLOW_FIELD_DPORT, false, UINT64_MAX);
	CHECK_EQ(table_view_selected_id(v), id_b, "and after a re-sort");
	CHECK_EQ(table_view_selected(v), 1, "80 is second by port (22, 80, 443, 8080)");

	/* A paused screen limits rows to the ids it showed. */
	table_view_rebuild(v, t, &f, NULL, FLOW_FIELD_TIME, true, 3);
	CHECK_EQ(table_view_count(v), 3, "paused: d hidden");
	for (i = 0; i < table_view_count(v); i++)
		CHECK(table_view_id_at(v, i) != 4, "no id 4 while paused");

	/* Filters hide rows; the table keeps them. */
	CHECK_EQ(filter_parse_terms(&f, "out !80", err, sizeof(err)), 0, "filter");
	table_view_rebuild(v, t, &f, NULL, FLOW_FIELD_TIME, true, UINT64_MAX);
	CHECK_EQ(table_view_count(v), 2, "out and not 80: a and d");
	CHECK_EQ(flow_table_count(t), 4, "table keeps all four");
	CHECK(table_view_selected_id(v) != id_b, "selection moved off the hidden b");

	/* Moves clamp; scroll keeps the selection on the page. */
	table_view_move(v, -10);
	CHECK_EQ(table_view_selected(v), 0, "clamped at top");
	table_view_move(v, 10);
	CHECK_EQ(table_view_selected(v), 1, "clamped at bottom");
	CHECK_EQ(table_view_scroll(v, 1), 1, "page of one scrolls to the selection");
	CHECK_EQ(table_view_scroll(v, 10), 0, "big page starts at the top");

	flow_table_clear(t);
	table_view_rebuild(v, t, &f, NULL, FLOW_FIELD_TIME, true, UINT64_MAX);
	CHECK_EQ(table_view_count(v), 0, "cleared");
	CHECK_EQ(table_view_selected_id(v), 0, "no selection");

	table_view_free(v);
	table_view_free(NULL);
	flow_table_free(t);
}

/* Arrival order is usually time order: the view must still be right when it is not. */
static void test_sort_shortcuts(void)
{
	struct flow_table *t = flow_table_new(16);
	struct table_view *v = table_view_new();
	/* ts: in order except the 4th, which arrived late (another CPU's ring slot). */
	static const uint64_t ts[] = {100, 200, 300, 250, 400};
	size_t i;

	for (i = 0; i < 5; i++)
		t_syn(t, "10.0.0.1", (uint16_t)(1000 + i), "10.0.0.2", 80, 1, ts[i]);
	CHECK_EQ(table_view_rebuild(v, t, NULL, NULL, FLOW_FIELD_TIME, true, UINT64_MAX), 0,
		 "rebuild");
	CHECK_EQ(table_view_id_at(v, 0), 5, "newest first");
	CHECK_EQ(table_view_id_at(v, 1), 3, "the late arrival sorts by its time");
	CHECK_EQ(table_view_id_at(v, 2), 4, "then the late one");
	CHECK_EQ(table_view_id_at(v, 4), 1, "oldest last");
	table_view_rebuild(v, t, NULL, NULL, FLOW_FIELD_SPORT, false, UINT64_MAX);
	CHECK_EQ(table_view_id_at(v, 0), 1, "already ascending: kept");
	CHECK_EQ(table_view_id_at(v, 4), 5, "already ascending: last");
	table_view_rebuild(v, t, NULL, NULL, FLOW_FIELD_SPORT, true, UINT64_MAX);
	CHECK_EQ(table_view_id_at(v, 0), 5, "descending: reversed");
	CHECK_EQ(table_view_id_at(v, 4), 1, "descending: reversed, last");
	table_view_free(v);
	flow_table_free(t);
}

/*
 * A provider with names that make sorting hard: some addresses unnamed, two
 * names equal but for case, a name longer than a cell's 255 bytes (two
 * differing only past it), one address with several names.
 */
static size_t test_names(void *ctx, uint8_t family, const uint8_t *addr, struct names_list *out)
{
	static const char *const names[] = {
	    "", "b.example",	       "B.EXAMPLE", "a.example", "zz.example",
	    "", "c.example,d.example", "LONG",	    "LONG2"};
	static char longname[2][300];
	unsigned k = (unsigned)(addr[family == 4 ? 3 : 15] % 9);
	const char *n = names[k], *comma;

	(void)ctx;
	out->n = 0;
	if (!strcmp(n, "LONG") || !strcmp(n, "LONG2")) {
		char *b = longname[n[4] ? 1 : 0];

		memset(b, 'x', 300);
		b[299] = n[4] ? '2' : '1'; /* differs past 255 bytes only */
		out->e[0] = (struct names_entry){b, 300, TFT_NAME_DNS};
		out->n = 1;
		return 1;
	}
	while (*n) {
		comma = strchr(n, ',');
		out->e[out->n++] =
		    (struct names_entry){n, comma ? (size_t)(comma - n) : strlen(n), TFT_NAME_DNS};
		n = comma ? comma + 1 : n + strlen(n);
	}
	return out->n;
}

static const struct names_provider hard_names = {test_names, NULL, "test", NULL};

/* The view's fast sorts (radix on keys, names by rank) give table_compare's order exactly. */
struct compare_arg {
	enum flow_field col;
	bool desc;
};

static int by_compare(const void *pa, const void *pb, void *arg)
{
	const struct compare_arg *a = arg;

	return table_compare(*(const struct tft_flow *const *)pa,
			     *(const struct tft_flow *const *)pb, a->col, a->desc, &hard_names);
}

/* v4_only: every flow IPv4, so addresses take the packed IPv4 keys. */
static void test_sorts_match_compare(bool v4_only)
{
	struct flow_table *t = flow_table_new(512);
	struct table_view *v = table_view_new();
	const struct tft_flow *want[300];
	uint32_t x = 7;
	size_t i, n;
	int c, desc;

	for (i = 0; i < 300; i++) {
		uint16_t sport = (uint16_t)(1000 + i), dport;
		char src[64], dst[64];
		int egress;
		uint64_t ts;

		x = x * 1103515245u + 12345u;
		dport = (uint16_t)(80 + (x >> 16) % 4 * 257); /* few values: many ties */
		egress = (x >> 8) & 1;
		ts = 1000 + (x >> 20) % 50; /* ties in time too */
		/* Both families, addresses that differ in high and low bytes, repeats. */
		if (!v4_only && (x >> 5) % 4 == 0) {
			snprintf(src, sizeof(src), "fd00:%x::1", (x >> 9) % 3);
			snprintf(dst, sizeof(dst), "2001:db8::%x", (x >> 11) % 40);
		} else {
			snprintf(src, sizeof(src), "10.%u.0.1", (x >> 9) % 3);
			snprintf(dst, sizeof(dst), "%u.0.0.%u", 1 + (x >> 13) % 3 * 100,
				 (x >> 11) % 40);
		}
		CHECK(t_syn(t, src, sport, dst, dport, egress, ts) != NULL, "syn");
		if ((x >> 4) % 3)
			t_answer(t, src, sport, dst, dport, egress, ts + (x >> 12) % 5 * 1000,
				 (x >> 3) & 1);
	}
	n = flow_table_count(t);
	CHECK_EQ(n, 300, "300 flows");
	for (c = 0; c < FLOW_FIELD_SCREEN_COUNT; c++) {
		for (desc = 0; desc < 2; desc++) {
			struct compare_arg arg = {(enum flow_field)c, desc != 0};
			int same = 1;

			for (i = 0; i < n; i++)
				want[i] = flow_nth(t, i);
			qsort_r(want, n, sizeof(want[0]), by_compare, &arg);
			table_view_rebuild(v, t, NULL, &hard_names, (enum flow_field)c, desc,
					   UINT64_MAX);
			CHECK_EQ(table_view_count(v), n, "all rows");
			for (i = 0; i < n; i++)
				same = same && table_view_id_at(v, i) == want[i]->id;
			CHECK(same, flow_field((enum flow_field)c)->name);
		}
	}
	/* A word filter reads names through the view's memo: the same rows as without it. */
	{
		struct filter f;
		char err[128];
		size_t expect = 0;

		memset(&f, 0, sizeof(f));
		CHECK_EQ(filter_parse_terms(&f, "ZZ.ex", err, sizeof(err)), 0, "word filter");
		for (i = 0; i < n; i++)
			expect += filter_match_names(&f, flow_nth(t, i), &hard_names);
		CHECK(expect > 0 && expect < n, "the word matches some rows, not all");
		table_view_rebuild(v, t, &f, &hard_names, FLOW_FIELD_DNAMES, false, UINT64_MAX);
		CHECK_EQ(table_view_count(v), expect, "word filter through the memo");
		CHECK_EQ(filter_parse_terms(&f, v4_only ? "101.0.0" : "2001:db8", err, sizeof(err)),
			 0, "address word");
		for (expect = 0, i = 0; i < n; i++)
			expect += filter_match_names(&f, flow_nth(t, i), &hard_names);
		CHECK(expect > 0 && expect < n, "the address word matches some rows, not all");
		table_view_rebuild(v, t, &f, &hard_names, FLOW_FIELD_TIME, true, UINT64_MAX);
		CHECK_EQ(table_view_count(v), expect, "address word through the view");
	}
	table_view_free(v);
	flow_table_free(t);
}

/* Owner text sorts by 24 bytes: services alike in their first 8 still order. */
static void test_owner_text_sort(void)
{
#define ZEROS52 "0000000000000000000000000000000000000000000000000000"
	static const char *paths[] = {"/system.slice/docker-a1b2c3d4e5f6" ZEROS52 ".scope",
				      "/system.slice/docker-a0b2c3d4e5f6" ZEROS52 ".scope",
				      "/system.slice/docker-a1a2c3d4e5f6" ZEROS52 ".scope"};
	struct flow_table *t = flow_table_new(8);
	struct table_view *v = table_view_new();
	const struct tft_flow *f[3];
	struct tft_flow_owner o = {.state = TFT_OWNER_KNOWN, .uid = 0};
	char buf[64];
	int i;

	for (i = 0; i < 3; i++) {
		f[i] = t_syn(t, "10.0.0.1", (uint16_t)(41000 + i), "10.0.0.9", 443, 1,
			     5000 + (uint64_t)i);
		owner_names_learn(0, "root", 900 + (uint64_t)i, paths[i]);
		o.cgroup_id = 900 + (uint64_t)i;
		o.tgid = 100 + (uint32_t)i;
		flow_table_set_owner(t, f[i]->id, &o);
	}
	table_cell_text(FLOW_FIELD_SERVICE, flow_table_by_id(t, f[0]->id), NULL, buf, sizeof(buf));
	CHECK_STR(buf, "docker:a1b2c3d4e5f6", "service cell");
	CHECK(table_compare(f[1], f[2], FLOW_FIELD_SERVICE, false, NULL) < 0, "a0b2 before a1a2");
	CHECK(table_compare(f[2], f[0], FLOW_FIELD_SERVICE, false, NULL) < 0, "a1a2 before a1b2");
	CHECK_EQ(table_view_rebuild(v, t, NULL, NULL, FLOW_FIELD_SERVICE, false, UINT64_MAX), 0,
		 "rebuild by service");
	CHECK(table_view_id_at(v, 0) == f[1]->id && table_view_id_at(v, 1) == f[2]->id &&
		  table_view_id_at(v, 2) == f[0]->id,
	      "rows in the order of the whole service name, not its first 8 bytes");
	table_view_free(v);
	flow_table_free(t);
}

int main(void)
{
	test_owner_text_sort();
	test_sorts_match_compare(false);
	test_sorts_match_compare(true);
	test_sort_shortcuts();
	test_layout();
	test_columns_parse();
	test_fit();
	test_compare_and_view();
	return t_done();
}
