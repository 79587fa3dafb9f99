/*
 * users - queries for API users and tokens.
 *
 * The JSON shapes are built by the server so the CLI and the API print the
 * same fields; no statement here selects password_hash or token_hash into
 * JSON. store_user_login alone reads a hash, to check a password.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/store/pg.h"
#include "engine/store/users.h"
#include "engine/util/alloc.h"

/* The SQL fragment that finds a user by email (any case) or numeric id in $N. */
#define USER_REF_MATCH(n) \
    "(lower(u.email) = lower($" #n ") OR u.id = CASE WHEN $" #n " ~ '^[0-9]{1,18}$' THEN $" #n "::bigint END)"

#define USER_JSON                                                                                  \
    "json_build_object('id', u.id, 'email', u.email, 'role', u.role, 'active', u.active,"          \
    " 'created_at', u.created_at, 'updated_at', u.updated_at,"                                     \
    " 'tokens', (SELECT count(*) FROM api_tokens t WHERE t.user_id = u.id))"

#define TOKEN_JSON                                                                                 \
    "json_build_object('id', t.id, 'user', (SELECT u.email FROM users u WHERE u.id = t.user_id),"  \
    " 'name', t.name, 'created_at', t.created_at, 'last_used_at', t.last_used_at)"

/* one JSON row or NOTFOUND naming REF */
static int one_json(PGconn *conn, PGresult *res, json_t **out, const char *ref, const char *what,
                    struct store_err *e)
{
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, what);
    else if (PQntuples(res) == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no user \"%s\"", ref);
    else if (out)
        *out = store_json(res, 0, 0);
    PQclear(res);
    return rc;
}

/* store_user_add - add user EMAIL (normalised) with ROLE; *OUT is the new user. */
int store_user_add(PGconn *conn, const char *email, const char *role, const char *password_hash, json_t **out,
                   struct store_err *e)
{
    const char *params[] = { email, role, password_hash };
    if (strcmp(role, "admin") != 0 && strcmp(role, "user") != 0)
        return store_fail(e, STORE_ERR_INVALID, "role must be admin or user, not \"%s\"", role);
    PGresult *res = pg_exec(conn,
                            "WITH u AS (INSERT INTO users (email, role, password_hash) VALUES ($1, $2, $3)"
                            " RETURNING *) SELECT " USER_JSON " FROM u",
                            3, params);
    if (!pg_ok(res) && strcmp(pg_sqlstate(res), PG_UNIQUE_VIOLATION) == 0) {
        PQclear(res);
        return store_fail(e, STORE_ERR_EXISTS, "user %s already exists", email);
    }
    return one_json(conn, res, out, email, "cannot add user", e);
}

/* store_user_ls - every user, by email. */
int store_user_ls(PGconn *conn, json_t **out, struct store_err *e)
{
    return store_json_all(conn, "SELECT coalesce(json_agg(" USER_JSON " ORDER BY lower(u.email)), '[]') FROM users u",
                          out, e, "cannot list users");
}

/* store_user_get - the user REF names; STORE_ERR_NOTFOUND when none. */
int store_user_get(PGconn *conn, const char *ref, json_t **out, struct store_err *e)
{
    PGresult *res = pg_exec(conn,
                            "SELECT " USER_JSON " FROM users u WHERE " USER_REF_MATCH(1)
                            " ORDER BY (lower(u.email) = lower($1)) DESC LIMIT 1",
                            1, &ref);
    return one_json(conn, res, out, ref, "cannot read user", e);
}

/* store_user_set_password - give the user REF names the hash HASH. */
int store_user_set_password(PGconn *conn, const char *ref, const char *password_hash, struct store_err *e)
{
    const char *params[] = { ref, password_hash };
    PGresult *res = pg_exec(conn,
                            "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = (SELECT u.id FROM users u"
                            " WHERE " USER_REF_MATCH(1) " ORDER BY (lower(u.email) = lower($1)) DESC LIMIT 1)"
                            " RETURNING 1",
                            2, params);
    return one_json(conn, res, NULL, ref, "cannot change password", e);
}

