/*
 * webhooks - queries for webhook endpoints, their outbox and their log.
 * Only store_webhook_secret reads the secret column.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/store/pg.h"
#include "engine/store/webhooks.h"

#define WEBHOOK_PUBLIC_JSON                                                                                    \
    "json_build_object('id', w.id, 'url', w.url, 'events', to_json(w.events), 'description', w.description,"  \
    " 'enabled', w.enabled, 'state', CASE WHEN w.enabled THEN 'enabled' ELSE 'disabled' END,"                 \
    " 'disabled_reason', w.disabled_reason, 'disabled_at', w.disabled_at, 'failures', w.failures,"            \
    " 'failing_since', w.failing_since, 'last_success_at', w.last_success_at, 'last_error', w.last_error,"    \
    " 'queued', (SELECT count(*) FROM webhook_events q WHERE q.endpoint_id = w.id AND q.state = 'queued'),"   \
    " 'dead', (SELECT count(*) FROM webhook_events q WHERE q.endpoint_id = w.id AND q.state = 'dead'),"       \
    " 'created_at', w.created_at, 'updated_at', w.updated_at)"

/* run SQL (one row of JSON, or none) and the trigger sync in one transaction */
static int with_sync(PGconn *conn, const char *sql, int n, const char *const *params, json_t **out,
                     struct store_err *e, long long id, const char *what)
{
    if (pg_begin(conn) < 0)
        return store_fail_db(e, conn, NULL, what);
    PGresult *res = pg_exec(conn, sql, n, params);
    int rc;
    if (!pg_ok(res)) {
        rc = store_fail_db(e, conn, res, what);
    } else if (PQntuples(res) == 0) {
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no webhook %lld", id);
    } else {
        rc = STORE_OK;
        if (out)
            *out = store_json(res, 0, 0);
    }
    PQclear(res);
    if (rc == STORE_OK) {
        res = pg_exec(conn, "SELECT webhook_triggers_sync()", 0, NULL);
        if (!pg_ok(res))
            rc = store_fail_db(e, conn, res, what);
        PQclear(res);
    }
    if (rc == STORE_OK && pg_commit(conn) < 0)
        rc = store_fail_db(e, conn, NULL, what);
    if (rc != STORE_OK) {
        pg_rollback(conn);
        if (out && *out) {
            json_decref(*out);
            *out = NULL;
        }
    }
    return rc;
}

/* store_webhook_add - register endpoint D. */
int store_webhook_add(PGconn *conn, const struct webhook_def *d, json_t **out, struct store_err *e)
{
    const char *params[] = { d->url, d->events, d->secret, d->description ? d->description : "" };
    *out = NULL;
    return with_sync(conn,
                     "WITH w AS (INSERT INTO webhook_endpoints (url, events, secret, description)"
                     " VALUES ($1, $2::text[], $3, $4) RETURNING *) SELECT " WEBHOOK_PUBLIC_JSON " FROM w",
                     4, params, out, e, 0, "cannot add webhook");
}

/* store_webhook_ls - every endpoint, oldest first. */
int store_webhook_ls(PGconn *conn, json_t **out, struct store_err *e)
{
    return store_json_all(conn, "SELECT coalesce(json_agg(" WEBHOOK_PUBLIC_JSON " ORDER BY w.id), '[]')"
                                " FROM webhook_endpoints w", out, e, "cannot list webhooks");
}

/* store_webhook_get - endpoint ID. */
int store_webhook_get(PGconn *conn, long long id, json_t **out, struct store_err *e)
{
    char ids[32];
    snprintf(ids, sizeof(ids), "%lld", id);
    const char *p[] = { ids };
    PGresult *res = pg_exec(conn, "SELECT " WEBHOOK_PUBLIC_JSON " FROM webhook_endpoints w WHERE w.id = $1::bigint",
                            1, p);
    return store_json_row(conn, res, out, e, "cannot read webhook", "no webhook %lld", id);
}

/*
 * store_webhook_update - ENABLED 1 or 0 (-1: as it is), EVENTS an array
 * literal (NULL: as they are). Enabling starts the failure count afresh.
 */
int store_webhook_update(PGconn *conn, long long id, int enabled, const char *events, json_t **out,
                         struct store_err *e)
{
    char ids[32];
    snprintf(ids, sizeof(ids), "%lld", id);
    const char *p[] = { ids, enabled < 0 ? NULL : enabled ? "t" : "f", events };
    *out = NULL;
    return with_sync(conn,
                     "WITH w AS (UPDATE webhook_endpoints w SET"
                     "  events = coalesce($3::text[], w.events),"
                     "  enabled = coalesce($2::boolean, w.enabled),"
                     "  disabled_reason = CASE WHEN $2::boolean IS NULL THEN w.disabled_reason"
                     "                         WHEN $2::boolean THEN NULL ELSE 'disabled by hand' END,"
                     "  disabled_at = CASE WHEN $2::boolean IS NULL THEN w.disabled_at"
                     "                     WHEN $2::boolean THEN NULL ELSE coalesce(w.disabled_at, now()) END,"
                     "  failures = CASE WHEN $2::boolean THEN 0 ELSE w.failures END,"
                     "  failing_since = CASE WHEN $2::boolean THEN NULL ELSE w.failing_since END,"
                     "  updated_at = now()"
                     " WHERE w.id = $1::bigint RETURNING *) SELECT " WEBHOOK_PUBLIC_JSON " FROM w",
                     3, p, out, e, id, "cannot change webhook");
}

