/* test_links - click tracking's link rewriting on compiled templates, and the open image. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine/mail/compose.h"
#include "engine/mail/links.h"
#include "engine/util/alloc.h"
#include "engine/util/qp.h"

#define PUBLIC "https://news.example.com"

/* the link function of the tests: "T" and the link's index */
static void test_link(const void *ctx, unsigned idx, struct buf *out)
{
    (void)ctx;
    buf_appendf(out, "T%u", idx);
}

struct rewrite_case {
    const char *src;
    const char *rendered;   /* with test_link */
    const char *urls[4];    /* the tracked URLs, in order */
};

static const struct rewrite_case cases[] = {
    /* double quotes, single quotes, upper case, bare values, spaces around "=" */
    { "<a href=\"https://example.com/a\">x</a>", "<a href=\"T0\">x</a>", { "https://example.com/a" } },
    { "<a href='https://example.com/b'>x</a>", "<a href='T0'>x</a>", { "https://example.com/b" } },
    { "<A HREF=\"HTTP://Example.com/C\">x</A>", "<A HREF=\"T0\">x</A>", { "HTTP://Example.com/C" } },
    { "<a class=x href=https://example.com/d title=t>x</a>", "<a class=x href=T0 title=t>x</a>",
      { "https://example.com/d" } },
    { "<a href = \"https://example.com/e\" >x</a>", "<a href = \"T0\" >x</a>", { "https://example.com/e" } },
    { "<area shape=rect href=\"https://example.com/map\">", "<area shape=rect href=\"T0\">",
      { "https://example.com/map" } },
    /* entities decoded in the stored URL, the source slice replaced whole */
    { "<a href=\"https://example.com/?a=1&amp;b=2&#38;c=&#x33;\">x</a>", "<a href=\"T0\">x</a>",
      { "https://example.com/?a=1&b=2&c=3" } },
    { "<a href=\" https://example.com/sp \">x</a>", "<a href=\"T0\">x</a>", { "https://example.com/sp" } },
    /* the same URL twice is one link; two URLs two */
    { "<a href=\"https://example.com/1\">a</a><a href=\"https://example.com/2\">b</a><a href='https://example.com/1'>c</a>",
      "<a href=\"T0\">a</a><a href=\"T1\">b</a><a href='T0'>c</a>", { "https://example.com/1", "https://example.com/2" } },
    /* left as written: mailto, anchors, relative, protocol-relative, other schemes */
    { "<a href=\"mailto:info@example.com\">m</a>", "<a href=\"mailto:info@example.com\">m</a>", { NULL } },
    { "<a href=\"#top\">t</a><a href=\"/rel\">r</a><a href=\"//example.com/x\">p</a>",
      "<a href=\"#top\">t</a><a href=\"/rel\">r</a><a href=\"//example.com/x\">p</a>", { NULL } },
    { "<a href=\"tel:+3906\">t</a><a href=\"javascript:alert(1)\">j</a><a href=\"https://\">e</a>",
      "<a href=\"tel:+3906\">t</a><a href=\"javascript:alert(1)\">j</a><a href=\"https://\">e</a>", { NULL } },
    /* the unsubscribe link in all its spellings, and our own pages */
    { "<a href=\"{{ unsubscribe_url }}\">u</a> [UNSUBSCRIBE] <a href=\"[UNSUBSCRIBEURL]\">v</a>",
      "<a href=\"https://news.example.com/u/tok\">u</a> <a href=\"https://news.example.com/u/tok\">Unsubscribe</a> "
      "<a href=\"https://news.example.com/u/tok\">v</a>",
      { NULL } },
    { "<a href=\"https://news.example.com/u/abc\">u</a><a href=\"https://news.example.com/c/abc\">c</a>",
      "<a href=\"https://news.example.com/u/abc\">u</a><a href=\"https://news.example.com/c/abc\">c</a>", { NULL } },
    { "<a href=\"https://news.example.com/blog\">b</a>", "<a href=\"T0\">b</a>", { "https://news.example.com/blog" } },
    /* a variable in the URL: personal, left alone (also at its start, bare) */
    { "<a href=\"https://example.com/?e={{ email }}\">p</a>", "<a href=\"https://example.com/?e=ann@example.org\">p</a>",
      { NULL } },
    { "<a href={{ unsubscribe_url }}>u</a>", "<a href=https://news.example.com/u/tok>u</a>", { NULL } },
    /* not links: other tags and attributes, text, comments, declarations */
    { "<link rel=stylesheet href=\"https://example.com/s.css\"><img src=\"https://example.com/i.png\">",
      "<link rel=stylesheet href=\"https://example.com/s.css\"><img src=\"https://example.com/i.png\">", { NULL } },
    { "<abbr href=\"https://example.com/no\">a</abbr><a data-href=\"https://example.com/no\" href=\"https://example.com/y\">",
      "<abbr href=\"https://example.com/no\">a</abbr><a data-href=\"https://example.com/no\" href=\"T0\">",
      { "https://example.com/y" } },
    { "<p>write href=\"https://example.com/text\" in a tag</p>",
      "<p>write href=\"https://example.com/text\" in a tag</p>", { NULL } },
    { "<!-- <a href=\"https://example.com/c\"> --><!DOCTYPE html><a href=\"https://example.com/after\">",
      "<!-- <a href=\"https://example.com/c\"> --><!DOCTYPE html><a href=\"T0\">", { "https://example.com/after" } },
    { "<a title=\"a > b\" href=\"https://example.com/gt\">", "<a title=\"a > b\" href=\"T0\">",
      { "https://example.com/gt" } },
    /* inside conditions: both branches tracked, the jumps still right */
    { "{{#if name}}<a href=\"https://example.com/yes\">{{ name }}</a>{{else}}<a href=\"https://example.com/no\">x</a>{{/if}}!",
      "<a href=\"T0\">Ann</a>!", { "https://example.com/yes", "https://example.com/no" } },
    { "<a href=\"https://example.com/{{#if name}}a{{/if}}\">c</a>", "<a href=\"https://example.com/a\">c</a>", { NULL } },
    /* phpList placeholders around a tracked link */
    { "[NAME]: <a href=\"https://example.com/p\">[EMAIL]</a>", "Ann: <a href=\"T0\">ann@example.org</a>",
      { "https://example.com/p" } },
};

