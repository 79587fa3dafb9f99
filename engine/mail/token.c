/*
 * token - payload = kind byte, a and b as LEB128 varints; token = base32(payload || mac).
 *
 * A message with tracked links makes one token per link, so the HMAC is
 * kept keyed per thread (an EVP_MAC_CTX re-initialised with the same key
 * costs a fraction of the one-shot HMAC(), which fetches and keys anew each
 * time); a thread's context is freed when the thread ends.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "engine/util/alloc.h"

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

struct keyed {
    EVP_MAC_CTX *ctx;
    unsigned char key[TOKEN_KEY_LEN];
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t tls;
static EVP_MAC *hmac_alg;

static void keyed_free(void *p)
{
    struct keyed *k = p;
    EVP_MAC_CTX_free(k->ctx);
    OPENSSL_cleanse(k->key, sizeof(k->key));
    xfree(k);
}

static void init_once(void)
{
    hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (pthread_key_create(&tls, keyed_free) != 0)
        hmac_alg = NULL;
}

/* keyed_ctx - this thread's HMAC-SHA256 context ready for KEY, or NULL */
static EVP_MAC_CTX *keyed_ctx(const unsigned char *key)
{
    pthread_once(&once, init_once);
    if (!hmac_alg)
        return NULL;
    struct keyed *k = pthread_getspecific(tls);
    if (k && CRYPTO_memcmp(k->key, key, TOKEN_KEY_LEN) == 0)
        return EVP_MAC_init(k->ctx, NULL, 0, NULL) == 1 ? k->ctx : NULL;
    if (!k) {
        k = xcalloc(1, sizeof(*k));
        if (!(k->ctx = EVP_MAC_CTX_new(hmac_alg)) || pthread_setspecific(tls, k) != 0) {
            keyed_free(k);
            return NULL;
        }
    }
    OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
                            OSSL_PARAM_construct_end() };
    if (EVP_MAC_init(k->ctx, key, TOKEN_KEY_LEN, params) != 1) {
        memset(k->key, 0, sizeof(k->key));
        return NULL;
    }
    memcpy(k->key, key, TOKEN_KEY_LEN);
    return k->ctx;
}

static void mac(const unsigned char *key, const unsigned char *data, size_t len, unsigned char out[32])
{
    EVP_MAC_CTX *ctx = keyed_ctx(key);
    size_t n = 0;
    if (ctx && EVP_MAC_update(ctx, data, len) == 1 && EVP_MAC_final(ctx, out, &n, 32) == 1 && n == 32)
        return;
    unsigned int m = 32;   /* the one-shot way, should the context fail */
    HMAC(EVP_sha256(), key, TOKEN_KEY_LEN, data, len, out, &m);
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

/*
 * token_parse - verify TOKEN and decode it; 0, TOKEN_EFORGED when it is well
 * formed but its signature does not match, or -1 when it is not a token.
 */
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
        return TOKEN_EFORGED;
    if (get_varint(raw, plen, &off, a) < 0 || get_varint(raw, plen, &off, b) < 0 || off != plen)
        return -1;
    *kind = (char)raw[0];
    return 0;
}
