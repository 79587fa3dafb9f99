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
        { 0, 1, 554, "5.4.4", "Unable to route", OUTCOME_FAIL, BOUNCE_HARD, 0, 0 },   /* no such host or domain */
        { 0, 1, 554, "5.4.6", "Routing loop detected", OUTCOME_FAIL, BOUNCE_SOFT, 0, 0 },
        { 0, 1, 554, "", "Transaction failed", OUTCOME_FAIL, BOUNCE_HARD, 0, 0 },
        { 0, 1, 553, "5.1.8", "<b@example.com>: Sender address rejected: Domain not found", OUTCOME_FAIL, BOUNCE_POLICY, 0, 0 },
        { 0, 1, 550, "5.1.0", "SPF check failed for 192.0.2.1", OUTCOME_FAIL, BOUNCE_POLICY, 0, 0 },
        { 0, 1, 550, "5.1.1", "mailbox is full", OUTCOME_FAIL, BOUNCE_SOFT, 0, 0 },
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

static void test_classify_report_table(void **state)
{
    (void)state;
    static const struct {
        const char *status, *diagnostic;
        enum bounce_class rule;
        bool beats;
        enum bounce_class want;
    } cases[] = {
        { "5.1.1", "550 5.1.1 User unknown", BOUNCE_NONE, false, BOUNCE_HARD },
        { "5.1.2", "Host or domain name not found", BOUNCE_NONE, false, BOUNCE_HARD },
        { "5.2.2", "552 Mailbox full", BOUNCE_NONE, false, BOUNCE_SOFT },
        { "4.2.0", "450 Try again later", BOUNCE_NONE, false, BOUNCE_SOFT },          /* deferred, then expired */
        { "4.1.1", "450 User unknown (temporary)", BOUNCE_NONE, false, BOUNCE_SOFT },  /* a 4xx never proves death */
        { "4.1.1", "450 User unknown", BOUNCE_HARD, true, BOUNCE_SOFT },              /* not even with a rule */
        { "5.4.4", "Unable to route", BOUNCE_NONE, false, BOUNCE_HARD },              /* no host by that name */
        { "4.4.4", "Unable to route", BOUNCE_NONE, false, BOUNCE_SOFT },
        { "5.4.1", "Unable to route", BOUNCE_NONE, false, BOUNCE_SOFT },
        { "5.7.1", "Rejected: user unknown", BOUNCE_HARD, false, BOUNCE_POLICY },     /* the code beats a plain rule */
        { "5.7.1", "Recipient address rejected: no such user", BOUNCE_HARD, true, BOUNCE_HARD }, /* the recipient's fault */
        { "5.1.8", "Sender address rejected", BOUNCE_POLICY, true, BOUNCE_POLICY },   /* x.1.x blaming the sender */
        { "5.1.0", "SPF check failed", BOUNCE_POLICY, true, BOUNCE_POLICY },
        { "5.1.1", "mailbox full", BOUNCE_SOFT, true, BOUNCE_SOFT },                  /* full is never hard */
        { "4.7.1", "Greylisted", BOUNCE_NONE, false, BOUNCE_POLICY },
        { "5.1.1", "mailbox full", BOUNCE_SOFT, false, BOUNCE_HARD },                 /* specific code beats the rule */
        { "5.0.0", "mailbox is full", BOUNCE_SOFT, false, BOUNCE_SOFT },              /* vague code: the rule decides */
        { "5.0.0", "whatever", BOUNCE_NONE, false, BOUNCE_UNKNOWN },                  /* undecided: no action */
        { "4.0.0", "whatever", BOUNCE_NONE, false, BOUNCE_SOFT },
        { "", "Your IP is listed on a blocklist", BOUNCE_NONE, false, BOUNCE_POLICY }, /* then the words */
        { "", "no such user", BOUNCE_NONE, false, BOUNCE_HARD },
        { "", "something happened", BOUNCE_NONE, false, BOUNCE_UNKNOWN },
        { NULL, NULL, BOUNCE_NONE, false, BOUNCE_UNKNOWN },
        { "", "", BOUNCE_COMPLAINT, false, BOUNCE_COMPLAINT },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(classify_report(cases[i].status, cases[i].diagnostic, cases[i].rule, cases[i].beats),
                         cases[i].want);
}

static void test_bounce_class_parse(void **state)
{
    (void)state;
    assert_int_equal(bounce_class_parse("hard"), BOUNCE_HARD);
    assert_int_equal(bounce_class_parse("soft"), BOUNCE_SOFT);
    assert_int_equal(bounce_class_parse("policy"), BOUNCE_POLICY);
    assert_int_equal(bounce_class_parse("complaint"), BOUNCE_COMPLAINT);
    assert_int_equal(bounce_class_parse("unknown"), BOUNCE_UNKNOWN);
    assert_int_equal(bounce_class_parse("autoreply"), BOUNCE_AUTOREPLY);
    assert_int_equal(bounce_class_parse("delay"), BOUNCE_DELAY);
    assert_int_equal(bounce_class_parse("Hard"), BOUNCE_NONE);
    assert_int_equal(bounce_class_parse(""), BOUNCE_NONE);
    assert_int_equal(bounce_class_parse(NULL), BOUNCE_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify_smtp_table),
        cmocka_unit_test(test_bounce_class_names),
        cmocka_unit_test(test_classify_report_table),
        cmocka_unit_test(test_bounce_class_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