static void test_links_rewrite_table(void **state)
{
    (void)state;
    struct tmpl_values v = { .email = "ann@example.org", .name = "Ann",
                             .unsubscribe_url = "https://news.example.com/u/tok", .link = test_link };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct rewrite_case *tc = &cases[i];
        char err[TMPL_ERR_MAX];
        struct tmpl *t = tmpl_compile(tc->src, strlen(tc->src), err, sizeof(err));
        if (!t)
            fail_msg("case %zu: %s", i, err);
        char **urls;
        size_t n, want = 0;
        struct tmpl *tracked = compose_track_links(t, PUBLIC, &urls, &n);
        struct buf out = BUF_INIT, plain = BUF_INIT;
        tmpl_render(tracked, &v, TMPL_HTML, &out);
        if (strcmp(buf_cstr(&out), tc->rendered) != 0)
            fail_msg("case %zu: rendered\n  %s\nexpected\n  %s", i, out.data, tc->rendered);
        while (want < 4 && tc->urls[want])
            want++;
        if (n != want)
            fail_msg("case %zu: %zu URLs, expected %zu", i, n, want);
        for (size_t k = 0; k < n; k++)
            if (strcmp(urls[k], tc->urls[k]) != 0)
                fail_msg("case %zu: URL %zu is %s, expected %s", i, k, urls[k], tc->urls[k]);
        /* without a link function the copy renders exactly as the original */
        struct tmpl_values v2 = v;
        v2.link = NULL;
        tmpl_render(t, &v2, TMPL_HTML, &plain);
        buf_reset(&out);
        tmpl_render(tracked, &v2, TMPL_HTML, &out);
        if (strcmp(buf_cstr(&out), buf_cstr(&plain)) != 0)
            fail_msg("case %zu: untracked rendering differs:\n  %s\n  %s", i, out.data, plain.data);
        compose_links_free(urls, n);
        tmpl_free(tracked);
        tmpl_free(t);
        buf_free(&out);
        buf_free(&plain);
    }
}

/* the link function's output is escaped like any value in HTML */
static void link_with_amp(const void *ctx, unsigned idx, struct buf *out)
{
    (void)ctx;
    buf_appendf(out, "https://t.example/?a=1&i=%u\"", idx);
}

