/*
 * settings - generated secrets kept in the settings table, hex-encoded.
 *
 * Concurrent first uses race harmlessly: INSERT … ON CONFLICT DO NOTHING,
 * then everyone reads the one value that won.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "engine/store/pg.h"
#include "engine/store/settings.h"
#include "engine/util/log.h"

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* store_secret - LEN secret bytes named NAME into OUT. */
int store_secret(PGconn *conn, const char *name, unsigned char *out, size_t len, struct store_err *e)
{
    char hex[2 * 64 + 1];
    unsigned char raw[64];
    if (len > sizeof(raw))
        log_panic("store_secret: %zu bytes is too long", len);
    if (RAND_bytes(raw, (int)len) != 1)
        return store_fail(e, STORE_ERR_DB, "cannot generate a random secret");
    for (size_t i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    OPENSSL_cleanse(raw, sizeof(raw));
    const char *params[] = { name, hex };
    PGresult *res = NULL;
    /*
     * Twice at most: when another connection inserts it at the same time, the
     * insert does nothing and the statement's snapshot does not see that row;
     * the next statement does.
     */
    for (int tries = 0; tries < 2; tries++) {
        PQclear(res);
        res = pg_exec(conn,
                      "WITH i AS (INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING"
                      " RETURNING value) SELECT value FROM i UNION ALL SELECT value FROM settings WHERE key = $1",
                      2, params);
        if (!pg_ok(res) || PQntuples(res) > 0)
            break;
    }
    OPENSSL_cleanse(hex, sizeof(hex));
    if (!pg_ok(res) || PQntuples(res) < 1) {
        int rc = store_fail_db(e, conn, res, "cannot read secret");
        PQclear(res);
        return rc;
    }
    const char *v = PQgetvalue(res, 0, 0);
    if (strlen(v) != 2 * len) {
        PQclear(res);
        return store_fail(e, STORE_ERR_INVALID, "stored secret %s has the wrong length", name);
    }
    for (size_t i = 0; i < len; i++)
        out[i] = (unsigned char)(hexval(v[2 * i]) << 4 | hexval(v[2 * i + 1]));
    PQclear(res);
    return STORE_OK;
}
