/*
 * deliveries - queries reading the delivery ledger of one campaign.
 */
#include <stdio.h>

#include "engine/store/deliveries.h"
#include "engine/store/mta.h"
#include "engine/store/pg.h"

/* the state as the API shows it: a leased queued or deferred row is being sent */
#define DELIVERY_STATE                                                                      \
    "CASE WHEN d.state IN ('queued', 'deferred') AND d.lease_until > now() THEN 'sending' ELSE d.state END"
#define DELIVERY_JSON                                                                       \
    "json_build_object('id', d.id, 'subscriber_id', d.subscriber_id, 'email', s.email, 'name', s.name," \
    " 'state', " DELIVERY_STATE ", 'attempts', d.attempts, 'relay', d.relay,"                 \
    " 'smtp_code', d.smtp_code, 'smtp_enhanced', d.smtp_enhanced, 'smtp_reply', d.smtp_reply," \
    " 'queue_id', d.queue_id, 'next_attempt_at', CASE WHEN d.state IN ('queued', 'deferred')"  \
    "   THEN d.next_attempt_at END, 'created_at', d.created_at, 'updated_at', d.updated_at,"    \
    " 'sent_at', d.sent_at, 'bounce_class', (SELECT b.class FROM bounces b WHERE b.delivery_id = d.id" \
    "   ORDER BY b.id DESC LIMIT 1), 'mta', " MTA_DELIVERY_JSON("d") ")"

/*
 * store_delivery_page - *OUT is {"items": [...], "next_after": id or null}:
 * at most F->limit deliveries of campaign F->campaign with ids above
 * F->after, in F->state when given; next_after is set when more may follow.
 */
int store_delivery_page(PGconn *conn, const struct delivery_filter *f, json_t **out, struct store_err *e)
{
    char after[32], limit[32];
    snprintf(after, sizeof(after), "%lld", f->after);
    snprintf(limit, sizeof(limit), "%ld", f->limit);
    const char *params[] = { f->campaign, f->state, after, limit };
    PGresult *res = pg_exec(conn,
                            "SELECT json_build_object('items', coalesce(json_agg(p.j ORDER BY p.id) FILTER (WHERE p.id IS NOT NULL), '[]'),"
                            " 'next_after', CASE WHEN count(p.id) = $4::int THEN max(p.id) END)"
                            " FROM campaigns c LEFT JOIN LATERAL (SELECT d.id, " DELIVERY_JSON " AS j"
                            "   FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id"
                            "   WHERE d.campaign_id = c.id AND d.id > $3::bigint"
                            /* the stored state as an equality where it can be (folded once $2 is known),
                               so that deliveries_campaign_state_id_idx reads the page in id order: a
                               page of a million-recipient campaign's failures reads that page only */
                            "   AND ($2::text IS NULL OR $2 = 'sending' OR d.state = $2)"
                            "   AND ($2::text IS DISTINCT FROM 'sending' OR d.state IN ('queued', 'deferred'))"
                            "   AND ($2::text IS NULL OR $2 NOT IN ('queued', 'deferred', 'sending')"
                            "     OR " DELIVERY_STATE " = $2)"
                            "   ORDER BY d.id LIMIT $4::int) p ON true"
                            " WHERE c.id = CASE WHEN $1 ~ '^[0-9]{1,18}$' THEN $1::bigint END GROUP BY c.id",
                            4, params);
    return store_json_row(conn, res, out, e, "cannot read deliveries", "no campaign %s", f->campaign);
}
