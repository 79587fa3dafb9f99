/*
 * webhook_sign - Standard Webhooks signatures (HMAC-SHA256, base64).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "engine/net/webhook_sign.h"
#include "engine/util/base64.h"

/* webhook_secret_new - append a new secret to OUT. */
int webhook_secret_new(struct buf *out)
{
    unsigned char key[32];
    if (RAND_bytes(key, sizeof(key)) != 1)
        return -1;
    buf_appends(out, WEBHOOK_SECRET_PREFIX);
    base64_encode(out, key, sizeof(key));
    OPENSSL_cleanse(key, sizeof(key));
    return 0;
}

/* webhook_secret_check - is TEXT a secret; its key appended to KEY when KEY is not NULL. */
int webhook_secret_check(const char *text, struct buf *key)
{
    size_t plen = strlen(WEBHOOK_SECRET_PREFIX);
    if (!text || strncmp(text, WEBHOOK_SECRET_PREFIX, plen) != 0)
        return -1;
    const char *b64 = text + plen;
    size_t n = strlen(b64);
    if (n == 0 || n > 200 || strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != n)
        return -1;
    struct buf k = BUF_INIT;
    int rc = base64_decode(&k, b64, n) < 0 || k.len < WEBHOOK_KEY_MIN || k.len > WEBHOOK_KEY_MAX ? -1 : 0;
    if (rc == 0 && key)
        buf_append(key, k.data, k.len);
    if (k.data)
        OPENSSL_cleanse(k.data, k.len);
    buf_free(&k);
    return rc;
}

/* webhook_sign - append the webhook-signature value of message ID sent at TIMESTAMP with BODY to OUT. */
int webhook_sign(const char *secret, const char *id, long long timestamp, const void *body, size_t len,
                 struct buf *out)
{
    struct buf key = BUF_INIT;
    if (webhook_secret_check(secret, &key) < 0) {
        buf_free(&key);
        return -1;
    }
    char ts[32];
    int tn = snprintf(ts, sizeof(ts), "%lld", timestamp);
    struct buf msg = BUF_INIT;
    buf_appends(&msg, id);
    buf_appendc(&msg, '.');
    buf_append(&msg, ts, (size_t)tn);
    buf_appendc(&msg, '.');
    buf_append(&msg, body, len);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    int ok = HMAC(EVP_sha256(), key.data, (int)key.len, (const unsigned char *)msg.data, msg.len, mac, &maclen) != NULL;
    buf_free(&msg);
    OPENSSL_cleanse(key.data, key.len);
    buf_free(&key);
    if (!ok)
        return -1;
    buf_appends(out, "v1,");
    base64_encode(out, mac, maclen);
    return 0;
}
