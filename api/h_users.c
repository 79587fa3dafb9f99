/*
 * h_users - users (admin only) and a user's own password and tokens.
 *
 * An admin cannot disable or delete itself through the API (409): there
 * would be no one left to undo it. Changing one's password and making a
 * token both need the current password, checked by api_login_check (wrong
 * ones slow down per account and per address). Passwords and tokens never appear in
 * an answer except a new token, once, in the answer that creates it.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "api/auth.h"
#include "api/handlers.h"
#include "api/settings_api.h"
#include "engine/mail/address.h"

/* api_users_ls - GET /api/v1/users */
void api_users_ls(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (!api_db(r))
        return;
    api_reply_stored(r, store_user_ls(r->conn, &j, &e), &j, &e, API_ITEMS);
}

static const struct api_field user_fields[] = {
    { "email", API_FIELD_STRING, true, 320, 0, 0 },
    { "role", API_FIELD_STRING, true, 16, 0, 0 },
    { "password", API_FIELD_STRING, true, AUTH_PASSWORD_MAX, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

/* api_users_create - POST /api/v1/users */
void api_users_create(struct api_req *r)
{
    json_t *in, *j = NULL;
    char norm[ADDRESS_MAX + 1], hash[AUTH_HASH_MAX];
    const char *why;
    struct store_err e;
    if (api_body(r, user_fields, &in) < 0)
        return;
    const char *role = api_json_str(in, "role", ""), *pw = api_json_str(in, "password", "");
    if (address_normalize(api_json_str(in, "email", ""), norm, sizeof(norm), &why) < 0)
        api_reply_error(r, 400, "invalid_field", "email", "field \"email\" is not a valid address: %s", why);
    else if (strcmp(role, "admin") != 0 && strcmp(role, "user") != 0)
        api_reply_error(r, 400, "invalid_field", "role", "field \"role\" must be \"admin\" or \"user\"");
    else if ((why = auth_password_check(pw)))
        api_reply_error(r, 400, "invalid_field", "password", "field \"password\": %s", why);
    else if (auth_password_hash(pw, hash) < 0)
        api_reply_error(r, 503, "unavailable", NULL, "cannot hash the password now; try again later");
    else if (api_db(r))
        api_reply_stored(r, store_user_add(r->conn, norm, role, hash, &j, &e), &j, &e, 201);
    OPENSSL_cleanse(hash, sizeof(hash));
    json_decref(in);
}

/* api_users_get - GET /api/v1/users/{user} */
void api_users_get(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        api_reply_stored(r, store_user_get(r->conn, api_param(r, 0), &j, &e), &j, &e, 200);
}

/* is the {user} segment the caller itself; -1 with the answer set when it cannot tell */
static int is_self(struct api_req *r)
{
    struct store_err e;
    json_t *u = NULL;
    if (!api_db(r))
        return -1;
    if (store_user_get(r->conn, api_param(r, 0), &u, &e) < 0) {
        api_reply_store(r, &e);
        return -1;
    }
    int self = json_integer_value(json_object_get(u, "id")) == r->user.id;
    json_decref(u);
    return self;
}

/* api_users_rm - DELETE /api/v1/users/{user} */
void api_users_rm(struct api_req *r)
{
    struct store_err e;
    int self = is_self(r);
    if (self < 0)
        return;
    if (self)
        api_reply_error(r, 409, "conflict", NULL, "you cannot delete yourself");
    else
        api_reply_stored(r, store_user_rm(r->conn, api_param(r, 0), &e), NULL, &e, 204);
}

static void set_active(struct api_req *r, bool active)
{
    struct store_err e;
    json_t *in, *j = NULL;
    if (api_body(r, api_no_fields, &in) < 0)
        return;
    json_decref(in);
    int self = is_self(r);
    if (self < 0)
        return;
    if (self && !active)
        api_reply_error(r, 409, "conflict", NULL, "you cannot disable yourself");
    else
        api_reply_stored(r, store_user_set_active(r->conn, api_param(r, 0), active, &j, &e), &j, &e, 200);
}

/* api_users_disable - POST /api/v1/users/{user}/disable */
void api_users_disable(struct api_req *r)
{
    set_active(r, false);
}

/* api_users_enable - POST /api/v1/users/{user}/enable */
void api_users_enable(struct api_req *r)
{
    set_active(r, true);
}

/* hash PW and store it for the user REF; answers 204 or the error */
static void store_password(struct api_req *r, const char *ref, const char *pw)
{
    char hash[AUTH_HASH_MAX];
    struct store_err e;
    const char *why = auth_password_check(pw);
    if (why)
        api_reply_error(r, 400, "invalid_field", "password", "field \"password\": %s", why);
    else if (auth_password_hash(pw, hash) < 0)
        api_reply_error(r, 503, "unavailable", NULL, "cannot hash the password now; try again later");
    else if (!api_db(r))
        ;
    else
        api_reply_stored(r, store_user_set_password(r->conn, ref, hash, &e), NULL, &e, 204);
    OPENSSL_cleanse(hash, sizeof(hash));
}

/* api_users_password - POST /api/v1/users/{user}/password */
void api_users_password(struct api_req *r)
{
    static const struct api_field fields[] = {
        { "password", API_FIELD_STRING, true, AUTH_PASSWORD_MAX, 0, 0 },
        { NULL, 0, false, 0, 0, 0 },
    };
    json_t *in;
    if (api_body(r, fields, &in) < 0)
        return;
    store_password(r, api_param(r, 0), api_json_str(in, "password", ""));
    json_decref(in);
}

/* api_me_get - GET /api/v1/me */
void api_me_get(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    char id[32];
    snprintf(id, sizeof(id), "%lld", r->user.id);
    if (api_db(r))
        api_reply_stored(r, store_user_get(r->conn, id, &j, &e), &j, &e, 200);
}

/* api_me_password - POST /api/v1/me/password */
void api_me_password(struct api_req *r)
{
    static const struct api_field fields[] = {
        { "current_password", API_FIELD_STRING, true, AUTH_PASSWORD_MAX, 0, 0 },
        { "password", API_FIELD_STRING, true, AUTH_PASSWORD_MAX, 0, 0 },
        { NULL, 0, false, 0, 0, 0 },
    };
    json_t *in;
    char id[32];
    struct user_auth me;
    if (api_body(r, fields, &in) < 0)
        return;
    snprintf(id, sizeof(id), "%lld", r->user.id);
    if (api_login_check(r, id, api_json_str(in, "current_password", ""), "current_password", &me) == 0)
        store_password(r, id, api_json_str(in, "password", ""));
    json_decref(in);
}

/* api_me_tokens_ls - GET /api/v1/me/tokens */
void api_me_tokens_ls(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    char id[32];
    snprintf(id, sizeof(id), "%lld", r->user.id);
    if (!api_db(r))
        return;
    if (store_token_ls(r->conn, id, &j, &e) < 0)
        api_reply_store(r, &e);
    else
        api_reply_items(r, j);
}

/*
 * api_me_tokens_create - POST /api/v1/me/tokens: the caller's password is
 * asked again (api_login_check), so a token alone cannot make another that
 * would outlive it; at most [api] max_tokens_per_user tokens (409).
 */
void api_me_tokens_create(struct api_req *r)
{
    static const struct api_field fields[] = {
        { "name", API_FIELD_STRING, false, 100, 0, 0 },
        { "password", API_FIELD_STRING, true, AUTH_PASSWORD_MAX, 0, 0 },
        { NULL, 0, false, 0, 0, 0 },
    };
    json_t *in, *j = NULL;
    char id[32], tok[AUTH_TOKEN_MAX + 1], hash[AUTH_TOKEN_HASH_LEN + 1];
    struct user_auth me;
    struct store_err e;
    if (api_body(r, fields, &in) < 0)
        return;
    snprintf(id, sizeof(id), "%lld", r->user.id);
    if (api_login_check(r, id, api_json_str(in, "password", ""), "password", &me) < 0)
        ;
    else if (auth_token_new(tok, hash) < 0)
        api_reply_error(r, 503, "unavailable", NULL, "cannot make a token now; try again later");
    else if (store_token_add(r->conn, id, api_json_str(in, "name", ""), hash, api_settings.max_tokens_per_user, &j,
                             &e) < 0)
        api_reply_store(r, &e);
    else {
        json_object_set_new(j, "token", json_string(tok));
        api_reply_json(r, 201, j);
    }
    OPENSSL_cleanse(tok, sizeof(tok));
    json_decref(in);
}

/* api_me_tokens_rm - DELETE /api/v1/me/tokens/{token} */
void api_me_tokens_rm(struct api_req *r)
{
    struct store_err e;
    if (!api_db(r))
        return;
    api_reply_stored(r, store_token_rm(r->conn, api_param(r, 0), r->user.id, &e), NULL, &e, 204);
}
