/* BPF timestamps are CLOCK_MONOTONIC; people read wall-clock time. */
#ifndef TFT_CLOCK_H
#define TFT_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Measures CLOCK_REALTIME - CLOCK_MONOTONIC once; later conversions reuse it. */
void clock_init(void);
/* The anchor clock_init measured (CLOCK_REALTIME - CLOCK_MONOTONIC, ns): a recording keeps it. */
int64_t clock_anchor(void);
/* Uses a recorded anchor instead, so a replay shows the recorded wall-clock times. */
void clock_set_anchor(int64_t wall_minus_mono_ns);
/* Now, on the BPF clock (CLOCK_MONOTONIC), in ns. */
uint64_t clock_mono_ns(void);
/* The same clock at tick resolution (a few ms), for TTLs: a memory read, no timer access. */
uint64_t clock_mono_coarse_ns(void);
/* A CLOCK_MONOTONIC instant in wall-clock time. */
struct timespec clock_mono_to_wall(uint64_t mono_ns);

#endif /* TFT_CLOCK_H */
