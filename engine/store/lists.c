/*
 * lists - queries for mailing lists.
 *
 * The JSON shape of a list is built by the server (LIST_JSON below) so the
 * CLI and the API print exactly the same fields. Its subscription counts are
 * read from list_counts and the notes not yet folded into it
 * (sql/020_list_counts.sql); a read folds the notes first, so what it costs
 * follows the number of lists and the writes since the last read, never the
 * number of subscriptions.
 */
#include <string.h>

#include "engine/mail/mime.h"
#include "engine/store/lists.h"
#include "engine/mail/template.h"
#include "engine/store/pg.h"

/* pg_try_advisory_xact_lock key: one reader at a time folds the notes; the others read them as they are */
#define LIST_FOLD_KEY "7262951846320"

#define LIST_ZERO "json_build_object('confirmed', 0, 'unconfirmed', 0, 'unsubscribed', 0)"

#define LIST_FIELDS(subs)                                                                \
    "'id', l.id, 'name', l.name, 'optin', l.optin, 'description', l.description,"        \
    " 'public', l.public, 'welcome_template', (SELECT t.name FROM templates t"                  \
    "   WHERE t.id = l.welcome_template_id), 'welcome_subject', l.welcome_subject,"             \
    " 'created_at', l.created_at, 'subscribers', " subs

/* A list row l with its counts k (from LIST_COUNTED) as JSON. */
#define LIST_JSON "json_build_object(" LIST_FIELDS("coalesce(k.subs, " LIST_ZERO ")") ")"

/* ... and the campaigns that use it, which keep it from being deleted. */
#define LIST_JSON_FULL                                                                                         \
    "json_build_object(" LIST_FIELDS("coalesce(k.subs, " LIST_ZERO ")") ","                                    \
    " 'campaigns', (SELECT coalesce(json_agg(json_build_object('id', c.id, 'name', c.name, 'status', c.status)" \
    "   ORDER BY c.id), '[]') FROM campaign_lists cl JOIN campaigns c ON c.id = cl.campaign_id"                \
    "   WHERE cl.list_id = l.id))"

/*
 * The CTEs that fold the notes (moved, folded) and give each list's counts
 * (counted: list_id, subs). counted reads the tables as they were when the
 * statement began, folded notes included, so it is exact whoever folds.
 */
#define LIST_COUNTED                                                                                         \
    " moved AS (DELETE FROM list_count_deltas WHERE pg_try_advisory_xact_lock(" LIST_FOLD_KEY ")"            \
    "   RETURNING list_id, status, n),"                                                                      \
    " folded AS (INSERT INTO list_counts AS c (list_id, status, n)"                                          \
    "   SELECT m.list_id, m.status, sum(m.n) FROM moved m"                                                   \
    "   WHERE EXISTS (SELECT 1 FROM lists x WHERE x.id = m.list_id) GROUP BY 1, 2 ORDER BY 1, 2"             \
    "   ON CONFLICT (list_id, status) DO UPDATE SET n = c.n + excluded.n),"                                  \
    " counted AS (SELECT u.list_id, json_build_object("                                                      \
    "   'confirmed', coalesce(sum(u.n) FILTER (WHERE u.status = 'confirmed'), 0)::bigint,"                   \
    "   'unconfirmed', coalesce(sum(u.n) FILTER (WHERE u.status = 'unconfirmed'), 0)::bigint,"               \
    "   'unsubscribed', coalesce(sum(u.n) FILTER (WHERE u.status = 'unsubscribed'), 0)::bigint) AS subs"     \
    "   FROM (SELECT list_id, status, n FROM list_counts UNION ALL"                                          \
    "         SELECT list_id, status, n FROM list_count_deltas) u GROUP BY u.list_id)"

/* store_list_check - may NAME (NULL: unchanged) and OPTIN (NULL: unchanged) be a list's? STORE_ERR_INVALID naming the field if not. */
int store_list_check(const char *name, const char *optin, struct store_err *e)
{
    const char *why;
    if (name && (!*name || strlen(name) > 200))
        return store_fail_field(e, "name", "the list name must be 1 to 200 characters");
    if (name && mime_name_check(name, false, &why) < 0)
        return store_fail_field(e, "name", "the list name %s", why);
    if (optin && strcmp(optin, "single") != 0 && strcmp(optin, "double") != 0)
        return store_fail_field(e, "optin", "opt-in must be single or double, not \"%s\"", optin);
    return STORE_OK;
}

