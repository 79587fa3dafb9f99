/*
 * fuzz_pow - libFuzzer target for the proof-of-work check, which reads the
 * untrusted pow_challenge and pow_nonce of POST /s. The input is split at
 * its first newline into challenge and nonce; nothing made by another key
 * may pass, and a refusal always says why.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/mail/pow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char key[TOKEN_KEY_LEN] = "fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char c[300], n[300];
    const uint8_t *nl = memchr(data, '\n', size);
    size_t cl = nl ? (size_t)(nl - data) : size, rest = nl ? size - cl - 1 : 0;
    if (cl >= sizeof(c) || rest >= sizeof(n) || memchr(data, 0, size))
        return 0;
    memcpy(c, data, cl);
    c[cl] = 0;
    memcpy(n, nl ? nl + 1 : data, rest);
    n[rest] = 0;
    const char *why = NULL;
    int rc = pow_check(key, c, n, 1800000000, 3600, 1, &why);
    if ((rc < 0 && !why) || rc == 0)   /* no input guesses a MAC */
        __builtin_trap();
    return 0;
}
