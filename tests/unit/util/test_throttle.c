/* test_throttle - failures per key, waits that double up to a ceiling, a bounded table; the clock is the test's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "engine/util/throttle.h"

#define SEC 1000u

/* five failures allowed, then 2 s doubling to 16 s; forgotten after a day; eight keys */
static struct throttle *five(void)
{
    struct throttle_limits l = { 5, 2 * SEC, 16 * SEC, 86400 * SEC, 8 };
    return throttle_new(&l);
}

/* one attempt of KEY alone at NOW that fails, if let: the wait begin answered */
static uint64_t fail1(struct throttle *t, const char *key, uint64_t now)
{
    const char *keys[] = { key };
    uint64_t wait = throttle_begin(t, keys, 1, now);
    if (!wait)
        throttle_fail(t, key, now);
    return wait;
}

static void test_throttle_refuses_after_the_allowed_failures(void **state)
{
    (void)state;
    struct throttle *t = five();
    for (int i = 0; i < 5; i++)
        assert_int_equal(fail1(t, "user:1", 1000 + (uint64_t)i), 0);
    assert_int_equal(throttle_failures(t, "user:1", 1005), 5);
    /* the fifth failure began a 2 s wait */
    assert_int_equal(fail1(t, "user:1", 1005), 2 * SEC - 1);
    assert_int_equal(fail1(t, "user:1", 1004 + 2 * SEC - 1), 1);
    /* a refusal counts nothing and does not lengthen the wait */
    assert_int_equal(throttle_failures(t, "user:1", 1005), 5);
    assert_int_equal(fail1(t, "user:1", 1004 + 2 * SEC), 0);
    assert_int_equal(throttle_failures(t, "user:1", 1004 + 2 * SEC), 6);
    throttle_free(t);
}

static void test_throttle_wait_doubles_up_to_the_ceiling(void **state)
{
    (void)state;
    static const uint64_t waits[] = { 2 * SEC, 4 * SEC, 8 * SEC, 16 * SEC, 16 * SEC, 16 * SEC };
    struct throttle *t = five();
    uint64_t now = 0;
    for (int i = 0; i < 4; i++)
        assert_int_equal(fail1(t, "a", now), 0);
    for (size_t i = 0; i < sizeof(waits) / sizeof(waits[0]); i++) {
        assert_int_equal(fail1(t, "a", now), 0);
        assert_int_equal(fail1(t, "a", now), waits[i]);
        now += waits[i];
    }
    throttle_free(t);
}

static void test_throttle_success_resets_the_account_and_leaves_the_address(void **state)
{
    (void)state;
    struct throttle *t = five();
    const char *keys[] = { "user:1", "addr:127.0.0.1" };
    for (int i = 0; i < 4; i++) {
        assert_int_equal(throttle_begin(t, keys, 2, 0), 0);
        throttle_fail(t, keys[0], 0);
        throttle_fail(t, keys[1], 0);
    }
    assert_int_equal(throttle_begin(t, keys, 2, 1), 0);
    throttle_reset(t, keys[0]);
    throttle_pass(t, keys[1]);
    assert_int_equal(throttle_failures(t, "user:1", 1), 0);
    assert_int_equal(throttle_failures(t, "addr:127.0.0.1", 1), 4);
    /* the address has one failure left; the account its five */
    assert_int_equal(fail1(t, "addr:127.0.0.1", 2), 0);
    assert_int_equal(fail1(t, "addr:127.0.0.1", 3), 2 * SEC - 1);
    for (int i = 0; i < 4; i++)
        assert_int_equal(fail1(t, "user:1", 3), 0);
    throttle_free(t);
}

static void test_throttle_a_pass_after_the_wait_leaves_no_new_wait(void **state)
{
    (void)state;
    struct throttle *t = five();
    const char *keys[] = { "addr:x" };
    for (int i = 0; i < 5; i++)
        fail1(t, "addr:x", 0);
    assert_int_equal(throttle_begin(t, keys, 1, 2 * SEC), 0);
    throttle_pass(t, "addr:x");
    assert_int_equal(throttle_failures(t, "addr:x", 2 * SEC), 5);
    assert_int_equal(throttle_begin(t, keys, 1, 2 * SEC), 0);
    throttle_pass(t, "addr:x");
    throttle_free(t);
}

