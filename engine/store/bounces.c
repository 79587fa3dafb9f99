/*
 * bounces - intake, matching and queries for what came back to the bounce address.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/mail/address.h"
#include "engine/mail/classify.h"
#include "engine/mail/dsn.h"
#include "engine/mail/token.h"
#include "engine/store/bounces.h"
#include "engine/store/pg.h"
#include "engine/store/settings.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"
#include "engine/util/str.h"

#define BOUNCE_JSON                                                                                          \
    "json_build_object('id', b.id, 'subscriber_id', b.subscriber_id, 'campaign_id', b.campaign_id,"        \
    " 'delivery_id', b.delivery_id, 'email', b.email, 'class', b.class, 'source', b.source,"                \
    " 'status', b.status, 'diagnostic', b.diagnostic, 'remote_mta', b.remote_mta, 'action', b.action,"      \
    " 'rule_id', b.rule_id, 'received_at', b.received_at, 'unverified', b.unverified,"                       \
    " 'matched_by', b.matched_by, 'sending_problem', b.class = 'policy',"                                      \
    " 'subscriber_status', (SELECT s.status FROM subscribers s WHERE s.id = b.subscriber_id))"

static const char delivery_by_id_sql[] =
    "SELECT d.id, d.campaign_id, d.subscriber_id, s.email FROM deliveries d"
    " JOIN subscribers s ON s.id = d.subscriber_id"
    " WHERE d.id = $1::bigint AND ($2::bigint IS NULL OR d.campaign_id = $2::bigint)";

static const char delivery_by_email_sql[] =
    "SELECT d.id, d.campaign_id, d.subscriber_id, s.email FROM subscribers s"
    " JOIN deliveries d ON d.subscriber_id = s.id"
    " WHERE lower(s.email) = lower($1) AND d.created_at > now() - make_interval(days => $2::int)"
    " ORDER BY d.id DESC LIMIT 1";

static const char rule_sql[] =
    "SELECT id, class, beats_code FROM bounce_rules WHERE $1 ~* pattern ORDER BY position, id LIMIT 1";

static const char insert_sql[] =
    "WITH ins AS (INSERT INTO bounces (subscriber_id, campaign_id, delivery_id, email, class, source, status,"
    "    diagnostic, remote_mta, rule_id, message_id, original, original_truncated, unverified, matched_by)"
    "  VALUES ($1::bigint, $2::bigint, $3::bigint, $4, $5, $6, $7, $8, $9, $10::bigint, $11, $12, $13::boolean,"
    "    $14::boolean, $15)"
    "  ON CONFLICT (message_id, lower(email)) WHERE message_id IS NOT NULL DO NOTHING RETURNING id)"
    " SELECT coalesce((SELECT id FROM ins),"
    "  (SELECT id FROM bounces WHERE message_id = $11 AND lower(email) = lower($4) ORDER BY id LIMIT 1))";

static const char unmatched_sql[] =
    "INSERT INTO bounces_unmatched (reason, envelope_to, sender, subject, message_id, original, original_truncated,"
    " kind, class, status, email, diagnostic)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7::boolean, $8, $9, $10, $11, $12) RETURNING id";

/* bounce_text_clean - see bounces.h. */
void bounce_text_clean(struct buf *out, const char *s, size_t len)
{
    buf_reset(out);
    while (len > 0) {
        size_t bad = len;
        if (str_utf8_valid(s, len, &bad))
            bad = len;
        for (size_t i = 0; i < bad; i++)
            if (s[i])
                buf_appendc(out, s[i]);
        if (bad >= len)
            break;
        buf_appendc(out, '?');
        s += bad + 1;
        len -= bad + 1;
    }
    buf_cstr(out);
}

struct match {
    long long delivery, campaign, subscriber;
    char email[ADDRESS_MAX + 1];
    const char *how;
    bool signed_;      /* proved by a signed token: the VERP address's, or the delivery header's */
};

/* the delivery a result row names, into M; 1 when there was one, 0 when not, or a store error */
static int match_row(PGconn *conn, PGresult *res, struct match *m, const char *how, struct store_err *e)
{
    int rc = 0;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot match the bounce to a delivery");
    else if (PQntuples(res) == 1) {
        m->delivery = atoll(PQgetvalue(res, 0, 0));
        m->campaign = atoll(PQgetvalue(res, 0, 1));
        m->subscriber = atoll(PQgetvalue(res, 0, 2));
        snprintf(m->email, sizeof(m->email), "%s", PQgetvalue(res, 0, 3));
        m->how = how;
        m->signed_ = strcmp(how, "token") == 0;
        rc = 1;
    }
    PQclear(res);
    return rc;
}

