/* test_mta_log - Postfix 3.7's delivery log lines (tests/data/mta_log, made by its generate.sh) read as events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/mail/mta_log.h"
#include "engine/util/buf.h"
#include "engine/util/file.h"

#define DATA "tests/data/mta_log/"
#define MAX_EVENTS 64

/* 2026-12-04 15:00:00 UTC: after the fixtures were written */
#define NOW ((time_t)1796396400)

struct events {
    struct mta_event ev[MAX_EVENTS];
    size_t n, lines;
};

static void parse_file(const char *name, struct events *out)
{
    char path[256], err[256];
    struct buf b = BUF_INIT;
    snprintf(path, sizeof(path), DATA "%s", name);
    assert_int_equal(file_read(path, 1 << 20, &b, err, sizeof(err)), 0);
    memset(out, 0, sizeof(*out));
    const char *p = b.data, *end = b.data + b.len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p + 1) : (size_t)(end - p);
        struct mta_event ev;
        if (mta_log_parse(p, len, NOW, &ev) == 1) {
            assert_true(out->n < MAX_EVENTS);
            out->ev[out->n++] = ev;
        } else
            assert_string_equal(ev.queue_id, "");
        out->lines++;
        p += len;
    }
    buf_free(&b);
}

static const struct mta_event *find(const struct events *e, const char *qid, const char *to, enum mta_status st,
                                    int nth)
{
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->ev[i].queue_id, qid) == 0 && strcmp(e->ev[i].to, to) == 0 && e->ev[i].status == st &&
            nth-- == 0)
            return &e->ev[i];
    fail_msg("no %s event for %s <%s> (#%d)", mta_log_status_name(st), qid, to, nth);
    return NULL;
}

static const struct {
    const char *qid, *to, *orig_to, *host, *addr;
    int port;
    const char *dsn;
    enum mta_status status;
    const char *reason;
} expected[] = {
    { "3F7DC5FE3EA", "a1@example.org", "", "127.0.0.1", "127.0.0.1", 11025, "2.0.0", MTA_SENT, "250 2.0.0 Ok" },
    { "3F7DC5FE3EA", "a2@example.org", "", "127.0.0.1", "127.0.0.1", 11025, "2.0.0", MTA_SENT, "250 2.0.0 Ok" },
    { "3F7DC5FE3EA", "\"a b\"@example.org", "", "127.0.0.1", "127.0.0.1", 11025, "2.0.0", MTA_SENT, "250 2.0.0 Ok" },
    { "3F7DC5FE3EA", "u@defer.test", "", "127.0.0.1", "127.0.0.1", 11026, "4.3.0", MTA_DEFERRED,
      "host 127.0.0.1[127.0.0.1] said: 450 4.3.0 Error: command failed (in reply to RCPT TO command)" },
    { "3F7DC5FE3EA", "u@error.test", "", "", "", 0, "5.1.1", MTA_BOUNCED,
      "mailbox unavailable (account disabled (by admin)) see <https://error.test/help?q=(x)>" },
    { "512885FE3ED", "u@tls.test", "", "127.0.0.1", "127.0.0.1", 11029, "2.0.0", MTA_SENT,
      "250 2.0.0 Ok: queued as 7103D5FE3F5" },
    { "62CD65FE3F8", "u@v6.test", "", "::1", "::1", 11028, "2.0.0", MTA_SENT, "250 2.0.0 Ok" },
    { "734BE5FE3F5", "u@closed.test", "", "", "", 0, "4.4.1", MTA_DEFERRED,
      "connect to 127.0.0.1[127.0.0.1]:9: Connection refused" },
    { "7CA9A5FE3FD", "u@reject.test", "", "127.0.0.1", "127.0.0.1", 11027, "5.3.0", MTA_BOUNCED,
      "host 127.0.0.1[127.0.0.1] said: 500 5.3.0 Error: command failed (in reply to RCPT TO command)" },
    { "8BB4D5FE3FF", "new.name@example.org", "old.name@alias.test", "127.0.0.1", "127.0.0.1", 11025, "2.0.0", MTA_SENT,
      "250 2.0.0 Ok" },
    { "8BB4D5FE3FF", "u@retry.test", "", "", "", 0, "4.4.1", MTA_DEFERRED,
      "the site is down for maintenance (back soon)" },
    { "8BB4D5FE3FF", "", "", "", "", 0, "", MTA_EXPIRED, "" },
    { "734BE5FE3F5", "", "", "", "", 0, "", MTA_EXPIRED, "" },
    { "3F7DC5FE3EA", "", "", "", "", 0, "", MTA_EXPIRED, "" },
};

