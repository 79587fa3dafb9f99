/* test_str - string helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine/util/buf.h"
#include "engine/util/str.h"

static void test_str_trim_both_ends(void **state)
{
    (void)state;
    char s[] = " \t a b \r\n";
    assert_string_equal(str_trim(s), "a b");
    char e[] = "   ";
    assert_string_equal(str_trim(e), "");
}

static void test_str_lower_ascii_only(void **state)
{
    (void)state;
    char s[] = "AbC\xc3\x89";
    assert_string_equal(str_lower(s), "abc\xc3\x89");
}

static void test_str_utf8_valid_table(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t len;
        int ok;
        size_t bad;
    } cases[] = {
        { "plain", 5, 1, 0 },
        { "caf\xc3\xa9", 5, 1, 0 },
        { "\xe2\x82\xac", 3, 1, 0 },         /* euro sign */
        { "\xf0\x9f\x98\x80", 4, 1, 0 },     /* emoji */
        { "ab\xc3", 3, 0, 2 },               /* truncated */
        { "\xc0\xaf", 2, 0, 0 },             /* overlong */
        { "\xed\xa0\x80", 3, 0, 0 },         /* surrogate */
        { "\xf4\x90\x80\x80", 4, 0, 0 },     /* above U+10FFFF */
        { "x\xff", 2, 0, 1 },
        { "caf\xe9", 4, 0, 3 },              /* latin-1 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t bad = 99;
        assert_int_equal(str_utf8_valid(cases[i].in, cases[i].len, &bad), cases[i].ok);
        if (!cases[i].ok)
            assert_int_equal(bad, cases[i].bad);
    }
}

static void test_str_parse_long_bounds(void **state)
{
    (void)state;
    long v;
    assert_int_equal(str_parse_long("42", 0, 100, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(str_parse_long("101", 0, 100, &v), -1);
    assert_int_equal(str_parse_long("4x", 0, 100, &v), -1);
    assert_int_equal(str_parse_long("", 0, 100, &v), -1);
    assert_int_equal(str_parse_long("99999999999999999999999", 0, 100, &v), -1);
}

static void test_str_prefix_and_nocase(void **state)
{
    (void)state;
    assert_true(str_has_prefix("sql/001.sql", "sql/"));
    assert_false(str_has_prefix("sq", "sql/"));
    assert_true(str_eq_nocase("E-Mail", "e-mail"));
}

/* str_u64 and buf_appendu write what printf's %llu and %llx write, edges and a spread of values */
static void test_str_u64_as_printf(void **state)
{
    (void)state;
    char got[STR_U64_MAX], want[32];
    unsigned long long v = 0;
    static const unsigned long long edges[] = { 0, 1, 9, 10, 15, 16, 99, 100, 255, 256, 4294967295ull,
                                                4294967296ull, 9999999999999999999ull, 18446744073709551615ull };
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]) + 5000; i++) {
        v = i < sizeof(edges) / sizeof(edges[0]) ? edges[i] : v * 6364136223846793005ull + 1442695040888963407ull;
        unsigned long long x = i % 3 == 0 ? v : i % 3 == 1 ? v >> 32 : v >> 50;
        snprintf(want, sizeof(want), "%llu", x);
        assert_int_equal(str_u64(got, x, 10), strlen(want));
        assert_string_equal(got, want);
        snprintf(want, sizeof(want), "%llx", x);
        assert_int_equal(str_u64(got, x, 16), strlen(want));
        assert_string_equal(got, want);
        struct buf b = BUF_INIT;
        buf_appends(&b, "n=");
        buf_appendu(&b, x);
        snprintf(want, sizeof(want), "n=%llu", x);
        assert_string_equal(buf_cstr(&b), want);
        buf_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_str_trim_both_ends),
        cmocka_unit_test(test_str_lower_ascii_only),
        cmocka_unit_test(test_str_utf8_valid_table),
        cmocka_unit_test(test_str_parse_long_bounds),
        cmocka_unit_test(test_str_prefix_and_nocase),
        cmocka_unit_test(test_str_u64_as_printf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
