/*
 * history - queries reading one subscriber's deliveries, bounces, opens and
 * clicks, a keyset page at a time.
 */
#include <stdio.h>

#include "engine/store/history.h"
#include "engine/store/mta.h"
#include "engine/store/pg.h"

#define CAMPAIGN_REF "json_build_object('id', c.id, 'name', c.name, 'kind', c.kind)"

/*
 * one page: ITEMS is a query over subscriber s yielding (id, j) with ids below
 * $2 (when not 0), newest first, at most $3; the outcome is the page's JSON
 */
static int page(PGconn *conn, const struct history_page *h, const char *sql, json_t **out, struct store_err *e,
                const char *what)
{
    char before[32], limit[32];
    snprintf(before, sizeof(before), "%lld", h->before > 0 ? h->before : 0);
    snprintf(limit, sizeof(limit), "%ld", h->limit);
    const char *params[] = { h->email, before, limit };
    PGresult *res = pg_exec(conn, sql, 3, params);
    return store_json_row(conn, res, out, e, what, "no subscriber %s", h->email);
}

#define PAGE_OF(items)                                                                                    \
    "SELECT json_build_object('items', coalesce(json_agg(p.j ORDER BY p.id DESC)"                          \
    "   FILTER (WHERE p.id IS NOT NULL), '[]'),"                                                           \
    " 'next_before', CASE WHEN count(p.id) = $3::int THEN min(p.id) END)"                                  \
    " FROM subscribers s LEFT JOIN LATERAL (" items ") p ON true"                                          \
    " WHERE lower(s.email) = lower($1) GROUP BY s.id"

/* the bound on ids: below $2 unless it is 0 */
#define BELOW(col) " AND (" col " < $2::bigint OR $2::bigint = 0)"

/* store_history_deliveries - see history.h. */
int store_history_deliveries(PGconn *conn, const struct history_page *h, json_t **out, struct store_err *e)
{
    return page(conn, h,
                PAGE_OF("SELECT d.id, json_build_object('id', d.id, 'campaign', " CAMPAIGN_REF ","
                        " 'list_id', d.list_id,"
                        " 'state', CASE WHEN d.state IN ('queued', 'deferred') AND d.lease_until > now()"
                        "   THEN 'sending' ELSE d.state END,"
                        " 'attempts', d.attempts, 'relay', d.relay, 'smtp_code', d.smtp_code,"
                        " 'smtp_enhanced', d.smtp_enhanced, 'smtp_reply', d.smtp_reply, 'queue_id', d.queue_id,"
                        " 'next_attempt_at', CASE WHEN d.state IN ('queued', 'deferred') THEN d.next_attempt_at END,"
                        " 'created_at', d.created_at, 'updated_at', d.updated_at, 'sent_at', d.sent_at,"
                        " 'opens', coalesce((SELECT o.n FROM opens o WHERE o.delivery_id = d.id), 0),"
                        " 'clicks', coalesce((SELECT sum(k.n) FROM clicks k WHERE k.delivery_id = d.id), 0),"
                        " 'mta', " MTA_DELIVERY_JSON("d") ") AS j"
                        " FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id"
                        " WHERE d.subscriber_id = s.id" BELOW("d.id") " ORDER BY d.id DESC LIMIT $3::int"),
                out, e, "cannot read the subscriber's deliveries");
}

/* store_history_bounces - see history.h. */
int store_history_bounces(PGconn *conn, const struct history_page *h, json_t **out, struct store_err *e)
{
    return page(conn, h,
                PAGE_OF("SELECT b.id, json_build_object('id', b.id, 'campaign', CASE WHEN c.id IS NOT NULL THEN "
                        CAMPAIGN_REF " END, 'delivery_id', b.delivery_id, 'email', b.email, 'class', b.class,"
                        " 'source', b.source, 'status', b.status, 'diagnostic', b.diagnostic,"
                        " 'remote_mta', b.remote_mta, 'action', b.action, 'received_at', b.received_at) AS j"
                        " FROM bounces b LEFT JOIN campaigns c ON c.id = b.campaign_id"
                        " WHERE b.subscriber_id = s.id" BELOW("b.id") " ORDER BY b.id DESC LIMIT $3::int"),
                out, e, "cannot read the subscriber's bounces");
}

/* store_history_events - see history.h; an item's id is its delivery's. */
int store_history_events(PGconn *conn, const struct history_page *h, json_t **out, struct store_err *e)
{
    return page(conn, h,
                PAGE_OF("SELECT d.id, json_build_object('id', d.id, 'delivery_id', d.id,"
                        " 'campaign', " CAMPAIGN_REF ","
                        " 'open', (SELECT json_build_object('n', o.n, 'first_at', o.first_at, 'last_at', o.last_at)"
                        "   FROM opens o WHERE o.delivery_id = d.id),"
                        " 'clicks', (SELECT coalesce(json_agg(json_build_object('link_id', l.id, 'url', l.url,"
                        "   'n', k.n, 'first_at', k.first_at, 'last_at', k.last_at) ORDER BY k.first_at, l.id), '[]')"
                        "   FROM clicks k JOIN links l ON l.id = k.link_id WHERE k.delivery_id = d.id)) AS j"
                        " FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id"
                        " WHERE d.subscriber_id = s.id" BELOW("d.id")
                        " AND (EXISTS (SELECT 1 FROM opens o WHERE o.delivery_id = d.id)"
                        "   OR EXISTS (SELECT 1 FROM clicks k WHERE k.delivery_id = d.id))"
                        " ORDER BY d.id DESC LIMIT $3::int"),
                out, e, "cannot read the subscriber's opens and clicks");
}
