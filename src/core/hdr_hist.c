#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hdr_hist.h"

#define SUB (1u << HDR_HIST_SUB_BITS)

unsigned hdr_hist_bucket(uint64_t us)
{
	unsigned e;

	if (us > HDR_HIST_MAX_US)
		us = HDR_HIST_MAX_US;
	if (us < 2 * SUB)
		return (unsigned)us;
	e = 63u - (unsigned)__builtin_clzll(us); /* 2^e <= us < 2^(e+1), e > SUB_BITS */
	/* (e - SUB_BITS + 1) groups of SUB buckets come before; the top SUB_BITS+1 bits pick one.
	 */
	return (e - HDR_HIST_SUB_BITS + 1) * SUB + (unsigned)(us >> (e - HDR_HIST_SUB_BITS)) - SUB;
}

uint64_t hdr_hist_bucket_width(unsigned b)
{
	if (b < 2 * SUB)
		return 1;
	return 1ull << (b / SUB - 1);
}

uint64_t hdr_hist_bucket_lo(unsigned b)
{
	if (b < 2 * SUB)
		return b;
	return (uint64_t)(SUB + b % SUB) << (b / SUB - 1);
}

void hdr_hist_free(struct hdr_hist *h)
{
	free(h->counts);
	memset(h, 0, sizeof(*h));
}

/* Widens the window to hold buckets a..b (inclusive). */
static int cover(struct hdr_hist *h, unsigned a, unsigned b)
{
	unsigned lo = h->n ? (a < h->lo ? a : h->lo) : a;
	unsigned hi = h->n ? (b > h->lo + h->n - 1u ? b : h->lo + h->n - 1u) : b;
	uint32_t *c;

	if (h->n && lo == h->lo && hi == h->lo + h->n - 1u)
		return 0;
	c = calloc(hi - lo + 1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (h->n)
		memcpy(c + (h->lo - lo), h->counts, h->n * sizeof(*c));
	free(h->counts);
	h->counts = c;
	h->lo = (uint16_t)lo;
	h->n = (uint16_t)(hi - lo + 1);
	return 0;
}

int hdr_hist_add(struct hdr_hist *h, uint64_t us)
{
	unsigned b = hdr_hist_bucket(us);

	if ((!h->n || b < h->lo || b >= h->lo + h->n) && cover(h, b, b))
		return -ENOMEM;
	h->counts[b - h->lo]++;
	if (!h->total || us < h->min)
		h->min = us;
	if (!h->total || us > h->max)
		h->max = us;
	h->total++;
	return 0;
}

int hdr_hist_merge(struct hdr_hist *dst, const struct hdr_hist *src)
{
	unsigned i;

	if (!src->total)
		return 0;
	if (cover(dst, src->lo, src->lo + src->n - 1u))
		return -ENOMEM;
	for (i = 0; i < src->n; i++)
		dst->counts[src->lo + i - dst->lo] += src->counts[i];
	if (!dst->total || src->min < dst->min)
		dst->min = src->min;
	if (!dst->total || src->max > dst->max)
		dst->max = src->max;
	dst->total += src->total;
	return 0;
}

void hdr_hist_quantiles(const struct hdr_hist *h, const double *qs, size_t n, uint64_t *out)
{
	uint64_t cum = 0, rank, v;
	size_t k = 0;
	unsigned i = 0;
	double x;

	for (; k < n; k++) {
		if (!h->total) {
			out[k] = 0;
			continue;
		}
		x = qs[k] * (double)h->total;
		rank = (uint64_t)x;
		if ((double)rank < x)
			rank++; /* ceil, without libm */
		if (qs[k] <= 0 || rank < 1) {
			out[k] = h->min;
			continue;
		}
		if (rank >= h->total) {
			out[k] = h->max;
			continue;
		}
		/* cum counts buckets before i; the walk resumes where the last quantile stopped. */
		while (i < h->n && cum + h->counts[i] < rank)
			cum += h->counts[i++];
		if (i == h->n) {
			out[k] = h->max;
			continue;
		}
		/* The middle of the bucket holding the value of that rank, kept inside [min, max].
		 */
		v = hdr_hist_bucket_lo(h->lo + i) + hdr_hist_bucket_width(h->lo + i) / 2;
		out[k] = v < h->min ? h->min : v > h->max ? h->max : v;
	}
}

uint64_t hdr_hist_quantile(const struct hdr_hist *h, double q)
{
	uint64_t v;

	hdr_hist_quantiles(h, &q, 1, &v);
	return v;
}
