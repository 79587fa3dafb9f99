/*
 * subscribers - queries for subscribers and subscriptions.
 *
 * Listing streams rows in libpq's single-row mode, so listing a million
 * subscribers holds one row in memory at a time.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mail/subscriber_fields.h"
#include "engine/store/daily.h"
#include "engine/store/lists.h"
#include "engine/store/pg.h"
#include "engine/store/subscribers.h"
#include "engine/store/tx.h"
#include "engine/util/alloc.h"
#include "engine/util/log.h"
#include "engine/util/str.h"

#define SUBSCRIBER_JSON                                                                    \
    "json_build_object('id', s.id, 'email', s.email, 'name', s.name, 'attribs', s.attribs," \
    " 'status', s.status, 'created_at', s.created_at, 'updated_at', s.updated_at,"         \
    " 'lists', (SELECT coalesce(json_agg(json_build_object('id', l.id, 'name', l.name,"    \
    "   'status', sl.status, 'optin', l.optin) ORDER BY l.name), '[]')"                    \
    "   FROM subscriptions sl JOIN lists l ON l.id = sl.list_id WHERE sl.subscriber_id = s.id))"

/*
 * the rule for a subscriber's NAME and ATTRIBS as given (either may be NULL);
 * REMOVALS: an edit, whose null attributes remove their keys. 0, or
 * STORE_ERR_INVALID naming the field "name" or "attribs".
 */
static int fields_check(const char *name, json_t *attribs, bool removals, struct store_err *e)
{
    const char *why, *key;
    if (name && subscriber_name_check(name, &why) < 0)
        return store_fail_field(e, "name", "the subscriber name %s", why);
    if (attribs && subscriber_attribs_check(attribs, removals, &key, &why) < 0) {
        size_t n = key ? strlen(key) : 0, shown = n > 60 ? 60 : n;
        if (!n || !str_utf8_valid(key, n, NULL))
            return store_fail_field(e, "attribs", key ? "an attribute name %s" : "the attributes %s", why);
        while (shown < n && ((unsigned char)key[shown] & 0xC0) == 0x80)
            shown--;   /* cut on a character boundary */
        return store_fail_field(e, "attribs", "the attribute name \"%.*s%s\" %s", (int)shown, key,
                                shown < n ? "..." : "", why);
    }
    return STORE_OK;
}

/*
 * store_subscriber_add - add S; STORE_ERR_EXISTS when the email is taken in
 * any case, STORE_ERR_INVALID naming the field for a name or attributes
 * that break the rules (subscriber_fields.h: a name may hold line breaks and
 * tabs, no other control character), STORE_ERR_EXISTS too for an address
 * erased earlier that stays suppressed (privacy.h). Each unconfirmed subscription to a double opt-in list gets its
 * confirmation message queued in the same transaction (store_tx_confirm).
 */
