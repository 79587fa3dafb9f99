/*
 * sessions - the web admin's logins: add, check, end. Expired sessions are
 * removed as new ones are made, so the table holds live ones and a few.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/store/pg.h"
#include "engine/store/sessions.h"

/* store_session_add - record SESSION_HASH for USER_ID, ending in HOURS; its end (ISO 8601) in EXPIRES_AT. */
int store_session_add(PGconn *conn, long long user_id, const char *session_hash, int hours, const char *address,
                      char expires_at[64], struct store_err *e)
{
    char uid[32], h[16];
    snprintf(uid, sizeof(uid), "%lld", user_id);
    snprintf(h, sizeof(h), "%d", hours);
    const char *params[] = { uid, session_hash, h, address ? address : "" };
    PGresult *res = pg_exec(conn,
                            "WITH gone AS (DELETE FROM admin_sessions WHERE expires_at < now() - interval '1 day')"
                            " INSERT INTO admin_sessions (user_id, session_hash, expires_at, address)"
                            " VALUES ($1::bigint, $2, now() + make_interval(hours => $3::int), left($4, 64))"
                            " RETURNING to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
                            4, params);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot record the session");
    else
        snprintf(expires_at, 64, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

/*
 * store_session_auth - the user whose live session has the hash SESSION_HASH,
 * in *OUT (disabled users too: the caller decides), its end in EXPIRES_AT.
 * Marks it seen, at most once a minute. STORE_ERR_NOTFOUND when there is no
 * such session or it has expired.
 */
int store_session_auth(PGconn *conn, const char *session_hash, struct user_auth *out, char expires_at[64],
                       struct store_err *e)
{
    PGresult *res = pg_exec(conn,
                            "WITH s AS (SELECT id, user_id, expires_at FROM admin_sessions"
                            "   WHERE session_hash = $1 AND expires_at > now()),"
                            " touch AS (UPDATE admin_sessions SET last_seen_at = now() WHERE id = (SELECT id FROM s)"
                            "   AND last_seen_at < now() - interval '1 minute')"
                            " SELECT u.id, u.email, u.role, u.active,"
                            "   to_char(s.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
                            " FROM s JOIN users u ON u.id = s.user_id",
                            1, &session_hash);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot check the session");
    else if (PQntuples(res) == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no such session");
    else {
        out->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        snprintf(out->email, sizeof(out->email), "%s", PQgetvalue(res, 0, 1));
        snprintf(out->role, sizeof(out->role), "%s", PQgetvalue(res, 0, 2));
        out->active = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
        out->token_id = 0;
        if (expires_at)
            snprintf(expires_at, 64, "%s", PQgetvalue(res, 0, 4));
    }
    PQclear(res);
    return rc;
}

/* store_session_rm - end the session whose hash is SESSION_HASH (none is fine). */
int store_session_rm(PGconn *conn, const char *session_hash, struct store_err *e)
{
    PGresult *res = pg_exec(conn, "DELETE FROM admin_sessions WHERE session_hash = $1", 1, &session_hash);
    int rc = pg_ok(res) ? STORE_OK : store_fail_db(e, conn, res, "cannot end the session");
    PQclear(res);
    return rc;
}
