/* test_compose - one campaign and one recipient to signed bytes, and the text part derived once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine/mail/compose.h"
#include "engine/util/alloc.h"

static void test_compose_text_source_keeps_tags_whole(void **state)
{
    (void)state;
    static const char html[] =
        "<h1>Hello {{ name }}</h1><p>A long paragraph that certainly needs wrapping somewhere around here, "
        "for {{ attribs.city | default \"our lovely little town\" }} and more words after it.</p>"
        "<p>{{#if attribs.plan == \"pro\"}}Pro &amp; friends{{else}}Join{{/if}}</p>"
        "<p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a> [UNSUBSCRIBE]</p>";
    struct buf out = BUF_INIT;
    compose_text_source(&out, html, strlen(html));
    assert_non_null(strstr(out.data, "Hello {{ name }}\n"));
    assert_non_null(strstr(out.data, "{{ attribs.city | default \"our lovely little town\" }}"));
    assert_non_null(strstr(out.data, "{{#if attribs.plan == \"pro\"}}Pro & friends{{else}}Join{{/if}}"));
    assert_non_null(strstr(out.data, "Unsubscribe ({{ unsubscribe_url }}) [UNSUBSCRIBE]"));
    assert_null(strstr(out.data, "zqpostinotag"));
    char err[TMPL_ERR_MAX];
    struct tmpl *t = tmpl_compile(out.data, out.len, err, sizeof(err));
    assert_non_null(t);
    tmpl_free(t);
    buf_free(&out);
}

static void test_compose_message_is_signed_personal_and_unsubscribable(void **state)
{
    (void)state;
    char *pem, *pub, *lerr, err[TMPL_ERR_MAX];
    const char *why;
    assert_int_equal(dkim_key_generate(DKIM_ED25519_SHA256, 0, &pem, &pub, &why), 0);
    struct dkim_key *k = dkim_key_load(pem, strlen(pem), "e1", "example.com", &lerr);
    assert_non_null(k);
    struct dkim_signer *signer = dkim_signer_new("example.com", "e1", k);
    const char html_src[] = "<p>Ciao {{ name }} from {{ attribs.city | default \"town\" }}</p>";
    struct tmpl *html = tmpl_compile(html_src, strlen(html_src), err, sizeof(err));
    struct tmpl *subject = tmpl_compile("News for {{ name }}", 19, err, sizeof(err));
    struct buf textsrc = BUF_INIT;
    compose_text_source(&textsrc, html_src, strlen(html_src));
    struct tmpl *text = tmpl_compile(textsrc.data, textsrc.len, err, sizeof(err));
    assert_non_null(html);
    assert_non_null(subject);
    assert_non_null(text);
    unsigned char key[TOKEN_KEY_LEN] = "0123456789abcdef0123456789abcdef";
    struct dkim_signer *signers[] = { signer };
    struct compose_campaign c = {
        .id = 42, .name = "Nov", .subject = subject, .html = html, .text = text, .from_name = "News",
        .from_addr = "news@example.com", .public_url = "https://news.example.com", .token_key = key,
        .signers = signers, .nsigners = 1,
    };
    json_t *attribs = json_pack("{s:s}", "city", "Roma");
    struct compose_recipient r = { .subscriber_id = 7, .email = "alice@example.org", .name = "Alice",
                                   .attribs = attribs, .list_id = 3, .list_name = "news", .delivery_id = "99" };
    struct compose_scratch s = COMPOSE_SCRATCH_INIT;
    struct buf out = BUF_INIT;
    assert_int_equal(compose_message(&c, &r, 1795852800, &s, &out, &why), 0);
    assert_true(strncmp(out.data, "DKIM-Signature: v=1; a=ed25519-sha256;", 38) == 0);
    assert_non_null(strstr(out.data, "\r\nSubject: News for Alice\r\n"));
    assert_non_null(strstr(out.data, "\r\nList-Id: news <list-3.example.com>\r\n"));
    assert_non_null(strstr(out.data, "\r\nX-Postino-Delivery: 99\r\n"));
    assert_non_null(strstr(out.data, "Ciao Alice from Roma"));
    const char *lu = strstr(out.data, "\r\nList-Unsubscribe: <https://news.example.com/u/");
    assert_non_null(lu);
    char tok[TOKEN_MAX + 1], kind;
    uint64_t a, b;
    assert_int_equal(sscanf(lu, "\r\nList-Unsubscribe: <https://news.example.com/u/%64[a-z2-7]>", tok), 1);
    assert_int_equal(token_parse(key, tok, &kind, &a, &b), 0);
    assert_int_equal(kind, 'u');
    assert_int_equal(a, 7);
    assert_int_equal(b, 42);
    json_decref(attribs);
    buf_free(&out);
    buf_free(&textsrc);
    compose_scratch_free(&s);
    tmpl_free(html);
    tmpl_free(subject);
    tmpl_free(text);
    dkim_signer_free(signer);
    dkim_secret_free(pem);
    xfree(pub);
    dkim_thread_cleanup();
}

/* the header lines of message M (up to the blank line), unfolded: each header on one line, after a CRLF */
static void unfolded_headers(const char *m, struct buf *out)
{
    const char *end = strstr(m, "\r\n\r\n");
    assert_non_null(end);
    buf_appends(out, "\r\n");
    for (const char *p = m; p < end + 2; p++) {
        if (p[0] == '\r' && p[1] == '\n' && (p[2] == ' ' || p[2] == '\t'))
            p++; /* a fold: the CRLF goes, the whitespace stays */
        else
            buf_appendc(out, *p);
    }
}

