/* test_base64 - RFC 4648 section 10 vectors, line breaking, bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/util/base64.h"

static void test_base64_rfc4648_vectors(void **state)
{
    (void)state;
    static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *const out[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
    for (size_t i = 0; i < 7; i++) {
        struct buf b = BUF_INIT, d = BUF_INIT;
        base64_encode(&b, in[i], strlen(in[i]));
        assert_string_equal(buf_cstr(&b), out[i]);
        assert_int_equal(base64_decode(&d, b.data, b.len), 0);
        assert_string_equal(buf_cstr(&d), in[i]);
        buf_free(&b);
        buf_free(&d);
    }
}

static void test_base64_lines_break_with_crlf(void **state)
{
    (void)state;
    unsigned char data[120];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)i;
    struct buf b = BUF_INIT, d = BUF_INIT;
    base64_encode_lines(&b, data, sizeof(data), 76);
    assert_int_equal(b.len, 160 + 2 * 2);
    assert_memory_equal(b.data + 76 + 2 + 76, "\r\n", 2);
    assert_memory_equal(b.data + 76, "\r\n", 2);
    assert_int_equal(base64_decode(&d, b.data, b.len), 0);
    assert_int_equal(d.len, sizeof(data));
    assert_memory_equal(d.data, data, sizeof(data));
    buf_free(&b);
    buf_free(&d);
}

static void test_base64_decode_rejects_garbage(void **state)
{
    (void)state;
    struct buf d = BUF_INIT;
    assert_int_equal(base64_decode(&d, "Zm9v!", 5), -1);
    buf_reset(&d);
    assert_int_equal(base64_decode(&d, "Zg=a", 4), -1);
    buf_reset(&d);
    assert_int_equal(base64_decode(&d, "Z", 1), -1);
    buf_reset(&d);
    assert_int_equal(base64_decode(&d, "Zm 9v\r\n", 7), 0);
    assert_string_equal(buf_cstr(&d), "foo");
    buf_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_rfc4648_vectors),
        cmocka_unit_test(test_base64_lines_break_with_crlf),
        cmocka_unit_test(test_base64_decode_rejects_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