static void test_throttle_attempts_under_way_cannot_pass_the_limit_together(void **state)
{
    (void)state;
    struct throttle *t = five();
    const char *keys[] = { "user:3" };
    for (int i = 0; i < 3; i++)
        fail1(t, "user:3", 0);
    /* two failures left: two attempts at once, the third told to come back in a moment */
    assert_int_equal(throttle_begin(t, keys, 1, 10), 0);
    assert_int_equal(throttle_begin(t, keys, 1, 10), 0);
    assert_int_equal(throttle_begin(t, keys, 1, 10), THROTTLE_BUSY_MS);
    throttle_fail(t, "user:3", 11);
    throttle_fail(t, "user:3", 11);
    assert_int_equal(throttle_begin(t, keys, 1, 12), 2 * SEC - 1);
    /* past the limit, one at a time */
    assert_int_equal(throttle_begin(t, keys, 1, 11 + 2 * SEC), 0);
    assert_int_equal(throttle_begin(t, keys, 1, 11 + 2 * SEC), THROTTLE_BUSY_MS);
    throttle_pass(t, "user:3");
    assert_int_equal(throttle_begin(t, keys, 1, 11 + 2 * SEC), 0);
    throttle_pass(t, "user:3");
    throttle_free(t);
}

static void test_throttle_one_key_waiting_refuses_all_and_counts_none(void **state)
{
    (void)state;
    struct throttle *t = five();
    for (int i = 0; i < 5; i++)
        fail1(t, "addr:10.0.0.1", 0);
    const char *keys[] = { "user:2", "addr:10.0.0.1" };
    assert_int_equal(throttle_begin(t, keys, 2, 500), 2 * SEC - 500);
    /* nothing of user:2 under way: five attempts of it may begin at once */
    const char *other[] = { "user:2" };
    for (int i = 0; i < 5; i++)
        assert_int_equal(throttle_begin(t, other, 1, 500), 0);
    assert_int_equal(throttle_failures(t, "user:2", 500), 0);
    throttle_free(t);
}

static void test_throttle_forgets_a_quiet_key(void **state)
{
    (void)state;
    struct throttle_limits l = { 3, 1 * SEC, 4 * SEC, 60 * SEC, 8 };
    struct throttle *t = throttle_new(&l);
    for (int i = 0; i < 3; i++)
        fail1(t, "k", 0);
    assert_int_equal(throttle_failures(t, "k", 60 * SEC - 1), 3);
    assert_int_equal(throttle_failures(t, "k", 60 * SEC), 0);
    assert_int_equal(fail1(t, "k", 60 * SEC), 0);
    assert_int_equal(throttle_failures(t, "k", 60 * SEC), 1);
    throttle_free(t);
}

static void test_throttle_table_is_bounded_and_drops_the_oldest(void **state)
{
    (void)state;
    struct throttle_limits l = { 2, 1 * SEC, 4 * SEC, 86400 * SEC, 3 };
    struct throttle *t = throttle_new(&l);
    fail1(t, "a", 10);
    fail1(t, "b", 20);
    fail1(t, "c", 30);
    fail1(t, "a", 40);   /* a is now the most recent */
    fail1(t, "d", 50);   /* the table is full: b, tried longest ago, goes */
    assert_int_equal(throttle_failures(t, "a", 60), 2);
    assert_int_equal(throttle_failures(t, "b", 60), 0);
    assert_int_equal(throttle_failures(t, "c", 60), 1);
    assert_int_equal(throttle_failures(t, "d", 60), 1);
    /* ten thousand keys later there are still three */
    char key[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof(key), "addr:%d", i);
        fail1(t, key, 100 + (uint64_t)i);
    }
    assert_int_equal(throttle_failures(t, "addr:9999", 20000), 1);
    assert_int_equal(throttle_failures(t, "addr:9996", 20000), 0);
    throttle_free(t);
}

static void test_throttle_long_keys_are_cut(void **state)
{
    (void)state;
    struct throttle *t = five();
    char a[300], b[300];
    snprintf(a, sizeof(a), "user:%0200dx", 0);
    snprintf(b, sizeof(b), "user:%0200dy", 0);
    fail1(t, a, 0);
    assert_int_equal(throttle_failures(t, b, 0), 1);
    throttle_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_throttle_refuses_after_the_allowed_failures),
        cmocka_unit_test(test_throttle_wait_doubles_up_to_the_ceiling),
        cmocka_unit_test(test_throttle_success_resets_the_account_and_leaves_the_address),
        cmocka_unit_test(test_throttle_a_pass_after_the_wait_leaves_no_new_wait),
        cmocka_unit_test(test_throttle_attempts_under_way_cannot_pass_the_limit_together),
        cmocka_unit_test(test_throttle_one_key_waiting_refuses_all_and_counts_none),
        cmocka_unit_test(test_throttle_forgets_a_quiet_key),
        cmocka_unit_test(test_throttle_table_is_bounded_and_drops_the_oldest),
        cmocka_unit_test(test_throttle_long_keys_are_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