static void check_fixture(const char *name)
{
    struct events *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    parse_file(name, e);
    assert_int_equal(e->lines, 157);
    size_t count[5] = { 0 };
    for (size_t i = 0; i < e->n; i++)
        count[e->ev[i].status]++;
    assert_int_equal(e->n, 24);
    assert_int_equal(count[MTA_SENT], 13);
    assert_int_equal(count[MTA_DEFERRED], 6);
    assert_int_equal(count[MTA_BOUNCED], 2);
    assert_int_equal(count[MTA_EXPIRED], 3);
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        const struct mta_event *ev = find(e, expected[i].qid, expected[i].to, expected[i].status, 0);
        assert_string_equal(ev->orig_to, expected[i].orig_to);
        assert_string_equal(ev->relay_host, expected[i].host);
        assert_string_equal(ev->relay_addr, expected[i].addr);
        assert_int_equal(ev->relay_port, expected[i].port);
        assert_string_equal(ev->dsn, expected[i].dsn);
        assert_string_equal(ev->reason, expected[i].reason);
        if (ev->status == MTA_EXPIRED) {
            assert_string_equal(ev->from, "news@postino.test");
            assert_int_equal(ev->delay_ms, -1);
        } else {
            assert_string_equal(ev->from, "");
            assert_true(ev->delay_ms >= 0);
        }
    }
    /* each deferred recipient was tried twice before its message expired */
    const struct mta_event *d1 = find(e, "734BE5FE3F5", "u@closed.test", MTA_DEFERRED, 1);
    const struct mta_event *x = find(e, "734BE5FE3F5", "", MTA_EXPIRED, 0);
    assert_true(d1->time <= x->time);
    assert_int_equal(d1->delay_ms, 4300);
    /* the long recipient: 400 characters of local part */
    int longs = 0;
    for (size_t i = 0; i < e->n; i++)
        if (strlen(e->ev[i].to) == 400 + strlen(".long@example.org")) {
            assert_string_equal(e->ev[i].queue_id, "A24835FE406");
            assert_int_equal(e->ev[i].status, MTA_SENT);
            longs++;
        }
    assert_int_equal(longs, 1);
    free(e);
}

static void test_mta_log_postlogd_fixture(void **state)
{
    (void)state;
    check_fixture("postlogd.log");
}

static void test_mta_log_syslog_traditional_fixture(void **state)
{
    (void)state;
    check_fixture("syslog-3164.log");
}

static void test_mta_log_syslog_iso_fixture(void **state)
{
    (void)state;
    check_fixture("syslog-iso.log");
}

