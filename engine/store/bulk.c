/*
 * bulk - one change to every subscriber a segment or a filter picks (see bulk.h).
 *
 * Each action is one statement over m, the subscribers picked, with w those
 * it changes; the statement runs in a transaction of its own with nested
 * loops off, as the counts of segments.c do (a filter's predicates join
 * better by hashes at this size).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/store/bulk.h"
#include "engine/store/lists.h"
#include "engine/store/pg.h"
#include "engine/store/segments.h"
#include "engine/util/buf.h"

static const char *const action_names[] = { "subscribe", "unsubscribe", "blocklist", "delete" };

/* the parameters every statement reads: $1 the list, $2 the filter's values, $3 the status, $4 dry run */
#define BULK_HEAD                                                                                       \
    "WITH p AS (SELECT $1::text AS list, $2::text[] AS vals, $3::text AS status, $4::boolean AS dry),"  \
    " l AS (SELECT l.id, l.optin FROM lists l WHERE " LIST_REF_MATCH(1) " ORDER BY (l.name = $1) DESC LIMIT 1),"

/* each action's statement after "m AS (...)," : w the rows it changes, c the changes made; SELECT follows */
static const char *const action_sql[] = {
    [BULK_SUBSCRIBE] =
        " w AS (SELECT m.id, l.id AS list_id, coalesce($3, CASE l.optin WHEN 'double' THEN 'unconfirmed'"
        "   ELSE 'confirmed' END) AS status FROM m, l WHERE m.status <> 'blocklisted'"
        "   AND NOT EXISTS (SELECT 1 FROM subscriptions x WHERE x.subscriber_id = m.id AND x.list_id = l.id)),"
        " c AS (INSERT INTO subscriptions (subscriber_id, list_id, status)"
        "   SELECT id, list_id, status FROM w WHERE NOT $4 ON CONFLICT (subscriber_id, list_id) DO NOTHING"
        "   RETURNING 1)",
    [BULK_UNSUBSCRIBE] =
        " w AS (SELECT x.subscriber_id, x.list_id FROM subscriptions x JOIN m ON m.id = x.subscriber_id"
        "   JOIN l ON l.id = x.list_id WHERE x.status <> 'unsubscribed'),"
        " c AS (UPDATE subscriptions x SET status = 'unsubscribed', updated_at = now() FROM w"
        "   WHERE NOT $4 AND x.subscriber_id = w.subscriber_id AND x.list_id = w.list_id"
        "   AND x.status <> 'unsubscribed' RETURNING 1)",
    [BULK_BLOCKLIST] =
        " w AS (SELECT m.id FROM m WHERE m.status <> 'blocklisted'),"
        " c AS (UPDATE subscribers s SET status = 'blocklisted', updated_at = now() FROM w"
        "   WHERE NOT $4 AND s.id = w.id RETURNING s.id),"
        " u AS (UPDATE subscriptions x SET status = 'unsubscribed', updated_at = now() FROM c"
        "   WHERE x.subscriber_id = c.id AND x.status <> 'unsubscribed')",
    [BULK_DELETE] =
        (" w AS (SELECT m.id FROM m),"
         " c AS (DELETE FROM subscribers s USING w WHERE NOT $4 AND s.id = w.id RETURNING 1)"),
};

/* store_bulk_action_parse - see bulk.h. */
int store_bulk_action_parse(const char *name, enum bulk_action *out, struct store_err *e)
{
    for (size_t i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++)
        if (name && strcmp(name, action_names[i]) == 0) {
            *out = (enum bulk_action)i;
            return STORE_OK;
        }
    return store_fail_field(e, "action", "the action is " BULK_ACTIONS ", not \"%.40s\"", name ? name : "");
}

/* store_bulk_action_name - see bulk.h. */
const char *store_bulk_action_name(enum bulk_action a)
{
    return action_names[a];
}

/* the rules for J before the database: a list where one is needed, one of segment and filter, the status */
static int job_check(const struct bulk_job *j, struct store_err *e)
{
    bool to_list = j->action == BULK_SUBSCRIBE || j->action == BULK_UNSUBSCRIBE;
    if (to_list && (!j->list || !*j->list))
        return store_fail_field(e, "list", "%s needs the list", action_names[j->action]);
    if (!to_list && j->list)
        return store_fail_field(e, "list", "%s takes no list (pick subscribers of a list with in_list(...) in the filter)",
                                action_names[j->action]);
    if (j->segment && j->filter)
        return store_fail_field(e, "filter", "give a segment or a filter, not both");
    if (!j->segment && !j->filter)
        return store_fail_field(e, "filter", "give a segment or a filter: which subscribers to change");
    if (j->segment && !*j->segment)
        return store_fail_field(e, "segment", "the segment must not be empty");
    if (j->status && j->action != BULK_SUBSCRIBE)
        return store_fail_field(e, "status", "a status is for subscribe only");
    if (j->status && strcmp(j->status, "confirmed") != 0 && strcmp(j->status, "unconfirmed") != 0)
        return store_fail_field(e, "status", "the status is confirmed or unconfirmed, not \"%.40s\"", j->status);
    return STORE_OK;
}

/* store_subscriber_bulk - see bulk.h. */
int store_subscriber_bulk(PGconn *conn, const struct bulk_job *j, json_t **out, struct store_err *e)
{
    char *cond = NULL, *values = NULL;
    int rc;
    if ((rc = job_check(j, e)) < 0 || (rc = store_segment_cond(conn, j->segment, j->filter, &cond, &values, e)) < 0)
        return rc;
    struct buf sql = BUF_INIT;
    buf_appendf(&sql, BULK_HEAD " m AS (SELECT s.id, s.status FROM subscribers s WHERE (%s)),", cond);
    buf_appends(&sql, action_sql[j->action]);
    buf_appends(&sql, " SELECT (SELECT count(*) FROM l), (SELECT count(*) FROM m),"
                      " CASE WHEN $4 THEN (SELECT count(*) FROM w) ELSE (SELECT count(*) FROM c) END");
    const char *params[] = { j->list, values, j->status, j->dry_run ? "t" : "f" };
    if (pg_begin(conn) < 0 || pg_command(conn, "SET LOCAL enable_nestloop = off", NULL, 0) < 0) {
        rc = store_fail_db(e, conn, NULL, "cannot change the subscribers");
        pg_rollback(conn);
        goto out;
    }
    PGresult *res = pg_exec(conn, buf_cstr(&sql), 4, params);
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot change the subscribers");
    else if (j->list && strcmp(PQgetvalue(res, 0, 0), "0") == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no list \"%s\"", j->list);
    if (rc == STORE_OK)
        *out = json_pack("{s:s,s:s?,s:I,s:I,s:b}", "action", action_names[j->action], "list", j->list, "matched",
                         (json_int_t)strtoll(PQgetvalue(res, 0, 1), NULL, 10), "changed",
                         (json_int_t)strtoll(PQgetvalue(res, 0, 2), NULL, 10), "dry_run", j->dry_run);
    PQclear(res);
    if (rc < 0 || j->dry_run)
        pg_rollback(conn);
    else if (pg_commit(conn) < 0)
        rc = store_fail_db(e, conn, NULL, "cannot change the subscribers");
out:
    buf_free(&sql);
    free(cond);
    free(values);
    return rc;
}
