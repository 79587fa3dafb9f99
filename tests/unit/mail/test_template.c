/* test_template - template syntax, escaping, phpList placeholders, wrapping, errors. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "engine/mail/template.h"
#include "engine/util/alloc.h"

static json_t *attribs;
static struct tmpl_values vals;

static int setup(void **state)
{
    (void)state;
    attribs = json_pack("{s:s, s:s, s:i, s:b, s:n, s:s, s:[i,i], s:s, s:s, s:f}", "city", "Köln", "Plan",
                        "gold", "visits", 42, "vip", 1, "nothing", "empty", "", "tags", 1, 2, "html",
                        "<b>&\"'</b>", "Company Name", "ACME", "ratio", 0.5);
    vals = (struct tmpl_values){
        .email = "ann@example.org",
        .name = "Ann Lee",
        .attribs = attribs,
        .unsubscribe_url = "https://x.example/u?a=1&b=2",
        .campaign_name = "November",
        .campaign_subject = "News & views",
        .list_name = "Weekly",
        .content = "<p>body</p>",
        .preferences_url = "https://x.example/p/t?x=1&y=2",
    };
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(attribs);
    return 0;
}

/* render - compile SRC (which must compile) and render it in MODE with V. */
static char *render_v(const char *src, enum tmpl_mode mode, const struct tmpl_values *v)
{
    char err[TMPL_ERR_MAX] = "";
    struct tmpl *t = tmpl_compile(src, strlen(src), err, sizeof(err));
    if (!t)
        fail_msg("compile failed: %s", err);
    struct buf out = BUF_INIT;
    tmpl_render(t, v, mode, &out);
    tmpl_free(t);
    buf_cstr(&out);
    return buf_detach(&out, NULL);
}

static char *render(const char *src, enum tmpl_mode mode)
{
    return render_v(src, mode, &vals);
}

static void check(const char *src, enum tmpl_mode mode, const char *want)
{
    char *got = render(src, mode);
    assert_string_equal(got, want);
    free(got);
}

static void check_error(const char *src, size_t len, const char *want)
{
    char err[TMPL_ERR_MAX] = "";
    struct tmpl *t = tmpl_compile(src, len, err, sizeof(err));
    assert_null(t);
    assert_string_equal(err, want);
}

static void test_tmpl_plain_variables(void **state)
{
    (void)state;
    check("Hi {{ name }} <{{email}}>", TMPL_TEXT, "Hi Ann Lee <ann@example.org>");
    check("{{campaign.name}}/{{ campaign.subject }}/{{list.name}}", TMPL_TEXT, "November/News & views/Weekly");
    check("{{ unsubscribe_url }}", TMPL_TEXT, "https://x.example/u?a=1&b=2");
    check("no tags at all", TMPL_TEXT, "no tags at all");
    check("", TMPL_TEXT, "");
    check("{ single } and }} stray", TMPL_TEXT, "{ single } and }} stray");
}

static void test_tmpl_html_escapes_values_not_text(void **state)
{
    (void)state;
    check("<p>{{ campaign.subject }}</p>", TMPL_HTML, "<p>News &amp; views</p>");
    check("{{ attribs.html }}", TMPL_HTML, "&lt;b&gt;&amp;&quot;&#39;&lt;/b&gt;");
    check("{{ attribs.html }}", TMPL_TEXT, "<b>&\"'</b>");
    check("<a href=\"{{unsubscribe_url}}\">x</a>", TMPL_HTML, "<a href=\"https://x.example/u?a=1&amp;b=2\">x</a>");
}

static void test_tmpl_raw_triple_braces(void **state)
{
    (void)state;
    check("{{{ attribs.html }}}", TMPL_HTML, "<b>&\"'</b>");
    check("{{{campaign.subject}}}", TMPL_HTML, "News & views");
}

static void test_tmpl_attributes_and_json_values(void **state)
{
    (void)state;
    check("{{ attribs.city }}", TMPL_TEXT, "Köln");
    check("{{ attribs.visits }} {{attribs.vip}} {{ attribs.tags }} {{ attribs.ratio }}", TMPL_TEXT,
          "42 true [1,2] 0.5");
    check("[{{ attribs.nothing }}][{{ attribs.missing }}]", TMPL_TEXT, "[][]");
    check("{{ attribs.plan }}", TMPL_TEXT, "gold"); /* keys fall back to a case-insensitive match */
}

