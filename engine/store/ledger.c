/*
 * ledger - claim, record, schedule, finish: the sender's statements.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/store/campaigns.h"
#include "engine/store/ledger.h"
#include "engine/util/alloc.h"

/*
 * Claim: lock due rows of running campaigns, skip those whose recipient no
 * longer counts (blocklisted, disabled, unsubscribed from every list of the
 * campaign; for a transactional campaign only blocklisted), lease the others
 * and return what rendering needs: a transactional delivery's data is merged
 * over the subscriber's attributes, its name for this message over the stored one.
 *
 * Running campaigns are walked transactional ones first, then oldest first,
 * and each one's due rows are taken in order from deliveries_due_idx until
 * the batch is full: a claim reads the rows it takes and no others, whatever
 * the backlog, and a transactional message never waits behind a newsletter.
 * (Ordered by due time across all campaigns, the planner joined every due
 * row with its subscriber and sorted them all for each batch: a third of a
 * second per thousand at 100,000 due.) The skip test is materialised once
 * per row; the locked rows are updated through their ctid (and id, in case
 * a row moved meanwhile). tests/integration/test_ledger.c holds it to this.
 * A sender claims only while it holds its advisory lock (sql/034_sender_locks.sql).
 * A delivery held back before its first attempt (a provider's pace, a
 * warm-up's cap for days) counts its age for [send] max_age from its turn
 * (requeued_at): the wait was ours, not the receiver's.
 */
const char ledger_claim_sql[] =
    "WITH lk AS MATERIALIZED (SELECT sender_lock($1) AS held),"
    " rc AS (SELECT id, kind FROM campaigns, lk WHERE lk.held AND status = 'running' ORDER BY kind = 'tx' DESC, id),"
    " c AS (SELECT x.id, x.tid, x.state, x.subscriber_id, rc.id AS campaign_id, rc.kind FROM rc CROSS JOIN LATERAL ("
    "    SELECT d.id, d.ctid AS tid, d.state, d.subscriber_id FROM deliveries d"
    "    WHERE d.campaign_id = rc.id AND d.state IN ('queued', 'deferred') AND d.next_attempt_at <= now()"
    "      AND (d.lease_until IS NULL OR d.lease_until < now())"
    "    ORDER BY d.next_attempt_at, d.id LIMIT $2::int"
    "    FOR UPDATE OF d SKIP LOCKED) x LIMIT $2::int),"
    " cs AS MATERIALIZED (SELECT c.id, c.tid, c.state, c.campaign_id, s.email, s.name, s.attribs,"
    "    CASE WHEN c.kind = 'tx' THEN s.status = 'blocklisted'"
    "    ELSE " LEDGER_GONE_SQL("s", "c.subscriber_id", "c.campaign_id") " END AS skip"
    "  FROM c JOIN subscribers s ON s.id = c.subscriber_id),"
    " h AS MATERIALIZED (SELECT * FROM pace_hold((SELECT array_agg(id ORDER BY id) FROM cs WHERE NOT skip),"
    "    (SELECT array_agg(email ORDER BY id) FROM cs WHERE NOT skip),"
    "    (SELECT array_agg(campaign_id ORDER BY id) FROM cs WHERE NOT skip))),"
    " u AS (UPDATE ONLY deliveries d SET"
    "    state = CASE WHEN c.skip THEN 'skipped' ELSE d.state END,"
    "    lease_owner = CASE WHEN c.skip OR h.id IS NOT NULL THEN NULL ELSE $1 END,"
    "    lease_until = CASE WHEN c.skip OR h.id IS NOT NULL THEN NULL ELSE now() + make_interval(secs => $3::int) END,"
    "    next_attempt_at = coalesce(h.until_at, d.next_attempt_at), held_for = h.why,"
    "    requeued_at = CASE WHEN h.id IS NOT NULL AND d.attempts = 0 THEN h.until_at ELSE d.requeued_at END,"
    "    updated_at = now()"
    "  FROM cs c LEFT JOIN h ON h.id = c.id WHERE d.ctid = c.tid AND d.id = c.id"
    "  RETURNING d.id, d.campaign_id, d.subscriber_id, d.list_id, d.attempts, c.skip, c.state AS old_state,"
    "    c.email, c.name, c.attribs, d.data, d.to_name, d.variant, h.id IS NOT NULL AS held),"
    " k AS (UPDATE campaigns cp SET n_skipped = cp.n_skipped + x.n, n_queued = cp.n_queued - x.q,"
    "    n_deferred = cp.n_deferred - x.df"
    "  FROM (SELECT campaign_id, count(*) AS n, count(*) FILTER (WHERE old_state = 'queued') AS q,"
    "      count(*) FILTER (WHERE old_state = 'deferred') AS df FROM u WHERE skip GROUP BY campaign_id) x"
    "  WHERE cp.id = x.campaign_id)"
    " SELECT u.id, u.campaign_id, u.subscriber_id, u.email, coalesce(u.to_name, u.name),"
    "   CASE WHEN u.data IS NULL THEN u.attribs ELSE u.attribs || u.data END, u.list_id, l.name, u.attempts,"
    "   coalesce(u.variant, 0)"
    " FROM u LEFT JOIN lists l ON l.id = u.list_id"
    " WHERE NOT u.skip AND NOT u.held ORDER BY u.id";

