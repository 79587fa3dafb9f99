/*
 * privacy - the queries of a subscriber's export and erasure.
 *
 * Each table holding the subscriber's data is one section: a query with $1
 * the subscriber's id and $2 its address yielding one JSON array. The export
 * runs them all in one read-only snapshot; the erasure removes the same rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/store/pg.h"
#include "engine/store/privacy.h"
#include "engine/store/settings.h"

#define ROWS(expr, from) "SELECT coalesce(json_agg(" expr "), '[]') " from

/* a webhook event about the subscriber (sql/025_webhooks.sql): of its subject, or naming its address */
#define WEBHOOK_EVENT_OF "(w.subject = 'subscriber:' || $1::bigint OR lower(w.payload->>'email') = lower($2))"

/* the lines of an import's rejects (escape-encoded bytea) that mention $2 */
#define REJECT_LINES                                                                                       \
    "(SELECT coalesce(json_agg(x.line ORDER BY x.n), '[]') FROM regexp_split_to_table("                    \
    "   encode(j.rejects, 'escape'), E'\\n') WITH ORDINALITY AS x(line, n) WHERE text_mentions(x.line, $2))"

/* everything an unmatched bounce holds that may mention an address */
#define UNMATCHED_TEXT \
    "coalesce(u.envelope_to, '') || ' ' || coalesce(u.sender, '') || ' ' || coalesce(u.subject, '') || ' '" \
    " || coalesce(u.original, '')"

static const struct privacy_section {
    const char *table;
    const char *sql;
} sections[] = {
    { "subscribers", ROWS("to_jsonb(s)", "FROM subscribers s WHERE s.id = $1::bigint") },
    { "subscriptions", ROWS("to_jsonb(sl) || jsonb_build_object('list', l.name) ORDER BY l.name",
                            "FROM subscriptions sl JOIN lists l ON l.id = sl.list_id"
                            " WHERE sl.subscriber_id = $1::bigint") },
    { "consent", ROWS("to_jsonb(c) ORDER BY c.id", "FROM consent c WHERE c.subscriber_id = $1::bigint") },
    { "deliveries", ROWS("to_jsonb(d) || jsonb_build_object('campaign', c.name) ORDER BY d.id",
                         "FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id"
                         " WHERE d.subscriber_id = $1::bigint") },
    { "delivery_mta", ROWS("to_jsonb(m) ORDER BY m.delivery_id",
                           "FROM delivery_mta m JOIN deliveries d ON d.id = m.delivery_id"
                           " WHERE d.subscriber_id = $1::bigint") },
    { "opens", ROWS("to_jsonb(o) ORDER BY o.delivery_id",
                    "FROM opens o JOIN deliveries d ON d.id = o.delivery_id WHERE d.subscriber_id = $1::bigint") },
    { "clicks", ROWS("to_jsonb(k) || jsonb_build_object('url', l.url) ORDER BY k.delivery_id, k.link_id",
                     "FROM clicks k JOIN deliveries d ON d.id = k.delivery_id JOIN links l ON l.id = k.link_id"
                     " WHERE d.subscriber_id = $1::bigint") },
    { "bounces", ROWS("to_jsonb(b) ORDER BY b.id",
                      "FROM bounces b WHERE b.subscriber_id = $1::bigint OR lower(b.email) = lower($2)") },
    { "bounces_unmatched", ROWS("to_jsonb(u) ORDER BY u.id", "FROM bounces_unmatched u WHERE text_mentions("
                                UNMATCHED_TEXT ", $2)") },
    { "import_jobs", ROWS("json_build_object('id', j.id, 'created_at', j.created_at, 'rejects', " REJECT_LINES
                          ") ORDER BY j.id",
                          "FROM import_jobs j WHERE j.rejects IS NOT NULL"
                          " AND text_mentions(encode(j.rejects, 'escape'), $2)") },
    { "webhook_events", ROWS("json_build_object('id', w.id, 'endpoint_id', w.endpoint_id, 'type', w.type,"
                             " 'created_at', w.created_at, 'state', w.state, 'payload', w.payload) ORDER BY w.id",
                             "FROM webhook_events w WHERE " WEBHOOK_EVENT_OF) },
};