int store_subscriber_add(PGconn *conn, const struct subscriber_new *s, json_t **out, struct store_err *e)
{
    if (fields_check(s->name, s->attribs, false, e) < 0)
        return e->code;
    char *attribs = s->attribs ? json_dumps(s->attribs, JSON_COMPACT) : NULL;
    json_t *refs = json_array();
    for (size_t i = 0; i < s->nlists; i++)
        json_array_append_new(refs, json_string(s->lists[i]));
    char *lists = json_dumps(refs, JSON_COMPACT);
    json_decref(refs);
    const char *params[] = { s->email, s->name ? s->name : "", attribs ? attribs : "{}", lists, s->sub_status };
    char sub_id[32];
    int rc = STORE_OK;

    if (s->sub_status && strcmp(s->sub_status, "confirmed") != 0 && strcmp(s->sub_status, "unconfirmed") != 0) {
        free(attribs);
        free(lists);
        return store_fail(e, STORE_ERR_INVALID, "subscription status must be confirmed or unconfirmed");
    }
    if (pg_begin(conn) < 0) {
        free(attribs);
        free(lists);
        return store_fail_db(e, conn, NULL, "cannot add subscriber");
    }
    /* the subscriber and its subscriptions in one statement; a list named twice counts once */
    PGresult *res = pg_exec(conn,
                            "WITH s AS (INSERT INTO subscribers (email, name, attribs) SELECT $1, $2, $3::jsonb"
                            "   WHERE NOT suppressed($1) RETURNING id),"
                            " r AS (SELECT x.ref, x.ord FROM jsonb_array_elements_text($4::jsonb) WITH ORDINALITY"
                            "   AS x(ref, ord)),"
                            " l AS (SELECT DISTINCT ON (r.ord) r.ord, l.id, l.optin FROM r JOIN lists l"
                            "   ON l.name = r.ref OR l.id = CASE WHEN r.ref ~ '^[0-9]{1,18}$' THEN r.ref::bigint END"
                            "   ORDER BY r.ord, (l.name = r.ref) DESC),"
                            " v AS (SELECT DISTINCT ON (l.id) l.id, l.optin, coalesce($5, CASE WHEN l.optin = 'double'"
                            "   THEN 'unconfirmed' ELSE 'confirmed' END) AS status FROM l),"
                            " i AS (INSERT INTO subscriptions (subscriber_id, list_id, status)"
                            "   SELECT s.id, v.id, v.status FROM s, v ON CONFLICT (subscriber_id, list_id) DO NOTHING),"
                            " n AS (" DAILY_SUBSCRIBERS_SQL("(SELECT count(*) FROM s)") ")"
                            " SELECT s.id, (SELECT r.ref FROM r WHERE r.ord NOT IN (SELECT ord FROM l) ORDER BY r.ord"
                            "   LIMIT 1), EXISTS (SELECT 1 FROM v WHERE v.optin = 'double' AND v.status = 'unconfirmed')"
                            " FROM s",
                            5, params);
    free(attribs);
    free(lists);
    if (!pg_ok(res)) {
        if (strcmp(pg_sqlstate(res), PG_UNIQUE_VIOLATION) == 0)
            rc = store_fail(e, STORE_ERR_EXISTS, "subscriber %s already exists", s->email);
        else
            rc = store_fail_db(e, conn, res, "cannot add subscriber");
        PQclear(res);
        goto fail;
    }
    if (PQntuples(res) == 0) {
        rc = store_fail(e, STORE_ERR_EXISTS, "subscriber %s was erased and stays suppressed", s->email);
        PQclear(res);
        goto fail;
    }
    if (!PQgetisnull(res, 0, 1)) {
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no list \"%s\"", PQgetvalue(res, 0, 1));
        PQclear(res);
        goto fail;
    }
    snprintf(sub_id, sizeof(sub_id), "%s", PQgetvalue(res, 0, 0));
    bool confirm = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
    PQclear(res);
    /* double opt-in: the confirmation message is queued with the subscription, or neither is */
    int queued;
    const char *skipped = NULL;
    if (confirm && (rc = store_tx_confirm(conn, sub_id, &queued, &skipped, e)) < 0)
        goto fail;
    if (skipped)
        log_warn("subscriber %s: no confirmation message sent: %s", s->email, skipped);
    if (pg_commit(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot add subscriber");
    return store_subscriber_get(conn, s->email, out, e);
fail:
    pg_rollback(conn);
    return rc;
}

/* a LIKE pattern finding the text of parameter N anywhere, lower-cased, its \ % _ escaped */
#define SEARCH_PATTERN(n) \
    "('%' || replace(replace(replace(lower($" #n "), '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%')"

/*
 * the rule for a search text Q: trimmed, SUBSCRIBER_SEARCH_MIN to
 * SUBSCRIBER_SEARCH_MAX characters of UTF-8; the trimmed text in OUT, or
 * STORE_ERR_INVALID naming the field "q"
 */
static int search_text(const char *q, char out[SUBSCRIBER_SEARCH_MAX * 4 + 1], struct store_err *e)
{
    size_t n = strlen(q), chars = 0;
    while (n && (*q == ' ' || *q == '\t')) {
        q++;
        n--;
    }
    while (n && (q[n - 1] == ' ' || q[n - 1] == '\t'))
        n--;
    if (!str_utf8_valid(q, n, NULL))
        return store_fail_field(e, "q", "the search text is not valid UTF-8");
    for (size_t i = 0; i < n; i++)
        chars += ((unsigned char)q[i] & 0xC0) != 0x80;
    if (chars < SUBSCRIBER_SEARCH_MIN)
        return store_fail_field(e, "q", "the search text needs at least %d characters (a piece of an address or a name)",
                                SUBSCRIBER_SEARCH_MIN);
    if (chars > SUBSCRIBER_SEARCH_MAX)
        return store_fail_field(e, "q", "the search text is longer than %d characters", SUBSCRIBER_SEARCH_MAX);
    memcpy(out, q, n);
    out[n] = 0;
    return STORE_OK;
}

/*
 * store_subscriber_each - call CB for each subscriber matching F, by id; CB
 * returning non-zero stops. A search (F->q) matches the piece anywhere in the
 * address or the name, in any letter case, LIKE's % and _ taken as they are;
 * it is looked up in the trigram indexes of sql/014_subscriber_search.sql.
 * STORE_ERR_INVALID (field "q") for a search text out of bounds,
 * STORE_ERR_NOTFOUND for an unknown list.
 */
int store_subscriber_each(PGconn *conn, const struct subscriber_filter *f, subscriber_row_cb cb, void *arg,
                          struct store_err *e)
{
    char after[32], limit[32], q[SUBSCRIBER_SEARCH_MAX * 4 + 1];
    snprintf(after, sizeof(after), "%lld", f->after);
    snprintf(limit, sizeof(limit), "%ld", f->limit);
    if (f->q && search_text(f->q, q, e) < 0)
        return e->code;
    const char *params[] = { f->list, f->status, after, f->limit > 0 ? limit : NULL, f->q ? q : NULL };
    if (f->list) {
        json_t *l = NULL;
        int rc = store_list_get(conn, f->list, &l, e);
        json_decref(l);
        if (rc < 0)
            return rc;
    }
    if (!PQsendQueryParams(conn,
                           "SELECT " SUBSCRIBER_JSON " FROM subscribers s"
                           " WHERE s.id > $3::bigint"
                           " AND ($2::text IS NULL OR s.status = $2)"
                           " AND ($1::text IS NULL OR EXISTS (SELECT 1 FROM subscriptions sl JOIN lists l"
                           "   ON l.id = sl.list_id WHERE sl.subscriber_id = s.id AND " LIST_REF_MATCH(1) "))"
                           " AND ($5::text IS NULL OR lower(s.email) LIKE " SEARCH_PATTERN(5)
                           "   OR lower(s.name) LIKE " SEARCH_PATTERN(5) ")"
                           " ORDER BY s.id LIMIT $4::bigint",
                           5, NULL, params, NULL, NULL, 0) ||
        !PQsetSingleRowMode(conn))
        return store_fail_db(e, conn, NULL, "cannot list subscribers");
    int rc = STORE_OK, stop = 0;
    PGresult *res;
    while ((res = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(res) == PGRES_SINGLE_TUPLE && !stop) {
            json_t *row = store_json(res, 0, 0);
            stop = cb(row, arg);
            json_decref(row);
        } else if (!pg_ok(res) && rc == STORE_OK) {
            rc = store_fail_db(e, conn, res, "cannot list subscribers");
        }
        PQclear(res);
    }
    return rc;
}

/* store_subscriber_get - the subscriber EMAIL names; STORE_ERR_NOTFOUND when none. */
int store_subscriber_get(PGconn *conn, const char *email, json_t **out, struct store_err *e)
{
    const char *params[] = { email };
    PGresult *res = pg_exec(conn, "SELECT " SUBSCRIBER_JSON " FROM subscribers s WHERE lower(s.email) = lower($1)",
                            1, params);
    return store_json_row(conn, res, out, e, "cannot read subscriber", "no subscriber %s", email);
}

/* store_subscriber_get_id - the subscriber numbered ID (decimal digits); STORE_ERR_NOTFOUND when none. */
int store_subscriber_get_id(PGconn *conn, const char *id, json_t **out, struct store_err *e)
{
    size_t n = strlen(id);
    if (n == 0 || n > 18 || strspn(id, "0123456789") != n)
        return store_fail(e, STORE_ERR_NOTFOUND, "no subscriber \"%s\"", id);
    PGresult *res = pg_exec(conn, "SELECT " SUBSCRIBER_JSON " FROM subscribers s WHERE s.id = $1::bigint", 1, &id);
    return store_json_row(conn, res, out, e, "cannot read subscriber", "no subscriber %s", id);
}

/* store_subscriber_email - EMAIL of subscriber ID; NOTFOUND when ID is no subscriber's. */
int store_subscriber_email(PGconn *conn, const char *id, char email[256], struct store_err *e)
{
    size_t n = strlen(id);
    if (n == 0 || n > 18 || strspn(id, "0123456789") != n)
        return store_fail(e, STORE_ERR_NOTFOUND, "no subscriber \"%s\"", id);
    PGresult *res = pg_exec(conn, "SELECT email FROM subscribers WHERE id = $1::bigint", 1, &id);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot read subscriber");
    else if (PQntuples(res) == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no subscriber %s", id);
    else
        snprintf(email, 256, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

/*
 * store_subscriber_set - change the name and attributes of the subscriber
 * EMAIL names as S says, in one statement: the attributes given are merged
 * key by key over the stored ones, a null value removing its key (a JSON merge
 * patch one level deep). STORE_ERR_INVALID naming the field when S breaks the
 * rules (subscriber_fields.h), STORE_ERR_NOTFOUND for no such subscriber.
 * *OUT is the subscriber as it is afterwards.
 */
int store_subscriber_set(PGconn *conn, const char *email, const struct subscriber_edit *s, json_t **out,
                         struct store_err *e)
{
    if (fields_check(s->name, s->attribs, true, e) < 0)
        return e->code;
    char *attribs = s->attribs ? json_dumps(s->attribs, JSON_COMPACT) : NULL;
    const char *params[] = { email, s->name, attribs };
    PGresult *res = pg_exec(conn,
                            "UPDATE subscribers SET name = coalesce($2, name),"
                            " attribs = CASE WHEN $3::jsonb IS NULL THEN attribs ELSE (attribs || $3::jsonb)"
                            "   - ARRAY(SELECT k FROM jsonb_each($3::jsonb) AS x(k, v) WHERE jsonb_typeof(v) = 'null')"
                            "   END, updated_at = now()"
                            " WHERE lower(email) = lower($1)",
                            3, params);
    free(attribs);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot change subscriber");
    else if (strcmp(PQcmdTuples(res), "0") == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no subscriber %s", email);
    PQclear(res);
    return rc < 0 ? rc : store_subscriber_get(conn, email, out, e);
}

/* store_subscriber_rm - delete the subscriber EMAIL names. */
int store_subscriber_rm(PGconn *conn, const char *email, struct store_err *e)
{
    const char *params[] = { email };
    PGresult *res = pg_exec(conn, "DELETE FROM subscribers WHERE lower(email) = lower($1)", 1, params);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot remove subscriber");
    else if (strcmp(PQcmdTuples(res), "0") == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no subscriber %s", email);
    PQclear(res);
    return rc;
}

/* store_subscriber_blocklist - blocklist EMAIL and unsubscribe it from every list, in one statement. */
int store_subscriber_blocklist(PGconn *conn, const char *email, json_t **out, struct store_err *e)
{
    const char *params[] = { email };
    PGresult *res = pg_exec(conn,
                            "WITH s AS (UPDATE subscribers SET status = 'blocklisted', updated_at = now()"
                            "   WHERE lower(email) = lower($1) RETURNING id),"
                            " u AS (UPDATE subscriptions SET status = 'unsubscribed', updated_at = now()"
                            "   WHERE subscriber_id IN (SELECT id FROM s) AND status <> 'unsubscribed')"
                            " SELECT count(*) FROM s",
                            1, params);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot blocklist subscriber");
    else if (strcmp(PQgetvalue(res, 0, 0), "0") == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no subscriber %s", email);
    PQclear(res);
    if (rc == STORE_OK)
        rc = store_subscriber_get(conn, email, out, e);
    return rc;
}

#define SUBSCRIPTION_JSON                                                                  \
    "json_build_object('list_id', l.id, 'list', l.name, 'optin', l.optin, 'status', sl.status," \
    " 'created_at', sl.created_at, 'updated_at', sl.updated_at)"

/* store_subscription_ls - the subscriptions of subscriber EMAIL, by list name. */
int store_subscription_ls(PGconn *conn, const char *email, json_t **out, struct store_err *e)
{
    const char *params[] = { email };
    PGresult *res = pg_exec(conn,
                            "SELECT (SELECT coalesce(json_agg(" SUBSCRIPTION_JSON " ORDER BY l.name), '[]')"
                            " FROM subscriptions sl JOIN lists l ON l.id = sl.list_id WHERE sl.subscriber_id = s.id)"
                            " FROM subscribers s WHERE lower(s.email) = lower($1)",
                            1, params);
    return store_json_row(conn, res, out, e, "cannot read subscriptions", "no subscriber %s", email);
}

/* the subscription of EMAIL to list LIST (name or id) as JSON; STORE_ERR_NOTFOUND naming what is missing */
static int subscription_get(PGconn *conn, const char *email, const char *list, json_t **out, struct store_err *e)
{
    const char *params[] = { email, list };
    PGresult *res = pg_exec(conn,
                            "SELECT " SUBSCRIPTION_JSON " FROM subscriptions sl JOIN lists l ON l.id = sl.list_id"
                            " JOIN subscribers s ON s.id = sl.subscriber_id WHERE lower(s.email) = lower($1)"
                            " AND l.id = (SELECT l.id FROM lists l WHERE " LIST_REF_MATCH(2)
                            "   ORDER BY (l.name = $2) DESC LIMIT 1)",
                            2, params);
    return store_json_row(conn, res, out, e, "cannot read subscription", "%s is not subscribed to list \"%s\"",
                          email, list);
}

/*
 * store_subscription_set - subscribe EMAIL to LIST with STATUS (NULL:
 * confirmed on a single opt-in list, unconfirmed on a double one). An
 * existing subscription changes only to a STATUS given, or back from
 * unsubscribed; *CREATED says whether it is new. STORE_ERR_NOTFOUND for an
 * unknown subscriber or list, STORE_ERR_EXISTS when it already has that
 * status or the subscriber is blocklisted. *OUT is the subscription.
 */
int store_subscription_set(PGconn *conn, const char *email, const char *list, const char *status, bool *created,
                           json_t **out, struct store_err *e)
{
    const char *p1[] = { email, list };
    PGresult *res = pg_exec(conn,
                            "SELECT s.id, s.status, (SELECT l.id FROM lists l WHERE " LIST_REF_MATCH(2)
                            "   ORDER BY (l.name = $2) DESC LIMIT 1),"
                            " (SELECT l.optin FROM lists l WHERE " LIST_REF_MATCH(2)
                            "   ORDER BY (l.name = $2) DESC LIMIT 1)"
                            " FROM subscribers s WHERE lower(s.email) = lower($1)",
                            2, p1);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot subscribe");
    else if (PQntuples(res) == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no subscriber %s", email);
    else if (PQgetisnull(res, 0, 2))
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no list \"%s\"", list);
    else if (strcmp(PQgetvalue(res, 0, 1), "blocklisted") == 0)
        rc = store_fail(e, STORE_ERR_EXISTS, "subscriber %s is blocklisted", email);
    if (rc < 0) {
        PQclear(res);
        return rc;
    }
    char sub_id[32], list_id[32];
    snprintf(sub_id, sizeof(sub_id), "%s", PQgetvalue(res, 0, 0));
    snprintf(list_id, sizeof(list_id), "%s", PQgetvalue(res, 0, 2));
    const char *st = status ? status : strcmp(PQgetvalue(res, 0, 3), "double") == 0 ? "unconfirmed" : "confirmed";
    PQclear(res);
    const char *p2[] = { sub_id, list_id, st, status ? "t" : "f" };
    if (pg_begin(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot subscribe");
    res = pg_exec(conn,
                  "INSERT INTO subscriptions AS sl (subscriber_id, list_id, status) VALUES ($1, $2, $3)"
                  " ON CONFLICT (subscriber_id, list_id) DO UPDATE SET status = EXCLUDED.status, updated_at = now()"
                  " WHERE sl.status <> EXCLUDED.status AND ($4::boolean OR sl.status = 'unsubscribed')"
                  " RETURNING (xmax = 0)",
                  4, p2);
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot subscribe");
    else if (PQntuples(res) == 0)
        rc = store_fail(e, STORE_ERR_EXISTS, "%s is already subscribed to list \"%s\"", email, list);
    else
        *created = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    /* double opt-in: the confirmation message is queued with the subscription, or neither is */
    int queued;
    const char *skipped = NULL;
    if (rc == STORE_OK)
        rc = store_tx_confirm(conn, sub_id, &queued, &skipped, e);
    if (rc < 0) {
        pg_rollback(conn);
        return rc;
    }
    if (skipped)
        log_warn("subscriber %s: no confirmation message sent: %s", email, skipped);
    if (pg_commit(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot subscribe");
    return subscription_get(conn, email, list, out, e);
}

/*
 * store_subscription_rm - mark EMAIL's subscription to LIST unsubscribed
 * (again is fine). STORE_ERR_NOTFOUND for an unknown subscriber or list or
 * no subscription. *OUT is the subscription.
 */
int store_subscription_rm(PGconn *conn, const char *email, const char *list, json_t **out, struct store_err *e)
{
    const char *params[] = { email, list };
    PGresult *res = pg_exec(conn,
                            "UPDATE subscriptions sl SET status = 'unsubscribed', updated_at = now()"
                            " FROM subscribers s WHERE s.id = sl.subscriber_id AND lower(s.email) = lower($1)"
                            " AND sl.list_id = (SELECT l.id FROM lists l WHERE " LIST_REF_MATCH(2)
                            "   ORDER BY (l.name = $2) DESC LIMIT 1) AND sl.status <> 'unsubscribed'",
                            2, params);
    int rc = pg_ok(res) ? STORE_OK : store_fail_db(e, conn, res, "cannot unsubscribe");
    PQclear(res);
    if (rc < 0)
        return rc;
    rc = subscription_get(conn, email, list, out, e);
    if (rc != STORE_ERR_NOTFOUND)
        return rc;
    /* say what is missing: the subscriber, the list, or the subscription */
    res = pg_exec(conn,
                  "SELECT EXISTS (SELECT 1 FROM subscribers s WHERE lower(s.email) = lower($1)),"
                  " EXISTS (SELECT 1 FROM lists l WHERE " LIST_REF_MATCH(2) ")",
                  2, params);
    if (pg_ok(res) && strcmp(PQgetvalue(res, 0, 0), "f") == 0)
        store_fail(e, STORE_ERR_NOTFOUND, "no subscriber %s", email);
    else if (pg_ok(res) && strcmp(PQgetvalue(res, 0, 1), "f") == 0)
        store_fail(e, STORE_ERR_NOTFOUND, "no list \"%s\"", list);
    PQclear(res);
    return rc;
}

/* run SQL with $1 the subscriber's id and $2 the campaign's */
static PGresult *exec_pair(PGconn *conn, const char *sql, uint64_t subscriber_id, uint64_t campaign_id)
{
    char sid[24], cid[24];
    snprintf(sid, sizeof(sid), "%" PRIu64, subscriber_id);
    snprintf(cid, sizeof(cid), "%" PRIu64, campaign_id);
    const char *params[] = { sid, cid };
    return pg_exec(conn, sql, 2, params);
}

/* store_subscription_unsub_info - {"email", "lists": [names], "subscribed": bool} for the pair. */
int store_subscription_unsub_info(PGconn *conn, uint64_t subscriber_id, uint64_t campaign_id, json_t **out,
                                  struct store_err *e)
{
    PGresult *res = exec_pair(conn,
                              "SELECT json_build_object('email', s.email,"
                              " 'lists', (SELECT coalesce(json_agg(l.name ORDER BY l.name), '[]')"
                              "   FROM campaign_lists cl JOIN lists l ON l.id = cl.list_id"
                              "   WHERE cl.campaign_id = c.id),"
                              " 'subscribed', EXISTS (SELECT 1 FROM subscriptions sl JOIN campaign_lists cl"
                              "   ON cl.list_id = sl.list_id WHERE cl.campaign_id = c.id AND sl.subscriber_id = s.id"
                              "   AND sl.status <> 'unsubscribed'))"
                              " FROM subscribers s, campaigns c WHERE s.id = $1::bigint AND c.id = $2::bigint",
                              subscriber_id, campaign_id);
    return store_json_row(conn, res, out, e, "cannot read unsubscribe link", "no such subscription");
}

/*
 * store_subscription_unsub_campaign - mark the subscriber unsubscribed on each
 * list of the campaign; *CHANGED how many moved. One that moved counts as one
 * unsubscribe of the campaign's, today (daily_counts).
 */
int store_subscription_unsub_campaign(PGconn *conn, uint64_t subscriber_id, uint64_t campaign_id, long *changed,
                                      struct store_err *e)
{
    PGresult *res = exec_pair(conn,
                              "WITH u AS (UPDATE subscriptions SET status = 'unsubscribed', updated_at = now()"
                              "   WHERE subscriber_id = $1::bigint AND status <> 'unsubscribed'"
                              "   AND list_id IN (SELECT list_id FROM campaign_lists WHERE campaign_id = $2::bigint)"
                              "   AND EXISTS (SELECT 1 FROM campaigns WHERE id = $2::bigint) RETURNING 1),"
                              /* one unsubscribe of the campaign's, however many of its lists it left */
                              " n AS (INSERT INTO daily_counts AS dc (day, campaign_id, unsubscribes)"
                              "   SELECT (now() AT TIME ZONE 'UTC')::date, $2::bigint, 1 WHERE EXISTS (SELECT 1 FROM u)"
                              "   ON CONFLICT (day, campaign_id) DO UPDATE SET unsubscribes = dc.unsubscribes + 1)"
                              " SELECT (SELECT count(*) FROM u),"
                              "   EXISTS (SELECT 1 FROM subscribers WHERE id = $1::bigint)"
                              "   AND EXISTS (SELECT 1 FROM campaigns WHERE id = $2::bigint)",
                              subscriber_id, campaign_id);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot unsubscribe");
    else if (strcmp(PQgetvalue(res, 0, 1), "t") != 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no such subscription");
    else
        *changed = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return rc;
}
