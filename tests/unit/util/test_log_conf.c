/* test_log_conf - log line formats and configuration lookup with environment overrides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "engine/util/buf.h"
#include "engine/util/conf.h"
#include "engine/util/log.h"

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
    assert_int_equal(conf_get_long("smtp", "max_conns", 1, 1, 100), 8);
    setenv("POSTINO_SMTP_MAX_CONNS", "12", 1);
    assert_int_equal(conf_get_long("smtp", "max_conns", 1, 1, 100), 12);
    unsetenv("POSTINO_SMTP_MAX_CONNS");
    assert_string_equal(conf_get("nope", "key", "dflt"), "dflt");
    conf_free();
    unlink(path);
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
        cmocka_unit_test(test_conf_file_then_environment),
        cmocka_unit_test(test_conf_named_file_must_exist_and_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
