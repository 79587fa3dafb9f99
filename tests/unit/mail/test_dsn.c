/* test_dsn - reading DSNs Postfix generated, ARF reports, prose bounces and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/mail/classify.h"
#include "engine/mail/dsn.h"
#include "engine/util/buf.h"
#include "engine/util/file.h"

#define DATA "tests/data/dsn/"

static struct dsn_report *parse_file(const char *name)
{
    char path[256], err[256];
    struct buf b = BUF_INIT;
    snprintf(path, sizeof(path), DATA "%s", name);
    assert_int_equal(file_read(path, 1 << 20, &b, err, sizeof(err)), 0);
    struct dsn_report *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    assert_int_equal(dsn_parse(b.data, b.len, r), 0);
    buf_free(&b);
    return r;
}

static struct dsn_report *parse_text(const char *text)
{
    struct dsn_report *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    assert_int_equal(dsn_parse(text, strlen(text), r), 0);
    return r;
}

static enum bounce_class class_of(const struct dsn_recipient *rc)
{
    return classify_report(rc->status, rc->diagnostic, BOUNCE_NONE, false);
}

static void test_dsn_postfix_hard_5_1_1(void **state)
{
    (void)state;
    struct dsn_report *r = parse_file("postfix_hard_5.1.1.eml");
    assert_int_equal(r->kind, DSN_KIND_DSN);
    assert_int_equal(r->nrcpt, 1);
    assert_string_equal(r->rcpt[0].action, "failed");
    assert_string_equal(r->rcpt[0].status, "5.1.1");
    assert_string_equal(r->rcpt[0].final_rcpt, "user3@example.org");
    assert_string_equal(r->rcpt[0].original_rcpt, "user3@example.org");
    assert_string_equal(r->rcpt[0].remote_mta, "127.0.0.1");
    assert_string_equal(r->rcpt[0].diagnostic,
                        "550 5.1.1 <user3@example.org>: Recipient address rejected: User unknown");
    assert_string_equal(r->reporting_mta, "postino.test");
    assert_string_equal(r->orig_delivery, "3");
    assert_true(strncmp(r->orig_return_path, "bounces+", 8) == 0);
    assert_string_equal(r->orig_to, "user3@example.org");
    assert_true(strncmp(r->envelope_to, "", 1) == 0);
    assert_string_equal(r->from, "Mail Delivery System <MAILER-DAEMON@postino.test>");
    assert_true(r->message_id[0] == '<');
    assert_int_equal(class_of(&r->rcpt[0]), BOUNCE_HARD);
    free(r);
}

static void test_dsn_postfix_expired_4_2_0_is_soft(void **state)
{
    (void)state;
    struct dsn_report *r = parse_file("postfix_expired_4.2.0.eml");
    assert_int_equal(r->kind, DSN_KIND_DSN);
    assert_int_equal(r->nrcpt, 1);
    assert_string_equal(r->rcpt[0].action, "failed");
    assert_string_equal(r->rcpt[0].status, "4.2.0");
    assert_string_equal(r->rcpt[0].final_rcpt, "user13@example.org");
    assert_string_equal(r->orig_delivery, "13");
    assert_int_equal(class_of(&r->rcpt[0]), BOUNCE_SOFT);
    free(r);
}

static void test_dsn_postfix_mailbox_full_is_soft(void **state)
{
    (void)state;
    struct dsn_report *r = parse_file("postfix_full_5.2.2.eml");
    assert_int_equal(r->kind, DSN_KIND_DSN);
    assert_string_equal(r->rcpt[0].status, "5.2.2");
    assert_string_equal(r->rcpt[0].final_rcpt, "user11@example.org");
    assert_int_equal(class_of(&r->rcpt[0]), BOUNCE_SOFT);
    free(r);
}

static void test_dsn_delayed_is_read_as_delayed(void **state)
{
    (void)state;
    struct dsn_report *r = parse_file("postfix_delayed.eml");
    assert_int_equal(r->kind, DSN_KIND_DSN);
    assert_int_equal(r->nrcpt, 1);
    assert_string_equal(r->rcpt[0].action, "delayed");
    assert_string_equal(r->rcpt[0].status, "4.4.1");
    assert_string_equal(r->rcpt[0].diagnostic, "connect to mx.example.org[192.0.2.1]:25: Connection refused");
    free(r);
}

static void test_dsn_arf_abuse(void **state)
{
    (void)state;
    struct dsn_report *r = parse_file("arf_abuse.eml");
    assert_int_equal(r->kind, DSN_KIND_ARF);
    assert_string_equal(r->feedback_type, "abuse");
    assert_string_equal(r->arf_rcpt_to, "user2@example.org");
    assert_string_equal(r->arf_mail_from, "bounces+garbage@bounce.test");
    assert_string_equal(r->orig_delivery, "@DELIVERY@");
    assert_string_equal(r->orig_to, "user2@example.org");
    assert_string_equal(r->reporting_mta, "");
    free(r);
}

static void test_dsn_qmail_prose(void **state)
{
    (void)state;
    struct dsn_report *r = parse_file("qmail_5.1.1.eml");
    assert_int_equal(r->kind, DSN_KIND_TEXT);
    assert_int_equal(r->naddrs, 1);
    assert_string_equal(r->addrs[0], "user9@example.org");
    assert_string_equal(r->text_status, "5.1.1");
    assert_non_null(strstr(r->text_diagnostic, "User unknown"));
    assert_string_equal(r->orig_delivery, "42");
    assert_string_equal(r->orig_to, "user9@example.org");
    assert_int_equal(classify_report(r->text_status, r->text_diagnostic, BOUNCE_NONE, false), BOUNCE_HARD);
    free(r);
}

static void test_dsn_exchange_prose(void **state)
{
    (void)state;
    struct dsn_report *r = parse_file("exchange_text.eml");
    assert_int_equal(r->kind, DSN_KIND_TEXT);
    assert_int_equal(r->naddrs, 1);
    assert_string_equal(r->addrs[0], "jane.doe@corp.example.net");
    assert_string_equal(r->text_status, "5.1.1");
    assert_non_null(strstr(r->text_diagnostic, "does not exist"));
    assert_string_equal(r->message_id, "<ndr.77@corp.example.net>");
    free(r);
}

static void test_dsn_auto_reply_is_not_a_bounce(void **state)
{
    (void)state;
    struct dsn_report *r = parse_file("vacation.eml");
    struct dsn_verdict v;
    assert_int_equal(r->kind, DSN_KIND_AUTOREPLY);
    assert_int_equal(r->nrcpt, 0);
    assert_int_equal(r->naddrs, 0);
    assert_int_equal(dsn_verdict(r, NULL, NULL, &v), 0);
    assert_int_equal(v.cls, BOUNCE_AUTOREPLY);
    assert_string_equal(v.recipient, "jane@example.org");
    assert_string_equal(dsn_kind_name(r->kind), "autoreply");
    free(r);
}

static void test_dsn_report_without_recipients_is_other(void **state)
{
    (void)state;
    struct dsn_report *r = parse_text("Content-Type: multipart/report; report-type=delivery-status; boundary=x\n\n"
                                      "--x\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; a.b\n\n--x--\n");
    assert_int_equal(r->kind, DSN_KIND_OTHER);
    free(r);
}

static void test_dsn_many_recipients_bounded(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    buf_appends(&b, "Content-Type: multipart/report; report-type=delivery-status; boundary=x\n\n--x\n"
                    "Content-Type: message/delivery-status\n\nReporting-MTA: dns; a.b\n");
    for (int i = 0; i < 100; i++)
        buf_appendf(&b, "\nFinal-Recipient: rfc822; u%d@example.org\nAction: failed\nStatus: 5.1.1 (bad)\n", i);
    buf_appends(&b, "\n--x--\n");
    struct dsn_report *r = parse_text(buf_cstr(&b));
    assert_int_equal(r->kind, DSN_KIND_DSN);
    assert_int_equal(r->nrcpt, DSN_MAX_RCPTS);
    assert_string_equal(r->rcpt[15].final_rcpt, "u15@example.org");
    assert_string_equal(r->rcpt[15].status, "5.1.1");
    buf_free(&b);
    free(r);
}

static void test_dsn_deep_nesting_is_bounded(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    buf_appends(&b, "From: MAILER-DAEMON@x.example\nSubject: Undelivered\n");
    for (int i = 0; i < 5000; i++)
        buf_appendf(&b, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i);
    buf_appends(&b, "Content-Type: text/plain\n\nuser1@example.org: 550 5.1.1 unknown\n");
    struct dsn_report *r = parse_text(buf_cstr(&b));
    assert_int_equal(r->kind, DSN_KIND_TEXT);
    buf_free(&b);
    free(r);
}

static void test_dsn_binary_garbage(void **state)
{
    (void)state;
    char junk[4096];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (char)(i * 7919 % 256);
    struct dsn_report *r = calloc(1, sizeof(*r));
    assert_int_equal(dsn_parse(junk, sizeof(junk), r), 0);
    assert_int_equal(dsn_parse("", 0, r), 0);
    assert_int_equal(r->kind, DSN_KIND_OTHER);
    free(r);
}

static void test_dsn_verp_token(void **state)
{
    (void)state;
    char tok[64];
    assert_int_equal(dsn_verp_token("bounces+abc23@bounce.test", "bounces", tok, sizeof(tok)), 0);
    assert_string_equal(tok, "abc23");
    assert_int_equal(dsn_verp_token("<Bounces+XYZ@bounce.test>", "bounces", tok, sizeof(tok)), 0);
    assert_string_equal(tok, "XYZ");
    assert_int_equal(dsn_verp_token("bounces@bounce.test", "bounces", tok, sizeof(tok)), -1);
    assert_int_equal(dsn_verp_token("bounces+@bounce.test", "bounces", tok, sizeof(tok)), -1);
    assert_int_equal(dsn_verp_token("other+abc@bounce.test", "bounces", tok, sizeof(tok)), -1);
    assert_int_equal(dsn_verp_token("bouncesx+abc@bounce.test", "bounces", tok, sizeof(tok)), -1);
    assert_int_equal(dsn_verp_token("bounces+abc", "bounces", tok, sizeof(tok)), -1);
    assert_int_equal(dsn_verp_token("bounces+abcdef@b.test", "bounces", tok, 4), -1);
    assert_int_equal(dsn_verp_token(NULL, "bounces", tok, sizeof(tok)), -1);
}

static void test_dsn_kind_names(void **state)
{
    (void)state;
    assert_string_equal(dsn_kind_name(DSN_KIND_DSN), "dsn");
    assert_string_equal(dsn_kind_name(DSN_KIND_ARF), "arf");
    assert_string_equal(dsn_kind_name(DSN_KIND_TEXT), "text");
    assert_string_equal(dsn_kind_name(DSN_KIND_OTHER), "other");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dsn_postfix_hard_5_1_1),
        cmocka_unit_test(test_dsn_postfix_expired_4_2_0_is_soft),
        cmocka_unit_test(test_dsn_postfix_mailbox_full_is_soft),
        cmocka_unit_test(test_dsn_delayed_is_read_as_delayed),
        cmocka_unit_test(test_dsn_arf_abuse),
        cmocka_unit_test(test_dsn_qmail_prose),
        cmocka_unit_test(test_dsn_exchange_prose),
        cmocka_unit_test(test_dsn_auto_reply_is_not_a_bounce),
        cmocka_unit_test(test_dsn_report_without_recipients_is_other),
        cmocka_unit_test(test_dsn_many_recipients_bounded),
        cmocka_unit_test(test_dsn_deep_nesting_is_bounded),
        cmocka_unit_test(test_dsn_binary_garbage),
        cmocka_unit_test(test_dsn_verp_token),
        cmocka_unit_test(test_dsn_kind_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
