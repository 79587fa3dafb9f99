/*
 * token - payload = kind byte, a and b as LEB128 varints; token = base32(payload || mac).
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "engine/mail/token.h"

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

static size_t put_varint(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    do {
        unsigned char c = v & 0x7f;
        v >>= 7;
        p[n++] = (unsigned char)(c | (v ? 0x80 : 0));
    } while (v);
    return n;
}

static int get_varint(const unsigned char *p, size_t len, size_t *off, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0; *off < len && shift < 64; shift += 7) {
        unsigned char c = p[(*off)++];
        *v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return 0;
    }
    return -1;
}

static void mac(const unsigned char *key, const unsigned char *data, size_t len, unsigned char out[32])
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, TOKEN_KEY_LEN, data, len, out, &n);
}

/* token_make - write the token for (KIND, A, B) to OUT; its length, or -1 when OUT is too small. */
int token_make(const unsigned char key[TOKEN_KEY_LEN], char kind, uint64_t a, uint64_t b, char *out, size_t outlen)
{
    unsigned char raw[1 + 10 + 10 + 32];
    size_t n = 0;
    raw[n++] = (unsigned char)kind;
    n += put_varint(raw + n, a);
    n += put_varint(raw + n, b);
    unsigned char m[32];
    mac(key, raw, n, m);
    memcpy(raw + n, m, TOKEN_MAC_LEN);
    n += TOKEN_MAC_LEN;
    size_t chars = (n * 8 + 4) / 5;
    if (chars + 1 > outlen)
        return -1;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | raw[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[o++] = b32[(acc >> bits) & 31];
        }
    }
    if (bits > 0)
        out[o++] = b32[(acc << (5 - bits)) & 31];
    out[o] = 0;
    return (int)o;
}

/* token_parse - verify TOKEN and decode it; 0, or -1 when it is not one of ours. */
int token_parse(const unsigned char key[TOKEN_KEY_LEN], const char *token, char *kind, uint64_t *a, uint64_t *b)
{
    unsigned char raw[64];
    size_t len = strlen(token), n = 0;
    uint32_t acc = 0;
    int bits = 0;
    if (len == 0 || len > TOKEN_MAX)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = token[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        const char *p = c ? strchr(b32, c) : NULL;
        if (!p)
            return -1;
        acc = (acc << 5) | (uint32_t)(p - b32);
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            if (n >= sizeof(raw))
                return -1;
            raw[n++] = (unsigned char)(acc >> bits);
        }
    }
    if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0 || n < 1 + 2 + TOKEN_MAC_LEN)
        return -1;
    size_t plen = n - TOKEN_MAC_LEN, off = 1;
    unsigned char m[32];
    mac(key, raw, plen, m);
    if (CRYPTO_memcmp(m, raw + plen, TOKEN_MAC_LEN) != 0)
        return -1;
    if (get_varint(raw, plen, &off, a) < 0 || get_varint(raw, plen, &off, b) < 0 || off != plen)
        return -1;
    *kind = (char)raw[0];
    return 0;
}
