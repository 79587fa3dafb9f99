/*
 * report - the dashboard's and a campaign report's queries (see report.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "engine/store/pg.h"
#include "engine/store/report.h"

/* whether ID can name a campaign (a number), else E says there is none */
static bool campaign_ref(const char *id, struct store_err *e)
{
    size_t n = strlen(id);
    if (n > 0 && n <= 18 && strspn(id, "0123456789") == n)
        return true;
    store_fail(e, STORE_ERR_NOTFOUND, "no campaign \"%s\" (campaigns are named by number)", id);
    return false;
}

#define STR_(x) #x
#define STR(x) STR_(x)

/* the send rate of campaign c over the last minute, from deliveries_sent_idx: what was sent in that minute */
#define RATE_SQL                                                                                        \
    "round((SELECT count(*) FROM deliveries d WHERE d.campaign_id = c.id AND d.state = 'sent'"          \
    " AND d.sent_at > now() - interval '60 seconds') / 60.0, 1)"

/* the campaigns in progress: running first, then paused, then scheduled by time */
static const char progress_sql[] =
    "SELECT c.id, c.name, c.status, c.send_at, c.started_at, c.from_addr, c.n_total, c.n_queued, c.n_sent,"
    "  c.n_deferred, c.n_failed, c.n_skipped, c.n_cancelled, r.rate"
    " FROM campaigns c CROSS JOIN LATERAL (SELECT CASE WHEN c.status = 'running' THEN " RATE_SQL " END AS rate) r"
    " WHERE c.kind = 'campaign' AND c.status IN ('running', 'paused', 'scheduled')"
    " ORDER BY array_position(ARRAY['running', 'paused', 'scheduled'], c.status), c.send_at, c.id"
    " LIMIT " STR(REPORT_CAMPAIGNS);

/*
 * The warnings, in the order they are shown. A relay test's outcome is not
 * stored: what there is, is what the ledger recorded of the last attempts
 * (a relay that gave no reply at all) and what the senders last said (the
 * senders table, every second, every sender on every machine: waiting on a
 * relay that fails or asks to slow down).
 */
