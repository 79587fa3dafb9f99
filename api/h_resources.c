/*
 * h_resources - lists, subscribers, campaigns, templates, relays and DKIM
 * keys over the store's own functions. Input is checked here (field tables,
 * address syntax, enumerations) before the store sees it, so a store
 * failure is either "not found", "exists", a state the store refuses, or
 * the database being away.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "api/handlers.h"
#include "engine/mail/address.h"
#include "engine/store/api_queries.h"
#include "engine/store/campaigns.h"
#include "engine/store/dkim_keys.h"
#include "engine/store/lists.h"
#include "engine/store/relays.h"
#include "engine/store/subscribers.h"
#include "engine/store/templates.h"
#include "engine/util/alloc.h"
#include "engine/util/str.h"

#define SUBSCRIBERS_LIMIT_DEFAULT 100
#define SUBSCRIBERS_LIMIT_MAX 1000

/* answer a store call that yields JSON: 200 with it, or the store error */
static void reply_stored(struct api_req *r, int rc, json_t **jp, const struct store_err *e, int status, bool items)
{
    json_t *j = *jp;
    if (rc < 0)
        api_reply_store(r, e);
    else if (items)
        api_reply_items(r, j);
    else
        api_reply_json(r, status, j);
}

/* ---- lists ---- */

/* api_lists_ls - GET /api/v1/lists */
void api_lists_ls(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    PGconn *c = api_db(r);
    if (c)
        reply_stored(r, store_list_ls(c, &j, &e), &j, &e, 200, true);
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
        reply_stored(r, store_list_create(r->conn, name, optin, api_json_str(in, "description", ""), &j, &e), &j, &e,
                     201, false);
    json_decref(in);
}

/* api_lists_get - GET /api/v1/lists/{list} */
void api_lists_get(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        reply_stored(r, store_list_get(r->conn, api_param(r, 0), &j, &e), &j, &e, 200, false);
}

/* api_lists_rm - DELETE /api/v1/lists/{list} */
void api_lists_rm(struct api_req *r)
{
    struct store_err e;
    if (!api_db(r))
        return;
    if (store_list_rm(r->conn, api_param(r, 0), &e) < 0)
        api_reply_store(r, &e);
    else
        api_reply_empty(r, 204);
}

/* ---- subscribers ---- */

/* the email a {subscriber} segment names (an id, or an address); 0 or -1 with the answer set */
static int subscriber_ref(struct api_req *r, char email[256])
{
    const char *ref = api_param(r, 0), *why;
    struct store_err e;
    if (strchr(ref, '@')) {
        if (address_normalize(ref, email, 256, &why) < 0) {
            api_reply_error(r, 404, "not_found", NULL, "no subscriber with that address (%s)", why);
            return -1;
        }
        return 0;
    }
    if (!api_db(r))
        return -1;
    if (store_api_subscriber_email(r->conn, ref, email, &e) < 0) {
        api_reply_store(r, &e);
        return -1;
    }
    return 0;
}

struct page {
    json_t *items;
    long long last;
};

static int collect(json_t *row, void *arg)
{
    struct page *p = arg;
    p->last = json_integer_value(json_object_get(row, "id"));
    json_array_append(p->items, row);
    return 0;
}

/* does subscriber S match the status and list filters */
static bool subscriber_matches(json_t *s, const char *status, const char *list, long long after)
{
    size_t i;
    json_t *l;
    if (json_integer_value(json_object_get(s, "id")) <= after)
        return false;
    if (status && strcmp(json_string_value(json_object_get(s, "status")), status) != 0)
        return false;
    if (!list)
        return true;
    json_array_foreach(json_object_get(s, "lists"), i, l) {
        char id[32];
        snprintf(id, sizeof(id), "%lld", json_integer_value(json_object_get(l, "id")));
        if (strcmp(json_string_value(json_object_get(l, "name")), list) == 0 || strcmp(id, list) == 0)
            return true;
    }
    return false;
}

