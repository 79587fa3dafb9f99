/* test_smtp_reply - SMTP reply parsing, enhanced codes, queue ids and EHLO extensions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/mail/smtp_reply.h"

/* parse - parse S whole; returns what smtp_reply_parse returned. */
static int parse(const char *s, struct smtp_reply *r, size_t *used)
{
    return smtp_reply_parse(s, strlen(s), r, used);
}

static void test_smtp_reply_single_line(void **state)
{
    (void)state;
    struct smtp_reply r;
    size_t used = 0;
    smtp_reply_init(&r);
    assert_int_equal(parse("220 mx.example.org ESMTP Postfix\r\n", &r, &used), 1);
    assert_int_equal(r.code, 220);
    assert_string_equal(r.enhanced, "");
    assert_string_equal(r.text.data, "mx.example.org ESMTP Postfix");
    assert_int_equal(r.lines, 1);
    assert_int_equal(used, 34);
    smtp_reply_free(&r);
}

static void test_smtp_reply_multi_line_joins_text(void **state)
{
    (void)state;
    const char *s = "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n"
                    "250 2.1.0 Ok\r\n";
    struct smtp_reply r;
    size_t used = 0;
    smtp_reply_init(&r);
    assert_int_equal(parse(s, &r, &used), 1);
    assert_int_equal(r.code, 250);
    assert_int_equal(r.lines, 4);
    assert_string_equal(r.text.data, "mx.example.org\nPIPELINING\nSIZE 10240000\n8BITMIME");
    assert_int_equal(used, strlen(s) - strlen("250 2.1.0 Ok\r\n"));
    /* The next reply follows in the same buffer. */
    assert_int_equal(smtp_reply_parse(s + used, strlen(s) - used, &r, &used), 1);
    assert_string_equal(r.enhanced, "2.1.0");
    assert_string_equal(r.text.data, "Ok");
    smtp_reply_free(&r);
}

static void test_smtp_reply_enhanced_code_every_line(void **state)
{
    (void)state;
    struct smtp_reply r;
    size_t used;
    smtp_reply_init(&r);
    assert_int_equal(parse("550-5.1.1 <nobody@example.org>: Recipient address rejected:\r\n"
                           "550 5.1.1 User unknown in virtual mailbox table\r\n", &r, &used), 1);
    assert_int_equal(r.code, 550);
    assert_string_equal(r.enhanced, "5.1.1");
    assert_string_equal(r.text.data, "<nobody@example.org>: Recipient address rejected:\n"
                                     "User unknown in virtual mailbox table");
    smtp_reply_free(&r);
}

static void test_smtp_reply_enhanced_code_must_match_class(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *enhanced;
        const char *text;
    } cases[] = {
        { "451 4.7.1 Try again later\r\n", "4.7.1", "Try again later" },
        { "451 5.7.1 Class differs\r\n", "", "5.7.1 Class differs" },
        { "250 2.0.0\r\n", "2.0.0", "" },
        { "554 5.7.12x no\r\n", "", "5.7.12x no" },
        { "421 4.4.2 mx.example.org Error: timeout exceeded\r\n", "4.4.2",
          "mx.example.org Error: timeout exceeded" },
        { "535 5.7.8 Error: authentication failed: authentication failure\r\n", "5.7.8",
          "Error: authentication failed: authentication failure" },
        { "250 2.123.456 long parts\r\n", "2.123.456", "long parts" },
        { "250 2.1234.5 too long\r\n", "", "2.1234.5 too long" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct smtp_reply r;
        size_t used;
        smtp_reply_init(&r);
        assert_int_equal(parse(cases[i].in, &r, &used), 1);
        assert_string_equal(r.enhanced, cases[i].enhanced);
        assert_string_equal(r.text.data, cases[i].text);
        smtp_reply_free(&r);
    }
}

static void test_smtp_reply_bare_code_and_bare_lf(void **state)
{
    (void)state;
    struct smtp_reply r;
    size_t used;
    smtp_reply_init(&r);
    assert_int_equal(parse("354\n", &r, &used), 1);
    assert_int_equal(r.code, 354);
    assert_string_equal(r.text.data, "");
    assert_int_equal(used, 4);
    assert_int_equal(parse("250-a\n250 b\n", &r, &used), 1);
    assert_string_equal(r.text.data, "a\nb");
    smtp_reply_free(&r);
}

