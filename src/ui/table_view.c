/*
 * Rows are kept as flow ids, never pointers: the flow table may evict or
 * reuse a slot between a rebuild and a draw, and flow_table_by_id answers
 * NULL for a flow that is gone.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "err_msg.h"
#include "names_memo.h"
#include "row_window.h"
#include "table_view.h"

/* Rows ahead a loop asks the memo to fetch an address's slot. */
#define PREFETCH_AHEAD 8

#define ADDR_V4_WIDTH 15
#define NAMES_SOFT_WIDTH 24

static const struct flow_field_desc *col(enum flow_field c)
{
	return flow_field(c);
}

int table_column_parse(const char *name, enum flow_field *out)
{
	enum flow_field c;

	if (flow_field_parse(name, &c) || !(col(c)->flags & FLOW_FIELD_ON_ANY_SCREEN))
		return -EINVAL;
	*out = c;
	return 0;
}

int table_columns_parse(const char *list, enum flow_field *cols, size_t *n, char *err,
			size_t errlen)
{
	bool seen[FLOW_FIELD_COUNT] = {false};
	const char *p = list;
	size_t k = 0;
	char name[32], all[160];

	while (*p) {
		size_t len = strcspn(p, ", ");
		enum flow_field c;

		if (len == 0) {
			p++;
			continue;
		}
		if (len >= sizeof(name) || (snprintf(name, sizeof(name), "%.*s", (int)len, p),
					    table_column_parse(name, &c)))
			return err_inval(
			    err, errlen, "unknown column \"%.*s\" (columns: %s)",
			    (int)(len > 32 ? 32 : len), p,
			    flow_fields_names(FLOW_FIELD_ON_ANY_SCREEN, ",", all, sizeof(all)));
		if (seen[c])
			return err_inval(err, errlen, "column \"%s\" given twice", col(c)->name);
		seen[c] = true;
		cols[k++] = c;
		p += len;
	}
	if (!k)
		return err_inval(err, errlen, "no columns given (e.g. -o time,dir,src,dst,dport)");
	*n = k;
	return 0;
}

size_t table_columns_default(enum flow_field *cols)
{
	return flow_fields_with(FLOW_FIELD_ON_SCREEN, cols);
}

static bool is_addr(enum flow_field c)
{
	return col(c)->kind == FLOW_KIND_ADDRESS;
}

/* Grows the columns that pass `want` towards target, a cell at a time, round robin. */
static int grow(struct table_layout *l, int spare, bool (*want)(enum flow_field), int target)
{
	bool grew = true;
	size_t i;

	while (spare > 0 && grew) {
		grew = false;
		for (i = 0; i < l->n && spare > 0; i++) {
			int cap =
			    target < col(l->col[i])->max_width ? target : col(l->col[i])->max_width;

			if (want(l->col[i]) && l->width[i] < cap) {
				l->width[i]++;
				spare--;
				grew = true;
			}
		}
	}
	return spare;
}

static bool want_names(enum flow_field c)
{
	return col(c)->names;
}

static bool want_owner(enum flow_field c)
{
	return col(c)->owner;
}

/* The state and end words: "established" and "reset-by-local" whole when there is room. */
static bool want_words(enum flow_field c)
{
	return c == FLOW_FIELD_STATE || c == FLOW_FIELD_END;
}

void table_layout_compute(const enum flow_field *cols, size_t n, int width,
			  struct table_layout *out)
{
	bool keep[TABLE_COL_COUNT];
	int total = 0, spare, x = 0;
	size_t i, shown = n;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++) {
		keep[i] = true;
		total += col(cols[i])->min_width + (i ? 1 : 0);
	}
	/* Drop the least important column until the rest fit; one always stays. */
	while (total > width && shown > 1) {
		size_t victim = n;

		for (i = 0; i < n; i++) {
			if (keep[i] &&
			    (victim == n || col(cols[i])->keep < col(cols[victim])->keep))
				victim = i;
		}
		keep[victim] = false;
		total -= col(cols[victim])->min_width + 1;
		shown--;
		out->dropped++;
	}
	for (i = 0; i < n; i++) {
		if (!keep[i])
			continue;
		out->col[out->n] = cols[i];
		out->width[out->n] = col(cols[i])->min_width;
		out->n++;
	}
	spare = width - total;
	spare = grow(out, spare, is_addr, ADDR_V4_WIDTH);
	spare = grow(out, spare, want_names, NAMES_SOFT_WIDTH);
	spare = grow(out, spare, want_words, 1000);
	/* A whole command name and "docker:<12 hex>" before IPv6 addresses and long names. */
	spare = grow(out, spare, want_owner, 1000);
	spare = grow(out, spare, is_addr, 39);
	grow(out, spare, want_names, 1000);
	for (i = 0; i < out->n; i++) {
		out->x[i] = x;
		x += out->width[i] + 1;
	}
}

