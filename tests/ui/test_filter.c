/* Filter-as-you-type: parsing (good and bad terms) and matching. */
#include <errno.h>

#include "../t.h"
#include "filter.h"
#include "clock.h"
#include "flows.h"

static size_t fake_names(void *ctx, uint8_t family, const uint8_t *addr, struct names_list *out)
{
	(void)ctx;
	(void)family;
	out->n = 0;
	if (addr[0] == 93) { /* 93.184.216.34 */
		out->e[0] = (struct names_entry){"www.Example.com", 15, TFT_NAME_DNS};
		out->e[1] = (struct names_entry){"edge.cdn.test", 13, TFT_NAME_PTR};
		out->n = 2;
	}
	return out->n;
}

/* True when the filter line text matches f. */
static bool hit(const char *text, const struct tft_flow *fl)
{
	struct filter f = {0};
	char err[256];

	if (filter_parse_terms(&f, text, err, sizeof(err))) {
		CHECK(0, err);
		return false;
	}
	return filter_match(&f, fl);
}

/*
 * Outcomes: the new state words and the bare words reset and idle, end and
 * boolean terms, comparisons on figures, durations in whole ms, and C.
 */
static void test_outcomes(void)
{
	struct tft_flow closed = {0}, reset = {0}, idle = {0}, open = {0};
	struct filter f = {0};
	char err[256];

	closed.state = TFT_STATE_CLOSED;
	closed.end = TFT_END_FIN_PEER;
	closed.syn_ns = 1000000000ULL;
	closed.end_ns = closed.syn_ns + 61500000000ULL;
	closed.flags = TFT_FLOW_F_FIGURES;
	closed.bytes_in = 5000;
	closed.bytes_out = 10;
	reset = closed;
	reset.end = TFT_END_RESET_LOCAL;
	reset.bytes_in = 1000;
	idle.state = TFT_STATE_ESTABLISHED;
	idle.flags = TFT_FLOW_F_IDLE | TFT_FLOW_F_SYNCOOKIE;
	open.state = TFT_STATE_ACCEPTED;
	open.syn_ns = clock_mono_ns() - 90000000000ULL; /* 90 s ago, still running */

	CHECK(hit("closed", &closed) && !hit("closed", &idle), "closed: a state word");
	CHECK(hit("established", &idle) && !hit("established", &open), "established");
	CHECK(hit("!unanswered half-open", &(struct tft_flow){.state = TFT_STATE_HALF_OPEN}),
	      "half-open, and !unanswered");
	CHECK(hit("reset", &reset) && !hit("reset", &closed) && !hit("reset", &open),
	      "reset: either reset end");
	CHECK(hit("reset", &(struct tft_flow){.end = TFT_END_RESET_PEER}), "reset by peer");
	CHECK(hit("idle", &idle) && !hit("idle", &closed), "idle: the flag");
	CHECK(hit("end:fin closed_by:peer", &closed) && !hit("end:fin", &reset),
	      "end and closed_by terms");
	CHECK(hit("end:reset-by-local", &reset), "end:reset-by-local");
	CHECK(hit("syncookie:yes idle:true", &idle) && hit("syncookie:no", &closed),
	      "yes/no and true/false");
	CHECK(hit("bytes_in:>1000", &closed) && !hit("bytes_in:>1000", &reset), ">N excludes N");
	CHECK(hit("bytes_in:>=1000", &reset) && hit("bytes_in:<1001", &reset) &&
		  !hit("bytes_in:<=999", &reset),
	      ">=N, <N, <=N");
	CHECK(!hit("bytes_in:<10000", &open), "no figures: no number matches");
	CHECK(hit("bytes_out:10", &closed) && hit("bytes_in:4000-6000", &closed), "N and ranges");
	CHECK(hit("duration_ms:>61000", &closed) && !hit("duration_ms:>61500", &closed),
	      "an ended flow's duration, in whole ms");
	CHECK(hit("duration:>60000", &open) && !hit("duration:<60000", &open),
	      "a running flow's duration runs to now");
	CHECK_EQ(filter_parse_terms(&f, "bytes_in:>x", err, sizeof(err)), -EINVAL, ">x");
	CHECK(strstr(err, ">N") != NULL, "the message names comparisons");
	CHECK_EQ(filter_parse_terms(&f, "bytes_in:<0", err, sizeof(err)), -EINVAL, "<0: nothing");
	CHECK_EQ(filter_parse_terms(&f, "end:closed", err, sizeof(err)), -EINVAL, "a bad end");
	CHECK(strstr(err, "reset-by-peer") != NULL, "the message lists the ends");

	/* C: ended flows hidden, the running ones kept; the header says so. */
	memset(&f, 0, sizeof(f));
	f.hide_ended = true;
	CHECK(!filter_match(&f, &closed) && !filter_match(&f, &reset), "ended hidden");
	CHECK(filter_match(&f, &idle) && filter_match(&f, &open), "running kept");
	CHECK_EQ(filter_parse_terms(&f, "in", err, sizeof(err)), 0, "a typed line");
	CHECK(f.hide_ended, "typing a filter keeps C");
	filter_describe(&f, err, sizeof(err));
	CHECK_STR(err, "open only /in", "described");
}

