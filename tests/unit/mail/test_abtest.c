/* test_abtest - an A/B test read from its JSON form (every refusal naming its field), windows, and the winner's choice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine/mail/abtest.h"

/* parse TEXT; 0 or -1, with FIELD and MSG filled on -1 */
static int parse(const char *text, struct abtest *ab, const char **field, char *msg, size_t msglen)
{
    json_error_t je;
    json_t *in = json_loads(text, 0, &je);
    assert_non_null(in);
    *field = NULL;
    msg[0] = 0;
    int rc = abtest_parse(in, ab, field, msg, msglen);
    json_decref(in);   /* the strings are not read after this: only the numbers are checked below */
    return rc;
}

static void test_abtest_parse_takes_a_full_test(void **state)
{
    (void)state;
    json_error_t je;
    json_t *in = json_loads("{\"variants\": [{\"subject\": \"A\"}, {\"subject\": \"B\", \"html\": \"<p>b</p>\","
                            " \"from_name\": \"Team B\"}, {\"subject\": \"C\", \"html\": null}],"
                            " \"sample\": \"20%\", \"metric\": \"clicks\", \"window\": \"4h\", \"pick\": \"manual\"}",
                            0, &je);
    struct abtest ab;
    const char *field = NULL;
    char msg[200];
    assert_int_equal(abtest_parse(in, &ab, &field, msg, sizeof(msg)), 0);
    assert_int_equal(ab.nvariants, 3);
    assert_string_equal(ab.v[0].subject, "A");
    assert_null(ab.v[0].html);
    assert_string_equal(ab.v[1].html, "<p>b</p>");
    assert_string_equal(ab.v[1].from_name, "Team B");
    assert_null(ab.v[2].html);
    assert_int_equal(ab.sample_pct, 20);
    assert_int_equal(ab.sample_count, 0);
    assert_string_equal(ab.metric, "clicks");
    assert_int_equal(ab.window_s, 4 * 3600);
    assert_true(ab.manual);
    json_decref(in);
}

static void test_abtest_parse_defaults_and_counts(void **state)
{
    (void)state;
    struct abtest ab;
    const char *field;
    char msg[200];
    assert_int_equal(parse("{\"variants\": [{\"subject\": \"A\"}, {\"subject\": \"B\"}], \"sample\": 5000,"
                           " \"window\": 90}", &ab, &field, msg, sizeof(msg)), 0);
    assert_int_equal(ab.sample_count, 5000);
    assert_int_equal(ab.sample_pct, 0);
    assert_string_equal(ab.metric, "opens");
    assert_int_equal(ab.window_s, 90);
    assert_false(ab.manual);
    assert_int_equal(parse("{\"variants\": [{\"subject\": \"A\"}, {\"subject\": \"B\"}], \"sample\": \"300\","
                           " \"window\": \"2d\"}", &ab, &field, msg, sizeof(msg)), 0);
    assert_int_equal(ab.sample_count, 300);
    assert_int_equal(ab.window_s, 2 * 86400);
}

