#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "filter.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* One port number at *p, advancing past it; strtoul alone would take "+1", " 1" and "0x1". */
static int parse_port(const char **p, uint16_t *port)
{
	unsigned long v = 0;
	const char *s = *p;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	while (isdigit((unsigned char)*s)) {
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return -ERANGE;
		s++;
	}
	if (v == 0)
		return -ERANGE;
	*port = (uint16_t)v;
	*p = s;
	return 0;
}

int port_list_parse(const char *text, struct port_list *out, char *err, size_t errlen)
{
	const char *p = text;
	struct port_list pl = {0};

	if (*p == '!') {
		pl.negate = true;
		p++;
	}
	if (!*p)
		return fail(err, errlen,
			    "empty port list \"%s\" (expected e.g. 443,8000-8100 or !22)", text);
	for (;;) {
		struct port_range r;
		const char *start = p;
		int e = parse_port(&p, &r.lo);

		if (e)
			return fail(err, errlen, "bad port \"%.*s\" in \"%s\" (ports are 1-65535)",
				    (int)strcspn(start, ","), start, text);
		r.hi = r.lo;
		if (*p == '-') {
			p++;
			e = parse_port(&p, &r.hi);
			if (e || r.hi < r.lo)
				return fail(err, errlen,
					    "bad port range \"%.*s\" in \"%s\" (expected LOW-HIGH)",
					    (int)strcspn(start, ","), start, text);
		}
		if (*p != ',' && *p != '\0')
			return fail(err, errlen, "bad port \"%.*s\" in \"%s\" (ports are 1-65535)",
				    (int)strcspn(start, ","), start, text);
		if (pl.n == TFT_MAX_PORT_RANGES)
			return fail(err, errlen, "too many ports in \"%s\" (at most %d items)",
				    text, TFT_MAX_PORT_RANGES);
		pl.ranges[pl.n++] = r;
		if (*p == '\0')
			break;
		p++;
	}
	*out = pl;
	return 0;
}

bool port_list_contains(const struct port_list *pl, uint16_t port)
{
	size_t i;

	for (i = 0; i < pl->n; i++) {
		if (port >= pl->ranges[i].lo && port <= pl->ranges[i].hi)
			return true;
	}
	return false;
}

int filter_parse_direction(const char *text, uint8_t *dir)
{
	if (!strcasecmp(text, "in") || !strcasecmp(text, "incoming"))
		*dir = TFT_DIR_IN;
	else if (!strcasecmp(text, "out") || !strcasecmp(text, "outgoing"))
		*dir = TFT_DIR_OUT;
	else if (!strcasecmp(text, "all") || !strcasecmp(text, "any"))
		*dir = 0;
	else
		return -EINVAL;
	return 0;
}

/* Digits, commas and dashes only: the user meant a port list, so a bad one is an error. */
static bool looks_like_ports(const char *w)
{
	if (!*w)
		return false;
	for (; *w; w++) {
		if (!isdigit((unsigned char)*w) && *w != ',' && *w != '-')
			return false;
	}
	return true;
}

struct keyword {
	const char *name;
	uint8_t kind;
	uint8_t value;
};

static const struct keyword keywords[] = {
    {"in", FILTER_TERM_DIR, TFT_DIR_IN},
    {"incoming", FILTER_TERM_DIR, TFT_DIR_IN},
    {"out", FILTER_TERM_DIR, TFT_DIR_OUT},
    {"outgoing", FILTER_TERM_DIR, TFT_DIR_OUT},
    {"ipv4", FILTER_TERM_FAMILY, 4},
    {"ipv6", FILTER_TERM_FAMILY, 6},
    {"accepted", FILTER_TERM_STATE, TFT_STATE_ACCEPTED},
    {"refused", FILTER_TERM_STATE, TFT_STATE_REFUSED},
    {"pending", FILTER_TERM_STATE, TFT_STATE_PENDING},
};

