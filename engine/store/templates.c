/*
 * templates - queries for stored templates.
 */
#include <string.h>

#include "engine/store/pg.h"
#include "engine/store/templates.h"

#define TEMPLATE_SUMMARY_JSON                                                              \
    "json_build_object('id', t.id, 'name', t.name, 'html_bytes', octet_length(t.html),"   \
    " 'text_bytes', octet_length(t.text_body), 'created_at', t.created_at,"                \
    " 'campaigns', (SELECT count(*) FROM campaigns c WHERE c.template_id = t.id))"
#define TEMPLATE_JSON                                                                      \
    "json_build_object('id', t.id, 'name', t.name, 'subject', t.subject, 'html', t.html, 'text', t.text_body," \
    " 'created_at', t.created_at, 'updated_at', t.updated_at)"
#define TEMPLATE_REF_MATCH(n) \
    "(t.name = $" #n " OR t.id = CASE WHEN $" #n " ~ '^[0-9]{1,18}$' THEN $" #n "::bigint END)"

/* store_template_add - add template NAME; *OUT is the stored template. */
int store_template_add(PGconn *conn, const char *name, const char *html, const char *text, json_t **out,
                       struct store_err *e)
{
    const char *params[] = { name, html, text };
    if (!*name || strlen(name) > 200)
        return store_fail(e, STORE_ERR_INVALID, "template name must be 1 to 200 characters");
    PGresult *res = pg_exec(conn,
                            "WITH t AS (INSERT INTO templates (name, html, text_body) VALUES ($1, $2, $3)"
                            " RETURNING *) SELECT " TEMPLATE_JSON " FROM t",
                            3, params);
    return store_json_made(conn, res, out, e, "cannot add template", "template \"%s\" already exists", name);
}

/* store_template_ls - every template, by name, without bodies. */
int store_template_ls(PGconn *conn, json_t **out, struct store_err *e)
{
    return store_json_all(conn,
                          "SELECT coalesce(json_agg(" TEMPLATE_SUMMARY_JSON " ORDER BY t.name), '[]') FROM templates t",
                          out, e, "cannot list templates");
}

/* store_template_get - the template REF names, with its bodies. */
int store_template_get(PGconn *conn, const char *ref, json_t **out, struct store_err *e)
{
    const char *params[] = { ref };
    PGresult *res = pg_exec(conn,
                            "SELECT " TEMPLATE_JSON " FROM templates t WHERE " TEMPLATE_REF_MATCH(1)
                            " ORDER BY (t.name = $1) DESC LIMIT 1",
                            1, params);
    return store_json_row(conn, res, out, e, "cannot read template", "no template \"%s\"", ref);
}

/* store_template_install - add NAME unless present; *ADDED tells which. */
int store_template_install(PGconn *conn, const char *name, const char *html, const char *text, bool *added,
                           struct store_err *e)
{
    const char *params[] = { name, html, text };
    PGresult *res = pg_exec(conn,
                            "INSERT INTO templates (name, html, text_body) VALUES ($1, $2, $3)"
                            " ON CONFLICT (name) DO NOTHING",
                            3, params);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot install template");
    else
        *added = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    return rc;
}

/*
 * store_template_save - add T (REF NULL) or replace every field of the
 * template REF names; STORE_ERR_EXISTS when the name is taken,
 * STORE_ERR_NOTFOUND when REF names none. *OUT is the stored template.
 */
int store_template_save(PGconn *conn, const char *ref, const struct template_new *t, json_t **out,
                        struct store_err *e)
{
    const char *params[] = { t->name, t->subject, t->html, t->text, ref };
    if (!*t->name || strlen(t->name) > 200)
        return store_fail(e, STORE_ERR_INVALID, "template name must be 1 to 200 characters");
    PGresult *res = ref ? pg_exec(conn,
                                  "WITH t AS (UPDATE templates SET name = $1, subject = $2, html = $3, text_body = $4,"
                                  " updated_at = now() WHERE id = (SELECT t.id FROM templates t WHERE "
                                  TEMPLATE_REF_MATCH(5) " ORDER BY (t.name = $5) DESC LIMIT 1)"
                                  " RETURNING *) SELECT " TEMPLATE_JSON " FROM t",
                                  5, params)
                        : pg_exec(conn,
                                  "WITH t AS (INSERT INTO templates (name, subject, html, text_body)"
                                  " VALUES ($1, $2, $3, $4) RETURNING *) SELECT " TEMPLATE_JSON " FROM t",
                                  4, params);
    if (!pg_ok(res) && strcmp(pg_sqlstate(res), PG_UNIQUE_VIOLATION) == 0) {
        PQclear(res);
        return store_fail(e, STORE_ERR_EXISTS, "template \"%s\" already exists", t->name);
    }
    return store_json_row(conn, res, out, e, "cannot save template", "no template \"%s\"", ref ? ref : t->name);
}

/* store_template_rm - remove the template REF names; STORE_ERR_EXISTS while campaigns use it. */
int store_template_rm(PGconn *conn, const char *ref, struct store_err *e)
{
    const char *params[] = { ref };
    PGresult *res = pg_exec(conn,
                            "DELETE FROM templates WHERE id = (SELECT t.id FROM templates t WHERE " TEMPLATE_REF_MATCH(1)
                            " ORDER BY (t.name = $1) DESC LIMIT 1)",
                            1, params);
    return store_deleted(conn, res, e, "template", ref, "template \"%s\" is used by campaigns",
                         "cannot remove template");
}
