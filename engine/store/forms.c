/*
 * forms - public signup forms: lists offered, abuse limits, the signup
 * (see forms.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "engine/store/daily.h"
#include "engine/store/forms.h"
#include "engine/store/lists.h"
#include "engine/store/pg.h"
#include "engine/store/tx.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"
#include "engine/util/log.h"

/* store_form_lists - see forms.h. */
int store_form_lists(PGconn *conn, const char *const *refs, size_t nrefs, json_t **out, struct store_err *e)
{
    *out = json_array();
    for (size_t i = 0; i < nrefs; i++) {
        PGresult *res = pg_exec(conn,
                                "SELECT l.id, l.name, l.description, l.optin FROM lists l"
                                " WHERE " LIST_REF_MATCH(1) " AND l.public ORDER BY (l.name = $1) DESC LIMIT 1",
                                1, &refs[i]);
        if (!pg_ok(res) || PQntuples(res) == 0) {
            int rc = pg_ok(res) ? store_fail(e, STORE_ERR_NOTFOUND, "no public list \"%.200s\"", refs[i])
                                : store_fail_db(e, conn, res, "cannot read lists");
            PQclear(res);
            json_decref(*out);
            *out = NULL;
            return rc;
        }
        json_int_t id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        bool dup = false;
        size_t j;
        json_t *l;
        json_array_foreach(*out, j, l) dup |= json_integer_value(json_object_get(l, "id")) == id;
        if (!dup)
            json_array_append_new(*out, json_pack("{s:I, s:s, s:s, s:s}", "id", id, "name", PQgetvalue(res, 0, 1),
                                                  "description", PQgetvalue(res, 0, 2), "optin",
                                                  PQgetvalue(res, 0, 3)));
        PQclear(res);
    }
    return STORE_OK;
}

/* store_form_lists_text - see forms.h. */
int store_form_lists_text(PGconn *conn, const char *text, json_t **out, struct store_err *e)
{
    char *refs[FORM_LISTS_MAX];
    size_t n = 0;
    int rc = STORE_OK;
    *out = NULL;
    for (const char *s = text; *s && rc == STORE_OK;) {
        size_t len = strcspn(s, ",");
        if (len > 0 && n == FORM_LISTS_MAX)
            rc = store_fail_field(e, "list", "a form offers %d lists at most", FORM_LISTS_MAX);
        else if (len > 0)
            refs[n++] = xstrndup(s, len);
        s += len + (s[len] == ',');
    }
    if (rc == STORE_OK && n == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no list named");
    if (rc == STORE_OK)
        rc = store_form_lists(conn, (const char *const *)refs, n, out, e);
    for (size_t i = 0; i < n; i++)
        xfree(refs[i]);
    return rc;
}

/* store_form_hit - see forms.h. */
int store_form_hit(PGconn *conn, const char *key, unsigned limit, unsigned window_s, bool *over, struct store_err *e)
{
    char win[16], lim[16];
    snprintf(win, sizeof(win), "%u", window_s);
    snprintf(lim, sizeof(lim), "%u", limit);
    const char *p[] = { key, win, lim };
    *over = false;
    /* a fixed window per key; now and then the windows of yesterday go */
    PGresult *res = pg_exec(conn,
                            "WITH purge AS (DELETE FROM form_limits WHERE random() < 0.01"
                            "   AND window_start < now() - interval '1 day')"
                            " INSERT INTO form_limits AS f (key, window_start, hits) VALUES ($1, now(), 1)"
                            " ON CONFLICT (key) DO UPDATE SET"
                            "   hits = CASE WHEN f.window_start <= now() - make_interval(secs => $2::int) THEN 1"
                            "     ELSE f.hits + 1 END,"
                            "   window_start = CASE WHEN f.window_start <= now() - make_interval(secs => $2::int)"
                            "     THEN now() ELSE f.window_start END"
                            " RETURNING hits > $3::int",
                            3, p);
    if (!pg_ok(res) || PQntuples(res) != 1) {
        int rc = store_fail_db(e, conn, res, "cannot count form posts");
        PQclear(res);
        return rc;
    }
    *over = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return STORE_OK;
}

/* store_form_pow_spend - see forms.h. */
int store_form_pow_spend(PGconn *conn, const char *challenge, unsigned keep_s, bool *fresh, struct store_err *e)
{
    char keep[16];
    snprintf(keep, sizeof(keep), "%u", keep_s);
    const char *p[] = { challenge, keep };
    PGresult *res = pg_exec(conn,
                            "WITH purge AS (DELETE FROM form_pow_spent WHERE random() < 0.01"
                            "   AND spent_at < now() - make_interval(secs => $2::int))"
                            " INSERT INTO form_pow_spent (challenge) VALUES ($1) ON CONFLICT DO NOTHING RETURNING 1",
                            2, p);
    if (!pg_ok(res)) {
        int rc = store_fail_db(e, conn, res, "cannot record the form's challenge");
        PQclear(res);
        return rc;
    }
    *fresh = PQntuples(res) == 1;
    PQclear(res);
    return STORE_OK;
}

/* store_form_addr_hash - see forms.h. */
void store_form_addr_hash(const char *addr, char out[65])
{
    unsigned char md[32];
    unsigned mdlen = 0;
    char low[512];
    size_t n = strlen(addr) < sizeof(low) - 1 ? strlen(addr) : sizeof(low) - 1;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)(addr[i] >= 'A' && addr[i] <= 'Z' ? addr[i] + 32 : addr[i]);
    EVP_Digest(low, n, md, &mdlen, EVP_sha256(), NULL);
    for (size_t i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* the subscriber with S's address, made when there is none: 1 found or made (ID, *CREATED), 0 refused, or an error */
static int signup_subscriber(PGconn *conn, const struct form_signup *s, char id[32], bool *created,
                             struct store_err *e)
{
    const char *p[] = { s->email, s->name };
    PGresult *res = pg_exec(conn,
                            "WITH old AS (SELECT id, status FROM subscribers WHERE lower(email) = lower($1)),"
                            " s AS (INSERT INTO subscribers (email, name, attribs) SELECT $1, $2, '{}'"
                            "   WHERE NOT EXISTS (SELECT 1 FROM old) AND NOT suppressed($1) RETURNING id),"
                            " n AS (" DAILY_SUBSCRIBERS_SQL("(SELECT count(*) FROM s)") ")"
                            " SELECT id, status, false FROM old UNION ALL SELECT id, 'enabled', true FROM s",
                            2, p);
    if (!pg_ok(res)) {
        int rc = store_fail_db(e, conn, res, "cannot add subscriber");
        PQclear(res);
        return rc;
    }
    int found = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 1), "blocklisted") != 0;
    if (found) {
        snprintf(id, 32, "%s", PQgetvalue(res, 0, 0));
        *created = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
    }
    PQclear(res);
    return found;
}

