/* test_hook_events - email services' webhook payloads (tests/data/provider_hooks) to bounce events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine/mail/hook_events.h"

#define DATA "tests/data/provider_hooks/"

/* the events of fixture FILE for P as one line: "email type status reason|..." ('-' for none) */
static char *map_file(enum hook_provider p, const char *file, size_t *ignored)
{
    static char line[4096];
    char err[256];
    json_error_t je;
    json_t *payload = json_load_file(file, 0, &je), *events = NULL, *ev;
    assert_non_null(payload);
    assert_int_equal(hook_events_map(p, payload, &events, ignored, err, sizeof(err)), 0);
    size_t i, n = 0;
    line[0] = 0;
    json_array_foreach(events, i, ev) {
        const char *st = json_string_value(json_object_get(ev, "status"));
        const char *re = json_string_value(json_object_get(ev, "reason"));
        n += snprintf(line + n, sizeof(line) - n, "%s%s %s %s %s", i ? "|" : "",
                      json_string_value(json_object_get(ev, "email")), json_string_value(json_object_get(ev, "type")),
                      st ? st : "-", re ? re : "-");
    }
    json_decref(events);
    json_decref(payload);
    return line;
}

static void test_hook_events_ses_permanent_bounce_keeps_its_status_for_the_classifier(void **state)
{
    (void)state;
    size_t ign;
    assert_string_equal(map_file(HOOK_SES, DATA "ses_bounce_permanent.json", &ign),
                        "ses-hard@example.org bounce 5.1.1 smtp; 550 5.1.1 user unknown");
    assert_int_equal(ign, 0);
}

static void test_hook_events_ses_transient_without_status_is_soft(void **state)
{
    (void)state;
    size_t ign;
    assert_string_equal(map_file(HOOK_SES, DATA "ses_bounce_transient.json", &ign),
                        "ses-full@example.org soft - Amazon SES: Transient bounce, MailboxFull");
    assert_int_equal(ign, 0);
}

static void test_hook_events_ses_complaint_and_delivery(void **state)
{
    (void)state;
    size_t ign;
    assert_string_equal(map_file(HOOK_SES, DATA "ses_complaint.json", &ign),
                        "ses-complaint@example.org complaint - Amazon SES complaint: abuse");
    assert_int_equal(ign, 0);
    assert_string_equal(map_file(HOOK_SES, DATA "ses_delivery.json", &ign), "");
    assert_int_equal(ign, 1);
}

static void test_hook_events_sendgrid_batch(void **state)
{
    (void)state;
    size_t ign;
    assert_string_equal(map_file(HOOK_SENDGRID, DATA "sendgrid_events.json", &ign),
                        "sg-hard@example.org bounce 5.0.0 500 unknown recipient"
                        "|sg-blocked@example.org bounce 5.7.1 550 5.7.1 Service unavailable; client host blocked using Spamhaus"
                        "|sg-dropped@example.org hard - SendGrid dropped the message: Bounced Address"
                        "|sg-spam@example.org complaint - SendGrid spam report");
    assert_int_equal(ign, 2);   /* deferred, delivered */
}

static void test_hook_events_postmark_bounce_and_complaint(void **state)
{
    (void)state;
    size_t ign;
    assert_string_equal(map_file(HOOK_POSTMARK, DATA "postmark_bounce.json", &ign),
                        "pm-hard@example.org hard - Test bounce details");
    assert_int_equal(ign, 0);
    assert_string_equal(map_file(HOOK_POSTMARK, DATA "postmark_spam_complaint.json", &ign),
                        "pm-spam@example.org complaint - Postmark spam complaint");
    assert_int_equal(ign, 0);
}

static void test_hook_events_mailgun_failed_and_complained(void **state)
{
    (void)state;
    size_t ign;
    assert_string_equal(map_file(HOOK_MAILGUN, DATA "mailgun_failed_permanent.json", &ign),
                        "mg-hard@example.org bounce 5.1.1 550 5.1.1 The email account that you tried to reach does not exist.");
    assert_int_equal(ign, 0);
    assert_string_equal(map_file(HOOK_MAILGUN, DATA "mailgun_failed_temporary.json", &ign), "");
    assert_int_equal(ign, 1);
    assert_string_equal(map_file(HOOK_MAILGUN, DATA "mailgun_complained.json", &ign),
                        "mg-spam@example.org complaint - Mailgun complaint");
    assert_int_equal(ign, 0);
}