/* store_user_set_active - disable (ACTIVE false) or re-enable the user REF names; *OUT the user. */
int store_user_set_active(PGconn *conn, const char *ref, bool active, json_t **out, struct store_err *e)
{
    const char *params[] = { ref, active ? "t" : "f" };
    PGresult *res = pg_exec(conn,
                            "WITH u AS (UPDATE users SET active = $2::boolean, updated_at = now() WHERE id ="
                            " (SELECT u.id FROM users u WHERE " USER_REF_MATCH(1)
                            " ORDER BY (lower(u.email) = lower($1)) DESC LIMIT 1) RETURNING *)"
                            " SELECT " USER_JSON " FROM u",
                            2, params);
    return one_json(conn, res, out, ref, "cannot change user", e);
}

/* store_user_rm - delete the user REF names, with its tokens. */
int store_user_rm(PGconn *conn, const char *ref, struct store_err *e)
{
    PGresult *res = pg_exec(conn,
                            "DELETE FROM users WHERE id = (SELECT u.id FROM users u WHERE " USER_REF_MATCH(1)
                            " ORDER BY (lower(u.email) = lower($1)) DESC LIMIT 1) RETURNING 1",
                            1, &ref);
    return one_json(conn, res, NULL, ref, "cannot remove user", e);
}

/*
 * store_user_login - the user REF names (email or id), in *OUT, with its
 * password hash in *HASH (the caller wipes and frees it); disabled users too:
 * the caller decides. STORE_ERR_NOTFOUND when no user has that name.
 */
int store_user_login(PGconn *conn, const char *ref, struct user_auth *out, char **hash, struct store_err *e)
{
    PGresult *res = pg_exec(conn,
                            "SELECT u.id, u.email, u.role, u.active, u.password_hash FROM users u WHERE "
                            USER_REF_MATCH(1) " ORDER BY (lower(u.email) = lower($1)) DESC LIMIT 1",
                            1, &ref);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot read user");
    else if (PQntuples(res) == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no user \"%s\"", ref);
    else {
        out->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        snprintf(out->email, sizeof(out->email), "%s", PQgetvalue(res, 0, 1));
        snprintf(out->role, sizeof(out->role), "%s", PQgetvalue(res, 0, 2));
        out->active = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
        out->token_id = 0;
        *hash = xstrdup(PQgetvalue(res, 0, 4));
    }
    PQclear(res);
    return rc;
}

/*
 * store_token_add - record TOKEN_HASH as token NAME of the user USER_REF
 * names; STORE_ERR_LIMIT when MAX (0: no limit) tokens are already the
 * user's. The user's row is locked while counting, so tokens made at the
 * same moment cannot pass the limit together.
 */