/*
 * Record: results by primary key from arrays. A 421 from the relay feeds the
 * recipient's provider's pace (provider_rate_deferral, in provider order as
 * the claims lock providers). A deferral older than the
 * maximum age ($11 seconds since the delivery was queued, or queued again by
 * a retry) fails instead. A failure adds a bounce row, but for one of class
 * LEDGER_CLASS_LOCAL (the message could not be made; no relay saw it); what
 * was sent counts in the day's daily_counts. Only rows this sender ($1) still leases move.
 * $2..$10 are the batch's arrays (see ledger_batch_params).
 */
const char ledger_record_sql[] =
    "WITH r AS (SELECT * FROM unnest($2::bigint[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[],"
    "    $8::int[], $9::text[], $10::text[]) AS r(id, state, code, enhanced, reply, queue_id, delay, class, relay)),"
    " upd AS (UPDATE ONLY deliveries d SET"
    "    state = CASE WHEN r.state = 'deferred'"
    "                  AND coalesce(d.requeued_at, d.created_at) < now() - make_interval(secs => $11::int)"
    "                 THEN 'failed' ELSE r.state END,"
    "    attempts = d.attempts + 1, smtp_code = r.code, smtp_enhanced = nullif(r.enhanced, ''),"
    "    smtp_reply = r.reply, queue_id = nullif(r.queue_id, ''), relay = r.relay,"
    "    next_attempt_at = CASE WHEN r.state = 'deferred' THEN now() + make_interval(secs => r.delay)"
    "                      ELSE d.next_attempt_at END,"
    "    sent_at = CASE WHEN r.state = 'sent' THEN now() ELSE d.sent_at END,"
    "    lease_owner = NULL, lease_until = NULL, updated_at = now()"
    "  FROM r, ONLY deliveries old"
    "  WHERE d.id = r.id AND old.id = r.id AND d.lease_owner = $1 AND d.state IN ('queued', 'deferred')"
    "  RETURNING d.id, d.campaign_id, d.subscriber_id, d.state AS new_state, old.state AS old_state,"
    "    r.class, r.code, r.enhanced, r.reply, r.relay),"
    " x AS (SELECT campaign_id,"
    "    count(*) FILTER (WHERE old_state = 'queued') AS from_queued,"
    "    count(*) FILTER (WHERE old_state = 'deferred') AS from_deferred,"
    "    count(*) FILTER (WHERE new_state = 'deferred') AS to_deferred,"
    "    count(*) FILTER (WHERE new_state = 'sent') AS to_sent,"
    "    count(*) FILTER (WHERE new_state = 'failed') AS to_failed"
    "  FROM upd GROUP BY campaign_id),"
    " cnt AS (UPDATE campaigns cp SET"
    "    n_queued = cp.n_queued - x.from_queued,"
    "    n_deferred = cp.n_deferred - x.from_deferred + x.to_deferred,"
    "    n_sent = cp.n_sent + x.to_sent, n_failed = cp.n_failed + x.to_failed, updated_at = now()"
    "  FROM x WHERE cp.id = x.campaign_id),"
    " snd AS (INSERT INTO campaign_senders AS cs (campaign_id, sender, sent, deferred, failed)"
    "  SELECT x.campaign_id, $1, x.to_sent, x.to_deferred, x.to_failed FROM x"
    "  ON CONFLICT (campaign_id, sender) DO UPDATE SET sent = cs.sent + excluded.sent,"
    "    deferred = cs.deferred + excluded.deferred, failed = cs.failed + excluded.failed, last_at = now()),"
    " daily AS (INSERT INTO daily_counts AS dc (day, campaign_id, sent)"
    "  SELECT (now() AT TIME ZONE 'UTC')::date, x.campaign_id, x.to_sent FROM x WHERE x.to_sent > 0"
    "  ON CONFLICT (day, campaign_id) DO UPDATE SET sent = dc.sent + excluded.sent),"
    " b AS (INSERT INTO bounces (subscriber_id, campaign_id, delivery_id, email, class, source, status, diagnostic,"
    "    remote_mta)"
    "  SELECT upd.subscriber_id, upd.campaign_id, upd.id, s.email,"
    "    CASE WHEN upd.class IN ('hard', 'soft', 'policy') THEN upd.class ELSE 'soft' END, 'smtp',"
    "    nullif(upd.enhanced, ''), CASE WHEN upd.code > 0 THEN upd.code || ' ' ELSE '' END || upd.reply, upd.relay"
    "  FROM upd JOIN subscribers s ON s.id = upd.subscriber_id"
    "  WHERE upd.new_state = 'failed' AND upd.class <> '" LEDGER_CLASS_LOCAL "'),"
    " rt AS (SELECT provider_rate_deferral(x.pid, x.txt) AS yes FROM (SELECT provider_of(provider_domain_of(s.email)) AS pid,"
    "    upd.code || ' ' || coalesce(upd.enhanced, '') || ' ' || coalesce(upd.reply, '') AS txt"
    "  FROM upd JOIN subscribers s ON s.id = upd.subscriber_id WHERE upd.new_state = 'deferred' AND upd.code = 421"
    "  ORDER BY 1) x)"
    " SELECT count(*) FROM upd WHERE (SELECT count(*) FROM rt) >= 0";