/* the subscription of SUB to list LIST as a form changes it; *JOINED (made confirmed), *REASK (single opt-in, unconfirmed) */
static int signup_list(PGconn *conn, const char *sub, uint64_t list, bool *joined, bool *pending, bool *reask,
                       struct store_err *e)
{
    char lid[24];
    snprintf(lid, sizeof(lid), "%" PRIu64, list);
    const char *p[] = { sub, lid };
    /* none: as the list's opt-in says; unsubscribed: unconfirmed; unconfirmed and confirmed stay */
    PGresult *res = pg_exec(conn,
                            "WITH l AS (SELECT id, optin FROM lists WHERE id = $2::bigint),"
                            " old AS (SELECT status FROM subscriptions WHERE subscriber_id = $1::bigint"
                            "   AND list_id = $2::bigint),"
                            " ins AS (INSERT INTO subscriptions (subscriber_id, list_id, status)"
                            "   SELECT $1::bigint, l.id, CASE WHEN l.optin = 'double' THEN 'unconfirmed' ELSE 'confirmed' END"
                            "   FROM l WHERE NOT EXISTS (SELECT 1 FROM old) RETURNING status),"
                            " upd AS (UPDATE subscriptions SET status = 'unconfirmed', updated_at = now()"
                            "   WHERE subscriber_id = $1::bigint AND list_id = $2::bigint AND status = 'unsubscribed'"
                            "   RETURNING status)"
                            " SELECT coalesce((SELECT status FROM ins), (SELECT status FROM upd), (SELECT status FROM old)),"
                            "   EXISTS (SELECT 1 FROM ins WHERE status = 'confirmed'),"
                            "   EXISTS (SELECT 1 FROM upd) AND (SELECT optin FROM l) = 'single'",
                            2, p);
    if (!pg_ok(res) || PQntuples(res) != 1) {
        int rc = store_fail_db(e, conn, res, "cannot subscribe");
        PQclear(res);
        return rc;
    }
    *pending = strcmp(PQgetvalue(res, 0, 0), "unconfirmed") == 0;
    *joined = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    *reask = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
    PQclear(res);
    return STORE_OK;
}

