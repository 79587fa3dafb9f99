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

static struct dkim_signer *new_signer(enum dkim_alg alg, const char *sel, enum dkim_canon body)
{
    char *pem, *pub, *lerr;
    const char *why;
    assert_int_equal(dkim_key_generate(alg, DKIM_RSA_MIN_BITS, &pem, &pub, &why), 0);
    struct dkim_key *k = dkim_key_load(pem, strlen(pem), sel, "example.com", &lerr);
    assert_non_null(k);
    struct dkim_signer *signer = dkim_signer_new("example.com", sel, k);
    dkim_signer_set_canon(signer, DKIM_CANON_RELAXED, body);
    dkim_secret_free(pem);
    xfree(pub);
    return signer;
}

/*
 * a batch is composed to the very octets that compose_message makes of each
 * message alone, its body hashes taken together through the lanes or one by
 * one: two signers with the body relaxed and simple, one with simple, none;
 * bodies whose relaxed form is the message's own octets and ones that are
 * not (runs of spaces); a message that cannot be made in the middle of the
 * batch; batches longer than the eight lanes
 */
static void test_compose_batch_equals_one_by_one(void **state)
{
    (void)state;
    char err[TMPL_ERR_MAX];
    struct dkim_signer *rsa = new_signer(DKIM_RSA_SHA256, "r1", DKIM_CANON_RELAXED);
    struct dkim_signer *ed = new_signer(DKIM_ED25519_SHA256, "e1", DKIM_CANON_SIMPLE);
    const char html_src[] = "<p>Ciao {{ name }} from {{ attribs.city | default \"town\" }}</p>\n"
                            "<p>{{ attribs.note }}</p>\n";
    struct tmpl *html = tmpl_compile(html_src, strlen(html_src), err, sizeof(err));
    struct tmpl *subject = tmpl_compile("News for {{ name }}", 19, err, sizeof(err));
    assert_non_null(html);
    assert_non_null(subject);
    unsigned char key[TOKEN_KEY_LEN] = "0123456789abcdef0123456789abcdef";
    struct dkim_signer *both[] = { rsa, ed }, *one[] = { ed };
    struct compose_campaign c2 = {
        .id = 42, .name = "Nov", .subject = subject, .html = html, .from_name = "News",
        .from_addr = "news@example.com", .public_url = "https://news.example.com", .token_key = key,
        .signers = both, .nsigners = 2,
    };
    struct compose_campaign c1 = c2, c0 = c2;
    c1.signers = one;
    c1.nsigners = 1;
    c0.signers = NULL;
    c0.nsigners = 0;
    const struct compose_campaign *camp[] = { &c2, &c1, &c0 };
    enum { N = 19 };
    json_t *attribs[N];
    char name[N][64], email[N][64], id[N][16];
    struct compose_recipient r[N];
    const struct compose_recipient *rp[N];
    const struct compose_campaign *c[N];
    struct buf got[N], want = BUF_INIT;
    struct buf *out[N];
    int rc[N];
    const char *why[N], *why1 = NULL;
    for (size_t i = 0; i < N; i++) {
        snprintf(name[i], sizeof(name[i]), i == 4 ? "Bad\x01Name" : "Reader %zu%.*s", i, (int)(i * 3 % 17),
                 "xxxxxxxxxxxxxxxxx");
        snprintf(email[i], sizeof(email[i]), "reader%zu@example.org", i);
        snprintf(id[i], sizeof(id[i]), "%zu", 100 + i);
        /* odd ones: a run of spaces and a tab, which the relaxed body collapses */
        attribs[i] = json_pack("{s:s, s:s}", "city", i % 3 ? "Roma" : "Milano", "note",
                               i % 2 ? "two  spaces\tand a tab" : "plain words");
        r[i] = (struct compose_recipient){ .subscriber_id = 7 + i, .email = email[i], .name = name[i],
                                           .attribs = attribs[i], .list_id = 3, .list_name = "news",
                                           .delivery_id = id[i] };
        rp[i] = &r[i];
        c[i] = camp[i % 3];
        got[i] = (struct buf)BUF_INIT;
        out[i] = &got[i];
    }
    struct compose_scratch s = COMPOSE_SCRATCH_INIT;
    static const enum sha256_many_way ways[] = { SHA256_MANY_LANES, SHA256_MANY_ONE, SHA256_MANY_AUTO };
    static const size_t sizes[] = { N, 8, 1 };
    for (size_t w = 0; w < 3; w++) {
        sha256_many_force(ways[w]);
        size_t n = sizes[w];
        for (size_t i = 0; i < n; i++) {
            buf_reset(&got[i]);
            buf_appends(&got[i], "kept:"); /* what OUT held is kept, as compose_message keeps it */
        }
        compose_batch(c, rp, n, 1795852800, &s, out, rc, why);
        for (size_t i = 0; i < n; i++) {
            /* the same result as alone (a message's MIME boundary and Message-ID are random: its signatures
               are checked by signing again what follows them, one by one) */
            buf_reset(&want);
            int rc1 = compose_message(c[i], &r[i], 1795852800, &s, &want, &why1);
            assert_int_equal(rc[i], rc1);
            if (rc1 < 0) {
                assert_string_equal(why[i], why1);
                assert_string_equal(buf_cstr(&got[i]), "kept:");
                continue;
            }
            const char *m = got[i].data + 5;
            for (size_t k = 0; k < c[i]->nsigners; k++) { /* past the signature fields */
                assert_true(strncmp(m, "DKIM-Signature:", 15) == 0);
                do
                    m = strstr(m, "\r\n") + 2;
                while (*m == ' ');
            }
            size_t mlen = got[i].len - (size_t)(m - got[i].data);
            buf_reset(&want);
            buf_appends(&want, "kept:");
            for (size_t k = 0; k < c[i]->nsigners; k++)
                assert_int_equal(dkim_sign(c[i]->signers[k], m, mlen, 1795852800, &want), 0);
            buf_append(&want, m, mlen);
            assert_int_equal(got[i].len, want.len);
            assert_memory_equal(got[i].data, want.data, want.len);
            assert_non_null(strstr(m, "\r\nTo: "));
            assert_non_null(strstr(m, email[i]));
        }
    }
    assert_int_equal(rc[0], 0);
    assert_true(strncmp(got[0].data, "kept:DKIM-Signature: v=1; a=rsa-sha256;", 39) == 0);
    sha256_many_force(SHA256_MANY_AUTO);
    for (size_t i = 0; i < N; i++) {
        json_decref(attribs[i]);
        buf_free(&got[i]);
    }
    buf_free(&want);
    compose_scratch_free(&s);
    tmpl_free(html);
    tmpl_free(subject);
    dkim_signer_free(rsa);
    dkim_signer_free(ed);
    dkim_thread_cleanup();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compose_text_source_keeps_tags_whole),
        cmocka_unit_test(test_compose_message_is_signed_personal_and_unsubscribable),
        cmocka_unit_test(test_compose_choose_encodings_per_campaign),
        cmocka_unit_test(test_compose_line_breaks_in_header_values_become_one_space),
        cmocka_unit_test(test_compose_batch_equals_one_by_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
