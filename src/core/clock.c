#include "clock.h"

#define NSEC_PER_SEC 1000000000LL

static int64_t wall_minus_mono_ns;

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
}

void clock_init(void)
{
	struct timespec m1, r, m2;

	/* Bracket the realtime read so the offset is off by at most half the gap. */
	clock_gettime(CLOCK_MONOTONIC, &m1);
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m2);
	wall_minus_mono_ns = ts_ns(&r) - (ts_ns(&m1) + (ts_ns(&m2) - ts_ns(&m1)) / 2);
}

int64_t clock_anchor(void)
{
	return wall_minus_mono_ns;
}

void clock_set_anchor(int64_t anchor)
{
	wall_minus_mono_ns = anchor;
}

uint64_t clock_mono_ns(void)
{
	struct timespec m;

	clock_gettime(CLOCK_MONOTONIC, &m);
	return (uint64_t)ts_ns(&m);
}

uint64_t clock_mono_coarse_ns(void)
{
	struct timespec m;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &m);
	return (uint64_t)ts_ns(&m);
}

struct timespec clock_mono_to_wall(uint64_t mono_ns)
{
	int64_t w = (int64_t)mono_ns + wall_minus_mono_ns;
	struct timespec ts = {.tv_sec = (time_t)(w / NSEC_PER_SEC),
			      .tv_nsec = (long)(w % NSEC_PER_SEC)};

	return ts;
}
