/* tap.h: a minimal TAP producer for C unit tests run by prove. */
#ifndef SP_TAP_H
#define SP_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

/* ok(cond, printf-style title): one test point. */
#define ok(cond, ...)                                                        \
	do {                                                                 \
		int tap_c_ = (cond) ? 1 : 0;                                 \
		printf("%sok %d - ", tap_c_ ? "" : "not ", ++tap_n);         \
		printf(__VA_ARGS__);                                         \
		printf("\n");                                                \
		if (!tap_c_) {                                               \
			tap_failed++;                                        \
			printf("#   failed at %s line %d\n", __FILE__,           \
			    __LINE__);                                       \
		}                                                            \
	} while (0)

/* is_str(got, want, title): string equality with a diagnostic. */
#define is_str(got, want, ...)                                               \
	do {                                                                 \
		const char *tap_g_ = (got), *tap_w_ = (want);                \
		int tap_s_ = tap_g_ && tap_w_ && strcmp(tap_g_, tap_w_) == 0; \
		ok(tap_s_, __VA_ARGS__);                                     \
		if (!tap_s_)                                                 \
			printf("#        got: '%s'\n#   expected: '%s'\n",       \
			    tap_g_ ? tap_g_ : "(null)",                      \
			    tap_w_ ? tap_w_ : "(null)");                     \
	} while (0)

/* is_int(got, want, title) */
#define is_int(got, want, ...)                                               \
	do {                                                                 \
		long long tap_i_ = (got), tap_j_ = (want);                   \
		ok(tap_i_ == tap_j_, __VA_ARGS__);                           \
		if (tap_i_ != tap_j_)                                        \
			printf("#        got: %lld\n#   expected: %lld\n",       \
			    tap_i_, tap_j_);                                 \
	} while (0)

/* Call last: prints the plan and returns the exit status for main. */
static inline int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