/* $1: the first chunk's subscriber ids (campaign_start, sql/037) */
const char ledger_schedule_sql[] =
    "WITH due AS MATERIALIZED (SELECT id FROM campaigns WHERE status = 'scheduled' AND send_at <= now()"
    "  ORDER BY id FOR UPDATE SKIP LOCKED)"
    " SELECT id FROM due WHERE campaign_start(id, $1::bigint) IS NOT NULL ORDER BY id";

const char ledger_finish_sql[] =
    "UPDATE campaigns SET status = 'finished', finished_at = now(), updated_at = now()"
    " WHERE status = 'running' AND kind = 'campaign' AND n_queued = 0 AND n_deferred = 0 AND n_held = 0"
    " AND NOT audience_pending"
    " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign_id = campaigns.id"
    "   AND d.state IN ('queued', 'deferred'))"
    " RETURNING id";

const char ledger_heartbeat_sql[] = "SELECT sender_beat($1, $2, $3::int, $4)";

/* the rows found at the head of each campaign's due rows (sql/039_ledger_scale.sql), not by reading every due row */
const char ledger_renew_sql[] =
    "UPDATE deliveries SET lease_until = now() + make_interval(secs => $2::int)"
    " WHERE id IN (SELECT sender_leases($1)) AND lease_owner = $1 AND state IN ('queued', 'deferred')";

/* only by the sender that holds the name's lock (not by a second one under a name in use) */
const char ledger_release_sql[] = "SELECT sender_release($1)";

const char ledger_lock_sql[] = "SELECT sender_lock($1)";

/* a statement of its own after ledger_lock_sql: its snapshot sees every takeover done before the lock was had */
const char ledger_held_sql[] = "SELECT id FROM deliveries WHERE lease_owner = $1 AND state IN ('queued', 'deferred')"
                               " ORDER BY id";

const char ledger_budget_sql[] = "SELECT granted, wait_ms FROM relay_budget_take($1, $2::int, $3::float8, $4::bigint,"
                                 " $5::bigint)";

const char ledger_slots_sql[] = "SELECT relay_slots($1, $2, $3::int, $4::int)";

/* a transactional campaign runs for ever: it counts while it has something to send */
const char ledger_running_sql[] =
    "SELECT count(*) FROM campaigns c WHERE status = 'running' AND (kind = 'campaign' OR n_queued + n_deferred > 0)"
    " AND NOT (EXISTS (SELECT 1 FROM warmups) AND n_held = 0 AND n_queued + n_deferred > 0"
    "  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign_id = c.id AND d.state IN ('queued', 'deferred')"
    "   AND (coalesce(d.held_for, '') NOT LIKE 'warmup:%' OR d.next_attempt_at <= now())))";

/* ledger_claim_rows - RES's rows (CLAIM_* columns) into *ROWS (pointing into RES, one xfree); their count. */
int ledger_claim_rows(const PGresult *res, struct ledger_row **rows)
{
    int n = PQntuples(res);
    *rows = xcalloc(n ? (size_t)n : 1, sizeof(**rows));
    for (int i = 0; i < n; i++) {
        struct ledger_row *r = &(*rows)[i];
        r->id = strtoull(PQgetvalue(res, i, CLAIM_ID), NULL, 10);
        r->campaign_id = strtoull(PQgetvalue(res, i, CLAIM_CAMPAIGN), NULL, 10);
        r->subscriber_id = strtoull(PQgetvalue(res, i, CLAIM_SUBSCRIBER), NULL, 10);
        r->list_id = strtoull(PQgetvalue(res, i, CLAIM_LIST), NULL, 10);
        r->attempts = atoi(PQgetvalue(res, i, CLAIM_ATTEMPTS));
        r->email = PQgetvalue(res, i, CLAIM_EMAIL);
        r->name = PQgetvalue(res, i, CLAIM_NAME);
        r->attribs = PQgetvalue(res, i, CLAIM_ATTRIBS);
        r->list_name = PQgetvalue(res, i, CLAIM_LIST_NAME);
        r->variant = atoi(PQgetvalue(res, i, CLAIM_VARIANT));
    }
    return n;
}

