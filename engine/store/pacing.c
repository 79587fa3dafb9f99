/*
 * pacing - providers' pace, rate texts and warm-ups (see pacing.h).
 *
 * The JSON is built by the SQL functions of sql/036_provider_pacing.sql
 * (provider_pace_json, warmup_json, campaign_pace_json), so that every
 * front end shows the same thing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mail/warmup.h"
#include "engine/store/pacing.h"
#include "engine/store/pg.h"
#include "engine/store/providers.h"
#include "engine/util/alloc.h"

#define RATE_TEXT_JSON "json_build_object('id', t.id, 'provider', p.name, 'pattern', t.pattern)"

/* a long of ED as a parameter: NULL for PACE_KEEP */
static const char *param_of(long v, char *buf, size_t len)
{
    if (v == PACE_KEEP)
        return NULL;
    snprintf(buf, len, "%ld", v);
    return buf;
}

static int pace_check(const struct pace_edit *ed, struct store_err *e)
{
    if (ed->per_minute != PACE_KEEP && (ed->per_minute < 0 || ed->per_minute > PACE_RATE_MAX))
        return store_fail_field(e, "per_minute", "a pace per minute is 1 to %ld (0 clears it)", PACE_RATE_MAX);
    if (ed->per_hour != PACE_KEEP && (ed->per_hour < 0 || ed->per_hour > PACE_RATE_MAX))
        return store_fail_field(e, "per_hour", "a pace per hour is 1 to %ld (0 clears it)", PACE_RATE_MAX);
    if (ed->aimd_threshold != PACE_KEEP && (ed->aimd_threshold < 1 || ed->aimd_threshold > 100000))
        return store_fail_field(e, "aimd_threshold", "the deferrals that slow a provider are 1 to 100000");
    if (ed->aimd_window_s != PACE_KEEP && (ed->aimd_window_s < 10 || ed->aimd_window_s > 86400))
        return store_fail_field(e, "aimd_window_s", "the window of deferrals is 10 to 86400 seconds");
    return STORE_OK;
}

/* store_provider_pace - see pacing.h. */
int store_provider_pace(PGconn *conn, const char *ref, const struct pace_edit *ed, json_t **out, struct store_err *e)
{
    if (pace_check(ed, e) < 0)
        return e->code;
    char b1[24], b2[24], b3[24], b4[24];
    const char *params[] = { ref,
                             param_of(ed->per_minute, b1, sizeof(b1)),
                             param_of(ed->per_hour, b2, sizeof(b2)),
                             param_of(ed->aimd_threshold, b3, sizeof(b3)),
                             param_of(ed->aimd_window_s, b4, sizeof(b4)),
                             ed->reset ? "t" : "f" };
    PGresult *res = pg_exec(
        conn,
        "WITH p AS (UPDATE providers p SET"
        "  per_minute = CASE WHEN $2::int IS NULL THEN p.per_minute ELSE nullif($2::int, 0) END,"
        "  per_hour = CASE WHEN $3::int IS NULL THEN p.per_hour ELSE nullif($3::int, 0) END,"
        "  aimd_threshold = coalesce($4::int, p.aimd_threshold), aimd_window_s = coalesce($5::int, p.aimd_window_s),"
        "  updated_at = now()"
        "  WHERE p.id = (SELECT p.id FROM providers p WHERE " PROVIDER_REF_MATCH(1) " ORDER BY (p.name = $1) DESC LIMIT 1)"
        "  RETURNING p.id),"
        " r AS (UPDATE provider_pace s SET rate = NULL, ceiling = NULL, rate_at = now() FROM p"
        "  WHERE $6::bool AND s.provider_id = p.id AND s.rate IS NOT NULL RETURNING s.provider_id),"
        " d AS (DELETE FROM provider_rate_deferrals x USING p WHERE $6::bool AND x.provider_id = p.id)"
        " SELECT p.id FROM p LEFT JOIN r ON true",
        6, params);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot change the provider's pace");
    else if (PQntuples(res) == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no provider \"%s\"", ref);
    char id[16] = "";
    if (rc == STORE_OK)
        snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc < 0 ? rc : store_provider_get(conn, id, out, e);
}

/* store_rate_text_ls - see pacing.h. */
int store_rate_text_ls(PGconn *conn, json_t **out, struct store_err *e)
{
    return store_json_all(conn,
                          "SELECT coalesce(json_agg(" RATE_TEXT_JSON " ORDER BY p.name NULLS FIRST, t.pattern), '[]')"
                          " FROM provider_rate_texts t LEFT JOIN providers p ON p.id = t.provider_id",
                          out, e, "cannot list the rate texts");
}

