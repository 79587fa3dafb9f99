/*
 * prefs - the preference page's reads and changes (see prefs.h).
 *
 * A change is made of the store's own steps: store_subscriber_set for the
 * name and attributes, store_subscription_set and store_subscription_rm for
 * each list, so a subscriber's rules and double opt-in are those of the CLI
 * and the API. Errors: STORE_ERR_NOTFOUND for no such subscriber,
 * STORE_ERR_INVALID naming the field, STORE_ERR_DB.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/store/pg.h"
#include "engine/store/prefs.h"
#include "engine/store/subscribers.h"
#include "engine/store/tx.h"
#include "engine/util/alloc.h"
#include "engine/util/log.h"

/* store_prefs_get - see prefs.h. */
int store_prefs_get(PGconn *conn, uint64_t subscriber_id, json_t **out, struct store_err *e)
{
    char sid[24];
    snprintf(sid, sizeof(sid), "%" PRIu64, subscriber_id);
    const char *params[] = { sid };
    PGresult *res = pg_exec(conn,
                            "SELECT json_build_object('email', s.email, 'name', s.name, 'attribs', s.attribs,"
                            " 'status', s.status, 'lists', (SELECT coalesce(json_agg(json_build_object('id', l.id,"
                            "   'name', l.name, 'description', l.description, 'optin', l.optin, 'status', sl.status)"
                            "   ORDER BY l.name), '[]') FROM lists l LEFT JOIN subscriptions sl"
                            "   ON sl.list_id = l.id AND sl.subscriber_id = s.id WHERE l.public))"
                            " FROM subscribers s WHERE s.id = $1::bigint",
                            1, params);
    return store_json_row(conn, res, out, e, "cannot read preferences", "no such subscriber");
}

/* editable - is KEY one of the comma-separated names in LIST (spaces around a name ignored)? */
static bool editable(const char *list, const char *key)
{
    size_t klen = strlen(key);
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        size_t m = n;
        while (m > 0 && p[m - 1] == ' ')
            m--;
        if (m > 0 && m == klen && memcmp(p, key, m) == 0)
            return true;
        p += n;
    }
    return false;
}

/* edit_fields - the name and attributes of C for EMAIL; 0, or a STORE_ERR */
static int edit_fields(PGconn *conn, const char *email, const struct prefs_change *c, struct store_err *e)
{
    const char *key;
    json_t *v, *attribs = NULL;
    json_object_foreach(c->attribs, key, v) {
        if (!editable(c->editable, key)) {
            json_decref(attribs);
            return store_fail_field(e, "attribs", "the attribute \"%s\" cannot be changed here", key);
        }
        if (!attribs)
            attribs = json_object();
        const char *s = json_string_value(v);
        json_object_set_new(attribs, key, s && *s ? json_string(s) : json_null());
    }
    if (!c->name && !attribs)
        return STORE_OK;
    struct subscriber_edit edit = { .name = c->name, .attribs = attribs };
    json_t *got = NULL;
    int rc = store_subscriber_set(conn, email, &edit, &got, e);
    json_decref(got);
    json_decref(attribs);
    return rc;
}

static bool in(const uint64_t *ids, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

/*
 * welcome - the list's welcome message to a subscriber who joined it here
 * (single opt-in: confirmed at once), in a transaction of its own right after
 * the join's; a failure is logged, the join stands.
 */
static void welcome(PGconn *conn, uint64_t sub, uint64_t list)
{
    struct store_err e;
    char sid[24];
    int queued;
    snprintf(sid, sizeof(sid), "%" PRIu64, sub);
    if (pg_begin(conn) < 0)
        return;
    if (store_tx_welcome(conn, sid, list, &queued, &e) < 0) {
        log_warn("subscriber %s: no welcome message sent: %s", sid, e.msg);
        pg_rollback(conn);
    } else if (pg_commit(conn) < 0) {
        log_warn("subscriber %s: no welcome message sent: cannot commit", sid);
    }
}

/* move - join or leave list L (a row of store_prefs_get's lists) as C says; its name appended to JOINED or LEFT */
static int move(PGconn *conn, uint64_t sub, const char *email, bool blocklisted, json_t *l,
                const struct prefs_change *c, json_t *joined, json_t *left, struct store_err *e)
{
    uint64_t id = (uint64_t)json_integer_value(json_object_get(l, "id"));
    const char *status = json_string_value(json_object_get(l, "status"));
    bool on = status && strcmp(status, "unsubscribed") != 0;
    bool want = in(c->ticked, c->nticked, id);
    char ref[24];
    json_t *got = NULL;
    int rc = STORE_OK;
    snprintf(ref, sizeof(ref), "%" PRIu64, id);
    if (!in(c->shown, c->nshown, id) || want == on || (want && blocklisted))
        return STORE_OK;
    if (want) {
        bool created;
        rc = store_subscription_set(conn, email, ref, NULL, &created, &got, e);
        if (rc == STORE_OK && strcmp(json_string_value(json_object_get(got, "status")) ?: "", "confirmed") == 0)
            welcome(conn, sub, id);
    } else {
        rc = store_subscription_rm(conn, email, ref, &got, e);
    }
    json_decref(got);
    if (rc == STORE_OK)
        json_array_append(want ? joined : left, json_object_get(l, "name"));
    /* joined or left meanwhile: what was wanted is so */
    return rc == STORE_ERR_EXISTS || rc == STORE_ERR_NOTFOUND ? STORE_OK : rc;
}

/* store_prefs_apply - see prefs.h. */
int store_prefs_apply(PGconn *conn, uint64_t subscriber_id, const struct prefs_change *c, json_t **out,
                      struct store_err *e)
{
    json_t *p = NULL;
    int rc = store_prefs_get(conn, subscriber_id, &p, e);
    if (rc < 0)
        return rc;
    char email[256];
    snprintf(email, sizeof(email), "%s", json_string_value(json_object_get(p, "email")));
    bool blocklisted = strcmp(json_string_value(json_object_get(p, "status")), "blocklisted") == 0;
    json_t *joined = json_array(), *left = json_array();
    if (c->unsubscribe_all) {
        long changed;
        rc = store_subscription_unsub_all(conn, subscriber_id, &changed, e);
    } else {
        rc = edit_fields(conn, email, c, e);
        size_t i;
        json_t *l;
        json_array_foreach(json_object_get(p, "lists"), i, l) {
            if (rc < 0)
                break;
            rc = move(conn, subscriber_id, email, blocklisted, l, c, joined, left, e);
        }
    }
    json_decref(p);
    if (rc < 0) {
        json_decref(joined);
        json_decref(left);
        return rc;
    }
    *out = json_pack("{s:o, s:o}", "joined", joined, "left", left);
    return STORE_OK;
}

/* store_subscription_unsub_all - see prefs.h. */
int store_subscription_unsub_all(PGconn *conn, uint64_t subscriber_id, long *changed, struct store_err *e)
{
    char sid[24];
    snprintf(sid, sizeof(sid), "%" PRIu64, subscriber_id);
    const char *params[] = { sid };
    PGresult *res = pg_exec(conn,
                            "WITH u AS (UPDATE subscriptions SET status = 'unsubscribed', updated_at = now()"
                            "   WHERE subscriber_id = $1::bigint AND status <> 'unsubscribed' RETURNING 1)"
                            " SELECT (SELECT count(*) FROM u), EXISTS (SELECT 1 FROM subscribers WHERE id = $1::bigint)",
                            1, params);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot unsubscribe");
    else if (strcmp(PQgetvalue(res, 0, 1), "t") != 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no such subscriber");
    else
        *changed = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return rc;
}
