/*
 * login_cache - API tokens recently checked against the database, believed
 * for a while without asking again (half the statements of a small request).
 *
 * login_cache_new    a cache believing a token for TTL_MS (0: never believed)
 * login_cache_get    is the token HASH believed now; its user then
 * login_cache_put    believe the token HASH to be USER's for TTL_MS
 * login_cache_clear  forget every token (a user or a token changed)
 * login_cache_free   release it (NULL is fine)
 *
 * A changed user or token must reach the cache through login_cache_clear:
 * the server calls it after every route flagged API_FORGET_LOGINS (changes
 * made elsewhere, by the CLI or another server, take effect within TTL_MS).
 * Safe to call from any number of threads.
 */
#ifndef POSTINO_API_LOGIN_CACHE_H
#define POSTINO_API_LOGIN_CACHE_H

#include <stdbool.h>

#include "api/auth.h"
#include "engine/store/users.h"

struct login_cache;

struct login_cache *login_cache_new(unsigned ttl_ms);
bool login_cache_get(struct login_cache *c, const char hash[AUTH_TOKEN_HASH_LEN + 1], struct user_auth *user);
void login_cache_put(struct login_cache *c, const char hash[AUTH_TOKEN_HASH_LEN + 1], const struct user_auth *user);
void login_cache_clear(struct login_cache *c);
void login_cache_free(struct login_cache *c);

#endif
