/* test_dotstuff - the DATA phase: dot-stuffing, line ends and the end-of-data mark. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/net/smtp_data.h"

static void test_dotstuff_table(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        { "Subject: x\r\n\r\nbody\r\n", "Subject: x\r\n\r\nbody\r\n.\r\n" },
        { ".starts with a dot\r\n", "..starts with a dot\r\n.\r\n" },
        { "a\r\n.\r\nb\r\n", "a\r\n..\r\nb\r\n.\r\n" },
        { "a\r\n..two\r\n", "a\r\n...two\r\n.\r\n" },
        { "not. at start.\r\n", "not. at start.\r\n.\r\n" },
        { "no final crlf", "no final crlf\r\n.\r\n" },
        { "x\r\n.", "x\r\n..\r\n.\r\n" },
        { "ends in cr\r", "ends in cr\r\n.\r\n" },
        { "bare\nlf\n.dot\n", "bare\r\nlf\r\n..dot\r\n.\r\n" },
        { "\r\n", "\r\n.\r\n" },
        { "", ".\r\n" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf out = BUF_INIT;
        smtp_data_stuff(&out, cases[i].in, strlen(cases[i].in));
        assert_string_equal(out.data, cases[i].out);
        buf_free(&out);
    }
}

static void test_dotstuff_appends_and_keeps_binary(void **state)
{
    (void)state;
    struct buf out = BUF_INIT;
    buf_appends(&out, "prefix|");
    smtp_data_stuff(&out, "a\0b\r\n", 5);
    assert_int_equal(out.len, 7 + 5 + 3);
    assert_memory_equal(out.data, "prefix|a\0b\r\n.\r\n", out.len);
    buf_free(&out);
}

static void test_dotstuff_large_message_every_line(void **state)
{
    (void)state;
    struct buf in = BUF_INIT, out = BUF_INIT, want = BUF_INIT;
    for (int i = 0; i < 10000; i++) {
        buf_appendf(&in, ".%d\r\n", i);
        buf_appendf(&want, "..%d\r\n", i);
    }
    buf_appends(&want, ".\r\n");
    smtp_data_stuff(&out, in.data, in.len);
    assert_int_equal(out.len, want.len);
    assert_memory_equal(out.data, want.data, want.len);
    buf_free(&in);
    buf_free(&out);
    buf_free(&want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dotstuff_table),
        cmocka_unit_test(test_dotstuff_appends_and_keeps_binary),
        cmocka_unit_test(test_dotstuff_large_message_every_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
