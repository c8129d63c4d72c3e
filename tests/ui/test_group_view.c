/*
 * Group rows: an empty view, sorting (numbers, endpoints, descending ties),
 * the group filter (words, FIELD:VALUE, ranges, negation, errors), the
 * selection following its group, and the flow filter Enter sets for a group.
 * Then the reset share and bytes in every target, and the process view:
 * its columns, "?" rows, hostile command names, and an Enter filter that
 * shows exactly the group's flows. Last, a --group-by stream of a hostile
 * longest name.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "filter.h"
#include "flow_groups.h"
#include "group_stream.h"
#include "group_view.h"
#include "owner_names.h"
#include "../t.h"

static size_t fake_name(void *ctx, uint8_t family, const uint8_t *addr, char *buf, size_t size)
{
	(void)ctx;
	if (family != 4 || addr[3] != 9)
		return 0;
	memcpy(buf, "db.example", size < 10 ? size : 10);
	return 10;
}

static uint64_t id;

static void flow(struct flow_sink *s, const char *dst, uint16_t dport, uint8_t state)
{
	struct tft_flow f = {0};

	f.id = ++id;
	f.syn_ns = 1000000000ull * id;

	f.key.family = 4;
	f.key.dir = TFT_DIR_OUT;
	f.key.dport = dport;
	inet_pton(AF_INET, dst, f.key.daddr);
	s->changed(s->ctx, &f, TFT_CHANGE_NEW, f.syn_ns);
	if (state) {
		f.state = state;
		f.answer_ns = f.syn_ns + 1000000;
		s->changed(s->ctx, &f, TFT_CHANGE_STATE, f.answer_ns);
	}
}

/* The rendering of field id of row i of v for target t. */
static const char *cell(struct group_view *v, struct flow_groups *g, size_t i, enum group_field id,
			enum flow_field_target t)
{
	static char buf[GROUP_CELL_SIZE];
	struct group_field_ctx c = {group_view_row(v, i), group_view_key(v, g, i)};

	return group_field_render(id, &c, t, buf, sizeof(buf));
}

/* A flow owned by comm (NULL: unknown) in cgroup cg, ended after its figures. */
static struct tft_flow owned(const char *comm, uint64_t cg, uint32_t pid, uint8_t dir)
{
	struct tft_flow f = {0};

	f.id = ++id;
	f.syn_ns = 1000000000ull * id;
	f.key.family = 4;
	f.key.dir = dir;
	f.key.sport = 40000;
	f.key.dport = 80;
	f.key.saddr[0] = 10, f.key.saddr[3] = 7;
	f.key.daddr[0] = 10, f.key.daddr[3] = 1;
	if (comm) {
		f.owner.state = TFT_OWNER_KNOWN;
		f.owner.cgroup_id = cg;
		f.owner.tgid = pid;
		memcpy(f.owner.comm, comm, strnlen(comm, sizeof(f.owner.comm)));
	}
	return f;
}

static void tell_all(struct flow_sink *s, struct tft_flow *f, uint8_t end, uint64_t in,
		     uint64_t out)
{
	s->changed(s->ctx, f, TFT_CHANGE_NEW, f->syn_ns);
	f->state = TFT_STATE_ACCEPTED;
	f->answer_ns = f->syn_ns + 2000;
	s->changed(s->ctx, f, TFT_CHANGE_STATE, f->answer_ns);
	f->state = TFT_STATE_CLOSED;
	f->end = end;
	f->flags = TFT_FLOW_F_FIGURES;
	f->bytes_in = in;
	f->bytes_out = out;
	s->changed(s->ctx, f, TFT_CHANGE_END, f->syn_ns + 1000000000ull);
}