/* store_list_create - create list NAME; *OUT is the new list. */
int store_list_create(PGconn *conn, const char *name, const char *optin, const char *description,
                      json_t **out, struct store_err *e)
{
    const char *params[] = { name, optin, description ? description : "" };
    if (store_list_check(name, optin, e) < 0)
        return e->code;
    PGresult *res = pg_exec(conn,
                            "WITH l AS (INSERT INTO lists (name, optin, description) VALUES ($1, $2, $3)"
                            " RETURNING *) SELECT json_build_object(" LIST_FIELDS(LIST_ZERO) ") FROM l",
                            3, params);
    return store_json_made(conn, res, out, e, "cannot create list", "list \"%s\" already exists", name);
}

/* store_list_set - change what S gives (NULL members stay) of the list REF names; *OUT is the list as it is now. */
int store_list_set(PGconn *conn, const char *ref, const struct list_edit *s, json_t **out, struct store_err *e)
{
    const char *params[] = { ref, s->name, s->description, s->optin, s->is_public, s->welcome, s->welcome_subject };
    char err[TMPL_ERR_MAX];
    if (!s->name && !s->description && !s->optin && !s->is_public && !s->welcome && !s->welcome_subject)
        return store_fail(e, STORE_ERR_INVALID, "give a new name, description, opt-in, public or welcome message");
    if (store_list_check(s->name, s->optin, e) < 0)
        return e->code;
    if (s->is_public && strcmp(s->is_public, "true") != 0 && strcmp(s->is_public, "false") != 0)
        return store_fail_field(e, "public", "public must be true or false, not \"%s\"", s->is_public);
    if (s->welcome_subject) {
        struct tmpl *t = tmpl_compile(s->welcome_subject, strlen(s->welcome_subject), err, sizeof(err));
        if (!t)
            return store_fail_field(e, "welcome_subject", "the welcome subject: %s", err);
        tmpl_free(t);
        if (!*s->welcome_subject || strlen(s->welcome_subject) > 998 || strpbrk(s->welcome_subject, "\r\n"))
            return store_fail_field(e, "welcome_subject", "the welcome subject must be one line of 1 to 998 bytes");
    }
    if (s->welcome && *s->welcome) {
        PGresult *res = pg_exec(conn,
                                "SELECT 1 FROM templates WHERE name = $1"
                                " OR id = CASE WHEN $1 ~ '^[0-9]{1,18}$' THEN $1::bigint END",
                                1, &s->welcome);
        int found = pg_ok(res) && PQntuples(res) > 0;
        int rc = pg_ok(res) ? STORE_OK : store_fail_db(e, conn, res, "cannot read templates");
        PQclear(res);
        if (rc < 0)
            return rc;
        if (!found)
            return store_fail_field(e, "welcome_template", "no template \"%.200s\"", s->welcome);
    }
    PGresult *res = pg_exec(conn,
                            "WITH l AS (UPDATE lists u SET name = coalesce($2, u.name),"
                            "  description = coalesce($3, u.description), optin = coalesce($4, u.optin),"
                            "  public = coalesce($5::boolean, u.public),"
                            "  welcome_template_id = CASE WHEN $6::text IS NULL THEN u.welcome_template_id"
                            "    WHEN $6 = '' THEN NULL ELSE (SELECT t.id FROM templates t WHERE t.name = $6"
                            "    OR t.id = CASE WHEN $6 ~ '^[0-9]{1,18}$' THEN $6::bigint END"
                            "    ORDER BY (t.name = $6) DESC LIMIT 1) END,"
                            "  welcome_subject = coalesce($7, u.welcome_subject), updated_at = now()"
                            "  WHERE u.id = (SELECT l.id FROM lists l WHERE " LIST_REF_MATCH(1)
                            "   ORDER BY (l.name = $1) DESC LIMIT 1) RETURNING u.*),"
                            LIST_COUNTED " SELECT " LIST_JSON_FULL " FROM l LEFT JOIN counted k ON k.list_id = l.id",
                            7, params);
    if (pg_ok(res) && PQntuples(res) == 0) {
        PQclear(res);
        return store_fail(e, STORE_ERR_NOTFOUND, "no list \"%s\"", ref);
    }
    return store_json_made(conn, res, out, e, "cannot change list", "list \"%s\" already exists", s->name);
}

