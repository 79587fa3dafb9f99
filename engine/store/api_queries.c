/*
 * api_queries - parameterised queries for the REST API (see api_queries.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/store/api_queries.h"
#include "engine/store/pg.h"

/* store_api_subscriber_email - EMAIL of subscriber ID; NOTFOUND when ID is no subscriber's. */
int store_api_subscriber_email(PGconn *conn, const char *id, char email[256], struct store_err *e)
{
    size_t n = strlen(id);
    if (n == 0 || n > 18 || strspn(id, "0123456789") != n)
        return store_fail(e, STORE_ERR_NOTFOUND, "no subscriber \"%s\"", id);
    PGresult *res = pg_exec(conn, "SELECT email FROM subscribers WHERE id = $1::bigint", 1, &id);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot read subscriber");
    else if (PQntuples(res) == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no subscriber %s", id);
    else
        snprintf(email, 256, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

/* store_api_unsub_info - {"email", "lists": [names], "subscribed": bool} for the pair. */
int store_api_unsub_info(PGconn *conn, uint64_t subscriber_id, uint64_t campaign_id, json_t **out,
                         struct store_err *e)
{
    char sid[24], cid[24];
    snprintf(sid, sizeof(sid), "%" PRIu64, subscriber_id);
    snprintf(cid, sizeof(cid), "%" PRIu64, campaign_id);
    const char *params[] = { sid, cid };
    PGresult *res = pg_exec(conn,
                            "SELECT json_build_object('email', s.email,"
                            " 'lists', (SELECT coalesce(json_agg(l.name ORDER BY l.name), '[]') FROM campaign_lists cl"
                            "   JOIN lists l ON l.id = cl.list_id WHERE cl.campaign_id = c.id),"
                            " 'subscribed', EXISTS (SELECT 1 FROM subscriptions sl JOIN campaign_lists cl"
                            "   ON cl.list_id = sl.list_id WHERE cl.campaign_id = c.id AND sl.subscriber_id = s.id"
                            "   AND sl.status <> 'unsubscribed'))"
                            " FROM subscribers s, campaigns c WHERE s.id = $1::bigint AND c.id = $2::bigint",
                            2, params);
    return store_json_row(conn, res, out, e, "cannot read unsubscribe link", "no such subscription");
}

/* store_api_unsubscribe - mark the subscriber unsubscribed on each list of the campaign; *CHANGED how many moved. */
int store_api_unsubscribe(PGconn *conn, uint64_t subscriber_id, uint64_t campaign_id, long *changed,
                          struct store_err *e)
{
    char sid[24], cid[24];
    snprintf(sid, sizeof(sid), "%" PRIu64, subscriber_id);
    snprintf(cid, sizeof(cid), "%" PRIu64, campaign_id);
    const char *params[] = { sid, cid };
    PGresult *res = pg_exec(conn,
                            "WITH u AS (UPDATE subscriptions SET status = 'unsubscribed', updated_at = now()"
                            "   WHERE subscriber_id = $1::bigint AND status <> 'unsubscribed'"
                            "   AND list_id IN (SELECT list_id FROM campaign_lists WHERE campaign_id = $2::bigint)"
                            "   AND EXISTS (SELECT 1 FROM campaigns WHERE id = $2::bigint) RETURNING 1)"
                            " SELECT (SELECT count(*) FROM u),"
                            "   EXISTS (SELECT 1 FROM subscribers WHERE id = $1::bigint)"
                            "   AND EXISTS (SELECT 1 FROM campaigns WHERE id = $2::bigint)",
                            2, params);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot unsubscribe");
    else if (strcmp(PQgetvalue(res, 0, 1), "t") != 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no such subscription");
    else
        *changed = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return rc;
}

/*
 * store_api_counts - what /metrics shows, from one scan of the ledger:
 * {"deliveries": {state: n}, "messages": [[relay, state, n]] (relayed ones),
 *  "due": n (queued or deferred and due now), "sent_last_minute": n,
 *  "campaigns": {status: n}, "imports": {state: n}, "bounces": {class: n}}.
 */
int store_api_counts(PGconn *conn, json_t **out, struct store_err *e)
{
    PGresult *res = pg_exec(conn,
                            "WITH d AS (SELECT relay, state, count(*) n,"
                            "    count(*) FILTER (WHERE state IN ('queued', 'deferred') AND next_attempt_at <= now()) due,"
                            "    count(*) FILTER (WHERE state = 'sent' AND updated_at > now() - interval '60 s') recent"
                            "  FROM deliveries GROUP BY relay, state)"
                            " SELECT json_build_object("
                            " 'deliveries', (SELECT coalesce(json_object_agg(state, n), '{}') FROM"
                            "   (SELECT state, sum(n)::bigint n FROM d GROUP BY state) x),"
                            " 'messages', (SELECT coalesce(json_agg(json_build_array(relay, state, n) ORDER BY relay, state),"
                            "   '[]') FROM d WHERE relay IS NOT NULL),"
                            " 'due', (SELECT coalesce(sum(due), 0)::bigint FROM d),"
                            " 'sent_last_minute', (SELECT coalesce(sum(recent), 0)::bigint FROM d),"
                            " 'campaigns', (SELECT coalesce(json_object_agg(status, n), '{}') FROM"
                            "   (SELECT status, count(*) n FROM campaigns GROUP BY status) c),"
                            " 'imports', (SELECT coalesce(json_object_agg(state, n), '{}') FROM"
                            "   (SELECT state, count(*) n FROM import_jobs GROUP BY state) i),"
                            " 'bounces', (SELECT coalesce(json_object_agg(class, n), '{}') FROM"
                            "   (SELECT class, count(*) n FROM bounces GROUP BY class) b))",
                            0, NULL);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot count");
    else
        *out = store_json(res, 0, 0);
    PQclear(res);
    return rc;
}

/* store_api_ping - 0 when the database answers a query. */
int store_api_ping(PGconn *conn, struct store_err *e)
{
    PGresult *res = pg_exec(conn, "SELECT 1", 0, NULL);
    int rc = pg_ok(res) ? STORE_OK : store_fail_db(e, conn, res, "database check failed");
    PQclear(res);
    return rc;
}

/* store_api_time_check - STORE_ERR_INVALID unless WHEN is a finite timestamptz (any data error is the input's). */
int store_api_time_check(PGconn *conn, const char *when, struct store_err *e)
{
    PGresult *res = pg_exec(conn, "SELECT isfinite($1::timestamptz)", 1, &when);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = strncmp(pg_sqlstate(res), "22", 2) == 0
                 ? store_fail(e, STORE_ERR_INVALID, "cannot understand the time \"%s\"", when)
                 : store_fail_db(e, conn, res, "cannot check a time");
    else if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
        rc = store_fail(e, STORE_ERR_INVALID, "the time \"%s\" is not a finite time", when);
    PQclear(res);
    return rc;
}
