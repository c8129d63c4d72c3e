/* Which flows to show: family, direction, port lists. Pure: no curses, no I/O. */
#ifndef TFT_FILTER_H
#define TFT_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow_table.h"

#define TFT_MAX_PORT_RANGES 64

struct port_range {
	uint16_t lo;
	uint16_t hi; /* inclusive, lo <= hi */
};

/* "443,8000-8100" or "!22": matches a flow when either end's port is (not) listed. */
struct port_list {
	struct port_range ranges[TFT_MAX_PORT_RANGES];
	size_t n;
	bool negate;
};

struct filter {
	uint8_t family; /* 0 any, 4 or 6 */
	uint8_t dir;	/* 0 any, or enum tft_direction */
	bool has_ports;
	struct port_list ports;
};

/*
 * Parses a port list: comma-separated ports (1-65535) and lo-hi ranges,
 * optionally led by '!' to exclude them. Returns 0 or -EINVAL with a
 * one-line reason in err.
 */
int port_list_parse(const char *text, struct port_list *out, char *err, size_t errlen);
/* Whether port is in the list, ignoring negate. */
bool port_list_contains(const struct port_list *pl, uint16_t port);

/* Parses "in"/"incoming", "out"/"outgoing" or "all": 0 or -EINVAL. */
int filter_parse_direction(const char *text, uint8_t *dir);

bool filter_match(const struct filter *f, const struct tft_flow *flow);

#endif /* TFT_FILTER_H */
