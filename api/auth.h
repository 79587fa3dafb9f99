/*
 * auth - passwords and API tokens.
 *
 * auth_password_check  is a new password acceptable (length, UTF-8); NULL or why not
 * auth_password_hash   a yescrypt hash ("$y$…") of a password; 0 or -1
 * auth_password_verify does a password match a stored hash (constant time)
 * auth_token_new       a new random token "pst_…" and its stored hash
 * auth_token_hash      the stored form of a token: SHA-256, lower-case hex
 * auth_session_new     a new random web admin session "pss_…" and its stored hash
 * auth_session_csrf    the CSRF token that goes with a session
 *
 * Passwords and tokens are secrets: nothing here logs them, and the
 * buffers that held them are wiped.
 */
#ifndef POSTINO_API_AUTH_H
#define POSTINO_API_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define AUTH_HASH_MAX 256            /* a yescrypt hash fits */
#define AUTH_TOKEN_PREFIX "pst_"
#define AUTH_SESSION_PREFIX "pss_"    /* a web admin session (a cookie) */
#define AUTH_TOKEN_MAX 64            /* "pst_" and 43 base64url characters, with room */
#define AUTH_TOKEN_HASH_LEN 64       /* hex SHA-256 */
#define AUTH_PASSWORD_MIN 8
#define AUTH_PASSWORD_MAX 1024

const char *auth_password_check(const char *password);
int auth_password_hash(const char *password, char out[AUTH_HASH_MAX]);
bool auth_password_verify(const char *password, const char *hash);
int auth_token_new(char token[AUTH_TOKEN_MAX + 1], char hash[AUTH_TOKEN_HASH_LEN + 1]);
void auth_token_hash(const char *token, char hash[AUTH_TOKEN_HASH_LEN + 1]);
int auth_session_new(char token[AUTH_TOKEN_MAX + 1], char hash[AUTH_TOKEN_HASH_LEN + 1]);
void auth_session_csrf(const char *token, char csrf[AUTH_TOKEN_HASH_LEN + 1]);

#endif
