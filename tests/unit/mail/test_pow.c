/* test_pow - proof-of-work challenges: a solved one passes, every alteration, an old one, too few bits and a wrong nonce fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "engine/mail/pow.h"

static const unsigned char key[TOKEN_KEY_LEN] = "0123456789abcdef0123456789abcdef";
static const unsigned char other[TOKEN_KEY_LEN] = "0123456789abcdef0123456789abcdeX";
#define NOW 1800000000

/* the leading zero bits of SHA-256(C ":" N), counted independently of pow.c */
static unsigned zeros(const char *c, unsigned long n)
{
    char text[200];
    unsigned char md[32];
    unsigned len = 0, z = 0;
    snprintf(text, sizeof(text), "%s:%lu", c, n);
    EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 256 && !(md[i / 8] & (0x80 >> (i % 8))); i++)
        z++;
    return z;
}

/* the first nonce giving BITS zero bits for C, in *N; and the first that does not, in *BAD */
static void solve(const char *c, unsigned bits, char n[32], char bad[32])
{
    unsigned long i = 0, b = ~0ul;
    for (; zeros(c, i) < bits; i++)
        if (b == ~0ul)
            b = i;
    if (b == ~0ul)
        for (b = i + 1; zeros(c, b) >= bits; b++)
            ;
    snprintf(n, 32, "%lu", i);
    snprintf(bad, 32, "%lu", b);
}

static void test_pow_solved_passes(void **state)
{
    (void)state;
    char c[POW_CHALLENGE_MAX + 1], n[32], bad[32];
    const char *why = NULL;
    assert_int_equal(pow_make(key, NOW, 10, c, sizeof(c)), 0);
    assert_true(strncmp(c, "1800000000.10.", 14) == 0);
    assert_int_equal(strlen(c), 14 + 16 + 1 + 32);
    solve(c, 10, n, bad);
    assert_int_equal(pow_check(key, c, n, NOW + 5, 3600, 10, &why), 0);
    assert_int_equal(pow_check(key, c, n, NOW + 5, 3600, 8, &why), 0);   /* asks more than needed: fine */
    assert_int_equal(pow_check(key, c, bad, NOW + 5, 3600, 10, &why), -1);
    assert_string_equal(why, "the form's proof of work is wrong: reload the page and send it again");
}

static void test_pow_refuses(void **state)
{
    (void)state;
    char c[POW_CHALLENGE_MAX + 1], n[32], bad[32], t[POW_CHALLENGE_MAX + 40];
    const char *why = NULL;
    assert_int_equal(pow_make(key, NOW, 8, c, sizeof(c)), 0);
    solve(c, 8, n, bad);
    /* another key, too old, from the future, too few bits for the server's setting */
    assert_int_equal(pow_check(other, c, n, NOW, 3600, 8, &why), -1);
    assert_string_equal(why, "the form's challenge is not valid: reload the page");
    assert_int_equal(pow_check(key, c, n, NOW + 3601, 3600, 8, &why), -1);
    assert_string_equal(why, "the form was open too long: reload the page and send it again");
    assert_int_equal(pow_check(key, c, n, NOW - 61, 3600, 8, &why), -1);
    assert_int_equal(pow_check(key, c, n, NOW, 3600, 9, &why), -1);
    /* every single character altered */
    for (size_t i = 0; c[i]; i++) {
        snprintf(t, sizeof(t), "%s", c);
        t[i] = t[i] == '1' ? '2' : '1';
        assert_int_equal(pow_check(key, t, n, NOW, 3600, 1, &why), -1);
    }
    /* the difficulty lowered in the text, and things added or cut */
    snprintf(t, sizeof(t), "1800000000.1.%s", c + 13);
    assert_int_equal(pow_check(key, t, n, NOW, 3600, 1, &why), -1);
    snprintf(t, sizeof(t), "%s0", c);
    assert_int_equal(pow_check(key, t, n, NOW, 3600, 1, &why), -1);
    snprintf(t, sizeof(t), " %s", c);
    assert_int_equal(pow_check(key, t, n, NOW, 3600, 1, &why), -1);
    t[0] = 0;
    snprintf(t, sizeof(t), "%.*s", (int)strlen(c) - 1, c);
    assert_int_equal(pow_check(key, t, n, NOW, 3600, 1, &why), -1);
    assert_int_equal(pow_check(key, "", n, NOW, 3600, 1, &why), -1);
    /* nonces: empty, not digits, too long */
    assert_int_equal(pow_check(key, c, "", NOW, 3600, 8, &why), -1);
    assert_string_equal(why, "the form's proof of work is missing: let the page finish before sending");
    assert_int_equal(pow_check(key, c, "12a", NOW, 3600, 8, &why), -1);
    assert_int_equal(pow_check(key, c, "123456789012345678901234567890123", NOW, 3600, 8, &why), -1);
    /* bad makes */
    assert_int_equal(pow_make(key, NOW, 0, t, sizeof(t)), -1);
    assert_int_equal(pow_make(key, NOW, POW_BITS_MAX + 1, t, sizeof(t)), -1);
    assert_int_equal(pow_make(key, NOW, 8, t, 20), -1);
}

static void test_pow_challenges_differ(void **state)
{
    (void)state;
    char a[POW_CHALLENGE_MAX + 1], b[POW_CHALLENGE_MAX + 1];
    assert_int_equal(pow_make(key, NOW, 8, a, sizeof(a)), 0);
    assert_int_equal(pow_make(key, NOW, 8, b, sizeof(b)), 0);
    assert_string_not_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pow_solved_passes),
        cmocka_unit_test(test_pow_refuses),
        cmocka_unit_test(test_pow_challenges_differ),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