static int match_delivery(PGconn *conn, long long id, long long campaign, struct match *m, const char *how,
                          struct store_err *e)
{
    char a[32], b[32];
    snprintf(a, sizeof(a), "%lld", id);
    snprintf(b, sizeof(b), "%lld", campaign);
    const char *params[] = { a, campaign ? b : NULL };
    return match_row(conn, pg_exec(conn, delivery_by_id_sql, 2, params), m, how, e);
}

/* the report's addresses for the failed recipient, for checking a header match and for the last resort */
static size_t report_addrs(const struct dsn_report *r, const struct dsn_recipient *rc, const char *out[])
{
    size_t n = 0;
    if (rc) {
        if (rc->final_rcpt[0])
            out[n++] = rc->final_rcpt;
        if (rc->original_rcpt[0])
            out[n++] = rc->original_rcpt;
    }
    if (r->kind == DSN_KIND_ARF && r->arf_rcpt_to[0])
        out[n++] = r->arf_rcpt_to;
    if (r->kind == DSN_KIND_TEXT)
        for (size_t i = 0; i < r->naddrs && i < DSN_MAX_ADDRS - 1; i++)
            out[n++] = r->addrs[i];
    if (r->kind != DSN_KIND_DSN && r->orig_to[0])
        out[n++] = r->orig_to;
    if (r->failed_rcpt[0])
        out[n++] = r->failed_rcpt;
    return n;
}

/* find the delivery R concerns (V its verdict); 1 matched, 0 not, or a store error */
static int match_report(PGconn *conn, const struct dsn_report *r, const struct dsn_verdict *v,
                        const struct bounce_intake *in, struct match *m, struct store_err *e)
{
    const struct dsn_recipient *rc = v->rcpt;
    unsigned char key[TOKEN_KEY_LEN];
    const char *local = in->local_part;
    const char *cands[] = { in->envelope_to, r->envelope_to, r->orig_return_path, r->arf_mail_from };
    int rc_ = store_secret(conn, "token_key", key, sizeof(key), e);
    if (rc_ < 0)
        return rc_;
    for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
        char tok[TOKEN_MAX + 1], kind;
        uint64_t a, b;
        if (!cands[i] || dsn_verp_token(cands[i], local, tok, sizeof(tok)) < 0 ||
            token_parse(key, tok, &kind, &a, &b) < 0 || kind != 'b' || a > INT64_MAX || b > INT64_MAX || !a || !b)
            continue;
        int x = match_delivery(conn, (long long)a, (long long)b, m, "token", e);
        if (x != 0)
            return x;
    }
    const char *addrs[DSN_MAX_ADDRS + 5];
    size_t naddrs = 0;
    if (v->recipient[0])
        addrs[naddrs++] = v->recipient;
    naddrs += report_addrs(r, rc, addrs + naddrs);
    /* X-Postino-Delivery: ID.TOKEN (the VERP token: signed), or a bare ID as older messages carry */
    long hdr;
    char id[sizeof(r->orig_delivery)], *dot;
    snprintf(id, sizeof(id), "%s", r->orig_delivery);
    if ((dot = strchr(id, '.')) != NULL)
        *dot = 0;
    if (id[0] && str_parse_long(id, 1, INT64_MAX, &hdr) == 0) {
        struct match h;
        char kind;
        uint64_t a, b;
        const char *tok = strchr(r->orig_delivery, '.');
        bool sig = tok && token_parse(key, tok + 1, &kind, &a, &b) == 0 && kind == 'b' && a == (uint64_t)hdr;
        int x = match_delivery(conn, hdr, sig ? (long long)b : 0, &h, "header", e);
        if (x < 0)
            return x;
        for (size_t i = 0; x == 1 && i < naddrs; i++)
            if (strcasecmp(addrs[i], h.email) == 0) {
                *m = h;
                m->signed_ = sig;
                return 1;
            }
    }
    char days[16];
    snprintf(days, sizeof(days), "%u", in->recent_days ? in->recent_days : 30);
    for (size_t i = 0; i < naddrs; i++) {
        char norm[ADDRESS_MAX + 1];
        const char *why;
        if (address_normalize(addrs[i], norm, sizeof(norm), &why) < 0)
            continue;
        const char *params[] = { norm, days };
        int x = match_row(conn, pg_exec(conn, delivery_by_email_sql, 2, params), m, "recipient", e);
        if (x != 0)
            return x;
    }
    return 0;
}