static const char warnings_sql[] =
    " live AS (SELECT name, status, seen_at FROM senders WHERE seen_at > now() - interval '60 seconds'),"
    " busy AS (SELECT count(*) AS n FROM campaigns WHERE kind = 'campaign' AND status = 'running'"
    "   AND n_queued + n_deferred > 0),"
    /* a relay that did not answer (no reply at all: refused, unreachable, timed out) in the last ten
       minutes, as the deferred deliveries of the running campaigns (at most REPORT_CAMPAIGNS) recorded
       it: the last REPORT_DEFERRED_SAMPLE deferred of each campaign are looked at, from
       deliveries_campaign_state_id_idx, whatever their number (a relay down for long soon leaves no
       other kind) */
    " mute AS (SELECT x.relay, max(x.reply) AS reply, max(x.at) AS at FROM (SELECT id FROM campaigns"
    "     WHERE status = 'running' ORDER BY id LIMIT " STR(REPORT_CAMPAIGNS) ") c"
    "   CROSS JOIN LATERAL (SELECT d.relay, d.smtp_reply AS reply, d.updated_at AS at, d.smtp_code FROM deliveries d"
    "     WHERE d.campaign_id = c.id AND d.state = 'deferred' ORDER BY d.id DESC"
    "     LIMIT " STR(REPORT_DEFERRED_SAMPLE) ") x"
    "   WHERE x.smtp_code = 0 AND x.relay IS NOT NULL AND x.at > now() - interval '10 minutes' GROUP BY x.relay),"
    " unsigned AS (SELECT x.dom, min(x.id) AS id, min(x.name) AS name, count(*) AS n FROM (SELECT c.id, c.name,"
    "     reverse(split_part(reverse(c.from_addr), '@', 1)) AS dom FROM campaigns c"
    "     WHERE c.kind = 'campaign' AND c.status IN ('running', 'paused', 'scheduled')) x"
    "   WHERE NOT EXISTS (SELECT 1 FROM dkim_keys k WHERE k.domain = x.dom) GROUP BY x.dom),"
    " warn AS ("
    "   SELECT 1 AS o, 'no_relay' AS code,"
    "     'no relay is configured: nothing can be sent until one is added' AS message,"
    "     NULL::bigint AS campaign, NULL::text AS domain WHERE NOT EXISTS (SELECT 1 FROM relays)"
    "   UNION ALL SELECT 2, 'relay', 'relay ' || relay || ' did not answer (' || coalesce(nullif(reply, ''), 'no reply')"
    "     || '): deliveries wait to be tried again', NULL, NULL FROM mute"
    "   UNION ALL SELECT 2, 'sender', 'sender ' || name || ' is ' || status, NULL, NULL FROM live"
    "     WHERE status LIKE 'waiting:%' AND status NOT LIKE '%paces sending%'"
    "   UNION ALL SELECT 3, 'no_sender', busy.n || CASE WHEN busy.n = 1 THEN ' campaign is' ELSE ' campaigns are' END"
    "     || ' running with messages to send, and no sender has been seen for a minute'"
    "     || ' (postino send or postino serve sends them)', NULL, NULL FROM busy"
    "     WHERE busy.n > 0 AND NOT EXISTS (SELECT 1 FROM live)"
    "   UNION ALL SELECT 4, 'no_dkim', 'no DKIM key for ' || dom || ': ' || CASE WHEN n = 1"
    "     THEN 'the messages of \"' || name || '\" go out unsigned'"
    "     ELSE 'the messages of ' || n || ' campaigns in progress go out unsigned' END, id, dom FROM unsigned"
    "   UNION ALL SELECT 5, 'complaint_rate', 'complaint rate ' || round(100.0 * complaints / sent, 2) || '%'"
    "     || ' over the last " STR(REPORT_DAYS) " days (' || complaints"
    "     || CASE WHEN complaints = 1 THEN ' complaint' ELSE ' complaints' END || ' for ' || sent || ' sent):'"
    "     || ' over 0.1%, mailbox providers refuse bulk mail', NULL, NULL FROM tot"
    "     WHERE sent > 0 AND complaints > " STR(REPORT_COMPLAINT_RATE) " * sent)";

