/* test_buf - the growable byte buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/util/alloc.h"
#include "engine/util/buf.h"

static void test_buf_empty_is_empty_string(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    assert_string_equal(buf_cstr(&b), "");
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void test_buf_appends_and_grows(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    for (int i = 0; i < 1000; i++)
        buf_appends(&b, "abc");
    assert_int_equal(b.len, 3000);
    assert_memory_equal(b.data + 2997, "abc", 4);
    buf_free(&b);
}

static void test_buf_appendf_long_output(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    char big[500];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    buf_appends(&b, "<");
    buf_appendf(&b, "%s|%d", big, 42);
    assert_int_equal(b.len, 1 + 499 + 3);
    assert_string_equal(b.data + 500, "|42");
    buf_free(&b);
}

static void test_buf_binary_and_truncate(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    buf_append(&b, "a\0b", 3);
    buf_appendc(&b, 'c');
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "a\0bc", 4);
    buf_truncate(&b, 1);
    assert_string_equal(buf_cstr(&b), "a");
    buf_truncate(&b, 10);
    assert_int_equal(b.len, 1);
    buf_reset(&b);
    assert_string_equal(buf_cstr(&b), "");
    buf_free(&b);
}

static void test_buf_detach_hands_over(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    size_t n;
    buf_appends(&b, "hello");
    char *s = buf_detach(&b, &n);
    assert_int_equal(n, 5);
    assert_string_equal(s, "hello");
    assert_null(b.data);
    xfree(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_empty_is_empty_string),
        cmocka_unit_test(test_buf_appends_and_grows),
        cmocka_unit_test(test_buf_appendf_long_output),
        cmocka_unit_test(test_buf_binary_and_truncate),
        cmocka_unit_test(test_buf_detach_hands_over),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