/* the first bounce rule matching TEXT into HIT (cls BOUNCE_NONE when none); 0 or a store error */
static int rule_hit(PGconn *conn, const char *text, struct dsn_rule_hit *hit, struct store_err *e)
{
    memset(hit, 0, sizeof(*hit));
    if (!text || !*text)
        return 0;
    PGresult *res = pg_exec(conn, rule_sql, 1, &text);
    int rc = 0;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot read the bounce rules");
    else if (PQntuples(res) == 1) {
        snprintf(hit->id, sizeof(hit->id), "%s", PQgetvalue(res, 0, 0));
        hit->cls = bounce_class_parse(PQgetvalue(res, 0, 1));
        hit->beats_code = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
    }
    PQclear(res);
    return rc;
}

struct rule_ctx {
    PGconn *conn;
    struct store_err *e;
};

/* dsn_verdict's rule callback: the database's bounce rules */
static int rule_cb(void *arg, const char *text, struct dsn_rule_hit *hit)
{
    struct rule_ctx *c = arg;
    return rule_hit(c->conn, text, hit, c->e) < 0 ? -1 : 0;
}

static int bounce_json_by_id(PGconn *conn, const char *id, bool full, json_t **out, struct store_err *e)
{
    PGresult *res = pg_exec(conn,
                            full ? "SELECT " BOUNCE_JSON "::jsonb || jsonb_build_object('message_id', b.message_id,"
                                   " 'original', b.original, 'original_truncated', b.original_truncated)"
                                   " FROM bounces b WHERE b.id = $1::bigint"
                                 : "SELECT " BOUNCE_JSON " FROM bounces b WHERE b.id = $1::bigint",
                            1, &id);
    return store_json_row(conn, res, out, e, "cannot read the bounce", "no bounce %s", id);
}

struct row {
    const struct match *m;
    const char *cls, *source, *status, *diagnostic, *remote_mta, *rule_id, *message_id;
    const char *original;
    bool truncated;
    bool unverified;   /* came by an untrusted path without a valid token: recorded, never acted on */
};

