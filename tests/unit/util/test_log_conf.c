/* test_log_conf - log line formats and configuration lookup with environment overrides. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "engine/util/buf.h"
#include "engine/util/conf.h"
#include "engine/util/log.h"
#include "engine/util/settings.h"

static void test_log_text_line_names_severity(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    log_format_line(&b, LOG_FORMAT_TEXT, LOG_WARN, "postino", "disk is slow");
    assert_string_equal(buf_cstr(&b), "postino: warning: disk is slow\n");
    buf_reset(&b);
    log_format_line(&b, LOG_FORMAT_TEXT, LOG_INFO, "postino", "started");
    assert_string_equal(buf_cstr(&b), "postino: started\n");
    buf_free(&b);
}

static void test_log_json_line_is_one_escaped_object(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    log_format_line(&b, LOG_FORMAT_JSON, LOG_ERROR, "postino", "bad \"quote\"\nnext");
    assert_int_equal(b.data[b.len - 1], '\n');
    assert_null(memchr(b.data, '\n', b.len - 1));
    json_error_t err;
    json_t *j = json_loads(b.data, 0, &err);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "level")), "error");
    assert_string_equal(json_string_value(json_object_get(j, "msg")), "bad \"quote\"\nnext");
    assert_string_equal(json_string_value(json_object_get(j, "program")), "postino");
    json_decref(j);
    buf_free(&b);
}

static void test_log_journal_line_has_syslog_priority(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    log_format_line(&b, LOG_FORMAT_JOURNAL, LOG_ERROR, "postino", "relay refused");
    assert_string_equal(buf_cstr(&b), "<3>error: relay refused\n");
    buf_reset(&b);
    log_format_line(&b, LOG_FORMAT_JOURNAL, LOG_WARN, "postino", "two\nlines");
    assert_string_equal(buf_cstr(&b), "<4>warning: two lines\n");
    buf_reset(&b);
    log_format_line(&b, LOG_FORMAT_JOURNAL, LOG_INFO, "postino", "ready");
    assert_string_equal(buf_cstr(&b), "<6>ready\n");
    buf_reset(&b);
    log_format_line(&b, LOG_FORMAT_JOURNAL, LOG_DEBUG, "postino", "x");
    assert_string_equal(buf_cstr(&b), "<7>debug: x\n");
    buf_reset(&b);
    log_format_line(&b, LOG_FORMAT_JOURNAL, LOG_FATAL, "postino", "x");
    assert_string_equal(buf_cstr(&b), "<2>fatal: x\n");
    buf_free(&b);
    assert_int_equal(log_setup(NULL, "journal"), 0);
    assert_int_equal(log_setup(NULL, "text"), 0);
}

static void test_log_journal_detected_only_on_its_stream(void **state)
{
    (void)state;
    unsetenv("JOURNAL_STREAM");
    assert_false(log_journal_detected());
    setenv("JOURNAL_STREAM", "1:1", 1);   /* another stream than this standard error */
    assert_false(log_journal_detected());
    struct stat st;
    char v[64];
    assert_int_equal(fstat(2, &st), 0);   /* as systemd sets it: standard error's device:inode */
    snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
    setenv("JOURNAL_STREAM", v, 1);
    assert_true(log_journal_detected());
    unsetenv("JOURNAL_STREAM");
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_conf_reload_replaces_whole_and_keeps_old_strings(void **state)
{
    (void)state;
    char err[256], path[] = "/tmp/postino-reload-XXXXXX";
    close(mkstemp(path));
    write_file(path, "[send]\nbatch = 10\nhelo_name = one\n");
    assert_int_equal(conf_load(path, err, sizeof(err)), 0);
    const char *old = conf_get("send", "helo_name", NULL);
    assert_string_equal(old, "one");
    write_file(path, "[send]\nhelo_name = two\n");
    assert_int_equal(conf_reload(err, sizeof(err)), 0);
    assert_string_equal(conf_get("send", "helo_name", NULL), "two");
    assert_null(conf_get("send", "batch", NULL));   /* a key gone from the file is gone */
    assert_string_equal(old, "one");                  /* what settings pointed at is still there */
    write_file(path, "[send]\nhelo_name = three\nnot a line\n");
    assert_int_equal(conf_reload(err, sizeof(err)), -1);
    assert_non_null(strstr(err, "line 3"));
    assert_string_equal(conf_get("send", "helo_name", NULL), "two");   /* a bad file changes nothing */
    conf_free();
    unlink(path);
}

