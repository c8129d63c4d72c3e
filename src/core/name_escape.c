/* Escaping of untrusted names for terminal, CSV and JSON output. */
#include <stdint.h>
#include <string.h>

#include "name_escape.h"

static const char hexdig[] = "0123456789abcdef";

/* snprintf-style sink: counts everything, writes whole units while they fit. */
struct sink {
	char *dst;
	size_t dstsz;
	size_t need;	/* bytes of the complete output */
	size_t written; /* bytes actually in dst */
	int full;	/* a unit did not fit: write nothing more */
};

static void sink_init(struct sink *s, char *dst, size_t dstsz)
{
	s->dst = dst;
	s->dstsz = dst ? dstsz : 0;
	s->need = 0;
	s->written = 0;
	s->full = 0;
}

static void put(struct sink *s, const char *p, size_t k)
{
	if (!s->full && s->dstsz && s->written + k < s->dstsz) {
		memcpy(s->dst + s->written, p, k);
		s->written += k;
	} else {
		s->full = 1;
	}
	s->need += k;
}

static size_t sink_done(struct sink *s)
{
	if (s->dstsz)
		s->dst[s->written] = '\0';
	return s->need;
}

/* One escaped terminal unit for byte c into u; returns its length (= columns). */
static size_t term_unit(uint8_t c, char u[4])
{
	if (c >= 0x20 && c <= 0x7e && c != '\\') {
		u[0] = (char)c;
		return 1;
	}
	u[0] = '\\';
	u[1] = 'x';
	u[2] = hexdig[c >> 4];
	u[3] = hexdig[c & 0xf];
	return 4;
}

size_t tft_escape_term(char *dst, size_t dstsz, const char *src, size_t len, size_t max_cols)
{
	const uint8_t *p = (const uint8_t *)src;
	struct sink s;
	size_t i, cols = 0, total = 0, limit = (size_t)-1;
	char u[4];

	sink_init(&s, dst, dstsz);
	if (!src)
		len = 0;
	if (max_cols) {
		for (i = 0; i < len; i++)
			total += term_unit(p[i], u);
		if (total > max_cols)
			limit = max_cols - 1; /* one column left for the mark */
	}
	for (i = 0; i < len; i++) {
		size_t k = term_unit(p[i], u);

		if (cols + k > limit)
			break;
		put(&s, u, k);
		cols += k;
	}
	if (limit != (size_t)-1)
		put(&s, TFT_ESC_CUT_MARK, sizeof(TFT_ESC_CUT_MARK) - 1);
	return sink_done(&s);
}

static int csv_is_formula(uint8_t c)
{
	return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

size_t tft_escape_csv(char *dst, size_t dstsz, const char *src, size_t len)
{
	const uint8_t *p = (const uint8_t *)src;
	struct sink s;
	int formula, quote = 0;
	size_t i;

	sink_init(&s, dst, dstsz);
	if (!src)
		len = 0;
	formula = len && csv_is_formula(p[0]);
	for (i = 0; i < len && !quote; i++)
		quote = p[i] == ',' || p[i] == '"' || p[i] == '\r' || p[i] == '\n';
	quote |= formula;
	if (quote)
		put(&s, "\"", 1);
	if (formula)
		put(&s, "'", 1);
	for (i = 0; i < len; i++) {
		if (p[i] == '"')
			put(&s, "\"\"", 2);
		else if (p[i] == 0)
			put(&s, "\\x00", 4);
		else
			put(&s, (const char *)p + i, 1);
	}
	if (quote)
		put(&s, "\"", 1);
	return sink_done(&s);
}

static int is_cont(uint8_t c)
{
	return (c & 0xc0) == 0x80;
}

/* Length of the well-formed UTF-8 sequence at p (Unicode 3.9 table 3-7), or 0. */
static size_t utf8_seq(const uint8_t *p, size_t rem)
{
	uint8_t c = p[0];
	uint8_t lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f; /* no UTF-16 surrogates */
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f; /* nothing above U+10FFFF */
	if (rem < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (!is_cont(p[i]))
			return 0;
	return n;
}

size_t tft_escape_json(char *dst, size_t dstsz, const char *src, size_t len)
{
	const uint8_t *p = (const uint8_t *)src;
	struct sink s;
	size_t i = 0;

	sink_init(&s, dst, dstsz);
	if (!src)
		len = 0;
	put(&s, "\"", 1);
	while (i < len) {
		uint8_t c = p[i];
		char u[6] = {'\\', 'u', '0', '0', 0, 0};
		size_t n;

		switch (c) {
		case '"':
			put(&s, "\\\"", 2);
			i++;
			continue;
		case '\\':
			put(&s, "\\\\", 2);
			i++;
			continue;
		case '\b':
			put(&s, "\\b", 2);
			i++;
			continue;
		case '\f':
			put(&s, "\\f", 2);
			i++;
			continue;
		case '\n':
			put(&s, "\\n", 2);
			i++;
			continue;
		case '\r':
			put(&s, "\\r", 2);
			i++;
			continue;
		case '\t':
			put(&s, "\\t", 2);
			i++;
			continue;
		default:
			break;
		}
		if (c >= 0x20 && c < 0x7f) {
			put(&s, (const char *)p + i, 1);
			i++;
			continue;
		}
		if (c >= 0x80 && (n = utf8_seq(p + i, len - i)) != 0) {
			put(&s, (const char *)p + i, n);
			i += n;
			continue;
		}
		/* control byte, DEL, or a byte of ill-formed UTF-8 */
		u[4] = hexdig[c >> 4];
		u[5] = hexdig[c & 0xf];
		put(&s, u, 6);
		i++;
	}
	put(&s, "\"", 1);
	return sink_done(&s);
}
