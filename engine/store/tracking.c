/*
 * tracking - queries for links, opens, clicks and confirmations.
 *
 * Opens and clicks are one upsert each (the row's existence is the unique
 * count, n the total), so a burst of opens costs one statement apiece and
 * never touches the campaign row the senders update.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/store/pg.h"
#include "engine/store/tracking.h"
#include "engine/store/tx.h"
#include "engine/util/alloc.h"
#include "engine/util/log.h"

/* store_links_save - see tracking.h. */
int store_links_save(PGconn *conn, uint64_t campaign_id, char *const *urls, size_t n, uint64_t *ids,
                     struct store_err *e)
{
    char cid[24], idx[24];
    snprintf(cid, sizeof(cid), "%" PRIu64, campaign_id);
    if (n == 0)
        return STORE_OK;
    if (pg_begin(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot store the campaign's links");
    for (size_t i = 0; i < n; i++) {
        snprintf(idx, sizeof(idx), "%zu", i);
        const char *params[] = { cid, idx, urls[i] };
        /* DO UPDATE (a no-op) so that RETURNING gives the row whoever made it */
        PGresult *res = pg_exec(conn,
                                "INSERT INTO links (campaign_id, idx, url) VALUES ($1::bigint, $2::int, $3)"
                                " ON CONFLICT (campaign_id, url) DO UPDATE SET url = excluded.url RETURNING id",
                                3, params);
        if (!pg_ok(res) || PQntuples(res) != 1) {
            int rc = store_fail_db(e, conn, res, "cannot store the campaign's links");
            PQclear(res);
            pg_rollback(conn);
            return rc;
        }
        ids[i] = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
    }
    if (pg_commit(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot store the campaign's links");
    return STORE_OK;
}

/* store_track_open - see tracking.h. */
int store_track_open(PGconn *conn, uint64_t delivery_id, bool *recorded, struct store_err *e)
{
    char did[24];
    snprintf(did, sizeof(did), "%" PRIu64, delivery_id);
    const char *params[] = { did };
    PGresult *res = pg_exec(conn,
                            "INSERT INTO opens (delivery_id, campaign_id)"
                            " SELECT d.id, d.campaign_id FROM deliveries d WHERE d.id = $1::bigint"
                            " ON CONFLICT (delivery_id) DO UPDATE SET n = opens.n + 1, last_at = now()",
                            1, params);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot record an open");
    else
        *recorded = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    return rc;
}

/* store_track_click - see tracking.h. */
int store_track_click(PGconn *conn, uint64_t delivery_id, uint64_t link_id, char **url, bool *recorded,
                      struct store_err *e)
{
    char did[24], lid[24];
    snprintf(did, sizeof(did), "%" PRIu64, delivery_id);
    snprintf(lid, sizeof(lid), "%" PRIu64, link_id);
    const char *params[] = { did, lid };
    PGresult *res = pg_exec(conn,
                            "WITH l AS (SELECT id, campaign_id, url FROM links WHERE id = $2::bigint),"
                            " c AS (INSERT INTO clicks (link_id, delivery_id, campaign_id)"
                            "   SELECT l.id, d.id, d.campaign_id FROM l JOIN deliveries d"
                            "     ON d.id = $1::bigint AND d.campaign_id = l.campaign_id"
                            "   ON CONFLICT (link_id, delivery_id) DO UPDATE SET n = clicks.n + 1, last_at = now()"
                            "   RETURNING 1)"
                            /* a delivery of another campaign than the link's: no redirect at all (a gone
                               delivery still redirects: old messages' links keep working) */
                            " SELECT l.url, EXISTS (SELECT 1 FROM c) FROM l WHERE NOT EXISTS (SELECT 1 FROM deliveries d"
                            "   WHERE d.id = $1::bigint AND d.campaign_id <> l.campaign_id)",
                            2, params);
    int rc = STORE_OK;
    if (!pg_ok(res)) {
        rc = store_fail_db(e, conn, res, "cannot record a click");
    } else if (PQntuples(res) == 0) {
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no link %" PRIu64, link_id);
    } else {
        *url = xstrdup(PQgetvalue(res, 0, 0));
        *recorded = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    }
    PQclear(res);
    return rc;
}

/* store_confirm - see tracking.h. */
int store_confirm(PGconn *conn, uint64_t subscriber_id, uint64_t list_id, json_t **out, struct store_err *e)
{
    char sid[24], lid[24];
    snprintf(sid, sizeof(sid), "%" PRIu64, subscriber_id);
    snprintf(lid, sizeof(lid), "%" PRIu64, list_id);
    const char *params[] = { sid, lid };
    if (pg_begin(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot confirm");
    PGresult *res = pg_exec(conn,
                            "WITH u AS (UPDATE subscriptions sl SET status = 'confirmed', updated_at = now()"
                            "   FROM subscribers s WHERE sl.subscriber_id = $1::bigint AND sl.list_id = $2::bigint"
                            "   AND sl.status = 'unconfirmed' AND s.id = sl.subscriber_id AND s.status <> 'blocklisted'"
                            "   RETURNING 1)"
                            " SELECT json_build_object('list', l.name,"
                            "   'status', CASE WHEN EXISTS (SELECT 1 FROM u) THEN 'confirmed' ELSE sl.status END,"
                            "   'subscriber_status', s.status, 'changed', EXISTS (SELECT 1 FROM u))"
                            " FROM subscriptions sl JOIN subscribers s ON s.id = sl.subscriber_id"
                            " JOIN lists l ON l.id = sl.list_id"
                            " WHERE sl.subscriber_id = $1::bigint AND sl.list_id = $2::bigint",
                            2, params);
    int rc = store_json_row(conn, res, out, e, "cannot confirm", "no such subscription");
    /* the list's welcome message, with the confirmation or not at all */
    int queued;
    if (rc == STORE_OK && json_is_true(json_object_get(*out, "changed")) &&
        (rc = store_tx_welcome(conn, sid, list_id, &queued, e)) < 0) {
        json_decref(*out);
        *out = NULL;
    }
    if (rc < 0) {
        pg_rollback(conn);
        return rc;
    }
    if (pg_commit(conn) < 0) {
        json_decref(*out);
        *out = NULL;
        return store_fail_db(e, conn, NULL, "cannot confirm");
    }
    return STORE_OK;
}

/* store_confirm_info - see tracking.h. */
int store_confirm_info(PGconn *conn, uint64_t subscriber_id, uint64_t list_id, json_t **out, struct store_err *e)
{
    char sid[24], lid[24];
    snprintf(sid, sizeof(sid), "%" PRIu64, subscriber_id);
    snprintf(lid, sizeof(lid), "%" PRIu64, list_id);
    const char *params[] = { sid, lid };
    PGresult *res = pg_exec(conn,
                            "SELECT json_build_object('list', l.name, 'status', sl.status,"
                            "   'subscriber_status', s.status, 'changed', false)"
                            " FROM subscriptions sl JOIN subscribers s ON s.id = sl.subscriber_id"
                            " JOIN lists l ON l.id = sl.list_id"
                            " WHERE sl.subscriber_id = $1::bigint AND sl.list_id = $2::bigint",
                            2, params);
    return store_json_row(conn, res, out, e, "cannot read confirmation link", "no such subscription");
}
