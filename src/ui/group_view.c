/*
 * Rows are snapshots (group_row) taken at rebuild, so a frame sorts and
 * draws the same figures; the selection follows the group's index, which
 * never changes. Sorting precomputes one key per row (a number, or a piece
 * of text for the endpoint columns) so a frame of 10,000 groups compares
 * keys, not renderings.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err_msg.h"
#include "export_csv.h"
#include "filter.h"
#include "group_view.h"
#include "parse_num.h"
#include "row_window.h"

/* --- filter ---------------------------------------------------------------------------- */

/* A term in a message: its first 40 bytes. */
static int shown(size_t len)
{
	return (int)(len > 40 ? 40 : len);
}

static void lower_copy(char *dst, const char *src, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[len] = '\0';
}

/* "N" or "N-M" into an inclusive range. */
static int parse_range(const char *v, size_t len, uint64_t *lo, uint64_t *hi)
{
	char a[32], *dash;

	if (!len || len >= sizeof(a))
		return -EINVAL;
	memcpy(a, v, len);
	a[len] = '\0';
	dash = strchr(a, '-');
	if (dash)
		*dash = '\0';
	if (parse_u64(a, 0, UINT64_MAX, lo) || parse_u64(dash ? dash + 1 : a, 0, UINT64_MAX, hi) ||
	    *lo > *hi)
		return -EINVAL;
	return 0;
}

int group_filter_parse(struct group_view_filter *f, const char *text, char *err, size_t errlen)
{
	struct group_view_filter out = {0};
	const char *p = text;

	if (strlen(text) >= sizeof(out.text))
		return err_inval(err, errlen, "filter too long");
	snprintf(out.text, sizeof(out.text), "%s", text);
	while (*p) {
		size_t len = strcspn(p, " \t"), n;
		const char *tok = p, *colon;
		struct group_term *t;
		enum group_field id;

		if (!len) {
			p++;
			continue;
		}
		p += len;
		if (out.nterms == GROUP_FILTER_MAX_TERMS)
			return err_inval(err, errlen, "too many terms at \"%.*s\"", shown(len),
					 tok);
		t = &out.terms[out.nterms];
		if (*tok == '!') {
			t->negate = true;
			tok++;
			len--;
			if (!len)
				return err_inval(err, errlen, "\"!%.*s\" negates nothing",
						 shown(len), tok);
		}
		colon = memchr(tok, ':', len);
		if (colon && !group_field_parse_n(tok, (size_t)(colon - tok), &id)) {
			const char *v = colon + 1;

			n = len - (size_t)(v - tok);
			t->field = true;
			t->id = (uint8_t)id;
			if (group_field(id)->text) {
				if (!n || n >= GROUP_FILTER_WORD_MAX)
					return err_inval(err, errlen,
							 "\"%.*s\": a piece of text up to 63 bytes",
							 shown(len), tok);
				lower_copy(t->word, v, n);
			} else if (parse_range(v, n, &t->lo, &t->hi)) {
				return err_inval(err, errlen, "\"%.*s\": a number or a range N-M",
						 shown(len), tok);
			}
		} else {
			if (len >= GROUP_FILTER_WORD_MAX)
				return err_inval(err, errlen, "\"%.*s\" is too long", shown(len),
						 tok);
			lower_copy(t->word, tok, len);
		}
		out.nterms++;
	}
	*f = out;
	return 0;
}

static bool term_match(const struct group_term *t, enum flow_group_kind kind,
		       const struct group_field_ctx *c)
{
	static const enum group_field word_fields[] = {GROUP_FIELD_REMOTE,  GROUP_FIELD_LOCAL,
						       GROUP_FIELD_PORT,    GROUP_FIELD_TOP,
						       GROUP_FIELD_PROCESS, GROUP_FIELD_SERVICE};
	char buf[GROUP_CELL_SIZE];
	size_t i;

	if (t->field) {
		const struct group_field_desc *d = group_field((enum group_field)t->id);
		unsigned long long v;
		char *end;

		if (!(d->views & (1u << kind)))
			return false;
		if (d->text)
			return filter_contains_word(group_field_render((enum group_field)t->id, c,
								       FLOW_TARGET_SCREEN, buf,
								       sizeof(buf)),
						    t->word);
		/* the text stream's whole number: the screen writes bytes as 1.5M */
		group_field_render((enum group_field)t->id, c, FLOW_TARGET_TEXT, buf, sizeof(buf));
		if (!buf[0])
			return false;
		v = strtoull(buf, &end, 10); /* the whole part of "25.0", "1.234" */
		return v >= t->lo && v <= t->hi;
	}
	for (i = 0; i < sizeof(word_fields) / sizeof(word_fields[0]); i++) {
		if (!(group_field(word_fields[i])->views & (1u << kind)))
			continue;
		group_field_render(word_fields[i], c, FLOW_TARGET_SCREEN, buf, sizeof(buf));
		if (filter_contains_word(buf, t->word))
			return true;
	}
	return false;
}