/* the provider's verdict when no code is given, for each kind it names */
static void test_hook_events_verdicts_without_a_code(void **state)
{
    (void)state;
    static const struct { enum hook_provider p; const char *json, *want; size_t ignored; } cases[] = {
        { HOOK_POSTMARK, "{\"RecordType\":\"Bounce\",\"ID\":1,\"Type\":\"SoftBounce\",\"Email\":\"a@example.org\"}",
          "a@example.org soft - -", 0 },
        { HOOK_POSTMARK, "{\"RecordType\":\"Bounce\",\"ID\":1,\"Type\":\"Blocked\",\"Email\":\"a@example.org\"}",
          "a@example.org policy - -", 0 },
        { HOOK_POSTMARK, "{\"RecordType\":\"Bounce\",\"ID\":1,\"Type\":\"AutoResponder\",\"Email\":\"a@example.org\"}",
          "", 1 },
        { HOOK_POSTMARK, "{\"RecordType\":\"Delivery\",\"Email\":\"a@example.org\"}", "", 1 },
        { HOOK_POSTMARK,
          "{\"RecordType\":\"Bounce\",\"ID\":1,\"Type\":\"HardBounce\",\"Email\":\"a@example.org\","
          "\"Details\":\"smtp;552 5.2.2 mailbox full\"}",
          "a@example.org bounce 5.2.2 smtp;552 5.2.2 mailbox full", 0 },
        { HOOK_SES,
          "{\"notificationType\":\"Bounce\",\"bounce\":{\"bounceType\":\"Permanent\",\"bounceSubType\":\"Suppressed\","
          "\"bouncedRecipients\":[{\"emailAddress\":\"a@example.org\"},{\"emailAddress\":\"b@example.org\"}]}}",
          "a@example.org hard - Amazon SES: Permanent bounce, Suppressed|b@example.org hard - Amazon SES: Permanent "
          "bounce, Suppressed", 0 },
        { HOOK_SES,
          "{\"eventType\":\"Complaint\",\"complaint\":{\"complaintFeedbackType\":\"not-spam\","
          "\"complainedRecipients\":[{\"emailAddress\":\"a@example.org\"}]}}", "", 1 },
        { HOOK_SENDGRID, "[{\"event\":\"bounce\",\"type\":\"blocked\",\"email\":\"a@example.org\"}, 7, {}]",
          "a@example.org policy - -", 2 },
        { HOOK_SENDGRID, "[{\"event\":\"dropped\",\"reason\":\"Unsubscribed Address\",\"email\":\"a@example.org\"}]",
          "", 1 },
        { HOOK_MAILGUN,
          "{\"event-data\":{\"event\":\"failed\",\"severity\":\"permanent\",\"reason\":\"suppress-bounce\","
          "\"recipient\":\"a@example.org\",\"delivery-status\":{\"code\":605,"
          "\"description\":\"Not delivering to previously bounced address\"}}}",
          "a@example.org hard - 605 Not delivering to previously bounced address", 0 },
        { HOOK_MAILGUN,
          "{\"event-data\":{\"event\":\"failed\",\"severity\":\"temporary\",\"reason\":\"old\","
          "\"recipient\":\"a@example.org\",\"delivery-status\":{\"code\":498,\"message\":\"No MX for example.org\"}}}",
          "a@example.org soft - 498 No MX for example.org", 0 },
        { HOOK_MAILGUN, "{\"event-data\":{\"event\":\"failed\",\"severity\":\"permanent\"}}", "", 1 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[256], line[1024] = "";
        size_t ign = 99, n = 0, j;
        json_t *payload = json_loads(cases[i].json, 0, NULL), *events, *ev;
        assert_non_null(payload);
        assert_int_equal(hook_events_map(cases[i].p, payload, &events, &ign, err, sizeof(err)), 0);
        json_array_foreach(events, j, ev) {
            const char *st = json_string_value(json_object_get(ev, "status"));
            const char *re = json_string_value(json_object_get(ev, "reason"));
            n += snprintf(line + n, sizeof(line) - n, "%s%s %s %s %s", j ? "|" : "",
                          json_string_value(json_object_get(ev, "email")),
                          json_string_value(json_object_get(ev, "type")), st ? st : "-", re ? re : "-");
        }
        if (strcmp(line, cases[i].want) != 0 || ign != cases[i].ignored)
            fail_msg("case %zu: \"%s\" (%zu ignored), expected \"%s\" (%zu)", i, line, ign, cases[i].want,
                     cases[i].ignored);
        json_decref(events);
        json_decref(payload);
    }
}

static void test_hook_events_refuses_a_payload_of_another_shape(void **state)
{
    (void)state;
    char err[256];
    size_t ign;
    json_t *obj = json_object(), *arr = json_array(), *events = (json_t *)1;
    assert_int_equal(hook_events_map(HOOK_SENDGRID, obj, &events, &ign, err, sizeof(err)), -1);
    assert_null(events);
    assert_string_equal(err, "a sendgrid webhook's payload is a JSON array");
    assert_int_equal(hook_events_map(HOOK_MAILGUN, arr, &events, &ign, err, sizeof(err)), -1);
    assert_string_equal(err, "a mailgun webhook's payload is a JSON object");
    json_decref(obj);
    json_decref(arr);
}

static void test_hook_events_long_reason_is_cut_on_a_character(void **state)
{
    (void)state;
    char err[256], text[HOOK_REASON_MAX + 64];
    size_t ign;
    memset(text, 'a', HOOK_REASON_MAX - 1);
    strcpy(text + HOOK_REASON_MAX - 1, "\xc3\xa9\xc3\xa9 and more");   /* é straddles the limit */
    json_t *p = json_pack("{s:s, s:I, s:s, s:s, s:s}", "RecordType", "Bounce", "ID", (json_int_t)1, "Type",
                          "HardBounce", "Email", "a@example.org", "Details", text), *events;
    assert_int_equal(hook_events_map(HOOK_POSTMARK, p, &events, &ign, err, sizeof(err)), 0);
    const char *r = json_string_value(json_object_get(json_array_get(events, 0), "reason"));
    assert_int_equal(strlen(r), HOOK_REASON_MAX - 1);
    json_decref(events);
    json_decref(p);
}

static void test_hook_status_in_text_finds_a_whole_code(void **state)
{
    (void)state;
    char st[16];
    assert_int_equal(hook_status_in_text("smtp; 550 5.1.1 user unknown", st), 0);
    assert_string_equal(st, "5.1.1");
    assert_int_equal(hook_status_in_text("452 4.2.2 over quota", st), 0);
    assert_string_equal(st, "4.2.2");
    assert_int_equal(hook_status_in_text("version 15.1.1.2 and 2.0.0 ok", st), -1);
    assert_int_equal(hook_status_in_text("5.1234.1", st), -1);
    assert_int_equal(hook_status_in_text("", st), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hook_events_ses_permanent_bounce_keeps_its_status_for_the_classifier),
        cmocka_unit_test(test_hook_events_ses_transient_without_status_is_soft),
        cmocka_unit_test(test_hook_events_ses_complaint_and_delivery),
        cmocka_unit_test(test_hook_events_sendgrid_batch),
        cmocka_unit_test(test_hook_events_postmark_bounce_and_complaint),
        cmocka_unit_test(test_hook_events_mailgun_failed_and_complained),
        cmocka_unit_test(test_hook_events_verdicts_without_a_code),
        cmocka_unit_test(test_hook_events_refuses_a_payload_of_another_shape),
        cmocka_unit_test(test_hook_events_long_reason_is_cut_on_a_character),
        cmocka_unit_test(test_hook_status_in_text_finds_a_whole_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
