/*
 * webhook_sign - the signature of a webhook message as the Standard Webhooks
 * specification defines it (https://www.standardwebhooks.com/).
 *
 * webhook_secret_new    a new secret: "whsec_" and the base64 of 32 random bytes
 * webhook_secret_check  is TEXT a secret of that form (a key of 24 to 64 bytes); its key in KEY
 * webhook_sign          "v1,<base64 HMAC-SHA256 of ID.TIMESTAMP.BODY>" with the secret's key
 *
 * The key is the base64-decoded text after "whsec_". Functions returning int
 * give 0, or -1 (a bad secret, no randomness).
 */
#ifndef POSTINO_NET_WEBHOOK_SIGN_H
#define POSTINO_NET_WEBHOOK_SIGN_H

#include <stddef.h>

#include "engine/util/buf.h"

#define WEBHOOK_SECRET_PREFIX "whsec_"
#define WEBHOOK_KEY_MIN 24
#define WEBHOOK_KEY_MAX 64

int webhook_secret_new(struct buf *out);
int webhook_secret_check(const char *text, struct buf *key);
int webhook_sign(const char *secret, const char *id, long long timestamp, const void *body, size_t len,
                 struct buf *out);

#endif