bool group_filter_match(const struct group_view_filter *f, enum flow_group_kind kind,
			const struct group_field_ctx *c)
{
	size_t i;

	for (i = 0; f && i < f->nterms; i++)
		if (term_match(&f->terms[i], kind, c) == f->terms[i].negate)
			return false;
	return true;
}

/* --- layout ---------------------------------------------------------------------------- */

void group_layout_compute(enum flow_group_kind kind, int width, struct group_layout *out)
{
	enum group_field cols[GROUP_FIELD_COUNT];
	bool keep[GROUP_FIELD_COUNT];
	size_t n = group_fields_of(kind, cols), i, shown = n;
	int total = 0, spare, x = 0;
	bool grew = true;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++) {
		keep[i] = true;
		total += group_field(cols[i])->width + (i ? 1 : 0);
	}
	while (total > width && shown > 1) {
		size_t victim = n;

		for (i = 0; i < n; i++)
			if (keep[i] && (victim == n || group_field(cols[i])->keep <
							   group_field(cols[victim])->keep))
				victim = i;
		keep[victim] = false;
		total -= group_field(cols[victim])->width + 1;
		shown--;
	}
	for (i = 0; i < n; i++) {
		if (!keep[i])
			continue;
		out->col[out->n] = cols[i];
		out->width[out->n++] = group_field(cols[i])->width;
	}
	/* Spare width to the text columns (names, addresses), a cell at a time. */
	for (spare = width - total; spare > 0 && grew;) {
		grew = false;
		for (i = 0; i < out->n && spare > 0; i++) {
			if (group_field(out->col[i])->text &&
			    out->width[i] < group_field(out->col[i])->max_width) {
				out->width[i]++;
				spare--;
				grew = true;
			}
		}
	}
	for (i = 0; i < out->n; i++) {
		out->x[i] = x;
		x += out->width[i] + 1;
	}
}

int group_layout_hit(const struct group_layout *l, int x)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (x >= l->x[i] && x <= l->x[i] + l->width[i])
			return (int)i;
	return -1;
}

/* --- rows ------------------------------------------------------------------------------ */

#define TEXT_KEY 48

struct keyed {
	uint64_t key;
	const char *text;		 /* text sorts but the endpoints: the row's text */
	const struct flow_group_key *gk; /* endpoint sorts: the group's key */
	size_t row;
};

struct group_view {
	struct group_row *rows; /* owned: in display order after a rebuild */
	size_t n, cap;
	struct group_row *all;	 /* owned: scratch, every group */
	struct keyed *keyed;	 /* owned: scratch */
	char (*texts)[TEXT_KEY]; /* owned: scratch */
	size_t scratch_cap;
	struct group_row_cache *cache; /* owned: by group index */
	size_t cache_n;
	const struct flow_groups *cache_of; /* the groups the cache is for */
	size_t sel, top;
	uint32_t sel_index;
	bool following;
};

struct group_view *group_view_new(void)
{
	return calloc(1, sizeof(struct group_view));
}

void group_view_free(struct group_view *v)
{
	if (!v)
		return;
	free(v->rows);
	free(v->all);
	free(v->keyed);
	free(v->texts);
	free(v->cache);
	free(v);
}

static bool sort_desc_g;

/* Endpoints: names (any case) before addresses, addresses by family and value; `other` last. */
static int cmp_endpoint(const struct flow_group_key *a, const struct flow_group_key *b)
{
	size_t n;
	int r;

	if (!a || !b)
		return !a - !b;
	if (!a->name_len != !b->name_len)
		return a->name_len ? -1 : 1;
	if (a->name_len) {
		n = a->name_len < b->name_len ? a->name_len : b->name_len;
		r = strncasecmp(a->name, b->name, n);
		return r ? r : (a->name_len > b->name_len) - (a->name_len < b->name_len);
	}
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->addr, b->addr, 16);
}

static int cmp_keyed(const void *pa, const void *pb)
{
	const struct keyed *a = pa, *b = pb;
	int r;

	if (a->gk || b->gk)
		r = cmp_endpoint(a->gk, b->gk);
	else if (a->text)
		r = strcasecmp(a->text, b->text);
	else
		r = a->key < b->key ? -1 : a->key > b->key;
	if (!r)
		r = a->row < b->row ? -1 : a->row > b->row; /* rows are in group order */
	return sort_desc_g ? -r : r;
}

/*
 * Numbers: a stable LSD radix a byte a pass, skipping the bytes every key
 * shares (counts of a few thousand need two passes). Rows come in group
 * order, so equal keys stay in it ascending; descending sorts the inverted
 * keys of the rows fed backwards, which reverses the ties too, as
 * cmp_keyed's flipped result would. a holds 2n.
 */
