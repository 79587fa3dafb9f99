/*
 * counts - the installation's totals at a glance (see counts.h).
 */
#include "engine/store/counts.h"
#include "engine/store/pg.h"

/*
 * store_counts - the totals, from one scan of the ledger (what /metrics shows):
 * {"deliveries": {state: n}, "messages": [[relay, state, n]] (relayed ones),
 *  "due": n (queued or deferred and due now), "sent_last_minute": n,
 *  "campaigns": {status: n}, "imports": {state: n}, "bounces": {class: n},
 *  "providers": [[name, delivered, bounced, expired, deferrals, complaints]]
 *  (provider_counts, sql/033: every provider, and "other" for the rest)}.
 */
int store_counts(PGconn *conn, json_t **out, struct store_err *e)
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
                            "   (SELECT class, count(*) n FROM bounces GROUP BY class) b),"
                            " 'providers', (SELECT json_agg(json_build_array(name, delivered, bounced, expired, deferrals,"
                            "   complaints) ORDER BY name = 'other', name) FROM (SELECT coalesce(p.name, 'other') name,"
                            "   sum(coalesce(c.delivered, 0))::bigint delivered, sum(coalesce(c.bounced, 0))::bigint bounced,"
                            "   sum(coalesce(c.expired, 0))::bigint expired, sum(coalesce(c.deferrals, 0))::bigint deferrals,"
                            "   sum(coalesce(c.complaints, 0))::bigint complaints FROM (SELECT id, name FROM providers"
                            "   UNION ALL SELECT 0, 'other') p0 FULL JOIN provider_counts c ON c.provider_id = p0.id"
                            "   LEFT JOIN providers p ON p.id = coalesce(p0.id, c.provider_id)"
                            "   GROUP BY 1) x),"
                            " 'pace', (SELECT json_agg(json_build_array(p.name, pace_limit(p.per_minute, s.rate),"
                            "   s.rate IS NOT NULL, (SELECT count(*) FROM provider_pace_events e WHERE e.provider_id = p.id"
                            "   AND e.kind = 'halved'), coalesce(s.handed, 0), coalesce(s.held, 0)) ORDER BY p.name)"
                            "   FROM providers p LEFT JOIN provider_pace s ON s.provider_id = p.id"
                            "   WHERE p.per_minute IS NOT NULL OR p.per_hour IS NOT NULL OR s.provider_id IS NOT NULL),"
                            " 'warmups', (SELECT json_agg(json_build_array(j->>'target', j->'cap_today', j->'sent_today',"
                            "   j->'waiting') ORDER BY j->>'target') FROM (SELECT warmup_json(w) j FROM warmups w) x))",
                            0, NULL);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot count");
    else
        *out = store_json(res, 0, 0);
    PQclear(res);
    return rc;
}
