/* test_mailbox_proto - the bounce mailbox URL, IMAP responses and POP3 lines as the client reads them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/mail/mailbox_proto.h"
#include "engine/util/buf.h"

static void test_mailbox_url_parses_each_scheme(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        enum mailbox_proto proto;
        bool tls;
        const char *user, *host;
        unsigned port;
        const char *folder;
    } cases[] = {
        { "imaps://bounces@mail.example.com:993/INBOX", MAILBOX_IMAP, true, "bounces", "mail.example.com", 993, "INBOX" },
        { "imaps://bounces@mail.example.com", MAILBOX_IMAP, true, "bounces", "mail.example.com", 993, "INBOX" },
        { "imap://b%40example.com@127.0.0.1:1143/Bounces%20In", MAILBOX_IMAP, false, "b@example.com", "127.0.0.1", 1143,
          "Bounces In" },
        { "pop3s://bounces@[::1]:1995", MAILBOX_POP3, true, "bounces", "::1", 1995, "" },
        { "POP3://bounces@pop.example.com/", MAILBOX_POP3, false, "bounces", "pop.example.com", 110, "" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mailbox_url u;
        const char *why = NULL;
        assert_int_equal(mailbox_url_parse(cases[i].url, &u, &why), 0);
        assert_int_equal(u.proto, cases[i].proto);
        assert_int_equal(u.implicit_tls, cases[i].tls);
        assert_string_equal(u.user, cases[i].user);
        assert_string_equal(u.host, cases[i].host);
        assert_int_equal(u.port, cases[i].port);
        assert_string_equal(u.folder, cases[i].folder);
    }
}

static void test_mailbox_url_refuses_with_a_reason(void **state)
{
    (void)state;
    static const struct {
        const char *url, *why;
    } cases[] = {
        { "http://bounces@host/", "must start with imaps://, imap://, pop3s:// or pop3://" },
        { "imaps://host/INBOX", "the user is missing (imaps://USER@HOST/FOLDER)" },
        { "imaps://bounces:secret@host/INBOX", "a password does not belong in the URL: put it in [bounce] mailbox_password_file" },
        { "imaps://bounces@host:0/", "the port is not a number from 1 to 65535" },
        { "imaps://bounces@host:99999/", "the port is not a number from 1 to 65535" },
        { "imaps://bounces@/INBOX", "the host is missing" },
        { "imaps://bounces@ho st/", "the host has a character a host name cannot have" },
        { "pop3s://bounces@host/INBOX", "a POP3 mailbox has no folders" },
        { "imaps://bounces@host/IN%0ABOX", "the folder is not valid (too long, a control character or a bad %-escape)" },
        { "imaps://bounces@host/IN?x=1", "a query or fragment is not understood" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mailbox_url u;
        const char *why = NULL;
        assert_int_equal(mailbox_url_parse(cases[i].url, &u, &why), -1);
        assert_string_equal(why, cases[i].why);
    }
}

static int parse(const char *line, struct imap_resp *r)
{
    return imap_resp_parse(line, strlen(line), r);
}

static void test_imap_resp_reads_untagged_tagged_and_codes(void **state)
{
    (void)state;
    struct imap_resp r;
    assert_int_equal(parse("* OK [UIDVALIDITY 1796405294] UIDs valid", &r), 0);
    assert_int_equal(r.kind, IMAP_UNTAGGED);
    assert_int_equal(r.status, IMAP_OK);
    assert_string_equal(r.code, "UIDVALIDITY");
    assert_int_equal(r.code_number, 1796405294u);
    assert_string_equal(r.text, "UIDs valid");

    assert_int_equal(parse("* 23 EXISTS", &r), 0);
    assert_true(r.has_number);
    assert_int_equal(r.number, 23);
    assert_string_equal(r.word, "EXISTS");

    assert_int_equal(parse("p7 NO [AUTHENTICATIONFAILED] Authentication failed.", &r), 0);
    assert_int_equal(r.kind, IMAP_TAGGED);
    assert_string_equal(r.tag, "p7");
    assert_int_equal(r.status, IMAP_NO);
    assert_string_equal(r.code, "AUTHENTICATIONFAILED");
    assert_string_equal(r.text, "Authentication failed.");

    assert_int_equal(parse("* 1 FETCH (UID 41 BODY[] {2048}", &r), 0);
    assert_true(r.has_literal);
    assert_int_equal(r.literal, 2048);

    assert_int_equal(parse("+ idling", &r), 0);
    assert_int_equal(r.kind, IMAP_CONTINUE);

    assert_int_equal(parse("* CAPABILITY IMAP4rev1 IDLE MOVE UIDPLUS STARTTLS", &r), 0);
    assert_string_equal(r.word, "CAPABILITY");
    assert_int_equal(imap_caps_parse(r.text, strlen(r.text)),
                     IMAP_CAP_IMAP4REV1 | IMAP_CAP_IDLE | IMAP_CAP_MOVE | IMAP_CAP_UIDPLUS | IMAP_CAP_STARTTLS);

    /* not IMAP: an empty line, a tag with no status, a tag with a forbidden character, a NUL */
    assert_int_equal(parse("", &r), -1);
    assert_int_equal(parse("p1 HELLO", &r), -1);
    assert_int_equal(parse("p(1 OK done", &r), -1);
    assert_int_equal(imap_resp_parse("* OK\0x", 6, &r), -1);
    /* a literal length that overflows is no literal */
    assert_int_equal(parse("* 1 FETCH (BODY[] {99999999999999999999999}", &r), 0);
    assert_false(r.has_literal);
}

