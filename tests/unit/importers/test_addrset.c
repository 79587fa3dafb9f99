/* test_addrset - the set of addresses seen: "surely new" only when no earlier address can equal it under lower(). */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "importers/addrset.h"

static void test_addrset_distinct_ascii_addresses_are_new(void **state)
{
    (void)state;
    struct import_addrset s;
    import_addrset_init(&s, 100);
    assert_int_equal(import_addrset_add(&s, "ann@example.com"), 1);
    assert_int_equal(import_addrset_add(&s, "ben@example.com"), 1);
    assert_int_equal(import_addrset_add(&s, "ann@example.org"), 1);
    assert_int_equal(import_addrset_add(&s, "ann@example.com"), 0);
    assert_int_equal(s.n, 3);
    import_addrset_free(&s);
}

static void test_addrset_letter_case_is_no_difference(void **state)
{
    (void)state;
    struct import_addrset s;
    import_addrset_init(&s, 100);
    assert_int_equal(import_addrset_add(&s, "Ann.Lee@Example.com"), 1);
    assert_int_equal(import_addrset_add(&s, "ann.lee@example.com"), 0);
    assert_int_equal(import_addrset_add(&s, "ANN.LEE@EXAMPLE.COM"), 0);
    assert_int_equal(s.n, 1);
    import_addrset_free(&s);
}

/* What lower() may fold to ASCII in some locale shares its key with the ASCII letter. */
static void test_addrset_letters_lower_folds_to_ascii_share_a_key(void **state)
{
    (void)state;
    static const char *const pairs[][2] = {
        { "kate@example.com", "\xe2\x84\xaa" "ate@example.com" },   /* KELVIN SIGN -> k */
        { "iris@example.com", "\xc4\xb0" "ris@example.com" },       /* İ -> i */
        { "ivan@example.com", "\xc4\xb1" "van@example.com" },       /* ı, lower of I in Turkish */
        { "sam@example.com", "\xc5\xbf" "am@example.com" },         /* ſ, upper S */
    };
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        struct import_addrset s;
        import_addrset_init(&s, 100);
        assert_int_equal(import_addrset_add(&s, pairs[i][1]), 0);   /* not ASCII: never surely new */
        assert_int_equal(import_addrset_add(&s, pairs[i][0]), 0);   /* its key was seen */
        import_addrset_free(&s);
        import_addrset_init(&s, 100);
        assert_int_equal(import_addrset_add(&s, pairs[i][0]), 1);
        assert_int_equal(import_addrset_add(&s, pairs[i][1]), 0);
        assert_int_equal(s.n, 1);
        import_addrset_free(&s);
    }
}

static void test_addrset_non_ascii_is_never_surely_new(void **state)
{
    (void)state;
    struct import_addrset s;
    import_addrset_init(&s, 100);
    assert_int_equal(import_addrset_add(&s, "j\xc3\xa9r\xc3\xb4me@example.com"), 0);
    assert_int_equal(import_addrset_add(&s, "J\xc3\x89R\xc3\x94ME@example.com"), 0);
    assert_int_equal(import_addrset_add(&s, "jerome@example.com"), 1);
    assert_int_equal(s.n, 3);
    import_addrset_free(&s);
}

/* Every ASCII byte at every place in a word: C and C ^ 0x20 share a key exactly when both are letters. */
static void test_addrset_folds_exactly_the_ascii_letters(void **state)
{
    (void)state;
    char a[32], b[32];
    for (int c = 0x21; c < 0x7f; c++) {
        int d = c ^ 0x20;
        if (d < 0x21 || d > 0x7e)
            continue;
        bool letters = ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
        for (int at = 0; at < 17; at++) {
            struct import_addrset s;
            memset(a, 'x', sizeof(a));
            memcpy(b, a, sizeof(b));
            a[at] = (char)c, b[at] = (char)d;
            a[18] = b[18] = 0;
            import_addrset_init(&s, 100);
            assert_int_equal(import_addrset_add(&s, a), 1);
            assert_int_equal(import_addrset_add(&s, b), letters ? 0 : 1);
            import_addrset_free(&s);
        }
    }
}

static void test_addrset_full_set_answers_maybe_seen(void **state)
{
    (void)state;
    struct import_addrset s;
    import_addrset_init(&s, 2);
    assert_int_equal(import_addrset_add(&s, "a@example.com"), 1);
    assert_int_equal(import_addrset_add(&s, "b@example.com"), 1);
    assert_int_equal(import_addrset_add(&s, "c@example.com"), 0);
    assert_int_equal(s.n, 2);
    import_addrset_free(&s);
}

/* Growing keeps every key: 100,000 distinct addresses, then each again. */
static void test_addrset_growth_keeps_every_address(void **state)
{
    (void)state;
    struct import_addrset s;
    char email[64];
    int fresh = 0, again = 0;
    import_addrset_init(&s, 1 << 20);
    for (int i = 0; i < 100000; i++) {
        snprintf(email, sizeof(email), "user%d@example%d.com", i, i % 97);
        fresh += import_addrset_add(&s, email);
    }
    for (int i = 0; i < 100000; i++) {
        snprintf(email, sizeof(email), "USER%d@EXAMPLE%d.COM", i, i % 97);
        again += import_addrset_add(&s, email);
    }
    assert_int_equal(fresh, 100000);
    assert_int_equal(again, 0);
    assert_int_equal(s.n, 100000);
    assert_true(s.cap <= 262144);
    import_addrset_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addrset_distinct_ascii_addresses_are_new),
        cmocka_unit_test(test_addrset_letter_case_is_no_difference),
        cmocka_unit_test(test_addrset_letters_lower_folds_to_ascii_share_a_key),
        cmocka_unit_test(test_addrset_non_ascii_is_never_surely_new),
        cmocka_unit_test(test_addrset_folds_exactly_the_ascii_letters),
        cmocka_unit_test(test_addrset_full_set_answers_maybe_seen),
        cmocka_unit_test(test_addrset_growth_keeps_every_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