static const char dashboard_sql[] =
    "WITH today AS (SELECT (now() AT TIME ZONE 'UTC')::date AS d),"
    /* the new subscribers noted since the last read, folded into their days (and counted here, which
       reads daily_counts as it was before this statement) */
    " moved AS (DELETE FROM subscriber_adds RETURNING day, n),"
    " folded AS (INSERT INTO daily_counts AS dc (day, campaign_id, subscribers)"
    "   SELECT day, 0, sum(n) FROM moved GROUP BY day"
    "   ON CONFLICT (day, campaign_id) DO UPDATE SET subscribers = dc.subscribers + excluded.subscribers),"
    " days AS (SELECT g::date AS day FROM today,"
    "   generate_series(today.d - (" STR(REPORT_DAYS) " - 1), today.d, interval '1 day') g),"
    " dc AS (SELECT day, sum(sent) sent, sum(bounces) bounces, sum(complaints) complaints,"
    "   sum(unsubscribes) unsubscribes, sum(subscribers) subscribers FROM (SELECT day, sent, bounces, complaints,"
    "     unsubscribes, subscribers FROM daily_counts UNION ALL SELECT day, 0, 0, 0, 0, n FROM moved) x, today"
    "   WHERE day >= today.d - (" STR(REPORT_DAYS) " - 1) GROUP BY day),"
    " series AS (SELECT days.day, coalesce(dc.sent, 0)::bigint sent, coalesce(dc.bounces, 0)::bigint bounces,"
    "   coalesce(dc.complaints, 0)::bigint complaints, coalesce(dc.unsubscribes, 0)::bigint unsubscribes,"
    "   coalesce(dc.subscribers, 0)::bigint subscribers FROM days LEFT JOIN dc ON dc.day = days.day),"
    " tot AS (SELECT sum(sent)::bigint sent, sum(bounces)::bigint bounces, sum(complaints)::bigint complaints,"
    "   sum(unsubscribes)::bigint unsubscribes, sum(subscribers)::bigint subscribers FROM series),"
    "%s"
    " SELECT json_build_object("
    " 'days', (SELECT json_agg(json_build_object('day', day, 'sent', sent, 'bounces', bounces,"
    "   'complaints', complaints, 'unsubscribes', unsubscribes, 'subscribers', subscribers) ORDER BY day) FROM series),"
    " 'totals', (SELECT json_build_object('sent', sent, 'bounces', bounces, 'complaints', complaints,"
    "   'unsubscribes', unsubscribes, 'subscribers', subscribers,"
    "   'complaint_rate', CASE WHEN sent > 0 THEN round(complaints::numeric / sent, 6) END) FROM tot),"
    " 'campaigns', (SELECT coalesce(json_agg(json_build_object('id', p.id, 'name', p.name, 'status', p.status,"
    "   'send_at', p.send_at, 'started_at', p.started_at, 'from_addr', p.from_addr, 'total', p.n_total,"
    "   'queued', p.n_queued, 'sent', p.n_sent, 'deferred', p.n_deferred, 'failed', p.n_failed,"
    "   'skipped', p.n_skipped, 'cancelled', p.n_cancelled, 'rate_per_s', p.rate,"
    "   'eta_s', CASE WHEN p.rate > 0 THEN round((p.n_queued + p.n_deferred) / p.rate) END)), '[]')"
    "   FROM (%s) p),"
    " 'senders', (SELECT coalesce(json_agg(json_build_object('name', name, 'status', status, 'seen_at', seen_at)"
    "   ORDER BY name), '[]') FROM live),"
    " 'relays', (SELECT count(*) FROM relays),"
    " 'warnings', (SELECT coalesce(json_agg(json_strip_nulls(json_build_object('code', code, 'message', message,"
    "   'campaign', campaign, 'domain', domain)) ORDER BY o, message), '[]') FROM warn))";

/* store_dashboard - see report.h. */
int store_dashboard(PGconn *conn, json_t **out, struct store_err *e)
{
    char sql[sizeof(dashboard_sql) + sizeof(warnings_sql) + sizeof(progress_sql)];
    snprintf(sql, sizeof(sql), dashboard_sql, warnings_sql, progress_sql);
    PGresult *res = pg_exec(conn, sql, 0, NULL);
    int rc = STORE_OK;
    if (pg_ok(res))
        *out = store_json(res, 0, 0);
    else
        rc = store_fail_db(e, conn, res, "cannot read the dashboard");
    PQclear(res);
    return rc;
}

/*
 * A campaign's report. Every part names the campaign as the value $1 (so the
 * planner reads it through the indexes on campaign_id whatever the other
 * campaigns hold): its days (daily_counts_campaign_idx), its first opens and
 * clicks by hour (track_hours, kept by the writes: sql/019), summed into the
 * chart's buckets, UTC hours or days.
 */
