/* test_mime - header encoding and folding, body encodings, whole messages. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/mail/html2text.h"
#include "engine/mail/mime.h"
#include "engine/util/base64.h"
#include "engine/util/qp.h"
#include "engine/util/str.h"

/* ---- helpers ---- */

/* assert_crlf_lines - CRLF only, lines <= MAX octets. */
static void assert_crlf_lines(const char *s, size_t len, size_t max)
{
    size_t col = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\r') {
            assert_true(i + 1 < len && s[i + 1] == '\n');
            i++;
            col = 0;
            continue;
        }
        assert_int_not_equal(s[i], '\n');
        col++;
        if (col > max)
            fail_msg("line longer than %zu at offset %zu", max, i);
    }
}

/* count_lines_starting - how many lines of S begin with PREFIX. */
static int count_lines_starting(const char *s, const char *prefix)
{
    int n = 0;
    size_t pl = strlen(prefix);
    for (const char *p = s;;) {
        if (strncmp(p, prefix, pl) == 0)
            n++;
        const char *e = strstr(p, "\r\n");
        if (!e)
            return n;
        p = e + 2;
    }
}

static const char *html_body =
    "<html><head><style>p{}</style></head><body><h1>Hello Ann &amp; co</h1>"
    "<p>Gr&uuml;&szlig;e aus K&ouml;ln, see <a href=\"https://ex.com/p?a=1&amp;b=2\">the page</a>.</p></body></html>";

static struct mime_message sample(void)
{
    return (struct mime_message){
        .from_name = "Postino Nëwsletter",
        .from_addr = "news@example.com",
        .to_name = "Ann Lee",
        .to_addr = "ann@example.org",
        .subject = "Grüße aus Köln",
        .reply_to = "reply@example.com",
        .list_unsubscribe_url = "https://example.com/u/abc",
        .list_unsubscribe_mailto = "unsub@example.com",
        .list_name = "Weekly News",
        .list_id = "weekly.example.com",
        .delivery_id = "12345",
        .date = 1795000000,
        .html = html_body,
        .html_len = strlen(html_body),
    };
}

/* ---- RFC 2047 ---- */

static void check_2047(const char *in, size_t col, const char *want, size_t want_col)
{
    struct buf b = BUF_INIT;
    size_t end = mime_rfc2047_encode(&b, in, strlen(in), col);
    assert_string_equal(buf_cstr(&b), want);
    assert_int_equal(end, want_col);
    buf_free(&b);
}

static void test_mime_rfc2047_picks_shorter_encoding(void **state)
{
    (void)state;
    check_2047("Héllo", 9, "=?UTF-8?B?SMOpbGxv?=", 29);
    check_2047("Hello wörld", 9, "=?UTF-8?Q?Hello_w=C3=B6rld?=", 37);
    check_2047("Привет мир", 0, "=?UTF-8?B?0J/RgNC40LLQtdGCINC80LjRgA==?=", 40);
    check_2047("a_b=c?d and more text", 0, "=?UTF-8?Q?a=5Fb=3Dc=3Fd_and_more_text?=", 39);
}

static void test_mime_rfc2047_splits_words_at_characters(void **state)
{
    (void)state;
    char in[100] = "";
    for (int i = 0; i < 40; i++)
        strcat(in, "é");
    check_2047(in, 9,
               "=?UTF-8?B?w6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOp?=\r\n"
               " =?UTF-8?B?w6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6k=?=",
               65);
}