/* may a form mail S's address now (not mailed within confirm_interval)? 1 yes, 0 not yet, or an error */
static int mail_due(PGconn *conn, const struct form_signup *s, struct store_err *e)
{
    char hash[65], secs[16];
    store_form_addr_hash(s->email, hash);
    snprintf(secs, sizeof(secs), "%u", s->confirm_interval);
    const char *p[] = { hash, secs };
    PGresult *res = pg_exec(conn,
                            "SELECT 1 FROM form_mails"
                            " WHERE addr_hash = $1 AND sent_at > now() - make_interval(secs => $2::int)",
                            2, p);
    int rc = pg_ok(res) ? PQntuples(res) == 0 : store_fail_db(e, conn, res, "cannot read when the address was last mailed");
    PQclear(res);
    return rc;
}

/* mail_stamp - the address was mailed now (the caller holds its lock, see store_form_signup) */
static int mail_stamp(PGconn *conn, const struct form_signup *s, struct store_err *e)
{
    char hash[65];
    store_form_addr_hash(s->email, hash);
    const char *p[] = { hash };
    PGresult *res = pg_exec(conn,
                            "INSERT INTO form_mails (addr_hash, sent_at) VALUES ($1, now())"
                            " ON CONFLICT (addr_hash) DO UPDATE SET sent_at = now()",
                            1, p);
    int rc = pg_ok(res) ? STORE_OK : store_fail_db(e, conn, res, "cannot record when the address was mailed");
    PQclear(res);
    return rc;
}

/* store_form_signup - see forms.h. */
int store_form_signup(PGconn *conn, const struct form_signup *s, struct form_outcome *o, struct store_err *e)
{
    char sub[32], lock[300];
    uint64_t reask[FORM_LISTS_MAX], welcome[FORM_LISTS_MAX];
    size_t nreask = 0, nwelcome = 0;
    int rc;
    memset(o, 0, sizeof(*o));
    if (s->nlists == 0 || s->nlists > FORM_LISTS_MAX)
        return store_fail_field(e, "list", "a form signs up to 1 to %d lists", FORM_LISTS_MAX);
    if (pg_begin(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot subscribe");
    /* two posts of one address at once: one after the other, so that one of them mails */
    snprintf(lock, sizeof(lock), "form:%s", s->email);
    const char *lp[] = { lock };
    PGresult *res = pg_exec(conn, "SELECT pg_advisory_xact_lock(hashtextextended(lower($1), 0))", 1, lp);
    rc = pg_ok(res) ? STORE_OK : store_fail_db(e, conn, res, "cannot subscribe");
    PQclear(res);
    if (rc < 0)
        goto fail;
    rc = signup_subscriber(conn, s, sub, &o->created, e);
    if (rc < 0)
        goto fail;
    if (rc == 0) {
        o->refused = true;
        return pg_commit(conn) < 0 ? store_fail_db(e, conn, NULL, "cannot subscribe") : STORE_OK;
    }
    for (size_t i = 0; i < s->nlists; i++) {
        bool joined = false, pending = false, again = false;
        if ((rc = signup_list(conn, sub, s->lists[i], &joined, &pending, &again, e)) < 0)
            goto fail;
        o->joined += joined;
        o->pending += pending;
        if (again)
            reask[nreask++] = s->lists[i];
        if (joined)
            welcome[nwelcome++] = s->lists[i];
    }
    /* mail: the confirmations waiting (store_tx_confirm_lists skips one already queued) and welcomes */
    if (o->pending || nwelcome) {
        int due = mail_due(conn, s, e);
        if (due < 0) {
            rc = due;
            goto fail;
        }
        if (!due) {
            o->held = true;
        } else {
            int queued = 0;
            const char *skipped = NULL;
            if ((rc = store_tx_confirm_lists(conn, sub, reask, nreask, &queued, &skipped, e)) < 0)
                goto fail;
            o->mailed += queued;
            if (skipped)
                log_warn("form: no confirmation message sent: %s", skipped);
            for (size_t i = 0; i < nwelcome; i++) {
                if ((rc = store_tx_welcome(conn, sub, welcome[i], &queued, e)) < 0)
                    goto fail;
                o->mailed += queued;
            }
            /* held for confirm_interval only once something was mailed */
            if (o->mailed && (rc = mail_stamp(conn, s, e)) < 0)
                goto fail;
        }
    }
    if (pg_commit(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot subscribe");
    return STORE_OK;
fail:
    pg_rollback(conn);
    return rc;
}

/* store_form_page - see forms.h. */
int store_form_page(PGconn *conn, char **html, struct store_err *e)
{
    *html = NULL;
    PGresult *res = pg_exec(conn, "SELECT html FROM templates WHERE name = '" FORM_PAGE_TEMPLATE "'", 0, NULL);
    if (!pg_ok(res)) {
        int rc = store_fail_db(e, conn, res, "cannot read the signup page's template");
        PQclear(res);
        return rc;
    }
    if (PQntuples(res) == 1)
        *html = xstrdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return STORE_OK;
}
