/* Tests: the i-th flow held, oldest first, or NULL. */
#ifndef TFT_TEST_FLOW_NTH_H
#define TFT_TEST_FLOW_NTH_H

#include "flow_table.h"

static inline const struct tft_flow *flow_nth(const struct flow_table *t, size_t i)
{
	const struct tft_flow *f = flow_table_first(t);

	while (f && i--)
		f = flow_table_next(t, f);
	return f;
}

#endif