static void test_tmpl_default_filter(void **state)
{
    (void)state;
    check("Hi {{ attribs.first | default \"friend\" }}!", TMPL_TEXT, "Hi friend!");
    check("{{attribs.empty|default 'none'}}", TMPL_TEXT, "none");
    check("{{ attribs.nothing | default \"n/a\" }}", TMPL_TEXT, "n/a");
    check("{{ attribs.city | default \"x\" }}", TMPL_TEXT, "Köln");
    check("{{ attribs.first | default \"a \\\"q\\\" & b\" }}", TMPL_HTML, "a &quot;q&quot; &amp; b");
    check("{{{ attribs.first | default \"a & b\" }}}", TMPL_HTML, "a & b");
}

static void test_tmpl_if_else(void **state)
{
    (void)state;
    check("{{#if attribs.vip}}VIP{{else}}regular{{/if}}", TMPL_TEXT, "VIP");
    check("{{#if attribs.missing}}VIP{{else}}regular{{/if}}", TMPL_TEXT, "regular");
    check("{{#if attribs.empty}}y{{/if}}|{{#if attribs.nothing}}y{{/if}}|{{#if name}}y{{/if}}", TMPL_TEXT,
          "||y");
    check("{{ #if attribs.Plan == \"gold\" }}G{{ else }}O{{ /if }}", TMPL_TEXT, "G");
    check("{{#if attribs.Plan == \"silver\"}}S{{else}}O{{/if}}", TMPL_TEXT, "O");
    check("{{#if attribs.visits == \"42\"}}42{{/if}}", TMPL_TEXT, "42");
    check("{{#if attribs.Plan != \"gold\"}}no{{else}}yes{{/if}}", TMPL_TEXT, "yes");
}

static void test_tmpl_nested_if(void **state)
{
    (void)state;
    const char *src = "{{#if attribs.vip}}a{{#if attribs.missing}}b{{else}}c{{#if attribs.city == \"Köln\"}}d"
                      "{{/if}}{{/if}}e{{else}}f{{/if}}g";
    check(src, TMPL_TEXT, "acdeg");
    struct tmpl_values v = vals;
    v.attribs = NULL;
    char *got = render_v(src, TMPL_TEXT, &v);
    assert_string_equal(got, "fg");
    free(got);
}

static void test_tmpl_phplist_placeholders(void **state)
{
    (void)state;
    check("[EMAIL] [name] [FirstName]", TMPL_TEXT, "ann@example.org Ann Lee Ann");
    check("[CITY] [plan] [VISITS] [Company Name]", TMPL_TEXT, "Köln gold 42 ACME");
    check("[UNSUBSCRIBEURL]", TMPL_HTML, "https://x.example/u?a=1&amp;b=2");
    check("[UNSUBSCRIBE]", TMPL_HTML, "<a href=\"https://x.example/u?a=1&amp;b=2\">Unsubscribe</a>");
    check("[UNSUBSCRIBE]", TMPL_TEXT, "https://x.example/u?a=1&b=2");
    check("[PREFERENCESURL]", TMPL_HTML, "https://x.example/p/t?x=1&amp;y=2");
    check("[Preferences]", TMPL_HTML, "<a href=\"https://x.example/p/t?x=1&amp;y=2\">Preferences</a>");
    check("[PREFERENCES]", TMPL_TEXT, "https://x.example/p/t?x=1&y=2");
    check("{{ preferences_url }}", TMPL_TEXT, "https://x.example/p/t?x=1&y=2");
    check("[HTML]", TMPL_HTML, "&lt;b&gt;&amp;&quot;&#39;&lt;/b&gt;");
}

static void test_tmpl_phplist_firstname_prefers_attribute(void **state)
{
    (void)state;
    json_t *a = json_pack("{s:s}", "FirstName", "Annie");
    struct tmpl_values v = vals;
    v.attribs = a;
    char *got = render_v("[FIRSTNAME]", TMPL_TEXT, &v);
    assert_string_equal(got, "Annie");
    free(got);
    json_decref(a);
    v.attribs = NULL;
    v.name = NULL;
    got = render_v("<[FIRSTNAME]>", TMPL_TEXT, &v);
    assert_string_equal(got, "<>");
    free(got);
}