static void test_mta_log_timestamps(void **state)
{
    (void)state;
    static const char tail[] = " postino postfix/smtp[1]: 3F7DC5FE3EA: to=<a@example.org>, relay=none, dsn=4.4.1,"
                               " status=deferred (x)";
    static const struct {
        const char *stamp;
        time_t now, want;
        int usec;
    } cases[] = {
        /* postlogd: local time (TZ=UTC in this test), the year of NOW */
        { "Dec 04 14:55:51", NOW, 1796396151, 0 },
        { "Dec  4 14:55:51", NOW, 1796396151, 0 },
        { "Dec 04 14:55:51.250000", NOW, 1796396151, 250000 },
        /* read on 2 January: December was last year */
        { "Dec 31 23:59:59", 1798848000 + 86400, 1798761599, 0 },
        /* RFC 3339 as rsyslog writes it */
        { "2026-12-04T14:55:51.123456+00:00", NOW, 1796396151, 123456 },
        { "2026-12-04T15:55:51.5+01:00", NOW, 1796396151, 500000 },
        { "2026-12-04T09:55:51-05:00", NOW, 1796396151, 0 },
        { "2026-12-04T14:55:51Z", NOW, 1796396151, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char line[512];
        struct mta_event ev;
        snprintf(line, sizeof(line), "%s%s", cases[i].stamp, tail);
        assert_int_equal(mta_log_parse(line, strlen(line), cases[i].now, &ev), 1);
        assert_int_equal(ev.time, cases[i].want);
        assert_int_equal(ev.usec, cases[i].usec);
    }
}

static void test_mta_log_not_delivery_lines(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "",
        "Dec 04 14:55:51 postino postfix/qmgr[1]: 3F7DC5FE3EA: from=<news@postino.test>, size=312, nrcpt=5 (queue active)",
        "Dec 04 14:55:51 postino postfix/qmgr[1]: 3F7DC5FE3EA: removed",
        "Dec 04 14:55:51 postino postfix/cleanup[1]: 3F7DC5FE3EA: message-id=<1@postino.test>",
        "Dec 04 14:55:51 postino postfix/bounce[1]: 3F7DC5FE3EA: sender non-delivery notification: 5F3865FE3F5",
        "Dec 04 14:55:51 postino postfix/smtp[1]: 3F7DC5FE3EA: to=<a@x>, relay=none, dsn=2.0.0, status=deliverable (ok)",
        "Dec 04 14:55:51 postino postfix/smtp[1]: 3F7DC5FE3EA: to=<a@x, relay=none, dsn=2.0.0, status=sent (ok)",
        "Dec 04 14:55:51 postino postfix/smtp[1]: 3F7DC5FE3EA: to=<a@x>, relay=none, dsn=2.0.0",
        "Dec 04 14:55:51 postino postfix/smtp[1]: 3F7DC5FE3EA: to=<a@x>, relay=none, dsn=2.0.0, status=sentx (ok)",
        "Dec 04 14:55:51 postino postfix/smtp[1]: 3F: to=<a@x>, relay=none, dsn=2.0.0, status=sent (ok)",
        "Dec 32 14:55:51 postino postfix/smtp[1]: 3F7DC5FE3EA: to=<a@x>, relay=none, dsn=2.0.0, status=sent (ok)",
        "Foo 04 14:55:51 postino postfix/smtp[1]: 3F7DC5FE3EA: to=<a@x>, relay=none, dsn=2.0.0, status=sent (ok)",
        "2026-13-04T14:55:51Z postino postfix/smtp[1]: 3F7DC5FE3EA: to=<a@x>, relay=none, status=sent (ok)",
        "2026-12-04T14:55:51 postino postfix/smtp[1]: 3F7DC5FE3EA: to=<a@x>, relay=none, status=sent (ok)",
        "Dec 04 14:55:51 postino postfix/smtp[1] 3F7DC5FE3EA: to=<a@x>, relay=none, status=sent (ok)",
        "Dec 04 14:55:51 postino postfix/qmgr[1]: 3F7DC5FE3EA: from=<a@x>, status=sent, returned to sender",
        "Dec 04 14:55:51",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        struct mta_event ev;
        if (mta_log_parse(lines[i], strlen(lines[i]), NOW, &ev) != 0)
            fail_msg("read as a delivery: %s", lines[i]);
        assert_int_equal(ev.status, MTA_NONE);
    }
}

