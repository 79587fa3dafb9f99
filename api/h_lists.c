/*
 * h_lists - mailing lists (postino list).
 *
 * api_lists_ls      GET /api/v1/lists: every list with its subscription counts (or, with
 *                   counts=false, only its id, name and opt-in: nothing counted)
 * api_lists_create  POST /api/v1/lists: a new list, single or double opt-in
 * api_lists_get     GET /api/v1/lists/{list}
 * api_lists_rm      DELETE /api/v1/lists/{list}: the list and its subscriptions
 *
 * A list is named by id or name. Input is checked here before the store
 * sees it; a store failure is "not found", "exists" or the database away.
 */
#include <string.h>

#include "api/handlers.h"
#include "engine/store/lists.h"

/* api_lists_ls - GET /api/v1/lists (?counts=false: names only, nothing counted) */
void api_lists_ls(struct api_req *r)
{
    static const char *const allowed[] = { "counts", NULL };
    const char *counts = api_query(r, "counts");
    struct store_err e;
    json_t *j = NULL;
    if (api_query_only(r, allowed) < 0)
        return;
    if (counts && strcmp(counts, "true") != 0 && strcmp(counts, "false") != 0)
        return api_reply_error(r, 400, "invalid_field", "counts", "\"counts\" must be true or false");
    PGconn *c = api_db(r);
    if (c)
        api_reply_stored(r, counts && strcmp(counts, "false") == 0 ? store_list_names(c, &j, &e)
                                                                    : store_list_ls(c, &j, &e),
                         &j, &e, API_ITEMS);
}

static const struct api_field list_fields[] = {
    { "name", API_FIELD_STRING, true, 200, 0, 0 },
    { "optin", API_FIELD_STRING, false, 16, 0, 0 },
    { "description", API_FIELD_STRING, false, 10000, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

/* api_lists_create - POST /api/v1/lists */
void api_lists_create(struct api_req *r)
{
    json_t *in, *j = NULL;
    struct store_err e;
    if (api_body(r, list_fields, &in) < 0)
        return;
    const char *name = api_json_str(in, "name", ""), *optin = api_json_str(in, "optin", "single");
    if (!*name)
        api_reply_error(r, 400, "invalid_field", "name", "field \"name\" must not be empty");
    else if (strcmp(optin, "single") != 0 && strcmp(optin, "double") != 0)
        api_reply_error(r, 400, "invalid_field", "optin", "field \"optin\" must be \"single\" or \"double\"");
    else if (api_db(r))
        api_reply_stored(r, store_list_create(r->conn, name, optin, api_json_str(in, "description", ""), &j, &e), &j,
                         &e, 201);
    json_decref(in);
}

/* api_lists_get - GET /api/v1/lists/{list} */
void api_lists_get(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        api_reply_stored(r, store_list_get(r->conn, api_param(r, 0), &j, &e), &j, &e, 200);
}

/* api_lists_rm - DELETE /api/v1/lists/{list} */
void api_lists_rm(struct api_req *r)
{
    struct store_err e;
    if (!api_db(r))
        return;
    api_reply_stored(r, store_list_rm(r->conn, api_param(r, 0), &e), NULL, &e, 204);
}
