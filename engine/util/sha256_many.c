/*
 * sha256_many - the SHA-256 digests of several messages at once (see sha256_many.h).
 *
 * The lanes: lane L of vector W[t] holds word t of message L's current block,
 * so each of the 64 rounds is the same few vector instructions for all eight
 * messages (FIPS 180-4 section 6.2.2, written for vectors: the rotates are
 * vprord, Ch, Maj and the three-way XORs one vpternlogd each). A message
 * shorter than the others stops updating its lane (a masked add) while the
 * others go on. Each message's whole 64-octet blocks are read where they
 * are; only its last partial block, its second part and the padding are
 * copied, into a few blocks of its own.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "engine/util/sha256_many.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_LANES 1
#else
#define HAVE_LANES 0
#endif

#define LANES 8
#define TAIL_BLOCKS 3 /* the last partial block (<= 63) + B (<= 64) + padding (9) fit 3 blocks */

static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

static pthread_once_t once = PTHREAD_ONCE_INIT;
static EVP_MD *md;            /* SHA2-256, fetched once */
static size_t lanes_min;      /* the smallest batch the lanes pay for; SIZE_MAX: never */
static int have_lanes;        /* the CPU has AVX-512F and AVX-512VL */
static enum sha256_many_way forced = SHA256_MANY_AUTO;

/* one message in a lane: its whole blocks at A, then its tail blocks */
struct lane {
    const unsigned char *a;
    size_t full;    /* whole blocks read at A */
    size_t nblocks; /* full + the tail's */
    unsigned char tail[TAIL_BLOCKS * 64];
};

/* ---- one by one ---- */

static int one(const struct sha256_in *in, unsigned char out[32])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, md, NULL) == 1 && EVP_DigestUpdate(c, in->a, in->an) == 1 &&
             EVP_DigestUpdate(c, in->b, in->bn) == 1 && EVP_DigestFinal_ex(c, out, NULL) == 1;
    EVP_MD_CTX_free(c);
    return ok ? 0 : -1;
}

/* ---- eight lanes ---- */

#if HAVE_LANES
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};
static const unsigned char zero_block[64];

