/* test_mailbox - the IMAP and POP3 client's sessions against scripted servers (a socket pair, no TLS). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/net/mailbox.h"
#include "engine/util/buf.h"

struct seen {
    struct buf msgs;   /* "id|too_large|size|data\n" for each */
    int answer;        /* what the callback returns */
};

static int on_msg(void *arg, const struct mailbox_msg *m)
{
    struct seen *s = arg;
    buf_appendf(&s->msgs, "%s|%d|%llu|", m->id, m->too_large, (unsigned long long)m->size);
    buf_append(&s->msgs, m->data, m->len);
    buf_appendc(&s->msgs, '\n');
    return s->answer;
}

/* run a session against SCRIPT: the commands the client sent into SENT; the pass's result */
static int run(enum mailbox_proto proto, const char *move_to, const char *script, struct seen *s, struct buf *sent,
               char *err, size_t errlen)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(write(sv[1], script, strlen(script)), (ssize_t)strlen(script));
    shutdown(sv[1], SHUT_WR);
    struct mailbox_url u = { .proto = proto, .implicit_tls = true, .user = "bounces", .host = "127.0.0.1",
                             .port = 993, .folder = "INBOX" };
    struct mailbox_opts o = { .url = &u, .password = "p\"w", .move_to = move_to, .max_size = 1000,
                              .head_bytes = 12, .timeout_s = 1, .stop_fd = -1 };
    struct mailbox *mb = mailbox__open_fd(&o, sv[0], 0, err, errlen);
    int rc = -9;
    if (mb) {
        unsigned nread = 0, removed = 0;
        rc = mailbox_pass(mb, on_msg, s, &nread, &removed, err, errlen);
        mailbox_close(mb);
    }
    char chunk[4096];
    ssize_t n;
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    while ((n = read(sv[1], chunk, sizeof(chunk))) > 0)
        buf_append(sent, chunk, (size_t)n);
    buf_cstr(sent);
    close(sv[1]);
    return rc;
}

static const char imap_script[] =
    "* OK Dovecot ready.\r\n"
    "* CAPABILITY IMAP4rev1 IDLE MOVE UIDPLUS\r\np1 OK done\r\n"
    "p2 OK [CAPABILITY IMAP4rev1 IDLE MOVE UIDPLUS] Logged in\r\n"
    "* 2 EXISTS\r\n* OK [UIDVALIDITY 77] UIDs valid\r\np3 OK [READ-WRITE] Select completed.\r\n"
    "p4 OK NOOP completed.\r\n"
    "* 1 FETCH (UID 5 RFC822.SIZE 26)\r\n* 2 FETCH (UID 9 RFC822.SIZE 5000)\r\np5 OK Fetch completed.\r\n"
    "* 1 FETCH (UID 5 BODY[] {26}\r\nSubject: a\r\n\r\nbody {3}\r\n\r\n)\r\np6 OK Fetch completed.\r\n"
    "* 2 FETCH (UID 9 BODY[]<0> {12}\r\nSubject: big)\r\np7 OK Fetch completed.\r\n"
    "* 1 EXPUNGE\r\n* 1 EXPUNGE\r\np8 OK Move completed.\r\n"
    "* BYE Logging out\r\np9 OK Logout completed.\r\n";

static void test_mailbox_imap_reads_then_moves_by_uid(void **state)
{
    (void)state;
    struct seen s = { BUF_INIT, 0 };
    struct buf sent = BUF_INIT;
    char err[512] = "";
    assert_int_equal(run(MAILBOX_IMAP, "Processed", imap_script, &s, &sent, err, sizeof(err)), 0);
    assert_string_equal(buf_cstr(&s.msgs), "77/5|0|26|Subject: a\r\n\r\nbody {3}\r\n\r\n\n"
                                           "77/9|1|5000|Subject: big\n");
    assert_string_equal(buf_cstr(&sent), "p1 CAPABILITY\r\np2 LOGIN \"bounces\" \"p\\\"w\"\r\np3 SELECT \"INBOX\"\r\n"
                                         "p4 NOOP\r\np5 FETCH 1:2 (UID RFC822.SIZE)\r\n"
                                         "p6 UID FETCH 5 (UID BODY.PEEK[])\r\np7 UID FETCH 9 (UID BODY.PEEK[]<0.12>)\r\n"
                                         "p8 UID MOVE 5,9 \"Processed\"\r\np9 LOGOUT\r\n");
    buf_free(&s.msgs);
    buf_free(&sent);
}

static void test_mailbox_imap_login_refused_is_one_line(void **state)
{
    (void)state;
    struct seen s = { BUF_INIT, 0 };
    struct buf sent = BUF_INIT;
    char err[512] = "";
    const char *script = "* OK ready\r\n* CAPABILITY IMAP4rev1\r\np1 OK done\r\n"
                         "p2 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n";
    assert_int_equal(run(MAILBOX_IMAP, NULL, script, &s, &sent, err, sizeof(err)), -9);
    assert_string_equal(err, "login refused: Authentication failed.");
    buf_free(&s.msgs);
    buf_free(&sent);
}

