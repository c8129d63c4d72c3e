/*
 * Bounded DNS response parser.
 *
 * Why not c-ares here (project rule: use c-ares where it already parses):
 * checked against the Debian 12 libc-ares2 1.18.1 with a test program,
 * ares_parse_a_reply() with addrttls
 *  - fails the whole reply with ARES_EBADRESP when any name holds a byte
 *    outside its hostname set (a space, '"', ','), the CVE-2021-3672 check,
 *    so a hostile CNAME would hide every address in the message, while we
 *    want the raw name to show it escaped;
 *  - rewrites other bytes (ESC becomes the 4 characters "\027");
 *  - loses the chain: for www -> cdn -> edge -> A it returned h_name "cdn"
 *    and aliases {www, cdn}, dropping "edge", and addrttls carry no name.
 * So this file parses the three sections itself, with every read bounds
 * checked, and stays free of c-ares.
 *
 * NUL inside a label: rejected (-EBADMSG), not escaped. No real resolver
 * answers with one, rejecting keeps every name a plain C string, and an
 * escape such as "\000" could not be told apart from a name that spells it.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "dns_parse.h"

#define DNS_HDR_LEN 12
#define DNS_MIN_QUESTION 5 /* root name + type + class */
#define DNS_MIN_RR 11	   /* root name + type + class + ttl + rdlength */

/* A name in uncompressed wire form: length-prefixed labels, final 0 included. */
struct wire_name {
	size_t len;
	uint8_t b[TFT_DNS_WIRE_NAME_MAX];
};

/* What the first pass keeps of an answer record. */
struct rr_ref {
	uint16_t type;
	uint16_t rdlen;
	uint32_t ttl;
	size_t owner_off; /* where the owner name starts in msg */
	size_t rdata_off;
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/*
 * Decode the name at msg[off] into wire form. *end gets the offset just past
 * the name in the record (after its first pointer or its final 0). Every
 * pointer must point after the header and strictly before the start of the
 * labels read since the previous jump (the name's start at first), so
 * targets strictly decrease and no loop is possible, not even through the
 * name's own labels; the jump count is bounded anyway.
 */
static int name_decode(const uint8_t *msg, size_t len, size_t off, struct wire_name *wn,
		       size_t *end)
{
	size_t pos = off, run_start = off;
	unsigned int jumps = 0;
	int jumped = 0;

	wn->len = 0;
	for (;;) {
		uint8_t c;

		if (pos >= len)
			return -EBADMSG;
		c = msg[pos];
		if ((c & 0xc0) == 0xc0) {
			size_t target;

			if (pos + 1 >= len)
				return -EBADMSG;
			target = ((size_t)(c & 0x3f) << 8) | msg[pos + 1];
			if (target >= run_start || target < DNS_HDR_LEN)
				return -EBADMSG;
			if (++jumps > TFT_DNS_MAX_JUMPS)
				return -EBADMSG;
			if (!jumped) {
				*end = pos + 2;
				jumped = 1;
			}
			pos = run_start = target;
			continue;
		}
		if (c & 0xc0) /* 0x40 and 0x80: extended label types, or a length over 63 */
			return -EBADMSG;
		if (c == 0) {
			if (wn->len + 1 > TFT_DNS_WIRE_NAME_MAX)
				return -EBADMSG;
			wn->b[wn->len++] = 0;
			if (!jumped)
				*end = pos + 1;
			return 0;
		}
		/* this label, its length byte and at least the final 0 must fit */
		if (wn->len + 1 + c + 1 > TFT_DNS_WIRE_NAME_MAX)
			return -EBADMSG;
		if (c > len - pos - 1)
			return -EBADMSG;
		if (memchr(msg + pos + 1, 0, c))
			return -EBADMSG;
		memcpy(wn->b + wn->len, msg + pos, (size_t)c + 1);
		wn->len += (size_t)c + 1;
		pos += (size_t)c + 1;
	}
}

static uint8_t ascii_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* DNS names compare case-insensitively in ASCII only (RFC 4343). */
static int wire_eq(const struct wire_name *a, const struct wire_name *b)
{
	size_t i;

	if (a->len != b->len)
		return 0;
	for (i = 0; i < a->len; i++)
		if (ascii_lower(a->b[i]) != ascii_lower(b->b[i]))
			return 0;
	return 1;
}

static void wire_to_text(const struct wire_name *wn, struct dns_name *out)
{
	size_t i = 0, o = 0;

	while (i < wn->len && wn->b[i]) {
		size_t l = wn->b[i];

		if (o)
			out->text[o++] = '.';
		memcpy(out->text + o, wn->b + i + 1, l);
		o += l;
		i += l + 1;
	}
	out->text[o] = '\0';
	out->len = (uint16_t)o;
}

static uint32_t clamp_ttl(uint32_t ttl)
{
	return ttl > 0x7fffffffu ? 0 : ttl;
}

/* Is the owner of rr the name wn? */
static int owner_is(const uint8_t *msg, size_t len, const struct rr_ref *rr,
		    const struct wire_name *wn)
{
	struct wire_name owner;
	size_t end;

	/* validated in the first pass: cannot fail here */
	if (name_decode(msg, len, rr->owner_off, &owner, &end))
		return 0;
	return wire_eq(&owner, wn);
}

/* Whether some CNAME answer is owned by last: the chain goes on past the limit. */
static bool chain_continues(const uint8_t *msg, size_t len, const struct rr_ref *rrs, size_t n,
			    const struct wire_name *last)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rrs[i].type == TFT_DNS_TYPE_CNAME && owner_is(msg, len, &rrs[i], last))
			return true;
	return false;
}

