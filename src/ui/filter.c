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

bool filter_match(const struct filter *f, const struct tft_flow *flow)
{
	if (f->family && flow->key.family != f->family)
		return false;
	if (f->dir && flow->key.dir != f->dir)
		return false;
	if (f->has_ports) {
		bool hit = port_list_contains(&f->ports, flow->key.sport) ||
			   port_list_contains(&f->ports, flow->key.dport);

		if (hit == f->ports.negate)
			return false;
	}
	return true;
}
