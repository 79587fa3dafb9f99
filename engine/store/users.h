/*
 * users - API users, their roles, and their API tokens.
 *
 * store_user_add         add a user; STORE_ERR_EXISTS when the email is taken (any case)
 * store_user_ls          every user as a JSON array (never the password hash)
 * store_user_get         one user (by email, or by id when the text is a number)
 * store_user_set_password  replace a user's password hash
 * store_user_set_active  disable or re-enable a user
 * store_user_rm          delete a user and its tokens
 * store_user_login       a user and its password hash, for checking a password (caller frees)
 * store_token_add        record a token's hash for a user; *OUT is the token without its hash;
 *                        STORE_ERR_LIMIT when the user has as many as allowed
 * store_token_ls         a user's tokens (or everyone's when USER is NULL), never hashes
 * store_token_rm         delete token ID (only USER_ID's when USER_ID > 0)
 * store_token_auth       the active-or-not user a token hash belongs to; marks it used
 *
 * Users are named by email or id wherever one is expected (USER_REF_MATCH).
 * Hashes are computed by the caller (api/auth.h); nothing here sees a password.
 * JSON results are the caller's to json_decref().
 */
#ifndef POSTINO_STORE_USERS_H
#define POSTINO_STORE_USERS_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "engine/store/store.h"

struct user_auth {
    long long id;
    char email[256];
    char role[16];
    bool active;
    long long token_id;     /* the API token logged in with; 0: a password or session login */
};

int store_user_add(PGconn *conn, const char *email, const char *role, const char *password_hash, json_t **out,
                   struct store_err *e);
int store_user_ls(PGconn *conn, json_t **out, struct store_err *e);
int store_user_get(PGconn *conn, const char *ref, json_t **out, struct store_err *e);
int store_user_set_password(PGconn *conn, const char *ref, const char *password_hash, struct store_err *e);
int store_user_set_active(PGconn *conn, const char *ref, bool active, json_t **out, struct store_err *e);
int store_user_rm(PGconn *conn, const char *ref, struct store_err *e);
int store_user_login(PGconn *conn, const char *ref, struct user_auth *out, char **hash, struct store_err *e);

int store_token_add(PGconn *conn, const char *user_ref, const char *name, const char *token_hash, unsigned max,
                    json_t **out, struct store_err *e);
int store_token_ls(PGconn *conn, const char *user_ref, json_t **out, struct store_err *e);
int store_token_rm(PGconn *conn, const char *id, long long user_id, struct store_err *e);
int store_token_auth(PGconn *conn, const char *token_hash, struct user_auth *out, struct store_err *e);

#endif
