/* test_counts_cache - the totals kept for their TTL, one reader at a time, the others given the kept ones. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "api/counts_cache.h"

static json_t *totals(int n)
{
    return json_pack("{s:i}", "n", n);
}

static int n_of(json_t *j)
{
    return (int)json_integer_value(json_object_get(j, "n"));
}

static void test_counts_cache_kept_for_the_ttl_then_read_again(void **state)
{
    (void)state;
    struct counts_cache *c = counts_cache_new(5000);
    json_t *j = NULL;
    uint64_t age = 0;
    assert_int_equal(counts_cache_get(c, 1000, &j, &age), 0);
    counts_cache_put(c, totals(1), 1000);
    assert_int_equal(counts_cache_get(c, 5999, &j, &age), 1);
    assert_int_equal(n_of(j), 1);
    assert_int_equal(age, 4999);
    json_decref(j);
    assert_int_equal(counts_cache_get(c, 6000, &j, &age), 0);
    counts_cache_put(c, totals(2), 6000);
    assert_int_equal(counts_cache_get(c, 6001, &j, &age), 1);
    assert_int_equal(n_of(j), 2);
    assert_int_equal(age, 1);
    json_decref(j);
    counts_cache_free(c);
}

static void test_counts_cache_one_reader_the_others_get_the_kept_totals(void **state)
{
    (void)state;
    struct counts_cache *c = counts_cache_new(5000);
    json_t *j = NULL;
    uint64_t age = 0;
    assert_int_equal(counts_cache_get(c, 0, &j, &age), 0);
    counts_cache_put(c, totals(1), 0);
    /* stale: the first caller reads, every other one meanwhile gets the old totals */
    assert_int_equal(counts_cache_get(c, 9000, &j, &age), 0);
    for (int i = 0; i < 32; i++) {
        json_t *k = NULL;
        assert_int_equal(counts_cache_get(c, 9001, &k, &age), 1);
        assert_int_equal(n_of(k), 1);
        assert_int_equal(age, 9001);
        json_decref(k);
    }
    counts_cache_put(c, totals(2), 9000);
    assert_int_equal(counts_cache_get(c, 9002, &j, &age), 1);
    assert_int_equal(n_of(j), 2);
    json_decref(j);
    counts_cache_free(c);
}

static void test_counts_cache_a_failed_reading_is_kept_too(void **state)
{
    (void)state;
    struct counts_cache *c = counts_cache_new(1000);
    json_t *j = json_true();   /* a singleton: set to NULL below */
    uint64_t age = 0;
    assert_int_equal(counts_cache_get(c, 0, &j, &age), 0);
    counts_cache_put(c, NULL, 0);
    assert_int_equal(counts_cache_get(c, 999, &j, &age), 1);
    assert_null(j);
    assert_int_equal(counts_cache_get(c, 1000, &j, &age), 0);
    counts_cache_put(c, totals(3), 1000);
    counts_cache_free(c);
}

static void test_counts_cache_ttl_zero_reads_every_time(void **state)
{
    (void)state;
    struct counts_cache *c = counts_cache_new(0);
    json_t *j = NULL;
    uint64_t age = 0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(counts_cache_get(c, 0, &j, &age), 0);
        counts_cache_put(c, totals(i), 0);
    }
    counts_cache_free(c);
}

struct waiter {
    struct counts_cache *c;
    int got;
    json_t *j;
};

static void *wait_first(void *arg)
{
    struct waiter *w = arg;
    uint64_t age;
    w->got = counts_cache_get(w->c, 10, &w->j, &age);
    return NULL;
}

static void test_counts_cache_before_the_first_reading_others_wait_for_it(void **state)
{
    (void)state;
    struct counts_cache *c = counts_cache_new(5000);
    json_t *j = NULL;
    uint64_t age = 0;
    assert_int_equal(counts_cache_get(c, 0, &j, &age), 0);
    struct waiter w = { c, -1, NULL };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, wait_first, &w), 0);
    counts_cache_put(c, totals(7), 0);
    pthread_join(t, NULL);
    /* never a second reader: it waited for (or came after) the first reading */
    assert_int_equal(w.got, 1);
    assert_int_equal(n_of(w.j), 7);
    json_decref(w.j);
    counts_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_cache_kept_for_the_ttl_then_read_again),
        cmocka_unit_test(test_counts_cache_one_reader_the_others_get_the_kept_totals),
        cmocka_unit_test(test_counts_cache_a_failed_reading_is_kept_too),
        cmocka_unit_test(test_counts_cache_ttl_zero_reads_every_time),
        cmocka_unit_test(test_counts_cache_before_the_first_reading_others_wait_for_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