/* The row whose PROCESS renders on the screen as comm and SERVICE as svc. */
static long find_row(struct group_view *v, struct flow_groups *g, const char *comm, const char *svc)
{
	size_t i;

	for (i = 0; i < group_view_count(v); i++)
		if (!strcmp(cell(v, g, i, GROUP_FIELD_PROCESS, FLOW_TARGET_SCREEN), comm) &&
		    !strcmp(cell(v, g, i, GROUP_FIELD_SERVICE, FLOW_TARGET_SCREEN), svc))
			return (long)i;
	return -1;
}

static void process_view(void)
{
	struct flow_groups_opts o = {FLOW_GROUP_PROCESS, 0, 100, NULL, NULL};
	struct flow_groups *g = flow_groups_new(&o);
	struct group_view *v = group_view_new();
	struct group_view_filter gf;
	struct tft_flow flows[8];
	struct flow_sink s;
	struct filter ff;
	char err[160], text[256];
	long r;
	size_t i, shown;

	CHECK(g && v, "process view made");
	if (!g || !v)
		return;
	owner_names_learn(0, "root", 51, "/system.slice/nginx.service");
	owner_names_learn(
	    0, "root", 52,
	    "/system.slice/"
	    "docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope");
	s = flow_groups_sink(g);
	flows[0] = owned("nginx", 51, 700, TFT_DIR_IN);
	tell_all(&s, &flows[0], TFT_END_RESET_PEER, 3 << 20, 1536); /* 3 MiB in */
	flows[1] = owned("nginx", 51, 701, TFT_DIR_OUT);
	tell_all(&s, &flows[1], TFT_END_FIN_LOCAL, 100, 200);
	flows[2] = owned("Web Content", 52, 800, TFT_DIR_OUT);
	tell_all(&s, &flows[2], TFT_END_FIN_PEER, 0, 0);
	flows[3] = owned("=cmd\x1b[31m", 51, 900, TFT_DIR_OUT); /* a hostile name */
	flows[3].owner.comm[4] = '\x1b';
	memmove(flows[3].owner.comm + 5, "[31m", 5);
	tell_all(&s, &flows[3], TFT_END_FIN_PEER, 0, 0);
	flows[4] = owned(NULL, 0, 0, TFT_DIR_IN);
	tell_all(&s, &flows[4], TFT_END_FIN_PEER, 0, 0);
	flows[5] = owned(NULL, 0, 0, TFT_DIR_OUT);
	flows[5].owner.state = TFT_OWNER_NO_HOOK;
	tell_all(&s, &flows[5], TFT_END_FIN_PEER, 0, 0);
	/* Two commands alike in their first 8 bytes: sorting must look further. */
	flows[6] = owned("systemd-resolve", 51, 1000, TFT_DIR_OUT);
	tell_all(&s, &flows[6], TFT_END_FIN_PEER, 0, 0);
	flows[7] = owned("systemd-journal", 51, 1001, TFT_DIR_OUT);
	tell_all(&s, &flows[7], TFT_END_FIN_PEER, 0, 0);

	CHECK_EQ(group_view_rebuild(v, g, NULL, GROUP_FIELD_FLOWS, true, 0), 0, "rebuild");
	CHECK_EQ(group_view_count(v), 7,
		 "nginx, Web Content, the hostile name, two systemd-, two \"?\" rows");
	CHECK_EQ(group_view_row(v, 0)->flows, 2, "nginx first: 2 flows");
	CHECK_STR(cell(v, g, 0, GROUP_FIELD_PROCESS, FLOW_TARGET_SCREEN), "nginx", "process");
	CHECK_STR(cell(v, g, 0, GROUP_FIELD_SERVICE, FLOW_TARGET_SCREEN), "nginx.service",
		  "service");
	CHECK_STR(cell(v, g, 0, GROUP_FIELD_RESET, FLOW_TARGET_SCREEN), "50.0", "reset 1 of 2");
	CHECK_STR(cell(v, g, 0, GROUP_FIELD_BYTES_IN, FLOW_TARGET_SCREEN), "3.0M",
		  "bytes in on the screen: 1024s");
	CHECK_STR(cell(v, g, 0, GROUP_FIELD_BYTES_IN, FLOW_TARGET_TEXT), "3145828",
		  "bytes in, text: whole");
	CHECK_STR(cell(v, g, 0, GROUP_FIELD_BYTES_OUT, FLOW_TARGET_SCREEN), "1.7K", "1736 B");
	CHECK_STR(cell(v, g, 0, GROUP_FIELD_BYTES_OUT, FLOW_TARGET_JSON), "1736", "JSON: a number");
	CHECK_STR(cell(v, g, 0, GROUP_FIELD_PIDS, FLOW_TARGET_TEXT), "2", "2 distinct pids");
	CHECK_STR(cell(v, g, 0, GROUP_FIELD_LAST_PID, FLOW_TARGET_CSV), "701", "last pid");
	CHECK_STR(cell(v, g, 0, GROUP_FIELD_PROCESS, FLOW_TARGET_JSON), "\"nginx\"", "JSON comm");

	r = find_row(v, g, "Web Content", "docker:0123456789ab");
	CHECK(r >= 0, "a command with a space; the container's short name");
	if (r >= 0) {
		CHECK_STR(cell(v, g, (size_t)r, GROUP_FIELD_PROCESS, FLOW_TARGET_TEXT),
			  "Web\\x20Content", "text: the space escaped, columns stay split");
		CHECK_STR(cell(v, g, (size_t)r, GROUP_FIELD_RESET, FLOW_TARGET_JSON), "0.0",
			  "no reset: 0.0");
	}
	r = find_row(v, g, "=cmd\\x1b[31m", "nginx.service");
	CHECK(r >= 0, "the hostile name escaped on the screen");
	if (r >= 0)
		CHECK_STR(cell(v, g, (size_t)r, GROUP_FIELD_PROCESS, FLOW_TARGET_CSV),
			  "\"'=cmd\\x1b[31m\"", "CSV: escaped, formula defused");
	r = find_row(v, g, "?", "(unknown owner)");
	CHECK(r >= 0, "the unknown owners' row says why");
	if (r >= 0) {
		CHECK_STR(cell(v, g, (size_t)r, GROUP_FIELD_PROCESS, FLOW_TARGET_JSON), "null",
			  "JSON: no command");
		CHECK_STR(cell(v, g, (size_t)r, GROUP_FIELD_LAST_PID, FLOW_TARGET_JSON), "null",
			  "JSON: no pid");
		CHECK_STR(cell(v, g, (size_t)r, GROUP_FIELD_SERVICE, FLOW_TARGET_TEXT),
			  "(unknown\\x20owner)", "text: one column");
	}
	CHECK(find_row(v, g, "?", "(no owner hook)") >= 0, "no hook: a row of its own");

	/* Group filter: words reach process and service; bytes compare whole bytes. */
	group_filter_parse(&gf, "nginx", err, sizeof(err));
	group_view_rebuild(v, g, &gf, GROUP_FIELD_FLOWS, true, 0);
	CHECK_EQ(group_view_count(v), 4, "the word nginx: rows of nginx or of nginx.service");
	CHECK_EQ(group_filter_parse(&gf, "bytesin:3145728-3200000", err, sizeof(err)), 0,
		 "a bytes range parses");
	group_view_rebuild(v, g, &gf, GROUP_FIELD_FLOWS, true, 0);
	CHECK(group_view_count(v) == 1 && group_view_row(v, 0)->bytes_in == 3145828,
	      "bytes filter on whole bytes, not the screen's 3.0M");
	group_filter_parse(&gf, "reset:50", err, sizeof(err));
	group_view_rebuild(v, g, &gf, GROUP_FIELD_FLOWS, true, 0);
	CHECK(group_view_count(v) == 1 && group_view_row(v, 0)->reset == 1, "reset:50");

	/* Enter: each group's flow filter shows its flows and no other. */
	group_view_rebuild(v, g, NULL, GROUP_FIELD_FLOWS, true, 0);
	for (r = 0; r < (long)group_view_count(v); r++) {
		const struct group_row *row = group_view_row(v, (size_t)r);
		const struct flow_group_key *k = group_view_key(v, g, (size_t)r);
		bool mine[8] = {0};

		group_flow_filter(FLOW_GROUP_PROCESS, k, text, sizeof(text));
		memset(&ff, 0, sizeof(ff));
		CHECK_EQ(filter_parse_terms(&ff, text, err, sizeof(err)), 0, text);
		for (i = 0, shown = 0; i < 8; i++) {
			struct flow_field_ctx c = {&flows[i], TFT_CHANGE_NONE, 0, NULL};
			char pc[64], sc[64];

			/* a flow of this group renders as the group does */
			flow_field_render(FLOW_FIELD_COMM, &c, FLOW_TARGET_SCREEN, pc, sizeof(pc));
			flow_field_render(FLOW_FIELD_SERVICE, &c, FLOW_TARGET_SCREEN, sc,
					  sizeof(sc));
			mine[i] = !strcmp(pc, cell(v, g, (size_t)r, GROUP_FIELD_PROCESS,
						   FLOW_TARGET_SCREEN)) &&
				  (!strcmp(sc, cell(v, g, (size_t)r, GROUP_FIELD_SERVICE,
						    FLOW_TARGET_SCREEN)) ||
				   (k->owner != TFT_OWNER_KNOWN && !strcmp(sc, "?")));
			if (filter_match(&ff, &flows[i]) != mine[i])
				CHECK(false, text);
			shown += mine[i];
		}
		/* both "?" rows share the one flow filter: their flows show together */
		CHECK(shown == row->flows || (k->owner != TFT_OWNER_KNOWN && shown == 2),
		      "the group's flows all shown");
	}
	/* Text sorts: ascending by the text, any case, ties by group; descending the reverse. */
	for (i = 0; i < 4; i++) {
		enum group_field col = i < 2 ? GROUP_FIELD_PROCESS : GROUP_FIELD_SERVICE;
		bool desc = i % 2;
		size_t j;

		group_view_rebuild(v, g, NULL, col, desc, 0);
		for (j = 1; j < group_view_count(v); j++) {
			char prev[64];
			int c;

			snprintf(prev, sizeof(prev), "%s",
				 cell(v, g, j - 1, col, FLOW_TARGET_SCREEN));
			c = strcasecmp(prev, cell(v, g, j, col, FLOW_TARGET_SCREEN));
			if (!c)
				c = group_view_row(v, j - 1)->index < group_view_row(v, j)->index
					? -1
					: 1;
			if (desc ? c < 0 : c > 0)
				CHECK(false, "text sort order");
		}
	}
	group_view_rebuild(v, g, NULL, GROUP_FIELD_PROCESS, false, 0);
	CHECK_STR(cell(v, g, 4, GROUP_FIELD_PROCESS, FLOW_TARGET_SCREEN), "systemd-journal",
		  "journal before resolve");
	group_view_rebuild(v, g, NULL, GROUP_FIELD_FLOWS, true, 0);
	r = find_row(v, g, "Web Content", "docker:0123456789ab");
	if (r >= 0) {
		group_flow_filter(FLOW_GROUP_PROCESS, group_view_key(v, g, (size_t)r), text,
				  sizeof(text));
		CHECK_STR(text, "proc:Content svc:docker:0123456789ab",
			  "a spaced command by its longest piece");
	}
	{
		struct flow_group_key other = {.owner = FLOW_GROUP_OWNER_OTHER};

		group_flow_filter(FLOW_GROUP_PROCESS, &other, text, sizeof(text));
		CHECK_STR(text, "", "other: no one filter");
	}
	group_view_free(v);
	flow_groups_free(g);
	owner_names_reset();
}

