/*
 * h_subscribers - subscribers and their subscriptions (postino subscriber).
 *
 * api_subscribers_ls         GET /api/v1/subscribers: keyset pages, filtered by
 *                            email, a search text q, list, status and attr.NAME=VALUE
 * api_subscribers_create     POST /api/v1/subscribers: one subscriber, on lists
 * api_subscribers_get        GET /api/v1/subscribers/{subscriber}
 * api_subscribers_patch      PATCH /api/v1/subscribers/{subscriber}: name, attributes (merged)
 * api_subscribers_rm         DELETE /api/v1/subscribers/{subscriber}
 * api_subscribers_blocklist  POST /api/v1/subscribers/{subscriber}/blocklist
 * api_subscriptions_ls / _create / _rm   a subscriber's subscriptions
 * api_subscriber_deliveries / _bounces / _events   its history, in keyset pages, newest first
 * api_subscriber_consent     GET .../consent: how and by whom its subscriptions changed, the same way
 * api_subscriber_export      GET .../export: every row that mentions it, in one document (privacy.h)
 * api_subscriber_erase       POST .../erase: its data removed everywhere, a salted hash kept when
 *                            it must stay suppressed
 * api_subscribers_bulk       POST /api/v1/subscribers/bulk: one action on every subscriber a
 *                            segment or filter picks, counted (store_subscriber_bulk)
 * api__subscriber_ref        the email a {subscriber} path segment names
 *
 * A subscriber is named by id or email, a list by id or name. Input is
 * checked here (field tables, address syntax, enumerations) before the
 * store sees it.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "api/handlers.h"
#include "engine/mail/address.h"
#include "engine/mail/segment.h"
#include "engine/mail/subscriber_fields.h"
#include "engine/store/bulk.h"
#include "engine/store/consent.h"
#include "engine/store/history.h"
#include "engine/store/lists.h"
#include "engine/store/privacy.h"
#include "engine/store/subscribers.h"
#include "engine/util/str.h"

#define SUBSCRIBERS_LIMIT_DEFAULT 100
#define SUBSCRIBERS_LIMIT_MAX 1000

/* api__subscriber_ref - the email a {subscriber} segment names (an id, or an address); 0 or -1 with the answer set */
int api__subscriber_ref(struct api_req *r, char email[256])
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
    if (store_subscriber_email(r->conn, ref, email, &e) < 0) {
        api_reply_store(r, &e);
        return -1;
    }
    return 0;
}

#define ATTR_FILTERS_MAX 8
#define ATTR_SCAN_PAGE 1000     /* rows read per query while filtering on attributes */
#define ATTR_SCAN_PAGES 50      /* then a page may come back short, with next_after to go on */

/* attr.KEY=VALUE query arguments: attribute equality */
struct attr_filter {
    const char *key[ATTR_FILTERS_MAX];
    const char *value[ATTR_FILTERS_MAX];
    size_t n;
    bool bad;
};

static enum MHD_Result attr_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct attr_filter *a = cls;
    (void)kind;
    if (strncmp(key, "attr.", 5) != 0)
        return MHD_YES;
    if (a->n == ATTR_FILTERS_MAX || strlen(key + 5) > 200) {
        a->bad = true;
        return MHD_NO;
    }
    a->key[a->n] = key + 5;
    a->value[a->n] = value ? value : "";
    a->n++;
    return MHD_YES;
}

/* does subscriber S's attribute KEY equal VALUE for every filter (a string as is, anything else as JSON text) */
static bool attrs_match(json_t *s, const struct attr_filter *a)
{
    json_t *attribs = json_object_get(s, "attribs");
    for (size_t i = 0; i < a->n; i++) {
        json_t *v = json_object_get(attribs, a->key[i]);
        bool eq;
        if (!v)
            return false;
        if (json_is_string(v)) {
            eq = strcmp(json_string_value(v), a->value[i]) == 0;
        } else {
            char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            eq = t && strcmp(t, a->value[i]) == 0;
            free(t);
        }
        if (!eq)
            return false;
    }
    return true;
}

struct page {
    json_t *items;
    const struct attr_filter *attrs;
    size_t limit;
    long long last;            /* the last subscriber answered */
    long long scanned;         /* the last subscriber read */
    size_t rows;               /* read by this query */
};