/* api_subscribers_ls - GET /api/v1/subscribers */
void api_subscribers_ls(struct api_req *r)
{
    static const char *const allowed[] = { "email", "list", "status", "limit", "after", NULL };
    const char *email = api_query(r, "email"), *list = api_query(r, "list"), *status = api_query(r, "status");
    const char *limit_s = api_query(r, "limit"), *after_s = api_query(r, "after"), *why;
    long limit = SUBSCRIBERS_LIMIT_DEFAULT, after = 0;
    char norm[ADDRESS_MAX + 1];
    struct store_err e;
    if (api_query_only(r, allowed) < 0)
        return;
    if (limit_s && str_parse_long(limit_s, 1, SUBSCRIBERS_LIMIT_MAX, &limit) < 0)
        return api_reply_error(r, 400, "invalid_field", "limit", "\"limit\" must be a number from 1 to %d",
                               SUBSCRIBERS_LIMIT_MAX);
    if (after_s && str_parse_long(after_s, 0, LONG_MAX, &after) < 0)
        return api_reply_error(r, 400, "invalid_field", "after", "\"after\" must be a subscriber id");
    if (status && strcmp(status, "enabled") != 0 && strcmp(status, "disabled") != 0 &&
        strcmp(status, "blocklisted") != 0)
        return api_reply_error(r, 400, "invalid_field", "status",
                               "\"status\" must be enabled, disabled or blocklisted");
    if (list && (!*list || strlen(list) > 200))
        return api_reply_error(r, 400, "invalid_field", "list", "\"list\" must be a list name or id");
    if (email && address_normalize(email, norm, sizeof(norm), &why) < 0)
        return api_reply_error(r, 400, "invalid_field", "email", "\"email\" is not a valid address: %s", why);
    if (!api_db(r))
        return;
    struct page p = { json_array(), 0 };
    int rc;
    if (email) {
        json_t *s = NULL;
        json_t *l = NULL;
        rc = list ? store_list_get(r->conn, list, &l, &e) : STORE_OK;
        json_decref(l);
        if (rc == STORE_OK) {
            rc = store_subscriber_get(r->conn, norm, &s, &e);
            if (rc == STORE_ERR_NOTFOUND)
                rc = STORE_OK;
            else if (rc == STORE_OK && subscriber_matches(s, status, list, after))
                collect(s, &p);
            json_decref(s);
        }
    } else {
        struct subscriber_filter f = { .list = list, .status = status, .after = after, .limit = limit };
        rc = store_subscriber_each(r->conn, &f, collect, &p, &e);
    }
    if (rc < 0) {
        json_decref(p.items);
        return api_reply_store(r, &e);
    }
    json_t *o = json_object();
    bool more = !email && json_array_size(p.items) == (size_t)limit;
    json_object_set_new(o, "items", p.items);
    json_object_set_new(o, "next_after", more ? json_integer(p.last) : json_null());
    api_reply_json(r, 200, o);
}

