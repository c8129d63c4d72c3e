/*
 * Group rows: an empty view, sorting (numbers, endpoints, descending ties),
 * the group filter (words, FIELD:VALUE, ranges, negation, errors), the
 * selection following its group, and the flow filter Enter sets for a group.
 */
#include <arpa/inet.h>
#include <string.h>

#include "filter.h"
#include "flow_groups.h"
#include "group_view.h"
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
	return t_done();
}