static void test_imap_fetch_reads_uid_size_and_body(void **state)
{
    (void)state;
    struct imap_fetch f;
    const char *t = "(UID 41 RFC822.SIZE 5120)";
    assert_int_equal(imap_fetch_parse(t, strlen(t), false, 0, &f), 0);
    assert_true(f.has_uid && f.has_size && !f.has_body);
    assert_int_equal(f.uid, 41);
    assert_int_equal(f.size, 5120);

    t = "(FLAGS (\\Seen \\Recent) UID 7 BODY[]<0> {65536}";
    assert_int_equal(imap_fetch_parse(t, strlen(t), true, 65536, &f), 0);
    assert_true(f.has_uid && f.has_body);
    assert_int_equal(f.uid, 7);
    assert_int_equal(f.literal, 65536);

    t = "(UID 7 BODY[] {12}";   /* the line's literal was not seen by the caller */
    assert_int_equal(imap_fetch_parse(t, strlen(t), false, 0, &f), -1);
    t = "(UID x)";
    assert_int_equal(imap_fetch_parse(t, strlen(t), false, 0, &f), -1);
    t = "(UID 4294967296)";
    assert_int_equal(imap_fetch_parse(t, strlen(t), false, 0, &f), -1);
    t = "(ENVELOPE (NIL))";
    assert_int_equal(imap_fetch_parse(t, strlen(t), false, 0, &f), -1);
}

static void test_imap_quote_escapes_and_refuses_line_breaks(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    assert_int_equal(imap_quote(&b, "pa\"ss\\word"), 0);
    assert_string_equal(buf_cstr(&b), "\"pa\\\"ss\\\\word\"");
    buf_reset(&b);
    assert_int_equal(imap_quote(&b, "a\r\nb"), -1);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void test_pop3_lines(void **state)
{
    (void)state;
    const char *text, *data;
    size_t dlen;
    uint32_t n;
    char word[16];
    assert_int_equal(pop3_status_parse("+OK Logged in.", 14, &text), 1);
    assert_string_equal(text, "Logged in.");
    assert_int_equal(pop3_status_parse("-ERR [AUTH] Authentication failed.", 34, &text), 0);
    assert_string_equal(text, "[AUTH] Authentication failed.");
    assert_int_equal(pop3_status_parse("+OKAY", 5, &text), -1);
    assert_int_equal(pop3_status_parse("* OK", 4, &text), -1);

    assert_int_equal(pop3_pair_parse("3 000000036b12f82e", 18, &n, word, sizeof(word)), -1);   /* too long for WORD */
    assert_int_equal(pop3_pair_parse("3 5120", 6, &n, word, sizeof(word)), 0);
    assert_int_equal(n, 3);
    assert_string_equal(word, "5120");
    assert_int_equal(pop3_pair_parse("0 5120", 6, &n, word, sizeof(word)), -1);
    assert_int_equal(pop3_pair_parse("3", 1, &n, word, sizeof(word)), -1);
    assert_int_equal(pop3_pair_parse("3 a b", 5, &n, word, sizeof(word)), -1);

    assert_int_equal(pop3_unstuff(".", 1, &data, &dlen), 1);
    assert_int_equal(pop3_unstuff("..hidden", 8, &data, &dlen), 0);
    assert_int_equal(dlen, 7);
    assert_memory_equal(data, ".hidden", 7);
    assert_int_equal(pop3_unstuff("plain", 5, &data, &dlen), 0);
    assert_int_equal(dlen, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mailbox_url_parses_each_scheme),
        cmocka_unit_test(test_mailbox_url_refuses_with_a_reason),
        cmocka_unit_test(test_imap_resp_reads_untagged_tagged_and_codes),
        cmocka_unit_test(test_imap_fetch_reads_uid_size_and_body),
        cmocka_unit_test(test_imap_quote_escapes_and_refuses_line_breaks),
        cmocka_unit_test(test_pop3_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
