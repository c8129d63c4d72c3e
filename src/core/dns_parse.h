/*
 * Pure DNS response parser: message bytes to the question name and, for every
 * A/AAAA answer reached from it, the address, TTL and CNAME chain.
 * No allocation, no I/O, no c-ares (see dns_parse.c for why).
 */
#ifndef TFT_DNS_PARSE_H
#define TFT_DNS_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* RFC 1035 2.3.4 limits, on the wire. */
#define TFT_DNS_LABEL_MAX 63
#define TFT_DNS_WIRE_NAME_MAX 255
/* A name as text (labels joined by '.', no trailing dot) is at most 253 bytes. */
#define TFT_DNS_TEXT_NAME_MAX 253

/*
 * Work bounds: a hostile message cannot make the parser do more than this.
 * They are above what a captured message (at most 1024 bytes, so at most
 * 92 records of 11 bytes) can carry, so real answers are never cut: CDN
 * chains reach about 10 CNAMEs, large answers 60 and more A records.
 * What a longer message loses to them is counted (over_limit).
 */
#define TFT_DNS_MAX_RRS 128   /* answer records examined; later ones are only validated */
#define TFT_DNS_MAX_ADDRS 128 /* A/AAAA results kept per message */
#define TFT_DNS_MAX_CHAIN 16  /* names on a chain: the question name plus up to 15 CNAMEs */
#define TFT_DNS_MAX_JUMPS 32  /* compression pointers followed per name */

#define TFT_DNS_TYPE_A 1
#define TFT_DNS_TYPE_CNAME 5
#define TFT_DNS_TYPE_AAAA 28
#define TFT_DNS_CLASS_IN 1

/*
 * A name as text. Raw label bytes are kept (a hostile name may hold ESC,
 * quotes, commas, bytes >= 0x80): escape them for display with name_escape.h.
 * A NUL byte inside a label makes the whole message rejected, so text is
 * always a NUL-free C string. A '.' byte inside a label is kept as is and is
 * therefore not told apart from a label separator in the text.
 * The root name is the empty string.
 */
struct dns_name {
	uint16_t len; /* bytes in text, without the terminating NUL */
	char text[TFT_DNS_TEXT_NAME_MAX + 1];
};

struct dns_addr {
	uint8_t family;	    /* 4 or 6 */
	uint8_t addr[16];   /* IPv4 in the first 4 bytes, the rest zero */
	uint32_t ttl;	    /* seconds, of the A/AAAA record (RFC 2181 8: > 2^31-1 reads as 0) */
	uint32_t chain_ttl; /* smallest TTL of this record and the CNAMEs leading to it */
	uint8_t chain_len;  /* its names are chain[0 .. chain_len-1] of the response */
};

struct dns_response {
	uint16_t id;
	uint8_t qr;	/* 1 for a response */
	uint8_t opcode; /* 0 for a standard query */
	uint8_t rcode;	/* 0 for NOERROR */
	uint8_t tc;	/* the server set TC: the message was truncated by the sender */
	uint16_t qdcount, ancount, nscount, arcount;
	uint16_t qtype; /* of the first question; 0 without one */
	/*
	 * chain[0] is the (first) question name, whenever there is a question.
	 * chain[i] is the target of the CNAME owned by chain[i-1], in order;
	 * CNAMEs are followed only in a NOERROR standard response.
	 */
	uint8_t chain_len;
	struct dns_name chain[TFT_DNS_MAX_CHAIN];
	uint16_t n_addrs;
	struct dns_addr addrs[TFT_DNS_MAX_ADDRS];
	/* A/AAAA records ignored: owner not on the chain, over TFT_DNS_MAX_ADDRS
	 * or beyond TFT_DNS_MAX_RRS. */
	uint16_t skipped;
	/*
	 * Of the records above, those dropped only because of a limit: answers
	 * past TFT_DNS_MAX_RRS, addresses past TFT_DNS_MAX_ADDRS, and the
	 * addresses and CNAMEs past a chain cut at TFT_DNS_MAX_CHAIN.
	 */
	uint16_t over_limit;
	/* dns_parse_response_prefix only: records were cut off at the end. */
	uint8_t truncated;
};

/*
 * Parse one DNS message (a UDP payload, or a TCP payload after its 2-byte
 * length prefix). Returns 0 and fills *out (addresses only for QR=1, opcode
 * 0, RCODE 0; a query or an error response yields n_addrs == 0), or
 * -EBADMSG if any length, count, pointer or label is inconsistent with the
 * message or the limits above (out is then zeroed), or -EINVAL for NULL
 * arguments. Never reads outside msg[0 .. len-1].
 */
int dns_parse_response(const uint8_t *msg, size_t len, struct dns_response *out);

/*
 * The same for the first len bytes of a longer message (a capture cut it):
 * header and question must fit; the resource records that fit whole are
 * used and the walk stops at the first that does not (out->truncated set).
 * A record that fits but is malformed still fails the whole message.
 */
int dns_parse_response_prefix(const uint8_t *msg, size_t len, struct dns_response *out);

#endif /* TFT_DNS_PARSE_H */