int table_layout_hit(const struct table_layout *l, int x)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (x >= l->x[i] && x <= l->x[i] + l->width[i])
			return (int)i;
	}
	return -1;
}
const char *table_cell_text(enum flow_field c, const struct tft_flow *f,
			    const struct names_provider *names, char *buf, size_t size)
{
	struct flow_field_ctx ctx = {f, TFT_CHANGE_NONE, f->syn_ns, names};

	return flow_field_render(c, &ctx, FLOW_TARGET_SCREEN, buf, size);
}

void table_fit(const char *text, int width, bool right, bool utf8, char *out, size_t size)
{
	static const char bad_utf8[] = "\xef\xbf\xbd", mark_utf8[] = "\xe2\x80\xa6";
	size_t len = strlen(text), o = 0, i, show;
	int pad;

	if (!size)
		return;
	if (width < 0)
		width = 0;
	show = len;
	if (len > (size_t)width)
		show = width ? (size_t)width - 1 : 0;
	pad = width - (int)(len > (size_t)width ? (size_t)width : len);
#define PUT(s, n)                                                                                  \
	do {                                                                                       \
		if (o + (n) < size) {                                                              \
			memcpy(out + o, (s), (n));                                                 \
			o += (n);                                                                  \
		}                                                                                  \
	} while (0)
	if (right)
		for (; pad > 0; pad--)
			PUT(" ", 1);
	for (i = 0; i < show; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (ch >= 0x20 && ch < 0x7f)
			PUT(&text[i], 1);
		else if (utf8)
			PUT(bad_utf8, 3);
		else
			PUT("?", 1);
	}
	if (len > (size_t)width && width > 0) {
		if (utf8)
			PUT(mark_utf8, 3);
		else
			PUT("~", 1);
	}
	for (; pad > 0; pad--)
		PUT(" ", 1);
#undef PUT
	out[o] = '\0';
}

#define CMP(a, b) ((a) < (b) ? -1 : (a) > (b) ? 1 : 0)

static int cmp_addr(const struct tft_flow *a, const struct tft_flow *b, bool src)
{
	int r = CMP(a->key.family, b->key.family);

	if (r)
		return r;
	return memcmp(src ? a->key.saddr : a->key.daddr, src ? b->key.saddr : b->key.daddr, 16);
}

/* Rows without names sort after named ones in ascending order. */
static int cmp_names_text(const char *na, const char *nb)
{
	if (!na[0] || !nb[0])
		return CMP(!na[0], !nb[0]);
	return strcasecmp(na, nb);
}

static int cmp_names(const struct tft_flow *a, const struct tft_flow *b, bool src,
		     const struct names_provider *names)
{
	static char na[NAMES_MEMO_TEXT_MAX], nb[NAMES_MEMO_TEXT_MAX];
	struct names_list l;

	names_provider_lookup(names, a->key.family, src ? a->key.saddr : a->key.daddr, &l);
	flow_names_text(&l, ",", 0, na, sizeof(na));
	names_provider_lookup(names, b->key.family, src ? b->key.saddr : b->key.daddr, &l);
	flow_names_text(&l, ",", 0, nb, sizeof(nb));
	return cmp_names_text(na, nb);
}

static bool is_src(enum flow_field c)
{
	return c == FLOW_FIELD_SRC || c == FLOW_FIELD_SNAMES;
}

