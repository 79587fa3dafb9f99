/* test_html2text - the text alternative derived from an HTML body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/mail/html2text.h"

static void check(const char *html, const char *want)
{
    struct buf b = BUF_INIT;
    html2text_append(&b, html, strlen(html));
    assert_string_equal(buf_cstr(&b), want);
    buf_free(&b);
}

static void test_html2text_strips_tags_and_collapses_space(void **state)
{
    (void)state;
    check("<b>Hello</b>   <i>world</i>\n\t!", "Hello world !\n");
    check("", "");
    check("<p></p><div> </div>", "");
    check("a < b and c>d", "a < b and c>d\n");
}

static void test_html2text_drops_script_style_head_comments(void **state)
{
    (void)state;
    check("<html><head><title>T</title><style>p { color: red }</style></head>"
          "<body><script type=\"x\">var a = '<p>';</script>Hi<!-- <p>hidden</p> --> there<!DOCTYPE x></body>",
          "Hi there\n");
    check("<SCRIPT>x</SCRIPT>ok<Style>y</STYLE>", "ok\n");
}

static void test_html2text_blocks_become_lines(void **state)
{
    (void)state;
    check("<h1>Title</h1><p>One</p><p>Two<br>Three<br><br>Four</p><div>Five</div><div>Six</div>",
          "Title\n\nOne\n\nTwo\nThree\n\nFour\n\nFive\nSix\n");
    check("<ul><li>a</li><li>b <b>c</b></li></ul><p>after</p>", "* a\n* b c\n\nafter\n");
    check("<table><tr><td>1</td><td>2</td></tr><tr><th>3</th><td>4</td></tr></table>", "1 2\n3 4\n");
    check("x<hr>y", "x\n\n------------------------------\n\ny\n");
}

static void test_html2text_entities(void **state)
{
    (void)state;
    check("&lt;tag&gt; &amp; &quot;q&quot; &#39;s&apos; caf&eacute; &#233;&#xE9;&#X1F600; &euro;5 a&nbsp;b",
          "<tag> & \"q\" 's' café éé😀 €5 a b\n");
    check("&bogus; &amp &#xZZ; &#; &", "&bogus; &amp &#xZZ; &#; &\n");
    check("&#0;&#xD800;&#1114112;", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\n");
}

static void test_html2text_links(void **state)
{
    (void)state;
    check("See <a href=\"https://ex.com/a?x=1&amp;y=2\">our site</a>.", "See our site (https://ex.com/a?x=1&y=2).\n");
    check("<a href='https://ex.com'>https://ex.com</a>", "https://ex.com\n");
    check("<a href=\"mailto:ann@ex.com\">ann@ex.com</a>", "ann@ex.com\n");
    check("<a href=\"#top\">top</a> <a>plain</a> <a href=\"javascript:x()\">js</a>", "top plain js\n");
    check("<a href=\"https://ex.com/i\"><img src=\"i.png\" alt=\"Logo\"></a>", "Logo (https://ex.com/i)\n");
    check("<a href=\"https://ex.com/e\"></a>", "https://ex.com/e\n");
}

static void test_html2text_pre_keeps_whitespace(void **state)
{
    (void)state;
    check("<p>a</p><pre>  x  y\n   z</pre><p>b   c</p>", "a\n\n  x  y\n   z\n\nb c\n");
}

static void test_html2text_wraps_at_width(void **state)
{
    (void)state;
    char html[400], want[400];
    /* 20 words of "word" (4 chars + space): 15 words fit in 74 columns, the 16th would reach 79 */
    html[0] = 0;
    for (int i = 0; i < 20; i++)
        strcat(html, i ? " word" : "word");
    want[0] = 0;
    for (int i = 0; i < 20; i++)
        strcat(want, i == 0 ? "word" : i == 15 ? "\nword" : " word");
    strcat(want, "\n");
    check(html, want);
    /* an unbreakable word longer than the width stays whole */
    char url[200] = "x ", wurl[200] = "x\n";
    memset(url + 2, 'u', 100);
    url[102] = 0;
    memset(wurl + 2, 'u', 100);
    strcpy(wurl + 102, "\n");
    check(url, wurl);
}

static void test_html2text_appends(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    buf_appends(&b, "head:");
    html2text_append(&b, "<p>x</p>", 8);
    assert_string_equal(buf_cstr(&b), "head:x\n");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html2text_strips_tags_and_collapses_space),
        cmocka_unit_test(test_html2text_drops_script_style_head_comments),
        cmocka_unit_test(test_html2text_blocks_become_lines),
        cmocka_unit_test(test_html2text_entities),
        cmocka_unit_test(test_html2text_links),
        cmocka_unit_test(test_html2text_pre_keeps_whitespace),
        cmocka_unit_test(test_html2text_wraps_at_width),
        cmocka_unit_test(test_html2text_appends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