static int collect(json_t *row, void *arg)
{
    struct page *p = arg;
    long long id = json_integer_value(json_object_get(row, "id"));
    p->scanned = id;
    p->rows++;
    if (!attrs_match(row, p->attrs))
        return 0;
    p->last = id;
    json_array_append(p->items, row);
    return json_array_size(p->items) >= p->limit;
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

/*
 * the page of subscribers after P->last by id; with attribute filters, read
 * in batches until the page is full, the table ends, or ATTR_SCAN_PAGES
 * batches were read. *NEXT is where the next page starts, or -1 at the end.
 */
static int subscriber_page(PGconn *conn, const char *list, const char *status, const char *q, struct page *p,
                           long long *next, struct store_err *e)
{
    struct subscriber_filter f = { .list = list, .status = status, .after = p->last, .q = q };
    f.limit = p->attrs->n ? ATTR_SCAN_PAGE : (long)p->limit;
    *next = -1;
    for (int batch = 0;; batch++) {
        p->rows = 0;
        int rc = store_subscriber_each(conn, &f, collect, p, e);
        if (rc < 0)
            return rc;
        if (json_array_size(p->items) >= p->limit) {
            *next = p->last;
            return 0;
        }
        if (p->rows < (size_t)f.limit)
            return 0;
        if (batch + 1 >= ATTR_SCAN_PAGES) {
            *next = p->scanned;
            return 0;
        }
        f.after = p->scanned;
    }
}

/* api_subscribers_ls - GET /api/v1/subscribers */
void api_subscribers_ls(struct api_req *r)
{
    static const char *const allowed[] = { "email", "q", "list", "status", "limit", "after", "attr.", NULL };
    const char *email = api_query(r, "email"), *list = api_query(r, "list"), *status = api_query(r, "status");
    const char *q = api_query(r, "q");
    const char *limit_s = api_query(r, "limit"), *after_s = api_query(r, "after"), *why;
    long limit = SUBSCRIBERS_LIMIT_DEFAULT, after = 0;
    char norm[ADDRESS_MAX + 1];
    struct store_err e;
    struct attr_filter attrs = { .n = 0 };
    if (api_query_only(r, allowed) < 0)
        return;
    MHD_get_connection_values(r->mc, MHD_GET_ARGUMENT_KIND, attr_arg, &attrs);
    if (attrs.bad)
        return api_reply_error(r, 400, "invalid_field", "attr", "at most %d attr.NAME filters, names of at most 200 bytes",
                               ATTR_FILTERS_MAX);
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
    if (email && q)
        return api_reply_error(r, 400, "invalid_field", "q", "give \"email\" or \"q\", not both");
    if (email && address_normalize(email, norm, sizeof(norm), &why) < 0)
        return api_reply_error(r, 400, "invalid_field", "email", "\"email\" is not a valid address: %s", why);
    if (!api_db(r))
        return;
    struct page p = { .items = json_array(), .attrs = &attrs, .limit = (size_t)limit, .last = after };
    long long next = -1;
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
        rc = subscriber_page(r->conn, list, status, q, &p, &next, &e);
    }
    if (rc < 0) {
        json_decref(p.items);
        return api_reply_store(r, &e);
    }
    json_t *o = json_object();
    json_object_set_new(o, "items", p.items);
    json_object_set_new(o, "next_after", next >= 0 ? json_integer(next) : json_null());
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
    } else if (api_consent(r, NULL) == 0) {
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
        api_reply_stored(r, store_subscriber_add(r->conn, &s, &j, &e), &j, &e, 201);
        api_json_refs_free(lists, nlists);
    }
    json_decref(in);
}

/* api_subscribers_get - GET /api/v1/subscribers/{subscriber} */
void api_subscribers_get(struct api_req *r)
{
    const char *ref = api_param(r, 0);
    char email[256];
    struct store_err e;
    json_t *j = NULL;
    if (!strchr(ref, '@')) {  /* by id: one statement, not id -> address -> row */
        if (api_db(r))
            api_reply_stored(r, store_subscriber_get_id(r->conn, ref, &j, &e), &j, &e, 200);
    } else if (api__subscriber_ref(r, email) == 0 && api_db(r)) {
        api_reply_stored(r, store_subscriber_get(r->conn, email, &j, &e), &j, &e, 200);
    }
}

