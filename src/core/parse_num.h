/*
 * Strict number parsing for flags, environment and config text: digits only
 * (no sign, space, "0x" or trailing bytes, which strtoul would accept).
 */
#ifndef TFT_PARSE_NUM_H
#define TFT_PARSE_NUM_H

#include <stdint.h>

/* A decimal whole number in [min, max]: 0, or -EINVAL (not digits) / -ERANGE. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Seconds with an optional fraction ("0.5", "10"), in [min, max]: 0 or -EINVAL. */
int parse_seconds(const char *s, double min, double max, double *out);

#endif /* TFT_PARSE_NUM_H */