/* A longest DNS name of hostile bytes: quotes, backslashes, U+202E, then control bytes. */
static char hostile[FLOW_GROUP_NAME_MAX];

static size_t hostile_name(void *ctx, uint8_t family, const uint8_t *addr, char *buf, size_t size)
{
	(void)ctx;
	(void)family;
	(void)addr;
	memcpy(buf, hostile, size < sizeof(hostile) ? size : sizeof(hostile));
	return sizeof(hostile);
}

/* Whether line is one JSON object: strings closed, nothing raw a terminal would act on. */
static bool json_line_ok(const char *line, size_t len)
{
	bool in_string = false;
	size_t i;

	if (len < 3 || line[0] != '{' || memcmp(line + len - 2, "}\n", 2))
		return false;
	for (i = 0; i < len - 1; i++) {
		unsigned char b = (unsigned char)line[i];

		if (b < 0x20 || b >= 0x7f)
			return false; /* control bytes, and U+202E's lead byte */
		if (in_string && b == '\\')
			i++;
		else if (b == '"')
			in_string = !in_string;
	}
	return !in_string;
}

static void hostile_stream(void)
{
	struct flow_groups_opts o = {FLOW_GROUP_REMOTE, 0, 100, hostile_name, NULL};
	struct flow_groups *g = flow_groups_new(&o);
	FILE *out = tmpfile();
	struct group_stream *gs;
	struct flow_sink s;
	char line[8192];
	size_t i;

	CHECK(g && out, "made");
	if (!g || !out)
		return;
	memcpy(hostile, "\"\\\xe2\x80\xae\"\\", 7);
	for (i = 7; i < sizeof(hostile); i++)
		hostile[i] = (char)(i % 2 ? 0x1b : 0x07);
	s = flow_groups_sink(g);
	flow(&s, "10.0.0.9", 443, TFT_STATE_ACCEPTED);
	gs = group_stream_new(fileno(out), OUTPUT_JSON, g);
	CHECK(gs != NULL, "stream made");
	CHECK_EQ(gs ? group_stream_block(gs, 5000000000ull) : -1, 0, "block written");
	rewind(out);
	CHECK(fgets(line, sizeof(line), out) != NULL, "a line");
	CHECK(strstr(line, "\"remote\":\"\\\"\\\\x5c") != NULL,
	      "the name's quote and backslash quoted, the backslash spelt \\x5c");
	CHECK(json_line_ok(line, strlen(line)), "a longest hostile name: one valid JSON line");
	CHECK(strstr(line, "\\\\xe2\\\\x80\\\\xae") != NULL, "U+202E spelt as \\xHH");
	group_stream_free(gs);
	fclose(out);
	flow_groups_free(g);
}