/*
 * line breaks and tabs in every value that goes into a header (a multi-line
 * name from a CSV file, an attribute in the subject, the list name, the From
 * name) are single spaces: no header ends early, lines stay within 78
 * columns; a control character that is no line break fails with a reason
 */
static void test_compose_line_breaks_in_header_values_become_one_space(void **state)
{
    (void)state;
    char err[TMPL_ERR_MAX];
    const char *why = NULL;
    const char html_src[] = "<p>Hi</p>";
    const char subject_src[] = "Hello {{ name }}: {{ attribs.note }}";
    struct tmpl *html = tmpl_compile(html_src, strlen(html_src), err, sizeof(err));
    struct tmpl *subject = tmpl_compile(subject_src, strlen(subject_src), err, sizeof(err));
    assert_non_null(html);
    assert_non_null(subject);
    unsigned char key[TOKEN_KEY_LEN] = "0123456789abcdef0123456789abcdef";
    struct compose_campaign c = {
        .id = 42, .name = "Nov", .subject = subject, .html = html, .from_name = "The\tNews\r\nDesk",
        .from_addr = "news@example.com", .public_url = "https://news.example.com", .token_key = key,
    };
    json_t *attribs = json_pack("{s:s}", "note", "first line\r\nBcc: victim@example.org\n\n"
                                                 "and a long third line that goes on and on past the fold");
    struct compose_recipient r = { .subscriber_id = 7, .email = "ann@example.org", .name = "Ann\r\n  Lee",
                                   .attribs = attribs, .list_id = 3, .list_name = "\nWeekly\nNews\n",
                                   .delivery_id = "99" };
    struct compose_scratch s = COMPOSE_SCRATCH_INIT;
    struct buf out = BUF_INIT, h = BUF_INIT;
    assert_int_equal(compose_message(&c, &r, 1795852800, &s, &out, &why), 0);
    unfolded_headers(out.data, &h);
    assert_non_null(strstr(h.data, "\r\nFrom: The News Desk <news@example.com>\r\n"));
    assert_non_null(strstr(h.data, "\r\nTo: Ann Lee <ann@example.org>\r\n"));
    assert_non_null(strstr(h.data, "\r\nSubject: Hello Ann Lee: first line Bcc: victim@example.org and a long third"
                                   " line that goes on and on past the fold\r\n"));
    assert_non_null(strstr(h.data, "\r\nList-Id: Weekly News <list-3.example.com>\r\n"));
    assert_null(strstr(h.data, "\r\nBcc:"));
    /* folded where it is long, each line within 78 columns, no bare CR or LF */
    const char *end = strstr(out.data, "\r\n\r\n");
    size_t col = 0;
    for (const char *p = out.data; p < end; p++) {
        if (p[0] == '\r' && p[1] == '\n') {
            p++;
            col = 0;
            continue;
        }
        assert_true(*p != '\r' && *p != '\n' && *p != '\t');
        assert_true(++col <= 78);
    }
    /* a control character that is not a line break cannot go in a header: the message is not made */
    r.name = "Bad\x01Name";
    buf_reset(&out);
    assert_int_equal(compose_message(&c, &r, 1795852800, &s, &out, &why), COMPOSE_EVALUES);
    assert_string_equal(why, "the recipient's name holds a control character");
    assert_int_equal(out.len, 0);
    json_decref(attribs);
    buf_free(&out);
    buf_free(&h);
    compose_scratch_free(&s);
    tmpl_free(html);
    tmpl_free(subject);
}

static void test_compose_choose_encodings_per_campaign(void **state)
{
    (void)state;
    char err[TMPL_ERR_MAX];
    const char latin[] = "<p>Ciao {{ name }}, caff\xc3\xa8 per tutti.</p>";
    const char kana[] = "<p>\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf\xe3\x81\x93\xe3\x82\x93"
                        "\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1</p>";
    struct tmpl *a = tmpl_compile(latin, strlen(latin), err, sizeof(err));
    struct tmpl *b = tmpl_compile(kana, strlen(kana), err, sizeof(err));
    struct compose_campaign c = { .html = a, .text = b };
    compose_choose_encodings(&c);
    assert_int_equal(c.html_cte, MIME_QP);
    assert_int_equal(c.text_cte, MIME_BASE64);
    struct compose_campaign none = { .html = a };
    compose_choose_encodings(&none);
    assert_int_equal(none.text_cte, MIME_CTE_AUTO);
    tmpl_free(a);
    tmpl_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compose_text_source_keeps_tags_whole),
        cmocka_unit_test(test_compose_message_is_signed_personal_and_unsubscribable),
        cmocka_unit_test(test_compose_choose_encodings_per_campaign),
        cmocka_unit_test(test_compose_line_breaks_in_header_values_become_one_space),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
