/*
 * relays - queries for relays. Only store_relay_load reads the password column.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "engine/store/pg.h"
#include "engine/store/relays.h"
#include "engine/util/alloc.h"

#define RELAY_PUBLIC_JSON                                                                          \
    "json_build_object('id', r.id, 'name', r.name, 'host', r.host, 'port', r.port, 'tls', r.tls,"  \
    " 'tls_verify', r.tls_verify, 'ca_file', r.ca_file, 'username', r.username, 'allow_plain_auth', r.allow_plain_auth,"                    \
    " 'password_set', r.password IS NOT NULL, 'has_password', r.password IS NOT NULL, 'max_conns', r.max_conns, 'max_per_conn', r.max_per_conn," \
    " 'rate', r.rate, 'quota', r.quota, 'quota_period_s', extract(epoch FROM r.quota_period)::bigint," \
    " 'created_at', r.created_at)"

/* store_relay_add - add relay R. */
int store_relay_add(PGconn *conn, const struct relay_def *r, json_t **out, struct store_err *e)
{
    char port[16], conns[16], per[16], rate[32], quota[32], period[32];
    snprintf(port, sizeof(port), "%d", r->port);
    snprintf(conns, sizeof(conns), "%d", r->max_conns);
    snprintf(per, sizeof(per), "%d", r->max_per_conn);
    snprintf(rate, sizeof(rate), "%g", r->rate);
    snprintf(quota, sizeof(quota), "%ld", r->quota);
    snprintf(period, sizeof(period), "%ld seconds", r->quota_period_s);
    const char *params[] = { r->name, r->host, port, r->tls, r->tls_verify ? "t" : "f", r->ca_file, r->username,
                             r->password, conns, per, r->rate > 0 ? rate : NULL, r->quota > 0 ? quota : NULL,
                             r->quota > 0 ? period : NULL, r->allow_plain_auth ? "t" : "f" };
    PGresult *res = pg_exec(conn,
                            "WITH r AS (INSERT INTO relays (name, host, port, tls, tls_verify, ca_file, username,"
                            " password, max_conns, max_per_conn, rate, quota, quota_period, allow_plain_auth) VALUES"
                            " ($1, $2, $3::int, $4, $5::boolean, $6, $7, $8, $9::int, $10::int, $11::float8, $12::int,"
                            " $13::interval, $14::boolean) RETURNING *) SELECT " RELAY_PUBLIC_JSON " FROM r",
                            14, params);
    return store_json_made(conn, res, out, e, "cannot add relay", "relay \"%s\" already exists", r->name);
}

/* store_relay_ls - every relay, public fields only. */
int store_relay_ls(PGconn *conn, json_t **out, struct store_err *e)
{
    return store_json_all(conn, "SELECT coalesce(json_agg(" RELAY_PUBLIC_JSON " ORDER BY r.name), '[]') FROM relays r",
                          out, e, "cannot list relays");
}

/* store_relay_rm - remove relay NAME. */
int store_relay_rm(PGconn *conn, const char *name, struct store_err *e)
{
    PGresult *res = pg_exec(conn, "DELETE FROM relays WHERE name = $1", 1, &name);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot remove relay");
    else if (strcmp(PQcmdTuples(res), "0") == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no relay \"%s\"", name);
    PQclear(res);
    return rc;
}

static char *dup_or_null(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : xstrdup(PQgetvalue(res, row, col));
}

/* every relay with its secrets, or the one named $1 */
const char store_relay_load_sql[] =
    "SELECT name, host, port, tls, tls_verify, ca_file, username, password, max_conns,"
    " max_per_conn, coalesce(rate, 0), coalesce(quota, 0),"
    " coalesce(extract(epoch FROM quota_period)::bigint, 3600), allow_plain_auth"
    " FROM relays WHERE $1::text IS NULL OR name = $1 ORDER BY name";

