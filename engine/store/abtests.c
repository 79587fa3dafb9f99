/*
 * abtests - an A/B test's settings, results and switch to the winner (see abtests.h).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/store/abtests.h"
#include "engine/store/pg.h"

static int is_id(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= 18 && strspn(s, "0123456789") == n;
}

static int run(PGconn *conn, const char *sql, int n, const char *const *params, struct store_err *e,
               const char *what)
{
    PGresult *res = pg_exec(conn, sql, n, params);
    int rc = pg_ok(res) ? STORE_OK : store_fail_db(e, conn, res, what);
    PQclear(res);
    return rc;
}

/* store_ab_save - see abtests.h. */
int store_ab_save(PGconn *conn, const char *id, const struct abtest *ab, struct store_err *e)
{
    const char *p1[] = { id };
    int rc;
    if ((rc = run(conn, "DELETE FROM campaign_ab WHERE campaign_id = $1::bigint", 1, p1, e,
                  "cannot save the A/B test")) < 0 ||
        (rc = run(conn, "DELETE FROM campaign_variants WHERE campaign_id = $1::bigint", 1, p1, e,
                  "cannot save the A/B test")) < 0 || !ab)
        return rc;
    char pct[16], count[24], window[24];
    snprintf(pct, sizeof(pct), "%d", ab->sample_pct);
    snprintf(count, sizeof(count), "%lld", ab->sample_count);
    snprintf(window, sizeof(window), "%ld", ab->window_s);
    const char *pa[] = { id, ab->sample_pct ? pct : NULL, ab->sample_count ? count : NULL, ab->metric, window,
                         ab->manual ? "manual" : "auto" };
    if ((rc = run(conn,
                  "INSERT INTO campaign_ab (campaign_id, sample_pct, sample_count, metric, window_s, pick)"
                  " VALUES ($1::bigint, $2::int, $3::bigint, $4, $5::int, $6)",
                  6, pa, e, "cannot save the A/B test")) < 0)
        return rc;
    for (size_t i = 0; i < ab->nvariants; i++) {
        char n[24];
        snprintf(n, sizeof(n), "%zu", i + 1);
        const char *pv[] = { id, n, ab->v[i].subject, ab->v[i].html, ab->v[i].from_name };
        if ((rc = run(conn,
                      "INSERT INTO campaign_variants (campaign_id, n, subject, html, from_name)"
                      " VALUES ($1::bigint, $2::smallint, $3, $4, $5)",
                      5, pv, e, "cannot save the A/B test's variants")) < 0)
            return rc;
    }
    return STORE_OK;
}

/* store_ab_show - see abtests.h. */
int store_ab_show(PGconn *conn, const char *id, json_t **out, struct store_err *e)
{
    if (!is_id(id))
        return store_fail(e, STORE_ERR_NOTFOUND, "no campaign \"%s\" (campaigns are named by number)", id);
    PGresult *res = pg_exec(conn,
                            "SELECT json_build_object('campaign', c.id, 'name', c.name, 'status', c.status,"
                            " 'ab', " AB_RESULTS_JSON("c.id") ") FROM campaigns c"
                            " WHERE c.id = $1::bigint AND kind = 'campaign'",
                            1, &id);
    int rc = store_json_row(conn, res, out, e, "cannot read the A/B test", "no campaign %s", id);
    if (rc == 0 && json_is_null(json_object_get(*out, "ab"))) {
        json_decref(*out);
        *out = NULL;
        return store_fail(e, STORE_ERR_NOTFOUND, "campaign %s has no A/B test", id);
    }
    return rc;
}

/* the variant with the most unique opens or clicks (METRIC) among campaign ID's NV variants; 0 or a store code */
static int best_variant(PGconn *conn, const char *id, const char *metric, int nv, int *winner, struct store_err *e)
{
    long long scores[ABTEST_VARIANTS_MAX] = { 0 };
    const char *params[] = { id, metric };
    PGresult *res = pg_exec(conn,
                            "SELECT d.variant, count(DISTINCT d.id) FROM deliveries d"
                            " WHERE d.id IN (SELECT o.delivery_id FROM opens o WHERE $2 = 'opens' AND o.campaign_id = $1::bigint"
                            "   UNION ALL SELECT k.delivery_id FROM clicks k WHERE $2 = 'clicks' AND k.campaign_id = $1::bigint)"
                            " AND d.variant IS NOT NULL GROUP BY d.variant",
                            2, params);
    if (!pg_ok(res)) {
        int rc = store_fail_db(e, conn, res, "cannot count the A/B test's results");
        PQclear(res);
        return rc;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        int v = atoi(PQgetvalue(res, i, 0));
        if (v >= 1 && v <= nv)
            scores[v - 1] = atoll(PQgetvalue(res, i, 1));
    }
    PQclear(res);
    *winner = abtest_winner(scores, (size_t)nv);
    return STORE_OK;
}