static void test_smtp_reply_incomplete_needs_more(void **state)
{
    (void)state;
    static const char *cases[] = {
        "", "2", "25", "250", "250 Ok", "250 Ok\r", "250-first\r\n", "250-first\r\n250",
        "250-first\r\n250 last",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct smtp_reply r;
        size_t used = 99;
        smtp_reply_init(&r);
        assert_int_equal(parse(cases[i], &r, &used), 0);
        assert_int_equal(used, 99);
        assert_int_equal(r.code, 0);
        smtp_reply_free(&r);
    }
}

static void test_smtp_reply_malformed(void **state)
{
    (void)state;
    static const char *cases[] = {
        "hello\r\n",                 /* no code */
        "25\r\n",                    /* short code */
        "199 too low\r\n",           /* first digit not 2..5 */
        "600 too high\r\n",
        "2x0 letters\r\n",
        "250_bad separator\r\n",
        "250-first\r\n251 other code\r\n",
        "250-first\r\n5",            /* a different code, seen early */
        "abc",                       /* incomplete but already wrong */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct smtp_reply r;
        size_t used;
        smtp_reply_init(&r);
        assert_int_equal(parse(cases[i], &r, &used), -1);
        smtp_reply_free(&r);
    }
}

static void test_smtp_reply_line_too_long_is_malformed(void **state)
{
    (void)state;
    size_t n = SMTP_REPLY_LINE_MAX + 10;
    char *s = test_malloc(n + 1);
    memcpy(s, "250 ", 4);
    memset(s + 4, 'x', n - 4);
    s[n] = 0;
    struct smtp_reply r;
    size_t used;
    smtp_reply_init(&r);
    assert_int_equal(smtp_reply_parse(s, n, &r, &used), -1);
    /* Exactly the limit, with its CRLF, is fine. */
    memcpy(s + SMTP_REPLY_LINE_MAX, "\r\n", 2);
    assert_int_equal(smtp_reply_parse(s, SMTP_REPLY_LINE_MAX + 2, &r, &used), 1);
    assert_int_equal(r.text.len, SMTP_REPLY_LINE_MAX - 4);
    smtp_reply_free(&r);
    test_free(s);
}

static void test_smtp_reply_too_many_lines_is_malformed(void **state)
{
    (void)state;
    size_t n = (SMTP_REPLY_LINES_MAX + 1) * 6;
    char *s = test_malloc(n + 1);
    for (size_t i = 0; i < SMTP_REPLY_LINES_MAX + 1; i++)
        memcpy(s + i * 6, "250-x\n", 6);
    s[n - 3] = ' ';
    s[n] = 0;
    struct smtp_reply r;
    size_t used;
    smtp_reply_init(&r);
    assert_int_equal(smtp_reply_parse(s, n, &r, &used), -1);
    /* One line fewer is a reply. */
    assert_int_equal(smtp_reply_parse(s + 6, n - 6, &r, &used), 1);
    assert_int_equal(r.lines, SMTP_REPLY_LINES_MAX);
    smtp_reply_free(&r);
    test_free(s);
}

static void test_smtp_reply_queue_id_forms(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *id;
    } cases[] = {
        { "Ok: queued as 4Xyz1aBcDzz", "4Xyz1aBcDzz" },
        { "Ok: queued as 9F3A21C0D2E", "9F3A21C0D2E" },
        { "OK id=1qABCD-0001Xy-2a", "1qABCD-0001Xy-2a" },
        { "x1ABcdEF012345 Message accepted for delivery", "x1ABcdEF012345" },
        { "Message accepted for delivery", "" },
        { "Ok", "" },
        { "queued as ", "" },
        { "Ok: queued as ABC123.", "ABC123" },
        { "Ok (queued as XYZ)", "XYZ" },
        { "valid=1", "" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char id[64] = "junk";
        size_t n = smtp_reply_queue_id(cases[i].text, id, sizeof(id));
        assert_string_equal(id, cases[i].id);
        assert_int_equal(n, strlen(cases[i].id));
    }
    char small[4];
    assert_int_equal(smtp_reply_queue_id("Ok: queued as ABCDEFG", small, sizeof(small)), 0);
    assert_string_equal(small, "");
}

static void test_smtp_reply_queue_id_from_parsed_reply(void **state)
{
    (void)state;
    struct smtp_reply r;
    size_t used;
    char id[64];
    smtp_reply_init(&r);
    assert_int_equal(parse("250 2.0.0 Ok: queued as 4Xyz1aBcDzz\r\n", &r, &used), 1);
    assert_int_equal(smtp_reply_queue_id(r.text.data, id, sizeof(id)), 11);
    assert_string_equal(id, "4Xyz1aBcDzz");
    smtp_reply_free(&r);
}

