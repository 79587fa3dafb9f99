/* test_qp - quoted-printable encoding edge cases and round trips. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/util/qp.h"

static char *enc(struct buf *b, const char *s)
{
    buf_reset(b);
    qp_encode(b, s, strlen(s));
    return (char *)buf_cstr(b);
}

static void assert_lines_max(const char *s, size_t max)
{
    size_t col = 0;
    for (; *s; s++) {
        if (*s == '\r') {
            assert_int_equal(s[1], '\n');
            s++;
            col = 0;
            continue;
        }
        assert_int_not_equal(*s, '\n');
        col++;
        assert_true(col <= max);
    }
}

static void test_qp_plain_text_unchanged(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    assert_string_equal(enc(&b, "Hello, world!"), "Hello, world!");
    assert_string_equal(enc(&b, ""), "");
    buf_free(&b);
}

static void test_qp_equals_and_8bit(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    assert_string_equal(enc(&b, "a=b"), "a=3Db");
    assert_string_equal(enc(&b, "caf\xc3\xa9"), "caf=C3=A9");
    assert_string_equal(enc(&b, "x\ty\x01"), "x\ty=01");
    buf_free(&b);
}

static void test_qp_line_breaks_become_crlf(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    assert_string_equal(enc(&b, "a\nb\r\nc\n"), "a\r\nb\r\nc\r\n");
    assert_string_equal(enc(&b, "a\rb"), "a=0Db");
    assert_string_equal(enc(&b, "a\r"), "a=0D");
    buf_free(&b);
}

static void test_qp_trailing_whitespace_encoded(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    assert_string_equal(enc(&b, "end "), "end=20");
    assert_string_equal(enc(&b, "end \nnext\t\r\nx"), "end=20\r\nnext=09\r\nx");
    assert_string_equal(enc(&b, "a b"), "a b");
    buf_free(&b);
}

static void test_qp_dot_and_from_at_line_start(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    assert_string_equal(enc(&b, ".\n.x"), "=2E\r\n=2Ex");
    assert_string_equal(enc(&b, "From me\nFrom\na.From x"), "=46rom me\r\nFrom\r\na.From x");
    buf_free(&b);
}

static void test_qp_line_of_76_fits_77_breaks(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    char line[80];
    memset(line, 'a', 76);
    line[76] = 0;
    assert_string_equal(enc(&b, line), line);
    memset(line, 'a', 77);
    line[77] = 0;
    char want[90];
    memset(want, 'a', 75);
    memcpy(want + 75, "=\r\naa", 6);
    assert_string_equal(enc(&b, line), want);
    buf_free(&b);
}

static void test_qp_escape_never_split_by_soft_break(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    char line[80];
    memset(line, 'a', 74);
    line[74] = '=';
    line[75] = 'b';
    line[76] = 0;
    char want[90];
    memset(want, 'a', 74);
    memcpy(want + 74, "=\r\n=3Db", 8);
    assert_string_equal(enc(&b, line), want);
    /* the escape fits exactly when it ends the line at column 76 */
    memset(line, 'a', 73);
    line[73] = '=';
    line[74] = 0;
    memset(want, 'a', 73);
    memcpy(want + 73, "=3D", 4);
    assert_string_equal(enc(&b, line), want);
    buf_free(&b);
}

static void test_qp_dot_after_soft_break_encoded(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    char line[90];
    memset(line, 'a', 75);
    memcpy(line + 75, ".b", 3);
    char want[100];
    memset(want, 'a', 75);
    memcpy(want + 75, "=\r\n=2Eb", 8);
    assert_string_equal(enc(&b, line), want);
    buf_free(&b);
}

static void test_qp_trailing_space_at_76_column(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    char line[90];
    memset(line, 'a', 73);
    memcpy(line + 73, " \n", 3);
    char want[100];
    memset(want, 'a', 73);
    memcpy(want + 73, "=20\r\n", 6);
    assert_string_equal(enc(&b, line), want);
    memset(line, 'a', 75);
    memcpy(line + 75, " \n", 3);
    memset(want, 'a', 75);
    memcpy(want + 75, "=\r\n=20\r\n", 9);
    assert_string_equal(enc(&b, line), want);
    buf_free(&b);
}

static void test_qp_long_line_wrapped_and_round_trips(void **state)
{
    (void)state;
    static char in[3001];
    for (size_t i = 0; i < 3000; i++)
        in[i] = "abc d\xc3\xa9=. "[i % 10];
    in[3000] = 0;
    struct buf b = BUF_INIT, d = BUF_INIT;
    enc(&b, in);
    assert_lines_max(b.data, 76);
    assert_int_equal(qp_decode(&d, b.data, b.len), 0);
    assert_int_equal(d.len, 3000);
    assert_memory_equal(d.data, in, 3000);
    buf_free(&b);
    buf_free(&d);
}

static void test_qp_line_over_998_octets_soft_broken(void **state)
{
    (void)state;
    static char in[1001], want[1100];
    memset(in, 'x', 1000);
    char *w = want;
    for (int i = 0; i < 13; i++) {
        memset(w, 'x', 75);
        memcpy(w + 75, "=\r\n", 3);
        w += 78;
    }
    memset(w, 'x', 25);
    w[25] = 0;
    struct buf b = BUF_INIT;
    assert_string_equal(enc(&b, in), want);
    buf_free(&b);
}