/* lanes_run - run the LANES messages of L (unused lanes: nblocks 0) through their blocks; ST[word][lane] */
__attribute__((target("avx2,avx512f,avx512vl"))) static void lanes_run(const struct lane *l, uint32_t st[8][LANES])
{
#define ADD _mm256_add_epi32
#define ROR _mm256_ror_epi32
#define TL _mm256_ternarylogic_epi32
#define BS0(x) TL(ROR(x, 2), ROR(x, 13), ROR(x, 22), 0x96)
#define BS1(x) TL(ROR(x, 6), ROR(x, 11), ROR(x, 25), 0x96)
#define SS0(x) TL(ROR(x, 7), ROR(x, 18), _mm256_srli_epi32(x, 3), 0x96)
#define SS1(x) TL(ROR(x, 17), ROR(x, 19), _mm256_srli_epi32(x, 10), 0x96)
    const __m256i bswap = _mm256_broadcastsi128_si256(_mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3));
    __m256i s[8];
    size_t most = 0;
    for (int i = 0; i < 8; i++)
        s[i] = _mm256_loadu_si256((const __m256i *)(const void *)st[i]);
    for (int k = 0; k < LANES; k++)
        most = l[k].nblocks > most ? l[k].nblocks : most;
    for (size_t blk = 0; blk < most; blk++) {
        const unsigned char *p[LANES];
        unsigned live = 0;
        for (int k = 0; k < LANES; k++) {
            if (blk < l[k].full)
                p[k] = l[k].a + 64 * blk;
            else if (blk < l[k].nblocks)
                p[k] = l[k].tail + 64 * (blk - l[k].full);
            else
                p[k] = zero_block;
            live |= (blk < l[k].nblocks) << k;
        }
        /* W[0..15]: word t of every lane, from a transpose of each 32-octet half of the 8 blocks */
        __m256i w[16];
        for (int half = 0; half < 2; half++) {
            __m256i r[8], t[8];
            for (int k = 0; k < 8; k++)
                r[k] = _mm256_loadu_si256((const __m256i *)(const void *)(p[k] + 32 * half));
            for (int k = 0; k < 8; k += 2) {
                t[k] = _mm256_unpacklo_epi32(r[k], r[k + 1]);
                t[k + 1] = _mm256_unpackhi_epi32(r[k], r[k + 1]);
            }
            for (int k = 0; k < 8; k += 4) {
                r[k] = _mm256_unpacklo_epi64(t[k], t[k + 2]);
                r[k + 1] = _mm256_unpackhi_epi64(t[k], t[k + 2]);
                r[k + 2] = _mm256_unpacklo_epi64(t[k + 1], t[k + 3]);
                r[k + 3] = _mm256_unpackhi_epi64(t[k + 1], t[k + 3]);
            }
            for (int k = 0; k < 4; k++) {
                w[8 * half + k] = _mm256_shuffle_epi8(_mm256_permute2x128_si256(r[k], r[4 + k], 0x20), bswap);
                w[8 * half + 4 + k] = _mm256_shuffle_epi8(_mm256_permute2x128_si256(r[k], r[4 + k], 0x31), bswap);
            }
        }
        __m256i a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
#pragma GCC unroll 64
        for (int i = 0; i < 64; i++) {
            __m256i wi;
            if (i < 16) {
                wi = w[i];
            } else {
                wi = ADD(ADD(SS1(w[(i - 2) & 15]), w[(i - 7) & 15]), ADD(SS0(w[(i - 15) & 15]), w[i & 15]));
                w[i & 15] = wi;
            }
            __m256i t1 = ADD(ADD(h, BS1(e)), ADD(TL(e, f, g, 0xCA), ADD(wi, _mm256_set1_epi32((int)K[i]))));
            __m256i t2 = ADD(BS0(a), TL(a, b, c, 0xE8));
            h = g;
            g = f;
            f = e;
            e = ADD(d, t1);
            d = c;
            c = b;
            b = a;
            a = ADD(t1, t2);
        }
        /* a lane past its last block keeps its state */
        __mmask8 m = (__mmask8)live;
        s[0] = _mm256_mask_add_epi32(s[0], m, s[0], a);
        s[1] = _mm256_mask_add_epi32(s[1], m, s[1], b);
        s[2] = _mm256_mask_add_epi32(s[2], m, s[2], c);
        s[3] = _mm256_mask_add_epi32(s[3], m, s[3], d);
        s[4] = _mm256_mask_add_epi32(s[4], m, s[4], e);
        s[5] = _mm256_mask_add_epi32(s[5], m, s[5], f);
        s[6] = _mm256_mask_add_epi32(s[6], m, s[6], g);
        s[7] = _mm256_mask_add_epi32(s[7], m, s[7], h);
    }
    for (int i = 0; i < 8; i++)
        _mm256_storeu_si256((__m256i *)(void *)st[i], s[i]);
#undef ADD
#undef ROR
#undef TL
#undef BS0
#undef BS1
#undef SS0
#undef SS1
}

/* lane_set - L for IN: its whole blocks where they are, the rest and the padding in its tail */
static void lane_set(struct lane *l, const struct sha256_in *in)
{
    size_t full = in->an / 64, rest = in->an % 64, n = rest + in->bn;
    uint64_t bits = (uint64_t)(in->an + in->bn) * 8;
    l->a = in->a;
    l->full = full;
    memcpy(l->tail, in->a + 64 * full, rest);
    if (in->bn)
        memcpy(l->tail + rest, in->b, in->bn);
    size_t tn = (n + 9 + 63) / 64 * 64; /* 0x80, then zeros, then the 64-bit length */
    l->tail[n] = 0x80;
    memset(l->tail + n + 1, 0, tn - n - 1);
    for (int i = 0; i < 8; i++)
        l->tail[tn - 1 - i] = (unsigned char)(bits >> (8 * i));
    l->nblocks = full + tn / 64;
}