/* the id and stored address of the subscriber EMAIL names (FOR UPDATE when LOCK), and why it stays suppressed */
static int subscriber_find(PGconn *conn, const char *email, bool lock, char id[32], char addr[256], char reason[16],
                           struct store_err *e)
{
    const char *params[] = { email };
    PGresult *res = pg_exec(conn,
                            lock ? "SELECT s.id, s.email, CASE WHEN s.status = 'blocklisted' THEN 'blocklisted'"
                                   " WHEN EXISTS (SELECT 1 FROM bounces b WHERE b.class = 'complaint'"
                                   "   AND (b.subscriber_id = s.id OR lower(b.email) = lower(s.email)))"
                                   "   THEN 'complained'"
                                   " WHEN EXISTS (SELECT 1 FROM subscriptions sl WHERE sl.subscriber_id = s.id)"
                                   "   AND NOT EXISTS (SELECT 1 FROM subscriptions sl WHERE sl.subscriber_id = s.id"
                                   "   AND sl.status <> 'unsubscribed') THEN 'unsubscribed' END"
                                   " FROM subscribers s WHERE lower(s.email) = lower($1) FOR UPDATE"
                                 : "SELECT s.id, s.email, NULL FROM subscribers s WHERE lower(s.email) = lower($1)",
                            1, params);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot read subscriber");
    else if (PQntuples(res) == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no subscriber %s", email);
    else {
        snprintf(id, 32, "%s", PQgetvalue(res, 0, 0));
        snprintf(addr, 256, "%s", PQgetvalue(res, 0, 1));
        snprintf(reason, 16, "%s", PQgetisnull(res, 0, 2) ? "" : PQgetvalue(res, 0, 2));
    }
    PQclear(res);
    return rc;
}

/* store_subscriber_export - see privacy.h: {"email", "exported_at", "tables": {table: [rows]}}. */
int store_subscriber_export(PGconn *conn, const char *email, json_t **out, struct store_err *e)
{
    char id[32], addr[256], reason[16];
    if (pg_command(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL, 0) < 0)
        return store_fail_db(e, conn, NULL, "cannot export subscriber");
    int rc = subscriber_find(conn, email, false, id, addr, reason, e);
    json_t *tables = json_object();
    const char *params[] = { id, addr };
    for (size_t i = 0; rc == STORE_OK && i < sizeof(sections) / sizeof(sections[0]); i++) {
        char sql[2048];   /* both parameters typed, whichever the section uses */
        snprintf(sql, sizeof(sql), "SELECT (%s) FROM (SELECT $1::bigint, $2::text) AS p", sections[i].sql);
        PGresult *res = pg_exec(conn, sql, 2, params);
        if (!pg_ok(res) || PQntuples(res) != 1)
            rc = store_fail_db(e, conn, res, "cannot export subscriber");
        else
            json_object_set_new(tables, sections[i].table, store_json(res, 0, 0));
        PQclear(res);
    }
    pg_rollback(conn);
    if (rc < 0) {
        json_decref(tables);
        return rc;
    }
    PGresult *res = pg_exec(conn, "SELECT to_json(now())::text", 0, NULL);
    *out = json_pack("{s:s, s:o, s:o}", "email", addr, "exported_at",
                     pg_ok(res) ? store_json(res, 0, 0) : json_null(), "tables", tables);
    PQclear(res);
    return STORE_OK;
}

/* run one statement of the erasure with PARAMS; its row count under KEY of REMOVED */
static int erase_step(PGconn *conn, const char *key, const char *sql, const char *const *params, json_t *removed,
                      struct store_err *e)
{
    PGresult *res = pg_exec(conn, sql, 2, params);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot erase subscriber");
    else if (key)
        json_object_set_new(removed, key, json_integer(atoll(PQcmdTuples(res))));
    PQclear(res);
    return rc;
}

/* the rows deleted with the subscriber by its foreign keys, counted before */
static int erase_count_cascade(PGconn *conn, const char *const *params, json_t *removed, struct store_err *e)
{
    PGresult *res = pg_exec(conn,
                            "SELECT (SELECT count(*) FROM subscriptions WHERE subscriber_id = $1::bigint),"
                            " (SELECT count(*) FROM consent WHERE subscriber_id = $1::bigint),"
                            " (SELECT count(*) FROM deliveries WHERE subscriber_id = $1::bigint),"
                            " (SELECT count(*) FROM opens o JOIN deliveries d ON d.id = o.delivery_id"
                            "   WHERE d.subscriber_id = $1::bigint),"
                            " (SELECT count(*) FROM clicks k JOIN deliveries d ON d.id = k.delivery_id"
                            "   WHERE d.subscriber_id = $1::bigint), $2::text",
                            2, params);
    static const char *const keys[] = { "subscriptions", "consent", "deliveries", "opens", "clicks" };
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot erase subscriber");
    else
        for (int i = 0; i < 5; i++)
            json_object_set_new(removed, keys[i], json_integer(atoll(PQgetvalue(res, 0, i))));
    PQclear(res);
    return rc;
}

/*
 * A delivery still waiting (queued, deferred, or held by an A/B test) goes
 * with the subscriber and will never be sent: its campaign counts it as
 * cancelled, or would wait for it for ever. Its rows are locked first, so a
 * sender recording one of them now either comes before (and the count sees
 * its new state) or finds it gone. Counts of what was done stay as they were.
 */
#define ERASE_LOCK_DELIVERIES \
    "SELECT 1 FROM deliveries WHERE subscriber_id = $1::bigint AND $2::text IS NOT NULL FOR UPDATE"
#define ERASE_CANCEL_WAITING \
    "UPDATE campaigns c SET n_queued = c.n_queued - w.queued, n_deferred = c.n_deferred - w.deferred," \
    "  n_held = c.n_held - w.held, n_cancelled = c.n_cancelled + w.queued + w.deferred + w.held, updated_at = now()" \
    " FROM (SELECT campaign_id, count(*) FILTER (WHERE state = 'queued') AS queued," \
    "   count(*) FILTER (WHERE state = 'deferred') AS deferred, count(*) FILTER (WHERE state = 'held') AS held" \
    "   FROM deliveries WHERE subscriber_id = $1::bigint AND $2::text IS NOT NULL" \
    "   AND state IN ('queued', 'deferred', 'held') GROUP BY campaign_id) w" \
    " WHERE c.id = w.campaign_id"

/* the erasure's statements after the lookup, in its transaction */
static int erase_rows(PGconn *conn, const char *const *params, const char *reason, json_t *removed,
                      struct store_err *e)
{
    unsigned char salt[32];
    if (erase_step(conn, "bounces", "DELETE FROM bounces WHERE subscriber_id = $1::bigint OR lower(email) = lower($2)",
                   params, removed, e) < 0 ||
        erase_step(conn, "bounces_unmatched",
                   "DELETE FROM bounces_unmatched u WHERE $1::bigint IS NOT NULL AND text_mentions(" UNMATCHED_TEXT
                   ", $2)",
                   params, removed, e) < 0 ||
        erase_step(conn, "import_jobs",
                   "UPDATE import_jobs j SET rejects = decode(coalesce((SELECT string_agg(x.line, E'\\n' ORDER BY x.n)"
                   "   FROM regexp_split_to_table(encode(j.rejects, 'escape'), E'\\n') WITH ORDINALITY AS x(line, n)"
                   "   WHERE NOT text_mentions(x.line, $2)), ''), 'escape')"
                   " WHERE $1::bigint IS NOT NULL AND j.rejects IS NOT NULL"
                   " AND text_mentions(encode(j.rejects, 'escape'), $2)",
                   params, removed, e) < 0 ||
        /* events still queued are delivered (the erasure's own event after them), then pruned */
        erase_step(conn, "webhook_events",
                   "DELETE FROM webhook_events w WHERE $1::bigint IS NOT NULL AND w.state <> 'queued' AND "
                   WEBHOOK_EVENT_OF,
                   params, removed, e) < 0 ||
        erase_count_cascade(conn, params, removed, e) < 0 ||
        erase_step(conn, NULL, ERASE_LOCK_DELIVERIES, params, removed, e) < 0 ||
        erase_step(conn, NULL, ERASE_CANCEL_WAITING, params, removed, e) < 0 ||
        erase_step(conn, "subscribers", "DELETE FROM subscribers WHERE id = $1::bigint AND $2::text IS NOT NULL",
                   params, removed, e) < 0)
        return e->code;
    if (!reason[0])
        return STORE_OK;
    /* the salt is made on the first erasure that suppresses, in this transaction */
    if (store_secret(conn, "erase_salt", salt, sizeof(salt), e) < 0)
        return e->code;
    const char *p2[] = { params[1], reason };
    return erase_step(conn, NULL,
                      "INSERT INTO suppressions (hash, reason) VALUES (suppression_hash($1), $2)"
                      " ON CONFLICT (hash) DO NOTHING",
                      p2, removed, e);
}

/* store_subscriber_erase - see privacy.h. */
int store_subscriber_erase(PGconn *conn, const char *email, json_t **out, struct store_err *e)
{
    char id[32], addr[256], reason[16];
    if (pg_begin(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot erase subscriber");
    int rc = subscriber_find(conn, email, true, id, addr, reason, e);
    json_t *removed = json_object();
    const char *params[] = { id, addr };
    if (rc == STORE_OK)
        rc = erase_rows(conn, params, reason, removed, e);
    if (rc < 0) {
        pg_rollback(conn);
        json_decref(removed);
        return rc;
    }
    if (pg_commit(conn) < 0) {
        json_decref(removed);
        return store_fail_db(e, conn, NULL, "cannot erase subscriber");
    }
    *out = json_pack("{s:I, s:o, s:o}", "id", (json_int_t)atoll(id), "suppressed",
                     reason[0] ? json_string(reason) : json_null(), "removed", removed);
    return STORE_OK;
}

/* store_suppressed - *SUPPRESSED: EMAIL was erased and stays suppressed. */
int store_suppressed(PGconn *conn, const char *email, bool *suppressed, struct store_err *e)
{
    PGresult *res = pg_exec(conn, "SELECT suppressed($1)", 1, &email);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot read suppressions");
    else
        *suppressed = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return rc;
}