static int rate_text_check(const char *pattern, struct store_err *e)
{
    size_t len = strlen(pattern);
    if (len < 2 || len > 200)
        return store_fail_field(e, "pattern", "a rate text is 2 to 200 bytes");
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)pattern[i] < 0x20 || pattern[i] == 0x7f)
            return store_fail_field(e, "pattern", "a rate text has no control characters");
    return STORE_OK;
}

/* store_rate_text_add - see pacing.h. */
int store_rate_text_add(PGconn *conn, const char *ref, const char *pattern, json_t **out, struct store_err *e)
{
    if (rate_text_check(pattern, e) < 0)
        return e->code;
    const char *params[] = { ref, pattern };
    PGresult *res = pg_exec(
        conn,
        "WITH p AS (SELECT p.id, p.name FROM providers p WHERE $1::text IS NOT NULL AND " PROVIDER_REF_MATCH(1)
        "  ORDER BY (p.name = $1) DESC LIMIT 1),"
        " t AS (INSERT INTO provider_rate_texts (provider_id, pattern)"
        "  SELECT (SELECT id FROM p), $2 WHERE $1::text IS NULL OR EXISTS (SELECT 1 FROM p) RETURNING *)"
        " SELECT " RATE_TEXT_JSON "::text FROM t LEFT JOIN p ON p.id = t.provider_id",
        2, params);
    if (pg_ok(res) && PQntuples(res) == 0) {
        PQclear(res);
        return store_fail(e, STORE_ERR_NOTFOUND, "no provider \"%s\"", ref);
    }
    return store_json_made(conn, res, out, e, "cannot add the rate text", "the rate text \"%s\" is there already",
                           pattern);
}

/* store_rate_text_rm - see pacing.h. */
int store_rate_text_rm(PGconn *conn, const char *ref, const char *pattern, struct store_err *e)
{
    const char *params[] = { ref, pattern };
    PGresult *res = pg_exec(conn,
                            "DELETE FROM provider_rate_texts t WHERE t.pattern = $2 AND t.provider_id IS NOT DISTINCT FROM"
                            " (SELECT p.id FROM providers p WHERE $1::text IS NOT NULL AND " PROVIDER_REF_MATCH(1)
                            "  ORDER BY (p.name = $1) DESC LIMIT 1)",
                            2, params);
    return store_deleted(conn, res, e, "rate text", pattern, "%s", "cannot remove the rate text");
}

/* store_warmup_set - see pacing.h. */
int store_warmup_set(PGconn *conn, const char *target, const char *days, const char *curve, const char *start,
                     json_t **out, bool *created, struct store_err *e)
{
    char tg[WARMUP_TARGET_MAX + 1], d0[11] = "";
    const char *why;
    if (warmup_target_check(target, tg, sizeof(tg), &why) < 0)
        return store_fail_field(e, "target", "invalid warm-up target \"%.100s\": %s", target, why);
    if ((days != NULL) == (curve != NULL))
        return store_fail_field(e, "days", "a warm-up needs its daily caps or a named curve, one of them");
    char *arr = NULL;
    if (days) {
        int caps[WARMUP_DAYS_MAX];
        size_t n;
        if (warmup_days_parse(days, caps, &n, &why) < 0)
            return store_fail_field(e, "days", "invalid warm-up days \"%.60s\": %s", days, why);
        arr = xmalloc(n * 11 + 3);
        size_t off = 0;
        arr[off++] = '{';
        for (size_t i = 0; i < n; i++)
            off += (size_t)sprintf(arr + off, "%s%d", i ? "," : "", caps[i]);
        arr[off++] = '}';
        arr[off] = 0;
    }
    if (start && store_date_of(conn, start, 0, "start", d0, e) < 0) {
        xfree(arr);
        return e->code;
    }
    const char *params[] = { tg, arr, curve, d0[0] ? d0 : NULL };
    PGresult *res = pg_exec(
        conn,
        "WITH c AS (SELECT coalesce($2::int[], (SELECT days FROM warmup_curves WHERE name = $3)) AS days),"
        " w AS (INSERT INTO warmups AS x (target, days, curve, starts_on)"
        "  SELECT $1, c.days, $3, coalesce($4::date, (now() AT TIME ZONE 'UTC')::date) FROM c WHERE c.days IS NOT NULL"
        "  ON CONFLICT (target) DO UPDATE SET days = excluded.days, curve = excluded.curve,"
        "   starts_on = coalesce($4::date, x.starts_on), updated_at = now()"
        "  RETURNING x AS row, x.xmax = 0 AS fresh),"
        /* what waited for it is looked at again by the next claim: a cap raised today lets more go today */
        " r AS (UPDATE deliveries d SET next_attempt_at = now(), held_for = NULL"
        "  WHERE d.held_for = 'warmup:' || $1 AND d.state IN ('queued', 'deferred') AND EXISTS (SELECT 1 FROM w))"
        " SELECT warmup_json(w.row)::text, w.fresh FROM w",
        4, params);
    xfree(arr);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot set the warm-up");
    else if (PQntuples(res) == 0)
        rc = store_fail_field(e, "curve", "no warm-up curve \"%.40s\" (postino warmup curves lists them)", curve);
    else {
        *out = store_json(res, 0, 0);
        *created = PQgetvalue(res, 0, 1)[0] == 't';
    }
    PQclear(res);
    return rc;
}

