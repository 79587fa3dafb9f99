/*
 * h_lists - mailing lists (postino list).
 *
 * api_lists_ls      GET /api/v1/lists: every list with its subscriptions counted by status
 * api_lists_create  POST /api/v1/lists: a new list, single or double opt-in
 * api_lists_get     GET /api/v1/lists/{list}: its counts and the campaigns that use it
 * api_lists_patch   PATCH /api/v1/lists/{list}: a new name, description or opt-in
 * api_lists_rm      DELETE /api/v1/lists/{list}: the list and its subscriptions
 *
 * A list is named by id or name. The body's shape is checked here; what a
 * name or an opt-in may be, the store says (store_list_check) for the CLI
 * and the API alike. A store failure is "not found", "exists", a field's
 * fault or the database away.
 */
#include "api/handlers.h"
#include "engine/store/lists.h"

/* api_lists_ls - GET /api/v1/lists */
void api_lists_ls(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_query_only(r, NULL) < 0)
        return;
    PGconn *c = api_db(r);
    if (c)
        api_reply_stored(r, store_list_ls(c, &j, &e), &j, &e, API_ITEMS);
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
    if (api_db(r))
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

static const struct api_field list_edit_fields[] = {
    { "name", API_FIELD_STRING, false, 200, 0, 0 },
    { "optin", API_FIELD_STRING, false, 16, 0, 0 },
    { "description", API_FIELD_STRING, false, 10000, 0, 0 },
    { "public", API_FIELD_BOOL, false, 0, 0, 0 },
    { "welcome_template", API_FIELD_STRING, false, 200, 0, 0 },
    { "welcome_subject", API_FIELD_STRING, false, 998, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

/* api_lists_patch - PATCH /api/v1/lists/{list} */
void api_lists_patch(struct api_req *r)
{
    json_t *in, *j = NULL;
    struct store_err e;
    if (api_body(r, list_edit_fields, &in) < 0)
        return;
    struct list_edit s = { .name = api_json_str(in, "name", NULL),
                           .description = api_json_str(in, "description", NULL),
                           .optin = api_json_str(in, "optin", NULL),
                           .welcome_subject = api_json_str(in, "welcome_subject", NULL) };
    json_t *pub = json_object_get(in, "public"), *welcome = json_object_get(in, "welcome_template");
    if (pub)
        s.is_public = json_is_true(pub) ? "true" : "false";
    if (welcome)   /* null: none */
        s.welcome = json_is_string(welcome) ? json_string_value(welcome) : "";
    if (!s.name && !s.description && !s.optin && !s.is_public && !s.welcome && !s.welcome_subject)
        api_reply_error(r, 400, "invalid", NULL,
                        "give \"name\", \"description\", \"optin\", \"public\", \"welcome_template\" or \"welcome_subject\"");
    else if (api_db(r))
        api_reply_stored(r, store_list_set(r->conn, api_param(r, 0), &s, &j, &e), &j, &e, 200);
    json_decref(in);
}

/* api_lists_rm - DELETE /api/v1/lists/{list} */
void api_lists_rm(struct api_req *r)
{
    struct store_err e;
    if (api_consent(r, NULL) < 0)
        return;
    api_reply_stored(r, store_list_rm(r->conn, api_param(r, 0), &e), NULL, &e, 204);
}
