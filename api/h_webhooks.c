/*
 * h_webhooks - the endpoints webhooks go to (postino webhook).
 *
 * api_webhooks_ls      GET /api/v1/webhooks (no secret, ever)
 * api_webhooks_create  POST /api/v1/webhooks: checked by webhook_input_check, as the CLI's;
 *                      a secret made here is in this answer and no other
 * api_webhooks_get     GET /api/v1/webhooks/{webhook}
 * api_webhooks_patch   PATCH /api/v1/webhooks/{webhook}: enabled, events
 * api_webhooks_rm      DELETE /api/v1/webhooks/{webhook}
 * api_webhooks_test    POST /api/v1/webhooks/{webhook}/test: one signed webhook.test event now
 * api_webhooks_log     GET /api/v1/webhooks/{webhook}/log?limit=&before=
 * api_webhooks_replay  POST /api/v1/webhooks/{webhook}/replay: one event, or a time range
 *
 * Writes, tests and replays are for admins (api/routes.c).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "api/handlers.h"
#include "engine/send/webhook_input.h"
#include "engine/send/webhooks.h"
#include "engine/store/webhooks.h"
#include "engine/util/str.h"

/* the {webhook} of the path as an id; 0 with the 404 answer set when it is not one */
static long long webhook_ref(struct api_req *r)
{
    long v;
    if (str_parse_long(api_param(r, 0), 1, 9007199254740991L, &v) < 0) {
        api_reply_error(r, 404, "not_found", NULL, "no webhook \"%.60s\"", api_param(r, 0));
        return 0;
    }
    return v;
}

/* api_webhooks_ls - GET /api/v1/webhooks */
void api_webhooks_ls(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        api_reply_stored(r, store_webhook_ls(r->conn, &j, &e), &j, &e, API_ITEMS);
}