int table_compare(const struct tft_flow *a, const struct tft_flow *b, enum flow_field c, bool desc,
		  const struct names_provider *names)
{
	const struct flow_field_desc *d = col(c);
	uint64_t ka, kb;
	int r = 0;

	if (d && d->kind == FLOW_KIND_ADDRESS)
		r = cmp_addr(a, b, is_src(c));
	else if (d && d->kind == FLOW_KIND_NAMES)
		r = cmp_names(a, b, is_src(c), names);
	else if (d && d->text_key) {
		uint64_t x[3], y[3];

		d->text_key(a, x);
		d->text_key(b, y);
		r = x[0] != y[0]   ? CMP(x[0], y[0])
		    : x[1] != y[1] ? CMP(x[1], y[1])
				   : CMP(x[2], y[2]);
	} else if (d && d->number) {
		d->number(a, &ka);
		d->number(b, &kb);
		r = CMP(ka, kb);
	}
	if (!r)
		r = CMP(a->id, b->id);
	return desc ? -r : r;
}

/* A row's sort key: three words, most significant first, each compared unsigned. */
struct keyed_row {
	uint64_t k[3];
	const struct tft_flow *flow;
};

struct table_view {
	uint64_t *ids; /* owned: the rows, in display order */
	size_t n, cap;
	size_t sel;	 /* selected row index */
	uint64_t sel_id; /* the flow the selection follows, once the user moved it */
	bool following;
	size_t top;		       /* first row drawn */
	struct names_memo *memo;       /* each address's names, asked once per rebuild */
	struct keyed_row *keyed;       /* the sort's two arrays of keys, kept between rebuilds */
	size_t keyed_cap;	       /* rows each array holds */
	uint64_t *packed;	       /* the narrow sort's two arrays of packed keys */
	const struct tft_flow **order; /* the narrow sort's rows in input order */
	uint64_t *in_ids;	       /* and their ids */
	size_t packed_cap;	       /* rows each of those holds */
	uint32_t *buckets;	       /* the counting sort's positions */
	const struct tft_flow **rows;  /* a rebuild's matching rows (flows borrowed) */
	size_t rows_cap;
	uint64_t *ranks;      /* each memo entry's names rank, while the memo keeps its entries */
	size_t ranks_n;	      /* entries ranked */
	uint64_t ranks_epoch; /* the memo's epoch when they were */
};

struct table_view *table_view_new(void)
{
	struct table_view *v = calloc(1, sizeof(struct table_view));

	if (v && !(v->memo = names_memo_new())) {
		free(v);
		return NULL;
	}
	return v;
}

void table_view_free(struct table_view *v)
{
	if (!v)
		return;
	names_memo_free(v->memo);
	free(v->keyed);
	free(v->packed);
	free(v->order);
	free(v->in_ids);
	free(v->rows);
	free(v->ranks);
	free(v->buckets);
	free(v->ids);
	free(v);
}

struct sort_ctx {
	enum flow_field col;
	bool desc;
	const struct names_provider *names;
	struct names_memo *memo;
	struct table_view *view;
};

static int sort_cb(const void *pa, const void *pb, void *arg)
{
	const struct sort_ctx *s = arg;

	return table_compare(*(const struct tft_flow *const *)pa,
			     *(const struct tft_flow *const *)pb, s->col, s->desc, s->names);
}

static uint64_t load_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* A distinct names text and its memo index, as names_ranks sorts them. */
struct ranked_text {
	const char *text;
	size_t index;
};

static int cmp_ranked_text(const void *pa, const void *pb)
{
	return cmp_names_text(((const struct ranked_text *)pa)->text,
			      ((const struct ranked_text *)pb)->text);
}

/*
 * The rank of each distinct names text in the memo, in cmp_names order:
 * texts equal but for ASCII case share a rank, no names ranks last. Ranks
 * stay below the count of texts, so they pack into the narrow sort.
 * NULL when memory is short.
 */
