/*
 * auth - yescrypt password hashes (libcrypt) and random API tokens.
 *
 * auth_password_hash returns -1 when libcrypt cannot make a salt or a hash
 * (logged without the password); auth_token_new -1 when there is no
 * randomness.
 */
#include <crypt.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "api/auth.h"
#include "engine/util/alloc.h"
#include "engine/util/str.h"

/* auth_password_check - NULL when PASSWORD may be used, else a static reason. */
const char *auth_password_check(const char *password)
{
    size_t n = strlen(password);
    if (n < AUTH_PASSWORD_MIN)
        return "a password needs at least 8 characters";
    if (n > AUTH_PASSWORD_MAX)
        return "a password is at most 1024 bytes";
    if (!str_utf8_valid(password, n, NULL))
        return "a password must be valid UTF-8";
    return NULL;
}

/* auth_password_hash - hash PASSWORD with yescrypt and a random salt into OUT; 0 or -1. */
int auth_password_hash(const char *password, char out[AUTH_HASH_MAX])
{
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)))
        return -1;
    struct crypt_data *cd = xcalloc(1, sizeof(*cd));
    const char *h = crypt_r(password, salt, cd);
    int rc = -1;
    if (h && h[0] == '$' && strlen(h) < AUTH_HASH_MAX) {
        memcpy(out, h, strlen(h) + 1);
        rc = 0;
    }
    OPENSSL_cleanse(cd, sizeof(*cd));
    xfree(cd);
    return rc;
}

/* auth_password_verify - true when PASSWORD hashes to HASH. */
bool auth_password_verify(const char *password, const char *hash)
{
    if (!hash || hash[0] != '$')
        return false;
    struct crypt_data *cd = xcalloc(1, sizeof(*cd));
    const char *h = crypt_r(password, hash, cd);
    size_t n = strlen(hash);
    bool ok = h && h[0] == '$' && strlen(h) == n && CRYPTO_memcmp(h, hash, n) == 0;
    OPENSSL_cleanse(cd, sizeof(*cd));
    xfree(cd);
    return ok;
}

/* auth_token_hash - lower-case hex SHA-256 of TOKEN into HASH. */
void auth_token_hash(const char *token, char hash[AUTH_TOKEN_HASH_LEN + 1])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(token, strlen(token), md, &mdlen, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        snprintf(hash + 2 * i, 3, "%02x", md[i]);
}

/* PREFIX and 32 random bytes in base64url into TOKEN; HASH its stored form. 0 or -1. */
static int secret_new(const char *prefix, char token[AUTH_TOKEN_MAX + 1], char hash[AUTH_TOKEN_HASH_LEN + 1])
{
    static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[33];
    if (RAND_bytes(raw, 32) != 1)
        return -1;
    raw[32] = 0;
    char *p = token + strlen(prefix);
    memcpy(token, prefix, strlen(prefix));
    /* 32 bytes: ten groups of three, then two bytes as three characters */
    for (int i = 0; i < 33; i += 3) {
        unsigned v = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 | (i + 2 < 33 ? raw[i + 2] : 0);
        *p++ = b64url[v >> 18 & 63];
        *p++ = b64url[v >> 12 & 63];
        *p++ = b64url[v >> 6 & 63];
        if (i + 2 < 32)
            *p++ = b64url[v & 63];
    }
    *p = 0;
    OPENSSL_cleanse(raw, sizeof(raw));
    auth_token_hash(token, hash);
    return 0;
}

/* auth_token_new - TOKEN: "pst_" and 32 random bytes in base64url; HASH its stored form. 0 or -1. */
int auth_token_new(char token[AUTH_TOKEN_MAX + 1], char hash[AUTH_TOKEN_HASH_LEN + 1])
{
    return secret_new(AUTH_TOKEN_PREFIX, token, hash);
}

/* auth_session_new - a web admin session: "pss_" and 32 random bytes; HASH its stored form. 0 or -1. */
int auth_session_new(char token[AUTH_TOKEN_MAX + 1], char hash[AUTH_TOKEN_HASH_LEN + 1])
{
    return secret_new(AUTH_SESSION_PREFIX, token, hash);
}

/*
 * auth_session_csrf - the CSRF token of session TOKEN (hex SHA-256 of a label
 * and the token): known to the page, which reads it from GET /api/v1/session,
 * and to the server, which recomputes it from the cookie; another site can
 * read neither.
 */
void auth_session_csrf(const char *token, char csrf[AUTH_TOKEN_HASH_LEN + 1])
{
    char s[sizeof("postino-csrf:") + AUTH_TOKEN_MAX];
    snprintf(s, sizeof(s), "postino-csrf:%s", token);
    auth_token_hash(s, csrf);
    OPENSSL_cleanse(s, sizeof(s));
}
