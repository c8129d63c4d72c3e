/*
 * Reset bursts: more than a threshold of resets or refusals for one service
 * (address and port) within a sliding window raise one alert, then none for
 * that service until the window has passed. Bounded: a fixed table of
 * services, the oldest replaced; counted per second, so the window is exact
 * to a second.
 */
#ifndef TFT_RESET_ALERT_H
#define TFT_RESET_ALERT_H

#include <stdbool.h>
#include <stdint.h>

#define RESET_ALERT_WINDOW_S 10

/* The service a burst hit, and how many resets it took in the window. */
struct reset_alert_event {
	uint8_t family; /* 4 or 6 */
	uint8_t addr[16];
	uint16_t port;	/* host order */
	uint64_t count; /* resets and refusals in the window, this one included */
	uint64_t at_ns; /* CLOCK_MONOTONIC of the reset that crossed the threshold */
};

struct reset_alert;

/* threshold >= 1: an alert when a service's window holds more. NULL and errno on failure. */
struct reset_alert *reset_alert_new(uint32_t threshold);
void reset_alert_free(struct reset_alert *r);

/* One reset or refusal of (family, addr, port) at at_ns; true and *ev filled when it alerts. */
bool reset_alert_add(struct reset_alert *r, uint8_t family, const uint8_t addr[16], uint16_t port,
		     uint64_t at_ns, struct reset_alert_event *ev);

/* Alerts raised since start. */
uint64_t reset_alert_count(const struct reset_alert *r);

#endif /* TFT_RESET_ALERT_H */