static void test_mta_log_hard_cases(void **state)
{
    (void)state;
    struct mta_event ev;
    /* a quoted local part holding '>' and ", "; a relay over IPv6 with conn_use; a CRLF line end */
    const char *l1 = "Dec 04 14:55:51 mx postfix/smtp[9]: 4Qk3Zm1Vt2z9rxN: to=<\"odd>, name\"@example.org>,"
                     " relay=mx.example.org[2001:db8::25]:25, conn_use=2, delay=1.5, delays=0.1/0/0.4/1,"
                     " dsn=2.0.0, status=sent (250 2.0.0 OK  1733320551 (ready))\r\n";
    assert_int_equal(mta_log_parse(l1, strlen(l1), NOW, &ev), 1);
    assert_string_equal(ev.queue_id, "4Qk3Zm1Vt2z9rxN");
    assert_string_equal(ev.to, "\"odd>, name\"@example.org");
    assert_string_equal(ev.relay_host, "mx.example.org");
    assert_string_equal(ev.relay_addr, "2001:db8::25");
    assert_int_equal(ev.relay_port, 25);
    assert_int_equal(ev.delay_ms, 1500);
    assert_string_equal(ev.reason, "250 2.0.0 OK  1733320551 (ready)");
    /* a reason cut short by the log: taken as far as it goes; control bytes and bad UTF-8 become '?' */
    const char l2[] = "Dec 04 14:55:51 mx postfix/smtp[9]: ABCDE12345: to=<b@example.org>, relay=none, dsn=4.4.1,"
                      " status=deferred (connect \x01 to \xff\xfe mx: Connection";
    assert_int_equal(mta_log_parse(l2, sizeof(l2) - 1, NOW, &ev), 1);
    assert_string_equal(ev.reason, "connect ? to ?? mx: Connection");
    assert_int_equal(ev.delay_ms, -1);
    /* a reason longer than MTA_REASON_MAX is cut */
    struct buf b = BUF_INIT;
    buf_appends(&b, "Dec 04 14:55:51 mx postfix/smtp[9]: ABCDE12345: to=<b@example.org>, relay=none, dsn=5.0.0,"
                    " status=bounced (");
    for (int i = 0; i < 3000; i++)
        buf_appends(&b, "\xc3\xa9");
    buf_appends(&b, ")");
    assert_int_equal(mta_log_parse(b.data, b.len, NOW, &ev), 1);
    assert_true(strlen(ev.reason) <= MTA_REASON_MAX && strlen(ev.reason) >= MTA_REASON_MAX - 1);
    assert_int_equal(strlen(ev.reason) % 2, 0);
    buf_free(&b);
    /* an address longer than MTA_ADDR_MAX is not read */
    buf_appends(&b, "Dec 04 14:55:51 mx postfix/smtp[9]: ABCDE12345: to=<");
    for (int i = 0; i < MTA_ADDR_MAX + 10; i++)
        buf_appendc(&b, 'a');
    buf_appends(&b, "@x>, relay=none, dsn=5.0.0, status=bounced (x)");
    assert_int_equal(mta_log_parse(b.data, b.len, NOW, &ev), 0);
    buf_free(&b);
    /* qmgr's expiry of a message with the null sender */
    const char *l3 = "2026-12-04T14:55:55.000001+00:00 h postfix/qmgr[7]: 734BE5FE3F5: from=<>, status=expired,"
                     " returned to sender";
    assert_int_equal(mta_log_parse(l3, strlen(l3), NOW, &ev), 1);
    assert_int_equal(ev.status, MTA_EXPIRED);
    assert_string_equal(ev.to, "");
    assert_string_equal(ev.from, "");
    assert_string_equal(mta_log_status_name(MTA_BOUNCED), "bounced");
    assert_string_equal(mta_log_status_name(MTA_NONE), "");
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mta_log_postlogd_fixture),
        cmocka_unit_test(test_mta_log_syslog_traditional_fixture),
        cmocka_unit_test(test_mta_log_syslog_iso_fixture),
        cmocka_unit_test(test_mta_log_timestamps),
        cmocka_unit_test(test_mta_log_not_delivery_lines),
        cmocka_unit_test(test_mta_log_hard_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