static void test_abtest_parse_refuses_naming_the_field(void **state)
{
    (void)state;
    static const struct {
        const char *json, *field, *msg;
    } cases[] = {
        { "[]", "ab", "ab must be an object: variants, sample, metric, window, pick" },
        { "{\"variants\": [{\"subject\": \"A\"}], \"sample\": \"20%\", \"window\": \"4h\"}", "ab.variants",
          "an A/B test has 2 to 4 variants, not 1" },
        { "{\"variants\": [{\"subject\": \"A\"}, {\"subject\": \"B\"}, {\"subject\": \"C\"}, {\"subject\": \"D\"},"
          " {\"subject\": \"E\"}], \"sample\": \"20%\", \"window\": \"4h\"}", "ab.variants",
          "an A/B test has 2 to 4 variants, not 5" },
        { "{\"variants\": [{\"subject\": \"A\"}, {\"subject\": \"\"}], \"sample\": \"20%\", \"window\": \"4h\"}",
          "ab.variants", "variant 2 of the A/B test needs a subject" },
        { "{\"variants\": [{\"subject\": \"A\"}, {\"subject\": \"B\", \"html\": 3}], \"sample\": \"20%\", \"window\": \"4h\"}",
          "ab.variants", "variant 2: html and from_name must be strings" },
        { "{\"variants\": [{\"subject\": \"A\"}, {\"subject\": \"B\"}], \"sample\": \"0%\", \"window\": \"4h\"}",
          "ab.sample", "ab.sample must be between 1% and 99% (the rest gets the winner)" },
        { "{\"variants\": [{\"subject\": \"A\"}, {\"subject\": \"B\"}], \"sample\": \"100%\", \"window\": \"4h\"}",
          "ab.sample", "ab.sample must be between 1% and 99% (the rest gets the winner)" },
        { "{\"variants\": [{\"subject\": \"A\"}, {\"subject\": \"B\"}], \"sample\": 0, \"window\": \"4h\"}",
          "ab.sample", "ab.sample must be at least 1 recipient" },
        { "{\"variants\": [{\"subject\": \"A\"}, {\"subject\": \"B\"}], \"sample\": \"20 %\", \"window\": \"4h\"}",
          "ab.sample", "ab.sample must be a percentage (\"20%\") or a count (5000)" },
        { "{\"variants\": [{\"subject\": \"A\"}, {\"subject\": \"B\"}], \"window\": \"4h\"}",
          "ab.sample", "ab.sample must be a percentage (\"20%\") or a count (5000)" },
        { "{\"variants\": [{\"subject\": \"A\"}, {\"subject\": \"B\"}], \"sample\": 10, \"window\": \"4h\","
          " \"metric\": \"replies\"}", "ab.metric", "ab.metric must be opens or clicks" },
        { "{\"variants\": [{\"subject\": \"A\"}, {\"subject\": \"B\"}], \"sample\": 10, \"window\": 0}",
          "ab.window", "ab.window must be a time from 1s to 30d, as \"4h\", \"30m\", \"2d\" or seconds" },
        { "{\"variants\": [{\"subject\": \"A\"}, {\"subject\": \"B\"}], \"sample\": 10, \"window\": \"0s\"}",
          "ab.window", "ab.window must be a time from 1s to 30d, as \"4h\", \"30m\", \"2d\" or seconds" },
        { "{\"variants\": [{\"subject\": \"A\"}, {\"subject\": \"B\"}], \"sample\": 10, \"window\": \"31d\"}",
          "ab.window", "ab.window must be a time from 1s to 30d, as \"4h\", \"30m\", \"2d\" or seconds" },
        { "{\"variants\": [{\"subject\": \"A\"}, {\"subject\": \"B\"}], \"sample\": 10, \"window\": \"4w\"}",
          "ab.window", "ab.window must be a time from 1s to 30d, as \"4h\", \"30m\", \"2d\" or seconds" },
        { "{\"variants\": [{\"subject\": \"A\"}, {\"subject\": \"B\"}], \"sample\": 10}",
          "ab.window", "ab.window must be a time from 1s to 30d, as \"4h\", \"30m\", \"2d\" or seconds" },
        { "{\"variants\": [{\"subject\": \"A\"}, {\"subject\": \"B\"}], \"sample\": 10, \"window\": \"4h\","
          " \"pick\": \"later\"}", "ab.pick", "ab.pick must be auto or manual" },
        { "{\"variants\": [{\"subject\": \"A\"}, {\"subject\": \"B\"}], \"sample\": 10, \"window\": \"4h\","
          " \"colour\": \"red\"}", "ab", "ab has no field \"colour\"" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct abtest ab;
        const char *field;
        char msg[200];
        assert_int_equal(parse(cases[i].json, &ab, &field, msg, sizeof(msg)), -1);
        assert_string_equal(field, cases[i].field);
        assert_string_equal(msg, cases[i].msg);
    }
}

static void test_abtest_duration_units(void **state)
{
    (void)state;
    long s = -1;
    assert_int_equal(abtest_duration("45", &s), 0);
    assert_int_equal(s, 45);
    assert_int_equal(abtest_duration("90s", &s), 0);
    assert_int_equal(s, 90);
    assert_int_equal(abtest_duration("30m", &s), 0);
    assert_int_equal(s, 1800);
    assert_int_equal(abtest_duration("4h", &s), 0);
    assert_int_equal(s, 14400);
    assert_int_equal(abtest_duration("2d", &s), 0);
    assert_int_equal(s, 172800);
    assert_int_equal(abtest_duration("", &s), -1);
    assert_int_equal(abtest_duration("h", &s), -1);
    assert_int_equal(abtest_duration("-4h", &s), -1);
    assert_int_equal(abtest_duration("4hh", &s), -1);
    assert_int_equal(abtest_duration("99999999999999999999", &s), -1);
}

static void test_abtest_winner_highest_ties_to_lower(void **state)
{
    (void)state;
    static const struct {
        long long scores[4];
        size_t n;
        int winner;
    } cases[] = {
        { { 1, 3 }, 2, 2 },
        { { 3, 1 }, 2, 1 },
        { { 2, 2 }, 2, 1 },
        { { 0, 0, 0, 0 }, 4, 1 },
        { { 1, 5, 5, 2 }, 4, 2 },
        { { 1, 5, 5, 9 }, 4, 4 },
        { { 7, 2, 7 }, 3, 1 },
        { { 0 }, 0, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(abtest_winner(cases[i].scores, cases[i].n), cases[i].winner);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_abtest_parse_takes_a_full_test),
        cmocka_unit_test(test_abtest_parse_defaults_and_counts),
        cmocka_unit_test(test_abtest_parse_refuses_naming_the_field),
        cmocka_unit_test(test_abtest_duration_units),
        cmocka_unit_test(test_abtest_winner_highest_ties_to_lower),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
