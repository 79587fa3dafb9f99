/*
 * test_mime_parse - messages built by mime_build, parsed back by Python's
 * email package (policy=default) through tests/integration/mime_parse.py:
 * the decoded Subject, display names, addresses, text and HTML parts must be
 * what went in. A deliberately wrong expectation must make the check fail.
 * Needs /usr/bin/python3; ignores POSTINO_TEST_DB.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "engine/mail/html2text.h"
#include "engine/mail/mime.h"
#include "engine/util/buf.h"

static char workdir[PATH_MAX];
static char script[PATH_MAX + 64];

/* find_script - tests/integration/mime_parse.py, from the current directory or above the executable. */
static int find_script(void)
{
    if (access("tests/integration/mime_parse.py", R_OK) == 0)
        return realpath("tests/integration/mime_parse.py", script) ? 0 : -1;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return -1;
    exe[n] = 0;
    for (char *slash; (slash = strrchr(exe, '/')) != NULL;) {
        *slash = 0;
        snprintf(script, sizeof(script), "%s/tests/integration/mime_parse.py", exe);
        if (access(script, R_OK) == 0)
            return 0;
    }
    return -1;
}

static int setup(void **state)
{
    (void)state;
    if (find_script() < 0) {
        fprintf(stderr, "test_mime_parse: tests/integration/mime_parse.py not found\n");
        return -1;
    }
    snprintf(workdir, sizeof(workdir), "%s/postino-mime-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(workdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", workdir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *repeat(const char *s, int n, const char *sep)
{
    struct buf b = BUF_INIT;
    for (int i = 0; i < n; i++) {
        if (i && sep)
            buf_appends(&b, sep);
        buf_appends(&b, s);
    }
    return buf_detach(&b, NULL);
}

/* add_case - build M, write it as NAME, and add what must parse back to CASES. */
static void add_case(json_t *cases, const char *name, const struct mime_message *m)
{
    struct buf out = BUF_INIT;
    int rc = mime_build(m, &out);
    if (rc < 0)
        fail_msg("%s: mime_build: %s", name, mime_strerror(rc));
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", workdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(out.data, 1, out.len, f), out.len);
    assert_int_equal(fclose(f), 0);
    buf_free(&out);

    struct buf text = BUF_INIT;
    if (m->text && m->text_len)
        buf_append(&text, m->text, m->text_len);
    else
        html2text_append(&text, m->html, m->html_len);
    json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s%, s:b}", "file", name, "subject", m->subject,
                          "from_name", m->from_name ? m->from_name : "", "from_addr", m->from_addr, "to_name",
                          m->to_name ? m->to_name : "", "to_addr", m->to_addr, "text", buf_cstr(&text), text.len,
                          "single_part", !(m->html && m->html_len));
    assert_non_null(c);
    json_object_set_new(c, "html", m->html ? json_stringn(m->html, m->html_len) : json_null());
    json_array_append_new(cases, c);
    buf_free(&text);
}

/* run_check - write SPEC as expected.json and run the Python check; its exit status. */
static int run_check(json_t *spec)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/expected.json", workdir);
    assert_int_equal(json_dump_file(spec, path, JSON_INDENT(1)), 0);
    char cmd[4 * PATH_MAX];
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s' '%s'", script, path);
    int st = system(cmd);
    assert_true(st != -1 && WIFEXITED(st));
    return WEXITSTATUS(st);
}

static struct mime_message base_message(void)
{
    return (struct mime_message){
        .from_name = "Postino Nëwsletter",
        .from_addr = "news@example.com",
        .to_name = "Zoë Ångström",
        .to_addr = "zoe@example.org",
        .subject = "Grüße aus Köln — Ausgabe Nr. 7",
        .reply_to = "reply@example.com",
        .list_unsubscribe_url = "https://example.com/u/Zm9vYmFy",
        .list_unsubscribe_mailto = "unsubscribe+Zm9v@example.com",
        .list_name = "Wöchentliche Nachrichten",
        .list_id = "weekly.example.com",
        .delivery_id = "4711",
        .date = 1795000000,
    };
}

