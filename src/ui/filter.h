/* Which flows to show: family, direction, port lists, words, field terms. Pure: no curses, no I/O.
 */
#ifndef TFT_FILTER_H
#define TFT_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow_fields.h"
#include "flow_table.h"
#include "names_memo.h"
#include "names_provider.h"

#define TFT_MAX_PORT_RANGES 64

struct port_range {
	uint16_t lo;
	uint16_t hi; /* inclusive, lo <= hi */
};

/* "443,8000-8100" or "!22": matches a flow when either end's port is (not) listed. */
struct port_list {
	struct port_range ranges[TFT_MAX_PORT_RANGES];
	size_t n;
	bool negate;
};

#define TFT_FILTER_MAX_TERMS 16
#define TFT_FILTER_TEXT_MAX 256
#define TFT_FILTER_WORD_MAX 64

enum filter_term_kind {
	FILTER_TERM_PORTS = 1, /* "443", "port 8000-8100", "!22" */
	FILTER_TERM_DIR,       /* "in", "out" */
	FILTER_TERM_FAMILY,    /* "ipv4", "ipv6" */
	FILTER_TERM_STATE,     /* a state word: "accepted", "refused", "established", ... */
	FILTER_TERM_WORD,      /* a piece of an address or a domain name */
	/* FIELD:VALUE, e.g. "dport:8000-8100", "state:refused"; the words "reset" and "idle" */
	FILTER_TERM_FIELD,
};

/* One term of the typed filter line; terms are AND-ed. */
struct filter_term {
	uint8_t kind;	 /* enum filter_term_kind */
	bool negate;	 /* led by '!': the term must not match */
	uint8_t value;	 /* direction, family or state */
	uint8_t field;	 /* FILTER_TERM_FIELD: enum flow_field */
	uint64_t lo, hi; /* FILTER_TERM_FIELD of numbers and enums: inclusive range */
	struct port_list ports;
	char word[TFT_FILTER_WORD_MAX]; /* lower case; FILTER_TERM_FIELD of text: the piece */
};

/*
 * Everything that hides rows. The command-line flags and the keys set the
 * same fields: --port and `p` set ports, --direction and `d` set dir,
 * --filter and `/` set the typed terms.
 */
struct filter {
	uint8_t family; /* 0 any, 4 or 6 */
	uint8_t dir;	/* 0 any, or enum tft_direction */
	bool has_ports;
	struct port_list ports;
	size_t nterms;
	struct filter_term terms[TFT_FILTER_MAX_TERMS];
	char text[TFT_FILTER_TEXT_MAX]; /* the typed line the terms came from */
	bool hide_ended;		/* the screen's C: flows that ended are hidden */
};

/*
 * Parses a port list: comma-separated ports (1-65535) and lo-hi ranges,
 * optionally led by '!' to exclude them. Returns 0 or -EINVAL with a
 * one-line reason in err.
 */
int port_list_parse(const char *text, struct port_list *out, char *err, size_t errlen);
/* Whether port is in the list, ignoring negate. */
bool port_list_contains(const struct port_list *pl, uint16_t port);

/* Parses "in"/"incoming", "out"/"outgoing" or "all": 0 or -EINVAL. */
int filter_parse_direction(const char *text, uint8_t *dir);

/*
 * Parses a typed filter line: whitespace-separated terms, AND-ed. A term is
 * a port list ("443", "80,443", "8000-8100", or "port LIST"), "in"/"out",
 * "ipv4"/"ipv6", a state word ("accepted", "refused", "pending",
 * "established", "closed", "unanswered", "half-open"), "reset" (either
 * reset end), "idle", a field term FIELD:VALUE (a field name before the
 * first ':'; numbers match N, LO-HI, >N, >=N, <N or <=N, handshake times
 * and durations in whole ms, enumerated fields one of their words,
 * addresses, names and times a piece of their text, case-insensitive), or
 * any other word, which matches a piece of either address or of either
 * end's domain names (case-insensitive; "::1" and "fe80::1" are words: no
 * field name before their ':'). '!' before a term negates it. On success replaces
 * f's terms and text and returns 0; on a bad term returns -EINVAL with a
 * one-line message in err and leaves f unchanged. An empty line clears.
 */
int filter_parse_terms(struct filter *f, const char *text, char *err, size_t errlen);

/* A port list as text, the form port_list_parse reads: "!80,8000-8100". */
void port_list_format(const struct port_list *pl, char *buf, size_t size);

/* A short description of the whole filter for a header ("dir in, ports 443, \"x\"") or "none". */
void filter_describe(const struct filter *f, char *buf, size_t size);

/* Without names: word and names terms match addresses only. */
bool filter_match(const struct filter *f, const struct tft_flow *flow);
/* As filter_match, with names for the word and names terms; names may be NULL. */
bool filter_match_names(const struct filter *f, const struct tft_flow *flow,
			const struct names_provider *names);
/*
 * As filter_match_names with the frame's memo (its provider's names): word
 * terms are decided once per distinct address and kept in the memo's
 * marks, so a frame matches each word against each address once.
 */
bool filter_match_memo(const struct filter *f, const struct tft_flow *flow, struct names_memo *m);
/* Whether hay holds needle, any case; needle is lower case ("" is in every text). */
bool filter_contains_word(const char *hay, const char *needle);

#endif /* TFT_FILTER_H */