static void test_mime_rfc2047_words_and_lines_within_limits(void **state)
{
    (void)state;
    char in[400] = "";
    for (int i = 0; i < 30; i++)
        strcat(in, i % 3 ? "€a" : "€ ");
    struct buf b = BUF_INIT, d = BUF_INIT;
    buf_appends(&b, "Subject: ");
    mime_rfc2047_encode(&b, in, strlen(in), 9);
    assert_crlf_lines(b.data, b.len, 78);
    /* every word is at most 75 characters and decodes to whole characters */
    char *p = b.data;
    while ((p = strstr(p, "=?UTF-8?"))) {
        char *e = strstr(p + 10, "?=");
        assert_non_null(e);
        assert_true(e + 2 - p <= 75);
        buf_reset(&d);
        if (p[8] == 'B') {
            assert_int_equal(base64_decode(&d, p + 10, (size_t)(e - p - 10)), 0);
        } else {
            assert_int_equal(p[8], 'Q');
            assert_int_equal(qp_decode(&d, p + 10, (size_t)(e - p - 10)), 0);
        }
        assert_true(str_utf8_valid(d.data, d.len, NULL));
        p = e + 2;
    }
    buf_free(&b);
    buf_free(&d);
}

/* ---- headers ---- */

static void test_mime_header_fold_at_78(void **state)
{
    (void)state;
    char value[200] = "";
    for (int i = 0; i < 20; i++)
        sprintf(value + strlen(value), "%sword%02d", i ? " " : "", i);
    struct buf b = BUF_INIT;
    mime_header_fold(&b, "Subject", value);
    assert_string_equal(buf_cstr(&b),
                        "Subject: word00 word01 word02 word03 word04 word05 word06 word07 word08 word09\r\n"
                        " word10 word11 word12 word13 word14 word15 word16 word17 word18 word19\r\n");
    buf_reset(&b);
    mime_header_fold(&b, "X-Short", "a  b");
    assert_string_equal(buf_cstr(&b), "X-Short: a  b\r\n");
    buf_free(&b);
}

static void test_mime_header_text_plain_or_encoded(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    mime_header_text(&b, "Subject", "Plain news");
    assert_string_equal(buf_cstr(&b), "Subject: Plain news\r\n");
    buf_reset(&b);
    mime_header_text(&b, "Subject", "Grüße aus Köln");
    assert_string_equal(buf_cstr(&b), "Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\n");
    buf_reset(&b);
    mime_header_text(&b, "Subject", "looks =?encoded?= but is not");
    assert_string_equal(buf_cstr(&b), "Subject: =?UTF-8?Q?looks_=3D=3Fencoded=3F=3D_but_is_not?=\r\n");
    buf_reset(&b);
    mime_header_text(&b, "Subject", "");
    assert_string_equal(buf_cstr(&b), "Subject: \r\n");
    /* a word that cannot fit within 78 columns is encoded, so it can be split */
    char word[80];
    memset(word, 'w', 67);
    word[67] = 0;
    buf_reset(&b);
    mime_header_text(&b, "Subject", word);
    assert_int_equal(b.len, 9 + 67 + 2); /* "Subject: " + word + CRLF: 76 columns */
    strcpy(word + 67, "w");
    buf_reset(&b);
    mime_header_text(&b, "Subject", word);
    assert_memory_equal(b.data, "Subject: =?UTF-8?Q?wwww", 23);
    assert_crlf_lines(b.data, b.len, 78);
    buf_free(&b);
}

static void test_mime_header_address_forms(void **state)
{
    (void)state;
    static const struct {
        const char *display, *want;
    } cases[] = {
        { "Ann Lee", "From: Ann Lee <ann@x.org>\r\n" },
        { "Lee, Ann", "From: \"Lee, Ann\" <ann@x.org>\r\n" },
        { "A \"q\" \\b", "From: \"A \\\"q\\\" \\\\b\" <ann@x.org>\r\n" },
        { "Dr. Who", "From: \"Dr. Who\" <ann@x.org>\r\n" },
        { "", "From: ann@x.org\r\n" },
        { NULL, "From: ann@x.org\r\n" },
        { "Jürgen Müller", "From: =?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <ann@x.org>\r\n" },
    };
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf_reset(&b);
        mime_header_address(&b, "From", cases[i].display, "ann@x.org");
        assert_string_equal(buf_cstr(&b), cases[i].want);
    }
    buf_free(&b);
}