/* the reply on one line as the server gave it: one blank between the parts, never two */
static void test_smtp_reply_line_as_given(void **state)
{
    (void)state;
    static const struct {
        const char *wire;
        const char *line;
    } cases[] = {
        { "535 5.7.8 Authentication failed\r\n", "535 5.7.8 Authentication failed" },
        { "535 Authentication failed\r\n", "535 Authentication failed" },
        { "535 Incorrect authentication data\r\n", "535 Incorrect authentication data" },
        { "550-5.1.1 <a@b>: Recipient address rejected:\r\n550 5.1.1 User unknown\r\n",
          "550 5.1.1 <a@b>: Recipient address rejected: User unknown" },
        { "250\r\n", "250" },
        { "554 5.7.1\r\n", "554 5.7.1" },
        { "421 bad\x01\x7f byte\r\n", "421 bad?? byte" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct smtp_reply r;
        size_t used;
        char line[128];
        smtp_reply_init(&r);
        assert_int_equal(parse(cases[i].wire, &r, &used), 1);
        assert_string_equal(smtp_reply_line(r.code, r.enhanced, r.text.data ? r.text.data : "", line, sizeof(line)),
                            cases[i].line);
        smtp_reply_free(&r);
    }
    char line[64];
    /* no reply at all: what went wrong locally, alone */
    assert_string_equal(smtp_reply_line(0, "", "the server closed the connection", line, sizeof(line)),
                        "the server closed the connection");
    /* cut to the room given */
    assert_string_equal(smtp_reply_line(550, "5.1.1", "a long text", line, 12), "550 5.1.1 a");
}

static void test_smtp_ehlo_extensions(void **state)
{
    (void)state;
    struct smtp_reply r;
    struct smtp_ext ext;
    size_t used;
    smtp_reply_init(&r);
    assert_int_equal(parse("250-postino.test\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n"
                           "250-VRFY\r\n250-ETRN\r\n250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n"
                           "250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n", &r, &used), 1);
    smtp_ehlo_parse(&r, &ext);
    assert_int_equal(ext.flags, SMTP_EXT_PIPELINING | SMTP_EXT_SIZE | SMTP_EXT_AUTH |
                                    SMTP_EXT_ENHANCEDSTATUSCODES | SMTP_EXT_8BITMIME | SMTP_EXT_DSN |
                                    SMTP_EXT_SMTPUTF8 | SMTP_EXT_CHUNKING);
    assert_int_equal(ext.auth, SMTP_AUTH_PLAIN | SMTP_AUTH_LOGIN);
    assert_int_equal(ext.size, 52428800);

    assert_int_equal(parse("250-mx\r\n250-starttls\r\n250-AUTH=LOGIN\r\n250-AUTH CRAM-MD5 XOAUTH2 GSSAPI\r\n"
                           "250 SIZE\r\n", &r, &used), 1);
    smtp_ehlo_parse(&r, &ext);
    assert_int_equal(ext.flags, SMTP_EXT_STARTTLS | SMTP_EXT_AUTH | SMTP_EXT_SIZE);
    assert_int_equal(ext.auth, SMTP_AUTH_LOGIN | SMTP_AUTH_CRAM_MD5 | SMTP_AUTH_XOAUTH2 | SMTP_AUTH_OTHER);
    assert_int_equal(ext.size, 0);

    /* The greeting line is not an extension, and a refusal announces none. */
    assert_int_equal(parse("250 STARTTLS\r\n", &r, &used), 1);
    smtp_ehlo_parse(&r, &ext);
    assert_int_equal(ext.flags, 0);
    assert_int_equal(parse("502-PIPELINING\r\n502 5.5.2 Error: command not recognized\r\n", &r, &used), 1);
    smtp_ehlo_parse(&r, &ext);
    assert_int_equal(ext.flags, 0);
    smtp_reply_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smtp_reply_single_line),
        cmocka_unit_test(test_smtp_reply_multi_line_joins_text),
        cmocka_unit_test(test_smtp_reply_enhanced_code_every_line),
        cmocka_unit_test(test_smtp_reply_enhanced_code_must_match_class),
        cmocka_unit_test(test_smtp_reply_bare_code_and_bare_lf),
        cmocka_unit_test(test_smtp_reply_incomplete_needs_more),
        cmocka_unit_test(test_smtp_reply_malformed),
        cmocka_unit_test(test_smtp_reply_line_too_long_is_malformed),
        cmocka_unit_test(test_smtp_reply_too_many_lines_is_malformed),
        cmocka_unit_test(test_smtp_reply_queue_id_forms),
        cmocka_unit_test(test_smtp_reply_queue_id_from_parsed_reply),
        cmocka_unit_test(test_smtp_reply_line_as_given),
        cmocka_unit_test(test_smtp_ehlo_extensions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
