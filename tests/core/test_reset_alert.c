/* Reset bursts: more than the threshold within the window alerts once, per service. */
#include <string.h>

#include "reset_alert.h"
#include "../t.h"

#define S 1000000000ull

int main(void)
{
	struct reset_alert *r = reset_alert_new(3);
	struct reset_alert_event ev;
	uint8_t a[16] = {127, 0, 0, 1}, b[16] = {127, 0, 0, 2};
	int i, alerts = 0;

	CHECK(reset_alert_new(0) == NULL, "a threshold of 0 is refused");
	for (i = 0; i < 3; i++)
		CHECK(!reset_alert_add(r, 4, a, 80, 100 * S + (uint64_t)i, &ev), "up to 3: quiet");
	CHECK(!reset_alert_add(r, 4, b, 80, 100 * S, &ev), "another address counts apart");
	CHECK(!reset_alert_add(r, 4, a, 81, 100 * S, &ev), "another port counts apart");
	CHECK(reset_alert_add(r, 4, a, 80, 101 * S, &ev), "the fourth alerts");
	CHECK_EQ(ev.count, 4, "count in the window");
	CHECK_EQ(ev.port, 80, "its port");
	CHECK(!memcmp(ev.addr, a, 16) && ev.family == 4, "its address");
	CHECK_EQ(ev.at_ns, 101 * S, "when");
	CHECK(!reset_alert_add(r, 4, a, 80, 102 * S, &ev), "once per window");
	CHECK_EQ(reset_alert_count(r), 1, "one alert");

	/* Resets spread thinner than the window allows never alert. */
	for (i = 0; i < 40; i++)
		alerts += reset_alert_add(r, 4, b, 443, (200 + 4 * (uint64_t)i) * S, &ev);
	CHECK_EQ(alerts, 0, "one reset every 4 s: at most 3 in any 10 s");

	/* After the window a new burst alerts again. */
	for (i = 0; i < 4; i++)
		alerts += reset_alert_add(r, 4, a, 80, 120 * S + (uint64_t)i, &ev);
	CHECK_EQ(alerts, 1, "a later burst alerts again");
	CHECK_EQ(ev.count, 4, "old seconds left the window");
	reset_alert_free(r);
	return t_done();
}
