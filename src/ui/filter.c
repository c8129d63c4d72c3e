#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err_msg.h"
#include "filter.h"
#include "parse_num.h"

/* The number whose digits start at *p, in [min, max], advancing past them: 0 or -errno. */
static int scan_u64(const char **p, uint64_t min, uint64_t max, uint64_t *v)
{
	size_t n = strspn(*p, "0123456789");
	char tok[24];
	int e;

	if (!n)
		return -EINVAL;
	if (n >= sizeof(tok))
		return -ERANGE;
	memcpy(tok, *p, n);
	tok[n] = '\0';
	e = parse_u64(tok, min, max, v);
	if (!e)
		*p += n;
	return e;
}

static int parse_port(const char **p, uint16_t *port)
{
	uint64_t v;
	int e = scan_u64(p, 1, 65535, &v);

	if (!e)
		*port = (uint16_t)v;
	return e;
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
		return err_inval(err, errlen,
				 "empty port list \"%s\" (expected e.g. 443,8000-8100 or !22)",
				 text);
	for (;;) {
		struct port_range r;
		const char *start = p;
		int e = parse_port(&p, &r.lo);

		if (e)
			return err_inval(err, errlen,
					 "bad port \"%.*s\" in \"%s\" (ports are 1-65535)",
					 (int)strcspn(start, ","), start, text);
		r.hi = r.lo;
		if (*p == '-') {
			p++;
			e = parse_port(&p, &r.hi);
			if (e || r.hi < r.lo)
				return err_inval(
				    err, errlen,
				    "bad port range \"%.*s\" in \"%s\" (expected LOW-HIGH)",
				    (int)strcspn(start, ","), start, text);
		}
		if (*p != ',' && *p != '\0')
			return err_inval(err, errlen,
					 "bad port \"%.*s\" in \"%s\" (ports are 1-65535)",
					 (int)strcspn(start, ","), start, text);
		if (pl.n == TFT_MAX_PORT_RANGES)
			return err_inval(err, errlen, "too many ports in \"%s\" (at most %d items)",
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
	uint8_t field; /* FILTER_TERM_FIELD: the field, its values lo..hi */
	uint8_t lo, hi;
};

/* Besides the direction and state words of the field table. */
static const struct keyword keywords[] = {
    {"incoming", FILTER_TERM_DIR, TFT_DIR_IN, 0, 0, 0},
    {"outgoing", FILTER_TERM_DIR, TFT_DIR_OUT, 0, 0, 0},
    {"ipv4", FILTER_TERM_FAMILY, 4, 0, 0, 0},
    {"ipv6", FILTER_TERM_FAMILY, 6, 0, 0, 0},
    /* either reset end, whichever side sent it */
    {"reset", FILTER_TERM_FIELD, 0, FLOW_FIELD_END, TFT_END_RESET_PEER, TFT_END_RESET_LOCAL},
    {"idle", FILTER_TERM_FIELD, 0, FLOW_FIELD_IDLE, 1, 1},
};

/* A bare direction or state word ("in", "refused"): sets t and returns true. */
static bool keyword_term(const char *w, struct filter_term *t)
{
	static const struct {
		enum flow_field field;
		uint8_t kind;
	} enums[] = {{FLOW_FIELD_DIR, FILTER_TERM_DIR}, {FLOW_FIELD_STATE, FILTER_TERM_STATE}};
	const struct flow_field_value *v;
	size_t i;

	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		if (!strcasecmp(w, keywords[i].name)) {
			t->kind = keywords[i].kind;
			t->value = keywords[i].value;
			t->field = keywords[i].field;
			t->lo = keywords[i].lo;
			t->hi = keywords[i].hi;
			return true;
		}
	}
	for (i = 0; i < sizeof(enums) / sizeof(enums[0]); i++) {
		for (v = flow_field(enums[i].field)->values; v->name; v++) {
			if (!strcasecmp(w, v->name)) {
				t->kind = enums[i].kind;
				t->value = (uint8_t)v->value;
				return true;
			}
		}
	}
	return false;
}

/* A piece of text to look for: lower case, no control bytes. 0 or -EINVAL. */
static int parse_piece(const char *w, bool too_long, char *out, char *err, size_t errlen)
{
	size_t i;

	if (too_long || strlen(w) >= TFT_FILTER_WORD_MAX)
		return err_inval(err, errlen, "word \"%.20s...\" too long (at most %d characters)",
				 w, TFT_FILTER_WORD_MAX - 1);
	for (i = 0; w[i]; i++) {
		if ((unsigned char)w[i] < 0x20 || (unsigned char)w[i] == 0x7f)
			return err_inval(err, errlen, "control character in filter");
		out[i] = (char)tolower((unsigned char)w[i]);
	}
	out[i] = '\0';
	return 0;
}

/* Fields kept in ns whose terms read whole milliseconds. */
static bool filter_whole_ms(enum flow_field id)
{
	return id == FLOW_FIELD_HS || id == FLOW_FIELD_DURATION;
}

/*
 * FIELD:VALUE, when w has a field name before its first ':'. Returns 1 and
 * fills t, 0 when w is no field term (a word, e.g. "fe80::1"), or -EINVAL.
 */
static int field_term(const char *w, bool too_long, struct filter_term *t, char *err, size_t errlen)
{
	const char *colon = strchr(w, ':'), *v, *p;
	const struct flow_field_desc *d;
	const struct flow_field_value *ev;
	enum flow_field id;
	char names[128];
	size_t n;

	if (!colon || colon == w || flow_field_parse_n(w, (size_t)(colon - w), &id))
		return 0;
	d = flow_field(id);
	v = colon + 1;
	if (!(d->flags & (FLOW_FIELD_ON_SCREEN | FLOW_FIELD_ON_EXPORT)))
		return err_inval(
		    err, errlen, "\"%s\" is not a field to filter on (try %s)", d->name,
		    flow_fields_names(FLOW_FIELD_ON_SCREEN, ",", names, sizeof(names)));
	if (!*v)
		return err_inval(err, errlen,
				 "\"%s:\" needs a value, e.g. dport:443 or state:refused", d->name);
	t->kind = FILTER_TERM_FIELD;
	t->field = (uint8_t)id;
	switch (d->kind) {
	case FLOW_KIND_NUMBER:
		p = v;
		if (*p == '>' || *p == '<') {
			/* >N, >=N, <N, <=N: a range open at one end */
			bool above = *p++ == '>', or_equal = *p == '=';
			uint64_t n;

			p += or_equal;
			if (scan_u64(&p, 0, UINT64_MAX, &n) || *p ||
			    (!or_equal && n == (above ? UINT64_MAX : 0)))
				goto bad_number;
			t->lo = above ? n + !or_equal : 0;
			t->hi = above ? UINT64_MAX : n - !or_equal;
			return 1;
		}
		if (scan_u64(&p, 0, UINT64_MAX, &t->lo))
			goto bad_number;
		t->hi = t->lo;
		if (*p == '-') {
			p++;
			if (scan_u64(&p, 0, UINT64_MAX, &t->hi) || t->hi < t->lo)
				goto bad_number;
		}
		if (*p)
			goto bad_number;
		return 1;
	case FLOW_KIND_ENUM:
		for (ev = d->values; ev->name; ev++) {
			if (!strcasecmp(v, ev->name)) {
				t->lo = t->hi = ev->value;
				return 1;
			}
		}
		n = 0;
		names[0] = '\0';
		for (ev = d->values; ev->name && n < sizeof(names); ev++)
			n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", n ? ", " : "",
					      ev->name);
		return err_inval(err, errlen, "bad value \"%s\" for %s (one of %s)", v, d->name,
				 names);
	default:
		return parse_piece(v, too_long, t->word, err, errlen) ? -EINVAL : 1;
	}
bad_number:
	return err_inval(err, errlen, "bad value \"%s\" for %s (a number, LOW-HIGH, >N or <N%s)", v,
			 d->name, filter_whole_ms(id) ? ", in whole ms" : "");
}

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
	size_t n = 0;
	bool too_long;

	if (strlen(text) >= TFT_FILTER_TEXT_MAX)
		return err_inval(err, errlen, "filter too long (at most %d characters)",
				 TFT_FILTER_TEXT_MAX - 1);
	while (next_word(&p, word, sizeof(word), &too_long)) {
		struct filter_term *t = &terms[n];
		const char *w = word;

		if (n == TFT_FILTER_MAX_TERMS)
			return err_inval(err, errlen, "too many terms (at most %d)",
					 TFT_FILTER_MAX_TERMS);
		memset(t, 0, sizeof(*t));
		if (*w == '!') {
			t->negate = true;
			w++;
		}
		if (!*w)
			return err_inval(err, errlen,
					 "\"!\" needs a term after it, e.g. !22 or !in");
		if (!strcasecmp(w, "port") || !strcasecmp(w, "ports")) {
			/* "port LIST": the list is the next word; "!port 22" and "port !22" both
			 * negate. */
			if (!next_word(&p, word, sizeof(word), &too_long))
				return err_inval(
				    err, errlen,
				    "\"port\" needs a list, e.g. port 443 or port 8000-8100");
			w = word;
			if (*w == '!') {
				t->negate = !t->negate;
				w++;
			}
			if (port_list_parse(w, &t->ports, perr, sizeof(perr)))
				return err_inval(err, errlen, "%s", perr);
			t->kind = FILTER_TERM_PORTS;
			n++;
			continue;
		}
		if (looks_like_ports(w)) {
			if (port_list_parse(w, &t->ports, perr, sizeof(perr)))
				return err_inval(err, errlen, "%s", perr);
			t->kind = FILTER_TERM_PORTS;
			n++;
			continue;
		}
		if (!keyword_term(w, t)) {
			int r = field_term(w, too_long, t, err, errlen);

			if (r < 0)
				return r;
			if (!r) {
				if (parse_piece(w, too_long, t->word, err, errlen))
					return -EINVAL;
				t->kind = FILTER_TERM_WORD;
			}
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
		ADD("%s%s", off ? " " : "", flow_field_dir_name(f->dir));
	if (f->has_ports) {
		port_list_format(&f->ports, ports, sizeof(ports));
		ADD("%sport %s", off ? " " : "", ports);
	}
	if (f->hide_ended)
		ADD("%sopen only", off ? " " : "");
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

/* Scans for the needle's first byte first. */
bool filter_contains_word(const char *hay, const char *needle)
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

/* Whether an address's text holds word. Address text is hex digits, dots and colons. */
static bool addr_hit(const char *word, uint8_t family, const uint8_t *addr)
{
	char buf[INET6_ADDRSTRLEN];

	if (word[strspn(word, "0123456789abcdef.:")] != '\0')
		return false; /* no inet_ntop needed */
	return filter_contains_word(flow_field_addr(family, addr, buf, sizeof(buf)), word);
}

/* Where a flow's names come from while matching: a provider, or the frame's memo. */
struct names_src {
	const struct names_provider *provider;
	struct names_memo *memo;
};

/* One end's names (src: the source's) as the screen writes them out in full, into buf. */
static const char *names_text(const struct names_src *ns, const struct tft_flow *flow, bool src,
			      char *buf, size_t size)
{
	struct names_list l;
	long i;

	if (ns->memo) {
		i = names_memo_flow_index(ns->memo, flow, src);
		if (i >= 0)
			return names_memo_text(ns->memo, (size_t)i);
	}
	names_provider_lookup(ns->provider, flow->key.family,
			      src ? flow->key.saddr : flow->key.daddr, &l);
	return flow_names_text(&l, ",", 0, buf, size);
}

/* Word term `bit` against one end: a piece of its address or its names text. */
static bool end_hit(const struct filter_term *t, unsigned bit, const struct names_src *ns,
		    const struct tft_flow *flow, bool src)
{
	static char buf[NAMES_MEMO_TEXT_MAX];
	const uint8_t *addr = src ? flow->key.saddr : flow->key.daddr;
	uint8_t family = flow->key.family;
	struct names_memo_marks *mk = NULL;
	bool hit;
	long i;

	if (ns->memo && bit < 32 && (i = names_memo_flow_index(ns->memo, flow, src)) >= 0) {
		mk = names_memo_marks(ns->memo, (size_t)i);
		if (mk->known & (1u << bit))
			return mk->hit & (1u << bit);
	}
	hit = addr_hit(t->word, family, addr) ||
	      ((ns->memo || (ns->provider && ns->provider->names_for)) &&
	       filter_contains_word(names_text(ns, flow, src, buf, sizeof(buf)), t->word));
	if (mk) {
		mk->known |= 1u << bit;
		mk->hit |= hit ? 1u << bit : 0;
	}
	return hit;
}

static bool field_hit(const struct filter_term *t, const struct tft_flow *flow,
		      const struct names_src *ns)
{
	static char buf[NAMES_MEMO_TEXT_MAX];
	const struct flow_field_desc *d = flow_field((enum flow_field)t->field);
	struct flow_field_ctx c = {flow, TFT_CHANGE_NONE, flow->syn_ns, ns->provider};
	uint64_t v;

	switch (d->kind) {
	case FLOW_KIND_NUMBER:
	case FLOW_KIND_ENUM:
		if (t->field == FLOW_FIELD_DURATION)
			v = flow_field_duration_ns(flow, flow_fields_now()); /* running: to now */
		else if (!d->number(flow, &v))
			return false;
		if (filter_whole_ms((enum flow_field)t->field))
			v /= 1000000; /* the filter reads whole milliseconds */
		return v >= t->lo && v <= t->hi;
	case FLOW_KIND_NAMES:
		return filter_contains_word(
		    names_text(ns, flow, t->field == FLOW_FIELD_SNAMES, buf, sizeof(buf)), t->word);
	default:
		return filter_contains_word(flow_field_render((enum flow_field)t->field, &c,
							      FLOW_TARGET_SCREEN, buf, sizeof(buf)),
					    t->word);
	}
}

static bool term_hit(const struct filter_term *t, unsigned bit, const struct tft_flow *flow,
		     const struct names_src *ns)
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
		return end_hit(t, bit, ns, flow, true) || end_hit(t, bit, ns, flow, false);
	case FILTER_TERM_FIELD:
		return field_hit(t, flow, ns);
	default:
		return true;
	}
}

static bool match(const struct filter *f, const struct tft_flow *flow, const struct names_src *ns)
{
	size_t i;

	if (f->family && flow->key.family != f->family)
		return false;
	if (f->dir && flow->key.dir != f->dir)
		return false;
	if (f->has_ports && ports_hit(&f->ports, flow) == f->ports.negate)
		return false;
	if (f->hide_ended && flow->end != TFT_END_NONE)
		return false;
	for (i = 0; i < f->nterms; i++) {
		if (term_hit(&f->terms[i], (unsigned)i, flow, ns) == f->terms[i].negate)
			return false;
	}
	return true;
}

bool filter_match_names(const struct filter *f, const struct tft_flow *flow,
			const struct names_provider *names)
{
	struct names_src ns = {names, NULL};

	return match(f, flow, &ns);
}

bool filter_match_memo(const struct filter *f, const struct tft_flow *flow, struct names_memo *m)
{
	struct names_provider p = names_memo_provider(m);
	struct names_src ns = {&p, p.names_for ? m : NULL};

	return match(f, flow, &ns);
}

bool filter_match(const struct filter *f, const struct tft_flow *flow)
{
	return filter_match_names(f, flow, NULL);
}