int main(void)
{
	struct flow_groups_opts o = {FLOW_GROUP_REMOTE, 0, 100, fake_name, NULL};
	struct flow_groups *g = flow_groups_new(&o);
	struct group_view *v = group_view_new();
	struct group_view_filter f;
	struct flow_sink s;
	char err[160], text[256];
	struct filter ff;
	int i;

	CHECK(g && v, "made");
	if (!g || !v)
		return t_done();
	CHECK_EQ(group_view_rebuild(v, g, NULL, GROUP_FIELD_FLOWS, true, 0), 0, "empty rebuild");
	CHECK_EQ(group_view_count(v), 0, "no rows");
	s = flow_groups_sink(g);
	for (i = 0; i < 3; i++)
		flow(&s, "10.0.0.2", 80, TFT_STATE_ACCEPTED);
	flow(&s, "10.0.0.2", 80, TFT_STATE_REFUSED); /* 10.0.0.2:80: 4 flows, 25 % refused */
	flow(&s, "10.0.0.1", 443, TFT_STATE_ACCEPTED);
	flow(&s, "10.0.0.9", 5432, TFT_STATE_REFUSED); /* db.example:5432 */
	flow(&s, "10.0.0.9", 5432, 0);

	CHECK_EQ(group_view_rebuild(v, g, NULL, GROUP_FIELD_FLOWS, true, 0), 0, "rebuild");
	CHECK_EQ(group_view_count(v), 3, "3 groups");
	CHECK_EQ(group_view_row(v, 0)->flows, 4, "most flows first");
	CHECK_EQ(group_view_row(v, 1)->flows, 2, "then 2");
	CHECK_EQ(group_view_row(v, 2)->index, 1, "ties: descending flips the group order too");
	group_view_rebuild(v, g, NULL, GROUP_FIELD_REMOTE, false, 0);
	CHECK(group_view_key(v, g, 0)->name_len == 10, "names sort before addresses");
	CHECK(group_view_key(v, g, 1)->addr[3] == 1 && group_view_key(v, g, 2)->addr[3] == 2,
	      "addresses in order");
	group_view_rebuild(v, g, NULL, GROUP_FIELD_REFUSED, true, 0);
	CHECK_EQ(group_view_row(v, 0)->refused, 1, "50 % refused first");
	CHECK_EQ(group_view_row(v, 0)->flows, 2, "50 % refused is db.example");

	/* The selection follows its group through a re-sort. */
	group_view_select(v, 1);
	{
		uint32_t idx = group_view_row(v, 1)->index;

		group_view_rebuild(v, g, NULL, GROUP_FIELD_PORT, false, 0);
		CHECK_EQ(group_view_row(v, group_view_selected(v))->index, idx,
			 "selection follows");
	}

	CHECK_EQ(group_filter_parse(&f, "refused:20-30", err, sizeof(err)), 0, "range parses");
	group_view_rebuild(v, g, &f, GROUP_FIELD_FLOWS, true, 0);
	CHECK(group_view_count(v) == 1 && group_view_row(v, 0)->flows == 4, "refused 25 %");
	group_filter_parse(&f, "db.EXAMPLE", err, sizeof(err));
	group_view_rebuild(v, g, &f, GROUP_FIELD_FLOWS, true, 0);
	CHECK(group_view_count(v) == 1 && group_view_row(v, 0)->flows == 2, "word, any case");
	group_filter_parse(&f, "!port:80 flows:1-2", err, sizeof(err));
	group_view_rebuild(v, g, &f, GROUP_FIELD_FLOWS, true, 0);
	CHECK_EQ(group_view_count(v), 2, "negation and a range");
	CHECK(group_filter_parse(&f, "flows:x", err, sizeof(err)) < 0 && strstr(err, "flows:x"),
	      "a bad number is refused with the term");
	CHECK(group_filter_parse(&f, "!", err, sizeof(err)) < 0, "a lone ! is refused");

	/* Enter's flow filter: FIELD:VALUE terms the flow filter parses. */
	group_view_rebuild(v, g, NULL, GROUP_FIELD_REMOTE, false, 0);
	group_flow_filter(FLOW_GROUP_REMOTE, group_view_key(v, g, 0), text, sizeof(text));
	CHECK_STR(text, "out dnames:db.example dport:5432", "named group");
	memset(&ff, 0, sizeof(ff));
	CHECK_EQ(filter_parse_terms(&ff, text, err, sizeof(err)), 0, "the flow filter takes it");
	group_flow_filter(FLOW_GROUP_REMOTE, group_view_key(v, g, 2), text, sizeof(text));
	CHECK_STR(text, "out dst:10.0.0.2 dport:80", "address group");
	{
		struct flow_group_key k = {.family = 6, .port = 22};

		k.addr[15] = 1;
		group_flow_filter(FLOW_GROUP_LISTENER, &k, text, sizeof(text));
		CHECK_STR(text, "in dst:::1 dport:22", "listener");
		CHECK_EQ(filter_parse_terms(&ff, text, err, sizeof(err)), 0, "IPv6 term parses");
	}
	group_view_free(v);
	flow_groups_free(g);
	process_view();
	hostile_stream();
	return t_done();
}