static void test_mailbox_imap_refuses_a_body_larger_than_asked(void **state)
{
    (void)state;
    struct seen s = { BUF_INIT, 0 };
    struct buf sent = BUF_INIT;
    char err[512] = "";
    const char *script = "* OK ready\r\n* CAPABILITY IMAP4rev1 IDLE MOVE UIDPLUS\r\np1 OK done\r\np2 OK in\r\n"
                         "* 1 EXISTS\r\np3 OK sel\r\np4 OK noop\r\n* 1 FETCH (UID 5 RFC822.SIZE 20)\r\np5 OK f\r\n"
                         "* 1 FETCH (UID 5 BODY[] {999999999}\r\n";
    assert_int_equal(run(MAILBOX_IMAP, NULL, script, &s, &sent, err, sizeof(err)), -1);
    assert_string_equal(err, "the server sent 999999999 bytes for a message it said was smaller");
    assert_string_equal(buf_cstr(&s.msgs), "");
    buf_free(&s.msgs);
    buf_free(&sent);
}

static void test_mailbox_pop3_deletes_what_was_taken_at_quit(void **state)
{
    (void)state;
    struct seen s = { BUF_INIT, 0 };
    struct buf sent = BUF_INIT;
    char err[512] = "";
    const char *script = "+OK Dovecot ready.\r\n+OK\r\n+OK Logged in.\r\n"
                         "+OK\r\n1 u-one\r\n2 u-two\r\n.\r\n+OK 2 messages\r\n1 30\r\n2 5000\r\n.\r\n"
                         "+OK 30 octets\r\nSubject: a\r\n\r\n..dot\r\nend\r\n.\r\n+OK Marked\r\n"
                         "+OK 5000 octets\r\nSubject: b and more\r\n\r\nx\r\n.\r\n+OK Marked\r\n+OK Logging out\r\n";
    assert_int_equal(run(MAILBOX_POP3, NULL, script, &s, &sent, err, sizeof(err)), 0);
    assert_string_equal(buf_cstr(&s.msgs), "u-one|0|30|Subject: a\r\n\r\n.dot\r\nend\r\n\n"
                                           "u-two|1|5000|Subject: b a\n");
    assert_string_equal(buf_cstr(&sent), "USER bounces\r\nPASS p\"w\r\nUIDL\r\nLIST\r\nRETR 1\r\nDELE 1\r\n"
                                         "RETR 2\r\nDELE 2\r\nQUIT\r\n");
    buf_free(&s.msgs);
    buf_free(&sent);
}

static void test_mailbox_pop3_larger_than_listed_is_too_large(void **state)
{
    (void)state;
    struct seen s = { BUF_INIT, 0 };
    struct buf sent = BUF_INIT, script = BUF_INIT;
    char err[512] = "";
    buf_appends(&script, "+OK ready\r\n+OK\r\n+OK in\r\n+OK\r\n1 u-one\r\n.\r\n+OK\r\n1 10\r\n.\r\n+OK\r\n");
    for (int i = 0; i < 100; i++)
        buf_appends(&script, "0123456789abcdefghijklmnopqrstuvwxyz\r\n");   /* 38 bytes a line: 3800 */
    buf_appends(&script, ".\r\n+OK Marked\r\n+OK bye\r\n");
    assert_int_equal(run(MAILBOX_POP3, NULL, buf_cstr(&script), &s, &sent, err, sizeof(err)), 0);
    assert_string_equal(buf_cstr(&s.msgs), "u-one|1|3800|0123456789ab\n");
    buf_free(&s.msgs);
    buf_free(&sent);
    buf_free(&script);
}

static void test_mailbox_pop3_stopped_pass_keeps_the_message(void **state)
{
    (void)state;
    struct seen s = { BUF_INIT, -1 };
    struct buf sent = BUF_INIT;
    char err[512] = "";
    const char *script = "+OK ready\r\n+OK\r\n+OK in\r\n+OK\r\n1 u-one\r\n.\r\n+OK\r\n1 30\r\n.\r\n"
                         "+OK\r\nSubject: a\r\n\r\nx\r\n.\r\n+OK bye\r\n";
    assert_int_equal(run(MAILBOX_POP3, NULL, script, &s, &sent, err, sizeof(err)), -2);
    assert_string_equal(buf_cstr(&sent), "USER bounces\r\nPASS p\"w\r\nUIDL\r\nLIST\r\nRETR 1\r\nQUIT\r\n");
    buf_free(&s.msgs);
    buf_free(&sent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mailbox_imap_reads_then_moves_by_uid),
        cmocka_unit_test(test_mailbox_imap_login_refused_is_one_line),
        cmocka_unit_test(test_mailbox_imap_refuses_a_body_larger_than_asked),
        cmocka_unit_test(test_mailbox_pop3_deletes_what_was_taken_at_quit),
        cmocka_unit_test(test_mailbox_pop3_larger_than_listed_is_too_large),
        cmocka_unit_test(test_mailbox_pop3_stopped_pass_keeps_the_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