static void test_mime_header_address_folds_before_address(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    mime_header_address(&b, "To", "Maximilian Alexander von Hohenzollern-Sigmaringen the Third",
                        "maximilian.alexander@sigmaringen.example.org");
    assert_string_equal(buf_cstr(&b), "To: Maximilian Alexander von Hohenzollern-Sigmaringen the Third\r\n"
                                      " <maximilian.alexander@sigmaringen.example.org>\r\n");
    buf_free(&b);
}

static void test_mime_header_clean_makes_line_breaks_and_tabs_one_space(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        { "Ann\r\nLee", "Ann Lee" },
        { "Ann \r\n  Lee", "Ann Lee" },
        { "Ann\n\n\nLee", "Ann Lee" },
        { "a\t\tb", "a b" },
        { "x\vy\fz", "x y z" },
        { "\tAnn\r\n", "Ann" },
        { " \nAnn", "Ann" },
        { "\r\n", "" },
        { "bell\x07\nring", "bell\x07 ring" }, /* other controls are mime_build's to refuse */
    };
    struct buf tmp = BUF_INIT;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(mime_header_clean(cases[i].in, &tmp), cases[i].want);
    /* nothing to change: the value itself, no copy */
    static const char *const same[] = { "Ann Lee", "a  b", " lead and trail ", "" };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
        assert_ptr_equal(mime_header_clean(same[i], &tmp), same[i]);
    assert_null(mime_header_clean(NULL, &tmp));
    buf_free(&tmp);
}

/* every header writer: a line break in a value is a space, never a new header */
static void test_mime_header_writers_never_break_a_line_for_a_value(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    mime_header_text(&b, "Subject", "Hi\r\nBcc: victim@example.com");
    assert_string_equal(buf_cstr(&b), "Subject: Hi Bcc: victim@example.com\r\n");
    buf_reset(&b);
    mime_header_text(&b, "Subject", "Grüße\r\n\taus Köln");
    assert_string_equal(buf_cstr(&b), "Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\n");
    buf_reset(&b);
    mime_header_fold(&b, "X-Note", "a\nb");
    assert_string_equal(buf_cstr(&b), "X-Note: a b\r\n");
    buf_reset(&b);
    mime_header_address(&b, "To", "Lee,\r\nAnn", "ann@x.org");
    assert_string_equal(buf_cstr(&b), "To: \"Lee, Ann\" <ann@x.org>\r\n");
    buf_reset(&b);
    mime_header_address(&b, "To", "\r\n", "ann@x.org");
    assert_string_equal(buf_cstr(&b), "To: ann@x.org\r\n");
    /* a long multi-line value folds at whitespace within 78 columns */
    buf_reset(&b);
    mime_header_text(&b, "Subject", "one two three four five six seven eight nine ten\r\n"
                                    "eleven twelve thirteen fourteen fifteen sixteen seventeen");
    assert_string_equal(buf_cstr(&b), "Subject: one two three four five six seven eight nine ten eleven twelve\r\n"
                                      " thirteen fourteen fifteen sixteen seventeen\r\n");
    /* and in a whole message */
    struct mime_message m = sample();
    m.subject = "Hi\r\nBcc: victim@example.com";
    m.to_name = "Ann\nLee";
    m.list_name = "Weekly\r\nNews";
    buf_reset(&b);
    assert_int_equal(mime_build(&m, &b), 0);
    assert_non_null(strstr(b.data, "\r\nTo: Ann Lee <ann@example.org>\r\nSubject: Hi Bcc: victim@example.com\r\n"));
    assert_non_null(strstr(b.data, "\r\nList-Id: Weekly News <weekly.example.com>\r\n"));
    assert_null(strstr(b.data, "\r\nBcc:"));
    buf_free(&b);
}