const struct api_field api_subscriber_fields[] = {
    { "email", API_FIELD_STRING, true, 320, 0, 0 },
    { "name", API_FIELD_STRING, false, 1000, 0, 0 },
    { "attribs", API_FIELD_OBJECT, false, 0, 0, 0 },
    { "lists", API_FIELD_REFS, false, 100, 0, 0 },
    { "subscription_status", API_FIELD_STRING, false, 16, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

/* api_subscribers_create - POST /api/v1/subscribers */
void api_subscribers_create(struct api_req *r)
{
    json_t *in, *j = NULL;
    char norm[ADDRESS_MAX + 1];
    const char *why;
    struct store_err e;
    if (api_body(r, api_subscriber_fields, &in) < 0)
        return;
    const char *status = api_json_str(in, "subscription_status", NULL);
    char **lists;
    size_t nlists;
    if (address_normalize(api_json_str(in, "email", ""), norm, sizeof(norm), &why) < 0) {
        api_reply_error(r, 400, "invalid_field", "email", "field \"email\" is not a valid address: %s", why);
    } else if (status && strcmp(status, "confirmed") != 0 && strcmp(status, "unconfirmed") != 0) {
        api_reply_error(r, 400, "invalid_field", "subscription_status",
                        "field \"subscription_status\" must be \"confirmed\" or \"unconfirmed\"");
    } else if (api_db(r)) {
        api_json_refs(in, "lists", &lists, &nlists);
        struct subscriber_new s = {
            .email = norm,
            .name = api_json_str(in, "name", ""),
            .attribs = json_object_get(in, "attribs"),
            .lists = (const char *const *)lists,
            .nlists = nlists,
            .sub_status = status,
        };
        if (json_is_null(s.attribs))
            s.attribs = NULL;
        reply_stored(r, store_subscriber_add(r->conn, &s, &j, &e), &j, &e, 201, false);
        api_json_refs_free(lists, nlists);
    }
    json_decref(in);
}

/* api_subscribers_get - GET /api/v1/subscribers/{subscriber} */
void api_subscribers_get(struct api_req *r)
{
    char email[256];
    struct store_err e;
    json_t *j = NULL;
    if (subscriber_ref(r, email) == 0 && api_db(r))
        reply_stored(r, store_subscriber_get(r->conn, email, &j, &e), &j, &e, 200, false);
}

/* api_subscribers_rm - DELETE /api/v1/subscribers/{subscriber} */
void api_subscribers_rm(struct api_req *r)
{
    char email[256];
    struct store_err e;
    if (subscriber_ref(r, email) < 0 || !api_db(r))
        return;
    if (store_subscriber_rm(r->conn, email, &e) < 0)
        api_reply_store(r, &e);
    else
        api_reply_empty(r, 204);
}

static const struct api_field no_fields[] = { { NULL, 0, false, 0, 0, 0 } };

/* api_subscribers_blocklist - POST /api/v1/subscribers/{subscriber}/blocklist */
void api_subscribers_blocklist(struct api_req *r)
{
    char email[256];
    struct store_err e;
    json_t *in, *j = NULL;
    if (api_body(r, no_fields, &in) < 0)
        return;
    json_decref(in);
    if (subscriber_ref(r, email) == 0 && api_db(r))
        reply_stored(r, store_subscriber_blocklist(r->conn, email, &j, &e), &j, &e, 200, false);
}

/* ---- campaigns ---- */

/* api_campaigns_ls - GET /api/v1/campaigns */
void api_campaigns_ls(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        reply_stored(r, store_campaign_ls(r->conn, &j, &e), &j, &e, 200, true);
}

/* api_campaigns_get - GET /api/v1/campaigns/{campaign} */
void api_campaigns_get(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        reply_stored(r, store_campaign_get(r->conn, api_param(r, 0), &j, &e), &j, &e, 200, false);
}

/* api_campaigns_stats - GET /api/v1/campaigns/{campaign}/stats */
void api_campaigns_stats(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        reply_stored(r, store_campaign_stats(r->conn, api_param(r, 0), &j, &e), &j, &e, 200, false);
}

static void campaign_move(struct api_req *r, enum campaign_action action)
{
    static const struct api_field schedule_fields[] = {
        { "send_at", API_FIELD_STRING, true, 64, 0, 0 },
        { NULL, 0, false, 0, 0, 0 },
    };
    struct store_err e = { .code = STORE_OK };
    json_t *in, *j = NULL;
    if (api_body(r, action == CAMPAIGN_SCHEDULE ? schedule_fields : no_fields, &in) < 0)
        return;
    const char *at = api_json_str(in, "send_at", NULL);
    if (at && !*at)
        api_reply_error(r, 400, "invalid_field", "send_at", "field \"send_at\" must be a time");
    else if (!api_db(r))
        ;
    else if (at && store_api_time_check(r->conn, at, &e) < 0 && e.code == STORE_ERR_INVALID)
        api_reply_error(r, 400, "invalid_field", "send_at", "%s", e.msg);
    else if (at && e.code == STORE_ERR_DB)
        api_reply_store(r, &e);
    else
        reply_stored(r, store_campaign_move(r->conn, api_param(r, 0), action, at, &j, &e), &j, &e, 200, false);
    json_decref(in);
}

/* api_campaigns_schedule - POST /api/v1/campaigns/{campaign}/schedule */
void api_campaigns_schedule(struct api_req *r)
{
    campaign_move(r, CAMPAIGN_SCHEDULE);
}

/* api_campaigns_send - POST /api/v1/campaigns/{campaign}/send */
void api_campaigns_send(struct api_req *r)
{
    campaign_move(r, CAMPAIGN_SEND);
}

/* api_campaigns_pause - POST /api/v1/campaigns/{campaign}/pause */
void api_campaigns_pause(struct api_req *r)
{
    campaign_move(r, CAMPAIGN_PAUSE);
}

/* api_campaigns_resume - POST /api/v1/campaigns/{campaign}/resume */
void api_campaigns_resume(struct api_req *r)
{
    campaign_move(r, CAMPAIGN_RESUME);
}

/* api_campaigns_cancel - POST /api/v1/campaigns/{campaign}/cancel */
void api_campaigns_cancel(struct api_req *r)
{
    campaign_move(r, CAMPAIGN_CANCEL);
}

/* ---- templates, relays, DKIM keys ---- */

/* api_templates_ls - GET /api/v1/templates */
void api_templates_ls(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        reply_stored(r, store_template_ls(r->conn, &j, &e), &j, &e, 200, true);
}

/* api_templates_get - GET /api/v1/templates/{template} */
void api_templates_get(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        reply_stored(r, store_template_get(r->conn, api_param(r, 0), &j, &e), &j, &e, 200, false);
}

/* api_relays_ls - GET /api/v1/relays */
void api_relays_ls(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        reply_stored(r, store_relay_ls(r->conn, &j, &e), &j, &e, 200, true);
}

/* api_dkim_ls - GET /api/v1/dkim-keys */
void api_dkim_ls(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL, *k;
    size_t i;
    if (!api_db(r))
        return;
    if (store_dkim_ls(r->conn, &j, &e) < 0)
        return api_reply_store(r, &e);
    /* the DNS record to publish, as postino dkim record prints it */
    json_array_foreach(j, i, k) {
        const char *alg = json_string_value(json_object_get(k, "algorithm"));
        const char *pub = json_string_value(json_object_get(k, "public_key"));
        char *rec = xasprintf("v=DKIM1; k=%s; p=%s", alg && strcmp(alg, "ed25519") == 0 ? "ed25519" : "rsa",
                              pub ? pub : "");
        json_object_set_new(k, "record", json_string(rec));
        xfree(rec);
    }
    api_reply_items(r, j);
}
