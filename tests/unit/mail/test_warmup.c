/* test_warmup - warm-up curves and targets as typed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/mail/warmup.h"

static void test_warmup_days_parse_reads_a_growing_curve(void **state)
{
    (void)state;
    int days[WARMUP_DAYS_MAX];
    size_t n;
    const char *why = NULL;
    assert_int_equal(warmup_days_parse("50,100, 500 ,500,1000", days, &n, &why), 0);
    assert_int_equal(n, 5);
    assert_int_equal(days[0], 50);
    assert_int_equal(days[1], 100);
    assert_int_equal(days[2], 500);
    assert_int_equal(days[3], 500);
    assert_int_equal(days[4], 1000);
    assert_int_equal(warmup_days_parse("7", days, &n, &why), 0);
    assert_int_equal(n, 1);
    assert_int_equal(days[0], 7);
}

static void test_warmup_days_parse_refuses_with_a_reason(void **state)
{
    (void)state;
    static const struct {
        const char *in, *why;
    } cases[] = {
        { "", "a cap is missing (\"50,100,500\")" },
        { "50,", "a cap is missing (\"50,100,500\")" },
        { "50,,100", "each day's cap must be a whole number" },
        { "50;100", "caps are separated by commas" },
        { "-5", "each day's cap must be a whole number" },
        { "0,10", "a day's cap is at least 1" },
        { "100,50", "a day's cap is never smaller than the day before's" },
        { "1.5", "caps are separated by commas" },
        { "100000001", "a day's cap is at most 100000000" },
        { "99999999999999999999999", "a day's cap is at most 100000000" },
    };
    int days[WARMUP_DAYS_MAX];
    size_t n;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *why = NULL;
        assert_int_equal(warmup_days_parse(cases[i].in, days, &n, &why), -1);
        assert_string_equal(why, cases[i].why);
    }
    char many[WARMUP_DAYS_MAX * 2 + 8] = "";
    for (int i = 0; i <= WARMUP_DAYS_MAX; i++)
        strcat(many, i ? ",1" : "1");
    const char *why = NULL;
    assert_int_equal(warmup_days_parse(many, days, &n, &why), -1);
    assert_string_equal(why, "a schedule has at most 366 days");
    many[strlen(many) - 2] = 0; /* 366 */
    assert_int_equal(warmup_days_parse(many, days, &n, &why), 0);
    assert_int_equal(n, WARMUP_DAYS_MAX);
}

static void test_warmup_target_check_domains_and_relays(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out, *why;
    } cases[] = {
        { "News.Example.COM.", "news.example.com", NULL },
        { "example.org", "example.org", NULL },
        { "relay:local", "relay:local", NULL },
        { "relay:Out_1.b-2", "relay:Out_1.b-2", NULL },
        { "relay:", NULL, "a relay's name is 1 to 64 letters, digits, '.', '_' or '-'" },
        { "relay:a b", NULL, "a relay's name is 1 to 64 letters, digits, '.', '_' or '-'" },
        { "example", NULL, "not a domain name of two labels or more (or relay:NAME)" },
        { "a..b", NULL, "a label of the domain is empty or ends with '-'" },
        { "-a.com", NULL, "a label of the domain starts with '-'" },
        { "a-.com", NULL, "a label of the domain is empty or ends with '-'" },
        { "a_b.com", NULL, "a domain has only letters, digits, '-' and dots (or say relay:NAME)" },
        { "", NULL, "not a domain name (or relay:NAME)" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[WARMUP_TARGET_MAX + 1];
        const char *why = NULL;
        int rc = warmup_target_check(cases[i].in, out, sizeof(out), &why);
        if (cases[i].out) {
            assert_int_equal(rc, 0);
            assert_string_equal(out, cases[i].out);
        } else {
            assert_int_equal(rc, -1);
            assert_string_equal(why, cases[i].why);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_warmup_days_parse_reads_a_growing_curve),
        cmocka_unit_test(test_warmup_days_parse_refuses_with_a_reason),
        cmocka_unit_test(test_warmup_target_check_domains_and_relays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
