/*
 * campaigns - queries for campaigns.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/store/abtests.h"
#include "engine/store/campaigns.h"
#include "engine/store/segments.h"
#include "engine/store/lists.h"
#include "engine/store/pg.h"

#define CAMPAIGN_LISTS_JSON                                                                  \
    "(SELECT coalesce(json_agg(json_build_object('id', l.id, 'name', l.name, 'optin', l.optin) ORDER BY l.name), '[]')" \
    " FROM campaign_lists cl JOIN lists l ON l.id = cl.list_id WHERE cl.campaign_id = c.id)"
#define CAMPAIGN_SUMMARY_JSON                                                               \
    "json_build_object('id', c.id, 'name', c.name, 'subject', c.subject, 'status', c.status," \
    " 'from', CASE WHEN c.from_name = '' THEN c.from_addr ELSE c.from_name || ' <' || c.from_addr || '>' END," \
    " 'lists', " CAMPAIGN_LISTS_JSON ", 'send_at', c.send_at, 'created_at', c.created_at, 'format', c.body_format," \
    " 'counts', json_build_object('total', c.n_total, 'queued', c.n_queued, 'sent', c.n_sent, 'deferred', c.n_deferred," \
    "   'failed', c.n_failed, 'skipped', c.n_skipped, 'cancelled', c.n_cancelled, 'held', c.n_held),"     \
    " 'audience', " CAMPAIGN_AUDIENCE_JSON ","                                                \
    " 'ab', EXISTS (SELECT 1 FROM campaign_ab a WHERE a.campaign_id = c.id))"
#define CAMPAIGN_JSON                                                                        \
    "json_build_object('id', c.id, 'name', c.name, 'kind', c.kind, 'relay', c.relay, 'subject', c.subject," \
    " 'status', c.status," \
    " 'from_name', c.from_name, 'from_addr', c.from_addr, 'reply_to', c.reply_to,"             \
    " 'format', c.body_format, 'markdown', c.markdown,"                                       \
    " 'html', c.html, 'text', c.text_body, 'send_at', c.send_at, 'created_at', c.created_at,"  \
    " 'updated_at', c.updated_at, 'track_opens', c.track_opens, 'track_clicks', c.track_clicks,"  \
    " 'lists', " CAMPAIGN_LISTS_JSON ","                                                     \
    " 'segment', (SELECT json_build_object('id', g.id, 'name', g.name, 'filter', g.filter)"   \
    "   FROM segments g WHERE g.id = c.segment_id), 'filter', c.filter,"                       \
    " 'audience_filter', c.audience_filter, 'ab', " AB_JSON("c") ","                        \
    " 'template', (SELECT json_build_object('id', t.id, 'name', t.name, 'html', t.html,"       \
    "   'text', t.text_body) FROM templates t WHERE t.id = c.template_id))"

static int is_id(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= 18 && strspn(s, "0123456789") == n;
}

static int exec_ok(PGconn *conn, const char *sql, int n, const char *const *params, struct store_err *e,
                   const char *what);

static int add_list(PGconn *conn, const char *campaign_id, const char *ref, struct store_err *e)
{
    const char *params[] = { campaign_id, ref };
    PGresult *res = pg_exec(conn,
                            "INSERT INTO campaign_lists (campaign_id, list_id)"
                            " SELECT $1::bigint, l.id FROM lists l WHERE " LIST_REF_MATCH(2)
                            " ORDER BY (l.name = $2) DESC LIMIT 1 ON CONFLICT DO NOTHING RETURNING list_id",
                            2, params);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot add list to campaign");
    else if (PQntuples(res) == 0) {
        /* either unknown, or named twice (ON CONFLICT): tell them apart */
        PQclear(res);
        res = pg_exec(conn, "SELECT 1 FROM lists l WHERE " LIST_REF_MATCH(1), 1, params + 1);
        if (pg_ok(res) && PQntuples(res) == 0)
            rc = store_fail(e, STORE_ERR_NOTFOUND, "no list \"%s\"", ref);
    }
    PQclear(res);
    return rc;
}