static const struct api_field subscriber_edit_fields[] = {
    { "name", API_FIELD_STRING, false, SUBSCRIBER_NAME_MAX, 0, 0 },
    { "attribs", API_FIELD_OBJECT, false, 0, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

/* api_subscribers_patch - PATCH /api/v1/subscribers/{subscriber} */
void api_subscribers_patch(struct api_req *r)
{
    char email[256];
    struct store_err e;
    json_t *in, *j = NULL;
    if (api_body(r, subscriber_edit_fields, &in) < 0)
        return;
    struct subscriber_edit s = { .name = api_json_str(in, "name", NULL), .attribs = json_object_get(in, "attribs") };
    if (json_is_null(s.attribs))
        s.attribs = NULL;
    if (!s.name && !s.attribs)
        api_reply_error(r, 400, "invalid", NULL, "give \"name\", \"attribs\" or both");
    else if (api__subscriber_ref(r, email) == 0 && api_db(r))
        api_reply_stored(r, store_subscriber_set(r->conn, email, &s, &j, &e), &j, &e, 200);
    json_decref(in);
}

/* api_subscribers_rm - DELETE /api/v1/subscribers/{subscriber} */
void api_subscribers_rm(struct api_req *r)
{
    char email[256];
    struct store_err e;
    if (api__subscriber_ref(r, email) < 0 || api_consent(r, NULL) < 0)
        return;
    api_reply_stored(r, store_subscriber_rm(r->conn, email, &e), NULL, &e, 204);
}

/* api_subscribers_blocklist - POST /api/v1/subscribers/{subscriber}/blocklist */
void api_subscribers_blocklist(struct api_req *r)
{
    char email[256];
    struct store_err e;
    json_t *in, *j = NULL;
    if (api_body(r, api_no_fields, &in) < 0)
        return;
    json_decref(in);
    if (api__subscriber_ref(r, email) == 0 && api_consent(r, NULL) == 0)
        api_reply_stored(r, store_subscriber_blocklist(r->conn, email, &j, &e), &j, &e, 200);
}

/* api_subscriptions_ls - GET /api/v1/subscribers/{subscriber}/subscriptions */
void api_subscriptions_ls(struct api_req *r)
{
    char email[256];
    struct store_err e;
    json_t *j = NULL;
    if (api__subscriber_ref(r, email) < 0 || !api_db(r))
        return;
    api_reply_stored(r, store_subscription_ls(r->conn, email, &j, &e), &j, &e, API_ITEMS);
}

static const struct api_field subscription_fields[] = {
    { "list", API_FIELD_STRING, true, 200, 0, 0 },
    { "status", API_FIELD_STRING, false, 16, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

/* api_subscriptions_create - POST /api/v1/subscribers/{subscriber}/subscriptions */
void api_subscriptions_create(struct api_req *r)
{
    static const char *const refs[] = { "list", NULL };
    char email[256];
    struct store_err e;
    json_t *in, *j = NULL;
    bool created = false;
    if (api_body_refs(r, subscription_fields, refs, &in) < 0)
        return;
    const char *list = api_json_str(in, "list", ""), *status = api_json_str(in, "status", NULL);
    if (!*list)
        api_reply_error(r, 400, "invalid_field", "list", "field \"list\" must name a list");
    else if (status && strcmp(status, "confirmed") != 0 && strcmp(status, "unconfirmed") != 0)
        api_reply_error(r, 400, "invalid_field", "status", "field \"status\" must be \"confirmed\" or \"unconfirmed\"");
    else if (api__subscriber_ref(r, email) == 0 && api_consent(r, NULL) == 0) {
        int rc = store_subscription_set(r->conn, email, list, status, &created, &j, &e);
        api_reply_stored(r, rc, &j, &e, created ? 201 : 200);
    }
    json_decref(in);
}

/* api_subscriptions_rm - DELETE /api/v1/subscribers/{subscriber}/subscriptions/{list} */
void api_subscriptions_rm(struct api_req *r)
{
    char email[256];
    struct store_err e;
    json_t *j = NULL;
    if (api__subscriber_ref(r, email) < 0 || api_consent(r, NULL) < 0)
        return;
    api_reply_stored(r, store_subscription_rm(r->conn, email, api_param(r, 1), &j, &e), &j, &e, 200);
}

#define HISTORY_LIMIT_DEFAULT 50
#define HISTORY_LIMIT_MAX 500

/* one page of the history of {subscriber}: ?before=ID&limit=N read by READ */
static void history(struct api_req *r, int (*read)(PGconn *, const struct history_page *, json_t **, struct store_err *))
{
    static const char *const allowed[] = { "before", "limit", NULL };
    const char *before_s = api_query(r, "before"), *limit_s = api_query(r, "limit");
    long limit = HISTORY_LIMIT_DEFAULT, before = 0;
    char email[256];
    struct store_err e;
    json_t *j = NULL;
    if (api_query_only(r, allowed) < 0)
        return;
    if (limit_s && str_parse_long(limit_s, 1, HISTORY_LIMIT_MAX, &limit) < 0)
        return api_reply_error(r, 400, "invalid_field", "limit", "\"limit\" must be a number from 1 to %d",
                               HISTORY_LIMIT_MAX);
    if (before_s && str_parse_long(before_s, 1, LONG_MAX, &before) < 0)
        return api_reply_error(r, 400, "invalid_field", "before", "\"before\" must be an id (the next_before of a page)");
    if (api__subscriber_ref(r, email) < 0 || !api_db(r))
        return;
    struct history_page h = { .email = email, .before = before, .limit = limit };
    api_reply_stored(r, read(r->conn, &h, &j, &e), &j, &e, 200);
}

/* api_subscriber_deliveries - GET /api/v1/subscribers/{subscriber}/deliveries */
void api_subscriber_deliveries(struct api_req *r)
{
    history(r, store_history_deliveries);
}

/* api_subscriber_bounces - GET /api/v1/subscribers/{subscriber}/bounces */
void api_subscriber_bounces(struct api_req *r)
{
    history(r, store_history_bounces);
}

/* api_subscriber_events - GET /api/v1/subscribers/{subscriber}/events */
void api_subscriber_events(struct api_req *r)
{
    history(r, store_history_events);
}

/* api_subscriber_consent - GET /api/v1/subscribers/{subscriber}/consent */
void api_subscriber_consent(struct api_req *r)
{
    history(r, store_consent_page);
}

/* api_subscriber_export - GET /api/v1/subscribers/{subscriber}/export */
void api_subscriber_export(struct api_req *r)
{
    char email[256];
    struct store_err e;
    json_t *j = NULL;
    static const char *const none[] = { NULL };
    if (api_query_only(r, none) < 0 || api__subscriber_ref(r, email) < 0 || !api_db(r))
        return;
    api_reply_stored(r, store_subscriber_export(r->conn, email, &j, &e), &j, &e, 200);
}

/* api_subscriber_erase - POST /api/v1/subscribers/{subscriber}/erase */
void api_subscriber_erase(struct api_req *r)
{
    char email[256];
    struct store_err e;
    json_t *in, *j = NULL;
    if (api_body(r, api_no_fields, &in) < 0)
        return;
    json_decref(in);
    if (api__subscriber_ref(r, email) == 0 && api_consent(r, NULL) == 0)
        api_reply_stored(r, store_subscriber_erase(r->conn, email, &j, &e), &j, &e, 200);
}

/* api_subscribers_bulk - POST /api/v1/subscribers/bulk {action, list?, segment? | filter?, status?, dry_run?} */
void api_subscribers_bulk(struct api_req *r)
{
    static const struct api_field fields[] = {
        { "action", API_FIELD_STRING, true, 20, 0, 0 },
        { "list", API_FIELD_STRING, false, 200, 0, 0 },
        { "segment", API_FIELD_STRING, false, 200, 0, 0 },
        { "filter", API_FIELD_STRING, false, SEGMENT_MAX_LEN, 0, 0 },
        { "status", API_FIELD_STRING, false, 20, 0, 0 },
        { "dry_run", API_FIELD_BOOL, false, 0, 0, 0 },
        { NULL, 0, false, 0, 0, 0 },
    };
    static const char *const refs[] = { "list", "segment", NULL };
    struct store_err e;
    json_t *in, *j = NULL;
    if (api_body_refs(r, fields, refs, &in) < 0)
        return;
    struct bulk_job job = {
        .list = api_json_str(in, "list", NULL),
        .segment = api_json_str(in, "segment", NULL),
        .filter = api_json_str(in, "filter", NULL),
        .status = api_json_str(in, "status", NULL),
        .dry_run = api_json_bool(in, "dry_run", false),
    };
    if (store_bulk_action_parse(api_json_str(in, "action", ""), &job.action, &e) < 0)
        api_reply_store(r, &e);
    else if (api_db(r) && api_consent(r, NULL) == 0)
        api_reply_stored(r, store_subscriber_bulk(r->conn, &job, &j, &e), &j, &e, 200);
    json_decref(in);
}
