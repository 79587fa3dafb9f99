/* test_sha256_many - batches of digests, through the lanes and one by one, against OpenSSL's SHA-256 of each input whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "engine/util/sha256_many.h"

#define MAXN 21

static uint32_t rnd_state = 12345;
static uint32_t rnd(void)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return rnd_state >> 8;
}

/* the digest of IN whole, A then B in one buffer */
static void reference(const struct sha256_in *in, unsigned char out[32])
{
    unsigned char *whole = malloc(in->an + in->bn + 1);
    memcpy(whole, in->a, in->an);
    memcpy(whole + in->an, in->b, in->bn);
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(whole, in->an + in->bn, out, &n, EVP_sha256(), NULL), 1);
    free(whole);
}

/* N inputs with the lengths AN[i], BN[i], hashed the current way and checked one by one */
static void check_batch(const size_t *an, const size_t *bn, size_t n)
{
    struct sha256_in in[MAXN] = { 0 };
    unsigned char *a[MAXN], b[MAXN][SHA256_MANY_B_MAX + 8], got[MAXN][32], want[32];
    for (size_t i = 0; i < n; i++) {
        a[i] = malloc(an[i] + 1);
        for (size_t j = 0; j < an[i]; j++)
            a[i][j] = (unsigned char)rnd();
        for (size_t j = 0; j < bn[i]; j++)
            b[i][j] = (unsigned char)rnd();
        in[i] = (struct sha256_in){ .a = a[i], .an = an[i], .b = b[i], .bn = bn[i] };
    }
    assert_int_equal(sha256_many(in, n, got), 0);
    for (size_t i = 0; i < n; i++) {
        reference(&in[i], want);
        assert_memory_equal(got[i], want, 32);
        free(a[i]);
    }
}

static void run_all(void)
{
    /* lengths at the padding's edges: 55 and 56 octets left in the last block, whole blocks, empty */
    static const size_t edges[] = { 0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 1000, 4096, 10445 };
    size_t ne = sizeof(edges) / sizeof(edges[0]);
    size_t an[MAXN], bn[MAXN];
    for (size_t i = 0; i < ne; i++)
        for (size_t b = 0; b <= SHA256_MANY_B_MAX; b += 1 + b / 3) {
            for (size_t k = 0; k < 8; k++) {
                an[k] = edges[(i + k) % ne];
                bn[k] = (b + k) % (SHA256_MANY_B_MAX + 1);
            }
            check_batch(an, bn, 8);
        }
    /* batches of every size up to MAXN, lengths random and alike (personalised bodies) and far apart */
    for (size_t n = 1; n <= MAXN; n++)
        for (int r = 0; r < 6; r++) {
            for (size_t k = 0; k < n; k++) {
                an[k] = r % 2 ? 9000 + rnd() % 200 : rnd() % 3000;
                bn[k] = rnd() % (SHA256_MANY_B_MAX + 1);
            }
            check_batch(an, bn, n);
        }
    /* a second part over the lanes' limit is hashed too (one by one) */
    for (size_t k = 0; k < 8; k++) {
        an[k] = 300 + k;
        bn[k] = k == 3 ? SHA256_MANY_B_MAX + 5 : 2;
    }
    check_batch(an, bn, 8);
}

static int cpu_has_lanes(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
}

static void test_sha256_many_one_by_one(void **state)
{
    (void)state;
    sha256_many_force(SHA256_MANY_ONE);
    assert_string_equal(sha256_many_way(8), "one by one (OpenSSL)");
    run_all();
}

static void test_sha256_many_lanes(void **state)
{
    (void)state;
    sha256_many_force(SHA256_MANY_LANES);
    /* where the CPU has no AVX-512VL the lanes cannot run: the batch is hashed one by one */
    assert_string_equal(sha256_many_way(1), cpu_has_lanes() ? "8 lanes (AVX-512VL)" : "one by one (OpenSSL)");
    run_all();
}

static void test_sha256_many_auto(void **state)
{
    (void)state;
    sha256_many_force(SHA256_MANY_AUTO);
    run_all();
    /* a lone message is never worth eight lanes */
    assert_string_equal(sha256_many_way(1), "one by one (OpenSSL)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_many_one_by_one),
        cmocka_unit_test(test_sha256_many_lanes),
        cmocka_unit_test(test_sha256_many_auto),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