int main(void)
{
	struct flow_table *t = flow_table_new(64);
	const struct tft_flow *out443, *in22, *out8050, *v6;
	struct names_provider names = {fake_names, NULL, "test", NULL};
	struct filter f = {0};
	char err[256], buf[256];
	struct port_list pl;

	out443 = t_syn(t, "10.0.0.1", 40000, "93.184.216.34", 443, 1, 1);
	in22 = t_syn(t, "192.168.1.9", 51000, "10.0.0.1", 22, 0, 2);
	out8050 = t_syn(t, "10.0.0.1", 40001, "127.0.0.2", 8050, 1, 3);
	v6 = t_syn(t, "::1", 40002, "::1", 9000, 1, 4);
	t_answer(t, "10.0.0.1", 40000, "93.184.216.34", 443, 1, 10, 1);
	t_answer(t, "10.0.0.1", 40001, "127.0.0.2", 8050, 1, 10, 0);
	CHECK(out443 && in22 && out8050 && v6, "flows built");

	/* Port lists, as --port and `p` read them. */
	CHECK_EQ(port_list_parse("80,443,8000-8100", &pl, err, sizeof(err)), 0, "port list");
	CHECK_EQ(pl.n, 3, "three ranges");
	port_list_format(&pl, buf, sizeof(buf));
	CHECK_STR(buf, "80,443,8000-8100", "port list formats back");
	CHECK_EQ(port_list_parse("!22", &pl, err, sizeof(err)), 0, "negated list");
	port_list_format(&pl, buf, sizeof(buf));
	CHECK_STR(buf, "!22", "negation formats back");
	CHECK_EQ(port_list_parse("0", &pl, err, sizeof(err)), -EINVAL, "port 0");
	CHECK_EQ(port_list_parse("65536", &pl, err, sizeof(err)), -EINVAL, "port too big");
	CHECK_EQ(port_list_parse("90-80", &pl, err, sizeof(err)), -EINVAL, "reversed range");
	CHECK_EQ(port_list_parse("80,", &pl, err, sizeof(err)), -EINVAL, "trailing comma");

	/* Empty filter: everything matches. */
	CHECK_EQ(filter_parse_terms(&f, "", err, sizeof(err)), 0, "empty parses");
	CHECK_EQ(f.nterms, 0, "no terms");
	CHECK(filter_match(&f, out443) && filter_match(&f, in22), "empty matches all");

	CHECK_EQ(filter_parse_terms(&f, "443", err, sizeof(err)), 0, "bare port");
	CHECK_EQ(f.nterms, 1, "one term");
	CHECK(filter_match(&f, out443), "443 matches dport 443");
	CHECK(!filter_match(&f, in22), "443 hides port 22");

	CHECK_EQ(filter_parse_terms(&f, "port 8000-8100", err, sizeof(err)), 0, "port range");
	CHECK(filter_match(&f, out8050) && !filter_match(&f, out443), "range matches 8050 only");

	CHECK_EQ(filter_parse_terms(&f, "!22", err, sizeof(err)), 0, "negated port");
	CHECK(!filter_match(&f, in22) && filter_match(&f, out443), "!22 hides ssh");
	CHECK_EQ(filter_parse_terms(&f, "!port 22", err, sizeof(err)), 0, "!port 22");
	CHECK(!filter_match(&f, in22) && filter_match(&f, out443), "!port 22 hides ssh");

	CHECK_EQ(filter_parse_terms(&f, "in", err, sizeof(err)), 0, "in");
	CHECK(filter_match(&f, in22) && !filter_match(&f, out443), "in: incoming only");
	CHECK_EQ(filter_parse_terms(&f, "OUT", err, sizeof(err)), 0, "OUT (any case)");
	CHECK(!filter_match(&f, in22) && filter_match(&f, out443), "out: outgoing only");
	CHECK_EQ(filter_parse_terms(&f, "!out", err, sizeof(err)), 0, "!out");
	CHECK(filter_match(&f, in22) && !filter_match(&f, out443), "!out is in");

	/* Words match a piece of either address, then names. */
	CHECK_EQ(filter_parse_terms(&f, "127.0.0", err, sizeof(err)), 0, "address word");
	CHECK(filter_match(&f, out8050) && !filter_match(&f, out443), "word in dst address");
	CHECK_EQ(filter_parse_terms(&f, "192.168", err, sizeof(err)), 0, "source word");
	CHECK(filter_match(&f, in22) && !filter_match(&f, out8050), "word in src address");
	CHECK_EQ(filter_parse_terms(&f, "::1", err, sizeof(err)), 0, "IPv6 word");
	CHECK(filter_match(&f, v6) && !filter_match(&f, out443), "IPv6 word matches");
	CHECK_EQ(filter_parse_terms(&f, "example", err, sizeof(err)), 0, "domain word");
	CHECK(!filter_match(&f, out443), "no names without a provider");
	CHECK(filter_match_names(&f, out443, &names), "name matches, case-insensitive");
	CHECK(!filter_match_names(&f, out8050, &names), "other names do not");

	CHECK_EQ(filter_parse_terms(&f, "accepted", err, sizeof(err)), 0, "state");
	CHECK(filter_match(&f, out443) && !filter_match(&f, out8050), "accepted only");
	CHECK_EQ(filter_parse_terms(&f, "ipv6", err, sizeof(err)), 0, "family");
	CHECK(filter_match(&f, v6) && !filter_match(&f, out443), "ipv6 only");

	/* Several terms are AND-ed. */
	CHECK_EQ(filter_parse_terms(&f, "  out   10.0.0.1  !443 ", err, sizeof(err)), 0,
		 "three terms");
	CHECK_EQ(f.nterms, 3, "three terms counted");
	CHECK(filter_match(&f, out8050), "out, 10.0.0.1 and not 443");
	CHECK(!filter_match(&f, out443) && !filter_match(&f, in22), "AND hides the rest");
	CHECK_STR(f.text, "  out   10.0.0.1  !443 ", "text kept as typed");

	/* Bad terms: an error message, and the last good filter stays. */
	CHECK_EQ(filter_parse_terms(&f, "port", err, sizeof(err)), -EINVAL, "port without list");
	CHECK(strstr(err, "port") != NULL, "says what port needs");
	CHECK_EQ(f.nterms, 3, "bad line leaves terms");
	CHECK_STR(f.text, "  out   10.0.0.1  !443 ", "bad line leaves text");
	CHECK_EQ(filter_parse_terms(&f, "port abc", err, sizeof(err)), -EINVAL, "port abc");
	CHECK_EQ(filter_parse_terms(&f, "99999", err, sizeof(err)), -EINVAL, "port out of range");
	CHECK(strstr(err, "1-65535") != NULL, "names the range");
	CHECK_EQ(filter_parse_terms(&f, "8100-8000", err, sizeof(err)), -EINVAL, "reversed range");
	CHECK_EQ(filter_parse_terms(&f, "in !", err, sizeof(err)), -EINVAL, "lone !");
	CHECK_EQ(filter_parse_terms(&f, "1,", err, sizeof(err)), -EINVAL, "half-typed list");
	CHECK_EQ(filter_parse_terms(&f, "a b c d e f g h i j k l m n o p q", err, sizeof(err)),
		 -EINVAL, "too many terms");
	CHECK_EQ(filter_parse_terms(&f, "x\x01y", err, sizeof(err)), -EINVAL, "control char");
	memset(buf, 'a', 100);
	buf[100] = '\0';
	CHECK_EQ(filter_parse_terms(&f, buf, err, sizeof(err)), -EINVAL, "word too long");
	CHECK_EQ(f.nterms, 3, "still the last good filter");

	/* The flag fields and the terms combine (--direction and `d` set dir). */
	CHECK_EQ(filter_parse_terms(&f, "", err, sizeof(err)), 0, "clear terms");
	CHECK_EQ(filter_parse_direction("in", &f.dir), 0, "--direction in");
	CHECK(filter_match(&f, in22) && !filter_match(&f, out443), "dir field filters");
	CHECK_EQ(port_list_parse("22", &f.ports, err, sizeof(err)), 0, "--port 22");
	f.has_ports = true;
	filter_describe(&f, buf, sizeof(buf));
	CHECK_STR(buf, "in port 22", "describe flags");
	/* A bare number is a port ("443"); an address piece needs a dot or colon. */
	CHECK_EQ(filter_parse_terms(&f, "192", err, sizeof(err)), 0, "a number");
	CHECK_EQ(f.terms[0].kind, FILTER_TERM_PORTS, "is a port term");
	CHECK(!filter_match(&f, in22), "port 192 is not 22");
	CHECK_EQ(filter_parse_terms(&f, "192.168", err, sizeof(err)), 0, "plus a word");
	filter_describe(&f, buf, sizeof(buf));
	CHECK_STR(buf, "in port 22 /192.168", "describe flags and terms");
	CHECK(filter_match(&f, in22), "all three hold");
	f = (struct filter){0};
	filter_describe(&f, buf, sizeof(buf));
	CHECK_STR(buf, "none", "describe nothing");

	/* Field terms: FIELD:VALUE, a field name before the first ':'. */
	CHECK_EQ(filter_parse_terms(&f, "dport:443", err, sizeof(err)), 0, "dport:443");
	CHECK_EQ(f.terms[0].kind, FILTER_TERM_FIELD, "a field term");
	CHECK(filter_match(&f, out443) && !filter_match(&f, in22), "dport exactly");
	CHECK_EQ(filter_parse_terms(&f, "sport:40000-40001", err, sizeof(err)), 0, "range");
	CHECK(filter_match(&f, out443) && filter_match(&f, out8050) && !filter_match(&f, in22),
	      "sport range");
	CHECK_EQ(filter_parse_terms(&f, "!DPORT:443", err, sizeof(err)), 0, "negated, any case");
	CHECK(!filter_match(&f, out443) && filter_match(&f, in22), "negated field term");
	CHECK_EQ(filter_parse_terms(&f, "state:refused", err, sizeof(err)), 0, "enum");
	CHECK(filter_match(&f, out8050) && !filter_match(&f, out443), "state exactly");
	CHECK_EQ(filter_parse_terms(&f, "dir:in", err, sizeof(err)), 0, "dir");
	CHECK(filter_match(&f, in22) && !filter_match(&f, out443), "dir exactly");
	CHECK_EQ(filter_parse_terms(&f, "state:acc", err, sizeof(err)), -EINVAL, "enum is exact");
	CHECK(strstr(err, "pending, accepted, refused") != NULL, "lists the values");
	CHECK_EQ(filter_parse_terms(&f, "dport:x", err, sizeof(err)), -EINVAL, "bad number");
	CHECK_EQ(filter_parse_terms(&f, "dport:9-1", err, sizeof(err)), -EINVAL, "bad range");
	CHECK_EQ(filter_parse_terms(&f, "dport:", err, sizeof(err)), -EINVAL, "no value");
	CHECK_EQ(filter_parse_terms(&f, "event:new", err, sizeof(err)), -EINVAL,
		 "not a flow field");
	CHECK_EQ(filter_parse_terms(&f, "hs:0-1000", err, sizeof(err)), 0, "hs in ms");
	CHECK(!filter_match(&f, in22), "pending has no handshake time");
	CHECK_EQ(filter_parse_terms(&f, "dst:93.184", err, sizeof(err)), 0, "address piece");
	CHECK(filter_match(&f, out443) && !filter_match(&f, in22), "dst address");
	CHECK_EQ(filter_parse_terms(&f, "src:93.184", err, sizeof(err)), 0, "other end");
	CHECK(!filter_match(&f, out443), "src is not dst");
	CHECK_EQ(filter_parse_terms(&f, "dnames:EXAMPLE", err, sizeof(err)), 0, "names piece");
	CHECK(filter_match_names(&f, out443, &names), "dst names, case-insensitive");
	CHECK(!filter_match_names(&f, in22, &names), "others not");
	CHECK_EQ(filter_parse_terms(&f, "dnames:~edge", err, sizeof(err)), 0, "ptr mark");
	CHECK(filter_match_names(&f, out443, &names), "PTR names keep their ~ mark");
	CHECK_EQ(filter_parse_terms(&f, "snames:example", err, sizeof(err)), 0, "src names");
	CHECK(!filter_match_names(&f, out443, &names), "src names are not dst names");
	CHECK_EQ(filter_parse_terms(&f, "family:6", err, sizeof(err)), 0, "family");
	CHECK(filter_match(&f, v6) && !filter_match(&f, out443), "family 6");
	CHECK_EQ(filter_parse_terms(&f, "id:1", err, sizeof(err)), 0, "id");
	CHECK(filter_match(&f, out443) && !filter_match(&f, in22), "id 1");
	/* IPv6 words have no field name before their colon: they stay words. */
	CHECK_EQ(filter_parse_terms(&f, "fe80::1", err, sizeof(err)), 0, "fe80::1");
	CHECK_EQ(f.terms[0].kind, FILTER_TERM_WORD, "a word");
	CHECK_EQ(filter_parse_terms(&f, "::1", err, sizeof(err)), 0, "::1");
	CHECK_EQ(f.terms[0].kind, FILTER_TERM_WORD, "a word too");
	CHECK(filter_match(&f, v6), "::1 still matches");

	flow_table_free(t);
	test_outcomes();
	return t_done();
}