static uint64_t *names_ranks(const struct names_memo *m)
{
	size_t u = names_memo_count(m), i;
	struct ranked_text *order = malloc((u ? u : 1) * sizeof(*order));
	uint64_t *rank = malloc((u ? u : 1) * sizeof(*rank)), r = 0;

	if (!order || !rank) {
		free(order);
		free(rank);
		return NULL;
	}
	for (i = 0; i < u; i++)
		order[i] = (struct ranked_text){names_memo_text(m, i), i};
	qsort(order, u, sizeof(*order), cmp_ranked_text);
	for (i = 0; i < u; i++) {
		if (i && cmp_ranked_text(&order[i - 1], &order[i]))
			r++;
		rank[order[i].index] = r; /* no names sorts last, so it ranks last */
	}
	free(order);
	return rank;
}

/*
 * The names ranks of the memo's entries, kept by the view while the memo
 * keeps its entries (a sort after a key press ranks nothing). Borrowed
 * until the next call; NULL when memory is short.
 */
static const uint64_t *view_ranks(const struct sort_ctx *s)
{
	struct table_view *v = s->view;
	uint64_t epoch = names_memo_epoch(s->memo);
	size_t n = names_memo_count(s->memo);

	if (v->ranks && v->ranks_epoch == epoch && v->ranks_n == n)
		return v->ranks;
	free(v->ranks);
	v->ranks = names_ranks(s->memo);
	v->ranks_epoch = epoch;
	v->ranks_n = n;
	return v->ranks;
}

/*
 * Every row's key for the sort column: numbers as they are, addresses as
 * family then 16 bytes, names as the rank of their text. False when memory
 * is short.
 */
static bool fill_keys(struct keyed_row *a, size_t n, const struct sort_ctx *s)
{
	const struct flow_field_desc *d = col(s->col);
	bool src = is_src(s->col);
	const uint64_t *rank;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct tft_flow *f = a[i].flow;
		const uint8_t *addr = src ? f->key.saddr : f->key.daddr;
		long idx;

		a[i].k[0] = a[i].k[1] = a[i].k[2] = 0;
		switch (d->kind) {
		case FLOW_KIND_ADDRESS:
			a[i].k[0] = f->key.family;
			a[i].k[1] = load_be64(addr);
			a[i].k[2] = load_be64(addr + 8);
			break;
		case FLOW_KIND_NAMES:
			idx = names_memo_flow_index(s->memo, f, src);
			if (idx < 0)
				return false;
			a[i].k[2] = (uint64_t)idx; /* the rank replaces it below */
			break;
		default:
			if (d->text_key) {
				d->text_key(f, a[i].k);
				break;
			}
			if (!d->number)
				return false;
			d->number(f, &a[i].k[2]);
		}
	}
	if (d->kind != FLOW_KIND_NAMES)
		return true;
	rank = view_ranks(s);
	if (!rank)
		return false;
	for (i = 0; i < n; i++)
		a[i].k[2] = rank[a[i].k[2]];
	return true;
}

static bool keys_ascending(const struct keyed_row *a, size_t n)
{
	size_t i;
	int w;

	for (i = 1; i < n; i++) {
		for (w = 0; w < 3 && a[i - 1].k[w] == a[i].k[w]; w++)
			;
		if (w < 3 && a[i - 1].k[w] > a[i].k[w])
			return false;
	}
	return true;
}

/*
 * Sorts by key with a stable LSD radix, a byte a pass, skipping the bytes
 * every key shares (a port needs two passes, an IPv4 address four).
 * Rows arrive in id order, so equal keys keep it: oldest first ascending,
 * and, fed backwards with inverted keys, newest first descending, as
 * table_compare orders them. False when memory is short.
 */
