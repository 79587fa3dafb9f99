/*
 * test_write - the notations the API's write routes read: a campaign's From
 * ("Name <addr>") and a relay's rate and quota ("N/PERIOD").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/handlers.h"

static void test_write_from_parse_splits_name_and_address(void **state)
{
    static const struct {
        const char *in, *name, *addr;
    } ok[] = {
        { "News <news@Example.COM>", "News", "news@example.com" },
        { "\"News, Team\" <a@b.example>", "News, Team", "a@b.example" },
        { "  Spaced Out   <a@b.example>  ", "Spaced Out", "a@b.example" },
        { "a@b.example", "", "a@b.example" },
        { "<a@b.example>", "", "a@b.example" },
    };
    static const char *const bad[] = { "News <a@b.example", "News <a@b.example> x", "not an address", "N <>", "" };
    char name[601], addr[ADDRESS_MAX + 1];
    const char *why;
    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(api__from_parse(ok[i].in, name, addr, &why), 0);
        assert_string_equal(name, ok[i].name);
        assert_string_equal(addr, ok[i].addr);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        assert_int_equal(api__from_parse(bad[i], name, addr, &why), -1);
        assert_non_null(why);
    }
}

static void test_write_per_parse_reads_rates_and_quotas(void **state)
{
    static const struct {
        const char *in;
        bool bare_ok;
        double n;
        long period;
    } ok[] = {
        { "10/s", true, 10, 1 }, { "600/m", true, 600, 60 }, { "1000/h", false, 1000, 3600 },
        { "20000/d", false, 20000, 86400 }, { "500/30m", false, 500, 1800 }, { "2.5", true, 2.5, 1 },
    };
    static const struct {
        const char *in;
        bool bare_ok;
    } bad[] = { { "10", false }, { "fast", true }, { "0/s", true }, { "-1/s", true }, { "10/w", true },
                { "10/", true }, { "10/0m", true }, { "1e10/s", true }, { "nan/s", true }, { "10/s ", true } };
    double n;
    long period;
    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(api__per_parse(ok[i].in, ok[i].bare_ok, &n, &period), 0);
        assert_true(n == ok[i].n);
        assert_int_equal(period, ok[i].period);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(api__per_parse(bad[i].in, bad[i].bare_ok, &n, &period), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_from_parse_splits_name_and_address),
        cmocka_unit_test(test_write_per_parse_reads_rates_and_quotas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
