/*
 * testutil - shared boilerplate for the Check suites in tests/unit.
 *
 * A suite file defines `static Suite *make_suite(void)` and then writes
 * TEST_MAIN(make_suite) at the end. Output goes through Check's normal
 * runner, whose "Checks: N, Failures: F, Errors: E" line the harness sums.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define TEST_MAIN(make_suite_fn)					\
int main(void)								\
{									\
	SRunner *sr = srunner_create(make_suite_fn());			\
	int failed;							\
	srunner_set_fork_status(sr, CK_FORK);				\
	srunner_run_all(sr, CK_NORMAL);					\
	failed = srunner_ntests_failed(sr);				\
	srunner_free(sr);						\
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;		\
}

/* ck_assert_mem_eq_len: compare a buffer against a C string literal. */
#define ck_assert_buf_str(p, n, s) do {					\
	size_t ck_n_ = strlen(s);					\
	ck_assert_uint_eq((n), ck_n_);					\
	ck_assert(memcmp((p), (s), ck_n_) == 0);			\
} while (0)

#endif