static void test_links_url_escaped_in_html(void **state)
{
    (void)state;
    const char src[] = "<a href=\"https://example.com/\">x</a>";
    char err[TMPL_ERR_MAX], **urls;
    size_t n;
    struct tmpl *t = tmpl_compile(src, strlen(src), err, sizeof(err));
    struct tmpl *tr = compose_track_links(t, PUBLIC, &urls, &n);
    struct tmpl_values v = { .link = link_with_amp };
    struct buf out = BUF_INIT;
    tmpl_render(tr, &v, TMPL_HTML, &out);
    assert_string_equal(out.data, "<a href=\"https://t.example/?a=1&amp;i=0&quot;\">x</a>");
    compose_links_free(urls, n);
    tmpl_free(tr);
    tmpl_free(t);
    buf_free(&out);
}

static void test_links_url_decoding_and_limits(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    static const struct {
        const char *raw, *url;
    } dec[] = {
        { "https://e.com/?a=1&amp;b=2", "https://e.com/?a=1&b=2" },
        { "https://e.com/&AMP;&lt;&gt;&quot;&apos;", "https://e.com/&<>\"'" },
        { "https://e.com/&#233;&#xE9;", "https://e.com/\xc3\xa9\xc3\xa9" },
        { "https://e.com/&copy;&#;&#x;&amp", "https://e.com/&copy;&#;&#x;&amp" },
        { "\n https://e.com/a\tb\r\n", "https://e.com/ab" },
    };
    for (size_t i = 0; i < sizeof(dec) / sizeof(dec[0]); i++) {
        buf_reset(&b);
        assert_int_equal(links_url(dec[i].raw, strlen(dec[i].raw), &b), 0);
        assert_string_equal(buf_cstr(&b), dec[i].url);
    }
    char long_url[LINKS_URL_MAX + 2];
    memset(long_url, 'a', sizeof(long_url));
    memcpy(long_url, "https://e.com/", 14);
    buf_reset(&b);
    assert_int_equal(links_url(long_url, LINKS_URL_MAX, &b), 0);
    buf_reset(&b);
    assert_int_equal(links_url(long_url, LINKS_URL_MAX + 1, &b), -1);
    assert_int_equal(b.len, 0);
    assert_true(links_trackable("https://e.com"));
    assert_true(links_trackable("HtTp://e.com/x?y#z"));
    assert_false(links_trackable("https:///x"));
    assert_false(links_trackable("https://e.com/a b"));
    assert_false(links_trackable("https://e.com/\x01"));
    assert_false(links_trackable("ftp://e.com/"));
    buf_free(&b);
}

/* the HTML part of a composed message, decoded */
static void html_part(const char *msg, struct buf *out)
{
    const char *p = strstr(msg, "Content-Type: text/html");
    assert_non_null(p);
    p = strstr(p, "\r\n\r\n");
    assert_non_null(p);
    p += 4;
    const char *e = strstr(p, "\r\n--");
    assert_non_null(e);
    assert_int_equal(qp_decode(out, p, (size_t)(e - p)), 0);
}

