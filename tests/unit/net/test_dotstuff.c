/* test_dotstuff - the DATA phase: dot-stuffing, line ends and the end-of-data mark. */
#include <setjmp.h>
#include <stdbool.h>
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

/* as_is - does smtp_data_stuff append IN unchanged, then ".\r\n"? (what smtp_data_as_is must say) */
static bool stuffed_as_is(const char *in, size_t len)
{
    struct buf out = BUF_INIT;
    smtp_data_stuff(&out, in, len);
    bool same = out.len == len + 3 && memcmp(out.data, in, len) == 0 && memcmp(out.data + len, ".\r\n", 3) == 0;
    buf_free(&out);
    return same;
}

static void test_dotstuff_as_is_table(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        bool as_is;
    } cases[] = {
        { "Subject: x\r\n\r\nbody\r\n", true },
        { "\r\n", true },
        { "not. at start.\r\n", true },
        { "", true },
        { "\n", false },
        { ".starts with a dot\r\n", false },
        { "a\r\n.\r\nb\r\n", false },
        { "no final crlf", false },
        { "ends in cr\r", false },
        { "bare\nlf\r\n", false },
        { "x\r\n.", false },
        /* a dot line and a bare LF past the first 16 octets, where the scan is by blocks */
        { "0123456789abcdef0123456789\r\n.abcdef\r\n", false },
        { "0123456789abcdef0123456789\nabcdef\r\n", false },
        { "0123456789abcdef\r\n0123456789abcdef\r\n0123456789\r\n", true },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = strlen(cases[i].in);
        assert_int_equal(smtp_data_as_is(cases[i].in, len), cases[i].as_is);
        assert_int_equal(stuffed_as_is(cases[i].in, len), cases[i].as_is);
    }
}

/* smtp_data_ready: a message that needs nothing keeps its very bytes (the same
 * buffer); one that needs stuffing becomes exactly smtp_data_stuff's output
 * without the final ".\r\n" */
static void test_dotstuff_ready_in_place(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "Subject: x\r\n\r\nbody\r\n", "", ".starts with a dot\r\n", "a\r\n.\r\nb\r\n", "no final crlf",
        "bare\nlf\r\n", "ends in cr\r", "0123456789abcdef0123456789\r\n.abcdef\r\n",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = strlen(cases[i]);
        struct buf msg = BUF_INIT, want = BUF_INIT;
        buf_append(&msg, cases[i], len);
        char *before = msg.data;
        smtp_data_stuff(&want, cases[i], len);
        smtp_data_ready(&msg);
        assert_int_equal(msg.len, want.len - 3);
        assert_memory_equal(msg.data, want.data, msg.len);
        if (smtp_data_as_is(cases[i], len))
            assert_ptr_equal(msg.data, before);
        buf_free(&msg);
        buf_free(&want);
    }
}

/* Messages of every length up to 80 octets made of "a", CR, LF and ".", at every
 * offset: smtp_data_as_is says true exactly when stuffing changes nothing. */
static void test_dotstuff_as_is_agrees_with_stuffing(void **state)
{
    (void)state;
    static const char alphabet[] = { 'a', '\r', '\n', '.', 'a', 'a', '\r', '\n' };
    char msg[96];
    uint32_t x = 12345;
    unsigned yes = 0, no = 0;
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(round % 81);
        for (size_t i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            msg[i] = alphabet[(x >> 16) % sizeof(alphabet)];
        }
        if (round % 3 == 0 && len >= 2)
            msg[len - 2] = '\r', msg[len - 1] = '\n';
        bool as_is = smtp_data_as_is(msg, len);
        assert_int_equal(as_is, stuffed_as_is(msg, len));
        as_is ? yes++ : no++;
    }
    /* the corpus has both kinds */
    assert_true(yes > 100);
    assert_true(no > 100);
}

/* Sound messages of every length up to 300 octets (several blocks of the vector
 * scans, and their tails), then each with one octet made an LF, a "." or a CR,
 * at every position: smtp_data_as_is says true exactly when stuffing changes
 * nothing, wherever the one fault lies. */
static void test_dotstuff_as_is_one_fault_anywhere(void **state)
{
    (void)state;
    static const char mid[] = { 'a', 'b', '.', '\r', ' ', 'a' };
    static const char fault[] = { '\n', '.', '\r' };
    char msg[304];
    uint32_t x = 777;
    unsigned yes = 0, no = 0;
    for (size_t len = 2; len <= 300; len++) {
        /* lines of 0 to 39 octets, none starting with ".", each ended by CRLF */
        size_t i = 0;
        while (i < len) {
            x = x * 1103515245u + 12345u;
            size_t n = (x >> 16) % 40;
            if (i + n + 2 > len)
                n = len - i - 2;
            for (size_t k = 0; k < n; k++) {
                x = x * 1103515245u + 12345u;
                msg[i + k] = k == 0 ? 'a' : mid[(x >> 16) % sizeof(mid)];
            }
            msg[i + n] = '\r';
            msg[i + n + 1] = '\n';
            i += n + 2;
            if (len - i == 1) /* one octet left: the last line takes it */
                msg[i - 2] = 'a', msg[i - 1] = '\r', msg[i] = '\n', i++;
        }
        assert_true(smtp_data_as_is(msg, len));
        assert_true(stuffed_as_is(msg, len));
        for (size_t at = 0; at < len; at++) {
            char keep = msg[at];
            for (size_t f = 0; f < sizeof(fault); f++) {
                msg[at] = fault[f];
                bool as_is = smtp_data_as_is(msg, len);
                assert_int_equal(as_is, stuffed_as_is(msg, len));
                as_is ? yes++ : no++;
            }
            msg[at] = keep;
        }
    }
    assert_true(yes > 1000);
    assert_true(no > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dotstuff_table),
        cmocka_unit_test(test_dotstuff_appends_and_keeps_binary),
        cmocka_unit_test(test_dotstuff_large_message_every_line),
        cmocka_unit_test(test_dotstuff_as_is_table),
        cmocka_unit_test(test_dotstuff_ready_in_place),
        cmocka_unit_test(test_dotstuff_as_is_one_fault_anywhere),
        cmocka_unit_test(test_dotstuff_as_is_agrees_with_stuffing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