int store_token_add(PGconn *conn, const char *user_ref, const char *name, const char *token_hash, unsigned max,
                    json_t **out, struct store_err *e)
{
    char maxs[16];
    if (name && strlen(name) > 100)
        return store_fail(e, STORE_ERR_INVALID, "a token name is at most 100 characters");
    if (pg_begin(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot add token");
    PGresult *res = pg_exec(conn,
                            "SELECT u.id, u.email FROM users u WHERE " USER_REF_MATCH(1)
                            " ORDER BY (lower(u.email) = lower($1)) DESC LIMIT 1 FOR NO KEY UPDATE",
                            1, &user_ref);
    if (!pg_ok(res) || PQntuples(res) == 0) {
        pg_rollback(conn);
        return one_json(conn, res, NULL, user_ref, "cannot add token", e);
    }
    char *uid = xstrdup(PQgetvalue(res, 0, 0)), *email = xstrdup(PQgetvalue(res, 0, 1));
    PQclear(res);
    snprintf(maxs, sizeof(maxs), "%u", max);
    const char *params[] = { uid, name ? name : "", token_hash, maxs };
    /* a statement of its own: it sees every token committed while the lock was awaited */
    res = pg_exec(conn,
                  "WITH t AS (INSERT INTO api_tokens (user_id, name, token_hash) SELECT $1::bigint, $2, $3"
                  " WHERE $4::int = 0 OR (SELECT count(*) FROM api_tokens WHERE user_id = $1::bigint) < $4::int"
                  " RETURNING *) SELECT " TOKEN_JSON " FROM t",
                  4, params);
    json_t *made = NULL;
    int rc;
    if (pg_ok(res) && PQntuples(res) == 0) {
        PQclear(res);
        rc = store_fail(e, STORE_ERR_LIMIT, "user %s has the most tokens allowed (%u); remove one first", email, max);
    } else {
        rc = one_json(conn, res, &made, user_ref, "cannot add token", e);
    }
    if (rc == STORE_OK && pg_commit(conn) < 0)
        rc = store_fail_db(e, conn, NULL, "cannot add token");
    if (rc == STORE_OK && out)
        *out = made;
    else
        json_decref(made);
    if (rc != STORE_OK)
        pg_rollback(conn);
    xfree(uid);
    xfree(email);
    return rc;
}

/* store_token_ls - the tokens of the user USER_REF names (everyone's when NULL), oldest first. */
int store_token_ls(PGconn *conn, const char *user_ref, json_t **out, struct store_err *e)
{
    if (user_ref) {
        json_t *u = NULL;
        int rc = store_user_get(conn, user_ref, &u, e);
        json_decref(u);
        if (rc < 0)
            return rc;
    }
    PGresult *res = pg_exec(conn,
                            "SELECT coalesce(json_agg(" TOKEN_JSON " ORDER BY t.id), '[]') FROM api_tokens t"
                            " WHERE $1::text IS NULL OR t.user_id = (SELECT u.id FROM users u WHERE " USER_REF_MATCH(1)
                            " ORDER BY (lower(u.email) = lower($1)) DESC LIMIT 1)",
                            1, &user_ref);
    int rc = STORE_OK;
    if (pg_ok(res))
        *out = store_json(res, 0, 0);
    else
        rc = store_fail_db(e, conn, res, "cannot list tokens");
    PQclear(res);
    return rc;
}

/* store_token_rm - delete token ID; when USER_ID > 0 only if it is that user's. */
int store_token_rm(PGconn *conn, const char *id, long long user_id, struct store_err *e)
{
    char uid[32];
    size_t n = strlen(id);
    if (n == 0 || n > 18 || strspn(id, "0123456789") != n)
        return store_fail(e, STORE_ERR_NOTFOUND, "no token \"%s\" (tokens are named by number)", id);
    snprintf(uid, sizeof(uid), "%lld", user_id);
    const char *params[] = { id, uid };
    PGresult *res = pg_exec(conn,
                            "DELETE FROM api_tokens WHERE id = $1::bigint AND ($2::bigint <= 0 OR user_id = $2::bigint)",
                            2, params);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot remove token");
    else if (strcmp(PQcmdTuples(res), "0") == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no token %s", id);
    PQclear(res);
    return rc;
}

/*
 * store_token_auth - the user holding the token whose hash is TOKEN_HASH, in
 * *OUT (disabled users too: the caller decides). Marks the token used, at
 * most once a minute. STORE_ERR_NOTFOUND when no token has that hash.
 */
int store_token_auth(PGconn *conn, const char *token_hash, struct user_auth *out, struct store_err *e)
{
    PGresult *res = pg_exec(conn,
                            "WITH t AS (SELECT t.id, t.last_used_at FROM api_tokens t WHERE t.token_hash = $1),"
                            " touch AS (UPDATE api_tokens SET last_used_at = now() WHERE id = (SELECT id FROM t)"
                            "   AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute'))"
                            " SELECT u.id, u.email, u.role, u.active, a.id FROM users u JOIN api_tokens a ON a.user_id = u.id"
                            " WHERE a.id = (SELECT id FROM t)",
                            1, &token_hash);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot check token");
    else if (PQntuples(res) == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no such token");
    else {
        out->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        snprintf(out->email, sizeof(out->email), "%s", PQgetvalue(res, 0, 1));
        snprintf(out->role, sizeof(out->role), "%s", PQgetvalue(res, 0, 2));
        out->active = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
        out->token_id = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
    }
    PQclear(res);
    return rc;
}