/* lanes - the digests of N <= LANES inputs through the lanes */
static void lanes(const struct sha256_in *in, size_t n, unsigned char (*out)[32])
{
    struct lane l[LANES];
    uint32_t st[8][LANES];
    for (size_t k = 0; k < LANES; k++) {
        if (k < n)
            lane_set(&l[k], &in[k]);
        else
            l[k] = (struct lane){ .a = zero_block };
        for (int i = 0; i < 8; i++)
            st[i][k] = iv[i];
    }
    lanes_run(l, st);
    for (size_t k = 0; k < n; k++)
        for (int i = 0; i < 8; i++) {
            out[k][4 * i] = (unsigned char)(st[i][k] >> 24);
            out[k][4 * i + 1] = (unsigned char)(st[i][k] >> 16);
            out[k][4 * i + 2] = (unsigned char)(st[i][k] >> 8);
            out[k][4 * i + 3] = (unsigned char)st[i][k];
        }
}

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/*
 * calibrate - the smallest batch for which one pass through the lanes costs
 * less than hashing its messages one by one: the best of five timings of
 * each, on eight 4 KB inputs
 */
static size_t calibrate(void)
{
    static unsigned char data[LANES][4096];
    struct sha256_in in[LANES];
    unsigned char out[LANES][32];
    for (size_t k = 0; k < LANES; k++) {
        for (size_t i = 0; i < sizeof(data[k]); i++)
            data[k][i] = (unsigned char)(i * 31 + k);
        in[k] = (struct sha256_in){ .a = data[k], .an = sizeof(data[k]), .b = data[k], .bn = 2 };
    }
    double t_lanes = 1e9, t_one = 1e9;
    for (int r = 0; r < 5; r++) {
        double t0 = cpu_now();
        lanes(in, LANES, out);
        double t1 = cpu_now();
        for (size_t k = 0; k < LANES; k++)
            if (one(&in[k], out[k]) < 0)
                return SIZE_MAX;
        double t2 = cpu_now();
        t_lanes = t1 - t0 < t_lanes ? t1 - t0 : t_lanes;
        t_one = (t2 - t1) / LANES < t_one ? (t2 - t1) / LANES : t_one;
    }
    if (t_one <= 0 || t_lanes >= LANES * t_one)
        return SIZE_MAX;
    size_t m = (size_t)(t_lanes / t_one) + 1;
    return m < 2 ? 2 : m;
}
#endif

static void init(void)
{
    const char *env = getenv("POSTINO_SHA256");
    if (env && !strcmp(env, "one"))
        forced = SHA256_MANY_ONE;
    md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    lanes_min = SIZE_MAX;
#if HAVE_LANES
    __builtin_cpu_init();
    have_lanes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
    if (have_lanes && md)
        lanes_min = calibrate();
#endif
}

/* use_lanes - does a batch of N go through the lanes? */
static int use_lanes(size_t n)
{
    if (!have_lanes || forced == SHA256_MANY_ONE)
        return 0;
    return forced == SHA256_MANY_LANES || n >= lanes_min;
}

/* sha256_many - see sha256_many.h. */
int sha256_many(const struct sha256_in *in, size_t n, unsigned char (*out)[32])
{
    pthread_once(&once, init);
    if (!md)
        return -1;
    for (size_t i = 0; i < n;) {
        size_t k = n - i < LANES ? n - i : LANES, longest_b = 0;
        for (size_t j = i; j < i + k; j++)
            longest_b = in[j].bn > longest_b ? in[j].bn : longest_b;
#if HAVE_LANES
        if (use_lanes(k) && longest_b <= SHA256_MANY_B_MAX) {
            lanes(in + i, k, out + i);
            i += k;
            continue;
        }
#endif
        for (size_t j = i; j < i + k; j++)
            if (one(&in[j], out[j]) < 0)
                return -1;
        i += k;
    }
    return 0;
}

/* sha256_many_force - see sha256_many.h. */
void sha256_many_force(enum sha256_many_way way)
{
    pthread_once(&once, init);
    forced = way;
}

/* sha256_many_way - see sha256_many.h. */
const char *sha256_many_way(size_t n)
{
    pthread_once(&once, init);
    return use_lanes(n < LANES ? n : LANES) ? "8 lanes (AVX-512VL)" : "one by one (OpenSSL)";
}
