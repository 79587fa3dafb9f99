/*
 * tx - queue transactional messages and double opt-in confirmations on the
 * delivery ledger; read one back.
 *
 * Configuration read here: [mail] from (the From of confirmation messages,
 * "Name <addr>"), [mail] confirm_subject, [http] public_url (the base of the
 * confirmation link).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "engine/mail/token.h"
#include "engine/store/daily.h"
#include "engine/store/pg.h"
#include "engine/store/settings.h"
#include "engine/store/tx.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"
#include "engine/util/log.h"
#include "engine/util/str.h"

#define CONFIRM_TEMPLATE "confirm"

static const char key_sql[] =
    "SELECT d.id, d.state, lower(s.email) = lower($2) FROM deliveries d"
    " JOIN subscribers s ON s.id = d.subscriber_id WHERE d.tx_key = $1";

static const char template_sql[] =
    "SELECT t.id, t.name FROM templates t WHERE t.name = $1"
    " OR t.id = CASE WHEN $1 ~ '^[0-9]{1,18}$' THEN $1::bigint END ORDER BY (t.name = $1) DESC LIMIT 1";

/* the recipient: the subscriber with that address, else a new one on no list */
static const char recipient_sql[] =
    "WITH i AS (INSERT INTO subscribers (email, name) SELECT $1, coalesce($2, '')"
    "   WHERE NOT EXISTS (SELECT 1 FROM subscribers WHERE lower(email) = lower($1))"
    "   ON CONFLICT (lower(email)) DO NOTHING RETURNING id, status),"
    " n AS (" DAILY_SUBSCRIBERS_SQL("(SELECT count(*) FROM i)") ")"
    " SELECT id, status FROM i UNION ALL SELECT id, status FROM subscribers WHERE lower(email) = lower($1)";

/* the hidden campaign of this template, subject and sender: made on first use, always running */
static const char campaign_sql[] =
    "INSERT INTO campaigns (kind, name, subject, from_name, from_addr, reply_to, template_id, relay, html, status,"
    "   started_at)"
    " VALUES ('tx', left('transactional: ' || $6, 200), $1, $2, $3, $4, $5::bigint, $7, '', 'running', now())"
    " ON CONFLICT (template_id, subject, from_name, from_addr, coalesce(reply_to, ''), coalesce(relay, ''))"
    " WHERE kind = 'tx'"
    " DO UPDATE SET updated_at = now() RETURNING id";

/*
 * The delivery and its campaign's counters in one statement. It is due
 * before any campaign's backlog: claims take rows in next_attempt_at order.
 */
static const char delivery_sql[] =
    "WITH ins AS (INSERT INTO deliveries (campaign_id, subscriber_id, list_id, data, to_name, tx_key, next_attempt_at)"
    "   VALUES ($1::bigint, $2::bigint, $3::bigint, coalesce($4::jsonb, '{}'), $5, $6, '-infinity')"
    "   ON CONFLICT (tx_key) WHERE tx_key IS NOT NULL DO NOTHING RETURNING id, campaign_id),"
    " cnt AS (UPDATE campaigns c SET n_total = c.n_total + 1, n_queued = c.n_queued + 1, updated_at = now()"
    "   FROM ins WHERE c.id = ins.campaign_id)"
    " SELECT id FROM ins";

static const char get_sql[] =
    "SELECT json_build_object('delivery', d.id, 'state', d.state, 'to', s.email, 'template', t.name,"
    " 'subject', c.subject, 'campaign', c.id, 'attempts', d.attempts, 'relay', d.relay, 'queue_id', d.queue_id,"
    " 'reply', CASE WHEN d.smtp_code IS NULL AND d.smtp_reply IS NULL THEN NULL"
    "   ELSE json_build_object('code', d.smtp_code, 'enhanced', d.smtp_enhanced, 'text', d.smtp_reply) END,"
    " 'created_at', d.created_at, 'sent_at', d.sent_at,"
    " 'next_attempt_at', CASE WHEN d.state = 'deferred' THEN d.next_attempt_at END)"
    " FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id AND c.kind = 'tx'"
    " JOIN subscribers s ON s.id = d.subscriber_id LEFT JOIN templates t ON t.id = c.template_id"
    " WHERE d.id = $1::bigint";