/* the id of template $N, named by name or id (the name first) */
#define TEMPLATE_ID(n)                                                                                         \
    "(SELECT t.id FROM templates t WHERE t.name = $" #n " OR t.id = CASE WHEN $" #n " ~ '^[0-9]{1,18}$'"        \
    "  THEN $" #n "::bigint END ORDER BY (t.name = $" #n ") DESC LIMIT 1)"

/* does template REF exist (NULL: no template asked for)? STORE_ERR_NOTFOUND names it */
static int template_known(PGconn *conn, const char *ref, struct store_err *e)
{
    if (!ref)
        return STORE_OK;
    PGresult *t = pg_exec(conn,
                          "SELECT 1 FROM templates t WHERE t.name = $1 OR t.id = CASE WHEN $1 ~ '^[0-9]{1,18}$'"
                          " THEN $1::bigint END",
                          1, &ref);
    int found = pg_ok(t) && PQntuples(t) > 0;
    int rc = pg_ok(t) ? STORE_OK : store_fail_db(e, conn, t, "cannot read template");
    PQclear(t);
    if (rc == STORE_OK && !found)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no template \"%s\"", ref);
    return rc;
}

/*
 * audience_set - campaign ID's segment or filter as C says (neither: its
 * lists alone). A filter is compiled by the one compiler and kept with its
 * values for campaign_audience (sql/021); STORE_ERR_NOTFOUND for no such
 * segment, STORE_ERR_INVALID (field "filter") for a filter refused.
 */
static int audience_set(PGconn *conn, const char *id, const struct campaign_new *c, struct store_err *e)
{
    struct segment_sql q = { 0 };
    char *values = NULL;
    if (c->filter) {
        if (store_filter_check(c->filter, "filter", &q, e) < 0)
            return e->code;
        values = segment_params_literal(&q);
    }
    const char *params[] = { id, c->segment, c->filter, q.sql, values };
    PGresult *res = pg_exec(conn,
                            "UPDATE campaigns c SET segment_id = (SELECT g.id FROM segments g WHERE " SEGMENT_REF_MATCH(2)
                            "   ORDER BY (g.name = $2) DESC LIMIT 1),"
                            " filter = $3, filter_sql = $4, filter_params = $5::text[]"
                            " WHERE c.id = $1::bigint RETURNING ($2::text IS NULL OR c.segment_id IS NOT NULL)",
                            5, params);
    free(values);
    segment_sql_free(&q);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot set the campaign's audience");
    else if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") != 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no segment \"%s\"", c->segment);
    PQclear(res);
    return rc;
}