/* store_warmup_ls - see pacing.h. */
int store_warmup_ls(PGconn *conn, json_t **out, struct store_err *e)
{
    return store_json_all(conn, "SELECT coalesce(jsonb_agg(warmup_json(w) ORDER BY w.target), '[]') FROM warmups w",
                          out, e, "cannot list the warm-ups");
}

/* store_warmup_get - see pacing.h. */
int store_warmup_get(PGconn *conn, const char *target, json_t **out, struct store_err *e)
{
    char tg[WARMUP_TARGET_MAX + 1];
    const char *why;
    if (warmup_target_check(target, tg, sizeof(tg), &why) < 0)
        return store_fail_field(e, "target", "invalid warm-up target \"%.100s\": %s", target, why);
    const char *params[] = { tg };
    PGresult *res = pg_exec(conn, "SELECT warmup_json(w)::text FROM warmups w WHERE w.target = $1", 1, params);
    return store_json_row(conn, res, out, e, "cannot read the warm-up", "no warm-up for \"%s\"", tg);
}

/* store_warmup_rm - see pacing.h. */
int store_warmup_rm(PGconn *conn, const char *target, struct store_err *e)
{
    char tg[WARMUP_TARGET_MAX + 1];
    const char *why;
    if (warmup_target_check(target, tg, sizeof(tg), &why) < 0)
        return store_fail_field(e, "target", "invalid warm-up target \"%.100s\": %s", target, why);
    const char *params[] = { tg };
    /* what waited for it may go now */
    PGresult *res = pg_exec(conn,
                            "WITH w AS (DELETE FROM warmups WHERE target = $1 RETURNING target),"
                            " r AS (UPDATE deliveries d SET next_attempt_at = now(), held_for = NULL FROM w"
                            "  WHERE d.held_for = 'warmup:' || w.target AND d.state IN ('queued', 'deferred'))"
                            " SELECT count(*) FROM w",
                            1, params);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot remove the warm-up");
    else if (strcmp(PQgetvalue(res, 0, 0), "0") == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no warm-up for \"%s\"", tg);
    PQclear(res);
    return rc;
}

/* store_warmup_curves - see pacing.h. */
int store_warmup_curves(PGconn *conn, json_t **out, struct store_err *e)
{
    return store_json_all(conn,
                          "SELECT coalesce(json_agg(json_build_object('name', name, 'days', days) ORDER BY name), '[]')"
                          " FROM warmup_curves",
                          out, e, "cannot list the warm-up curves");
}

/* store_pace_campaign - see pacing.h. */
int store_pace_campaign(PGconn *conn, const char *id, json_t **out, struct store_err *e)
{
    const char *params[] = { id };
    PGresult *res = pg_exec(conn,
                            "SELECT campaign_pace_json(c.id)::text FROM campaigns c"
                            " WHERE c.id = CASE WHEN $1 ~ '^[0-9]{1,18}$' THEN $1::bigint END",
                            1, params);
    return store_json_row(conn, res, out, e, "cannot read the campaign's pacing", "no campaign %s", id);
}

/* store_warmup_waiting - see pacing.h. */
int store_warmup_waiting(PGconn *conn, long *waiting, char *until, size_t len, struct store_err *e)
{
    PGresult *res = pg_exec(conn,
                            "SELECT count(*), coalesce(to_char(min(d.next_attempt_at) AT TIME ZONE 'UTC',"
                            " 'YYYY-MM-DD HH24:MI:SS \"UTC\"'), '')"
                            " FROM campaigns c JOIN deliveries d ON d.campaign_id = c.id AND d.held_for LIKE 'warmup:%'"
                            "  AND d.state IN ('queued', 'deferred') AND d.next_attempt_at > now()"
                            " WHERE c.status = 'running'",
                            0, NULL);
    if (!pg_ok(res)) {
        int rc = store_fail_db(e, conn, res, "cannot count what waits for a warm-up");
        PQclear(res);
        return rc;
    }
    *waiting = atol(PQgetvalue(res, 0, 0));
    snprintf(until, len, "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    return STORE_OK;
}