static void test_mime_name_check_refuses_control_characters(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        bool breaks;
        int rc;
        const char *why; /* NULL: accepted */
    } cases[] = {
        { "Ann Lee", false, 0, NULL },
        { "Jürgen \"JJ\" Müller", false, 0, NULL },
        { "Ann\nLee", false, MIME_NAME_BREAK, "holds a line break" },
        { "Ann\rLee", false, MIME_NAME_BREAK, "holds a line break" },
        { "Ann\tLee", false, MIME_NAME_TAB, "holds a tab" },
        { "Ann\x01Lee", false, MIME_NAME_CONTROL, "holds a control character" },
        { "Ann\r\nLee\t", true, 0, NULL },
        { "Ann\x07", true, MIME_NAME_CONTROL, "holds a control character" },
        { "Ann\x0bLee", true, MIME_NAME_CONTROL, "holds a control character" },
        { "Ann\x0cLee", true, MIME_NAME_CONTROL, "holds a control character" },
        { "Ann\x1f", true, MIME_NAME_CONTROL, "holds a control character" },
        { "Ann\x7f", true, MIME_NAME_CONTROL, "holds a control character" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *why = NULL;
        assert_int_equal(mime_name_check(cases[i].in, cases[i].breaks, &why), cases[i].rc);
        if (cases[i].why)
            assert_string_equal(why, cases[i].why);
    }
}

static void test_mime_date_format(void **state)
{
    (void)state;
    char d[MIME_DATE_MAX];
    mime_date_format(d, 1795000000);
    assert_string_equal(d, "Wed, 18 Nov 2026 11:06:40 +0000");
    mime_date_format(d, 951782400);
    assert_string_equal(d, "Tue, 29 Feb 2000 00:00:00 +0000");
    mime_date_format(d, 0);
    assert_string_equal(d, "Thu, 01 Jan 1970 00:00:00 +0000");
    /* the same second again (remembered), then the next, then an earlier one */
    for (int i = 0; i < 2; i++) {
        mime_date_format(d, 1795000000);
        assert_string_equal(d, "Wed, 18 Nov 2026 11:06:40 +0000");
    }
    mime_date_format(d, 1795000001);
    assert_string_equal(d, "Wed, 18 Nov 2026 11:06:41 +0000");
    mime_date_format(d, 951782400);
    assert_string_equal(d, "Tue, 29 Feb 2000 00:00:00 +0000");
}

/* ---- bodies ---- */

static void test_mime_body_choose(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        enum mime_cte want;
    } cases[] = {
        { "Hello\nworld\n", MIME_7BIT },
        { "x =y\r\n", MIME_7BIT },
        { "a=_b", MIME_QP },
        { "trailing \nspace", MIME_QP },
        { "trailing\t", MIME_QP },
        { "Grüße aus Köln, wir hoffen es geht Ihnen gut.", MIME_QP },
        { "Grüße aus Köln", MIME_BASE64 }, /* short: base64 24 < QP 29 */
        { "bell\x07", MIME_QP },
        { "lone\rcr", MIME_QP },
        { "Привет мир, как дела? Всё хорошо.", MIME_BASE64 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (mime_body_choose(cases[i].body, strlen(cases[i].body)) != cases[i].want)
            fail_msg("case %zu: %s", i, cases[i].body);
    }
    char line[100];
    memset(line, 'a', 76);
    assert_int_equal(mime_body_choose(line, 76), MIME_7BIT);
    memset(line, 'a', 77);
    assert_int_equal(mime_body_choose(line, 77), MIME_QP);
}

static void test_mime_body_write_encodings(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    mime_body_write(&b, "a\nb\r\nc", 6, MIME_7BIT);
    assert_string_equal(buf_cstr(&b), "a\r\nb\r\nc");
    buf_reset(&b);
    mime_body_write(&b, "a=b \n", 5, MIME_QP);
    assert_string_equal(buf_cstr(&b), "a=3Db=20\r\n");
    buf_reset(&b);
    mime_body_write(&b, "foobar", 6, MIME_BASE64);
    assert_string_equal(buf_cstr(&b), "Zm9vYmFy");
    buf_free(&b);
}

/* ---- whole messages ---- */