static void test_tmpl_phplist_unknown_words_stay(void **state)
{
    (void)state;
    check("He wrote [sic] and [1] and [a b] [x ] [] [[EMAIL]]", TMPL_HTML,
          "He wrote [sic] and [1] and [a b] [x ] [] [ann@example.org]");
    check("[EMPTY]|[nothing]", TMPL_TEXT, "|");
}

static void test_tmpl_phplist_defaults(void **state)
{
    (void)state;
    check("Dear [FIRST%%friend], [CITY%%nowhere] [EMPTY%%blank]", TMPL_TEXT, "Dear friend, Köln blank");
    check("[COUNTRY%%R&D]", TMPL_HTML, "R&amp;D");
    check("[NOPE%%]", TMPL_TEXT, "");
    check("[NOPE%%a[b]", TMPL_TEXT, "[NOPE%%a[b]");
}

static void test_tmpl_content_alone_is_raw(void **state)
{
    (void)state;
    check("<div>[CONTENT]</div>{{ content }}", TMPL_HTML, "<div><p>body</p></div><p>body</p>");
}

static void test_tmpl_wrap_inlines_content_with_placeholders(void **state)
{
    (void)state;
    const char *layout = "<html>{{#if attribs.vip}}[CONTENT]{{else}}{{{content}}}!{{/if}}<hr>[UNSUBSCRIBE]</html>";
    const char *content = "<p>Hi [FIRSTNAME], {{ attribs.html }} [sic]</p>";
    char err[TMPL_ERR_MAX] = "";
    struct tmpl *t = tmpl_compile_wrap(layout, strlen(layout), content, strlen(content), err, sizeof(err));
    assert_non_null(t);
    struct buf out = BUF_INIT;
    tmpl_render(t, &vals, TMPL_HTML, &out);
    assert_string_equal(buf_cstr(&out),
                        "<html><p>Hi Ann, &lt;b&gt;&amp;&quot;&#39;&lt;/b&gt; [sic]</p><hr>"
                        "<a href=\"https://x.example/u?a=1&amp;b=2\">Unsubscribe</a></html>");
    struct tmpl_values v = vals;
    v.attribs = NULL;
    buf_reset(&out);
    tmpl_render(t, &v, TMPL_TEXT, &out);
    assert_string_equal(buf_cstr(&out), "<html><p>Hi Ann,  [sic]</p>!<hr>https://x.example/u?a=1&b=2</html>");
    buf_free(&out);
    tmpl_free(t);
}

static void test_tmpl_wrap_errors(void **state)
{
    (void)state;
    char err[TMPL_ERR_MAX] = "";
    assert_null(tmpl_compile_wrap("<html></html>", 13, "x", 1, err, sizeof(err)));
    assert_string_equal(err, "template has no [CONTENT] or {{ content }} placeholder");
    const char *content = "ok\n  {{ content }}";
    assert_null(tmpl_compile_wrap("[CONTENT]", 9, content, strlen(content), err, sizeof(err)));
    assert_string_equal(err, "content: line 2, column 6: unknown variable \"content\"");
    assert_null(tmpl_compile_wrap("a\n{{ nmae }}", 12, "x", 1, err, sizeof(err)));
    assert_string_equal(err, "line 2, column 4: unknown variable \"nmae\"");
}

