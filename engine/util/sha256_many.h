/*
 * sha256_many - the SHA-256 digests of several messages at once.
 *
 * sha256_many        the digests of N inputs, each A followed by a short B
 * sha256_many_force  the way to take (tests and benchmarks; default: the faster)
 * sha256_many_way    the way taken for a batch of N, in words
 *
 * A batch of rendered messages needs one DKIM body hash each. SHA-256 is
 * sequential within a message, but eight messages go through at once, one in
 * each 32-bit lane of 256-bit vectors (AVX-512VL for its rotates and
 * three-input logic; 256-bit, so the core keeps its clock). Where the CPU
 * has those instructions and eight lanes cost less than the messages hashed
 * one by one (measured once, on first use, against OpenSSL's SHA-256, which
 * uses the SHA extensions where there are some), a batch takes the lanes;
 * otherwise, and for a batch too small to pay for them, each message is
 * hashed by OpenSSL. Both give the same digests. POSTINO_SHA256=one in the
 * environment makes every batch go one by one.
 */
#ifndef POSTINO_UTIL_SHA256_MANY_H
#define POSTINO_UTIL_SHA256_MANY_H

#include <stddef.h>

#define SHA256_MANY_B_MAX 64 /* the most octets of an input's second part */

struct sha256_in {
    const unsigned char *a; /* the input is A[0..AN) then B[0..BN) */
    size_t an;
    const unsigned char *b;
    size_t bn; /* <= SHA256_MANY_B_MAX */
};

enum sha256_many_way {
    SHA256_MANY_AUTO,     /* the lanes when they are there and pay for the batch */
    SHA256_MANY_ONE,      /* one message at a time (OpenSSL) */
    SHA256_MANY_LANES,    /* the lanes whenever the CPU has them, whatever the batch */
};

/* sha256_many - OUT[i]: the SHA-256 of IN[i], for i < N; -1 if OpenSSL failed (OUT undefined). */
int sha256_many(const struct sha256_in *in, size_t n, unsigned char (*out)[32]);

void sha256_many_force(enum sha256_many_way way);

/* sha256_many_way - "8 lanes (AVX-512VL)" or "one by one (OpenSSL)": how a batch of N is hashed now */
const char *sha256_many_way(size_t n);

#endif
