/*
 * h_write - the API's writes over the store: subscriptions of a subscriber,
 * templates, campaigns (create, test message, preview, deliveries), relays
 * and DKIM keys.
 *
 * api_subscriptions_ls / _create / _rm       a subscriber's subscriptions
 * api_templates_create / _put / _rm          stored templates, compiled first
 * api_campaigns_create                       a draft campaign, compiled first
 * api_campaigns_test / _preview              one message composed now (compose_for)
 * api_campaigns_deliveries                   the ledger of a campaign, by keyset page
 * api_relays_create / _rm                    relays; the password is write-only
 * api_dkim_create / _rm                      DKIM keys; only the public record is answered
 *
 * Input is checked here (field tables, addresses, enumerations, template
 * syntax with line and column) before the store sees it. A list, template
 * or relay is named by id or name, a subscriber by id or email.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/handlers.h"
#include "engine/mail/address.h"
#include "engine/mail/dkim.h"
#include "engine/mail/template.h"
#include "engine/send/prepare.h"
#include "engine/send/relay.h"
#include "engine/send/sender.h"
#include "engine/store/campaigns.h"
#include "engine/store/deliveries.h"
#include "engine/store/dkim_keys.h"
#include "engine/store/relays.h"
#include "engine/store/subscribers.h"
#include "engine/store/templates.h"
#include "engine/util/alloc.h"
#include "engine/util/log.h"
#include "engine/util/str.h"

#define DELIVERIES_LIMIT_DEFAULT 100
#define DELIVERIES_LIMIT_MAX 1000
#define BODY_FIELD_MAX (8u << 20)   /* an HTML or text body, as the CLI reads from a file */

/* answer a store call that yields JSON in *JP: STATUS with it, or the store error */
static void reply_stored(struct api_req *r, int rc, json_t **jp, const struct store_err *e, int status)
{
    if (rc < 0)
        api_reply_store(r, e);
    else
        api_reply_json(r, status, *jp);
}

/*
 * the body checked against FIELDS, where the members named in REFS may also
 * be non-negative integers (ids) and are turned into strings; -1 with the
 * answer set
 */
static int body_refs(struct api_req *r, const struct api_field *fields, const char *const *refs, json_t **out)
{
    struct api_err e;
    if (api_json_parse(r->body, r->body_len, out, &e) == 0) {
        for (size_t i = 0; refs[i]; i++) {
            json_t *v = json_object_get(*out, refs[i]);
            if (json_is_integer(v) && json_integer_value(v) >= 0) {
                char id[32];
                snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(v));
                json_object_set_new(*out, refs[i], json_string(id));
            }
        }
        if (api_json_check(*out, fields, &e) == 0)
            return 0;
    }
    json_decref(*out);
    *out = NULL;
    api_reply_err(r, &e);
    return -1;
}

/* is FIELD of IN a one-line, non-empty string when present; else answer 400 */
static bool one_line(struct api_req *r, json_t *in, const char *field, bool empty_ok)
{
    const char *s = api_json_str(in, field, NULL);
    if (s && !empty_ok && !*s) {
        api_reply_error(r, 400, "invalid_field", field, "field \"%s\" must not be empty", field);
        return false;
    }
    if (s && strpbrk(s, "\r\n")) {
        api_reply_error(r, 400, "invalid_field", field, "field \"%s\" must be one line", field);
        return false;
    }
    return true;
}

/* ---- subscriptions ---- */

/* api_subscriptions_ls - GET /api/v1/subscribers/{subscriber}/subscriptions */
void api_subscriptions_ls(struct api_req *r)
{
    char email[256];
    struct store_err e;
    json_t *j = NULL;
    if (api__subscriber_ref(r, email) < 0 || !api_db(r))
        return;
    if (store_subscription_ls(r->conn, email, &j, &e) < 0)
        api_reply_store(r, &e);
    else
        api_reply_items(r, j);
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
    if (body_refs(r, subscription_fields, refs, &in) < 0)
        return;
    const char *list = api_json_str(in, "list", ""), *status = api_json_str(in, "status", NULL);
    if (!*list)
        api_reply_error(r, 400, "invalid_field", "list", "field \"list\" must name a list");
    else if (status && strcmp(status, "confirmed") != 0 && strcmp(status, "unconfirmed") != 0)
        api_reply_error(r, 400, "invalid_field", "status", "field \"status\" must be \"confirmed\" or \"unconfirmed\"");
    else if (api__subscriber_ref(r, email) == 0 && api_db(r)) {
        int rc = store_subscription_set(r->conn, email, list, status, &created, &j, &e);
        reply_stored(r, rc, &j, &e, created ? 201 : 200);
    }
    json_decref(in);
}