static void test_qp_decode_soft_hard_and_bad(void **state)
{
    (void)state;
    struct buf d = BUF_INIT;
    const char *t = "ab=\r\ncd  \r\n=C3=a9=\nx";
    assert_int_equal(qp_decode(&d, t, strlen(t)), 0);
    assert_string_equal(buf_cstr(&d), "abcd\r\n\xc3\xa9x");
    buf_reset(&d);
    assert_int_equal(qp_decode(&d, "a=G1", 4), -1);
    buf_reset(&d);
    assert_int_equal(qp_decode(&d, "a=4", 3), -1);
    buf_free(&d);
}

/* Every byte value at every offset of a run, against the qp_plain table: the 16-at-a-time scan stops exactly there. */
static void test_qp_plain_run_stops_at_each_refused_byte(void **state)
{
    (void)state;
    unsigned char line[96];
    for (int c = 0; c < 256; c++) {
        for (size_t k = 0; k < 40; k++) {
            static const size_t lims[] = { 0, 1, 15, 16, 17, 31, 32, 33, 47, 74, 96 };
            memset(line, 'a', sizeof(line));
            line[k] = (unsigned char)c;
            for (size_t l = 0; l < sizeof(lims) / sizeof(lims[0]); l++) {
                size_t lim = lims[l];
                size_t want = qp_plain[c] || k >= lim ? lim : k;
                assert_int_equal(qp__plain_run(line, lim), want);
            }
        }
    }
    assert_int_equal(qp_plain['='], 0);
    assert_int_equal(qp_plain['\t'], 1);
    assert_int_equal(qp_plain[' '], 1);
    assert_int_equal(qp_plain[0x7f], 0);
    assert_int_equal(qp_plain[0x80], 0);
}

/* The encoder octet by octet, without the run copying: the rules of qp_encode, the reference below. */
static void qp_encode_reference(struct buf *out, const unsigned char *s, size_t len)
{
    const unsigned char *end = s + len;
    size_t col = 0;
    while (s < end) {
        unsigned char c = *s;
        if (c == '\n' || (c == '\r' && s + 1 < end && s[1] == '\n')) {
            buf_append(out, "\r\n", 2);
            col = 0;
            s += c == '\r' ? 2 : 1;
            continue;
        }
        bool eol = s + 1 == end || s[1] == '\n' || (s[1] == '\r' && s + 2 < end && s[2] == '\n');
        bool lit = (c == ' ' || c == '\t') ? !eol : (c >= 33 && c <= 126 && c != '=');
        bool risky = c == '.' || (c == 'F' && end - s >= 5 && memcmp(s, "From ", 5) == 0);
        if (lit && col == 0 && risky)
            lit = false;
        size_t w = lit ? 1 : 3;
        if (col + w > (eol ? QP_LINE_MAX : QP_LINE_MAX - 1)) {
            buf_append(out, "=\r\n", 3);
            col = 0;
            if (lit && risky)
                lit = false, w = 3;
        }
        if (lit)
            buf_appendc(out, (char)c);
        else
            buf_appendf(out, "=%02X", c);
        col += w;
        s++;
    }
}

/* 20,000 generated texts (plain runs of every length, "=", 8-bit, SP and TAB before line ends, dots and
 * "From " after breaks, CR, LF and CRLF): qp_encode writes exactly what the octet-by-octet reference does. */
static void test_qp_encode_matches_reference(void **state)
{
    (void)state;
    static const char *const pieces[] = { "a", "bc", "0123456789abcdefghijklmnopqrstuvwxyz", "=", " ", "\t", " \r\n",
                                          "\t\n", "\r\n", "\n", "\r", ".", "From ", "\xc3\xa8", "<p style=\"x\">",
                                          "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789" };
    uint32_t seed = 777;
    struct buf in = BUF_INIT, got = BUF_INIT, want = BUF_INIT;
    for (int t = 0; t < 20000; t++) {
        buf_reset(&in);
        seed = seed * 1103515245u + 12345u;
        size_t target = (seed >> 8) % 400;
        while (in.len < target) {
            seed = seed * 1103515245u + 12345u;
            buf_appends(&in, pieces[(seed >> 16) % (sizeof(pieces) / sizeof(pieces[0]))]);
        }
        buf_reset(&got);
        buf_reset(&want);
        qp_encode(&got, in.data ? in.data : "", in.len);
        qp_encode_reference(&want, (const unsigned char *)(in.data ? in.data : ""), in.len);
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.data, want.data ? want.data : "", got.len);
    }
    buf_free(&in);
    buf_free(&got);
    buf_free(&want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qp_plain_text_unchanged),
        cmocka_unit_test(test_qp_encode_matches_reference),
        cmocka_unit_test(test_qp_equals_and_8bit),
        cmocka_unit_test(test_qp_line_breaks_become_crlf),
        cmocka_unit_test(test_qp_trailing_whitespace_encoded),
        cmocka_unit_test(test_qp_dot_and_from_at_line_start),
        cmocka_unit_test(test_qp_line_of_76_fits_77_breaks),
        cmocka_unit_test(test_qp_escape_never_split_by_soft_break),
        cmocka_unit_test(test_qp_dot_after_soft_break_encoded),
        cmocka_unit_test(test_qp_trailing_space_at_76_column),
        cmocka_unit_test(test_qp_long_line_wrapped_and_round_trips),
        cmocka_unit_test(test_qp_line_over_998_octets_soft_broken),
        cmocka_unit_test(test_qp_decode_soft_hard_and_bad),
        cmocka_unit_test(test_qp_plain_run_stops_at_each_refused_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
