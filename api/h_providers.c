/*
 * h_providers - mailbox providers (store_provider_*, as postino provider).
 *
 * api_providers_ls        GET /api/v1/providers
 * api_providers_create    POST /api/v1/providers {name, label?, domains?, mx?}
 * api_providers_get       GET /api/v1/providers/{provider}
 * api_providers_patch     PATCH /api/v1/providers/{provider} {name?, label?, domains?, mx?}
 *                         (domains and mx replace the lists)
 * api_providers_rm        DELETE /api/v1/providers/{provider}
 * api_providers_match     GET /api/v1/providers/match?target=ADDRESS-or-DOMAIN[&mx=HOST]
 * api_providers_stats     GET /api/v1/providers/stats?since=&until= (UTC days)
 * api_campaigns_providers GET /api/v1/campaigns/{campaign}/providers
 *
 * Writes are for admins (api/routes.c). A bad pattern is 400 invalid_field
 * "domains" or "mx", with the CLI's words.
 */
#include "api/handlers.h"
#include "engine/mail/provider.h"
#include "engine/store/providers.h"

/* api_providers_ls - GET /api/v1/providers */
void api_providers_ls(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        api_reply_stored(r, store_provider_ls(r->conn, &j, &e), &j, &e, API_ITEMS);
}

static const struct api_field create_fields[] = {
    { "name", API_FIELD_STRING, true, PROVIDER_NAME_MAX, 0, 0 },
    { "label", API_FIELD_STRING, false, 100, 0, 0 },
    { "domains", API_FIELD_REFS, false, PROVIDER_PATTERNS_MAX, 0, 0 },
    { "mx", API_FIELD_REFS, false, PROVIDER_PATTERNS_MAX, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

static const struct api_field patch_fields[] = {
    { "name", API_FIELD_STRING, false, PROVIDER_NAME_MAX, 0, 0 },
    { "label", API_FIELD_STRING, false, 100, 0, 0 },
    { "domains", API_FIELD_REFS, false, PROVIDER_PATTERNS_MAX, 0, 0 },
    { "mx", API_FIELD_REFS, false, PROVIDER_PATTERNS_MAX, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

/* IN's fields into ED (the lists the caller's to free with api_json_refs_free) */
static void edit_of(json_t *in, struct provider_edit *ed, char ***dom, char ***mx)
{
    ed->name = api_json_str(in, "name", NULL);
    ed->label = api_json_str(in, "label", NULL);
    ed->set_domains = json_object_get(in, "domains") != NULL;
    ed->set_mx = json_object_get(in, "mx") != NULL;
    api_json_refs(in, "domains", dom, &ed->ndomains);
    api_json_refs(in, "mx", mx, &ed->nmx);
    ed->domains = (const char *const *)*dom;
    ed->mx = (const char *const *)*mx;
}

/* api_providers_create - POST /api/v1/providers */
void api_providers_create(struct api_req *r)
{
    json_t *in, *j = NULL;
    struct store_err e;
    struct provider_edit ed = { 0 };
    char **dom = NULL, **mx = NULL;
    if (api_body(r, create_fields, &in) < 0)
        return;
    edit_of(in, &ed, &dom, &mx);
    if (api_db(r))
        api_reply_stored(r, store_provider_add(r->conn, &ed, &j, &e), &j, &e, 201);
    api_json_refs_free(dom, ed.ndomains);
    api_json_refs_free(mx, ed.nmx);
    json_decref(in);
}

/* api_providers_get - GET /api/v1/providers/{provider} */
void api_providers_get(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        api_reply_stored(r, store_provider_get(r->conn, api_param(r, 0), &j, &e), &j, &e, 200);
}

/* api_providers_patch - PATCH /api/v1/providers/{provider} */
void api_providers_patch(struct api_req *r)
{
    json_t *in, *j = NULL;
    struct store_err e;
    struct provider_edit ed = { 0 };
    char **dom = NULL, **mx = NULL;
    if (api_body(r, patch_fields, &in) < 0)
        return;
    edit_of(in, &ed, &dom, &mx);
    if (!ed.name && !ed.label && !ed.set_domains && !ed.set_mx)
        api_reply_error(r, 400, "invalid", NULL, "a change names at least one of name, label, domains and mx");
    else if (api_db(r))
        api_reply_stored(r, store_provider_set(r->conn, api_param(r, 0), &ed, &j, &e), &j, &e, 200);
    api_json_refs_free(dom, ed.ndomains);
    api_json_refs_free(mx, ed.nmx);
    json_decref(in);
}

/* api_providers_rm - DELETE /api/v1/providers/{provider} */
void api_providers_rm(struct api_req *r)
{
    struct store_err e;
    if (api_db(r))
        api_reply_stored(r, store_provider_rm(r->conn, api_param(r, 0), &e), NULL, &e, 204);
}

/* api_providers_match - GET /api/v1/providers/match */
void api_providers_match(struct api_req *r)
{
    static const char *const allowed[] = { "target", "mx", NULL };
    struct store_err e;
    json_t *j = NULL;
    if (api_query_only(r, allowed) < 0)
        return;
    const char *target = api_query(r, "target");
    if (!target)
        return api_reply_error(r, 400, "invalid", "target", "target names an address or a domain");
    if (api_db(r))
        api_reply_stored(r, store_provider_match(r->conn, target, api_query(r, "mx"), &j, &e), &j, &e, 200);
}

/* api_providers_stats - GET /api/v1/providers/stats */
void api_providers_stats(struct api_req *r)
{
    static const char *const allowed[] = { "since", "until", NULL };
    struct store_err e;
    json_t *j = NULL;
    if (api_query_only(r, allowed) < 0)
        return;
    if (api_db(r))
        api_reply_stored(r, store_provider_stats(r->conn, api_query(r, "since"), api_query(r, "until"), &j, &e), &j,
                         &e, 200);
}

/* api_campaigns_providers - GET /api/v1/campaigns/{campaign}/providers */
void api_campaigns_providers(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        api_reply_stored(r, store_provider_campaign(r->conn, api_param(r, 0), &j, &e), &j, &e, 200);
}