/* store_campaign_create - add C as a draft; *OUT is the stored campaign. */
int store_campaign_create(PGconn *conn, const struct campaign_new *c, json_t **out, struct store_err *e)
{
    char id[32];
    int rc;
    const char *params[] = { c->name, c->subject, c->from_name, c->from_addr, c->reply_to, c->html, c->text,
                             c->template_ref, c->track_opens ? "t" : "f", c->track_clicks ? "t" : "f",
                             c->markdown ? "markdown" : "html", c->markdown };
    if (c->nlists == 0)
        return store_fail(e, STORE_ERR_INVALID, "a campaign needs at least one list");
    if (pg_begin(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot create campaign");
    if ((rc = template_known(conn, c->template_ref, e)) < 0)
        goto fail;
    PGresult *res = pg_exec(conn,
                            "INSERT INTO campaigns (name, subject, from_name, from_addr, reply_to, html, text_body,"
                            " template_id, track_opens, track_clicks, body_format, markdown)"
                            " VALUES ($1, $2, $3, $4, $5, $6, $7, " TEMPLATE_ID(8) ", $9::boolean, $10::boolean, $11, $12)"
                            " RETURNING id",
                            12, params);
    if (!pg_ok(res)) {
        rc = store_fail_db(e, conn, res, "cannot create campaign");
        PQclear(res);
        goto fail;
    }
    snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    for (size_t i = 0; i < c->nlists; i++)
        if ((rc = add_list(conn, id, c->lists[i], e)) < 0)
            goto fail;
    if ((rc = audience_set(conn, id, c, e)) < 0 || (rc = store_ab_save(conn, id, c->ab, e)) < 0)
        goto fail;
    if (pg_commit(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot create campaign");
    return store_campaign_get(conn, id, out, e);
fail:
    pg_rollback(conn);
    return rc;
}

/* store_campaign_update - see campaigns.h. */
int store_campaign_update(PGconn *conn, const char *id, const struct campaign_new *c, json_t **out,
                          struct store_err *e)
{
    int rc;
    const char *params[] = { id, c->name, c->subject, c->from_name, c->from_addr, c->reply_to, c->html, c->text,
                             c->template_ref, c->track_opens ? "t" : "f", c->track_clicks ? "t" : "f",
                             c->markdown ? "markdown" : "html", c->markdown };
    if (!is_id(id))
        return store_fail(e, STORE_ERR_NOTFOUND, "no campaign \"%s\" (campaigns are named by number)", id);
    if (c->nlists == 0)
        return store_fail(e, STORE_ERR_INVALID, "a campaign needs at least one list");
    if (pg_begin(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot change campaign");
    PGresult *res = pg_exec(conn, "SELECT status, kind FROM campaigns WHERE id = $1::bigint FOR UPDATE", 1, &id);
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot read campaign");
    else if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 1), "campaign") != 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no campaign %s", id);
    else if (strcmp(PQgetvalue(res, 0, 0), "draft") != 0 && strcmp(PQgetvalue(res, 0, 0), "scheduled") != 0)
        rc = store_fail(e, STORE_ERR_INVALID, "cannot edit campaign %s: it is %s (only a draft or a scheduled one)", id,
                        PQgetvalue(res, 0, 0));
    else
        rc = template_known(conn, c->template_ref, e);
    PQclear(res);
    if (rc < 0)
        goto fail;
    if ((rc = exec_ok(conn,
                      "UPDATE campaigns SET name = $2, subject = $3, from_name = $4, from_addr = $5, reply_to = $6,"
                      " html = $7, text_body = $8, template_id = " TEMPLATE_ID(9) ", track_opens = $10::boolean,"
                      " track_clicks = $11::boolean, body_format = $12, markdown = $13, updated_at = now()"
                      " WHERE id = $1::bigint",
                      13, params, e, "cannot change campaign")) < 0 ||
        (rc = exec_ok(conn, "DELETE FROM campaign_lists WHERE campaign_id = $1::bigint", 1, params, e,
                      "cannot change campaign")) < 0)
        goto fail;
    for (size_t i = 0; i < c->nlists; i++)
        if ((rc = add_list(conn, id, c->lists[i], e)) < 0)
            goto fail;
    if ((rc = audience_set(conn, id, c, e)) < 0 || (rc = store_ab_save(conn, id, c->ab, e)) < 0)
        goto fail;
    if (pg_commit(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot change campaign");
    return store_campaign_get(conn, id, out, e);
fail:
    pg_rollback(conn);
    return rc;
}

/* store_campaign_ls - campaigns but the transactional ones, newest first, without bodies: a keyset page. */
int store_campaign_ls(PGconn *conn, long long after, long limit, json_t **out, struct store_err *e)
{
    char a[24], l[24];
    snprintf(a, sizeof(a), "%lld", after);
    snprintf(l, sizeof(l), "%ld", limit);
    const char *params[] = { a, limit > 0 ? l : NULL };
    PGresult *res = pg_exec(conn,
                            "SELECT coalesce(json_agg(" CAMPAIGN_SUMMARY_JSON " ORDER BY c.id DESC), '[]') FROM"
                            " (SELECT * FROM campaigns WHERE kind = 'campaign' AND ($1::bigint = 0 OR id < $1::bigint)"
                            "  ORDER BY id DESC LIMIT $2::bigint) c",
                            2, params);
    int rc = STORE_OK;
    if (pg_ok(res))
        *out = store_json(res, 0, 0);
    else
        rc = store_fail_db(e, conn, res, "cannot list campaigns");
    PQclear(res);
    return rc;
}

/* store_campaign_get - campaign ID in full; STORE_ERR_NOTFOUND when none. */
int store_campaign_get(PGconn *conn, const char *id, json_t **out, struct store_err *e)
{
    if (!is_id(id))
        return store_fail(e, STORE_ERR_NOTFOUND, "no campaign \"%s\" (campaigns are named by number)", id);
    PGresult *res = pg_exec(conn, "SELECT " CAMPAIGN_JSON " FROM campaigns c WHERE c.id = $1::bigint", 1, &id);
    return store_json_row(conn, res, out, e, "cannot read campaign", "no campaign %s", id);
}

/*
 * The start: campaign_start (sql/037) fixes the audience, marks the campaign
 * running and makes its first chunk of $2 subscriber ids (0: the whole
 * audience, as an A/B test's always is); the other chunks are made by
 * store_campaign_audience_step, one transaction each.
 */
const char store_campaign_start_sql[] = "SELECT campaign_start($1::bigint, $2::bigint)";

/* Legal moves: for each action, the states it may start from and the state it leads to. */
static const struct {
    enum campaign_action action;
    const char *name;
    const char *from[5];
} moves[] = {
    { CAMPAIGN_SCHEDULE, "schedule", { "draft", "scheduled", NULL } },
    { CAMPAIGN_SEND, "send", { "draft", "scheduled", NULL } },
    { CAMPAIGN_PAUSE, "pause", { "scheduled", "running", NULL } },
    { CAMPAIGN_RESUME, "resume", { "paused", NULL } },
    { CAMPAIGN_CANCEL, "cancel", { "draft", "scheduled", "running", "paused", NULL } },
};

static int move_allowed(enum campaign_action action, const char *state, const char **name)
{
    for (size_t i = 0; i < sizeof(moves) / sizeof(moves[0]); i++) {
        if (moves[i].action != action)
            continue;
        *name = moves[i].name;
        for (size_t j = 0; moves[i].from[j]; j++)
            if (strcmp(moves[i].from[j], state) == 0)
                return 1;
    }
    return 0;
}

static int exec_ok(PGconn *conn, const char *sql, int n, const char *const *params, struct store_err *e,
                   const char *what)
{
    PGresult *res = pg_exec(conn, sql, n, params);
    int rc = pg_ok(res) ? STORE_OK : store_fail_db(e, conn, res, what);
    PQclear(res);
    return rc;
}

static int apply_move(PGconn *conn, const char *id, enum campaign_action action, const char *at, unsigned chunk,
                      bool started, struct store_err *e)
{
    char ch[16];
    snprintf(ch, sizeof(ch), "%u", chunk);
    const char *p1[] = { id };
    const char *p2[] = { id, at };
    const char *pc[] = { id, ch };
    switch (action) {
    case CAMPAIGN_SCHEDULE:
        return exec_ok(conn, "UPDATE campaigns SET status = 'scheduled', send_at = $2::timestamptz, updated_at = now()"
                       " WHERE id = $1::bigint", 2, p2, e, "cannot schedule campaign");
    case CAMPAIGN_SEND:
        return exec_ok(conn, store_campaign_start_sql, 2, pc, e, "cannot start campaign");
    case CAMPAIGN_PAUSE:
        return exec_ok(conn, "UPDATE campaigns SET status = 'paused', updated_at = now() WHERE id = $1::bigint", 1, p1,
                       e, "cannot pause campaign");
    case CAMPAIGN_RESUME:
        return exec_ok(conn, started ? "UPDATE campaigns SET status = 'running', updated_at = now() WHERE id = $1::bigint"
                                     : "UPDATE campaigns SET status = 'scheduled', updated_at = now() WHERE id = $1::bigint",
                       1, p1, e, "cannot resume campaign");
    case CAMPAIGN_CANCEL:
        return exec_ok(conn,
                       "WITH c AS (UPDATE deliveries SET state = 'cancelled', lease_owner = NULL, lease_until = NULL,"
                       "   updated_at = now() WHERE campaign_id = $1::bigint AND state IN ('queued', 'deferred', 'held')"
                       "   RETURNING state),"
                       " e AS (DELETE FROM audience_early WHERE campaign_id = $1::bigint)"
                       " UPDATE campaigns SET status = 'cancelled', finished_at = now(), updated_at = now(),"
                       "   n_cancelled = n_cancelled + n_queued + n_deferred + n_held, n_queued = 0, n_deferred = 0,"
                       "   n_held = 0, audience_pending = false"
                       " WHERE id = $1::bigint",
                       1, p1, e, "cannot cancel campaign");
    }
    return STORE_OK;
}

/* store_campaign_move - see campaigns.h. */
int store_campaign_move(PGconn *conn, const char *id, enum campaign_action action, const char *at, unsigned chunk,
                        json_t **out, struct store_err *e)
{
    const char *name = "";
    int rc;
    if (!is_id(id))
        return store_fail(e, STORE_ERR_NOTFOUND, "no campaign \"%s\" (campaigns are named by number)", id);
    if (at && (rc = store_campaign_send_at_check(conn, at, e)) < 0)
        return rc;
    if (pg_begin(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot change campaign");
    PGresult *res = pg_exec(conn,
                            "SELECT status, started_at IS NOT NULL, ($2::timestamptz IS NULL OR $2::timestamptz > now() - interval '1 minute'),"
                            " kind FROM campaigns WHERE id = $1::bigint FOR UPDATE",
                            2, (const char *[]){ id, at });
    if (!pg_ok(res)) {
        rc = strcmp(pg_sqlstate(res), "22007") == 0 || strcmp(pg_sqlstate(res), "22008") == 0
                 ? store_fail_field(e, "send_at", "cannot understand the time \"%s\"", at)
                 : store_fail_db(e, conn, res, "cannot read campaign");
    } else if (PQntuples(res) == 0) {
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no campaign %s", id);
    } else if (strcmp(PQgetvalue(res, 0, 3), "tx") == 0 && action != CAMPAIGN_PAUSE && action != CAMPAIGN_RESUME) {
        rc = store_fail(e, STORE_ERR_INVALID, "campaign %s is transactional: it can be paused and resumed, nothing else",
                        id);
    } else if (!move_allowed(action, PQgetvalue(res, 0, 0), &name)) {
        rc = store_fail(e, STORE_ERR_INVALID, "cannot %s campaign %s: it is %s", name, id, PQgetvalue(res, 0, 0));
    } else if (action == CAMPAIGN_SCHEDULE && strcmp(PQgetvalue(res, 0, 2), "t") != 0) {
        rc = store_fail(e, STORE_ERR_INVALID, "cannot schedule campaign %s in the past (%s)", id, at);
    } else {
        rc = apply_move(conn, id, action, at, chunk, strcmp(PQgetvalue(res, 0, 1), "t") == 0, e);
    }
    PQclear(res);
    if (rc < 0) {
        pg_rollback(conn);
        return rc;
    }
    if (pg_commit(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot change campaign");
    return store_campaign_stats(conn, id, out, e);
}

/* store_campaign_archive - see campaigns.h. */
int store_campaign_archive(PGconn *conn, const char *id, long long *moved, json_t **out, struct store_err *e)
{
    const char *p[] = { id };
    int rc = STORE_OK;
    if (!is_id(id))
        return store_fail(e, STORE_ERR_NOTFOUND, "no campaign \"%s\" (campaigns are named by number)", id);
    if (pg_begin(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot archive campaign");
    PGresult *res = pg_exec(conn, "SELECT status, archived_at IS NOT NULL FROM campaigns WHERE id = $1::bigint FOR UPDATE",
                            1, p);
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot read campaign");
    else if (PQntuples(res) == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no campaign %s", id);
    else if (strcmp(PQgetvalue(res, 0, 1), "t") == 0)
        rc = store_fail(e, STORE_ERR_CONFLICT, "campaign %s is archived already", id);
    else if (strcmp(PQgetvalue(res, 0, 0), "finished") != 0 && strcmp(PQgetvalue(res, 0, 0), "cancelled") != 0)
        rc = store_fail(e, STORE_ERR_CONFLICT, "cannot archive campaign %s: it is %s (only a finished or cancelled one)",
                        id, PQgetvalue(res, 0, 0));
    PQclear(res);
    if (rc == STORE_OK) {
        res = pg_exec(conn, "SELECT campaign_archive($1::bigint)", 1, p);
        if (pg_ok(res))
            *moved = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        else
            rc = store_fail_db(e, conn, res, "cannot archive campaign");
        PQclear(res);
    }
    if (rc < 0) {
        pg_rollback(conn);
        return rc;
    }
    if (pg_commit(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot archive campaign");
    return store_campaign_stats(conn, id, out, e);
}

/*
 * store_campaign_stats - the campaign's state and counters with the send rate
 * over the last minute, an ETA, the deliveries waiting on a retry, and what
 * tracking saw: opens and clicks (unique: deliveries; total: every one) and
 * the clicks of each tracked link, from the counts the writes keep
 * (sql/019: track_hours, link_counts, campaign_bounce_counts), a few rows
 * whatever the campaign's size. Each part reads this campaign's rows
 * through an index on the campaign named as a value, not as c.id: the planner
 * then knows which campaign it is, and a campaign with few rows in a table
 * whose rows are mostly another's is not read by a scan of the whole table.
 */
int store_campaign_stats(PGconn *conn, const char *id, json_t **out, struct store_err *e)
{
    if (!is_id(id))
        return store_fail(e, STORE_ERR_NOTFOUND, "no campaign \"%s\" (campaigns are named by number)", id);
    PGresult *res = pg_exec(conn,
                            "SELECT json_build_object('id', c.id, 'name', c.name, 'status', c.status,"
                            " 'send_at', c.send_at, 'started_at', c.started_at, 'finished_at', c.finished_at,"
                            " 'total', c.n_total, 'queued', c.n_queued, 'sent', c.n_sent, 'deferred', c.n_deferred,"
                            " 'failed', c.n_failed, 'skipped', c.n_skipped, 'cancelled', c.n_cancelled, 'held', c.n_held,"
                            " 'audience', " CAMPAIGN_AUDIENCE_JSON ","
                            " 'ab', " AB_RESULTS_JSON("$1::bigint") ","
                            " 'rate_per_s', r.rate, 'next_retry_at', r.next_retry,"
                            " 'bounces', (SELECT coalesce(json_object_agg(b.class, b.n ORDER BY b.class), '{}')"
                            "   FROM campaign_bounce_counts b WHERE b.campaign_id = $1::bigint),"
                            " 'mta', (SELECT json_build_object('delivered', count(*) FILTER (WHERE m.state = 'delivered'),"
                            "   'deferred', count(*) FILTER (WHERE m.state = 'deferred'),"
                            "   'bounced', count(*) FILTER (WHERE m.state = 'bounced'),"
                            "   'expired', count(*) FILTER (WHERE m.state = 'expired'))"
                            "   FROM deliveries d JOIN delivery_mta m ON m.delivery_id = d.id"
                            "   WHERE d.campaign_id = $1::bigint AND d.queue_id IS NOT NULL),"
                            " 'eta_s', CASE WHEN r.rate > 0 THEN round((c.n_queued + c.n_deferred) / r.rate) END,"
                            " 'senders', (SELECT coalesce(json_agg(json_build_object('name', sd.name, 'status', sd.status,"
                            "   'seen_at', sd.seen_at) ORDER BY sd.name), '[]') FROM senders sd"
                            "   WHERE sd.seen_at > now() - interval '10 seconds'),"
                            " 'by_sender', (SELECT coalesce(json_agg(json_build_object('name', b.sender, 'sent', b.sent,"
                            "   'deferred', b.deferred, 'failed', b.failed, 'first_at', b.first_at, 'last_at', b.last_at)"
                            "   ORDER BY b.sender), '[]') FROM campaign_senders b WHERE b.campaign_id = $1::bigint),"
                            " 'track_opens', c.track_opens, 'track_clicks', c.track_clicks,"
                            " 'opens', json_build_object('unique', t.opens, 'total', t.opens_total),"
                            " 'clicks', json_build_object('unique', t.clickers, 'total', t.clicks_total),"
                            " 'links', (SELECT coalesce(json_agg(json_build_object('id', l.id, 'url', l.url,"
                            "   'unique', coalesce(k.u, 0), 'total', coalesce(k.t, 0)) ORDER BY l.idx, l.id), '[]')"
                            "   FROM links l LEFT JOIN LATERAL (SELECT sum(uniq) u, sum(total) t FROM link_counts k"
                            "     WHERE k.link_id = l.id) k ON true"
                            "   WHERE l.campaign_id = $1::bigint))"
                            " FROM campaigns c CROSS JOIN LATERAL (SELECT"
                            "   round((SELECT count(*) FROM deliveries d WHERE d.campaign_id = $1::bigint AND d.state = 'sent'"
                            "     AND d.sent_at > now() - interval '60 seconds') / 60.0, 1) AS rate,"
                            "   (SELECT min(next_attempt_at) FROM deliveries d WHERE d.campaign_id = $1::bigint"
                            "     AND d.state = 'deferred') AS next_retry) r"
                            " CROSS JOIN (SELECT coalesce(sum(opens), 0) AS opens, coalesce(sum(opens_total), 0) AS opens_total,"
                            "   coalesce(sum(clickers), 0) AS clickers, coalesce(sum(clicks_total), 0) AS clicks_total"
                            "   FROM track_hours WHERE campaign_id = $1::bigint) t"
                            " WHERE c.id = $1::bigint",
                            1, &id);
    return store_json_row(conn, res, out, e, "cannot read campaign", "no campaign %s", id);
}

/*
 * store_campaign_send_at_check - STORE_ERR_INVALID unless WHEN is a finite
 * timestamptz (any data error is the input's): a time to schedule at.
 */
int store_campaign_send_at_check(PGconn *conn, const char *when, struct store_err *e)
{
    PGresult *res = pg_exec(conn, "SELECT isfinite($1::timestamptz)", 1, &when);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = strncmp(pg_sqlstate(res), "22", 2) == 0
                 ? store_fail_field(e, "send_at", "cannot understand the time \"%s\"", when)
                 : store_fail_db(e, conn, res, "cannot check a time");
    else if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
        rc = store_fail_field(e, "send_at", "the time \"%s\" is not a finite time", when);
    PQclear(res);
    return rc;
}

/* is status S one a campaign has before it starts? */
static bool not_started(const char *s)
{
    return strcmp(s, "draft") == 0 || strcmp(s, "scheduled") == 0;
}

/* store_campaign_rename - see campaigns.h. */
int store_campaign_rename(PGconn *conn, const char *id, const char *name, json_t **out, struct store_err *e)
{
    if (!is_id(id))
        return store_fail(e, STORE_ERR_NOTFOUND, "no campaign \"%s\" (campaigns are named by number)", id);
    const char *params[] = { id, name };
    PGresult *res = pg_exec(conn,
                            "UPDATE campaigns SET name = $2, updated_at = now()"
                            " WHERE id = $1::bigint AND kind = 'campaign' RETURNING id",
                            2, params);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot rename campaign");
    else if (PQntuples(res) == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no campaign %s", id);
    PQclear(res);
    return rc < 0 ? rc : store_campaign_get(conn, id, out, e);
}

/* store_campaign_rm - see campaigns.h. */
int store_campaign_rm(PGconn *conn, const char *id, struct store_err *e)
{
    if (!is_id(id))
        return store_fail(e, STORE_ERR_NOTFOUND, "no campaign \"%s\" (campaigns are named by number)", id);
    /* one statement: the state is read under the row's lock the DELETE takes */
    PGresult *res = pg_exec(conn,
                            "WITH c AS (SELECT id, status FROM campaigns WHERE id = $1::bigint AND kind = 'campaign'"
                            "   FOR UPDATE),"
                            " d AS (DELETE FROM campaigns x USING c WHERE x.id = c.id"
                            "   AND c.status IN ('draft', 'scheduled') RETURNING x.id)"
                            " SELECT c.status, (SELECT count(*) FROM d) FROM c",
                            1, &id);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot remove campaign");
    else if (PQntuples(res) == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no campaign %s", id);
    else if (!not_started(PQgetvalue(res, 0, 0)))
        rc = store_fail(e, STORE_ERR_CONFLICT,
                        "cannot remove campaign %s: it is %s (only a draft or a scheduled one; its ledger stays)", id,
                        PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

/* store_campaign_clone - see campaigns.h. */
int store_campaign_clone(PGconn *conn, const char *id, json_t **out, struct store_err *e)
{
    char newid[32];
    if (!is_id(id))
        return store_fail(e, STORE_ERR_NOTFOUND, "no campaign \"%s\" (campaigns are named by number)", id);
    if (pg_begin(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot copy campaign");
    /* the name: " (copy)" after as much of the original as fits in 200 characters */
    PGresult *res = pg_exec(conn,
                            "INSERT INTO campaigns (name, subject, from_name, from_addr, reply_to, template_id, html,"
                            " text_body, track_opens, track_clicks, body_format, markdown, segment_id, filter,"
                            " filter_sql, filter_params)"
                            " SELECT left(name, 193) || ' (copy)', subject, from_name, from_addr, reply_to, template_id,"
                            " html, text_body, track_opens, track_clicks, body_format, markdown, segment_id, filter,"
                            " filter_sql, filter_params FROM campaigns WHERE id = $1::bigint AND kind = 'campaign'"
                            " RETURNING id",
                            1, &id);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot copy campaign");
    else if (PQntuples(res) == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no campaign %s", id);
    else
        snprintf(newid, sizeof(newid), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (rc == STORE_OK) {
        const char *params[] = { newid, id };
        rc = exec_ok(conn,
                     "INSERT INTO campaign_lists (campaign_id, list_id)"
                     " SELECT $1::bigint, list_id FROM campaign_lists WHERE campaign_id = $2::bigint",
                     2, params, e, "cannot copy campaign");
        if (rc == STORE_OK)
            rc = exec_ok(conn,
                         "WITH a AS (INSERT INTO campaign_ab (campaign_id, sample_pct, sample_count, metric, window_s, pick)"
                         "   SELECT $1::bigint, sample_pct, sample_count, metric, window_s, pick FROM campaign_ab"
                         "   WHERE campaign_id = $2::bigint)"
                         " INSERT INTO campaign_variants (campaign_id, n, subject, html, from_name)"
                         " SELECT $1::bigint, n, subject, html, from_name FROM campaign_variants WHERE campaign_id = $2::bigint",
                         2, params, e, "cannot copy campaign");
    }
    if (rc < 0) {
        pg_rollback(conn);
        return rc;
    }
    if (pg_commit(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot copy campaign");
    return store_campaign_get(conn, newid, out, e);
}

/* store_campaign_audience_step - see campaigns.h. */
int store_campaign_audience_step(PGconn *conn, const char *id, bool wait, long long *made, struct store_err *e)
{
    const char *params[] = { id, wait ? "t" : "f" };
    *made = 0;
    if (!is_id(id))
        return store_fail(e, STORE_ERR_NOTFOUND, "no campaign \"%s\" (campaigns are named by number)", id);
    PGresult *res = pg_exec(conn, "SELECT campaign_audience_step($1::bigint, $2::boolean)", 2, params);
    int rc;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot make the campaign's audience");
    else if (PQgetisnull(res, 0, 0))
        rc = 0;
    else if ((*made = atoll(PQgetvalue(res, 0, 0))) < 0)
        rc = *made = 0;
    else
        rc = 1;
    PQclear(res);
    return rc;
}

/* store_campaign_audience_work - see campaigns.h. */
int store_campaign_audience_work(PGconn *conn, long budget_ms, long long *made, struct store_err *e)
{
    struct timespec t0, t;
    int rc = 0, progress = 1;
    *made = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (progress) {
        PGresult *res = pg_exec(conn,
                                "SELECT id FROM campaigns WHERE audience_pending AND status IN ('running', 'paused')"
                                " ORDER BY id",
                                0, NULL);
        if (!pg_ok(res))
            return store_fail_db(e, conn, res, "cannot read the campaigns whose audience is being made");
        progress = 0;
        for (int i = 0; i < PQntuples(res) && rc >= 0; i++) {
            long long n;
            if ((rc = store_campaign_audience_step(conn, PQgetvalue(res, i, 0), false, &n, e)) > 0) {
                *made += n;
                progress = 1;
            }
        }
        PQclear(res);
        if (rc < 0)
            return rc;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >= budget_ms)
            break;
    }
    return STORE_OK;
}