/* Splits off the next whitespace-separated word of *p into buf; false at the end. */
static bool next_word(const char **p, char *buf, size_t size, bool *too_long)
{
	const char *s = *p;
	size_t n = 0;

	*too_long = false;
	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return false;
	while (*s && !isspace((unsigned char)*s)) {
		if (n + 1 < size)
			buf[n++] = *s;
		else
			*too_long = true;
		s++;
	}
	buf[n] = '\0';
	*p = s;
	return true;
}

int filter_parse_terms(struct filter *f, const char *text, char *err, size_t errlen)
{
	struct filter_term terms[TFT_FILTER_MAX_TERMS];
	char word[TFT_FILTER_TEXT_MAX], perr[160];
	const char *p = text;
	size_t n = 0, i;
	bool too_long;

	if (strlen(text) >= TFT_FILTER_TEXT_MAX)
		return fail(err, errlen, "filter too long (at most %d characters)",
			    TFT_FILTER_TEXT_MAX - 1);
	while (next_word(&p, word, sizeof(word), &too_long)) {
		struct filter_term *t = &terms[n];
		const char *w = word;

		if (n == TFT_FILTER_MAX_TERMS)
			return fail(err, errlen, "too many terms (at most %d)",
				    TFT_FILTER_MAX_TERMS);
		memset(t, 0, sizeof(*t));
		if (*w == '!') {
			t->negate = true;
			w++;
		}
		if (!*w)
			return fail(err, errlen, "\"!\" needs a term after it, e.g. !22 or !in");
		if (!strcasecmp(w, "port") || !strcasecmp(w, "ports")) {
			/* "port LIST": the list is the next word; "!port 22" and "port !22" both
			 * negate. */
			if (!next_word(&p, word, sizeof(word), &too_long))
				return fail(
				    err, errlen,
				    "\"port\" needs a list, e.g. port 443 or port 8000-8100");
			w = word;
			if (*w == '!') {
				t->negate = !t->negate;
				w++;
			}
			if (port_list_parse(w, &t->ports, perr, sizeof(perr)))
				return fail(err, errlen, "%s", perr);
			t->kind = FILTER_TERM_PORTS;
			n++;
			continue;
		}
		if (looks_like_ports(w)) {
			if (port_list_parse(w, &t->ports, perr, sizeof(perr)))
				return fail(err, errlen, "%s", perr);
			t->kind = FILTER_TERM_PORTS;
			n++;
			continue;
		}
		for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
			if (!strcasecmp(w, keywords[i].name)) {
				t->kind = keywords[i].kind;
				t->value = keywords[i].value;
				break;
			}
		}
		if (!t->kind) {
			if (too_long || strlen(w) >= TFT_FILTER_WORD_MAX)
				return fail(err, errlen,
					    "word \"%.20s...\" too long (at most %d characters)", w,
					    TFT_FILTER_WORD_MAX - 1);
			for (i = 0; w[i]; i++) {
				if ((unsigned char)w[i] < 0x20 || (unsigned char)w[i] == 0x7f)
					return fail(err, errlen, "control character in filter");
				t->word[i] = (char)tolower((unsigned char)w[i]);
			}
			t->word[i] = '\0';
			t->kind = FILTER_TERM_WORD;
		}
		n++;
	}
	memcpy(f->terms, terms, n * sizeof(terms[0]));
	f->nterms = n;
	snprintf(f->text, sizeof(f->text), "%s", text);
	return 0;
}

void port_list_format(const struct port_list *pl, char *buf, size_t size)
{
	size_t i, off = 0;
	int w;

	if (!size)
		return;
	buf[0] = '\0';
	if (pl->negate) {
		w = snprintf(buf, size, "!");
		off = (size_t)w;
	}
	for (i = 0; i < pl->n && off < size; i++) {
		const struct port_range *r = &pl->ranges[i];

		if (r->lo == r->hi)
			w = snprintf(buf + off, size - off, "%s%u", i ? "," : "", r->lo);
		else
			w = snprintf(buf + off, size - off, "%s%u-%u", i ? "," : "", r->lo, r->hi);
		if (w < 0)
			break;
		off += (size_t)w;
	}
}

