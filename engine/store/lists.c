/*
 * lists - queries for mailing lists.
 *
 * The JSON shape of a list is built by the server (list_json below) so the
 * CLI and the API print exactly the same fields.
 */
#include <string.h>

#include "engine/mail/mime.h"
#include "engine/store/lists.h"
#include "engine/store/pg.h"

#define LIST_JSON                                                                       \
    "json_build_object('id', l.id, 'name', l.name, 'optin', l.optin,"                   \
    " 'description', l.description, 'created_at', l.created_at,"                        \
    " 'subscribers', json_build_object("                                                \
    "   'confirmed', (SELECT count(*) FROM subscriptions s WHERE s.list_id = l.id AND s.status = 'confirmed'),"     \
    "   'unconfirmed', (SELECT count(*) FROM subscriptions s WHERE s.list_id = l.id AND s.status = 'unconfirmed')," \
    "   'unsubscribed', (SELECT count(*) FROM subscriptions s WHERE s.list_id = l.id AND s.status = 'unsubscribed')))"

/* store_list_create - create list NAME; *OUT is the new list. */
int store_list_create(PGconn *conn, const char *name, const char *optin, const char *description,
                      json_t **out, struct store_err *e)
{
    const char *params[] = { name, optin, description ? description : "" }, *why;
    if (!*name || strlen(name) > 200)
        return store_fail(e, STORE_ERR_INVALID, "list name must be 1 to 200 characters");
    if (mime_name_check(name, false, &why) < 0)
        return store_fail_field(e, "name", "the list name %s", why);
    if (strcmp(optin, "single") != 0 && strcmp(optin, "double") != 0)
        return store_fail(e, STORE_ERR_INVALID, "opt-in must be single or double, not \"%s\"", optin);
    PGresult *res = pg_exec(conn,
                            "WITH l AS (INSERT INTO lists (name, optin, description) VALUES ($1, $2, $3)"
                            " RETURNING *) SELECT " LIST_JSON " FROM l",
                            3, params);
    return store_json_made(conn, res, out, e, "cannot create list", "list \"%s\" already exists", name);
}

/* store_list_ls - all lists, by name. */
int store_list_ls(PGconn *conn, json_t **out, struct store_err *e)
{
    return store_json_all(conn, "SELECT coalesce(json_agg(" LIST_JSON " ORDER BY l.name), '[]') FROM lists l", out,
                          e, "cannot list lists");
}

/* store_list_get - the list REF names; STORE_ERR_NOTFOUND when none. */
int store_list_get(PGconn *conn, const char *ref, json_t **out, struct store_err *e)
{
    const char *params[] = { ref };
    PGresult *res = pg_exec(conn,
                            "SELECT " LIST_JSON " FROM lists l WHERE " LIST_REF_MATCH(1)
                            " ORDER BY (l.name = $1) DESC LIMIT 1",
                            1, params);
    return store_json_row(conn, res, out, e, "cannot read list", "no list \"%s\"", ref);
}

/* store_list_rm - delete the list REF names with its subscriptions. */
int store_list_rm(PGconn *conn, const char *ref, struct store_err *e)
{
    const char *params[] = { ref };
    PGresult *res = pg_exec(conn,
                            "DELETE FROM lists WHERE id = (SELECT l.id FROM lists l WHERE " LIST_REF_MATCH(1)
                            " ORDER BY (l.name = $1) DESC LIMIT 1)",
                            1, params);
    return store_deleted(conn, res, e, "list", ref,
                         "list \"%s\" is used by a campaign; remove it from the campaign first", "cannot remove list");
}

/* store_list_names - every list's id, name and opt-in, by name, without counting anything. */
int store_list_names(PGconn *conn, json_t **out, struct store_err *e)
{
    return store_json_all(conn,
                          "SELECT coalesce(json_agg(json_build_object('id', l.id, 'name', l.name, 'optin', l.optin)"
                          " ORDER BY l.name), '[]') FROM lists l",
                          out, e, "cannot list lists");
}