/* store_relay_defs - the relays in RES, a result of store_relay_load_sql; their number */
size_t store_relay_defs(PGresult *res, struct relay_def **out)
{
    int rows = PQntuples(res);
    *out = xcalloc((size_t)(rows ? rows : 1), sizeof(**out));
    for (int i = 0; i < rows; i++) {
        struct relay_def *r = &(*out)[i];
        r->name = dup_or_null(res, i, 0);
        r->host = dup_or_null(res, i, 1);
        r->port = atoi(PQgetvalue(res, i, 2));
        r->tls = dup_or_null(res, i, 3);
        r->tls_verify = strcmp(PQgetvalue(res, i, 4), "t") == 0;
        r->ca_file = dup_or_null(res, i, 5);
        r->username = dup_or_null(res, i, 6);
        r->password = dup_or_null(res, i, 7);
        r->max_conns = atoi(PQgetvalue(res, i, 8));
        r->max_per_conn = atoi(PQgetvalue(res, i, 9));
        r->rate = atof(PQgetvalue(res, i, 10));
        r->quota = atol(PQgetvalue(res, i, 11));
        r->quota_period_s = atol(PQgetvalue(res, i, 12));
        r->allow_plain_auth = strcmp(PQgetvalue(res, i, 13), "t") == 0;
    }
    return (size_t)rows;
}

/* store_relay_load - relay NAME (all when NULL) with secrets; STORE_ERR_NOTFOUND when none. */
int store_relay_load(PGconn *conn, const char *name, struct relay_def **out, size_t *n, struct store_err *e)
{
    *out = NULL;
    *n = 0;
    PGresult *res = pg_exec(conn, store_relay_load_sql, 1, &name);
    if (!pg_ok(res)) {
        int rc = store_fail_db(e, conn, res, "cannot read relays");
        PQclear(res);
        return rc;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return name ? store_fail(e, STORE_ERR_NOTFOUND, "no relay \"%s\"", name)
                    : store_fail(e, STORE_ERR_NOTFOUND,
                                 "no relay to send through: 'postino relay add NAME --host HOST ...' adds one");
    }
    *n = store_relay_defs(res, out);
    PQclear(res);
    return STORE_OK;
}

/* relay_def_same - whether A and B are the same settings (name included) */
bool relay_def_same(const struct relay_def *a, const struct relay_def *b)
{
#define SAME_STR(f) ((!a->f && !b->f) || (a->f && b->f && strcmp(a->f, b->f) == 0))
    return SAME_STR(name) && SAME_STR(host) && a->port == b->port && SAME_STR(tls) && a->tls_verify == b->tls_verify &&
           SAME_STR(ca_file) && SAME_STR(username) && SAME_STR(password) && a->max_conns == b->max_conns &&
           a->max_per_conn == b->max_per_conn && a->rate == b->rate && a->quota == b->quota &&
           a->quota_period_s == b->quota_period_s && a->allow_plain_auth == b->allow_plain_auth;
#undef SAME_STR
}

/* relay_defs_copy - a copy of DEFS[0..N) of its own (relay_defs_free). */
struct relay_def *relay_defs_copy(const struct relay_def *defs, size_t n)
{
    struct relay_def *out = xcalloc(n ? n : 1, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        out[i] = defs[i];
        out[i].name = defs[i].name ? xstrdup(defs[i].name) : NULL;
        out[i].host = defs[i].host ? xstrdup(defs[i].host) : NULL;
        out[i].tls = defs[i].tls ? xstrdup(defs[i].tls) : NULL;
        out[i].ca_file = defs[i].ca_file ? xstrdup(defs[i].ca_file) : NULL;
        out[i].username = defs[i].username ? xstrdup(defs[i].username) : NULL;
        out[i].password = defs[i].password ? xstrdup(defs[i].password) : NULL;
    }
    return out;
}

/* relay_defs_free - release DEFS, wiping passwords. */
void relay_defs_free(struct relay_def *defs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct relay_def *r = &defs[i];
        if (r->password)
            OPENSSL_cleanse(r->password, strlen(r->password));
        xfree(r->name);
        xfree(r->host);
        xfree(r->tls);
        xfree(r->ca_file);
        xfree(r->username);
        xfree(r->password);
    }
    xfree(defs);
}
