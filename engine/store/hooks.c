/*
 * hooks - the webhook messages already taken (see hooks.h).
 */
#include <stdio.h>

#include "engine/store/hooks.h"
#include "engine/store/pg.h"

static const char expire_sql[] = "DELETE FROM hook_seen WHERE expires_at < now()";

static const char seen_sql[] =
    "INSERT INTO hook_seen (provider, id, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3::int))"
    " ON CONFLICT (provider, id) DO NOTHING RETURNING 1";

/* store_hook_seen - see hooks.h. */
int store_hook_seen(PGconn *conn, const char *provider, const char *id, unsigned keep_s, bool *fresh,
                    struct store_err *e)
{
    char keep[16];
    snprintf(keep, sizeof(keep), "%u", keep_s);
    const char *params[] = { provider, id, keep };
    PGresult *res = pg_exec(conn, expire_sql, 0, NULL);
    int rc = STORE_OK;
    if (pg_ok(res)) {
        PQclear(res);
        res = pg_exec(conn, seen_sql, 3, params);
    }
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot record the webhook message");
    else
        *fresh = PQntuples(res) == 1;
    PQclear(res);
    return rc;
}