/* store_list_ls - all lists, by name. */
int store_list_ls(PGconn *conn, json_t **out, struct store_err *e)
{
    return store_json_all(conn,
                          "WITH" LIST_COUNTED " SELECT coalesce(json_agg(" LIST_JSON " ORDER BY l.name), '[]')"
                          " FROM lists l LEFT JOIN counted k ON k.list_id = l.id",
                          out, e, "cannot list lists");
}

/* store_list_get - the list REF names; STORE_ERR_NOTFOUND when none. */
int store_list_get(PGconn *conn, const char *ref, json_t **out, struct store_err *e)
{
    const char *params[] = { ref };
    PGresult *res = pg_exec(conn,
                            "WITH" LIST_COUNTED " SELECT " LIST_JSON_FULL
                            " FROM lists l LEFT JOIN counted k ON k.list_id = l.id WHERE " LIST_REF_MATCH(1)
                            " ORDER BY (l.name = $1) DESC LIMIT 1",
                            1, params);
    return store_json_row(conn, res, out, e, "cannot read list", "no list \"%s\"", ref);
}

/* the campaigns that use the list REF names, as '"A", "B"' into OUT; empty when none or unreadable */
static void list_users(PGconn *conn, const char *ref, char *out, size_t outlen)
{
    const char *params[] = { ref };
    PGresult *res = pg_exec(conn,
                            "SELECT string_agg('\"' || c.name || '\"', ', ' ORDER BY c.id), count(*)"
                            " FROM campaign_lists cl JOIN campaigns c ON c.id = cl.campaign_id"
                            " WHERE cl.list_id = (SELECT l.id FROM lists l WHERE " LIST_REF_MATCH(1)
                            "  ORDER BY (l.name = $1) DESC LIMIT 1)",
                            1, params);
    out[0] = 0;
    if (pg_ok(res) && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
        snprintf(out, outlen, "%s %s", strcmp(PQgetvalue(res, 0, 1), "1") == 0 ? "campaign" : "campaigns",
                 PQgetvalue(res, 0, 0));
    PQclear(res);
}

/* store_list_rm - delete the list REF names with its subscriptions; refused, naming them, while campaigns use it. */
int store_list_rm(PGconn *conn, const char *ref, struct store_err *e)
{
    const char *params[] = { ref };
    PGresult *res = pg_exec(conn,
                            "DELETE FROM lists WHERE id = (SELECT l.id FROM lists l WHERE " LIST_REF_MATCH(1)
                            " ORDER BY (l.name = $1) DESC LIMIT 1)",
                            1, params);
    int rc = store_deleted(conn, res, e, "list", ref,
                           "list \"%s\" is used by a campaign; remove it from the campaign first", "cannot remove list");
    if (rc == STORE_ERR_EXISTS) {
        char users[300];
        list_users(conn, ref, users, sizeof(users));
        if (users[0])
            store_fail(e, STORE_ERR_EXISTS, "list \"%s\" is used by %s; remove it from %s first", ref, users,
                       strncmp(users, "campaigns", 9) == 0 ? "them" : "the campaign");
    }
    return rc;
}

/* store_list_names - every list's id, name and opt-in, by name, without counting anything. */
int store_list_names(PGconn *conn, json_t **out, struct store_err *e)
{
    return store_json_all(conn,
                          "SELECT coalesce(json_agg(json_build_object('id', l.id, 'name', l.name, 'optin', l.optin)"
                          " ORDER BY l.name), '[]') FROM lists l",
                          out, e, "cannot list lists");
}