static char *read_all(const char *path)
{
    static char text[4096];
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = 0;
    fclose(f);
    return text;
}

static void test_conf_file_set_replaces_adds_and_keeps_the_rest(void **state)
{
    (void)state;
    static const struct {
        const char *before, *section, *key, *value, *after;
        bool changed;
    } cases[] = {
        { "# top\n[db]\nurl = old\ndir = x\n", "db", "url", "new", "# top\n[db]\nurl = new\ndir = x\n", true },
        { "[db]\nurl = same\n", "db", "url", "same", "[db]\nurl = same\n", false },
        { "[db]\n#url = commented\ndir = x\n\n[log]\nlevel = info\n", "db", "url", "u",
          "[db]\n#url = commented\ndir = x\nurl = u\n\n[log]\nlevel = info\n", true },
        { "[db]\nurl = a\n", "bounce", "domain", "b.example", "[db]\nurl = a\n\n[bounce]\ndomain = b.example\n", true },
        { "[bounce]\n# the domain\n[db]\nurl = a", "bounce", "domain", "b", "[bounce]\ndomain = b\n# the domain\n[db]\nurl = a\n",
          true },
        { "[log]\nurl = not this one\n[db]\n  url=x\n", "db", "url", "y", "[log]\nurl = not this one\n[db]\nurl = y\n", true },
        { "", "db", "url", "a", "[db]\nurl = a\n", true },
    };
    char err[256], path[] = "/tmp/postino-set-XXXXXX";
    close(mkstemp(path));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool changed;
        write_file(path, cases[i].before);
        chmod(path, 0640);
        assert_int_equal(conf_file_set(path, cases[i].section, cases[i].key, cases[i].value, &changed, err,
                                       sizeof(err)), 0);
        assert_string_equal(read_all(path), cases[i].after);
        assert_int_equal(changed, cases[i].changed);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0640);
    }
    unlink(path);
    bool changed;
    assert_int_equal(conf_file_set("/nonexistent/postino.conf", "db", "url", "x", &changed, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/postino.conf"));
}

static void test_log_setup_rejects_unknown_names(void **state)
{
    (void)state;
    assert_int_equal(log_setup("debug", "json"), 0);
    assert_int_equal(log_setup("loud", NULL), -1);
    assert_int_equal(log_setup(NULL, "xml"), -1);
    assert_int_equal(log_setup("info", "text"), 0);
}

static void test_conf_file_then_environment(void **state)
{
    (void)state;
    char path[] = "/tmp/postino-conf-XXXXXX";
    char err[256];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char text[] = "[db]\nurl = host=/nowhere dbname=x\n\n[smtp]\nmax_conns = 8\n";
    assert_int_equal(write(fd, text, sizeof(text) - 1), (int)sizeof(text) - 1);
    close(fd);
    assert_int_equal(conf_load(path, err, sizeof(err)), 0);
    assert_string_equal(conf_get("db", "url", NULL), "host=/nowhere dbname=x");

    /* a table: the file's value, the environment's over it, the default, the bounds */
    struct vals {
        const char *url, *name;
        unsigned conns;
        long wait;
    } v;
    static const struct setting table[] = {
        SETTING_TEXT_ENTRY("db", "url", struct vals, url, NULL, "the database"),
        SETTING_TEXT_ENTRY("smtp", "name", struct vals, name, "here", "a name"),
        SETTING_NUMBER_ENTRY("smtp", "max_conns", SETTING_UNSIGNED, struct vals, conns, 1, 1, 100, "connections"),
        SETTING_NUMBER_ENTRY("smtp", "wait", SETTING_LONG, struct vals, wait, -5, -10, 10, "a wait"),
        { 0 },
    };
    assert_int_equal(settings_load(table, &v, err, sizeof(err)), 0);
    assert_string_equal(v.url, "host=/nowhere dbname=x");
    assert_string_equal(v.name, "here");
    assert_int_equal(v.conns, 8);
    assert_int_equal(v.wait, -5);
    assert_string_equal(settings_source(&table[2]), "file");
    assert_string_equal(settings_source(&table[3]), "default");
    setenv("POSTINO_SMTP_MAX_CONNS", "12", 1);
    assert_int_equal(settings_load(table, &v, err, sizeof(err)), 0);
    assert_int_equal(v.conns, 12);
    assert_string_equal(settings_source(&table[2]), "environment");
    setenv("POSTINO_SMTP_MAX_CONNS", "101", 1);
    assert_int_equal(settings_load(table, &v, err, sizeof(err)), -1);
    assert_string_equal(err, "configuration: [smtp] max_conns = \"101\" (environment): not a number from 1 to 100");
    unsetenv("POSTINO_SMTP_MAX_CONNS");
    assert_int_equal(settings_set(table, "max_conns", "0", &v, err, sizeof(err)), -1);
    assert_string_equal(err, "must be from 1 to 100");
    assert_int_equal(settings_set(table, "wait", "-7", &v, err, sizeof(err)), 0);
    assert_int_equal(v.wait, -7);

    struct buf out = BUF_INIT;
    v.url = "postgresql://u:secret@h/db";
    static const struct setting hidden[] = {
        { "db", "url", SETTING_TEXT, offsetof(struct vals, url), NULL, 0, 0, 0, true, "the database" },
        { 0 },
    };
    settings_show(hidden, &v, &out);
    assert_string_equal(buf_cstr(&out), "[db] url = ********  (file)  the database\n");
    buf_free(&out);
    assert_string_equal(conf_get("nope", "key", "dflt"), "dflt");
    conf_free();
    unlink(path);
}

/* conf_get on several threads at once: each reads its own key's value, every time
 * (the environment name was once built in one static buffer that all threads wrote) */
struct conf_reader {
    const char *section, *want;
    int wrong;
};

static void *conf_read_loop(void *arg)
{
    struct conf_reader *r = arg;
    for (int i = 0; i < 20000; i++) {
        const char *v = conf_get(r->section, "max_conns", "unset");
        if (strcmp(v, r->want) != 0)
            r->wrong++;
    }
    return NULL;
}

static void test_conf_get_from_threads_at_once(void **state)
{
    (void)state;
    struct conf_reader rd[4] = {
        { "alpha", "1", 0 }, { "bravo_section_with_a_long_name", "22", 0 }, { "c", "333", 0 }, { "delta", "4444", 0 },
    };
    pthread_t t[4];
    setenv("POSTINO_ALPHA_MAX_CONNS", "1", 1);
    setenv("POSTINO_BRAVO_SECTION_WITH_A_LONG_NAME_MAX_CONNS", "22", 1);
    setenv("POSTINO_C_MAX_CONNS", "333", 1);
    setenv("POSTINO_DELTA_MAX_CONNS", "4444", 1);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, conf_read_loop, &rd[i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(rd[i].wrong, 0);
    }
}

static void test_conf_named_file_must_exist_and_parse(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(conf_load("/nonexistent/postino.conf", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/postino.conf"));
    char path[] = "/tmp/postino-conf-XXXXXX";
    int fd = mkstemp(path);
    const char text[] = "[db]\nurl = a\nthis line is wrong\n";
    assert_int_equal(write(fd, text, sizeof(text) - 1), (int)sizeof(text) - 1);
    close(fd);
    assert_int_equal(conf_load(path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "line 3"));
    conf_free();
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_text_line_names_severity),
        cmocka_unit_test(test_log_json_line_is_one_escaped_object),
        cmocka_unit_test(test_log_setup_rejects_unknown_names),
        cmocka_unit_test(test_log_journal_line_has_syslog_priority),
        cmocka_unit_test(test_log_journal_detected_only_on_its_stream),
        cmocka_unit_test(test_conf_reload_replaces_whole_and_keeps_old_strings),
        cmocka_unit_test(test_conf_file_set_replaces_adds_and_keeps_the_rest),
        cmocka_unit_test(test_conf_file_then_environment),
        cmocka_unit_test(test_conf_named_file_must_exist_and_parse),
        cmocka_unit_test(test_conf_get_from_threads_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
