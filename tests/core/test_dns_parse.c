/* dns_parse: real dnsmasq answers, hand-built edge cases, every truncation. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_parse.h"
#include "t.h"

/*
 * Real responses from dnsmasq 2.90 (tests/fuzz/dnsmasq.conf, captured by
 * tests/fuzz/capture_corpus.py; the same bytes are in tests/fuzz/corpus/dns).
 */
/* a_a.test.bin */
static const uint8_t s_a_a_test[] = {
    0x10, 0x00, 0x85, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x61,
    0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 0x7f, 0x00, 0x00, 0x05,
};
/* aaaa_a.test.bin */
static const uint8_t s_aaaa_a_test[] = {
    0x10, 0x01, 0x85, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x61, 0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0x1c, 0x00, 0x01, 0xc0, 0x0c,
    0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x10, 0xfd, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
};
/* a_cname_chain.bin */
static const uint8_t s_a_cname_chain[] = {
    0x10, 0x02, 0x85, 0x80, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x03, 0x77, 0x77,
    0x77, 0x01, 0x61, 0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c,
    0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x0c, 0x03, 0x63, 0x64, 0x6e, 0x01,
    0x61, 0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0xc0, 0x28, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00,
    0x01, 0x2c, 0x00, 0x08, 0x01, 0x61, 0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0xc0, 0x40, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 0x7f, 0x00, 0x00, 0x05,
};
/* aaaa_cname_chain.bin */
static const uint8_t s_aaaa_cname_chain[] = {
    0x10, 0x03, 0x85, 0x80, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x03, 0x77, 0x77,
    0x77, 0x01, 0x61, 0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0x1c, 0x00, 0x01, 0xc0, 0x0c,
    0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x0c, 0x03, 0x63, 0x64, 0x6e, 0x01,
    0x61, 0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0xc0, 0x28, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00,
    0x01, 0x2c, 0x00, 0x08, 0x01, 0x61, 0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0xc0, 0x40, 0x00,
    0x1c, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x10, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
};
/* a_cname_multi.bin */
static const uint8_t s_a_cname_multi[] = {
    0x10, 0x06, 0x85, 0x80, 0x00, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x05, 0x61, 0x6c, 0x69,
    0x61, 0x73, 0x05, 0x6d, 0x75, 0x6c, 0x74, 0x69, 0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0x01,
    0x00, 0x01, 0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x0c, 0x05, 0x6d,
    0x75, 0x6c, 0x74, 0x69, 0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0xc0, 0x2e, 0x00, 0x01, 0x00, 0x01,
    0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 0x0a, 0x00, 0x00, 0x01, 0xc0, 0x2e, 0x00, 0x01, 0x00, 0x01,
    0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 0x0a, 0x00, 0x00, 0x03, 0xc0, 0x2e, 0x00, 0x01, 0x00, 0x01,
    0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 0x0a, 0x00, 0x00, 0x02,
};
/* a_mixed_case.bin */
static const uint8_t s_a_mixed_case[] = {
    0x10, 0x07, 0x85, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x05,
    0x6d, 0x49, 0x58, 0x45, 0x44, 0x04, 0x63, 0x61, 0x73, 0x65, 0x04, 0x54, 0x45,
    0x53, 0x54, 0x00, 0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01,
    0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 0xc0, 0x00, 0x02, 0x07,
};
/* any_a.test.bin */
static const uint8_t s_any_a_test[] = {
    0x10, 0x0c, 0x85, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x61,
    0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0xff, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 0x7f, 0x00, 0x00, 0x05, 0xc0, 0x0c,
    0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x10, 0xfd, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
};
/* refused_a.bin */
static const uint8_t s_refused_a[] = {
    0x10, 0x0a, 0x81, 0x85, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x6e,
    0x6f, 0x70, 0x65, 0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0x01, 0x00, 0x01,
};
/* query_www.a.test.bin */
static const uint8_t s_query_www_a_test[] = {
    0x42, 0x42, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x77,
    0x77, 0x77, 0x01, 0x61, 0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0x01, 0x00, 0x01,
};
/* aaaa_multi.bin */
static const uint8_t s_aaaa_multi[] = {
    0x10, 0x05, 0x85, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x05, 0x6d,
    0x75, 0x6c, 0x74, 0x69, 0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0x1c, 0x00, 0x01,
    0xc0, 0x0c, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x10, 0xfd, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xc0, 0x0c, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x10, 0xfd, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
};

/* Parse from a heap copy of exactly len bytes, so ASan catches any overread. */
static int parse_exact(const uint8_t *msg, size_t len, struct dns_response *out)
{
	uint8_t *copy = malloc(len ? len : 1);
	int err;

	if (!copy)
		abort();
	if (len)
		memcpy(copy, msg, len);
	err = dns_parse_response(len ? copy : NULL, len, out);
	free(copy);
	return err;
}

