/* test_markdown - Markdown bodies: CommonMark's HTML, safe mode, template tags kept whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/mail/markdown.h"
#include "engine/mail/template.h"

static void expect_html(const char *md, const char *html)
{
    struct buf out = BUF_INIT;
    assert_int_equal(markdown_render(md, strlen(md), &out), 0);
    assert_string_equal(buf_cstr(&out), html);
    buf_free(&out);
}

static void test_markdown_renders_commonmark(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        { "# Hello\n\nSome *text* and **more**.\n", "<h1>Hello</h1>\n<p>Some <em>text</em> and <strong>more</strong>.</p>\n" },
        { "- a\n- b\n", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n" },
        { "[site](https://example.com/a?b=1&c=2 \"T\")", "<p><a href=\"https://example.com/a?b=1&amp;c=2\" title=\"T\">site</a></p>\n" },
        { "`code <b>`\n", "<p><code>code &lt;b&gt;</code></p>\n" },
        { "Fish & \"chips\" < 3\n", "<p>Fish &amp; &quot;chips&quot; &lt; 3</p>\n" },
        { "", "" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_html(cases[i][0], cases[i][1]);
}

static void test_markdown_safe_mode_omits_raw_html_and_script_links(void **state)
{
    (void)state;
    expect_html("Hi <script>alert(1)</script> there\n",
                "<p>Hi <!-- raw HTML omitted -->alert(1)<!-- raw HTML omitted --> there</p>\n");
    expect_html("<div onclick=\"x()\">\nblock\n</div>\n", "<!-- raw HTML omitted -->\n");
    expect_html("[x](javascript:alert(1))\n", "<p><a href=\"\">x</a></p>\n");
}

static void test_markdown_keeps_template_tags_as_written(void **state)
{
    (void)state;
    /* quotes stay quotes (not &quot;), a tag in a link destination is not percent-encoded,
     * underscores and asterisks inside a tag are no emphasis */
    expect_html("Hello **{{ name }}**, from {{ attribs.home_town | default \"a *big* town\" }}!\n",
                "<p>Hello <strong>{{ name }}</strong>, from {{ attribs.home_town | default \"a *big* town\" }}!</p>\n");
    expect_html("[Unsubscribe]({{ unsubscribe_url }})\n", "<p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>\n");
    expect_html("{{#if attribs.vip == \"yes\"}}\nVIP _only_\n{{else}}\nAll\n{{/if}}\n",
                "<p>{{#if attribs.vip == \"yes\"}}\nVIP <em>only</em>\n{{else}}\nAll\n{{/if}}</p>\n");
    expect_html("Raw {{{ attribs.html }}} and [NAME] and [CITY%%\"Rome\"]\n",
                "<p>Raw {{{ attribs.html }}} and [NAME] and [CITY%%\"Rome\"]</p>\n");
    /* an unclosed tag is text, left for the template compiler to report */
    expect_html("a {{ name\n", "<p>a {{ name</p>\n");
}

static void test_markdown_source_holding_the_marker_word(void **state)
{
    (void)state;
    expect_html("zqpostinomd0x {{ email }} zqpostinomdq1x\n", "<p>zqpostinomd0x {{ email }} zqpostinomdq1x</p>\n");
}

/* rendered, then compiled and rendered as a campaign's HTML: the values escaped by the template engine */
static void test_markdown_then_template_escapes_values(void **state)
{
    (void)state;
    const char *md = "Dear *{{ name }}*, [bye]({{ unsubscribe_url }})\n";
    struct buf html = BUF_INIT, out = BUF_INIT;
    char err[TMPL_ERR_MAX];
    assert_int_equal(markdown_render(md, strlen(md), &html), 0);
    struct tmpl *t = tmpl_compile(html.data, html.len, err, sizeof(err));
    assert_non_null(t);
    struct tmpl_values v = { .name = "<script>alert(1)</script>", .unsubscribe_url = "https://x.example/u/a?b=1&c=\"" };
    tmpl_render(t, &v, TMPL_HTML, &out);
    assert_string_equal(buf_cstr(&out), "<p>Dear <em>&lt;script&gt;alert(1)&lt;/script&gt;</em>, "
                                        "<a href=\"https://x.example/u/a?b=1&amp;c=&quot;\">bye</a></p>\n");
    tmpl_free(t);
    buf_free(&html);
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_markdown_renders_commonmark),
        cmocka_unit_test(test_markdown_safe_mode_omits_raw_html_and_script_links),
        cmocka_unit_test(test_markdown_keeps_template_tags_as_written),
        cmocka_unit_test(test_markdown_source_holding_the_marker_word),
        cmocka_unit_test(test_markdown_then_template_escapes_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