static void radix_keyed(struct keyed *a, size_t n, bool desc)
{
	struct keyed *src = a, *dst = a + n, *tmp;
	uint64_t or = 0, and = UINT64_MAX;
	size_t count[256], i, sum, c;
	unsigned shift;

	if (desc) {
		for (i = 0; i < n / 2; i++) {
			tmp = &dst[0];
			*tmp = a[i];
			a[i] = a[n - 1 - i];
			a[n - 1 - i] = *tmp;
		}
	}
	for (i = 0; i < n; i++) {
		if (desc)
			a[i].key = ~a[i].key;
		or |= a[i].key;
		and &= a[i].key;
	}
	for (shift = 0; shift < 64; shift += 8) {
		if (!(((or ^and) >> shift) & 0xff))
			continue;
		memset(count, 0, sizeof(count));
		for (i = 0; i < n; i++)
			count[(src[i].key >> shift) & 0xff]++;
		for (i = 0, sum = 0; i < 256; i++) {
			c = count[i];
			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[count[(src[i].key >> shift) & 0xff]++] = src[i];
		tmp = src, src = dst, dst = tmp;
	}
	if (src != a)
		memcpy(a, src, n * sizeof(*a));
}

/* A text's first 8 bytes, lower case, big-endian: keys order as strcasecmp orders the texts. */
static uint64_t text_prefix(const char *s)
{
	uint64_t k = 0;
	size_t i;

	for (i = 0; i < 8; i++) {
		unsigned char c = (unsigned char)tolower((unsigned char)*s);

		k = k << 8 | c;
		s += c != 0;
	}
	return k;
}

/*
 * Texts (commands, services): the radix on their prefixes, then runs of an
 * equal prefix by the whole text, as cmp_keyed orders them. Commands mostly
 * differ in their first 8 bytes, so a frame of 10,000 groups compares few.
 */
static void sort_texts(struct keyed *a, size_t n, bool desc)
{
	size_t i, j;

	radix_keyed(a, n, desc);
	sort_desc_g = desc;
	for (i = 0; i < n; i = j) {
		bool same = true;

		for (j = i + 1; j < n && a[j].key == a[i].key; j++)
			same = same && !strcasecmp(a[j].text, a[j - 1].text);
		/* equal texts (a service's many commands) are in tie order already */
		if (!same)
			qsort(a + i, j - i, sizeof(*a), cmp_keyed);
	}
}

int group_view_rebuild(struct group_view *v, const struct flow_groups *g,
		       const struct group_view_filter *f, enum group_field sort, bool desc,
		       uint64_t now_ns)
{
	size_t count = flow_groups_count(g), i, n = 0;
	enum flow_group_kind kind = flow_groups_kind(g);
	const struct group_field_desc *d = group_field(sort);
	bool filtering = f && f->nterms;
	bool endpoint = sort == GROUP_FIELD_REMOTE || sort == GROUP_FIELD_LOCAL;
	bool packed = true; /* endpoints: every key an IPv4 address (or other), radix-sortable */

	if (!count) { /* no groups yet: nothing to allocate or sort */
		v->n = v->sel = v->top = 0;
		return 0;
	}
	if (count > v->scratch_cap) {
		struct group_row *all = realloc(v->all, count * sizeof(*all));
		struct keyed *k;
		char(*t)[TEXT_KEY];

		if (!all)
			return -ENOMEM;
		v->all = all;
		k = realloc(v->keyed, 2 * count * sizeof(*k)); /* the radix's two halves */
		if (!k)
			return -ENOMEM;
		v->keyed = k;
		t = realloc(v->texts, count * sizeof(*t));
		if (!t)
			return -ENOMEM;
		v->texts = t;
		all = realloc(v->rows, count * sizeof(*all));
		if (!all)
			return -ENOMEM;
		v->rows = all;
		v->scratch_cap = count;
	}
	if (v->cache_of != g || v->cache_n < count) {
		struct group_row_cache *c = realloc(v->cache, count * sizeof(*c));

		if (!c)
			return -ENOMEM;
		if (v->cache_of != g)
			v->cache_n = 0;
		memset(c + v->cache_n, 0, (count - v->cache_n) * sizeof(*c));
		v->cache = c;
		v->cache_n = count;
		v->cache_of = g;
	}
	for (i = 0; i < count; i++) {
		const struct flow_group *gr = flow_groups_at(g, i);
		struct group_row *r = &v->all[n];
		struct group_field_ctx c = {r, &gr->key};

		group_row_fill(r, (uint32_t)i, gr, now_ns, &v->cache[i]);
		if (filtering && !group_filter_match(f, kind, &c))
			continue;
		v->keyed[n].row = n;
		v->keyed[n].text = NULL;
		v->keyed[n].gk = NULL;
		if (endpoint) {
			const uint8_t *a = gr->key.addr;

			/* by key, not rendering: `other` (no key) sorts last */
			v->keyed[n].gk = gr->other ? NULL : &gr->key;
			packed =
			    packed && (gr->other || (!gr->key.name_len && gr->key.family == 4));
			v->keyed[n].key = gr->other ? UINT64_MAX
						    : (uint64_t)a[0] << 24 | (uint64_t)a[1] << 16 |
							  (uint64_t)a[2] << 8 | a[3];
		} else if (d->text) {
			group_field_render(sort, &c, FLOW_TARGET_SCREEN, v->texts[n], TEXT_KEY);
			v->keyed[n].text = v->texts[n];
			v->keyed[n].key = text_prefix(v->texts[n]);
		} else {
			v->keyed[n].key = d->number(&c);
		}
		n++;
	}
	if (!d->text || (endpoint && packed))
		radix_keyed(v->keyed, n, desc);
	else if (!endpoint)
		sort_texts(v->keyed, n, desc);
	else {
		sort_desc_g = desc;
		qsort(v->keyed, n, sizeof(*v->keyed), cmp_keyed);
	}
	for (i = 0; i < n; i++)
		v->rows[i] = v->all[v->keyed[i].row];
	v->n = n;
	if (v->following) {
		for (i = 0; i < n; i++) {
			if (v->rows[i].index == v->sel_index) {
				v->sel = i;
				return 0;
			}
		}
	}
	if (v->sel >= n)
		v->sel = n ? n - 1 : 0;
	if (v->following && n)
		v->sel_index = v->rows[v->sel].index;
	return 0;
}

size_t group_view_count(const struct group_view *v)
{
	return v->n;
}

const struct group_row *group_view_row(const struct group_view *v, size_t i)
{
	return i < v->n ? &v->rows[i] : NULL;
}

const struct flow_group_key *group_view_key(const struct group_view *v, const struct flow_groups *g,
					    size_t i)
{
	const struct flow_group *gr;

	if (i >= v->n || !(gr = flow_groups_at(g, v->rows[i].index)))
		return NULL;
	return &gr->key;
}

size_t group_view_selected(const struct group_view *v)
{
	return v->sel;
}

void group_view_select(struct group_view *v, size_t index)
{
	if (!v->n)
		return;
	v->sel = index >= v->n ? v->n - 1 : index;
	v->sel_index = v->rows[v->sel].index;
	v->following = true;
}

void group_view_move(struct group_view *v, long delta)
{
	long i = (long)v->sel + delta;

	group_view_select(v, i < 0 ? 0 : (size_t)i);
}

size_t group_view_scroll(struct group_view *v, size_t page_rows)
{
	return row_window_scroll(&v->top, v->sel, v->n, page_rows);
}

/* --- export ---------------------------------------------------------------------------- */

struct export_ctx {
	const struct group_view *v;
	const struct flow_groups *g;
};

static int export_body(FILE *out, void *ctx, size_t *rows)
{
	const struct export_ctx *e = ctx;
	enum flow_group_kind kind = flow_groups_kind(e->g);
	enum group_field ids[GROUP_FIELD_COUNT];
	size_t n = group_fields_of(kind, ids), i, k;
	char cell[GROUP_CELL_SIZE];
	int err;

	errno = 0;
	if (fputs("group_by", out) == EOF)
		return export_csv_write_error();
	for (k = 0; k < n; k++)
		if (fputc(',', out) == EOF || fputs(group_field(ids[k])->key, out) == EOF)
			return export_csv_write_error();
	if (fputs("\r\n", out) == EOF)
		return export_csv_write_error();
	for (i = 0; i < e->v->n; i++) {
		struct group_field_ctx c = {&e->v->rows[i], group_view_key(e->v, e->g, i)};

		if (!c.key)
			continue;
		if (fputs(group_kind_name(kind), out) == EOF)
			return export_csv_write_error();
		for (k = 0; k < n; k++) {
			group_field_render(ids[k], &c, FLOW_TARGET_EXPORT, cell, sizeof(cell));
			if (fputc(',', out) == EOF)
				return export_csv_write_error();
			err = export_csv_field(out, cell);
			if (err)
				return err;
		}
		if (fputs("\r\n", out) == EOF)
			return export_csv_write_error();
		(*rows)++;
	}
	return 0;
}

int group_view_export(const struct group_view *v, const struct flow_groups *g, const char *dir,
		      time_t now, char *path, size_t pathlen, size_t *written)
{
	struct export_ctx e = {v, g};

	return export_csv_write_with(dir, now, export_body, &e, path, pathlen, written);
}
