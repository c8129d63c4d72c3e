/*
 * The handshake histogram against exact percentiles (nearest rank) of known
 * data: every bucket is at most 1/32 of its lower bound wide, so a reported
 * percentile is within 1/64 of the exact one (exact below 64); merging two
 * histograms equals one histogram of both data sets.
 */
#include <stdint.h>
#include <stdlib.h>

#include "hdr_hist.h"
#include "t.h"

#define N 20000

static uint64_t rng = 88172645463325252ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The exact nearest-rank q-quantile of sorted v[0..n). */
static uint64_t exact(const uint64_t *v, size_t n, double q)
{
	double x = q * (double)n;
	size_t rank = (size_t)x;

	if ((double)rank < x)
		rank++;
	return v[(rank ? rank : 1) - 1];
}

static void check_data(const char *what, uint64_t *v, size_t n)
{
	static const double qs[] = {0.001, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0};
	struct hdr_hist h = {0};
	char name[160];
	size_t i;

	for (i = 0; i < n; i++)
		CHECK(!hdr_hist_add(&h, v[i]), "add");
	qsort(v, n, sizeof(*v), cmp_u64);
	CHECK_EQ(h.total, n, "total");
	CHECK_EQ(h.min, v[0], "exact min");
	CHECK_EQ(h.max, v[n - 1], "exact max");
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		uint64_t e = exact(v, n, qs[i]), got = hdr_hist_quantile(&h, qs[i]);
		uint64_t err = got > e ? got - e : e - got;

		snprintf(name, sizeof(name), "%s: q %.3f got %llu exact %llu (error <= exact/64)",
			 what, qs[i], (unsigned long long)got, (unsigned long long)e);
		CHECK(err * 64 <= e, name);
		if (e < 64) {
			snprintf(name, sizeof(name), "%s: q %.3f exact below 64", what, qs[i]);
			CHECK_EQ(got, e, name);
		}
	}
	CHECK(h.n <= HDR_HIST_BUCKETS, "bounded buckets");
	hdr_hist_free(&h);
}

int main(void)
{
	static uint64_t v[N], a[N / 2], b[N / 2];
	struct hdr_hist ha = {0}, hb = {0}, hall = {0};
	unsigned bk;
	size_t i;
	uint64_t x;

	/* The buckets tile the range and are at most 1/32 of their start wide. */
	for (bk = 0; bk < HDR_HIST_BUCKETS; bk++) {
		uint64_t lo = hdr_hist_bucket_lo(bk), w = hdr_hist_bucket_width(bk);

		CHECK_EQ(hdr_hist_bucket(lo), bk, "a bucket's start is in it");
		CHECK_EQ(hdr_hist_bucket(lo + w - 1), bk, "a bucket's end is in it");
		if (bk + 1 < HDR_HIST_BUCKETS)
			CHECK_EQ(hdr_hist_bucket_lo(bk + 1), lo + w, "buckets tile");
		CHECK(w == 1 || w * 32 <= lo, "width <= start / 32");
	}
	CHECK_EQ(hdr_hist_bucket(HDR_HIST_MAX_US * 4), HDR_HIST_BUCKETS - 1, "clamped");

	for (i = 0; i < N; i++)
		v[i] = next() % 1000000; /* uniform up to 1 s */
	check_data("uniform", v, N);
	for (i = 0; i < N; i++)
		v[i] = (uint64_t)1 << (next() % 26) | (next() & 0xffff) % ((uint64_t)1 << 20);
	check_data("log-spread", v, N);
	for (i = 0; i < N; i++)
		v[i] = next() % 50; /* below 64: exact */
	check_data("small", v, N);
	for (i = 0; i < N; i++)
		v[i] = i % 100 == 99 ? 3000000 : 80 + next() % 40; /* a slow tail */
	check_data("tail", v, N);
	v[0] = 12345;
	check_data("one value", v, 1);

	/* Merge: the quantiles of two merged halves are those of one histogram of all. */
	for (i = 0; i < N / 2; i++) {
		a[i] = 100 + next() % 5000;
		b[i] = 20000 + next() % 900000;
		hdr_hist_add(&ha, a[i]);
		hdr_hist_add(&hb, b[i]);
		hdr_hist_add(&hall, a[i]);
		hdr_hist_add(&hall, b[i]);
	}
	CHECK(!hdr_hist_merge(&ha, &hb), "merge");
	CHECK_EQ(ha.total, hall.total, "merged total");
	CHECK_EQ(ha.min, hall.min, "merged min");
	CHECK_EQ(ha.max, hall.max, "merged max");
	for (x = 1; x <= 100; x++)
		CHECK_EQ(hdr_hist_quantile(&ha, (double)x / 100),
			 hdr_hist_quantile(&hall, (double)x / 100), "merged quantile");
	hdr_hist_free(&ha);
	hdr_hist_free(&hb);
	hdr_hist_free(&hall);
	CHECK_EQ(hdr_hist_quantile(&ha, 0.5), 0, "empty");
	return t_done();
}