static int is_zeroed(const struct dns_response *r)
{
	static const struct dns_response zero;

	return !memcmp(r, &zero, sizeof(*r));
}

/* Every proper prefix of a valid message must be rejected, cleanly. */
static void check_all_truncations(const uint8_t *msg, size_t len, const char *what)
{
	static struct dns_response r;
	size_t n, bad = 0, dirty = 0;

	for (n = 0; n < len; n++) {
		if (parse_exact(msg, n, &r) != -EBADMSG)
			bad++;
		if (!is_zeroed(&r))
			dirty++;
	}
	CHECK_EQ(bad, 0, what);
	CHECK_EQ(dirty, 0, what);
	CHECK_EQ(parse_exact(msg, len, &r), 0, what);
}

/* Message builder for hand-made cases. */
struct mb {
	uint8_t b[8192];
	size_t n;
};

static void u8(struct mb *m, unsigned int v)
{
	m->b[m->n++] = (uint8_t)v;
}

static void u16(struct mb *m, unsigned int v)
{
	u8(m, v >> 8);
	u8(m, v);
}

static void u32(struct mb *m, uint32_t v)
{
	u16(m, v >> 16);
	u16(m, v & 0xffff);
}

static void bytes(struct mb *m, const void *p, size_t n)
{
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void hdr(struct mb *m, unsigned int flags, unsigned int qd, unsigned int an, unsigned int ns,
		unsigned int ar)
{
	m->n = 0;
	u16(m, 0xbeef);
	u16(m, flags);
	u16(m, qd);
	u16(m, an);
	u16(m, ns);
	u16(m, ar);
}

/* Labels of a dotted name, without the final 0 (so a pointer may follow). */
static size_t labels(struct mb *m, const char *dotted)
{
	size_t at = m->n;

	while (*dotted) {
		size_t l = strcspn(dotted, ".");

		u8(m, (unsigned int)l);
		bytes(m, dotted, l);
		dotted += l;
		if (*dotted)
			dotted++;
	}
	return at;
}

static size_t name(struct mb *m, const char *dotted)
{
	size_t at = labels(m, dotted);

	u8(m, 0);
	return at;
}

static void ptr(struct mb *m, size_t off)
{
	u16(m, 0xc000 | (unsigned int)off);
}

static void question(struct mb *m, const char *qname, unsigned int qtype)
{
	name(m, qname);
	u16(m, qtype);
	u16(m, TFT_DNS_CLASS_IN);
}

/* Record header after its owner: type, class IN, ttl, rdlength. */
static void rr(struct mb *m, unsigned int type, uint32_t ttl, unsigned int rdlen)
{
	u16(m, type);
	u16(m, TFT_DNS_CLASS_IN);
	u32(m, ttl);
	u16(m, rdlen);
}

static void a_rdata(struct mb *m, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	u8(m, a);
	u8(m, b);
	u8(m, c);
	u8(m, d);
}

#define RESP 0x8180 /* QR, RD, RA, NOERROR */

static struct dns_response r;

static void test_real_a(void)
{
	static const uint8_t want[16] = {127, 0, 0, 5};

	CHECK_EQ(parse_exact(s_a_a_test, sizeof(s_a_a_test), &r), 0, "a: parses");
	CHECK_EQ(r.qr, 1, "a: response");
	CHECK_EQ(r.rcode, 0, "a: noerror");
	CHECK_EQ(r.qtype, TFT_DNS_TYPE_A, "a: qtype");
	CHECK_EQ(r.chain_len, 1, "a: chain is just the question");
	CHECK_STR(r.chain[0].text, "a.test", "a: qname");
	CHECK_EQ(r.chain[0].len, 6, "a: qname len");
	CHECK_EQ(r.n_addrs, 1, "a: one address");
	CHECK_EQ(r.addrs[0].family, 4, "a: family");
	CHECK(!memcmp(r.addrs[0].addr, want, 16), "a: address, zero padded");
	CHECK_EQ(r.addrs[0].ttl, 300, "a: ttl");
	CHECK_EQ(r.addrs[0].chain_ttl, 300, "a: chain ttl");
	CHECK_EQ(r.addrs[0].chain_len, 1, "a: addr chain len");
	CHECK_EQ(r.skipped, 0, "a: nothing skipped");
}

static void test_real_aaaa(void)
{
	static const uint8_t want[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5};

	CHECK_EQ(parse_exact(s_aaaa_a_test, sizeof(s_aaaa_a_test), &r), 0, "aaaa: parses");
	CHECK_EQ(r.qtype, TFT_DNS_TYPE_AAAA, "aaaa: qtype");
	CHECK_EQ(r.n_addrs, 1, "aaaa: one address");
	CHECK_EQ(r.addrs[0].family, 6, "aaaa: family");
	CHECK(!memcmp(r.addrs[0].addr, want, 16), "aaaa: fd00::5");

	CHECK_EQ(parse_exact(s_aaaa_multi, sizeof(s_aaaa_multi), &r), 0, "aaaa multi: parses");
	CHECK_EQ(r.n_addrs, 2, "aaaa multi: two");
	CHECK_EQ(r.addrs[0].addr[15], 1, "aaaa multi: first fd00::1, answer order");
	CHECK_EQ(r.addrs[1].addr[15], 2, "aaaa multi: then fd00::2");
}

static void test_real_chain(void)
{
	CHECK_EQ(parse_exact(s_a_cname_chain, sizeof(s_a_cname_chain), &r), 0, "chain: parses");
	CHECK_EQ(r.chain_len, 3, "chain: three names");
	CHECK_STR(r.chain[0].text, "www.a.test", "chain: asked name first");
	CHECK_STR(r.chain[1].text, "cdn.a.test", "chain: first cname");
	CHECK_STR(r.chain[2].text, "a.test", "chain: owner of the A record");
	CHECK_EQ(r.n_addrs, 1, "chain: one address");
	CHECK_EQ(r.addrs[0].chain_len, 3, "chain: address reached through the whole chain");
	CHECK_EQ(r.addrs[0].addr[0], 127, "chain: 127.0.0.5");
	CHECK_EQ(r.addrs[0].addr[3], 5, "chain: 127.0.0.5");

	CHECK_EQ(parse_exact(s_aaaa_cname_chain, sizeof(s_aaaa_cname_chain), &r), 0,
		 "chain6: parses");
	CHECK_EQ(r.chain_len, 3, "chain6: three names");
	CHECK_EQ(r.n_addrs, 1, "chain6: one address");
	CHECK_EQ(r.addrs[0].family, 6, "chain6: v6");

	CHECK_EQ(parse_exact(s_a_cname_multi, sizeof(s_a_cname_multi), &r), 0, "cmulti: parses");
	CHECK_EQ(r.chain_len, 2, "cmulti: two names");
	CHECK_STR(r.chain[0].text, "alias.multi.test", "cmulti: qname");
	CHECK_STR(r.chain[1].text, "multi.test", "cmulti: cname");
	CHECK_EQ(r.n_addrs, 3, "cmulti: three addresses");
	CHECK_EQ(r.addrs[0].addr[3], 1, "cmulti: 10.0.0.1 first");
	CHECK_EQ(r.addrs[1].addr[3], 3, "cmulti: 10.0.0.3 second");
	CHECK_EQ(r.addrs[2].addr[3], 2, "cmulti: 10.0.0.2 third");
	CHECK_EQ(r.addrs[2].chain_len, 2, "cmulti: chain len");
}

static void test_real_misc(void)
{
	CHECK_EQ(parse_exact(s_a_mixed_case, sizeof(s_a_mixed_case), &r), 0, "mixed: parses");
	CHECK_STR(r.chain[0].text, "mIXED.case.TEST", "mixed: case kept as asked");
	CHECK_EQ(r.n_addrs, 1, "mixed: one address");

	CHECK_EQ(parse_exact(s_any_a_test, sizeof(s_any_a_test), &r), 0, "any: parses");
	CHECK_EQ(r.n_addrs, 2, "any: A and AAAA");
	CHECK_EQ(r.addrs[0].family, 4, "any: A first");
	CHECK_EQ(r.addrs[1].family, 6, "any: AAAA second");

	CHECK_EQ(parse_exact(s_refused_a, sizeof(s_refused_a), &r), 0, "refused: parses");
	CHECK_EQ(r.rcode, 5, "refused: rcode");
	CHECK_EQ(r.n_addrs, 0, "refused: no addresses");
	CHECK_EQ(r.chain_len, 1, "refused: question name only");
	CHECK_STR(r.chain[0].text, "nope.test", "refused: question name");

	CHECK_EQ(parse_exact(s_query_www_a_test, sizeof(s_query_www_a_test), &r), 0,
		 "query: parses");
	CHECK_EQ(r.qr, 0, "query: not a response");
	CHECK_EQ(r.n_addrs, 0, "query: yields nothing");
}

static void test_truncations(void)
{
	check_all_truncations(s_a_a_test, sizeof(s_a_a_test), "trunc a");
	check_all_truncations(s_aaaa_a_test, sizeof(s_aaaa_a_test), "trunc aaaa");
	check_all_truncations(s_a_cname_chain, sizeof(s_a_cname_chain), "trunc chain");
	check_all_truncations(s_aaaa_cname_chain, sizeof(s_aaaa_cname_chain), "trunc chain6");
	check_all_truncations(s_a_cname_multi, sizeof(s_a_cname_multi), "trunc cmulti");
	check_all_truncations(s_a_mixed_case, sizeof(s_a_mixed_case), "trunc mixed");
	check_all_truncations(s_any_a_test, sizeof(s_any_a_test), "trunc any");
	check_all_truncations(s_refused_a, sizeof(s_refused_a), "trunc refused");
	check_all_truncations(s_query_www_a_test, sizeof(s_query_www_a_test), "trunc query");
	check_all_truncations(s_aaaa_multi, sizeof(s_aaaa_multi), "trunc aaaa multi");
}

/* Every prefix of a valid message: no crash, and what is kept is a subset, in order. */
static void check_all_prefixes(const uint8_t *msg, size_t len, const char *what)
{
	struct dns_response full, part;
	size_t cut, i;

	CHECK_EQ(dns_parse_response(msg, len, &full), 0, what);
	CHECK_EQ(dns_parse_response_prefix(msg, len, &part), 0, what);
	CHECK_EQ(part.n_addrs, full.n_addrs, what);
	CHECK_EQ(part.truncated, 0, what);
	for (cut = 0; cut < len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		int rc;

		memcpy(copy, msg, cut);
		rc = dns_parse_response_prefix(copy, cut, &part);
		free(copy);
		if (rc != 0)
			continue; /* header or question cut: nothing to learn */
		CHECK(part.n_addrs <= full.n_addrs, what);
		for (i = 0; i < part.n_addrs; i++)
			CHECK(!memcmp(&part.addrs[i], &full.addrs[i], sizeof(part.addrs[i])), what);
	}
	/* The whole message minus one byte still yields all but the last record. */
	{
		uint8_t *copy = malloc(len - 1);

		memcpy(copy, msg, len - 1);
		CHECK_EQ(dns_parse_response_prefix(copy, len - 1, &part), 0, what);
		CHECK_EQ(part.truncated, 1, what);
		CHECK(full.n_addrs == 0 || part.n_addrs == full.n_addrs - 1, what);
		free(copy);
	}
}

static void test_prefixes(void)
{
	check_all_prefixes(s_a_cname_multi, sizeof(s_a_cname_multi), "prefix cmulti");
	check_all_prefixes(s_aaaa_multi, sizeof(s_aaaa_multi), "prefix aaaa multi");
	check_all_prefixes(s_a_cname_chain, sizeof(s_a_cname_chain), "prefix chain");
	check_all_prefixes(s_any_a_test, sizeof(s_any_a_test), "prefix any");
}

static struct mb m;

/* Question www.x.test, then an A for it via a pointer to the question name. */
static void simple_a(void)
{
	hdr(&m, RESP, 1, 1, 0, 0);
	question(&m, "www.x.test", TFT_DNS_TYPE_A);
	ptr(&m, 12);
	rr(&m, TFT_DNS_TYPE_A, 60, 4);
	a_rdata(&m, 192, 0, 2, 1);
}

static void test_pointers(void)
{
	simple_a();
	CHECK_EQ(parse_exact(m.b, m.n, &r), 0, "ptr: baseline parses");
	CHECK_EQ(r.n_addrs, 1, "ptr: baseline address");
	check_all_truncations(m.b, m.n, "ptr: baseline truncations");

	/* the question name is a pointer to itself */
	hdr(&m, RESP, 1, 0, 0, 0);
	ptr(&m, 12);
	u16(&m, 1);
	u16(&m, 1);
	CHECK_EQ(parse_exact(m.b, m.n, &r), -EBADMSG, "ptr: self loop");

	/* answer owner: label then a pointer back to its own start */
	hdr(&m, RESP, 1, 1, 0, 0);
	question(&m, "x.test", 1);
	{
		size_t at = labels(&m, "a");

		ptr(&m, at);
	}
	rr(&m, TFT_DNS_TYPE_A, 60, 4);
	a_rdata(&m, 1, 2, 3, 4);
	CHECK_EQ(parse_exact(m.b, m.n, &r), -EBADMSG, "ptr: loop through a label");

	/* two names pointing at each other: the later one points back (allowed),
	 * the earlier one points forward (rejected) */
	hdr(&m, RESP, 1, 1, 0, 0);
	ptr(&m, 12 + 2 + 4); /* question name: forward to the answer owner */
	u16(&m, 1);
	u16(&m, 1);
	ptr(&m, 12); /* answer owner: back to the question */
	rr(&m, TFT_DNS_TYPE_A, 60, 4);
	a_rdata(&m, 1, 2, 3, 4);
	CHECK_EQ(parse_exact(m.b, m.n, &r), -EBADMSG, "ptr: two-name loop / forward pointer");

	/* forward pointer to a valid name later in the message */
	hdr(&m, RESP, 1, 1, 0, 0);
	question(&m, "x.test", 1);
	ptr(&m, 12 + 8 + 4 + 12); /* owner: forward, to the name in the rdata */
	rr(&m, TFT_DNS_TYPE_CNAME, 60, 8);
	name(&m, "x.test");
	CHECK_EQ(parse_exact(m.b, m.n, &r), -EBADMSG, "ptr: forward pointer");

	/* a pointer into the middle of its own name's label, whose bytes read
	 * as a pointer to the question: rejected, not reinterpreted */
	hdr(&m, RESP, 1, 1, 0, 0);
	question(&m, "x.test", 1);
	{
		size_t at = m.n;

		u8(&m, 2);
		u8(&m, 0xc0);
		u8(&m, 12);
		ptr(&m, at + 1);
	}
	rr(&m, TFT_DNS_TYPE_A, 60, 4);
	a_rdata(&m, 1, 2, 3, 4);
	CHECK_EQ(parse_exact(m.b, m.n, &r), -EBADMSG, "ptr: into its own labels");

	/* out of range */
	hdr(&m, RESP, 1, 1, 0, 0);
	question(&m, "x.test", 1);
	ptr(&m, 0x3fff);
	rr(&m, TFT_DNS_TYPE_A, 60, 4);
	a_rdata(&m, 1, 2, 3, 4);
	CHECK_EQ(parse_exact(m.b, m.n, &r), -EBADMSG, "ptr: out of range");

	/* into the header */
	hdr(&m, RESP, 1, 1, 0, 0);
	question(&m, "x.test", 1);
	ptr(&m, 4);
	rr(&m, TFT_DNS_TYPE_A, 60, 4);
	a_rdata(&m, 1, 2, 3, 4);
	CHECK_EQ(parse_exact(m.b, m.n, &r), -EBADMSG, "ptr: into the header");

	/* pointer to a pointer to the question: a chain of backward jumps is fine */
	hdr(&m, RESP, 1, 2, 0, 0);
	question(&m, "x.test", 1);
	{
		size_t first = m.n;

		ptr(&m, 12);
		rr(&m, TFT_DNS_TYPE_A, 60, 4);
		a_rdata(&m, 1, 2, 3, 4);
		ptr(&m, first);
		rr(&m, TFT_DNS_TYPE_A, 60, 4);
		a_rdata(&m, 5, 6, 7, 8);
	}
	CHECK_EQ(parse_exact(m.b, m.n, &r), 0, "ptr: pointer to pointer");
	CHECK_EQ(r.n_addrs, 2, "ptr: pointer to pointer, both addresses");
	check_all_truncations(m.b, m.n, "ptr: pointer to pointer truncations");
}

static void test_lengths(void)
{
	char l63[64], l61[62], big[300];

	memset(l63, 'a', 63);
	l63[63] = 0;
	memset(l61, 'b', 61);
	l61[61] = 0;

	/* label of 64: the length byte 0x40 is not a plain label */
	hdr(&m, RESP, 1, 0, 0, 0);
	u8(&m, 64);
	memset(m.b + m.n, 'a', 64);
	m.n += 64;
	u8(&m, 0);
	u16(&m, 1);
	u16(&m, 1);
	CHECK_EQ(parse_exact(m.b, m.n, &r), -EBADMSG, "label 64");

	/* 0x80: reserved label type */
	hdr(&m, RESP, 1, 0, 0, 0);
	u8(&m, 0x81);
	u8(&m, 'a');
	u8(&m, 0);
	u16(&m, 1);
	u16(&m, 1);
	CHECK_EQ(parse_exact(m.b, m.n, &r), -EBADMSG, "label type 0x80");

	/* 63 is fine */
	hdr(&m, RESP, 1, 0, 0, 0);
	question(&m, l63, 1);
	CHECK_EQ(parse_exact(m.b, m.n, &r), 0, "label 63");
	CHECK_EQ(r.chain[0].len, 63, "label 63 text");

	/* 255 bytes on the wire: 3 x (1+63) + (1+61) + 1 */
	snprintf(big, sizeof(big), "%s.%s.%s.%s", l63, l63, l63, l61);
	hdr(&m, RESP, 1, 0, 0, 0);
	question(&m, big, 1);
	CHECK_EQ(parse_exact(m.b, m.n, &r), 0, "name 255");
	CHECK_EQ(r.chain[0].len, 253, "name 255: text 253");
	CHECK_STR(r.chain[0].text, big, "name 255 text");

	/* 256 */
	snprintf(big, sizeof(big), "%s.%s.%s.%sb", l63, l63, l63, l61);
	hdr(&m, RESP, 1, 0, 0, 0);
	question(&m, big, 1);
	CHECK_EQ(parse_exact(m.b, m.n, &r), -EBADMSG, "name 256");

	/* over 255 only once a compressed suffix is added */
	hdr(&m, RESP, 1, 1, 0, 0);
	snprintf(big, sizeof(big), "%s.%s", l63, l63);
	question(&m, big, 1); /* 129 bytes */
	labels(&m, big);      /* 128 more, then a pointer: 257 */
	ptr(&m, 12);
	rr(&m, TFT_DNS_TYPE_A, 60, 4);
	a_rdata(&m, 1, 2, 3, 4);
	CHECK_EQ(parse_exact(m.b, m.n, &r), -EBADMSG, "name over 255 through a pointer");

	/* counts beyond the data */
	simple_a();
	m.b[7] = 2; /* ancount 2, one record */
	CHECK_EQ(parse_exact(m.b, m.n, &r), -EBADMSG, "ancount beyond data");
	simple_a();
	m.b[10] = 0xff; /* arcount 0xff00 */
	CHECK_EQ(parse_exact(m.b, m.n, &r), -EBADMSG, "arcount beyond data");
	simple_a();
	m.b[4] = 0xff;
	m.b[5] = 0xff;
	CHECK_EQ(parse_exact(m.b, m.n, &r), -EBADMSG, "qdcount beyond data");
	simple_a();
	m.b[9] = 1; /* nscount 1: the answer is read as authority, then nothing */
	CHECK_EQ(parse_exact(m.b, m.n, &r), -EBADMSG, "nscount beyond data");

	/* rdlength beyond the data */
	simple_a();
	m.b[m.n - 5] = 5;
	CHECK_EQ(parse_exact(m.b, m.n, &r), -EBADMSG, "rdlength beyond data");
	/* an A record of 5 bytes */
	simple_a();
	m.b[m.n - 5] = 5;
	u8(&m, 9);
	CHECK_EQ(parse_exact(m.b, m.n, &r), -EBADMSG, "A rdlength 5");

	/* CNAME whose name does not fill its rdata */
	hdr(&m, RESP, 1, 1, 0, 0);
	question(&m, "x.test", 1);
	ptr(&m, 12);
	rr(&m, TFT_DNS_TYPE_CNAME, 60, 9);
	name(&m, "y.test");
	u8(&m, 0);
	CHECK_EQ(parse_exact(m.b, m.n, &r), -EBADMSG, "cname rdata with trailing byte");
	/* CNAME whose name runs past its rdata */
	hdr(&m, RESP, 1, 1, 0, 0);
	question(&m, "x.test", 1);
	ptr(&m, 12);
	rr(&m, TFT_DNS_TYPE_CNAME, 60, 7);
	name(&m, "y.test");
	CHECK_EQ(parse_exact(m.b, m.n, &r), -EBADMSG, "cname name past rdata");

	CHECK_EQ(dns_parse_response(NULL, 0, &r), -EBADMSG, "empty message");
	CHECK_EQ(dns_parse_response(m.b, m.n, NULL), -EINVAL, "NULL out");
}

static void test_hostile_names(void)
{
	static const char evil[] = "\x1b[31m\"a,b\" =cmd|\xff";
	size_t owner;

	/* x.test CNAME <evil>.test, <evil>.test A 192.0.2.66 */
	hdr(&m, RESP, 1, 2, 0, 0);
	question(&m, "x.test", 1);
	ptr(&m, 12);
	rr(&m, TFT_DNS_TYPE_CNAME, 60, (unsigned int)(1 + strlen(evil) + 2));
	owner = m.n;
	u8(&m, (unsigned int)strlen(evil));
	bytes(&m, evil, strlen(evil));
	ptr(&m, 14); /* "test" of the question */
	ptr(&m, owner);
	rr(&m, TFT_DNS_TYPE_A, 60, 4);
	a_rdata(&m, 192, 0, 2, 66);
	CHECK_EQ(parse_exact(m.b, m.n, &r), 0, "hostile: accepted");
	CHECK_EQ(r.chain_len, 2, "hostile: chain of two");
	CHECK_STR(r.chain[1].text, "\x1b[31m\"a,b\" =cmd|\xff.test", "hostile: raw bytes kept");
	CHECK_EQ(r.n_addrs, 1, "hostile: address kept");
	CHECK_EQ(r.addrs[0].chain_len, 2, "hostile: through the hostile name");
	check_all_truncations(m.b, m.n, "hostile: truncations");

	/* NUL inside a label: rejected, never truncated silently */
	hdr(&m, RESP, 1, 1, 0, 0);
	question(&m, "x.test", 1);
	ptr(&m, 12);
	rr(&m, TFT_DNS_TYPE_CNAME, 60, 5);
	u8(&m, 3);
	bytes(&m, "a\0b", 3);
	u8(&m, 0);
	CHECK_EQ(parse_exact(m.b, m.n, &r), -EBADMSG, "NUL in label rejected");
}

static void test_chain_rules(void)
{
	unsigned int i, n;
	char last[16];

	/* case-insensitive owner match; chain_ttl is the smallest on the way */
	hdr(&m, RESP, 1, 2, 0, 0);
	question(&m, "WWW.x.test", 1);
	name(&m, "www.X.TEST");
	rr(&m, TFT_DNS_TYPE_CNAME, 30, 8);
	name(&m, "y.test");
	name(&m, "Y.test");
	rr(&m, TFT_DNS_TYPE_A, 0x80000000u, 4); /* top bit: reads as 0 (RFC 2181) */
	a_rdata(&m, 1, 1, 1, 1);
	CHECK_EQ(parse_exact(m.b, m.n, &r), 0, "case: parses");
	CHECK_EQ(r.chain_len, 2, "case: chain followed");
	CHECK_STR(r.chain[1].text, "y.test", "case: target as written");
	CHECK_EQ(r.n_addrs, 1, "case: address found");
	CHECK_EQ(r.addrs[0].ttl, 0, "ttl with top bit is 0");

	hdr(&m, RESP, 1, 2, 0, 0);
	question(&m, "a.test", 1);
	ptr(&m, 12);
	rr(&m, TFT_DNS_TYPE_CNAME, 30, 8);
	name(&m, "b.test");
	name(&m, "b.test");
	rr(&m, TFT_DNS_TYPE_A, 600, 4);
	a_rdata(&m, 2, 2, 2, 2);
	CHECK_EQ(parse_exact(m.b, m.n, &r), 0, "ttl: parses");
	CHECK_EQ(r.addrs[0].ttl, 600, "ttl: A record's own");
	CHECK_EQ(r.addrs[0].chain_ttl, 30, "ttl: chain minimum");

	/* an A record for a name not on the chain is ignored */
	hdr(&m, RESP, 1, 2, 0, 0);
	question(&m, "a.test", 1);
	name(&m, "bank.example");
	rr(&m, TFT_DNS_TYPE_A, 60, 4);
	a_rdata(&m, 6, 6, 6, 6);
	ptr(&m, 12);
	rr(&m, TFT_DNS_TYPE_A, 60, 4);
	a_rdata(&m, 7, 7, 7, 7);
	CHECK_EQ(parse_exact(m.b, m.n, &r), 0, "offchain: parses");
	CHECK_EQ(r.n_addrs, 1, "offchain: only the asked name's address");
	CHECK_EQ(r.addrs[0].addr[0], 7, "offchain: 7.7.7.7");
	CHECK_EQ(r.skipped, 1, "offchain: counted");

	/* CNAME loop a -> b -> a ends the chain */
	hdr(&m, RESP, 1, 3, 0, 0);
	question(&m, "a.test", 1);
	ptr(&m, 12);
	rr(&m, TFT_DNS_TYPE_CNAME, 60, 8);
	name(&m, "b.test");
	name(&m, "b.test");
	rr(&m, TFT_DNS_TYPE_CNAME, 60, 2);
	ptr(&m, 12);
	ptr(&m, 12);
	rr(&m, TFT_DNS_TYPE_A, 60, 4);
	a_rdata(&m, 3, 3, 3, 3);
	CHECK_EQ(parse_exact(m.b, m.n, &r), 0, "cname loop: parses");
	CHECK_EQ(r.chain_len, 2, "cname loop: a, b");
	CHECK_EQ(r.n_addrs, 1, "cname loop: A of a");
	CHECK_EQ(r.addrs[0].chain_len, 1, "cname loop: owned by the asked name");

	/* a CDN chain of 10 CNAMEs is followed whole; one of 20 stops at the limit, counted */
	for (n = 10; n <= 20; n += 10) {
		hdr(&m, RESP, 1, n + 1, 0, 0);
		question(&m, "n0.test", 1);
		for (i = 0; i < n; i++) {
			char o[16], t[16];

			snprintf(o, sizeof(o), "n%u.test", i);
			snprintf(t, sizeof(t), "n%u.test", i + 1);
			name(&m, o);
			rr(&m, TFT_DNS_TYPE_CNAME, 60, (unsigned int)strlen(t) + 2);
			name(&m, t);
		}
		snprintf(last, sizeof(last), "n%u.test", n);
		name(&m, last);
		rr(&m, TFT_DNS_TYPE_A, 60, 4);
		a_rdata(&m, 4, 4, 4, 4);
		CHECK_EQ(parse_exact(m.b, m.n, &r), 0, "long chain: parses");
		if (n == 10) {
			CHECK_EQ(r.chain_len, 11, "10 CNAMEs: every name kept");
			CHECK_STR(r.chain[10].text, "n10.test", "10 CNAMEs: the last one");
			CHECK_EQ(r.n_addrs, 1, "10 CNAMEs: the address attributed");
			CHECK_EQ(r.addrs[0].chain_len, 11, "10 CNAMEs: through the whole chain");
			CHECK_EQ(r.over_limit, 0, "10 CNAMEs: nothing over a limit");
		} else {
			CHECK_EQ(r.chain_len, TFT_DNS_MAX_CHAIN, "20 CNAMEs: capped");
			CHECK_EQ(r.n_addrs, 0, "20 CNAMEs: address past the cap not attributed");
			CHECK_EQ(r.skipped, 1, "20 CNAMEs: skipped");
			CHECK_EQ(r.over_limit, 1, "20 CNAMEs: counted as over the limit");
		}
	}

	/* 60 A records fit a 1024-byte answer: all kept; 150 stop at the limits, counted */
	for (n = 60; n <= 150; n += 90) {
		hdr(&m, RESP, 1, n, 0, 0);
		question(&m, "many.test", 1);
		for (i = 0; i < n; i++) {
			ptr(&m, 12);
			rr(&m, TFT_DNS_TYPE_A, 60, 4);
			a_rdata(&m, 10, 0, (uint8_t)(i >> 8), (uint8_t)i);
		}
		CHECK_EQ(parse_exact(m.b, m.n, &r), 0, "many: parses");
		if (n == 60) {
			CHECK(m.n <= 1024, "60 A records in 1024 bytes");
			CHECK_EQ(r.n_addrs, 60, "60 A records: all kept");
			CHECK_EQ(r.addrs[59].addr[3], 59, "60 A records: order");
			CHECK_EQ(r.over_limit, 0, "60 A records: nothing over a limit");
		} else {
			CHECK_EQ(r.n_addrs, TFT_DNS_MAX_ADDRS, "150: capped");
			CHECK_EQ(r.skipped, 150 - TFT_DNS_MAX_ADDRS, "150: rest skipped");
			CHECK_EQ(r.over_limit, 150 - TFT_DNS_MAX_ADDRS,
				 "150: counted over the limit");
		}
	}

	/* 200 records: only TFT_DNS_MAX_RRS looked at, the rest not even parsed */
	hdr(&m, RESP, 1, 200, 0, 0);
	question(&m, "many.test", 1);
	for (i = 0; i < 200; i++) {
		ptr(&m, 12);
		rr(&m, 16 /* TXT */, 60, 4);
		a_rdata(&m, 3, 'a', 'b', 'c');
	}
	CHECK_EQ(parse_exact(m.b, m.n, &r), 0, "rr cap: parses");
	CHECK_EQ(r.skipped, 200 - TFT_DNS_MAX_RRS, "rr cap: counted");
	CHECK_EQ(r.over_limit, 200 - TFT_DNS_MAX_RRS, "rr cap: over the limit");
	m.b[m.n - 6] = 1; /* the last record's rdlength runs past the end: still found */
	CHECK_EQ(parse_exact(m.b, m.n, &r), -EBADMSG, "rr cap: records past the cap validated");

	/* class CH records are not addresses */
	simple_a();
	m.b[m.n - 4 - 2 - 4 - 2 + 1] = 3; /* class low byte */
	CHECK_EQ(parse_exact(m.b, m.n, &r), 0, "class CH: parses");
	CHECK_EQ(r.n_addrs, 0, "class CH: ignored");

	/* NOERROR only, standard query only */
	simple_a();
	m.b[3] = 0x83; /* NXDOMAIN */
	CHECK_EQ(parse_exact(m.b, m.n, &r), 0, "nxdomain: parses");
	CHECK_EQ(r.n_addrs, 0, "nxdomain: nothing");
	simple_a();
	m.b[2] = 0x01; /* QR=0 */
	CHECK_EQ(parse_exact(m.b, m.n, &r), 0, "qr=0: parses");
	CHECK_EQ(r.n_addrs, 0, "qr=0: nothing");
	simple_a();
	m.b[2] = 0x81 | (2 << 3); /* opcode STATUS */
	CHECK_EQ(parse_exact(m.b, m.n, &r), 0, "opcode 2: parses");
	CHECK_EQ(r.n_addrs, 0, "opcode 2: nothing");
}

int main(void)
{
	test_prefixes();
	test_real_a();
	test_real_aaaa();
	test_real_chain();
	test_real_misc();
	test_truncations();
	test_pointers();
	test_lengths();
	test_hostile_names();
	test_chain_rules();
	return t_done();
}
