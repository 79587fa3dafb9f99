/* test_webhook_input - an endpoint's fields: events, secrets, the URL's words, as every front end says them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/send/webhook_input.h"

static void test_webhook_events_literal_table(void **state)
{
    (void)state;
    static const struct {
        const char *names[4];
        size_t n;
        const char *want;      /* the literal, or NULL: refused with WHY */
        const char *why;
    } cases[] = {
        { { "subscriber.created" }, 1, "{subscriber.created}", NULL },
        { { "delivery.failed", "bounce.recorded" }, 2, "{delivery.failed,bounce.recorded}", NULL },
        { { "subscriber.created", "nope" }, 2, NULL, "events: unknown event \"nope\"" },
        { { "email.opened", "email.opened" }, 2, NULL, "events: \"email.opened\" is named twice" },
        { { "*", "email.opened" }, 2, NULL, "events: unknown event \"*\"" },
        { { NULL }, 0, NULL, "events must name at least one event (e.g. subscriber.created)" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf out = BUF_INIT;
        struct webhook_why why = { 0 };
        int rc = webhook_events_literal(cases[i].names, cases[i].n, &out, &why);
        if (cases[i].want) {
            assert_int_equal(rc, 0);
            assert_string_equal(buf_cstr(&out), cases[i].want);
        } else {
            assert_int_equal(rc, -1);
            assert_string_equal(why.field, "events");
            assert_string_equal(why.why, cases[i].why);
        }
        buf_free(&out);
    }
}

static void test_webhook_events_star_is_every_event(void **state)
{
    (void)state;
    const char *star[] = { "*" };
    struct buf out = BUF_INIT;
    struct webhook_why why;
    assert_int_equal(webhook_events_literal(star, 1, &out, &why), 0);
    assert_string_equal(buf_cstr(&out),
                        "{subscriber.created,subscriber.updated,subscriber.confirmed,subscriber.unsubscribed,"
                        "subscriber.erased,delivery.sent,delivery.deferred,delivery.failed,bounce.recorded,"
                        "complaint.recorded,email.opened,email.clicked,campaign.started,campaign.paused,"
                        "campaign.finished,import.finished}");
    buf_free(&out);
}

static void test_webhook_input_check_makes_or_checks_the_secret(void **state)
{
    (void)state;
    const char *ev[] = { "subscriber.created" };
    struct webhook_input in = { .url = "http://127.0.0.1:9/x", .events = ev, .n_events = 1 };
    struct webhook_checked ck;
    struct webhook_why why;
    assert_int_equal(webhook_input_check(&in, true, &ck, &why), 0);
    assert_true(ck.secret_made);
    assert_true(strncmp(buf_cstr(&ck.secret), "whsec_", 6) == 0);
    webhook_input_free(&ck);

    in.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    assert_int_equal(webhook_input_check(&in, true, &ck, &why), 0);
    assert_false(ck.secret_made);
    assert_string_equal(buf_cstr(&ck.secret), in.secret);
    webhook_input_free(&ck);

    in.secret = "hunter2";
    assert_int_equal(webhook_input_check(&in, true, &ck, &why), -1);
    assert_string_equal(why.field, "secret");
    assert_null(strstr(why.why, "hunter2")); /* a secret given is never repeated */
}

static void test_webhook_input_check_names_the_url(void **state)
{
    (void)state;
    const char *ev[] = { "subscriber.created" };
    struct webhook_input in = { .url = "http://10.0.0.1/x", .events = ev, .n_events = 1 };
    struct webhook_checked ck;
    struct webhook_why why;
    assert_int_equal(webhook_input_check(&in, false, &ck, &why), -1);
    assert_string_equal(why.field, "url");
    assert_string_equal(why.why, "url's host 10.0.0.1 is a loopback, link-local or private address"
                                 " ([webhooks] allow_private)");
    in.url = "";
    assert_int_equal(webhook_input_check(&in, true, &ck, &why), -1);
    assert_string_equal(why.why, "url is required");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_webhook_events_literal_table),
        cmocka_unit_test(test_webhook_events_star_is_every_event),
        cmocka_unit_test(test_webhook_input_check_makes_or_checks_the_secret),
        cmocka_unit_test(test_webhook_input_check_names_the_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