static bool sort_by_keys(struct table_view *v, const struct tft_flow **rows, size_t n,
			 const struct sort_ctx *s)
{
	uint64_t flip = s->desc ? UINT64_MAX : 0, or [3] = {0, 0, 0}, and[3];
	struct keyed_row *a, *b, *tmp;
	size_t i, count[256];
	unsigned shift;
	int w;

	if (n > v->keyed_cap) {
		a = realloc(v->keyed, 2 * n * sizeof(*a));
		if (!a)
			return false;
		v->keyed = a;
		v->keyed_cap = n;
	}
	a = v->keyed;
	b = a + n;
	for (i = 0; i < n; i++)
		a[i].flow = rows[s->desc ? n - 1 - i : i];
	if (!fill_keys(a, n, s))
		return false;
	and[0] = and[1] = and[2] = UINT64_MAX;
	for (i = 0; i < n; i++) {
		for (w = 0; w < 3; w++) {
			a[i].k[w] ^= flip;
			or [w] |= a[i].k[w];
			and[w] &= a[i].k[w];
		}
	}
	if (!keys_ascending(a, n)) {
		for (w = 2; w >= 0; w--) {
			for (shift = 0; shift < 64; shift += 8) {
				size_t sum = 0, c;

				if (!(((or [w] ^ and[w]) >> shift) & 0xff))
					continue; /* every key has this byte: the pass would change
						     nothing */
				memset(count, 0, sizeof(count));
				for (i = 0; i < n; i++)
					count[(a[i].k[w] >> shift) & 0xff]++;
				for (i = 0; i < 256; i++) {
					c = count[i];
					count[i] = sum;
					sum += c;
				}
				for (i = 0; i < n; i++)
					b[count[(a[i].k[w] >> shift) & 0xff]++] = a[i];
				tmp = a, a = b, b = tmp;
			}
		}
	}
	for (i = 0; i < n; i++)
		rows[i] = a[i].flow;
	return true;
}

/*
 * The table holds flows in arrival order, so the default view (newest
 * first) and any sort by time come in order or exactly reversed: one pass
 * over the rows tells, before keys are built, and reverses them in the
 * second case. Ties never occur (the comparator ends on the id). Not for
 * names: comparing them is what the keys avoid.
 */
static bool presorted(const struct tft_flow **rows, size_t n, const struct sort_ctx *s)
{
	bool ascending = true, descending = true;
	size_t i;

	if (col(s->col)->kind == FLOW_KIND_NAMES)
		return false;
	for (i = 1; i < n && (ascending || descending); i++) {
		int c = sort_cb(&rows[i - 1], &rows[i], (void *)s);

		ascending = ascending && c <= 0;
		descending = descending && c >= 0;
	}
	if (!ascending && descending) {
		for (i = 0; i < n / 2; i++) {
			const struct tft_flow *tmp = rows[i];

			rows[i] = rows[n - 1 - i];
			rows[n - 1 - i] = tmp;
		}
	}
	return ascending || descending;
}

/* Grows the narrow sort's buffers to n rows. False when memory is short. */
static bool narrow_room(struct table_view *v, size_t n)
{
	uint64_t *p;
	const struct tft_flow **o;

	if (n <= v->packed_cap)
		return true;
	p = realloc(v->packed, 2 * n * sizeof(*p));
	if (!p)
		return false;
	v->packed = p;
	o = realloc(v->order, n * sizeof(*o));
	if (!o)
		return false;
	v->order = o;
	p = realloc(v->in_ids, n * sizeof(*p));
	if (!p)
		return false;
	v->in_ids = p;
	v->packed_cap = n;
	return true;
}

/* Keys spanning at most this many bits are placed by one counting pass. */
#define NARROW_COUNT_BITS 16

/*
 * A counting sort of the keys in p (bits wide from bit lo, see
 * sort_narrow): one pass counts, one pass writes each row's id straight
 * to its place. Stable. False when memory is short.
 */
static bool count_sort(struct table_view *v, const uint64_t *p, size_t n, int lo, int bits,
		       uint64_t *ids)
{
	size_t buckets = (size_t)1 << bits, i;
	uint32_t *pos, sum = 0, c;

	if (!v->buckets &&
	    !(v->buckets = malloc(((size_t)1 << NARROW_COUNT_BITS) * sizeof(*v->buckets))))
		return false;
	pos = v->buckets;
	memset(pos, 0, buckets * sizeof(*pos));
	for (i = 0; i < n; i++)
		pos[(p[i] >> lo) & (buckets - 1)]++;
	for (i = 0; i < buckets; i++) {
		c = pos[i];
		pos[i] = sum;
		sum += c;
	}
	for (i = 0; i < n; i++)
		ids[pos[(p[i] >> lo) & (buckets - 1)]++] = v->in_ids[i];
	return true;
}