static void test_mime_build_headers_exact(void **state)
{
    (void)state;
    struct mime_message m = sample();
    struct buf b = BUF_INIT;
    assert_int_equal(mime_build(&m, &b), 0);
    const char *want_before_id = "From: =?UTF-8?Q?Postino_N=C3=ABwsletter?= <news@example.com>\r\n"
                                 "To: Ann Lee <ann@example.org>\r\n"
                                 "Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\n"
                                 "Date: Wed, 18 Nov 2026 11:06:40 +0000\r\n"
                                 "Message-ID: <6afd86c0.";
    assert_memory_equal(b.data, want_before_id, strlen(want_before_id));
    const char *id = b.data + strlen(want_before_id);
    for (int i = 0; i < 24; i++)
        assert_non_null(strchr("0123456789ABCDEF", id[i]));
    const char *want_after_id = "@example.com>\r\n"
                                "Reply-To: reply@example.com\r\n"
                                "List-Id: Weekly News <weekly.example.com>\r\n"
                                "List-Unsubscribe: <https://example.com/u/abc>, <mailto:unsub@example.com>\r\n"
                                "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
                                "X-Postino-Delivery: 12345\r\n"
                                "MIME-Version: 1.0\r\n"
                                "Content-Type: multipart/alternative;\r\n"
                                " boundary=\"=_pst_";
    assert_memory_equal(id + 24, want_after_id, strlen(want_after_id));
    buf_free(&b);
}

static void test_mime_build_structure(void **state)
{
    (void)state;
    struct mime_message m = sample();
    struct mime_header extra[] = { { "X-Campaign", "Nov" } };
    m.headers = extra;
    m.nheaders = 1;
    struct buf b = BUF_INIT;
    buf_appends(&b, "KEEP");
    assert_int_equal(mime_build(&m, &b), 0);
    assert_memory_equal(b.data, "KEEPFrom: ", 10);
    const char *msg = b.data + 4;
    size_t len = b.len - 4;
    assert_int_equal(strlen(msg), len);
    assert_crlf_lines(msg, len, 998);
    const char *end = strstr(msg, "\r\n\r\n");
    assert_non_null(end);
    assert_crlf_lines(msg, (size_t)(end - msg), 78);
    static const char *const once[] = { "From:", "To:", "Subject:", "Date:", "Message-ID:", "MIME-Version:",
                                        "Reply-To:", "List-Id:", "List-Unsubscribe:",
                                        "List-Unsubscribe-Post:", "X-Postino-Delivery:", "X-Campaign: Nov" };
    for (size_t i = 0; i < sizeof(once) / sizeof(once[0]); i++)
        if (count_lines_starting(msg, once[i]) != 1)
            fail_msg("%s appears %d times", once[i], count_lines_starting(msg, once[i]));

    /* the boundary delimits exactly two parts, text first, and occurs nowhere else */
    const char *bp = strstr(msg, "boundary=\"");
    assert_non_null(bp);
    char boundary[80];
    size_t bl = strcspn(bp + 10, "\"");
    snprintf(boundary, sizeof(boundary), "--%.*s", (int)bl, bp + 10);
    int n = 0;
    for (const char *p = end; (p = strstr(p, boundary)); p += strlen(boundary))
        n++;
    assert_int_equal(n, 3);
    char closing[100];
    snprintf(closing, sizeof(closing), "\r\n%s--\r\n", boundary);
    assert_string_equal(msg + len - strlen(closing), closing);
    const char *t = strstr(end, "Content-Type: text/plain; charset=utf-8\r\n");
    const char *h = strstr(end, "Content-Type: text/html; charset=utf-8\r\n");
    assert_non_null(t);
    assert_non_null(h);
    assert_true(t < h);
    assert_int_equal(count_lines_starting(end, "Content-Transfer-Encoding: quoted-printable"), 2);

    /* the text part decodes to the text derived from the HTML */
    const char *tb = strstr(t, "\r\n\r\n") + 4;
    const char *te = strstr(tb, boundary) - 2;
    struct buf d = BUF_INIT, want = BUF_INIT;
    assert_int_equal(qp_decode(&d, tb, (size_t)(te - tb)), 0);
    assert_string_equal(buf_cstr(&d), "Hello Ann & co\r\n\r\nGrüße aus Köln, see the page (https://ex.com/p?a=1&b=2).\r\n");
    /* and the HTML part to the HTML */
    const char *hb = strstr(h, "\r\n\r\n") + 4;
    const char *he = strstr(hb, boundary) - 2;
    buf_reset(&d);
    assert_int_equal(qp_decode(&d, hb, (size_t)(he - hb)), 0);
    assert_string_equal(buf_cstr(&d), html_body);
    buf_free(&d);
    buf_free(&want);
    buf_free(&b);
}