/*
 * prefix: msg is the start of a longer message (the capture cut it). Then
 * the counts may exceed the data, and the records that fit are used: the
 * walk stops at the first one that does not, as if the message ended there.
 */
static int parse(const uint8_t *msg, size_t len, struct dns_response *out, bool prefix)
{
	struct rr_ref rrs[TFT_DNS_MAX_RRS];
	struct wire_name chain[TFT_DNS_MAX_CHAIN];
	uint32_t chain_ttl[TFT_DNS_MAX_CHAIN];
	size_t pos, end, n_rrs, n_total, a, i;
	unsigned int q;
	bool chain_cut = false;
	uint64_t min_len;
	uint16_t flags;
	int err;

	if (len < DNS_HDR_LEN)
		return -EBADMSG;
	out->id = rd16(msg);
	flags = rd16(msg + 2);
	out->qr = flags >> 15;
	out->opcode = (flags >> 11) & 0xf;
	out->tc = (flags >> 9) & 1;
	out->rcode = flags & 0xf;
	out->qdcount = rd16(msg + 4);
	out->ancount = rd16(msg + 6);
	out->nscount = rd16(msg + 8);
	out->arcount = rd16(msg + 10);

	/* each question and record takes a minimum number of bytes */
	min_len = DNS_HDR_LEN + (uint64_t)out->qdcount * DNS_MIN_QUESTION +
		  ((uint64_t)out->ancount + out->nscount + out->arcount) * DNS_MIN_RR;
	if (min_len > len && !prefix)
		return -EBADMSG;

	pos = DNS_HDR_LEN;
	for (q = 0; q < out->qdcount; q++) {
		struct wire_name later;

		/* only the first question starts the chain; the others are checked */
		err = name_decode(msg, len, pos, q == 0 ? &chain[0] : &later, &end);
		if (err)
			return err;
		if (end + 4 > len)
			return -EBADMSG;
		if (q == 0) {
			out->qtype = rd16(msg + end);
			chain_ttl[0] = UINT32_MAX;
			out->chain_len = 1;
		}
		pos = end + 4;
	}

	/*
	 * First pass: validate every record of all three sections (their
	 * number is bounded by len / DNS_MIN_RR), remember where the first
	 * TFT_DNS_MAX_RRS answers are.
	 */
	n_rrs = 0;
	n_total = (size_t)out->ancount + out->nscount + out->arcount;
	for (a = 0; a < n_total; a++) {
		struct wire_name tmp;
		struct rr_ref rr;
		size_t rend;

		rr.owner_off = pos;
		err = name_decode(msg, len, pos, &tmp, &end);
		if (!err && end + 10 > len)
			err = -EBADMSG;
		if (!err) {
			rr.rdata_off = end + 10;
			rr.rdlen = rd16(msg + end + 8);
			if (rr.rdlen > len - rr.rdata_off)
				err = -EBADMSG;
		}
		if (err && prefix) {
			out->truncated = 1;
			break; /* the cut: keep the records before it */
		}
		if (err)
			return err;
		rr.type = rd16(msg + end);
		rr.ttl = clamp_ttl(rd32(msg + end + 4));
		pos = rr.rdata_off + rr.rdlen;
		if (rd16(msg + end + 2) != TFT_DNS_CLASS_IN)
			rr.type = 0; /* keep it out of the chain and the results */
		switch (rr.type) {
		case TFT_DNS_TYPE_A:
			if (rr.rdlen != 4)
				return -EBADMSG;
			break;
		case TFT_DNS_TYPE_AAAA:
			if (rr.rdlen != 16)
				return -EBADMSG;
			break;
		case TFT_DNS_TYPE_CNAME:
			/* the target must be exactly the rdata, pointers allowed */
			err = name_decode(msg, len, rr.rdata_off, &tmp, &rend);
			if (err)
				return err;
			if (rend != pos)
				return -EBADMSG;
			break;
		default:
			break;
		}
		if (a < out->ancount && n_rrs < TFT_DNS_MAX_RRS)
			rrs[n_rrs++] = rr;
	}
	if (out->ancount > TFT_DNS_MAX_RRS) { /* answers we will not look at */
		out->skipped = (uint16_t)(out->ancount - TFT_DNS_MAX_RRS);
		out->over_limit = out->skipped;
	}
	/* bytes after the last record (padding, garbage) are ignored */

	if (out->chain_len)
		wire_to_text(&chain[0], &out->chain[0]);
	if (!out->qr || out->opcode != 0 || out->rcode != 0 || !out->chain_len)
		return 0;

	/* Follow CNAMEs from the question name, first match in answer order. */
	while (out->chain_len < TFT_DNS_MAX_CHAIN) {
		const struct wire_name *cur = &chain[out->chain_len - 1];
		struct wire_name *next = &chain[out->chain_len];
		int found = 0;

		for (i = 0; i < n_rrs && !found; i++) {
			size_t unused;
			unsigned int k;

			if (rrs[i].type != TFT_DNS_TYPE_CNAME || !owner_is(msg, len, &rrs[i], cur))
				continue;
			if (name_decode(msg, len, rrs[i].rdata_off, next, &unused))
				return -EBADMSG;
			/* a CNAME loop ends the chain where it would repeat */
			for (k = 0; k < out->chain_len; k++)
				if (wire_eq(&chain[k], next))
					goto chain_done;
			chain_ttl[out->chain_len] = rrs[i].ttl < chain_ttl[out->chain_len - 1]
							? rrs[i].ttl
							: chain_ttl[out->chain_len - 1];
			found = 1;
		}
		if (!found)
			break;
		out->chain_len++;
	}
	if (out->chain_len == TFT_DNS_MAX_CHAIN)
		chain_cut = chain_continues(msg, len, rrs, n_rrs, &chain[out->chain_len - 1]);
chain_done:
	for (i = 1; i < out->chain_len; i++)
		wire_to_text(&chain[i], &out->chain[i]);

	/* Addresses whose owner is on the chain, in answer order. */
	for (i = 0; i < n_rrs; i++) {
		struct dns_addr *ad;
		unsigned int k;

		if (rrs[i].type != TFT_DNS_TYPE_A && rrs[i].type != TFT_DNS_TYPE_AAAA)
			continue;
		for (k = out->chain_len; k > 0; k--)
			if (owner_is(msg, len, &rrs[i], &chain[k - 1]))
				break;
		if (k == 0 || out->n_addrs >= TFT_DNS_MAX_ADDRS) {
			out->skipped++;
			/* Past the address limit, or (after a cut) owned by the chain's unseen
			 * part. */
			if (k || chain_cut)
				out->over_limit++;
			continue;
		}
		ad = &out->addrs[out->n_addrs++];
		ad->family = rrs[i].type == TFT_DNS_TYPE_A ? 4 : 6;
		memcpy(ad->addr, msg + rrs[i].rdata_off, rrs[i].rdlen);
		ad->ttl = rrs[i].ttl;
		ad->chain_ttl = rrs[i].ttl < chain_ttl[k - 1] ? rrs[i].ttl : chain_ttl[k - 1];
		ad->chain_len = (uint8_t)k;
	}
	return 0;
}

static int parse_checked(const uint8_t *msg, size_t len, struct dns_response *out, bool prefix)
{
	int err;

	if (!out || (!msg && len))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!msg)
		return -EBADMSG;
	err = parse(msg, len, out, prefix);
	if (err)
		memset(out, 0, sizeof(*out));
	return err;
}

int dns_parse_response(const uint8_t *msg, size_t len, struct dns_response *out)
{
	return parse_checked(msg, len, out, false);
}

int dns_parse_response_prefix(const uint8_t *msg, size_t len, struct dns_response *out)
{
	return parse_checked(msg, len, out, true);
}