/* build_cases - the messages under test; expectations in the returned spec. */
static json_t *build_cases(char **keep, size_t *nkeep)
{
    json_t *spec = json_object(), *cases = json_array();
    json_object_set_new(spec, "cases", cases);
    size_t k = 0;

    struct mime_message m = base_message();
    m.html = "<p>Grüße, <b>Zoë</b>!</p><p>Ünïcödé &amp; more: <a href=\"https://example.com/a?x=1&amp;y=2\">link</a></p>\n";
    m.html_len = strlen(m.html);
    m.text = "Grüße, Zoë!\n\nÜnïcödé & more: link (https://example.com/a?x=1&y=2)\n";
    m.text_len = strlen(m.text);
    add_case(cases, "latin.eml", &m);

    m = base_message();
    m.subject = keep[k++] = repeat("Привет, мир! Это длинная тема письма", 3, " ");
    m.from_name = "Издательство «Почта» и партнёры по рассылке новостей";
    m.to_name = "山田 太郎";
    m.html = keep[k++] = repeat("<p>日本語のテキストと Кириллица в одном письме.</p>", 40, "\n");
    m.html_len = strlen(m.html);
    m.text = keep[k++] = repeat("日本語のテキストと Кириллица в одном письме.", 40, "\n");
    m.text_len = strlen(m.text);
    add_case(cases, "cyrillic_cjk.eml", &m);

    m = base_message();
    m.subject = "Emoji 🎉🎉 and a very long ASCII word Supercalifragilisticexpialidocious-Supercalifragilisticexpialidocious";
    m.from_name = "Lee, Ann \"The Boss\" (Sales)";
    m.to_name = "O'Brien, Seán";
    {
        struct buf h = BUF_INIT;
        buf_appends(&h, "<html><body><p>");
        for (int i = 0; i < 5000; i++)
            buf_appendc(&h, (char)('a' + i % 26));
        buf_appends(&h, "</p>\n<pre>\n.\n.. dot line\nFrom here\ntrailing spaces   \n=_ boundary-like =3D\n"
                        "tab\tend\t\n</pre>\n<p>Ünïcödé at the end</p></body></html>");
        m.html_len = h.len;
        m.html = keep[k++] = buf_detach(&h, NULL);
    }
    add_case(cases, "long_lines_derived_text.eml", &m);

    m = base_message();
    m.subject = "Plain ASCII subject";
    m.from_name = "Postino";
    m.to_name = NULL;
    m.text = "Hello,\n\nthis is plain text only.\n.\nFrom the team\n";
    m.text_len = strlen(m.text);
    add_case(cases, "text_only.eml", &m);

    m = base_message();
    m.subject = "Línea de asunto con acentos ñ y un texto bastante largo que necesita plegarse en varias líneas";
    m.text = keep[k++] = repeat("Línea con espacio al final y signo = igual ", 30, "");
    m.text_len = strlen(m.text);
    add_case(cases, "text_only_latin.eml", &m);

    *nkeep = k;
    return spec;
}

static void test_mime_parse_back_with_python(void **state)
{
    (void)state;
    char *keep[8];
    size_t n;
    json_t *spec = build_cases(keep, &n);
    assert_int_equal(run_check(spec), 0);
    json_decref(spec);
    for (size_t i = 0; i < n; i++)
        free(keep[i]);
}

static void test_mime_parse_detects_a_difference(void **state)
{
    (void)state;
    char *keep[8];
    size_t n;
    json_t *spec = build_cases(keep, &n);
    json_t *c0 = json_array_get(json_object_get(spec, "cases"), 0);
    json_object_set_new(c0, "subject", json_string("Grüsse aus Köln — Ausgabe Nr. 7"));
    assert_int_equal(run_check(spec), 1);
    json_object_set_new(c0, "subject", json_string("Grüße aus Köln — Ausgabe Nr. 7"));
    json_t *c1 = json_array_get(json_object_get(spec, "cases"), 1);
    json_object_set_new(c1, "text", json_string("something else"));
    assert_int_equal(run_check(spec), 1);
    json_decref(spec);
    for (size_t i = 0; i < n; i++)
        free(keep[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mime_parse_back_with_python),
        cmocka_unit_test(test_mime_parse_detects_a_difference),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
