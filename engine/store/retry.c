/*
 * retry - a campaign's failed deliveries sent again (see retry.h).
 */
#include <stdio.h>
#include <string.h>

#include "engine/mail/classify.h"
#include "engine/store/ledger.h"
#include "engine/store/pg.h"
#include "engine/store/retry.h"
#include "engine/util/buf.h"

/*
 * One statement, so it lands whole or not at all: the campaign's row is
 * locked first (a sender finishing it, or another retry, waits), its failed
 * deliveries are read with their class and why they may not be retried, the
 * safe ones go back to queued (only while still failed), and the counters and
 * status follow. $1 the campaign, $2 the classes, $3 dry run.
 */
static const char retry_sql[] =
    "WITH c AS (SELECT id, CASE WHEN archived_at IS NULL THEN status ELSE 'archived' END AS status, kind"
    "  FROM campaigns WHERE id = $1::bigint FOR UPDATE),"
    " f AS (SELECT d.id, coalesce(b.class, 'unknown') AS class,"
    "    (d.smtp_code BETWEEN 200 AND 299 OR d.sent_at IS NOT NULL OR d.queue_id IS NOT NULL) AS accepted,"
    "    " LEDGER_GONE_SQL("s", "d.subscriber_id", "d.campaign_id") " AS suppressed"
    "  FROM c JOIN deliveries d ON d.campaign_id = c.id AND d.state = 'failed'"
    "  JOIN subscribers s ON s.id = d.subscriber_id"
    "  LEFT JOIN LATERAL (SELECT b.class FROM bounces b WHERE b.delivery_id = d.id ORDER BY b.id DESC LIMIT 1) b"
    "    ON true"
    "  WHERE c.kind = 'campaign' AND c.status IN ('running', 'paused', 'finished')),"
    " ok AS (SELECT id FROM f WHERE NOT accepted AND NOT suppressed AND class = ANY ($2::text[])),"
    " r AS (UPDATE deliveries d SET state = 'queued', next_attempt_at = now(), requeued_at = now(),"
    "    lease_owner = NULL, lease_until = NULL, updated_at = now()"
    "  FROM ok WHERE d.id = ok.id AND d.state = 'failed' AND NOT $3::boolean RETURNING d.id),"
    " n AS (SELECT count(*) AS n FROM r),"
    " u AS (UPDATE campaigns cp SET n_failed = cp.n_failed - n.n, n_queued = cp.n_queued + n.n,"
    "    status = CASE WHEN cp.status = 'finished' THEN 'running' ELSE cp.status END,"
    "    finished_at = CASE WHEN cp.status = 'finished' THEN NULL ELSE cp.finished_at END, updated_at = now()"
    "  FROM n WHERE cp.id = $1::bigint AND n.n > 0 RETURNING cp.status)"
    " SELECT c.status, c.kind, json_build_object('campaign', c.id,"
    "   'status', coalesce((SELECT status FROM u), c.status), 'dry_run', $3::boolean,"
    "   'requeued', (SELECT n FROM n), 'retryable', (SELECT count(*) FROM ok), 'failed', (SELECT count(*) FROM f),"
    "   'by_class', (SELECT coalesce(json_object_agg(x.class, x.n), '{}')"
    "     FROM (SELECT class, count(*) n FROM f GROUP BY class ORDER BY class) x),"
    "   'not_retried', (SELECT json_build_object('accepted', count(*) FILTER (WHERE accepted),"
    "     'suppressed', count(*) FILTER (WHERE NOT accepted AND suppressed),"
    "     'class', count(*) FILTER (WHERE NOT accepted AND NOT suppressed AND NOT class = ANY ($2::text[])))"
    "     FROM f),"
    "   'classes', to_json($2::text[]))"
    " FROM c";

static const char *const default_classes[] = { "soft", "policy", "unknown" };

/* CLASSES as a text[] literal into B; STORE_ERR_INVALID (field "classes") for one that is no failure's class */
static int classes_param(const char *const *classes, size_t n, struct buf *b, struct store_err *e)
{
    if (n == 0) {
        classes = default_classes;
        n = sizeof(default_classes) / sizeof(default_classes[0]);
    }
    if (n > RETRY_CLASSES_MAX)
        return store_fail_field(e, "classes", "at most %d classes to retry", RETRY_CLASSES_MAX);
    buf_appendc(b, '{');
    for (size_t i = 0; i < n; i++) {
        enum bounce_class cls = bounce_class_parse(classes[i]);
        if (cls == BOUNCE_NONE || cls == BOUNCE_COMPLAINT)
            return store_fail_field(e, "classes", "a class to retry is hard, soft, policy or unknown, not \"%.40s\"",
                                    classes[i]);
        buf_appendf(b, "%s%s", i ? "," : "", bounce_class_name(cls));
    }
    buf_appendc(b, '}');
    return STORE_OK;
}

/* store_campaign_retry - see retry.h. */
int store_campaign_retry(PGconn *conn, const char *id, const char *const *classes, size_t nclasses, bool dry_run,
                         json_t **out, struct store_err *e)
{
    size_t n = strlen(id);
    if (n == 0 || n > 18 || strspn(id, "0123456789") != n)
        return store_fail(e, STORE_ERR_NOTFOUND, "no campaign \"%s\" (campaigns are named by number)", id);
    struct buf arr = BUF_INIT;
    int rc = classes_param(classes, nclasses, &arr, e);
    if (rc < 0) {
        buf_free(&arr);
        return rc;
    }
    const char *params[] = { id, buf_cstr(&arr), dry_run ? "t" : "f" };
    PGresult *res = pg_exec(conn, retry_sql, 3, params);
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot retry the campaign's failed deliveries");
    else if (PQntuples(res) == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no campaign %s", id);
    else if (strcmp(PQgetvalue(res, 0, 1), "campaign") != 0)
        rc = store_fail(e, STORE_ERR_INVALID, "campaign %s is transactional: its failed messages are not sent again",
                        id);
    else if (strcmp(PQgetvalue(res, 0, 0), "running") && strcmp(PQgetvalue(res, 0, 0), "paused") &&
             strcmp(PQgetvalue(res, 0, 0), "finished"))
        rc = store_fail(e, STORE_ERR_INVALID, "cannot retry campaign %s: it is %s", id, PQgetvalue(res, 0, 0));
    else
        *out = store_json(res, 0, 2);
    PQclear(res);
    buf_free(&arr);
    return rc;
}
