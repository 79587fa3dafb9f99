/*
 * test_relay - a relay as a person gives it: the one set of rules the CLI,
 * the API and the admin share (relay_input_check), and the rate and quota
 * notation ("N/PERIOD").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/send/relay.h"

static void test_relay_per_parse_reads_rates_and_quotas(void **state)
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
        assert_int_equal(relay_per_parse(ok[i].in, ok[i].bare_ok, &n, &period), 0);
        assert_true(n == ok[i].n);
        assert_int_equal(period, ok[i].period);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(relay_per_parse(bad[i].in, bad[i].bare_ok, &n, &period), -1);
}

static void test_relay_input_defaults_follow_the_tls_mode(void **state)
{
    static const struct {
        const char *tls;
        int port;
    } cases[] = { { NULL, 587 }, { "starttls", 587 }, { "tls", 465 }, { "none", 25 }, { "auto", 25 } };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct relay_input in = { .name = "r", .host = "mx.example", .tls = cases[i].tls, .tls_verify = true,
                                  .port = -1, .max_conns = -1, .max_per_conn = -1 };
        struct relay_def d;
        struct relay_check why;
        assert_int_equal(relay_input_check(&in, &d, &why), 0);
        assert_int_equal(d.port, cases[i].port);
        assert_string_equal(d.tls, cases[i].tls ? cases[i].tls : "starttls");
        assert_int_equal(d.max_conns, 4);
        assert_int_equal(d.max_per_conn, 100);
        assert_true(d.rate == 0 && d.quota == 0);
    }
}

static void test_relay_input_rate_and_quota(void **state)
{
    struct relay_input in = { .name = "r", .host = "mx.example", .tls_verify = true, .port = 2525, .max_conns = 2,
                              .max_per_conn = 50, .rate = "600/m", .quota = "1000/h" };
    struct relay_def d;
    struct relay_check why;
    (void)state;
    assert_int_equal(relay_input_check(&in, &d, &why), 0);
    assert_true(d.rate == 10.0);
    assert_int_equal(d.quota, 1000);
    assert_int_equal(d.quota_period_s, 3600);
    assert_int_equal(d.port, 2525);
    assert_int_equal(d.max_conns, 2);
    assert_int_equal(d.max_per_conn, 50);
}

/* each bad field is named, with the sentence both front ends show */
static void test_relay_input_refusals_name_the_field(void **state)
{
    static const struct {
        const char *name, *host, *tls, *user, *pass, *ca, *rate, *quota;
        bool verify;
        long port, conns, per_conn;
        const char *field, *why;
    } cases[] = {
        { "", "h.example", NULL, NULL, NULL, NULL, NULL, NULL, true, -1, -1, -1, "name",
          "the relay name must be 1 to 100 characters, without blanks, / or control characters" },
        { "two words", "h.example", NULL, NULL, NULL, NULL, NULL, NULL, true, -1, -1, -1, "name", NULL },
        { "a/b", "h.example", NULL, NULL, NULL, NULL, NULL, NULL, true, -1, -1, -1, "name", NULL },
        { "r", "a b", NULL, NULL, NULL, NULL, NULL, NULL, true, -1, -1, -1, "host",
          "the host must be a host name or an IP address" },
        { "r", "user@h.example", NULL, NULL, NULL, NULL, NULL, NULL, true, -1, -1, -1, "host", NULL },
        { "r", "h.example", "ssl", NULL, NULL, NULL, NULL, NULL, true, -1, -1, -1, "tls",
          "tls must be starttls, tls, none or auto, not 'ssl'" },
        { "r", "h.example", NULL, NULL, NULL, NULL, NULL, NULL, true, 70000, -1, -1, "port",
          "the port must be from 1 to 65535" },
        { "r", "h.example", NULL, NULL, NULL, NULL, NULL, NULL, true, 0, -1, -1, "port", NULL },
        { "r", "h.example", NULL, "u", NULL, NULL, NULL, NULL, true, -1, -1, -1, "password",
          "a user name and a password go together" },
        { "r", "h.example", NULL, NULL, "p", NULL, NULL, NULL, true, -1, -1, -1, "username", NULL },
        { "r", "h.example", NULL, "u", "two\nlines", NULL, NULL, NULL, true, -1, -1, -1, "password", NULL },
        { "r", "h.example", NULL, NULL, NULL, "/etc/ca.pem", NULL, NULL, false, -1, -1, -1, "ca_file",
          "a CA file and turning TLS verification off exclude each other" },
        { "r", "h.example", NULL, NULL, NULL, NULL, NULL, NULL, true, -1, 0, -1, "max_conns",
          "the connections at once must be from 1 to 1000" },
        { "r", "h.example", NULL, NULL, NULL, NULL, NULL, NULL, true, -1, -1, 100001, "max_per_conn",
          "the messages per connection must be from 1 to 100000" },
        { "r", "h.example", NULL, NULL, NULL, NULL, "fast", NULL, true, -1, -1, -1, "rate",
          "the rate takes N/s, N/m or N/h (N from 0 to 1e9), not 'fast'" },
        { "r", "h.example", NULL, NULL, NULL, NULL, "2e9/s", NULL, true, -1, -1, -1, "rate", NULL },
        { "r", "h.example", NULL, NULL, NULL, NULL, NULL, "100", true, -1, -1, -1, "quota",
          "the quota takes N/PERIOD (1000/h, 20000/d, 500/30m), not '100'" },
        { "r", "h.example", NULL, NULL, NULL, NULL, NULL, "2.5/h", true, -1, -1, -1, "quota", NULL },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct relay_input in = { .name = cases[i].name, .host = cases[i].host, .tls = cases[i].tls,
                                  .username = cases[i].user, .password = cases[i].pass, .ca_file = cases[i].ca,
                                  .rate = cases[i].rate, .quota = cases[i].quota, .tls_verify = cases[i].verify,
                                  .port = cases[i].port, .max_conns = cases[i].conns,
                                  .max_per_conn = cases[i].per_conn };
        struct relay_def d;
        struct relay_check why = { 0 };
        if (relay_input_check(&in, &d, &why) != -1)
            fail_msg("case %zu was accepted", i);
        assert_string_equal(why.field, cases[i].field);
        if (cases[i].why)
            assert_string_equal(why.why, cases[i].why);
    }
}