/* api_subscriptions_rm - DELETE /api/v1/subscribers/{subscriber}/subscriptions/{list} */
void api_subscriptions_rm(struct api_req *r)
{
    char email[256];
    struct store_err e;
    json_t *j = NULL;
    if (api__subscriber_ref(r, email) < 0 || !api_db(r))
        return;
    reply_stored(r, store_subscription_rm(r->conn, email, api_param(r, 1), &j, &e), &j, &e, 200);
}

/* ---- templates ---- */

static const struct api_field template_fields[] = {
    { "name", API_FIELD_STRING, true, 200, 0, 0 },
    { "subject", API_FIELD_STRING, false, 998, 0, 0 },
    { "html", API_FIELD_STRING, true, BODY_FIELD_MAX, 0, 0 },
    { "text", API_FIELD_STRING, false, BODY_FIELD_MAX, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

/* does FIELD of IN compile (as a layout when LAYOUT); else answer 400 with the line and column */
static bool compiles(struct api_req *r, json_t *in, const char *field, bool layout)
{
    const char *src = api_json_str(in, field, NULL);
    char err[TMPL_ERR_MAX];
    if (!src)
        return true;
    struct tmpl *t = layout ? tmpl_compile_wrap(src, strlen(src), "", 0, err, sizeof(err))
                            : tmpl_compile(src, strlen(src), err, sizeof(err));
    if (!t) {
        api_reply_error(r, 400, "invalid_template", field, "field \"%s\": %s", field, err);
        return false;
    }
    tmpl_free(t);
    return true;
}

/* a template from the body of R: REF NULL adds, else replaces */
static void template_save(struct api_req *r, const char *ref)
{
    struct store_err e;
    json_t *in, *j = NULL;
    if (api_body(r, template_fields, &in) < 0)
        return;
    struct template_new t = {
        .name = api_json_str(in, "name", ""),
        .subject = api_json_str(in, "subject", NULL),
        .html = api_json_str(in, "html", ""),
        .text = api_json_str(in, "text", NULL),
    };
    if (!*t.name)
        api_reply_error(r, 400, "invalid_field", "name", "field \"name\" must not be empty");
    else if (one_line(r, in, "subject", false) && compiles(r, in, "subject", false) && compiles(r, in, "html", true) &&
             compiles(r, in, "text", true) && api_db(r))
        reply_stored(r, store_template_save(r->conn, ref, &t, &j, &e), &j, &e, ref ? 200 : 201);
    json_decref(in);
}

/* api_templates_create - POST /api/v1/templates */
void api_templates_create(struct api_req *r)
{
    template_save(r, NULL);
}

/* api_templates_put - PUT /api/v1/templates/{template} */
void api_templates_put(struct api_req *r)
{
    template_save(r, api_param(r, 0));
}

/* api_templates_rm - DELETE /api/v1/templates/{template} */
void api_templates_rm(struct api_req *r)
{
    struct store_err e;
    if (!api_db(r))
        return;
    if (store_template_rm(r->conn, api_param(r, 0), &e) < 0)
        api_reply_store(r, &e);
    else
        api_reply_empty(r, 204);
}

/* ---- campaigns ---- */

static const struct api_field campaign_fields[] = {
    { "name", API_FIELD_STRING, true, 200, 0, 0 },
    { "subject", API_FIELD_STRING, false, 998, 0, 0 },
    { "from", API_FIELD_STRING, true, 600, 0, 0 },
    { "reply_to", API_FIELD_STRING, false, 320, 0, 0 },
    { "lists", API_FIELD_REFS, true, 100, 0, 0 },
    { "template", API_FIELD_STRING, false, 200, 0, 0 },
    { "html", API_FIELD_STRING, true, BODY_FIELD_MAX, 0, 0 },
    { "text", API_FIELD_STRING, false, BODY_FIELD_MAX, 0, 0 },
    { "track_opens", API_FIELD_BOOL, false, 0, 0, 0 },
    { "track_clicks", API_FIELD_BOOL, false, 0, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

/* does BODY compile inside LAYOUT (when given); else answer 400 naming FIELD, line and column */
static bool body_compiles(struct api_req *r, const char *field, const char *layout, const char *body)
{
    char err[TMPL_ERR_MAX];
    struct tmpl *t = layout ? tmpl_compile_wrap(layout, strlen(layout), body, strlen(body), err, sizeof(err))
                            : tmpl_compile(body, strlen(body), err, sizeof(err));
    if (!t) {
        api_reply_error(r, 400, "invalid_template", field, "field \"%s\": %s", field, err);
        return false;
    }
    tmpl_free(t);
    return true;
}

/* api_campaigns_create - POST /api/v1/campaigns */
void api_campaigns_create(struct api_req *r)
{
    static const char *const refs[] = { "template", NULL };
    char from_name[601], from_addr[ADDRESS_MAX + 1], reply_addr[ADDRESS_MAX + 1];
    const char *why;
    struct store_err e;
    json_t *in, *tmpl = NULL, *j = NULL;
    char **lists = NULL;
    size_t nlists = 0;
    if (body_refs(r, campaign_fields, refs, &in) < 0)
        return;
    struct campaign_new cn = {
        .name = api_json_str(in, "name", ""),
        .subject = api_json_str(in, "subject", NULL),
        .template_ref = api_json_str(in, "template", NULL),
        .html = api_json_str(in, "html", ""),
        .text = api_json_str(in, "text", NULL),
        .reply_to = api_json_str(in, "reply_to", NULL),
        .track_opens = api_json_bool(in, "track_opens", false),
        .track_clicks = api_json_bool(in, "track_clicks", false),
    };
    api_json_refs(in, "lists", &lists, &nlists);
    if (!*cn.name) {
        api_reply_error(r, 400, "invalid_field", "name", "field \"name\" must not be empty");
        goto out;
    }
    if (!one_line(r, in, "subject", false))
        goto out;
    if (address_mailbox_parse(api_json_str(in, "from", ""), from_name, sizeof(from_name), from_addr, &why) < 0) {
        api_reply_error(r, 400, "invalid_field", "from", "field \"from\" is not a valid sender: %s", why);
        goto out;
    }
    if (cn.reply_to && address_normalize(cn.reply_to, reply_addr, sizeof(reply_addr), &why) < 0) {
        api_reply_error(r, 400, "invalid_field", "reply_to", "field \"reply_to\" is not a valid address: %s", why);
        goto out;
    }
    if (nlists == 0) {
        api_reply_error(r, 400, "invalid_field", "lists", "field \"lists\" must name at least one list");
        goto out;
    }
    if (!api_db(r))
        goto out;
    if (cn.template_ref && store_template_get(r->conn, cn.template_ref, &tmpl, &e) < 0) {
        api_reply_store(r, &e);
        goto out;
    }
    if (!cn.subject)
        cn.subject = tmpl ? json_string_value(json_object_get(tmpl, "subject")) : NULL;
    if (!cn.subject) {
        api_reply_error(r, 400, "missing_field", "subject", "field \"subject\" is required (the template has none)");
        goto out;
    }
    if (!body_compiles(r, "subject", NULL, cn.subject) ||
        !body_compiles(r, "html", tmpl ? json_string_value(json_object_get(tmpl, "html")) : NULL, cn.html) ||
        (cn.text && !body_compiles(r, "text", tmpl ? json_string_value(json_object_get(tmpl, "text")) : NULL,
                                   cn.text)))
        goto out;
    cn.from_name = from_name;
    cn.from_addr = from_addr;
    cn.reply_to = cn.reply_to ? reply_addr : NULL;
    cn.lists = (const char *const *)lists;
    cn.nlists = nlists;
    reply_stored(r, store_campaign_create(r->conn, &cn, &j, &e), &j, &e, 201);
out:
    api_json_refs_free(lists, nlists);
    json_decref(tmpl);
    json_decref(in);
}

static const struct api_field test_fields[] = {
    { "to", API_FIELD_STRING, true, 320, 0, 0 },
    { "relay", API_FIELD_STRING, false, 100, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

/* api_campaigns_test - POST /api/v1/campaigns/{campaign}/test */
void api_campaigns_test(struct api_req *r)
{
    char to[ADDRESS_MAX + 1];
    const char *why;
    struct store_err e;
    json_t *in;
    struct relay_def *defs = NULL;
    size_t ndefs = 0;
    if (api_body(r, test_fields, &in) < 0)
        return;
    const char *relay = api_json_str(in, "relay", NULL);
    if (address_normalize(api_json_str(in, "to", ""), to, sizeof(to), &why) < 0) {
        api_reply_error(r, 400, "invalid_field", "to", "field \"to\" is not a valid address: %s", why);
    } else if (api_db(r) && store_relay_load(r->conn, relay, &defs, &ndefs, &e) < 0) {
        api_reply_store(r, &e);
    } else if (r->conn) {
        struct buf msg = BUF_INIT;
        struct compose_for_info info;
        struct relay_answer ans;
        struct store_err ce;
        int rc = compose_for(r->conn, api_param(r, 0), to, true, "test", &msg, &info, ce.msg, sizeof(ce.msg));
        if (rc < 0) {
            ce.code = rc;
            api_reply_store(r, &ce);
        } else if (relay_send_one(&defs[0], info.from_addr, to, msg.data, msg.len, &ans) == 0) {
            api_reply_json(r, 200,
                           json_pack("{s:b,s:s,s:s,s:b,s:i,s:s,s:s,s:s}", "accepted", ans.ok, "to", to, "relay",
                                     defs[0].name, "signed", !info.unsigned_warning, "code", ans.code, "enhanced",
                                     ans.enhanced, "text", ans.text, "queue_id", ans.queue_id));
        } else {
            log_warn("api: test message of campaign %s through %s: %s %d %s", api_param(r, 0), defs[0].name,
                     ans.stage, ans.code, ans.text);
            api_reply_error(r, 502, "relay_failed", NULL, "relay \"%s\" did not take the message at %s: %d %s",
                            defs[0].name, ans.stage[0] ? ans.stage : "connect", ans.code, ans.text);
        }
        buf_free(&msg);
        relay_defs_free(defs, ndefs);
    }
    json_decref(in);
}

/* api_campaigns_preview - GET /api/v1/campaigns/{campaign}/preview?email=ADDR: the signed message */
void api_campaigns_preview(struct api_req *r)
{
    static const char *const allowed[] = { "email", NULL };
    const char *who = api_query(r, "email"), *why;
    char email[ADDRESS_MAX + 1];
    if (api_query_only(r, allowed) < 0)
        return;
    if (!who)
        return api_reply_error(r, 400, "missing_field", "email", "query argument \"email\" is required");
    if (address_normalize(who, email, sizeof(email), &why) < 0)
        return api_reply_error(r, 400, "invalid_field", "email", "\"email\" is not a valid address: %s", why);
    if (!api_db(r))
        return;
    struct buf msg = BUF_INIT;
    struct compose_for_info info;
    struct store_err ce;
    int rc = compose_for(r->conn, api_param(r, 0), email, false, "preview", &msg, &info, ce.msg, sizeof(ce.msg));
    if (rc < 0) {
        ce.code = rc;
        buf_free(&msg);
        return api_reply_store(r, &ce);
    }
    api_reply_text(r, 200, "message/rfc822", &msg);
    buf_free(&msg);
}

/* api_campaigns_deliveries - GET /api/v1/campaigns/{campaign}/deliveries */
void api_campaigns_deliveries(struct api_req *r)
{
    static const char *const allowed[] = { "state", "limit", "after", NULL };
    static const char *const states[] = { "queued", "sending", "sent", "deferred", "failed", "skipped", "cancelled",
                                          NULL };
    const char *state = api_query(r, "state"), *limit_s = api_query(r, "limit"), *after_s = api_query(r, "after");
    long limit = DELIVERIES_LIMIT_DEFAULT, after = 0;
    struct store_err e;
    json_t *j = NULL;
    if (api_query_only(r, allowed) < 0)
        return;
    if (limit_s && str_parse_long(limit_s, 1, DELIVERIES_LIMIT_MAX, &limit) < 0)
        return api_reply_error(r, 400, "invalid_field", "limit", "\"limit\" must be a number from 1 to %d",
                               DELIVERIES_LIMIT_MAX);
    if (after_s && str_parse_long(after_s, 0, LONG_MAX, &after) < 0)
        return api_reply_error(r, 400, "invalid_field", "after", "\"after\" must be a delivery id");
    if (state) {
        size_t i = 0;
        while (states[i] && strcmp(states[i], state) != 0)
            i++;
        if (!states[i])
            return api_reply_error(r, 400, "invalid_field", "state",
                                   "\"state\" must be queued, sending, sent, deferred, failed, skipped or cancelled");
    }
    if (!api_db(r))
        return;
    struct delivery_filter f = { .campaign = api_param(r, 0), .state = state, .after = after, .limit = limit };
    reply_stored(r, store_delivery_page(r->conn, &f, &j, &e), &j, &e, 200);
}

/* ---- relays ---- */

/* types and sizes only: the values' rules are relay_input_check's, the same words as the CLI's */
static const struct api_field relay_fields[] = {
    { "name", API_FIELD_STRING, true, 1000, 0, 0 },
    { "host", API_FIELD_STRING, true, 1000, 0, 0 },
    { "port", API_FIELD_INT, false, 0, -2147483647, 2147483647 },
    { "tls", API_FIELD_STRING, false, 1000, 0, 0 },
    { "tls_verify", API_FIELD_BOOL, false, 0, 0, 0 },
    { "ca_file", API_FIELD_STRING, false, 1000, 0, 0 },
    { "username", API_FIELD_STRING, false, 1000, 0, 0 },
    { "password", API_FIELD_STRING, false, 1000, 0, 0 },
    { "max_conns", API_FIELD_INT, false, 0, -2147483647, 2147483647 },
    { "max_per_conn", API_FIELD_INT, false, 0, -2147483647, 2147483647 },
    { "rate", API_FIELD_STRING, false, 1000, 0, 0 },
    { "quota", API_FIELD_STRING, false, 1000, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

/* api_relays_create - POST /api/v1/relays (the password is stored, never answered) */
void api_relays_create(struct api_req *r)
{
    struct store_err e;
    struct relay_check why;
    struct relay_def d;
    json_t *in, *j = NULL;
    if (api_body(r, relay_fields, &in) < 0)
        return;
    struct relay_input ri = {
        .name = api_json_str(in, "name", ""),
        .host = api_json_str(in, "host", ""),
        .tls = api_json_str(in, "tls", NULL),
        .tls_verify = api_json_bool(in, "tls_verify", true),
        .ca_file = api_json_str(in, "ca_file", NULL),
        .username = api_json_str(in, "username", NULL),
        .password = api_json_str(in, "password", NULL),
        .rate = api_json_str(in, "rate", NULL),
        .quota = api_json_str(in, "quota", NULL),
        .port = api_json_int(in, "port", -1),
        .max_conns = api_json_int(in, "max_conns", -1),
        .max_per_conn = api_json_int(in, "max_per_conn", -1),
    };
    if (relay_input_check(&ri, &d, &why) < 0) {
        api_reply_error(r, 400, "invalid_field", why.field, "%s", why.why);
    } else if (api_db(r)) {
        int rc = store_relay_add(r->conn, &d, &j, &e);
        if (rc == 0) {
            json_object_del(j, "password_set");
            sender_relays_changed(); /* this process's sender takes it now, not at its next reading */
        }
        reply_stored(r, rc, &j, &e, 201);
    }
    json_decref(in);
}

/* api_relays_rm - DELETE /api/v1/relays/{relay} */
void api_relays_rm(struct api_req *r)
{
    struct store_err e;
    if (!api_db(r))
        return;
    if (store_relay_rm(r->conn, api_param(r, 0), &e) < 0) {
        api_reply_store(r, &e);
    } else {
        sender_relays_changed();
        api_reply_empty(r, 204);
    }
}

/* ---- DKIM keys ---- */

static const struct api_field dkim_fields[] = {
    { "domain", API_FIELD_STRING, true, 253, 0, 0 },
    { "selector", API_FIELD_STRING, false, 63, 0, 0 },
    { "algorithm", API_FIELD_STRING, false, 16, 0, 0 },
    { "bits", API_FIELD_INT, false, 0, DKIM_RSA_MIN_BITS, DKIM_RSA_MAX_BITS },
    { NULL, 0, false, 0, 0, 0 },
};

/* is S one DNS label of lower-case letters, digits and inner hyphens */
/* api_dkim_create - POST /api/v1/dkim-keys: a new key; the answer is the DNS record, never the private key */
void api_dkim_create(struct api_req *r)
{
    char domain[ADDRESS_MAX + 1], sel[64];
    const char *why;
    struct store_err e;
    enum dkim_alg alg = DKIM_RSA_SHA256;
    json_t *in, *key = NULL;
    if (api_body(r, dkim_fields, &in) < 0)
        return;
    const char *alg_name = api_json_str(in, "algorithm", "rsa"), *selector = api_json_str(in, "selector", NULL);
    long bits = (long)api_json_int(in, "bits", 0);
    if (strcmp(alg_name, "rsa") != 0 && strcmp(alg_name, "ed25519") != 0) {
        api_reply_error(r, 400, "invalid_field", "algorithm", "field \"algorithm\" must be \"rsa\" or \"ed25519\"");
        goto out;
    }
    dkim_alg_parse(alg_name, &alg);
    if (bits && alg != DKIM_RSA_SHA256) {
        api_reply_error(r, 400, "invalid_field", "bits", "field \"bits\" applies to rsa keys only");
        goto out;
    }
    if (address_domain_normalize(api_json_str(in, "domain", ""), domain, sizeof(domain), &why) < 0) {
        api_reply_error(r, 400, "invalid_field", "domain", "field \"domain\" is not a valid domain: %s", why);
        goto out;
    }
    if (selector) {
        snprintf(sel, sizeof(sel), "%s", selector);
        str_lower(sel);
        if (!dkim_selector_ok(sel)) {
            api_reply_error(r, 400, "invalid_field", "selector",
                            "field \"selector\" must be one DNS label (letters, digits, hyphens)");
            goto out;
        }
    } else {
        dkim_selector_default(alg, time(NULL), sel, sizeof(sel));
    }
    if (alg == DKIM_RSA_SHA256 && !bits)
        bits = DKIM_RSA_DEFAULT_BITS;
    if (!api_db(r))
        goto out;
    char *pem = NULL, *pub = NULL;
    if (dkim_key_generate(alg, (int)bits, &pem, &pub, &why) < 0) {
        log_error("api: cannot generate a DKIM key for %s: %s", domain, why);
        api_reply_error(r, 503, "unavailable", NULL, "a key could not be generated now; try again later");
        goto out;
    }
    int rc = store_dkim_add(r->conn, domain, sel, alg_name, (int)bits, pem, pub, &key, &e);
    dkim_secret_free(pem);
    xfree(pub);
    if (rc < 0) {
        api_reply_store(r, &e);
        goto out;
    }
    struct buf txt = BUF_INIT;
    dkim_txt_record(&txt, alg, json_string_value(json_object_get(key, "public_key")));
    json_object_set_new(key, "type", json_string("TXT"));
    json_object_set_new(key, "record", json_string(buf_cstr(&txt)));
    buf_free(&txt);
    api_reply_json(r, 201, key);
out:
    json_decref(in);
}

/* api_dkim_rm - DELETE /api/v1/dkim-keys/{id} */
void api_dkim_rm(struct api_req *r)
{
    struct store_err e;
    if (!api_db(r))
        return;
    if (store_dkim_rm_id(r->conn, api_param(r, 0), &e) < 0)
        api_reply_store(r, &e);
    else
        api_reply_empty(r, 204);
}
