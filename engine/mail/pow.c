/*
 * pow - proof-of-work challenges for the signup form (see pow.h).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "engine/mail/pow.h"

#define MAC_HEX 32

static const char hexd[] = "0123456789abcdef";

/* mac_hex - the first MAC_HEX hex digits of HMAC-SHA256(KEY, TEXT[0..LEN)) into OUT (MAC_HEX + 1 bytes) */
static void mac_hex(const unsigned char key[TOKEN_KEY_LEN], const char *text, size_t len, char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    HMAC(EVP_sha256(), key, TOKEN_KEY_LEN, (const unsigned char *)text, len, md, &mdlen);
    for (size_t i = 0; i < MAC_HEX / 2; i++) {
        out[2 * i] = hexd[md[i] >> 4];
        out[2 * i + 1] = hexd[md[i] & 15];
    }
    out[MAC_HEX] = 0;
}

/* pow_make - see pow.h. */
int pow_make(const unsigned char key[TOKEN_KEY_LEN], time_t now, unsigned bits, char *out, size_t outlen)
{
    unsigned char rnd[8];
    char mac[MAC_HEX + 1];
    if (bits < 1 || bits > POW_BITS_MAX || outlen < POW_CHALLENGE_MAX + 1 || RAND_bytes(rnd, sizeof(rnd)) != 1)
        return -1;
    int n = snprintf(out, outlen, "%lld.%u.", (long long)now, bits);
    for (size_t i = 0; i < sizeof(rnd); i++) {
        out[n++] = hexd[rnd[i] >> 4];
        out[n++] = hexd[rnd[i] & 15];
    }
    out[n] = 0;
    mac_hex(key, out, (size_t)n, mac);
    snprintf(out + n, outlen - (size_t)n, ".%s", mac);
    return 0;
}

/* leading_zero_bits - how many zero bits MD (32 bytes) starts with */
static unsigned leading_zero_bits(const unsigned char *md)
{
    unsigned n = 0;
    for (size_t i = 0; i < 32; i++) {
        if (md[i] == 0) {
            n += 8;
            continue;
        }
        for (unsigned char b = md[i]; !(b & 0x80); b <<= 1)
            n++;
        break;
    }
    return n;
}

/* pow_check - see pow.h. */
int pow_check(const unsigned char key[TOKEN_KEY_LEN], const char *challenge, const char *nonce, time_t now,
              unsigned max_age, unsigned min_bits, const char **why)
{
    size_t clen = strlen(challenge), nlen = strlen(nonce);
    long long t;
    unsigned bits;
    int used = 0;
    *why = "the form's challenge is not valid: reload the page";
    if (clen == 0 || clen > POW_CHALLENGE_MAX || sscanf(challenge, "%18lld.%2u.%n", &t, &bits, &used) != 2 || used <= 0)
        return -1;
    /* TIME.BITS. then 16 hex digits, a dot and the MAC: nothing more, nothing less */
    const char *rnd = challenge + used;
    if (strlen(rnd) != 16 + 1 + MAC_HEX || strspn(rnd, hexd) != 16 || rnd[16] != '.' ||
        strspn(rnd + 17, hexd) != MAC_HEX)
        return -1;
    char mac[MAC_HEX + 1];
    mac_hex(key, challenge, (size_t)(rnd + 16 - challenge), mac);   /* TIME.BITS.RANDOM, as pow_make signed it */
    if (CRYPTO_memcmp(mac, rnd + 17, MAC_HEX) != 0)
        return -1;
    if (bits < min_bits || bits > POW_BITS_MAX)
        return -1;
    if (t > (long long)now + 60 || (long long)now - t > (long long)max_age) {
        *why = "the form was open too long: reload the page and send it again";
        return -1;
    }
    if (nlen == 0 || nlen > POW_NONCE_MAX || strspn(nonce, "0123456789") != nlen) {
        *why = "the form's proof of work is missing: let the page finish before sending";
        return -1;
    }
    unsigned char md[32];
    unsigned mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, challenge, clen) == 1 && EVP_DigestUpdate(ctx, ":", 1) == 1 &&
             EVP_DigestUpdate(ctx, nonce, nlen) == 1 && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok || leading_zero_bits(md) < bits) {
        *why = "the form's proof of work is wrong: reload the page and send it again";
        return -1;
    }
    return 0;
}