/* unconfirmed subscriptions to double opt-in lists with no confirmation waiting */
static const char confirm_lists_sql[] =
    "SELECT sl.list_id, s.email FROM subscriptions sl JOIN lists l ON l.id = sl.list_id"
    " JOIN subscribers s ON s.id = sl.subscriber_id"
    " WHERE sl.subscriber_id = $1::bigint AND sl.status = 'unconfirmed'"
    "   AND (l.optin = 'double' OR sl.list_id = ANY ($2::bigint[]))"
    "   AND s.status <> 'blocklisted'"
    "   AND NOT EXISTS (SELECT 1 FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id AND c.kind = 'tx'"
    "     JOIN templates t ON t.id = c.template_id AND t.name = '" CONFIRM_TEMPLATE "'"
    "     WHERE d.subscriber_id = sl.subscriber_id AND d.list_id = sl.list_id AND d.state IN ('queued', 'deferred'))"
    " ORDER BY sl.list_id";

static json_t *answer(const char *id, const char *state)
{
    return json_pack("{s:I,s:s}", "delivery", (json_int_t)strtoll(id, NULL, 10), "state", state);
}

/* the delivery queued before under T's key; 1 found (*OUT set), 0 none, or a store error */
static int by_key(PGconn *conn, const struct tx_new *t, json_t **out, enum tx_refusal *why, struct store_err *e)
{
    const char *p[] = { t->key, t->to };
    PGresult *res = pg_exec(conn, key_sql, 2, p);
    int rc = 0;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot read delivery");
    else if (PQntuples(res) > 0 && strcmp(PQgetvalue(res, 0, 2), "t") != 0) {
        *why = TX_KEY_REUSED;
        rc = store_fail(e, STORE_ERR_EXISTS, "the idempotency key was already used for delivery %s to another address",
                        PQgetvalue(res, 0, 0));
    } else if (PQntuples(res) > 0) {
        *out = answer(PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
        rc = 1;
    }
    PQclear(res);
    return rc;
}

/*
 * tx_queue - queue T inside the caller's transaction. Returns 1 with a new
 * delivery in ID, 0 when a delivery with T's key appeared meanwhile (the
 * caller rolls back and reads it), or a store error.
 */
static int tx_queue(PGconn *conn, const struct tx_new *t, char id[32], enum tx_refusal *why, struct store_err *e)
{
    char tmpl_id[32], tmpl_name[256], sub_id[32], camp_id[32];
    PGresult *res = pg_exec(conn, template_sql, 1, &t->template_ref);
    if (!pg_ok(res)) {
        int rc = store_fail_db(e, conn, res, "cannot read template");
        PQclear(res);
        return rc;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return store_fail(e, STORE_ERR_NOTFOUND, "no template \"%s\"", t->template_ref);
    }
    snprintf(tmpl_id, sizeof(tmpl_id), "%s", PQgetvalue(res, 0, 0));
    snprintf(tmpl_name, sizeof(tmpl_name), "%s", PQgetvalue(res, 0, 1));
    PQclear(res);

    const char *rp[] = { t->to, t->name };
    res = pg_exec(conn, recipient_sql, 2, rp);
    if (!pg_ok(res) || PQntuples(res) == 0) {
        int rc = store_fail_db(e, conn, res, "cannot add recipient");
        PQclear(res);
        return rc;
    }
    snprintf(sub_id, sizeof(sub_id), "%s", PQgetvalue(res, 0, 0));
    bool blocked = strcmp(PQgetvalue(res, 0, 1), "blocklisted") == 0;
    PQclear(res);
    if (blocked) {
        *why = TX_BLOCKLISTED;
        return store_fail(e, STORE_ERR_EXISTS, "%s is blocklisted: nothing is sent to it", t->to);
    }

    if (t->relay) {
        res = pg_exec(conn, "SELECT 1 FROM relays WHERE name = $1", 1, &t->relay);
        int found = pg_ok(res) && PQntuples(res) > 0, rc = pg_ok(res) ? STORE_OK : store_fail_db(e, conn, res,
                                                                                                  "cannot read relays");
        PQclear(res);
        if (rc < 0)
            return rc;
        if (!found) {
            *why = TX_NO_RELAY;
            return store_fail(e, STORE_ERR_NOTFOUND, "no relay \"%s\"", t->relay);
        }
    }
    const char *cp[] = { t->subject, t->from_name, t->from_addr, t->reply_to, tmpl_id, tmpl_name, t->relay };
    res = pg_exec(conn, campaign_sql, 7, cp);
    if (!pg_ok(res) || PQntuples(res) == 0) {
        int rc = store_fail_db(e, conn, res, "cannot set up the transactional campaign");
        PQclear(res);
        return rc;
    }
    snprintf(camp_id, sizeof(camp_id), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);

    char *data = t->data ? json_dumps(t->data, JSON_COMPACT) : NULL;
    const char *dp[] = { camp_id, sub_id, t->list_id, data, t->name, t->key };
    res = pg_exec(conn, delivery_sql, 6, dp);
    free(data);
    if (!pg_ok(res)) {
        int rc = store_fail_db(e, conn, res, "cannot queue the message");
        PQclear(res);
        return rc;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return 0;
    }
    snprintf(id, 32, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return 1;
}

/* store_tx_send - see tx.h. */
int store_tx_send(PGconn *conn, const struct tx_new *t, json_t **out, bool *created, enum tx_refusal *why,
                  struct store_err *e)
{
    char id[32];
    int rc;
    *out = NULL;
    *created = false;
    *why = TX_OK;
    if (t->key && (rc = by_key(conn, t, out, why, e)) != 0)
        return rc < 0 ? rc : STORE_OK;
    if (pg_begin(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot queue the message");
    rc = tx_queue(conn, t, id, why, e);
    if (rc <= 0) {
        pg_rollback(conn);
        if (rc < 0)
            return rc;
        /* the same key was queued meanwhile, by a request running at the same time */
        rc = by_key(conn, t, out, why, e);
        return rc < 0 ? rc : rc == 1 ? STORE_OK : store_fail(e, STORE_ERR_DB, "cannot queue the message");
    }
    if (pg_commit(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot queue the message");
    *out = answer(id, "queued");
    *created = true;
    return STORE_OK;
}

/* store_tx_get - see tx.h. */
int store_tx_get(PGconn *conn, const char *id, json_t **out, struct store_err *e)
{
    size_t n = strlen(id);
    if (n == 0 || n > 18 || strspn(id, "0123456789") != n)
        return store_fail(e, STORE_ERR_NOTFOUND, "no transactional delivery \"%.40s\"", id);
    PGresult *res = pg_exec(conn, get_sql, 1, &id);
    return store_json_row(conn, res, out, e, "cannot read delivery", "no transactional delivery %s", id);
}

/* the From of confirmations: [mail] from, else noreply@ the first DKIM key's domain; 0 or -1 (*SKIPPED: NO_FROM) */
static int confirm_from(PGconn *conn, char *name, size_t namelen, char addr[ADDRESS_MAX + 1], const char *no_from,
                        const char **skipped, struct store_err *e)
{
    const char *why, *from = store_settings.mail_from;
    if (from) {
        if (address_mailbox_parse(from, name, namelen, addr, &why) < 0) {
            *skipped = "[mail] from is not a valid \"Name <address>\"";
            return -1;
        }
        return 0;
    }
    PGresult *res = pg_exec(conn, "SELECT 'noreply@' || domain FROM dkim_keys ORDER BY id LIMIT 1", 0, NULL);
    if (!pg_ok(res)) {
        store_fail_db(e, conn, res, "cannot read DKIM keys");
        PQclear(res);
        return -2;
    }
    int rc = PQntuples(res) > 0 && address_normalize(PQgetvalue(res, 0, 0), addr, ADDRESS_MAX + 1, &why) == 0 ? 0 : -1;
    PQclear(res);
    name[0] = 0;
    if (rc < 0)
        *skipped = no_from;
    return rc;
}

/*
 * to_mail - run SQL (its rows: what to mail) and find the From. 1 with *RES
 * the rows to mail; 0 when there is nothing to mail, or no From (*SKIPPED
 * says why); a store error when the database failed (WHAT names the read).
 */
static int to_mail(PGconn *conn, const char *sql, int n, const char *const *params, const char *what,
                   const char *no_from, char *from_name, size_t namelen, char from_addr[ADDRESS_MAX + 1],
                   const char **skipped, PGresult **res, struct store_err *e)
{
    *res = pg_exec(conn, sql, n, params);
    int rc = pg_ok(*res) ? (PQntuples(*res) > 0) : store_fail_db(e, conn, *res, what);
    if (rc == 1) {
        int f = confirm_from(conn, from_name, namelen, from_addr, no_from, skipped, e);
        rc = f == -2 ? STORE_ERR_DB : f == -1 ? 0 : 1;
    }
    if (rc < 1) {
        PQclear(*res);
        *res = NULL;
    }
    return rc;
}

/* store_tx_confirm - see tx.h. */
int store_tx_confirm(PGconn *conn, const char *sub_id, int *queued, const char **skipped, struct store_err *e)
{
    return store_tx_confirm_lists(conn, sub_id, NULL, 0, queued, skipped, e);
}

/* store_tx_confirm_lists - see tx.h. */
int store_tx_confirm_lists(PGconn *conn, const char *sub_id, const uint64_t *also, size_t nalso, int *queued,
                           const char **skipped, struct store_err *e)
{
    char from_name[256], from_addr[ADDRESS_MAX + 1], id[32], tok[TOKEN_MAX + 1];
    unsigned char key[TOKEN_KEY_LEN];
    enum tx_refusal why;
    int rc = STORE_OK;
    *queued = 0;
    *skipped = NULL;
    struct buf ids = BUF_INIT;
    buf_appends(&ids, "{");
    for (size_t i = 0; i < nalso; i++)
        buf_appendf(&ids, "%s%" PRIu64, i ? "," : "", also[i]);
    buf_appends(&ids, "}");
    const char *cp[] = { sub_id, buf_cstr(&ids) };
    PGresult *res;
    int m = to_mail(conn, confirm_lists_sql, 2, cp, "cannot read subscriptions",
                    "no From for confirmation messages: set [mail] from", from_name, sizeof(from_name), from_addr,
                    skipped, &res, e);
    buf_free(&ids);
    if (m < 1)
        return m;
    if (store_secret(conn, "token_key", key, sizeof(key), e) < 0) {
        PQclear(res);
        return e->code;
    }
    struct buf url = BUF_INIT;
    for (int i = 0; i < PQntuples(res) && rc == STORE_OK; i++) {
        const char *list_id = PQgetvalue(res, i, 0);
        buf_reset(&url);
        buf_appends(&url, store_settings.public_url ? store_settings.public_url : "");
        while (url.len > 0 && url.data[url.len - 1] == '/')
            buf_truncate(&url, url.len - 1);
        token_make(key, 'c', strtoull(sub_id, NULL, 10), strtoull(list_id, NULL, 10), tok, sizeof(tok));
        buf_appends(&url, "/c/");
        buf_appends(&url, tok);
        json_t *data = json_pack("{s:s}", "confirm_url", buf_cstr(&url));
        struct tx_new t = {
            .template_ref = CONFIRM_TEMPLATE,
            .to = PQgetvalue(res, i, 1),
            .data = data,
            .subject = store_settings.confirm_subject ? store_settings.confirm_subject : "",
            .from_name = from_name,
            .from_addr = from_addr,
            .list_id = list_id,
        };
        int q = tx_queue(conn, &t, id, &why, e);
        json_decref(data);
        if (q == 1)
            (*queued)++;
        else if (q == STORE_ERR_NOTFOUND)
            *skipped = "no template \"" CONFIRM_TEMPLATE "\" (postino db init installs it)";
        else
            rc = q < 0 ? q : store_fail(e, STORE_ERR_DB, "cannot queue the confirmation");
    }
    OPENSSL_cleanse(key, sizeof(key));
    buf_free(&url);
    PQclear(res);
    return rc;
}


/* store_tx_welcome - see tx.h. */
int store_tx_welcome(PGconn *conn, const char *sub_id, uint64_t list_id, int *queued, struct store_err *e)
{
    char from_name[256], from_addr[ADDRESS_MAX + 1], id[32], lid[24];
    const char *skipped = NULL;
    enum tx_refusal why;
    PGresult *res;
    *queued = 0;
    snprintf(lid, sizeof(lid), "%" PRIu64, list_id);
    const char *p[] = { sub_id, lid };
    int m = to_mail(conn,
                    "SELECT l.welcome_template_id, l.welcome_subject, s.email FROM lists l, subscribers s"
                    " WHERE l.id = $2::bigint AND s.id = $1::bigint AND l.welcome_template_id IS NOT NULL"
                    "   AND s.status <> 'blocklisted'",
                    2, p, "cannot read the list's welcome message", "no From for welcome messages: set [mail] from",
                    from_name, sizeof(from_name), from_addr, &skipped, &res, e);
    if (skipped)
        log_warn("subscriber %s: no welcome message sent: %s", sub_id, skipped);
    if (m < 1)
        return m;
    struct tx_new t = {
        .template_ref = PQgetvalue(res, 0, 0),
        .to = PQgetvalue(res, 0, 2),
        .subject = PQgetvalue(res, 0, 1),
        .from_name = from_name,
        .from_addr = from_addr,
        .list_id = lid,
    };
    int q = tx_queue(conn, &t, id, &why, e);
    PQclear(res);
    if (q == 1) {
        *queued = 1;
        return STORE_OK;
    }
    return q < 0 ? q : store_fail(e, STORE_ERR_DB, "cannot queue the welcome message");
}
