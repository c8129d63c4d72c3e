/* Minimal test assertions: file:line, a name, and a non-zero exit on failure. */
#ifndef TFT_TEST_H
#define TFT_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ctest's SKIP_RETURN_CODE: a test that cannot run here says so and exits 77. */
#define T_SKIP 77

static int t_failures;
static int t_checks;

#define CHECK(cond, name)                                                                          \
	do {                                                                                       \
		t_checks++;                                                                        \
		if (!(cond)) {                                                                     \
			t_failures++;                                                              \
			fprintf(stderr, "%s:%d: FAIL %s: %s\n", __FILE__, __LINE__, name, #cond);  \
		}                                                                                  \
	} while (0)

#define CHECK_EQ(a, b, name)                                                                       \
	do {                                                                                       \
		long long t_a_ = (long long)(a), t_b_ = (long long)(b);                            \
		t_checks++;                                                                        \
		if (t_a_ != t_b_) {                                                                \
			t_failures++;                                                              \
			fprintf(stderr, "%s:%d: FAIL %s: %s == %lld, expected %s == %lld\n",       \
				__FILE__, __LINE__, name, #a, t_a_, #b, t_b_);                     \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b, name)                                                                      \
	do {                                                                                       \
		const char *t_a_ = (a), *t_b_ = (b);                                               \
		t_checks++;                                                                        \
		if (!t_a_ || !t_b_ || strcmp(t_a_, t_b_) != 0) {                                   \
			t_failures++;                                                              \
			fprintf(stderr, "%s:%d: FAIL %s: got \"%s\", expected \"%s\"\n", __FILE__, \
				__LINE__, name, t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)");   \
		}                                                                                  \
	} while (0)

/* Ends main(): prints the tally, fails if any check failed or none ran. */
static inline int t_done(void)
{
	fprintf(stderr, "%d checks, %d failed\n", t_checks, t_failures);
	return (t_failures || !t_checks) ? 1 : 0;
}

#endif /* TFT_TEST_H */