static int bounce_insert(PGconn *conn, const struct row *r, json_t **out, struct store_err *e)
{
    char sub[32], camp[32], del[32];
    struct buf diag = BUF_INIT, mta = BUF_INIT, mid = BUF_INIT;
    snprintf(sub, sizeof(sub), "%lld", r->m->subscriber);
    snprintf(camp, sizeof(camp), "%lld", r->m->campaign);
    snprintf(del, sizeof(del), "%lld", r->m->delivery);
    bounce_text_clean(&diag, r->diagnostic ? r->diagnostic : "", r->diagnostic ? strlen(r->diagnostic) : 0);
    bounce_text_clean(&mta, r->remote_mta ? r->remote_mta : "", r->remote_mta ? strlen(r->remote_mta) : 0);
    bounce_text_clean(&mid, r->message_id ? r->message_id : "", r->message_id ? strlen(r->message_id) : 0);
    const char *params[] = { sub, r->m->campaign ? camp : NULL, r->m->delivery ? del : NULL, r->m->email, r->cls,
                             r->source, r->status && *r->status ? r->status : NULL, diag.len ? diag.data : NULL,
                             mta.len ? mta.data : NULL, r->rule_id && *r->rule_id ? r->rule_id : NULL,
                             mid.len ? mid.data : NULL, r->original, r->truncated ? "t" : "f",
                             r->unverified ? "t" : "f", r->m->how };
    PGresult *res = pg_exec(conn, insert_sql, 15, params);
    int rc = STORE_OK;
    if (!pg_ok(res) || PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
        rc = store_fail_db(e, conn, res, "cannot record the bounce");
    else
        rc = bounce_json_by_id(conn, PQgetvalue(res, 0, 0), false, out, e);
    PQclear(res);
    buf_free(&diag);
    buf_free(&mta);
    buf_free(&mid);
    return rc;
}

static int unmatched_insert(PGconn *conn, const struct dsn_report *r, const struct dsn_verdict *v,
                            const struct bounce_intake *in, const char *reason, const char *original, bool truncated,
                            json_t **out, struct store_err *e)
{
    struct buf to = BUF_INIT, from = BUF_INIT, subj = BUF_INIT, mid = BUF_INIT, diag = BUF_INIT;
    const char *env = in->envelope_to ? in->envelope_to : r->envelope_to;
    const char *cls = v->cls != BOUNCE_NONE ? bounce_class_name(v->cls) : NULL;
    bounce_text_clean(&to, env, strlen(env));
    bounce_text_clean(&from, r->from, strlen(r->from));
    bounce_text_clean(&subj, r->subject, strlen(r->subject));
    bounce_text_clean(&mid, r->message_id, strlen(r->message_id));
    bounce_text_clean(&diag, v->diagnostic, strlen(v->diagnostic));
    const char *params[] = { reason, to.len ? to.data : NULL, from.len ? from.data : NULL,
                             subj.len ? subj.data : NULL, mid.len ? mid.data : NULL, original, truncated ? "t" : "f",
                             dsn_kind_name(r->kind), cls, v->status[0] ? v->status : NULL,
                             v->recipient[0] ? v->recipient : NULL, diag.len ? diag.data : NULL };
    PGresult *res = pg_exec(conn, unmatched_sql, 12, params);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot keep the unmatched message");
    else
        *out = json_pack("{s:b,s:I,s:s,s:s,s:s?,s:s?,s:s?}", "matched", 0, "unmatched_id",
                         (json_int_t)atoll(PQgetvalue(res, 0, 0)), "reason", reason, "kind", dsn_kind_name(r->kind),
                         "class", cls, "status", v->status[0] ? v->status : NULL, "email",
                         v->recipient[0] ? v->recipient : NULL);
    PQclear(res);
    buf_free(&to);
    buf_free(&from);
    buf_free(&subj);
    buf_free(&mid);
    buf_free(&diag);
    return rc;
}

/* the class of a failure with STATUS and DIAG: the code when it decides, else the first matching rule (its id in RULE_ID) */
static int failure_class(PGconn *conn, const char *status, const char *diag, const char **cls, char rule_id[32],
                         struct store_err *e)
{
    struct dsn_rule_hit hit;
    int x = rule_hit(conn, diag, &hit, e);
    if (x < 0)
        return x;
    enum bounce_class c = classify_report(status, diag, hit.cls, hit.beats_code);
    snprintf(rule_id, 32, "%s", c == hit.cls ? hit.id : "");
    *cls = bounce_class_name(c);
    return 0;
}

/* one bounce per delivery from the log and its DSN: the lock both writers take, in their transaction */
static int delivery_bounce_lock(PGconn *conn, long long delivery, struct store_err *e)
{
    char id[32];
    snprintf(id, sizeof(id), "%lld", delivery);
    const char *p = id;
    PGresult *res = pg_exec(conn, "SELECT pg_advisory_xact_lock(7262952, ($1::bigint % 2147483647)::int)", 1, &p);
    int rc = pg_ok(res) ? 0 : store_fail_db(e, conn, res, "cannot lock the delivery's bounces");
    PQclear(res);
    return rc;
}

/*
 * dsn_onto_log_bounce - when the log already recorded delivery M's bounce,
 * attach the report to that row instead of counting it again: 1 (and *OUT the
 * bounce) when it did, 0 when there was none, or a store error.
 */
static int dsn_onto_log_bounce(PGconn *conn, const struct match *m, const struct row *row, json_t **out,
                               struct store_err *e)
{
    char del[32];
    struct buf mid = BUF_INIT;
    snprintf(del, sizeof(del), "%lld", m->delivery);
    bounce_text_clean(&mid, row->message_id ? row->message_id : "", row->message_id ? strlen(row->message_id) : 0);
    const char *params[] = { del, mid.len ? mid.data : NULL, row->original, row->truncated ? "t" : "f",
                             row->remote_mta };
    PGresult *res = pg_exec(conn,
                            "UPDATE bounces b SET message_id = coalesce(b.message_id, $2), original = $3,"
                            " original_truncated = $4::boolean, remote_mta = coalesce(b.remote_mta, $5)"
                            " WHERE b.delivery_id = $1::bigint AND b.source = 'mta' RETURNING b.id",
                            5, params);
    buf_free(&mid);
    int rc = 0;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot record the bounce");
    else if (PQntuples(res) == 1)
        rc = bounce_json_by_id(conn, PQgetvalue(res, 0, 0), false, out, e) < 0 ? STORE_ERR_DB : 1;
    PQclear(res);
    return rc;
}

/* insert ROW, or attach it to the log's bounce of the same delivery: in one transaction under the delivery's lock */
static int bounce_insert_once(PGconn *conn, const struct row *row, json_t **out, struct store_err *e)
{
    if (!row->m->delivery)
        return bounce_insert(conn, row, out, e);
    bool own = PQtransactionStatus(conn) == PQTRANS_IDLE;
    if (own && pg_begin(conn) < 0)
        return store_fail(e, STORE_ERR_DB, "cannot record the bounce: %s", PQerrorMessage(conn));
    int rc = delivery_bounce_lock(conn, row->m->delivery, e);
    if (rc == 0)
        rc = dsn_onto_log_bounce(conn, row->m, row, out, e);
    if (rc == 0)
        rc = bounce_insert(conn, row, out, e);
    if (own) {
        if (rc < 0)
            pg_rollback(conn);
        else if (pg_commit(conn) < 0) {
            json_decref(*out);
            *out = NULL;
            return store_fail(e, STORE_ERR_DB, "cannot record the bounce: %s", PQerrorMessage(conn));
        }
    }
    return rc < 0 ? rc : STORE_OK;
}

static int ingest(PGconn *conn, const struct dsn_report *r, const struct bounce_intake *in, const char *original,
                  bool truncated, json_t **out, struct store_err *e)
{
    struct dsn_verdict v;
    struct rule_ctx rc_ = { conn, e };
    if (dsn_verdict(r, rule_cb, &rc_, &v) < 0)
        return STORE_ERR_DB;
    if (v.cls == BOUNCE_NONE || v.cls == BOUNCE_AUTOREPLY || v.cls == BOUNCE_DELAY) {
        char reason[128];
        const char *why = v.why ? v.why : "not a bounce";
        if (r->kind == DSN_KIND_ARF && v.cls == BOUNCE_NONE) {
            snprintf(reason, sizeof(reason), "feedback type \"%.40s\" is not a complaint", r->feedback_type);
            why = reason;
        }
        return unmatched_insert(conn, r, &v, in, why, original, truncated, out, e);
    }

    struct match m = { 0 };
    int x = match_report(conn, r, &v, in, &m, e);
    if (x < 0)
        return x;
    if (x == 0)
        return unmatched_insert(conn, r, &v, in, "names no delivery postino knows", original, truncated, out, e);

    /* only a signed token or a trusted path proves the report genuine; the rest is shown, not acted on */
    bool verified = in->trusted || m.signed_;
    struct row row = { &m, bounce_class_name(v.cls), dsn_kind_name(r->kind), NULL, NULL, NULL, v.rule.id, r->message_id,
                       original, truncated, !verified };
    if (r->kind == DSN_KIND_ARF) {
        char fb[64];
        snprintf(fb, sizeof(fb), "feedback-type: %s", r->feedback_type);
        row.diagnostic = fb;
        row.remote_mta = r->reporting_mta;
        json_t *b = NULL;
        int rc2 = bounce_insert(conn, &row, &b, e);
        if (rc2 < 0)
            return rc2;
        *out = json_pack("{s:b,s:s,s:b,s:o}", "matched", 1, "matched_by", m.how, "verified", verified, "bounce", b);
        return STORE_OK;
    }
    row.status = v.status;
    row.diagnostic = v.diagnostic;
    row.remote_mta = v.rcpt && v.rcpt->remote_mta[0] ? v.rcpt->remote_mta : r->reporting_mta;
    json_t *b = NULL;
    int rc2 = bounce_insert_once(conn, &row, &b, e);
    if (rc2 < 0)
        return rc2;
    *out = json_pack("{s:b,s:s,s:b,s:o}", "matched", 1, "matched_by", m.how, "verified", verified, "bounce", b);
    return STORE_OK;
}

/* store_bounce_ingest_raw - see bounces.h. */
int store_bounce_ingest_raw(PGconn *conn, const char *data, size_t len, const struct bounce_intake *in,
                            json_t **out, struct store_err *e)
{
    struct dsn_report *r = xmalloc(sizeof(*r));
    struct buf orig = BUF_INIT;
    size_t keep = in->keep_bytes ? in->keep_bytes : BOUNCE_KEEP_DEFAULT;
    bool truncated = len > keep;
    dsn_parse(data, len, r);
    bounce_text_clean(&orig, data, truncated ? keep : len);
    int rc = ingest(conn, r, in, buf_cstr(&orig), truncated, out, e);
    buf_free(&orig);
    xfree(r);
    return rc;
}

static enum bounce_class event_class(const char *type)
{
    static const char *const complaint[] = { "complaint", "spam", "spamreport", "abuse", NULL };
    for (size_t i = 0; complaint[i]; i++)
        if (strcasecmp(type, complaint[i]) == 0)
            return BOUNCE_COMPLAINT;
    enum bounce_class c = bounce_class_parse(type);
    return c == BOUNCE_AUTOREPLY || c == BOUNCE_DELAY ? BOUNCE_NONE : c;
}

/* store_bounce_ingest_json - see bounces.h. */
int store_bounce_ingest_json(PGconn *conn, json_t *event, json_t **out, struct store_err *e)
{
    const char *email = json_string_value(json_object_get(event, "email"));
    const char *type = json_string_value(json_object_get(event, "type"));
    const char *status = json_string_value(json_object_get(event, "status"));
    const char *reason = json_string_value(json_object_get(event, "reason"));
    json_t *camp = json_object_get(event, "campaign");
    char norm[ADDRESS_MAX + 1], st[16] = "", camp_s[32] = "";
    const char *why;
    if (!json_is_object(event))
        return store_fail(e, STORE_ERR_INVALID, "a bounce event is a JSON object");
    if (!email || address_normalize(email, norm, sizeof(norm), &why) < 0)
        return store_fail(e, STORE_ERR_INVALID, "email: a valid address is required");
    if (status && *status) {
        size_t n = strlen(status);
        if (n >= sizeof(st) || n < 5 || (status[0] != '4' && status[0] != '5') || status[1] != '.' ||
            strspn(status, "0123456789.") != n)
            return store_fail(e, STORE_ERR_INVALID, "status: an enhanced status code such as 5.1.1 is expected");
        memcpy(st, status, n + 1);
    }
    if (reason && strlen(reason) > DSN_TEXT_MAX)
        return store_fail(e, STORE_ERR_INVALID, "reason: at most %d bytes", DSN_TEXT_MAX);
    if (json_is_integer(camp) && json_integer_value(camp) > 0)
        snprintf(camp_s, sizeof(camp_s), "%lld", (long long)json_integer_value(camp));
    else if (camp && !json_is_null(camp))
        return store_fail(e, STORE_ERR_INVALID, "campaign: a campaign id is expected");
    enum bounce_class cls = BOUNCE_NONE;
    if (type && *type && strcasecmp(type, "bounce") != 0 && (cls = event_class(type)) == BOUNCE_NONE)
        return store_fail(e, STORE_ERR_INVALID, "type: hard, soft, complaint, policy, unknown or bounce");

    const char *params[] = { norm, camp_s[0] ? camp_s : NULL };
    PGresult *res = pg_exec(conn,
                            "SELECT s.id, s.email, (SELECT d.id FROM deliveries d WHERE d.subscriber_id = s.id"
                            "   AND d.campaign_id = $2::bigint),"
                            " $2::bigint IS NULL OR EXISTS (SELECT 1 FROM campaigns WHERE id = $2::bigint)"
                            " FROM subscribers s WHERE lower(s.email) = lower($1)",
                            2, params);
    if (!pg_ok(res)) {
        int rc = store_fail_db(e, conn, res, "cannot record the bounce");
        PQclear(res);
        return rc;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return store_fail(e, STORE_ERR_NOTFOUND, "no subscriber %s", norm);
    }
    if (strcmp(PQgetvalue(res, 0, 3), "t") != 0) {
        PQclear(res);
        return store_fail(e, STORE_ERR_NOTFOUND, "no campaign %s", camp_s);
    }
    struct match m = { 0 };
    m.subscriber = atoll(PQgetvalue(res, 0, 0));
    snprintf(m.email, sizeof(m.email), "%s", PQgetvalue(res, 0, 1));
    m.delivery = PQgetisnull(res, 0, 2) ? 0 : atoll(PQgetvalue(res, 0, 2));
    m.campaign = camp_s[0] ? atoll(camp_s) : 0;
    PQclear(res);

    struct dsn_rule_hit hit = { 0 };
    if (cls == BOUNCE_NONE) {
        int rc = rule_hit(conn, reason, &hit, e);
        if (rc < 0)
            return rc;
        cls = classify_report(st, reason, hit.cls, hit.beats_code);
        if (cls != hit.cls)
            hit.id[0] = 0;
    }
    m.how = "event";
    struct row row = { &m, bounce_class_name(cls), "api", st, reason, NULL, hit.id, NULL, NULL, false, false };
    return bounce_insert(conn, &row, out, e);
}

/* store_bounce_ingest_signed - see bounces.h. */
int store_bounce_ingest_signed(PGconn *conn, json_t *event, json_t **out, struct store_err *e)
{
    return store_bounce_ingest_json(conn, event, out, e);
}

#define UNMATCHED_JSON                                                                                        \
    "json_build_object('id', u.id, 'received_at', u.received_at, 'reason', u.reason, 'kind', u.kind,"          \
    " 'class', u.class, 'status', u.status, 'email', u.email, 'diagnostic', u.diagnostic,"                     \
    " 'sender', u.sender, 'subject', u.subject, 'envelope_to', u.envelope_to, 'matched', false)"

/* store_bounce_ls - see bounces.h. */
int store_bounce_ls(PGconn *conn, const struct bounce_filter *f, json_t **out, struct store_err *e)
{
    char camp[32], before[32], limit[32];
    snprintf(camp, sizeof(camp), "%lld", f->campaign);
    snprintf(before, sizeof(before), "%lld", f->before);
    snprintf(limit, sizeof(limit), "%ld", f->limit > 0 ? f->limit : 100);
    const char *params[] = { f->campaign ? camp : NULL, f->cls, f->before ? before : NULL, limit };
    PGresult *res;
    if (f->unmatched)
        res = pg_exec(conn,
                      "SELECT coalesce(json_agg(x.j ORDER BY x.id DESC), '[]') FROM (SELECT u.id, " UNMATCHED_JSON
                      " AS j FROM bounces_unmatched u WHERE $1::bigint IS NULL AND ($2::text IS NULL OR u.class = $2)"
                      " AND ($3::bigint IS NULL OR u.id < $3::bigint) ORDER BY u.id DESC LIMIT $4::int) x",
                      4, params);
    else
        res = pg_exec(conn,
                      "SELECT coalesce(json_agg(x.j ORDER BY x.id DESC), '[]') FROM (SELECT b.id, " BOUNCE_JSON
                      " AS j FROM bounces b WHERE ($1::bigint IS NULL OR b.campaign_id = $1::bigint)"
                      " AND ($2::text IS NULL OR b.class = $2) AND ($3::bigint IS NULL OR b.id < $3::bigint)"
                      " ORDER BY b.id DESC LIMIT $4::int) x",
                      4, params);
    int rc = STORE_OK;
    if (pg_ok(res))
        *out = store_json(res, 0, 0);
    else
        rc = store_fail_db(e, conn, res, "cannot list bounces");
    PQclear(res);
    return rc;
}

/* store_bounce_get - see bounces.h. */
int store_bounce_get(PGconn *conn, long long id, json_t **out, struct store_err *e)
{
    char s[32];
    snprintf(s, sizeof(s), "%lld", id);
    return bounce_json_by_id(conn, s, true, out, e);
}

#define POLICY_JSON "json_build_object('class', p.class, 'threshold', p.threshold, 'consecutive', p.consecutive," \
                    " 'action', p.action, 'updated_at', p.updated_at)"

/* store_bounce_policy_ls - see bounces.h. */
int store_bounce_policy_ls(PGconn *conn, json_t **out, struct store_err *e)
{
    PGresult *res = pg_exec(conn,
                            "SELECT coalesce(json_agg(" POLICY_JSON " ORDER BY array_position("
                            "ARRAY['hard','soft','complaint','policy','unknown'], p.class)), '[]') FROM bounce_policy p",
                            0, NULL);
    int rc = STORE_OK;
    if (pg_ok(res))
        *out = store_json(res, 0, 0);
    else
        rc = store_fail_db(e, conn, res, "cannot read the bounce policy");
    PQclear(res);
    return rc;
}

/* store_bounce_policy_set - see bounces.h. */
int store_bounce_policy_set(PGconn *conn, const char *cls, int threshold, const char *action, int consecutive,
                            json_t **out, struct store_err *e)
{
    char t[16];
    if (cls && strcmp(cls, "policy") == 0 && action && strcmp(action, "none") != 0)
        return store_fail(e, STORE_ERR_INVALID,
                          "action: the policy class is a sending problem (the receiver refused the sender) and never "
                          "suppresses the recipient");
    snprintf(t, sizeof(t), "%d", threshold);
    const char *params[] = { cls, threshold > 0 ? t : NULL, action, consecutive < 0 ? NULL : consecutive ? "t" : "f" };
    PGresult *res = pg_exec(conn,
                            "UPDATE bounce_policy p SET threshold = coalesce($2::int, p.threshold),"
                            " action = coalesce($3, p.action), consecutive = coalesce($4::boolean, p.consecutive),"
                            " updated_at = now() WHERE p.class = $1 RETURNING " POLICY_JSON,
                            4, params);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = strncmp(pg_sqlstate(res), "23", 2) == 0
                 ? store_fail(e, STORE_ERR_INVALID, "invalid bounce policy: %s", pg_errmsg(conn, res))
                 : store_fail_db(e, conn, res, "cannot change the bounce policy");
    else if (PQntuples(res) == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no bounce class \"%s\"", cls);
    else
        *out = store_json(res, 0, 0);
    PQclear(res);
    return rc;
}

/* store_bounce_rules_ls - see bounces.h. */
int store_bounce_rules_ls(PGconn *conn, json_t **out, struct store_err *e)
{
    PGresult *res = pg_exec(conn,
                            "SELECT coalesce(json_agg(json_build_object('id', r.id, 'position', r.position,"
                            " 'pattern', r.pattern, 'class', r.class, 'beats_code', r.beats_code, 'description', r.description)"
                            " ORDER BY r.position, r.id), '[]') FROM bounce_rules r",
                            0, NULL);
    int rc = STORE_OK;
    if (pg_ok(res))
        *out = store_json(res, 0, 0);
    else
        rc = store_fail_db(e, conn, res, "cannot read the bounce rules");
    PQclear(res);
    return rc;
}

/* store_bounce_rule_add - see bounces.h. */
int store_bounce_rule_add(PGconn *conn, int position, const char *pattern, const char *cls, bool beats_code,
                          const char *description, json_t **out, struct store_err *e)
{
    char pos[16];
    snprintf(pos, sizeof(pos), "%d", position);
    const char *params[] = { pos, pattern, cls, description ? description : "", beats_code ? "t" : "f" };
    PGresult *res = pg_exec(conn,
                            "INSERT INTO bounce_rules (position, pattern, class, description, beats_code)"
                            " VALUES ($1::int, $2, $3, $4, $5::boolean) RETURNING json_build_object('id', id,"
                            " 'position', position, 'pattern', pattern, 'class', class, 'beats_code', beats_code,"
                            " 'description', description)",
                            5, params);
    int rc = STORE_OK;
    if (pg_ok(res))
        *out = store_json(res, 0, 0);
    else if (strncmp(pg_sqlstate(res), "23", 2) == 0 || strncmp(pg_sqlstate(res), "22", 2) == 0)
        rc = store_fail(e, STORE_ERR_INVALID, "invalid bounce rule: %s", pg_errmsg(conn, res));
    else
        rc = store_fail_db(e, conn, res, "cannot add the bounce rule");
    PQclear(res);
    return rc;
}

/* store_bounce_rule_rm - see bounces.h. */
int store_bounce_rule_rm(PGconn *conn, long long id, struct store_err *e)
{
    char s[32];
    snprintf(s, sizeof(s), "%lld", id);
    const char *p = s;
    PGresult *res = pg_exec(conn, "DELETE FROM bounce_rules WHERE id = $1::bigint", 1, &p);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot remove the bounce rule");
    else if (strcmp(PQcmdTuples(res), "0") == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no bounce rule %lld", id);
    PQclear(res);
    return rc;
}

/* store_bounce_record_mta - see bounces.h. */
int store_bounce_record_mta(PGconn *conn, long long delivery, const char *status, const char *reason,
                            const char *host, bool *recorded, struct store_err *e)
{
    struct match m = { 0 };
    *recorded = false;
    int x = match_delivery(conn, delivery, 0, &m, "queue id", e);
    if (x <= 0)
        return x;
    if ((x = delivery_bounce_lock(conn, delivery, e)) < 0)
        return x;
    char del[32];
    snprintf(del, sizeof(del), "%lld", delivery);
    const char *p = del;
    PGresult *res = pg_exec(conn, "SELECT 1 FROM bounces WHERE delivery_id = $1::bigint AND class <> 'complaint' LIMIT 1",
                            1, &p);
    if (!pg_ok(res)) {
        x = store_fail_db(e, conn, res, "cannot read the delivery's bounces");
        PQclear(res);
        return x;
    }
    bool seen = PQntuples(res) > 0;
    PQclear(res);
    if (seen)
        return STORE_OK;
    const char *cls = NULL;
    char rule_id[32];
    if ((x = failure_class(conn, status, reason, &cls, rule_id, e)) < 0)
        return x;
    m.how = "log";
    struct row row = { &m, cls, "mta", status, reason, host, rule_id, NULL, NULL, false, false };
    json_t *b = NULL;
    if ((x = bounce_insert(conn, &row, &b, e)) < 0)
        return x;
    json_decref(b);
    *recorded = true;
    return STORE_OK;
}
