/*
 * A small log-bucketed histogram (HDR-style) for handshake times in
 * microseconds: bounded, mergeable, O(1) to add to.
 *
 * Values below 64 have a bucket each. Above, every power of two is split
 * into 32 buckets, so a bucket is at most 1/32 of its lower bound wide and
 * a percentile, reported as its bucket's middle (kept within the exact
 * minimum and maximum), is within 1/64 (1.6 %) of the exact percentile
 * (nearest rank) of the values added, or exact below 64 µs. Values from
 * HDR_HIST_MAX_US (about 134 s) up share the last bucket; the maximum is
 * kept exactly.
 *
 * Counts live in a window of the buckets actually used, grown on demand:
 * a service whose handshakes span a few octaves costs a few hundred bytes,
 * and none more than HDR_HIST_BUCKETS counters.
 */
#ifndef TFT_HDR_HIST_H
#define TFT_HDR_HIST_H

#include <stddef.h>
#include <stdint.h>

#define HDR_HIST_SUB_BITS 5
#define HDR_HIST_MAX_US ((1ull << 27) - 1)
#define HDR_HIST_BUCKETS (23 * (1u << HDR_HIST_SUB_BITS))

struct hdr_hist {
	uint32_t *counts; /* owned: buckets lo .. lo + n - 1 */
	uint16_t lo, n;
	uint64_t total;
	uint64_t min, max; /* exact, of the values added (before the clamp) */
};

/* A zeroed struct hdr_hist is an empty histogram. */
void hdr_hist_free(struct hdr_hist *h);
/* Adds one value. 0, or -ENOMEM (the value is then not counted). */
int hdr_hist_add(struct hdr_hist *h, uint64_t us);
/* Adds every value of src to dst. 0 or -ENOMEM. */
int hdr_hist_merge(struct hdr_hist *dst, const struct hdr_hist *src);
/*
 * The q-quantile (0 < q <= 1) by nearest rank: the value of rank
 * ceil(q * total), within the bound above. 0 when empty.
 */
uint64_t hdr_hist_quantile(const struct hdr_hist *h, double q);

/*
 * Several quantiles in one pass: qs ascending, out[i] as hdr_hist_quantile(h,
 * qs[i]) would answer.
 */
void hdr_hist_quantiles(const struct hdr_hist *h, const double *qs, size_t n, uint64_t *out);

/* The bucket of a value, and a bucket's lowest value and width (exposed for tests). */
unsigned hdr_hist_bucket(uint64_t us);
uint64_t hdr_hist_bucket_lo(unsigned b);
uint64_t hdr_hist_bucket_width(unsigned b);

#endif /* TFT_HDR_HIST_H */