/*
 * The common case, without the wide keys: a number, an IPv4 address (in a
 * table of IPv4 flows only) or a names rank whose values differ within 32
 * bits (a port, a state, an address, a rank). Each row packs
 * into one word, those bits above its input position, and a radix over
 * just those bytes moves 8 bytes a row, with one counting pass for every
 * digit. Stable, and fed backwards with inverted keys for descending, as
 * sort_by_keys. False when the keys do not fit (the caller sorts the wide
 * keys) or memory is short.
 */
static bool sort_narrow(struct table_view *v, const struct tft_flow **rows, size_t n,
			const struct sort_ctx *s, uint64_t *ids)
{
	const struct flow_field_desc *d = col(s->col);
	uint64_t flip = s->desc ? UINT64_MAX : 0, or = 0, and = UINT64_MAX, diff, *p, *q, *tmp;
	size_t count[4][256], i, k;
	const uint64_t *rank = NULL;
	int lo, hi;

	if ((d->kind != FLOW_KIND_NAMES && d->kind != FLOW_KIND_ADDRESS && !d->number) ||
	    d->text_key || /* 24 bytes of text: the wide keys */
	    n > UINT32_MAX || !narrow_room(v, n))
		return false;
	p = v->packed;
	q = p + n;
	/*
	 * One pass over the flows (megabytes, never all in cache) reads each
	 * row's id and key: names as the memo's index, ranked below.
	 */
	for (i = 0; i < n; i++) {
		const struct tft_flow *f = rows[s->desc ? n - 1 - i : i];
		const uint8_t *a = is_src(s->col) ? f->key.saddr : f->key.daddr;
		long idx;

		v->order[i] = f;
		v->in_ids[i] = f->id;
		switch (d->kind) {
		case FLOW_KIND_NAMES:
			if (i + PREFETCH_AHEAD < n) {
				const struct tft_flow *ahead =
				    rows[s->desc ? n - 1 - i - PREFETCH_AHEAD : i + PREFETCH_AHEAD];

				names_memo_flow_prefetch(s->memo, ahead, is_src(s->col));
			}
			idx = names_memo_flow_index(s->memo, f, is_src(s->col));
			if (idx < 0)
				return false;
			p[i] = (uint64_t)idx;
			break;
		case FLOW_KIND_ADDRESS:
			if (f->key.family != 4)
				return false; /* IPv6 needs the wide keys */
			p[i] = (uint64_t)a[0] << 24 | (uint64_t)a[1] << 16 | (uint64_t)a[2] << 8 |
			       a[3];
			break;
		default:
			d->number(f, &p[i]);
		}
	}
	if (d->kind == FLOW_KIND_NAMES) {
		rank = view_ranks(s);
		if (!rank)
			return false;
	}
	for (i = 0; i < n; i++) {
		uint64_t key = rank ? rank[p[i]] : p[i];

		key ^= flip;
		p[i] = key;
		or |= key;
		and &= key;
	}
	diff = or ^and;
	if (!diff)
		goto gather_in_order;
	lo = __builtin_ctzll(diff);
	hi = 63 - __builtin_clzll(diff);
	if (hi - lo >= 32)
		return false;
	if (hi - lo < NARROW_COUNT_BITS)
		return count_sort(v, p, n, lo, hi - lo + 1, ids);
	memset(count, 0, sizeof(count));
	for (i = 0; i < n; i++) {
		uint64_t x = ((p[i] >> lo) & 0xffffffffu) << 32 | i;

		p[i] = x;
		for (k = 0; k < 4; k++)
			count[k][(x >> (32 + 8 * k)) & 0xff]++;
	}
	diff = (diff >> lo) << 32;
	for (k = 0; k < 4; k++) {
		unsigned shift = (unsigned)(32 + 8 * k);
		size_t sum = 0, c;

		if (!((diff >> shift) & 0xff))
			continue; /* every key has this byte: the pass would change nothing */
		for (i = 0; i < 256; i++) {
			c = count[k][i];
			count[k][i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			q[count[k][(p[i] >> shift) & 0xff]++] = p[i];
		tmp = p, p = q, q = tmp;
	}
	for (i = 0; i < n; i++)
		ids[i] = v->in_ids[p[i] & 0xffffffffu];
	return true;
gather_in_order:
	memcpy(ids, v->in_ids, n * sizeof(*ids));
	return true;
}

/* Sorts rows and writes their ids, in order, to ids (room for n). */
static void sort_rows(struct table_view *v, const struct tft_flow **rows, size_t n,
		      struct sort_ctx *s, uint64_t *ids)
{
	size_t i;

	if (n < 2 || presorted(rows, n, s))
		goto ids;
	if (sort_narrow(v, rows, n, s, ids))
		return;
	if (!sort_by_keys(v, rows, n, s))
		qsort_r(rows, n, sizeof(*rows), sort_cb, s);
ids:
	for (i = 0; i < n; i++)
		ids[i] = rows[i]->id;
}

int table_view_rebuild(struct table_view *v, const struct flow_table *t, const struct filter *f,
		       const struct names_provider *names, enum flow_field sort, bool desc,
		       uint64_t max_id)
{
	size_t count = flow_table_count(t), slots = flow_table_slots(t), i, n = 0;
	struct names_provider memo_names;
	struct sort_ctx s = {sort, desc, &memo_names, v->memo, v};
	const struct tft_flow **rows;
	bool words = f && f->nterms; /* the filter may ask the memo every row */

	/* Kept between rebuilds: a fresh 800 KB a frame costs its page faults every frame. */
	if (count > v->rows_cap) {
		rows = realloc(v->rows, count * sizeof(*rows));
		if (!rows)
			return -ENOMEM;
		v->rows = rows;
		v->rows_cap = count;
	}
	rows = v->rows;
	/* Names change between rebuilds (answers, expiry): ask afresh, once per address. */
	names_memo_reset(v->memo, names);
	memo_names = names_memo_provider(v->memo);
	for (i = 0; i < slots; i++) {
		const struct tft_flow *fl = flow_table_slot(t, i);

		if (words && i + PREFETCH_AHEAD < slots) {
			const struct tft_flow *ahead = flow_table_slot(t, i + PREFETCH_AHEAD);

			if (ahead) {
				names_memo_flow_prefetch(v->memo, ahead, true);
				names_memo_flow_prefetch(v->memo, ahead, false);
			}
		}
		if (!fl || fl->id > max_id)
			continue;
		if (f && !filter_match_memo(f, fl, v->memo))
			continue;
		rows[n++] = fl;
	}
	if (n > v->cap) {
		uint64_t *ids = realloc(v->ids, n * sizeof(*ids));

		if (!ids)
			return -ENOMEM;
		v->ids = ids;
		v->cap = n;
	}
	sort_rows(v, rows, n, &s, v->ids);
	v->n = n;

	if (v->following) {
		for (i = 0; i < n; i++) {
			if (v->ids[i] == v->sel_id) {
				v->sel = i;
				return 0;
			}
		}
		/* Its flow left the view (filtered, cleared, evicted): stay at the same place. */
	}
	if (v->sel >= n)
		v->sel = n ? n - 1 : 0;
	if (v->following)
		v->sel_id = n ? v->ids[v->sel] : 0;
	return 0;
}

size_t table_view_count(const struct table_view *v)
{
	return v->n;
}

uint64_t table_view_id_at(const struct table_view *v, size_t i)
{
	return i < v->n ? v->ids[i] : 0;
}

size_t table_view_selected(const struct table_view *v)
{
	return v->sel;
}

uint64_t table_view_selected_id(const struct table_view *v)
{
	return v->n ? v->ids[v->sel] : 0;
}

void table_view_select(struct table_view *v, size_t index)
{
	if (!v->n)
		return;
	v->sel = index >= v->n ? v->n - 1 : index;
	v->sel_id = v->ids[v->sel];
	v->following = true;
}

void table_view_move(struct table_view *v, long delta)
{
	long i = (long)v->sel + delta;

	if (i < 0)
		i = 0;
	table_view_select(v, (size_t)i);
}

size_t table_view_scroll(struct table_view *v, size_t page_rows)
{
	return row_window_scroll(&v->top, v->sel, v->n, page_rows);
}
