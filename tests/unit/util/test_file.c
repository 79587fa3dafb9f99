/* test_file - whole-file reading, and a password's file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/util/file.h"

/* a temporary file holding LEN bytes of DATA; its path in PATH (the caller unlinks it) */
static void temp_file(char *path, size_t pathlen, const char *data, size_t len)
{
    snprintf(path, pathlen, "/tmp/postino-test-file-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static void test_file_read_secret_first_line_table(void **state)
{
    (void)state;
    static const struct {
        const char *data;
        size_t len;
        const char *want; /* NULL: refused */
    } cases[] = {
        { "s3cret\n", 7, "s3cret" },
        { "s3cret", 6, "s3cret" },
        { "s3cret\r\n", 8, "s3cret" },
        { "with space # and more\nsecond line\n", 35, "with space # and more" },
        { "\ns3cret\n", 8, NULL },
        { "", 0, NULL },
        { "a\rb\n", 4, NULL },
        { "a\0b\n", 4, NULL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char path[64], out[32], err[256] = "";
        temp_file(path, sizeof(path), cases[i].data, cases[i].len);
        int rc = file_read_secret(path, out, sizeof(out), err, sizeof(err));
        if (cases[i].want) {
            assert_int_equal(rc, 0);
            assert_string_equal(out, cases[i].want);
        } else {
            assert_int_equal(rc, -1);
            char want[128];
            snprintf(want, sizeof(want), "%s: its first line must hold the password", path);
            assert_string_equal(err, want);
        }
        unlink(path);
    }
}

static void test_file_read_secret_refuses_what_does_not_fit(void **state)
{
    (void)state;
    char path[64], out[8], err[256];
    temp_file(path, sizeof(path), "12345678\n", 9);
    assert_int_equal(file_read_secret(path, out, sizeof(out), err, sizeof(err)), -1);
    assert_non_null(strstr(err, path));
    unlink(path);
}

static void test_file_read_secret_names_a_missing_file(void **state)
{
    (void)state;
    char out[8], err[256];
    assert_int_equal(file_read_secret("/nonexistent/db.pw", out, sizeof(out), err, sizeof(err)), -1);
    assert_string_equal(err, "cannot read /nonexistent/db.pw: No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_read_secret_first_line_table),
        cmocka_unit_test(test_file_read_secret_refuses_what_does_not_fit),
        cmocka_unit_test(test_file_read_secret_names_a_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