static void test_mime_build_ids_are_unique(void **state)
{
    (void)state;
    struct mime_message m = sample();
    struct buf a = BUF_INIT, b = BUF_INIT;
    assert_int_equal(mime_build(&m, &a), 0);
    assert_int_equal(mime_build(&m, &b), 0);
    const char *ia = strstr(a.data, "Message-ID: "), *ib = strstr(b.data, "Message-ID: ");
    assert_memory_not_equal(ia, ib, 50);
    const char *ba = strstr(a.data, "boundary="), *bb = strstr(b.data, "boundary=");
    assert_memory_not_equal(ba, bb, 40);
    buf_free(&a);
    buf_free(&b);
}

#define IDS_PER_THREAD 400 /* past two refills of a thread's 4 KB random pool */

struct id_batch {
    char ids[IDS_PER_THREAD][96];
};

static void *build_ids(void *arg)
{
    struct id_batch *b = arg;
    struct mime_message m = sample();
    struct buf out = BUF_INIT;
    for (int i = 0; i < IDS_PER_THREAD; i++) {
        buf_reset(&out);
        if (mime_build(&m, &out) != 0)
            return NULL;
        const char *id = strstr(buf_cstr(&out), "Message-ID: ");
        const char *end = id ? strstr(id, "\r\n") : NULL;
        if (!end || end - id >= 96)
            return NULL;
        memcpy(b->ids[i], id, (size_t)(end - id));
        b->ids[i][end - id] = 0;
    }
    buf_free(&out);
    return b;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Message-IDs stay distinct across the random pool's refills and between threads */
static void test_mime_build_ids_are_unique_across_refills_and_threads(void **state)
{
    (void)state;
    static struct id_batch batches[2];
    pthread_t t[2];
    void *r;
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, build_ids, &batches[i]), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(t[i], &r), 0);
        assert_ptr_equal(r, &batches[i]);
    }
    char(*all)[96] = (char(*)[96])batches;
    qsort(all, 2 * IDS_PER_THREAD, 96, cmp_id);
    for (int i = 1; i < 2 * IDS_PER_THREAD; i++)
        if (strcmp(all[i - 1], all[i]) == 0)
            fail_msg("a Message-ID came twice: %s", all[i]);
}

static void test_mime_build_text_only_is_single_part(void **state)
{
    (void)state;
    struct mime_message m = sample();
    m.html = NULL;
    m.html_len = 0;
    m.text = "Hi Ann,\nplain news.\n";
    m.text_len = strlen(m.text);
    m.list_unsubscribe_url = NULL;
    m.to_name = NULL;
    struct buf b = BUF_INIT;
    assert_int_equal(mime_build(&m, &b), 0);
    assert_null(strstr(b.data, "multipart"));
    assert_null(strstr(b.data, "List-Unsubscribe-Post"));
    assert_non_null(strstr(b.data, "\r\nTo: ann@example.org\r\n"));
    assert_non_null(strstr(b.data, "\r\nList-Unsubscribe: <mailto:unsub@example.com>\r\n"));
    const char *tail = "MIME-Version: 1.0\r\n"
                       "Content-Type: text/plain; charset=utf-8\r\n"
                       "Content-Transfer-Encoding: 7bit\r\n"
                       "\r\n"
                       "Hi Ann,\r\nplain news.\r\n";
    assert_string_equal(b.data + b.len - strlen(tail), tail);
    buf_free(&b);
}