void filter_describe(const struct filter *f, char *buf, size_t size)
{
	char ports[128];
	size_t off = 0;
	int w;

#define ADD(...)                                                                                   \
	do {                                                                                       \
		if (off < size) {                                                                  \
			w = snprintf(buf + off, size - off, __VA_ARGS__);                          \
			if (w > 0)                                                                 \
				off += (size_t)w;                                                  \
		}                                                                                  \
	} while (0)

	if (!size)
		return;
	buf[0] = '\0';
	if (f->family)
		ADD("%sipv%u", off ? " " : "", f->family);
	if (f->dir)
		ADD("%s%s", off ? " " : "", f->dir == TFT_DIR_IN ? "in" : "out");
	if (f->has_ports) {
		port_list_format(&f->ports, ports, sizeof(ports));
		ADD("%sport %s", off ? " " : "", ports);
	}
	if (f->nterms)
		ADD("%s/%s", off ? " " : "", f->text);
	if (!off)
		snprintf(buf, size, "none");
#undef ADD
}

static bool ports_hit(const struct port_list *pl, const struct tft_flow *flow)
{
	return port_list_contains(pl, flow->key.sport) || port_list_contains(pl, flow->key.dport);
}

/* Case-insensitive substring; needle is already lower case. Scans for its first byte first. */
static bool contains_word(const char *hay, const char *needle)
{
	unsigned char first = (unsigned char)needle[0], first_up = (unsigned char)toupper(first);
	size_t i;

	if (!first)
		return true;
	for (; *hay; hay++) {
		if ((unsigned char)*hay != first && (unsigned char)*hay != first_up)
			continue;
		for (i = 1; needle[i] && tolower((unsigned char)hay[i]) == needle[i]; i++)
			;
		if (!needle[i])
			return true;
	}
	return false;
}

static bool word_hit(const char *word, const struct tft_flow *flow,
		     const struct names_provider *names)
{
	char buf[512];
	int af = flow->key.family == 4 ? AF_INET : AF_INET6;

	/* Address text is hex digits, dots and colons: other words need no inet_ntop. */
	bool addr_like = word[strspn(word, "0123456789abcdef.:")] == '\0';

	if (addr_like && inet_ntop(af, flow->key.saddr, buf, sizeof(buf)) &&
	    contains_word(buf, word))
		return true;
	if (addr_like && inet_ntop(af, flow->key.daddr, buf, sizeof(buf)) &&
	    contains_word(buf, word))
		return true;
	if (names && names->names_for) {
		if (contains_word(names_provider_lookup(names, flow->key.family, flow->key.saddr,
							buf, sizeof(buf)),
				  word))
			return true;
		if (contains_word(names_provider_lookup(names, flow->key.family, flow->key.daddr,
							buf, sizeof(buf)),
				  word))
			return true;
	}
	return false;
}

static bool term_hit(const struct filter_term *t, const struct tft_flow *flow,
		     const struct names_provider *names)
{
	switch (t->kind) {
	case FILTER_TERM_PORTS:
		/* "!22" in a list already means "neither end is 22": fold both negations. */
		return ports_hit(&t->ports, flow) != t->ports.negate;
	case FILTER_TERM_DIR:
		return flow->key.dir == t->value;
	case FILTER_TERM_FAMILY:
		return flow->key.family == t->value;
	case FILTER_TERM_STATE:
		return flow->state == t->value;
	case FILTER_TERM_WORD:
		return word_hit(t->word, flow, names);
	default:
		return true;
	}
}

bool filter_match_names(const struct filter *f, const struct tft_flow *flow,
			const struct names_provider *names)
{
	size_t i;

	if (f->family && flow->key.family != f->family)
		return false;
	if (f->dir && flow->key.dir != f->dir)
		return false;
	if (f->has_ports && ports_hit(&f->ports, flow) == f->ports.negate)
		return false;
	for (i = 0; i < f->nterms; i++) {
		if (term_hit(&f->terms[i], flow, names) == f->terms[i].negate)
			return false;
	}
	return true;
}

bool filter_match(const struct filter *f, const struct tft_flow *flow)
{
	return filter_match_names(f, flow, NULL);
}