static const char report_sql[] =
    "WITH c AS (SELECT id, status, started_at,"
    "   CASE WHEN started_at IS NULL OR now() - started_at <= interval '3 days' THEN 'hour' ELSE 'day' END AS bucket"
    "   FROM campaigns WHERE id = $1::bigint),"
    /* buckets as UTC wall-clock times (timestamp), so that a day is a UTC day whatever the session's zone */
    " span AS (SELECT c.bucket, ('1 ' || c.bucket)::interval AS step,"
    "   date_trunc(c.bucket, c.started_at AT TIME ZONE 'UTC') AS t0,"
    "   date_trunc(c.bucket, least(now(), c.started_at + CASE c.bucket WHEN 'hour' THEN interval '71 hours'"
    "     ELSE interval '59 days' END) AT TIME ZONE 'UTC') AS t1 FROM c WHERE c.started_at IS NOT NULL),"
    " ok AS (SELECT date_trunc(span.bucket, x.hour AT TIME ZONE 'UTC') AS t, sum(x.opens) AS opens,"
    "   sum(x.clicks) AS clicks FROM span, track_hours x WHERE x.campaign_id = $1::bigint"
    "   AND x.hour >= span.t0 AT TIME ZONE 'UTC' AND x.hour < (span.t1 + span.step) AT TIME ZONE 'UTC' GROUP BY 1),"
    " pts AS (SELECT g AT TIME ZONE 'UTC' AS at, coalesce(ok.opens, 0) AS opens, coalesce(ok.clicks, 0) AS clicks"
    "   FROM span CROSS JOIN LATERAL generate_series(span.t0, span.t1, span.step) g"
    "   LEFT JOIN ok ON ok.t = g),"
    " days AS (SELECT day, sent, bounces, complaints, unsubscribes FROM daily_counts"
    "   WHERE campaign_id = $1::bigint AND campaign_id > 0 ORDER BY day DESC LIMIT 90)"
    " SELECT json_build_object('id', c.id, 'status', c.status,"
    " 'unsubscribes', (SELECT coalesce(sum(unsubscribes), 0) FROM daily_counts"
    "   WHERE campaign_id = $1::bigint AND campaign_id > 0),"
    " 'days', (SELECT coalesce(json_agg(json_build_object('day', day, 'sent', sent, 'bounces', bounces,"
    "   'complaints', complaints, 'unsubscribes', unsubscribes) ORDER BY day), '[]') FROM days),"
    " 'timeline', json_build_object('bucket', c.bucket, 'points', (SELECT coalesce(json_agg(json_build_object("
    "   'at', at, 'opens', opens, 'clicks', clicks) ORDER BY at), '[]') FROM pts)))"
    " FROM c";

/* store_campaign_report - see report.h. */
int store_campaign_report(PGconn *conn, const char *id, json_t **out, struct store_err *e)
{
    if (!campaign_ref(id, e))
        return e->code;
    PGresult *res = pg_exec(conn, report_sql, 1, &id);
    return store_json_row(conn, res, out, e, "cannot read the campaign's report", "no campaign %s", id);
}

/*
 * A campaign's recipients by domain: every delivery of the campaign
 * (deliveries_campaign_state_id_idx) with its subscriber's address, grouped.
 * The costliest count of a report (a second or two at a million recipients),
 * so it is kept in campaign_domains (sql/019) and counted again only when
 * what is kept may be out of date: counted more than REPORT_DOMAINS_AGE
 * seconds ago while the campaign goes on, or before its last change (a
 * retry, a cancel) once it is over. The domain is what follows the last '@'
 * (reversed twice: a third cheaper than a regular expression over a million
 * addresses).
 */
static const char domains_sql[] =
    "WITH c AS (SELECT id, status FROM campaigns WHERE id = $1::bigint),"
    " dom AS (SELECT reverse(split_part(reverse(s.email), '@', 1)) AS domain, count(*) AS total,"
    "   count(*) FILTER (WHERE d.state = 'sent') AS sent, count(*) FILTER (WHERE d.state = 'queued') AS queued,"
    "   count(*) FILTER (WHERE d.state = 'deferred') AS deferred, count(*) FILTER (WHERE d.state = 'failed') AS failed,"
    "   count(*) FILTER (WHERE d.state = 'skipped') AS skipped,"
    "   count(*) FILTER (WHERE d.state = 'cancelled') AS cancelled"
    "   FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE d.campaign_id = $1::bigint GROUP BY 1),"
    " ranked AS (SELECT dom.*, row_number() OVER (ORDER BY total DESC, domain) AS rn FROM dom),"
    " counted AS (SELECT c.id, c.status, json_build_object('id', c.id, 'counted_at', statement_timestamp(),"
    " 'domains', (SELECT coalesce(json_agg(json_build_object('domain', domain, 'total', total, 'sent', sent,"
    "   'queued', queued, 'deferred', deferred, 'failed', failed, 'skipped', skipped, 'cancelled', cancelled)"
    "   ORDER BY rn), '[]') FROM ranked WHERE rn <= " STR(REPORT_DOMAINS) "),"
    " 'other_domains', (SELECT json_build_object('domains', count(*), 'total', sum(total), 'sent', sum(sent),"
    "   'queued', sum(queued), 'deferred', sum(deferred), 'failed', sum(failed), 'skipped', sum(skipped),"
    "   'cancelled', sum(cancelled)) FROM ranked WHERE rn > " STR(REPORT_DOMAINS) " HAVING count(*) > 0)) AS body"
    "   FROM c),"
    " kept AS (INSERT INTO campaign_domains (campaign_id, counted_at, status, body)"
    "   SELECT id, statement_timestamp(), status, body FROM counted"
    "   ON CONFLICT (campaign_id) DO UPDATE SET counted_at = excluded.counted_at, status = excluded.status,"
    "     body = excluded.body)"
    " SELECT body::text FROM counted";