/* A result as stored: its strings are offsets into the batch's text. */
struct ledger_slot {
    uint64_t id;
    int code;
    long delay_s;
    size_t state, enhanced, reply, queue_id, cls, relay;
};

/* ledger_batch_init - an empty batch. */
void ledger_batch_init(struct ledger_batch *b)
{
    memset(b, 0, sizeof(*b));
}

/* ledger_batch_reset - empty B, keeping its memory. */
void ledger_batch_reset(struct ledger_batch *b)
{
    b->n = 0;
    buf_reset(&b->text);
}

static size_t keep(struct ledger_batch *b, const char *s)
{
    size_t off = b->text.len;
    buf_append(&b->text, s ? s : "", strlen(s ? s : "") + 1);
    return off;
}

/* ledger_batch_add - one result, copied. */
void ledger_batch_add(struct ledger_batch *b, const struct ledger_result *r)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 256;
        b->slots = xrealloc(b->slots, b->cap * sizeof(*b->slots));
    }
    struct ledger_slot *t = &b->slots[b->n++];
    t->id = r->id;
    t->code = r->code;
    t->delay_s = r->delay_s;
    t->state = keep(b, r->state);
    t->enhanced = keep(b, r->enhanced);
    t->reply = keep(b, r->reply);
    t->queue_id = keep(b, r->queue_id);
    t->cls = keep(b, r->cls);
    t->relay = keep(b, r->relay);
}

/* ledger_batch_get - result I of B into OUT; its strings stay valid until B changes. */
void ledger_batch_get(const struct ledger_batch *b, size_t i, struct ledger_result *out)
{
    const struct ledger_slot *t = &b->slots[i];
    const char *text = b->text.data;
    *out = (struct ledger_result){
        .id = t->id, .code = t->code, .delay_s = t->delay_s,
        .state = text + t->state, .enhanced = text + t->enhanced, .reply = text + t->reply,
        .queue_id = text + t->queue_id, .cls = text + t->cls, .relay = text + t->relay,
    };
}

/* append S as a quoted array element */
static void array_text(struct buf *b, size_t i, const char *s)
{
    if (i)
        buf_appendc(b, ',');
    buf_appendc(b, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\')
            buf_appendc(b, '\\');
        buf_appendc(b, *p);
    }
    buf_appendc(b, '"');
}

/*
 * ledger_batch_params - fill PARAMS for ledger_record_sql: OWNER, the nine
 * arrays made from B's results, MAX_AGE_S. They stay valid until B changes.
 */
void ledger_batch_params(struct ledger_batch *b, const char *owner, const char *max_age_s,
                         const char *params[LEDGER_RECORD_NPARAMS])
{
    struct buf *a = b->arrays;
    for (size_t k = 0; k < 9; k++) {
        buf_reset(&a[k]);
        buf_appendc(&a[k], '{');
    }
    for (size_t i = 0; i < b->n; i++) {
        struct ledger_result r;
        const char *sep = i ? "," : "";
        ledger_batch_get(b, i, &r);
        buf_appendf(&a[0], "%s%llu", sep, (unsigned long long)r.id);
        array_text(&a[1], i, r.state);
        buf_appendf(&a[2], "%s%d", sep, r.code);
        array_text(&a[3], i, r.enhanced);
        array_text(&a[4], i, r.reply);
        array_text(&a[5], i, r.queue_id);
        buf_appendf(&a[6], "%s%ld", sep, r.delay_s);
        array_text(&a[7], i, r.cls);
        array_text(&a[8], i, r.relay);
    }
    params[0] = owner;
    for (size_t k = 0; k < 9; k++) {
        buf_appendc(&a[k], '}');
        params[1 + k] = a[k].data;
    }
    params[10] = max_age_s;
}

/* ledger_batch_free - release B's memory. */
void ledger_batch_free(struct ledger_batch *b)
{
    xfree(b->slots);
    buf_free(&b->text);
    for (size_t k = 0; k < 9; k++)
        buf_free(&b->arrays[k]);
    memset(b, 0, sizeof(*b));
}