/* under the transaction's locks: may campaign ID's test be decided now, with variant *WINNER (0: the best)? */
static int pick_check(PGconn *conn, const char *id, int *winner, struct store_err *e)
{
    PGresult *res = pg_exec(conn,
                            "SELECT c.status, a.winner, a.metric, (SELECT count(*) FROM campaign_variants v"
                            "   WHERE v.campaign_id = a.campaign_id)"
                            " FROM campaigns c JOIN campaign_ab a ON a.campaign_id = c.id"
                            " WHERE c.id = $1::bigint AND c.kind = 'campaign' FOR UPDATE OF c, a",
                            1, &id);
    int rc = STORE_OK;
    if (!pg_ok(res)) {
        rc = store_fail_db(e, conn, res, "cannot read the A/B test");
    } else if (PQntuples(res) == 0) {
        rc = store_fail(e, STORE_ERR_NOTFOUND, "campaign %s has no A/B test", id);
    } else {
        const char *status = PQgetvalue(res, 0, 0);
        int nv = atoi(PQgetvalue(res, 0, 3));
        if (!PQgetisnull(res, 0, 1))
            rc = store_fail(e, STORE_ERR_CONFLICT, "campaign %s: variant %s already won its A/B test", id,
                            PQgetvalue(res, 0, 1));
        else if (strcmp(status, "running") != 0 && strcmp(status, "paused") != 0)
            rc = store_fail(e, STORE_ERR_INVALID, "campaign %s is %s: a winner is picked while it runs or is paused",
                            id, status);
        else if (*winner < 0 || *winner > nv)
            rc = store_fail_field(e, "variant", "campaign %s has variants 1 to %d, not %d", id, nv, *winner);
        else if (*winner == 0)
            rc = best_variant(conn, id, PQgetvalue(res, 0, 2), nv, winner, e);
    }
    PQclear(res);
    return rc;
}

/* store_ab_pick - see abtests.h. */
int store_ab_pick(PGconn *conn, const char *id, int winner, const char *by, json_t **out, struct store_err *e)
{
    char w[8];
    int rc;
    if (out)
        *out = NULL;
    if (!is_id(id))
        return store_fail(e, STORE_ERR_NOTFOUND, "no campaign \"%s\" (campaigns are named by number)", id);
    if (pg_begin(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot pick the A/B test's winner");
    if ((rc = pick_check(conn, id, &winner, e)) < 0)
        goto fail;
    snprintf(w, sizeof(w), "%d", winner);
    const char *params[] = { id, w, by };
    /* the switch: one statement, one transaction with the check above */
    if ((rc = run(conn,
                  "WITH h AS (UPDATE deliveries SET state = 'queued', variant = $2::smallint, next_attempt_at = now(),"
                  "   requeued_at = now(), updated_at = now()"
                  "   WHERE campaign_id = $1::bigint AND state = 'held' RETURNING 1),"
                  " n AS (SELECT count(*) AS n FROM h),"
                  " c AS (UPDATE campaigns SET n_queued = n_queued + n.n, n_held = n_held - n.n, updated_at = now()"
                  "   FROM n WHERE id = $1::bigint)"
                  " UPDATE campaign_ab SET winner = $2::smallint, decided_at = now(), decided_by = $3"
                  " WHERE campaign_id = $1::bigint",
                  3, params, e, "cannot send the winner to the rest")) < 0)
        goto fail;
    const char *hook = getenv("POSTINO_TEST_AB_SWITCH");
    if (hook && strcmp(hook, "die") == 0)
        raise(SIGKILL);
    if (pg_commit(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot send the winner to the rest");
    return out ? store_ab_show(conn, id, out, e) : STORE_OK;
fail:
    pg_rollback(conn);
    return rc;
}

/* store_ab_decide_due - see abtests.h. */
int store_ab_decide_due(PGconn *conn, size_t *n, struct store_err *e)
{
    *n = 0;
    PGresult *res = pg_exec(conn,
                            "SELECT a.campaign_id FROM campaign_ab a JOIN campaigns c ON c.id = a.campaign_id"
                            " WHERE c.status = 'running' AND a.winner IS NULL AND a.pick = 'auto'"
                            " AND a.test_size IS NOT NULL AND c.started_at + make_interval(secs => a.window_s) <= now()"
                            " ORDER BY a.campaign_id",
                            0, NULL);
    if (!pg_ok(res)) {
        int rc = store_fail_db(e, conn, res, "cannot find the A/B tests to decide");
        PQclear(res);
        return rc;
    }
    int first = STORE_OK;
    for (int i = 0; i < PQntuples(res); i++) {
        struct store_err one;
        int rc = store_ab_pick(conn, PQgetvalue(res, i, 0), 0, "auto", NULL, &one);
        if (rc == STORE_OK)
            (*n)++;
        else if (rc != STORE_ERR_CONFLICT && rc != STORE_ERR_INVALID && first == STORE_OK) {
            first = rc;
            *e = one;
        }
    }
    PQclear(res);
    return first;
}
