/*
 * dkim_keys - queries for DKIM keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "engine/store/dkim_keys.h"
#include "engine/store/pg.h"
#include "engine/util/alloc.h"

#define DKIM_PUBLIC_JSON                                                                     \
    "json_build_object('id', k.id, 'domain', k.domain, 'selector', k.selector,"              \
    " 'algorithm', k.algorithm, 'bits', k.bits, 'public_key', k.public_key,"                 \
    " 'name', k.selector || '._domainkey.' || k.domain, 'created_at', k.created_at)"

/* store_dkim_add - store a key pair for DOMAIN and SELECTOR. */
int store_dkim_add(PGconn *conn, const char *domain, const char *selector, const char *algorithm, int bits,
                   const char *private_pem, const char *public_b64, json_t **out, struct store_err *e)
{
    char bits_s[16];
    snprintf(bits_s, sizeof(bits_s), "%d", bits);
    const char *params[] = { domain, selector, algorithm, bits > 0 ? bits_s : NULL, private_pem, public_b64 };
    PGresult *res = pg_exec(conn,
                            "WITH k AS (INSERT INTO dkim_keys (domain, selector, algorithm, bits, private_key,"
                            " public_key) VALUES ($1, $2, $3, $4::int, $5, $6) RETURNING *)"
                            " SELECT " DKIM_PUBLIC_JSON " FROM k",
                            6, params);
    return store_json_made(conn, res, out, e, "cannot store DKIM key", "a DKIM key %s._domainkey.%s already exists",
                           selector, domain);
}

/* store_dkim_ls - the public side of every key, by domain and selector. */
int store_dkim_ls(PGconn *conn, json_t **out, struct store_err *e)
{
    return store_json_all(conn,
                          "SELECT coalesce(json_agg(" DKIM_PUBLIC_JSON " ORDER BY k.domain, k.selector), '[]')"
                          " FROM dkim_keys k",
                          out, e, "cannot list DKIM keys");
}

/* store_dkim_domain - the public side of DOMAIN's keys. */
int store_dkim_domain(PGconn *conn, const char *domain, json_t **out, struct store_err *e)
{
    PGresult *res = pg_exec(conn,
                            "SELECT json_agg(" DKIM_PUBLIC_JSON " ORDER BY k.algorithm DESC, k.selector)"
                            " FROM dkim_keys k WHERE k.domain = $1 HAVING count(*) > 0",
                            1, &domain);
    return store_json_row(conn, res, out, e, "cannot read DKIM keys", "no DKIM key for %s", domain);
}

/* store_dkim_rm - remove DOMAIN's key SELECTOR (NULL: all of them); *REMOVED counts. */
int store_dkim_rm(PGconn *conn, const char *domain, const char *selector, int *removed, struct store_err *e)
{
    const char *params[] = { domain, selector };
    PGresult *res = pg_exec(conn, "DELETE FROM dkim_keys WHERE domain = $1 AND ($2::text IS NULL OR selector = $2)",
                            2, params);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot remove DKIM key");
    else if ((*removed = atoi(PQcmdTuples(res))) == 0)
        rc = selector ? store_fail(e, STORE_ERR_NOTFOUND, "no DKIM key %s._domainkey.%s", selector, domain)
                      : store_fail(e, STORE_ERR_NOTFOUND, "no DKIM key for %s", domain);
    PQclear(res);
    return rc;
}

/* store_dkim_rm_id - remove the key with id ID (a decimal string); STORE_ERR_NOTFOUND when none. */
int store_dkim_rm_id(PGconn *conn, const char *id, struct store_err *e)
{
    PGresult *res = pg_exec(conn, "DELETE FROM dkim_keys WHERE id = CASE WHEN $1 ~ '^[0-9]{1,18}$' THEN $1::bigint END",
                            1, &id);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot remove DKIM key");
    else if (strcmp(PQcmdTuples(res), "0") == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no DKIM key %s", id);
    PQclear(res);
    return rc;
}

/* store_dkim_signing - DOMAIN's keys with private parts, RSA first; *ROWS freed with dkim_rows_free. */
int store_dkim_signing(PGconn *conn, const char *domain, struct dkim_row **rows, size_t *n, struct store_err *e)
{
    *rows = NULL;
    *n = 0;
    PGresult *res = pg_exec(conn,
                            "SELECT domain, selector, algorithm, private_key FROM dkim_keys WHERE domain = $1"
                            " ORDER BY algorithm DESC, created_at DESC",
                            1, &domain);
    if (!pg_ok(res)) {
        int rc = store_fail_db(e, conn, res, "cannot read DKIM keys");
        PQclear(res);
        return rc;
    }
    *n = (size_t)PQntuples(res);
    *rows = xcalloc(*n ? *n : 1, sizeof(**rows));
    for (size_t i = 0; i < *n; i++) {
        struct dkim_row *r = &(*rows)[i];
        snprintf(r->domain, sizeof(r->domain), "%s", PQgetvalue(res, (int)i, 0));
        snprintf(r->selector, sizeof(r->selector), "%s", PQgetvalue(res, (int)i, 1));
        snprintf(r->algorithm, sizeof(r->algorithm), "%s", PQgetvalue(res, (int)i, 2));
        r->private_pem = xstrdup(PQgetvalue(res, (int)i, 3));
    }
    PQclear(res);
    return STORE_OK;
}

/* dkim_rows_free - wipe and free ROWS. */
void dkim_rows_free(struct dkim_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        OPENSSL_cleanse(rows[i].private_pem, strlen(rows[i].private_pem));
        xfree(rows[i].private_pem);
    }
    xfree(rows);
}