static void test_tmpl_error_messages(void **state)
{
    (void)state;
    static const struct {
        const char *src;
        const char *want;
    } cases[] = {
        { "a\nb\nHello {{nmae}}", "line 3, column 9: unknown variable \"nmae\"" },
        { "a\nb\n Hi, {{ nmae }}", "line 3, column 9: unknown variable \"nmae\"" },
        { "x {{ name", "line 1, column 3: unclosed \"{{\"" },
        { "x {{{ name }}", "line 1, column 3: unclosed \"{{{\"" },
        { "{{#if name}}a", "line 1, column 1: unclosed \"{{#if}}\"" },
        { "{{#if name}}{{#if email}}a{{/if}}", "line 1, column 1: unclosed \"{{#if}}\"" },
        { "a{{else}}", "line 1, column 2: \"{{else}}\" without \"{{#if}}\"" },
        { "a\n{{/if}}", "line 2, column 1: \"{{/if}}\" without \"{{#if}}\"" },
        { "{{#if name}}{{else}}{{else}}{{/if}}", "line 1, column 21: second \"{{else}}\" in one \"{{#if}}\"" },
        { "{{ name | upper }}", "line 1, column 11: unknown filter \"upper\"" },
        { "{{ name | }}", "line 1, column 11: expected a filter name after \"|\"" },
        { "{{ name | default friend }}", "line 1, column 19: expected a quoted string after \"default\"" },
        { "{{ name | default \"friend }}", "line 1, column 19: unterminated string" },
        { "{{ }}", "line 1, column 4: expected a variable name" },
        { "{{ name email }}", "line 1, column 9: unexpected \"e\"" },
        { "{{#each x}}{{/each}}", "line 1, column 3: unknown block \"#each\"" },
        { "{{#if name = \"x\"}}{{/if}}", "line 1, column 12: unexpected \"=\"" },
        { "{{#if name == x}}{{/if}}", "line 1, column 15: expected a quoted string after \"==\"" },
        { "é {{ attribs }}", "line 1, column 6: unknown variable \"attribs\"" },
        { "{{ list.nam }}", "line 1, column 4: unknown variable \"list.nam\"" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_error(cases[i].src, strlen(cases[i].src), cases[i].want);
}

static void test_tmpl_invalid_utf8_is_an_error(void **state)
{
    (void)state;
    check_error("ok\nab\xc3(", 6, "line 2, column 3: invalid UTF-8");
    check_error("\xc3\xa9\xc3\xa9\xed\xa0\x80", 7, "line 1, column 3: invalid UTF-8");
    check_error("a\xc0\xaf", 3, "line 1, column 2: invalid UTF-8");
}

static void test_tmpl_null_values_render_empty(void **state)
{
    (void)state;
    struct tmpl_values v = { 0 };
    char *got = render_v("[{{name}}|{{email}}|[EMAIL]|{{attribs.x}}|[X]|[UNSUBSCRIBE]|{{content}}]", TMPL_HTML, &v);
    assert_string_equal(got, "[||||[X]||]");
    free(got);
}

static void test_tmpl_render_appends(void **state)
{
    (void)state;
    char err[TMPL_ERR_MAX];
    struct tmpl *t = tmpl_compile("{{name}}", 8, err, sizeof(err));
    assert_non_null(t);
    struct buf out = BUF_INIT;
    buf_appends(&out, "> ");
    tmpl_render(t, &vals, TMPL_TEXT, &out);
    tmpl_render(t, &vals, TMPL_TEXT, &out);
    assert_string_equal(buf_cstr(&out), "> Ann LeeAnn Lee");
    buf_free(&out);
    tmpl_free(t);
}

struct shared {
    const struct tmpl *t;
    int mismatches;
};

static void *render_many(void *arg)
{
    struct shared *sh = arg;
    struct buf out = BUF_INIT;
    for (int i = 0; i < 2000; i++) {
        buf_reset(&out);
        tmpl_render(sh->t, &vals, TMPL_HTML, &out);
        if (strcmp(buf_cstr(&out), "Ann Lee Köln VIP &lt;b&gt;&amp;&quot;&#39;&lt;/b&gt; [sic]") != 0)
            __atomic_add_fetch(&sh->mismatches, 1, __ATOMIC_RELAXED);
    }
    buf_free(&out);
    return NULL;
}

static void test_tmpl_shared_by_threads(void **state)
{
    (void)state;
    const char *src = "{{name}} [CITY] {{#if attribs.vip}}VIP{{/if}} {{ attribs.html }} [sic]";
    char err[TMPL_ERR_MAX];
    struct shared sh = { tmpl_compile(src, strlen(src), err, sizeof(err)), 0 };
    assert_non_null(sh.t);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, render_many, &sh), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(sh.mismatches, 0);
    tmpl_free((struct tmpl *)sh.t);
}

static void test_tmpl_err_position_reads_line_and_column(void **state)
{
    (void)state;
    char err[TMPL_ERR_MAX];
    unsigned long line = 0, col = 0;
    const char *layout = "<div>\n  {{ content }}\n</div>";
    const char *body = "ok\n\nbé {{ nmae }}";
    struct tmpl *t = tmpl_compile_wrap(layout, strlen(layout), body, strlen(body), err, sizeof(err));
    assert_null(t);
    assert_string_equal(err, "content: line 3, column 7: unknown variable \"nmae\"");
    assert_int_equal(tmpl_err_position(err, &line, &col), 0);
    assert_int_equal(line, 3);
    assert_int_equal(col, 7);
    t = tmpl_compile("a\n{{/if}}", 9, err, sizeof(err));
    assert_null(t);
    assert_int_equal(tmpl_err_position(err, &line, &col), 0);
    assert_int_equal(line, 2);
    assert_int_equal(col, 1);
    assert_null(tmpl_compile_wrap("<p>no content</p>", 17, "", 0, err, sizeof(err)));
    assert_int_equal(tmpl_err_position(err, &line, &col), -1);
}

/* A key used many times is looked up once per render: each render sees its own values,
 * and a template with more distinct keys than a render remembers renders them all. */
static void test_tmpl_repeated_attributes_each_render_its_own(void **state)
{
    (void)state;
    check("{{ attribs.city }}{{#if attribs.city == \"K\u00f6ln\"}}!{{/if}}{{ attribs.City }}|{{ attribs.city }}",
          TMPL_TEXT, "K\u00f6ln!K\u00f6ln|K\u00f6ln");
    char err[TMPL_ERR_MAX] = "";
    const char *src = "{{ attribs.plan }}{{#if attribs.plan == \"pro\"}}+{{else}}-{{/if}}{{ attribs.plan }};";
    struct tmpl *t = tmpl_compile(src, strlen(src), err, sizeof(err));
    assert_non_null(t);
    struct buf out = BUF_INIT;
    static const char *const plans[] = { "pro", "free", "pro" };
    for (int i = 0; i < 3; i++) {
        struct tmpl_values v = vals;
        v.attribs = json_pack("{s:s}", "plan", plans[i]);
        tmpl_render(t, &v, TMPL_TEXT, &out);
        json_decref(v.attribs);
    }
    tmpl_render(t, &vals, TMPL_TEXT, &out); /* "Plan" matched without case */
    assert_string_equal(buf_cstr(&out), "pro+pro;free-free;pro+pro;gold-gold;");
    buf_free(&out);
    tmpl_free(t);

    struct buf many = BUF_INIT, want = BUF_INIT;
    json_t *a = json_object();
    for (int i = 0; i < 70; i++) {
        char key[16], val[16];
        snprintf(key, sizeof(key), "k%d", i);
        snprintf(val, sizeof(val), "v%d", i);
        json_object_set_new(a, key, json_string(val));
        buf_appendf(&many, "{{ attribs.k%d }},", i);
        buf_appendf(&want, "v%d,", i);
    }
    buf_appends(&many, "{{ attribs.k0 }}{{ attribs.k69 }}{{ attribs.K68 }}");
    buf_appends(&want, "v0v69v68");
    struct tmpl_values v = vals;
    v.attribs = a;
    char *got = render_v(buf_cstr(&many), TMPL_TEXT, &v);
    assert_string_equal(got, buf_cstr(&want));
    free(got);
    json_decref(a);
    buf_free(&many);
    buf_free(&want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tmpl_plain_variables),
        cmocka_unit_test(test_tmpl_html_escapes_values_not_text),
        cmocka_unit_test(test_tmpl_raw_triple_braces),
        cmocka_unit_test(test_tmpl_attributes_and_json_values),
        cmocka_unit_test(test_tmpl_default_filter),
        cmocka_unit_test(test_tmpl_if_else),
        cmocka_unit_test(test_tmpl_nested_if),
        cmocka_unit_test(test_tmpl_phplist_placeholders),
        cmocka_unit_test(test_tmpl_phplist_firstname_prefers_attribute),
        cmocka_unit_test(test_tmpl_phplist_unknown_words_stay),
        cmocka_unit_test(test_tmpl_phplist_defaults),
        cmocka_unit_test(test_tmpl_content_alone_is_raw),
        cmocka_unit_test(test_tmpl_wrap_inlines_content_with_placeholders),
        cmocka_unit_test(test_tmpl_wrap_errors),
        cmocka_unit_test(test_tmpl_error_messages),
        cmocka_unit_test(test_tmpl_err_position_reads_line_and_column),
        cmocka_unit_test(test_tmpl_invalid_utf8_is_an_error),
        cmocka_unit_test(test_tmpl_null_values_render_empty),
        cmocka_unit_test(test_tmpl_render_appends),
        cmocka_unit_test(test_tmpl_shared_by_threads),
        cmocka_unit_test(test_tmpl_repeated_attributes_each_render_its_own),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
