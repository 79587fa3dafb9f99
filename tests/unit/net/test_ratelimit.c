/* test_ratelimit - the token bucket and the PolicyD-style quota over a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/net/ratelimit.h"

static void test_ratelimit_bucket_starts_full_then_waits(void **state)
{
    (void)state;
    struct ratelimit_bucket b;
    ratelimit_bucket_init(&b, 10, 1000, 5, 1000);
    for (int i = 0; i < 5; i++)
        assert_int_equal(ratelimit_bucket_take(&b, 1, 1000), 0);
    /* Empty: 10 per second is one token every 100 ms. */
    assert_int_equal(ratelimit_bucket_take(&b, 1, 1000), 100);
    assert_int_equal(ratelimit_bucket_take(&b, 1, 1040), 60);
    assert_int_equal(ratelimit_bucket_take(&b, 1, 1100), 0);
    assert_int_equal(ratelimit_bucket_take(&b, 1, 1100), 100);
    assert_int_equal(ratelimit_bucket_tokens(&b, 1100), 0);
}

static void test_ratelimit_bucket_exact_count_over_time(void **state)
{
    (void)state;
    /* 7 per second, burst 2, emptied at 0: every token accrued is taken, none lost to rounding. */
    struct ratelimit_bucket b;
    ratelimit_bucket_init(&b, 7, 1000, 2, 0);
    assert_int_equal(ratelimit_bucket_take(&b, 2, 0), 0);
    unsigned taken = 0;
    for (uint64_t t = 1; t < 10000; t += 3)
        while (ratelimit_bucket_take(&b, 1, t) == 0)
            taken++;
    /* At t=9997 (the last step), 9997*7/1000 = 69.979 tokens accrued: 69 whole. */
    assert_int_equal(taken, 69);
    /* At t=10000 the 70th is complete. */
    assert_int_equal(ratelimit_bucket_take(&b, 1, 10000), 0);
    /* The wait for the next one is exact: 1000/7 rounded up less what accrued. */
    assert_int_equal(ratelimit_bucket_wait(&b, 1, 10000), 143);
}

static void test_ratelimit_bucket_caps_at_burst(void **state)
{
    (void)state;
    struct ratelimit_bucket b;
    ratelimit_bucket_init(&b, 100, 1000, 20, 0);
    assert_int_equal(ratelimit_bucket_take(&b, 20, 0), 0);
    /* An hour idle refills only up to the burst. */
    assert_int_equal(ratelimit_bucket_tokens(&b, 3600000), 20);
    assert_int_equal(ratelimit_bucket_take(&b, 20, 3600000), 0);
    assert_int_equal(ratelimit_bucket_take(&b, 1, 3600000), 10);
    /* More than the burst can never pass. */
    assert_int_equal(ratelimit_bucket_wait(&b, 21, 3600000), UINT64_MAX);
}

static void test_ratelimit_bucket_fractional_rate_and_backwards_clock(void **state)
{
    (void)state;
    /* 1 per 2.5 s (2 per 5000 ms), burst 1. */
    struct ratelimit_bucket b;
    ratelimit_bucket_init(&b, 2, 5000, 1, 50000);
    assert_int_equal(ratelimit_bucket_take(&b, 1, 50000), 0);
    assert_int_equal(ratelimit_bucket_take(&b, 1, 50000), 2500);
    /* A clock going backwards adds nothing and breaks nothing. */
    assert_int_equal(ratelimit_bucket_take(&b, 1, 40000), 2500);
    assert_int_equal(ratelimit_bucket_take(&b, 1, 52499), 1);
    assert_int_equal(ratelimit_bucket_take(&b, 1, 52500), 0);
}

static void test_ratelimit_quota_counts_and_refuses(void **state)
{
    (void)state;
    /* 1000 per hour. */
    struct ratelimit_quota q;
    ratelimit_quota_init(&q, 1000, 3600000, 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(ratelimit_quota_take(&q, 1, 0), 0);
    assert_int_equal(ratelimit_quota_used(&q, 0), 1000);
    /* Full: one recipient decays every 3.6 s. */
    assert_int_equal(ratelimit_quota_take(&q, 1, 0), 3600);
    assert_int_equal(ratelimit_quota_take(&q, 1, 3599), 1);
    assert_int_equal(ratelimit_quota_take(&q, 1, 3600), 0);
    assert_int_equal(ratelimit_quota_take(&q, 10, 3600), 36000);
    assert_int_equal(ratelimit_quota_wait(&q, 1001, 3600), UINT64_MAX);
}

static void test_ratelimit_quota_decays_linearly(void **state)
{
    (void)state;
    struct ratelimit_quota q;
    ratelimit_quota_init(&q, 1000, 3600000, 0);
    assert_int_equal(ratelimit_quota_take(&q, 600, 0), 0);
    /* Half an hour later, 500 have decayed: 100 left (PolicyD: counter - elapsed*limit/period). */
    assert_int_equal(ratelimit_quota_used(&q, 1800000), 100);
    /* A quarter hour more: 250 decay, the counter stops at 0. */
    assert_int_equal(ratelimit_quota_used(&q, 2700000), 0);
    assert_int_equal(ratelimit_quota_take(&q, 1000, 2700000), 0);
    assert_int_equal(ratelimit_quota_used(&q, 2700001), 1000);
    /* Partly decayed recipients are rounded up when reported. */
    assert_int_equal(ratelimit_quota_used(&q, 2700000 + 3599), 1000);
    assert_int_equal(ratelimit_quota_used(&q, 2700000 + 3600), 999);
    assert_int_equal(ratelimit_quota_used(&q, 2700000 + 7200), 998);
}

static void test_ratelimit_acquire_both_or_neither(void **state)
{
    (void)state;
    struct ratelimit rl;
    struct ratelimit_config cfg = { .rate_count = 10, .burst = 10, .quota = 15 };
    ratelimit_init(&rl, &cfg, 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(ratelimit_acquire(&rl, 1, 0), 0);
    /* The bucket says wait 100 ms; the quota was not counted for the refused one. */
    assert_int_equal(ratelimit_acquire(&rl, 1, 0), 100);
    assert_int_equal(ratelimit_quota_used(&rl.quota, 0), 10);
    for (int i = 0; i < 5; i++)
        assert_int_equal(ratelimit_acquire(&rl, 1, 1000), 0);
    /* Now the quota (15 per hour: one per 240 s) is the longer wait. */
    assert_int_equal(ratelimit_acquire(&rl, 1, 1000), 240000 - 1000);
    assert_int_equal(ratelimit_bucket_tokens(&rl.bucket, 1000), 5);

    struct ratelimit_config none = { 0 };
    ratelimit_init(&rl, &none, 0);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(ratelimit_acquire(&rl, 1, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ratelimit_bucket_starts_full_then_waits),
        cmocka_unit_test(test_ratelimit_bucket_exact_count_over_time),
        cmocka_unit_test(test_ratelimit_bucket_caps_at_burst),
        cmocka_unit_test(test_ratelimit_bucket_fractional_rate_and_backwards_clock),
        cmocka_unit_test(test_ratelimit_quota_counts_and_refuses),
        cmocka_unit_test(test_ratelimit_quota_decays_linearly),
        cmocka_unit_test(test_ratelimit_acquire_both_or_neither),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
