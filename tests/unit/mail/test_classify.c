/* test_classify - what each SMTP answer means for a delivery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "engine/mail/classify.h"

static void test_classify_smtp_table(void **state)
{
    (void)state;
    static const struct {
        int accepted, at_message, code;
        const char *enhanced, *text;
        enum delivery_outcome outcome;
        enum bounce_class cls;
        int rate, relay;
    } cases[] = {
        { 1, 1, 250, "2.0.0", "Ok: queued as 4XYZ", OUTCOME_SENT, BOUNCE_NONE, 0, 0 },
        { 0, 1, 550, "5.1.1", "<x@example.com>: Recipient address rejected: User unknown", OUTCOME_FAIL, BOUNCE_HARD, 0, 0 },
        { 0, 1, 550, "5.1.2", "Host or domain name not found", OUTCOME_FAIL, BOUNCE_HARD, 0, 0 },
        { 0, 1, 552, "5.2.2", "Mailbox full", OUTCOME_FAIL, BOUNCE_SOFT, 0, 0 },
        { 0, 1, 554, "5.7.1", "Message rejected as spam", OUTCOME_FAIL, BOUNCE_POLICY, 0, 0 },
        { 0, 1, 550, "", "Your IP is listed on a blocklist", OUTCOME_FAIL, BOUNCE_POLICY, 0, 0 },
        { 0, 1, 550, "", "No such user here", OUTCOME_FAIL, BOUNCE_HARD, 0, 0 },
        { 0, 1, 554, "5.4.4", "Unable to route", OUTCOME_FAIL, BOUNCE_SOFT, 0, 0 },
        { 0, 1, 554, "", "Transaction failed", OUTCOME_FAIL, BOUNCE_HARD, 0, 0 },
        { 0, 1, 450, "4.2.0", "Mailbox busy", OUTCOME_DEFER, BOUNCE_NONE, 0, 0 },
        { 0, 1, 450, "4.7.1", "Client host rejected: too many messages, slow down", OUTCOME_DEFER, BOUNCE_NONE, 1, 0 },
        { 0, 1, 452, "4.3.1", "Insufficient system storage", OUTCOME_DEFER, BOUNCE_NONE, 0, 0 },
        { 0, 1, 451, "4.3.0", "Message rate limit exceeded", OUTCOME_DEFER, BOUNCE_NONE, 1, 0 },
        { 0, 1, 421, "4.7.0", "Error: too many connections", OUTCOME_DEFER, BOUNCE_NONE, 1, 1 },
        { 0, 1, 0, "", "connection timed out", OUTCOME_DEFER, BOUNCE_NONE, 0, 1 },
        { 0, 0, 535, "5.7.8", "Authentication failed", OUTCOME_DEFER, BOUNCE_NONE, 0, 1 },
        { 0, 0, 0, "", "connection refused", OUTCOME_DEFER, BOUNCE_NONE, 0, 1 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct classification c;
        classify_smtp(cases[i].accepted, cases[i].at_message, cases[i].code, cases[i].enhanced, cases[i].text, &c);
        assert_int_equal(c.outcome, cases[i].outcome);
        if (c.outcome == OUTCOME_FAIL)
            assert_int_equal(c.cls, cases[i].cls);
        assert_int_equal(c.rate_limited, cases[i].rate);
        assert_int_equal(c.relay_trouble, cases[i].relay);
    }
}

static void test_bounce_class_names(void **state)
{
    (void)state;
    assert_string_equal(bounce_class_name(BOUNCE_HARD), "hard");
    assert_string_equal(bounce_class_name(BOUNCE_SOFT), "soft");
    assert_string_equal(bounce_class_name(BOUNCE_POLICY), "policy");
    assert_string_equal(bounce_class_name(BOUNCE_COMPLAINT), "complaint");
    assert_string_equal(bounce_class_name(BOUNCE_UNKNOWN), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify_smtp_table),
        cmocka_unit_test(test_bounce_class_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