static void test_mime_build_given_text_and_long_lines(void **state)
{
    (void)state;
    static char html[6000];
    memcpy(html, "<p>", 3);
    memset(html + 3, 'x', 5000);
    strcpy(html + 5003, "</p>");
    struct mime_message m = sample();
    m.html = html;
    m.html_len = strlen(html);
    m.text = "Given text with a long line ";
    m.text_len = strlen(m.text);
    struct buf b = BUF_INIT;
    assert_int_equal(mime_build(&m, &b), 0);
    const char *body = strstr(b.data, "\r\n\r\n") + 4;
    assert_crlf_lines(body, strlen(body), 76);
    assert_non_null(strstr(body, "\r\n\r\nGiven text with a long line=20\r\n--=_pst_"));
    buf_free(&b);
}

static void test_mime_build_rejects_bad_input(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    buf_appends(&b, "prefix");
    struct mime_message m = sample();
    m.subject = "Hi\x01";
    assert_int_equal(mime_build(&m, &b), MIME_ESUBJECT);
    m = sample();
    m.to_name = "Ann\x1b[31mLee";
    assert_int_equal(mime_build(&m, &b), MIME_ETONAME);
    m = sample();
    m.from_name = "News\x7f";
    assert_int_equal(mime_build(&m, &b), MIME_EFROMNAME);
    m = sample();
    m.list_name = "Weekly\x08News";
    assert_int_equal(mime_build(&m, &b), MIME_ELISTNAME);
    assert_string_equal(mime_strerror(MIME_ETONAME), "the recipient's name holds a control character");
    m = sample();
    m.to_name = "Ann \xff";
    assert_int_equal(mime_build(&m, &b), MIME_EUTF8);
    m = sample();
    m.from_addr = "no-at-sign";
    assert_int_equal(mime_build(&m, &b), MIME_EADDR);
    m = sample();
    m.to_addr = "a@b.org>, evil@x.org";
    assert_int_equal(mime_build(&m, &b), MIME_EADDR);
    m = sample();
    m.list_unsubscribe_url = "https://x/<y>";
    assert_int_equal(mime_build(&m, &b), MIME_EHEADER);
    m = sample();
    struct mime_header bad[] = { { "X-Bad:", "v" } };
    m.headers = bad;
    m.nheaders = 1;
    assert_int_equal(mime_build(&m, &b), MIME_EHEADER);
    m = sample();
    m.html = NULL;
    m.html_len = 0;
    assert_int_equal(mime_build(&m, &b), MIME_ENOBODY);
    assert_string_equal(buf_cstr(&b), "prefix");
    assert_string_equal(mime_strerror(MIME_ENOBODY), "message has no body");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mime_rfc2047_picks_shorter_encoding),
        cmocka_unit_test(test_mime_rfc2047_splits_words_at_characters),
        cmocka_unit_test(test_mime_rfc2047_words_and_lines_within_limits),
        cmocka_unit_test(test_mime_header_fold_at_78),
        cmocka_unit_test(test_mime_header_text_plain_or_encoded),
        cmocka_unit_test(test_mime_header_address_forms),
        cmocka_unit_test(test_mime_header_address_folds_before_address),
        cmocka_unit_test(test_mime_header_clean_makes_line_breaks_and_tabs_one_space),
        cmocka_unit_test(test_mime_header_writers_never_break_a_line_for_a_value),
        cmocka_unit_test(test_mime_name_check_refuses_control_characters),
        cmocka_unit_test(test_mime_date_format),
        cmocka_unit_test(test_mime_body_choose),
        cmocka_unit_test(test_mime_body_write_encodings),
        cmocka_unit_test(test_mime_build_headers_exact),
        cmocka_unit_test(test_mime_build_structure),
        cmocka_unit_test(test_mime_build_ids_are_unique),
        cmocka_unit_test(test_mime_build_ids_are_unique_across_refills_and_threads),
        cmocka_unit_test(test_mime_build_text_only_is_single_part),
        cmocka_unit_test(test_mime_build_given_text_and_long_lines),
        cmocka_unit_test(test_mime_build_rejects_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
