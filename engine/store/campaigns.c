/*
 * campaigns - queries for campaigns.
 */
#include <stdio.h>
#include <string.h>

#include "engine/store/campaigns.h"
#include "engine/store/lists.h"
#include "engine/store/pg.h"

#define CAMPAIGN_LISTS_JSON                                                                  \
    "(SELECT coalesce(json_agg(json_build_object('id', l.id, 'name', l.name) ORDER BY l.name), '[]')" \
    " FROM campaign_lists cl JOIN lists l ON l.id = cl.list_id WHERE cl.campaign_id = c.id)"
#define CAMPAIGN_SUMMARY_JSON                                                               \
    "json_build_object('id', c.id, 'name', c.name, 'subject', c.subject, 'status', c.status," \
    " 'from', CASE WHEN c.from_name = '' THEN c.from_addr ELSE c.from_name || ' <' || c.from_addr || '>' END," \
    " 'lists', " CAMPAIGN_LISTS_JSON ", 'send_at', c.send_at, 'created_at', c.created_at)"
#define CAMPAIGN_JSON                                                                        \
    "json_build_object('id', c.id, 'name', c.name, 'subject', c.subject, 'status', c.status," \
    " 'from_name', c.from_name, 'from_addr', c.from_addr, 'reply_to', c.reply_to,"             \
    " 'html', c.html, 'text', c.text_body, 'send_at', c.send_at, 'created_at', c.created_at,"  \
    " 'updated_at', c.updated_at, 'lists', " CAMPAIGN_LISTS_JSON ","                          \
    " 'template', (SELECT json_build_object('id', t.id, 'name', t.name, 'html', t.html,"       \
    "   'text', t.text_body) FROM templates t WHERE t.id = c.template_id))"

static int is_id(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= 18 && strspn(s, "0123456789") == n;
}

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

/* store_campaign_create - add C as a draft; *OUT is the stored campaign. */
int store_campaign_create(PGconn *conn, const struct campaign_new *c, json_t **out, struct store_err *e)
{
    char id[32];
    int rc;
    const char *params[] = { c->name, c->subject, c->from_name, c->from_addr, c->reply_to, c->html, c->text,
                             c->template_ref };
    if (c->nlists == 0)
        return store_fail(e, STORE_ERR_INVALID, "a campaign needs at least one list");
    if (pg_begin(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot create campaign");
    if (c->template_ref) {
        PGresult *t = pg_exec(conn,
                              "SELECT 1 FROM templates t WHERE t.name = $1 OR t.id = CASE WHEN $1 ~ '^[0-9]{1,18}$'"
                              " THEN $1::bigint END",
                              1, &c->template_ref);
        int found = pg_ok(t) && PQntuples(t) > 0;
        rc = pg_ok(t) ? STORE_OK : store_fail_db(e, conn, t, "cannot read template");
        PQclear(t);
        if (rc == STORE_OK && !found)
            rc = store_fail(e, STORE_ERR_NOTFOUND, "no template \"%s\"", c->template_ref);
        if (rc < 0)
            goto fail;
    }
    PGresult *res = pg_exec(conn,
                            "INSERT INTO campaigns (name, subject, from_name, from_addr, reply_to, html, text_body,"
                            " template_id) VALUES ($1, $2, $3, $4, $5, $6, $7,"
                            " (SELECT t.id FROM templates t WHERE t.name = $8 OR t.id = CASE WHEN $8 ~ '^[0-9]{1,18}$'"
                            "  THEN $8::bigint END ORDER BY (t.name = $8) DESC LIMIT 1)) RETURNING id",
                            8, params);
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
    if (pg_commit(conn) < 0)
        return store_fail_db(e, conn, NULL, "cannot create campaign");
    return store_campaign_get(conn, id, out, e);
fail:
    pg_rollback(conn);
    return rc;
}

/* store_campaign_ls - every campaign, newest first, without bodies. */
int store_campaign_ls(PGconn *conn, json_t **out, struct store_err *e)
{
    PGresult *res = pg_exec(conn,
                            "SELECT coalesce(json_agg(" CAMPAIGN_SUMMARY_JSON " ORDER BY c.id DESC), '[]') FROM campaigns c",
                            0, NULL);
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
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot read campaign");
    else if (PQntuples(res) == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no campaign %s", id);
    else
        *out = store_json(res, 0, 0);
    PQclear(res);
    return rc;
}