/* store_webhook_rm - remove endpoint ID with its events and log. */
int store_webhook_rm(PGconn *conn, long long id, struct store_err *e)
{
    char ids[32];
    snprintf(ids, sizeof(ids), "%lld", id);
    const char *p[] = { ids };
    return with_sync(conn, "DELETE FROM webhook_endpoints WHERE id = $1::bigint RETURNING '{}'::text", 1, p, NULL, e,
                     id, "cannot remove webhook");
}

/* store_webhook_log - the latest attempts to endpoint ID, newest first, with each event's state. */
int store_webhook_log(PGconn *conn, long long id, int limit, long long before, json_t **out, struct store_err *e)
{
    char ids[32], lim[16], bef[32];
    snprintf(ids, sizeof(ids), "%lld", id);
    snprintf(lim, sizeof(lim), "%d", limit);
    snprintf(bef, sizeof(bef), "%lld", before);
    const char *p[] = { ids, lim, before > 0 ? bef : NULL };
    PGresult *res = pg_exec(conn,
                            "SELECT coalesce((SELECT json_agg(json_build_object('id', a.id, 'event_id', a.event_id,"
                            "  'type', a.type, 'at', a.at, 'ok', a.ok, 'status', a.status, 'latency_ms', a.latency_ms,"
                            "  'error', a.error, 'event_state', ev.state, 'event_attempts', ev.attempts,"
                            "  'next_attempt_at', CASE WHEN ev.state = 'queued' THEN ev.next_attempt_at END)"
                            "  ORDER BY a.id DESC)"
                            " FROM (SELECT * FROM webhook_attempts x WHERE x.endpoint_id = $1::bigint"
                            "       AND ($3::bigint IS NULL OR x.id < $3::bigint) ORDER BY x.id DESC LIMIT $2::int) a"
                            " LEFT JOIN webhook_events ev ON ev.id = a.event_id), '[]')"
                            " FROM webhook_endpoints w WHERE w.id = $1::bigint",
                            3, p);
    return store_json_row(conn, res, out, e, "cannot read the webhook's log", "no webhook %lld", id);
}

/*
 * store_webhook_replay - queue endpoint ID's event EVENT_ID (> 0) again, or
 * every event it was owed made at SINCE or later and before UNTIL
 * (timestamps; NULL: open). *QUEUED: how many. Each is sent as soon as its
 * turn comes, under its own webhook-id, its backoff started afresh.
 */
int store_webhook_replay(PGconn *conn, long long id, long long event_id, const char *since, const char *until,
                         long long *queued, struct store_err *e)
{
    char ids[32], ev[32];
    snprintf(ids, sizeof(ids), "%lld", id);
    snprintf(ev, sizeof(ev), "%lld", event_id);
    const char *p[] = { ids, event_id > 0 ? ev : NULL, since, until };
    PGresult *res = pg_exec(conn,
                            "WITH w AS (SELECT id FROM webhook_endpoints WHERE id = $1::bigint),"
                            " r AS (UPDATE webhook_events x SET state = 'queued', attempts = 0,"
                            "   next_attempt_at = now(), lease_pid = NULL, lease_until = NULL, done_at = NULL"
                            "  FROM w WHERE x.endpoint_id = w.id"
                            "   AND ($2::bigint IS NULL OR x.id = $2::bigint)"
                            "   AND ($3::timestamptz IS NULL OR x.created_at >= $3::timestamptz)"
                            "   AND ($4::timestamptz IS NULL OR x.created_at < $4::timestamptz)"
                            "   AND (x.state <> 'queued' OR x.lease_pid IS NULL)"
                            "  RETURNING x.id)"
                            " SELECT (SELECT count(*) FROM w), (SELECT count(*) FROM r)",
                            4, p);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot replay webhook events");
    else if (strcmp(PQgetvalue(res, 0, 0), "0") == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no webhook %lld", id);
    else if (event_id > 0 && strcmp(PQgetvalue(res, 0, 1), "0") == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "webhook %lld has no event %lld", id, event_id);
    else
        *queued = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    PQclear(res);
    return rc;
}

/* store_webhook_secret - the URL and the secret of endpoint ID, appended to URL and SECRET. */
int store_webhook_secret(PGconn *conn, long long id, struct buf *url, struct buf *secret, struct store_err *e)
{
    char ids[32];
    snprintf(ids, sizeof(ids), "%lld", id);
    const char *p[] = { ids };
    PGresult *res = pg_exec(conn, "SELECT url, secret FROM webhook_endpoints WHERE id = $1::bigint", 1, p);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot read webhook");
    else if (PQntuples(res) == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no webhook %lld", id);
    else {
        buf_appends(url, PQgetvalue(res, 0, 0));
        buf_appends(secret, PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return rc;
}

/* store_webhook_note - log an attempt of TYPE (a test) to endpoint ID: STATUS (0: no answer), ERROR (NULL: none). */
int store_webhook_note(PGconn *conn, long long id, const char *type, int status, int latency_ms, const char *error,
                       struct store_err *e)
{
    char ids[32], st[16], lat[16];
    snprintf(ids, sizeof(ids), "%lld", id);
    snprintf(st, sizeof(st), "%d", status);
    snprintf(lat, sizeof(lat), "%d", latency_ms);
    const char *p[] = { ids, type, status ? st : NULL, lat, error };
    PGresult *res = pg_exec(conn,
                            "INSERT INTO webhook_attempts (endpoint_id, event_id, type, ok, status, latency_ms, error)"
                            " VALUES ($1::bigint, 0, $2, coalesce($3::int BETWEEN 200 AND 299, false), $3::int,"
                            " $4::int, left($5, 500))",
                            5, p);
    int rc = pg_ok(res) ? STORE_OK : store_fail_db(e, conn, res, "cannot log the webhook test");
    PQclear(res);
    return rc;
}