static void test_links_message_of_a_delivery_is_tracked(void **state)
{
    (void)state;
    char err[TMPL_ERR_MAX], **urls, tok[TOKEN_MAX + 1], kind;
    size_t n;
    uint64_t a, b;
    const char src[] = "<html><body><p>Hi {{ name }}</p><a href=\"https://example.com/x?a=1&amp;b=2\">x</a>"
                       " <a href=\"{{ unsubscribe_url }}\">u</a> <a href=\"{{ confirm_url }}\">c</a></body></html>";
    struct tmpl *t = tmpl_compile(src, strlen(src), err, sizeof(err));
    struct tmpl *subject = tmpl_compile("S", 1, err, sizeof(err));
    struct tmpl *tr = compose_track_links(t, PUBLIC, &urls, &n);
    assert_int_equal(n, 1);
    assert_string_equal(urls[0], "https://example.com/x?a=1&b=2");
    unsigned char key[TOKEN_KEY_LEN] = "0123456789abcdef0123456789abcdef";
    const uint64_t link_ids[] = { 314 }, confirm_lists[] = { 3 };
    struct compose_campaign c = { .id = 42, .name = "N", .subject = subject, .html = tr, .from_addr = "news@example.com",
                                  .public_url = PUBLIC, .token_key = key, .track_opens = true, .link_ids = link_ids,
                                  .confirm_lists = confirm_lists, .nconfirm_lists = 1 };
    compose_choose_encodings(&c);
    struct compose_recipient r = { .subscriber_id = 7, .email = "ann@example.org", .name = "Ann", .list_id = 3,
                                   .list_name = "news", .delivery_id = "1234" };
    struct compose_scratch s = COMPOSE_SCRATCH_INIT;
    struct buf out = BUF_INIT, html = BUF_INIT, want = BUF_INIT;
    const char *why;
    assert_int_equal(compose_message(&c, &r, 1795852800, &s, &out, &why), 0);
    html_part(out.data, &html);
    /* the click URL names (delivery, link row); the image sits before </body> */
    const char *l = strstr(html.data, "<a href=\"" PUBLIC "/l/");
    assert_non_null(l);
    assert_int_equal(sscanf(l, "<a href=\"" PUBLIC "/l/%64[a-z2-7]\">x</a>", tok), 1);
    assert_int_equal(token_parse(key, tok, &kind, &a, &b), 0);
    assert_int_equal(kind, 'l');
    assert_int_equal(a, 1234);
    assert_int_equal(b, 314);
    const char *img = strstr(html.data, "<img src=\"" PUBLIC "/o/");
    assert_non_null(img);
    assert_int_equal(sscanf(img, "<img src=\"" PUBLIC "/o/%64[a-z2-7].gif\"", tok), 1);
    assert_int_equal(token_parse(key, tok, &kind, &a, &b), 0);
    assert_int_equal(kind, 'o');
    assert_int_equal(a, 1234);
    assert_int_equal(b, 0);
    buf_appendf(&want, "<img src=\"" PUBLIC "/o/%s.gif\" width=\"1\" height=\"1\" alt=\"\""
                       " style=\"display:block;border:0;width:1px;height:1px\"></body></html>", tok);
    assert_non_null(strstr(html.data, want.data));
    /* unsubscribe and confirmation links untouched, the confirmation for (subscriber, list) */
    assert_non_null(strstr(html.data, "<a href=\"" PUBLIC "/u/"));
    const char *cu = strstr(html.data, "<a href=\"" PUBLIC "/c/");
    assert_non_null(cu);
    assert_int_equal(sscanf(cu, "<a href=\"" PUBLIC "/c/%64[a-z2-7]\">c</a>", tok), 1);
    assert_int_equal(token_parse(key, tok, &kind, &a, &b), 0);
    assert_int_equal(kind, 'c');
    assert_int_equal(a, 7);
    assert_int_equal(b, 3);

    /* a preview (no delivery number): links as written, no image; a list not double opt-in: no confirm_url */
    r.delivery_id = "preview";
    r.list_id = 4;
    buf_reset(&out);
    buf_reset(&html);
    assert_int_equal(compose_message(&c, &r, 1795852800, &s, &out, &why), 0);
    html_part(out.data, &html);
    assert_non_null(strstr(html.data, "<a href=\"https://example.com/x?a=1&amp;b=2\">x</a>"));
    assert_null(strstr(html.data, "<img"));
    assert_null(strstr(html.data, "/l/"));
    assert_non_null(strstr(html.data, "<a href=\"\">c</a>"));

    /* opens only, and no </body>: the image at the very end */
    const char bare[] = "<p>{{ name }}</p>";
    struct tmpl *tb = tmpl_compile(bare, strlen(bare), err, sizeof(err));
    struct compose_campaign c2 = c;
    c2.html = tb;
    c2.link_ids = NULL;
    r.delivery_id = "9";
    buf_reset(&out);
    buf_reset(&html);
    assert_int_equal(compose_message(&c2, &r, 1795852800, &s, &out, &why), 0);
    html_part(out.data, &html);
    assert_true(strncmp(html.data, "<p>Ann</p><img src=\"" PUBLIC "/o/", 37) == 0);
    assert_true(html.len > 2 && strcmp(html.data + html.len - 2, "\">") == 0);

    compose_links_free(urls, n);
    compose_scratch_free(&s);
    buf_free(&out);
    buf_free(&html);
    buf_free(&want);
    tmpl_free(tb);
    tmpl_free(tr);
    tmpl_free(t);
    tmpl_free(subject);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_links_rewrite_table),
        cmocka_unit_test(test_links_url_escaped_in_html),
        cmocka_unit_test(test_links_url_decoding_and_limits),
        cmocka_unit_test(test_links_message_of_a_delivery_is_tracked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