/*
 * What is kept of campaign $1's domains, and whether it is fresh: counted
 * lately, or, once the campaign is over, counted when it was already over
 * (the status the count saw: a count made while a cancel was under way saw
 * the deliveries before it) and not changed since.
 */
static const char domains_kept_sql[] =
    "SELECT k.body::text, CASE WHEN c.status IN ('finished', 'cancelled')"
    "   THEN k.status = c.status AND k.counted_at >= c.updated_at"
    "   ELSE k.counted_at > now() - interval '" STR(REPORT_DOMAINS_AGE) " seconds' END"
    " FROM campaign_domains k JOIN campaigns c ON c.id = k.campaign_id WHERE k.campaign_id = $1::bigint";

/* one counter of a campaign's domains at a time: the others read what was kept, or wait for the count */
#define DOMAINS_LOCK(how) "SELECT " how "(7262952, ($1::bigint % 2147483647)::int)"

/* the kept domains of ID into *OUT when there are (and, with FRESH_ONLY, fresh); 1 when so, 0 when not, <0 on error */
static int domains_kept(PGconn *conn, const char *id, bool fresh_only, json_t **out, struct store_err *e)
{
    PGresult *res = pg_exec(conn, domains_kept_sql, 1, &id);
    int rc = 0;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot read the campaign's domains");
    else if (PQntuples(res) == 1 && (!fresh_only || strcmp(PQgetvalue(res, 0, 1), "t") == 0)) {
        *out = store_json(res, 0, 0);
        rc = 1;
    }
    PQclear(res);
    return rc;
}

/* store_campaign_domains - see report.h. */
int store_campaign_domains(PGconn *conn, const char *id, json_t **out, struct store_err *e)
{
    if (!campaign_ref(id, e))
        return e->code;
    int rc = domains_kept(conn, id, true, out, e);
    if (rc != 0)
        return rc > 0 ? STORE_OK : rc;
    if (pg_begin(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot read the campaign's domains");
    /* another is counting: what was kept, if anything was, rather than a wait */
    PGresult *res = pg_exec(conn, DOMAINS_LOCK("pg_try_advisory_xact_lock"), 1, &id);
    bool mine = pg_ok(res) && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    rc = pg_ok(res) ? 0 : store_fail_db(e, conn, res, "cannot read the campaign's domains");
    PQclear(res);
    if (rc == 0 && !mine) {
        rc = domains_kept(conn, id, false, out, e);
        if (rc == 0) {
            res = pg_exec(conn, DOMAINS_LOCK("pg_advisory_xact_lock"), 1, &id);
            rc = pg_ok(res) ? 0 : store_fail_db(e, conn, res, "cannot read the campaign's domains");
            PQclear(res);
        }
    }
    /* counted by the one before, while this one waited */
    if (rc == 0)
        rc = domains_kept(conn, id, true, out, e);
    if (rc == 0) {
        res = pg_exec(conn, domains_sql, 1, &id);
        rc = store_json_row(conn, res, out, e, "cannot read the campaign's domains", "no campaign %s", id);
    }
    if (rc < 0) {
        pg_rollback(conn);
        return rc;
    }
    if (pg_commit(conn) < 0) {
        json_decref(*out);
        *out = NULL;
        return store_fail_db(e, conn, NULL, "cannot keep the campaign's domains");
    }
    return STORE_OK;
}
