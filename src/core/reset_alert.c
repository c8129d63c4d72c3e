#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reset_alert.h"

/* Services tracked at once: a direct-mapped table, a newcomer replaces what held its slot. */
#define SERVICES 4096u
#define NS_PER_S 1000000000ull

struct service {
	uint8_t family; /* 0: unused */
	uint8_t addr[16];
	uint16_t port;
	uint64_t last_s;		      /* the second of the newest reset */
	uint32_t per_s[RESET_ALERT_WINDOW_S]; /* resets in each second, by second mod window */
	uint64_t quiet_until_s;		      /* no new alert before this second */
};

struct reset_alert {
	struct service *services; /* owned, SERVICES */
	uint32_t threshold;
	uint64_t alerts;
};

struct reset_alert *reset_alert_new(uint32_t threshold)
{
	struct reset_alert *r;

	if (threshold == 0) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->services = calloc(SERVICES, sizeof(*r->services));
	if (!r->services) {
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->threshold = threshold;
	return r;
}

void reset_alert_free(struct reset_alert *r)
{
	if (!r)
		return;
	free(r->services);
	free(r);
}

static uint32_t slot_of(uint8_t family, const uint8_t addr[16], uint16_t port)
{
	uint64_t w[2], h = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)family << 16 | port);

	memcpy(w, addr, 16);
	h = (h ^ w[0]) * 0xff51afd7ed558ccdULL;
	h = (h ^ w[1]) * 0xff51afd7ed558ccdULL;
	h ^= h >> 32;
	return (uint32_t)h & (SERVICES - 1);
}

bool reset_alert_add(struct reset_alert *r, uint8_t family, const uint8_t addr[16], uint16_t port,
		     uint64_t at_ns, struct reset_alert_event *ev)
{
	struct service *s = &r->services[slot_of(family, addr, port)];
	uint64_t now_s = at_ns / NS_PER_S, sum = 0;
	unsigned i;

	if (s->family != family || s->port != port || memcmp(s->addr, addr, 16)) {
		memset(s, 0, sizeof(*s));
		s->family = family;
		s->port = port;
		memcpy(s->addr, addr, 16);
		s->last_s = now_s;
	}
	if (now_s > s->last_s) {
		/* Seconds that passed without a reset count none. */
		uint64_t gap = now_s - s->last_s;

		for (i = 1; i <= gap && i <= RESET_ALERT_WINDOW_S; i++)
			s->per_s[(s->last_s + i) % RESET_ALERT_WINDOW_S] = 0;
		s->last_s = now_s;
	}
	/* A record older than the newest (another CPU's, read late) counts in the newest second. */
	s->per_s[s->last_s % RESET_ALERT_WINDOW_S]++;
	for (i = 0; i < RESET_ALERT_WINDOW_S; i++)
		sum += s->per_s[i];
	if (sum <= r->threshold || s->last_s < s->quiet_until_s)
		return false;
	s->quiet_until_s = s->last_s + RESET_ALERT_WINDOW_S;
	r->alerts++;
	ev->family = family;
	memcpy(ev->addr, addr, 16);
	ev->port = port;
	ev->count = sum;
	ev->at_ns = at_ns;
	return true;
}

uint64_t reset_alert_count(const struct reset_alert *r)
{
	return r->alerts;
}