/* a password with tls none, or plain-text AUTH allowed for a relay elsewhere, is refused; for this machine it is not */
static void test_relay_input_check_never_lets_a_password_travel_in_clear(void **state)
{
    static const struct {
        const char *host, *tls, *pass;
        bool plain;
        const char *field; /* NULL: accepted */
    } cases[] = {
        { "mx.example", "none", "p", false, "tls" },
        { "127.0.0.1", "none", "p", false, "tls" },
        { "mx.example", "none", "p", true, "allow_plain_auth" },
        { "mx.example", "auto", "p", true, "allow_plain_auth" },
        { "10.0.0.1", "starttls", NULL, true, "allow_plain_auth" },
        { "127.0.0.1", "none", "p", true, NULL },
        { "::1", "auto", "p", true, NULL },
        { "127.8.9.10", "none", "p", true, NULL },
        { "127.evil.example", "none", "p", true, "allow_plain_auth" }, /* a name, not an address */
        { "127.0.0.1.example", "auto", "p", true, "allow_plain_auth" },
        { "::ffff:10.0.0.1", "auto", "p", true, "allow_plain_auth" },
        { "localhost", "none", "p", true, NULL },
        { "mx.example", "none", NULL, false, NULL },
        { "mx.example", "auto", "p", false, NULL }, /* auto: AUTH only once STARTTLS is up (smtp.c) */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct relay_input in = { .name = "r", .host = cases[i].host, .tls = cases[i].tls,
                                  .username = cases[i].pass ? "u" : NULL, .password = cases[i].pass,
                                  .allow_plain_auth = cases[i].plain, .tls_verify = true, .port = -1,
                                  .max_conns = -1, .max_per_conn = -1 };
        struct relay_def d;
        struct relay_check why = { 0 };
        int rc = relay_input_check(&in, &d, &why);
        if (cases[i].field) {
            if (rc != -1)
                fail_msg("case %zu was accepted", i);
            assert_string_equal(why.field, cases[i].field);
        } else {
            if (rc != 0)
                fail_msg("case %zu was refused: %s", i, why.why);
            assert_int_equal(d.allow_plain_auth, cases[i].plain);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relay_input_check_never_lets_a_password_travel_in_clear),
        cmocka_unit_test(test_relay_per_parse_reads_rates_and_quotas),
        cmocka_unit_test(test_relay_input_defaults_follow_the_tls_mode),
        cmocka_unit_test(test_relay_input_rate_and_quota),
        cmocka_unit_test(test_relay_input_refusals_name_the_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