static const struct api_field create_fields[] = {
    { "url", API_FIELD_STRING, true, 2000, 0, 0 },
    { "events", API_FIELD_REFS, true, 0, 0, 0 },
    { "secret", API_FIELD_STRING, false, 200, 0, 0 },
    { "description", API_FIELD_STRING, false, 1000, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

/* api_webhooks_create - POST /api/v1/webhooks */
void api_webhooks_create(struct api_req *r)
{
    json_t *in, *j = NULL;
    char **names = NULL;
    size_t n = 0;
    if (api_body(r, create_fields, &in) < 0)
        return;
    if (api_json_refs(in, "events", &names, &n) < 0) {
        json_decref(in);
        return api_reply_error(r, 400, "invalid_field", "events", "events must be an array of event names");
    }
    struct webhook_input wi = {
        .url = api_json_str(in, "url", ""),
        .events = (const char *const *)names,
        .n_events = n,
        .secret = api_json_str(in, "secret", NULL),
        .description = api_json_str(in, "description", NULL),
    };
    struct webhook_checked ck;
    struct webhook_why why;
    struct store_err e;
    if (webhook_input_check(&wi, webhooks_allow_private(), &ck, &why) < 0) {
        api_reply_error(r, 400, "invalid_field", why.field, "%s", why.why);
    } else {
        if (api_db(r)) {
            struct webhook_def d = { wi.url, buf_cstr(&ck.events), buf_cstr(&ck.secret), wi.description };
            int rc = store_webhook_add(r->conn, &d, &j, &e);
            if (rc == 0 && ck.secret_made)
                json_object_set_new(j, "secret", json_string(buf_cstr(&ck.secret)));
            api_reply_stored(r, rc, &j, &e, 201);
        }
        webhook_input_free(&ck);
    }
    api_json_refs_free(names, n);
    json_t *s = json_object_get(in, "secret");
    if (json_is_string(s) && json_string_length(s))
        OPENSSL_cleanse((void *)json_string_value(s), json_string_length(s));
    json_decref(in);
}

/* api_webhooks_get - GET /api/v1/webhooks/{webhook} */
void api_webhooks_get(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    long long id = webhook_ref(r);
    if (id && api_db(r))
        api_reply_stored(r, store_webhook_get(r->conn, id, &j, &e), &j, &e, 200);
}

static const struct api_field patch_fields[] = {
    { "enabled", API_FIELD_BOOL, false, 0, 0, 0 },
    { "events", API_FIELD_REFS, false, 0, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

/* api_webhooks_patch - PATCH /api/v1/webhooks/{webhook}: enable (the failures forgotten), disable, events */
void api_webhooks_patch(struct api_req *r)
{
    json_t *in, *j = NULL;
    long long id = webhook_ref(r);
    if (!id || api_body(r, patch_fields, &in) < 0)
        return;
    struct buf lit = BUF_INIT;
    struct webhook_why why;
    struct store_err e;
    int enabled = json_object_get(in, "enabled") ? api_json_bool(in, "enabled", true) : -1;
    bool bad = false;
    if (json_object_get(in, "events")) {
        char **names = NULL;
        size_t n = 0;
        if (api_json_refs(in, "events", &names, &n) < 0) {
            api_reply_error(r, 400, "invalid_field", "events", "events must be an array of event names");
            bad = true;
        } else if (webhook_events_literal((const char *const *)names, n, &lit, &why) < 0) {
            api_reply_error(r, 400, "invalid_field", why.field, "%s", why.why);
            bad = true;
        }
        api_json_refs_free(names, n);
    }
    if (!bad && api_db(r))
        api_reply_stored(r, store_webhook_update(r->conn, id, enabled, lit.len ? buf_cstr(&lit) : NULL, &j, &e), &j,
                         &e, 200);
    buf_free(&lit);
    json_decref(in);
}

/* api_webhooks_rm - DELETE /api/v1/webhooks/{webhook} */
void api_webhooks_rm(struct api_req *r)
{
    struct store_err e;
    long long id = webhook_ref(r);
    if (!id || !api_db(r))
        return;
    if (store_webhook_rm(r->conn, id, &e) < 0)
        api_reply_store(r, &e);
    else
        api_reply_empty(r, 204);
}

/* api_webhooks_test - POST /api/v1/webhooks/{webhook}/test */
void api_webhooks_test(struct api_req *r)
{
    struct store_err e;
    json_t *in;
    long long id = webhook_ref(r);
    if (!id || api_body(r, api_no_fields, &in) < 0)
        return;
    json_decref(in);
    if (!api_db(r))
        return;
    struct buf url = BUF_INIT, secret = BUF_INIT;
    if (store_webhook_secret(r->conn, id, &url, &secret, &e) < 0) {
        buf_free(&url);
        buf_free(&secret);
        return api_reply_store(r, &e);
    }
    struct http_result res;
    int rc = webhook_probe(id, buf_cstr(&url), buf_cstr(&secret), &res);
    OPENSSL_cleanse(secret.data, secret.len);
    buf_free(&secret);
    buf_free(&url);
    const char *err = res.error[0] ? res.error : rc < 0 ? "not a 2xx answer" : NULL;
    store_webhook_note(r->conn, id, "webhook.test", res.status, (int)res.latency_ms, err, &e);
    json_t *j = json_pack("{s:I, s:b, s:o, s:I, s:o}", "webhook", (json_int_t)id, "ok", rc == 0, "status",
                          res.status ? json_integer(res.status) : json_null(), "latency_ms",
                          (json_int_t)res.latency_ms, "error", err ? json_string(err) : json_null());
    api_reply_json(r, 200, j);
}

/* api_webhooks_log - GET /api/v1/webhooks/{webhook}/log */
void api_webhooks_log(struct api_req *r)
{
    static const char *const allowed[] = { "limit", "before", NULL };
    struct store_err e;
    json_t *j = NULL;
    long limit = 50, before = 0;
    long long id = webhook_ref(r);
    if (!id || api_query_only(r, allowed) < 0)
        return;
    const char *l = api_query(r, "limit"), *b = api_query(r, "before");
    if (l && str_parse_long(l, 1, 1000, &limit) < 0)
        return api_reply_error(r, 400, "invalid", "limit", "limit must be from 1 to 1000");
    if (b && str_parse_long(b, 1, 9007199254740991L, &before) < 0)
        return api_reply_error(r, 400, "invalid", "before", "before must be an attempt id");
    if (api_db(r))
        api_reply_stored(r, store_webhook_log(r->conn, id, (int)limit, before, &j, &e), &j, &e, API_ITEMS);
}

static const struct api_field replay_fields[] = {
    { "event_id", API_FIELD_INT, false, 0, 1, 9007199254740991LL },
    { "since", API_FIELD_STRING, false, 100, 0, 0 },
    { "until", API_FIELD_STRING, false, 100, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

/* api_webhooks_replay - POST /api/v1/webhooks/{webhook}/replay: {event_id} or {since[, until]} */
void api_webhooks_replay(struct api_req *r)
{
    struct store_err e;
    json_t *in;
    long long id = webhook_ref(r);
    if (!id || api_body(r, replay_fields, &in) < 0)
        return;
    long long event = api_json_int(in, "event_id", 0);
    const char *since = api_json_str(in, "since", NULL), *until = api_json_str(in, "until", NULL);
    long long n = 0;
    if (!event == !since)
        api_reply_error(r, 400, "invalid_field", "event_id", "replay needs event_id or since (not both)");
    else if (until && !since)
        api_reply_error(r, 400, "invalid_field", "until", "until goes with since");
    else if (api_db(r)) {
        if (store_webhook_replay(r->conn, id, event, since, until, &n, &e) < 0)
            api_reply_store(r, &e);
        else
            api_reply_json(r, 200, json_pack("{s:I, s:I}", "webhook", (json_int_t)id, "queued", (json_int_t)n));
    }
    json_decref(in);
}
