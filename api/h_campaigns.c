/*
 * h_campaigns - campaigns (postino campaign).
 *
 * api_campaigns_ls / _get / _stats   every campaign; one with its bodies; its counters
 * api_campaigns_schedule / _send / _pause / _resume / _cancel   the lifecycle moves
 * api_campaigns_create       POST /api/v1/campaigns: a draft, compiled first
 * api_campaigns_test         one message composed now and sent through a relay
 * api_campaigns_preview      one message composed now, answered as message/rfc822
 * api_campaigns_deliveries   the ledger of a campaign, by keyset page
 *
 * A campaign is named by id; lists and the template by id or name.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "api/handlers.h"
#include "engine/mail/address.h"
#include "engine/mail/template.h"
#include "engine/send/prepare.h"
#include "engine/send/relay.h"
#include "engine/store/campaigns.h"
#include "engine/store/deliveries.h"
#include "engine/store/relays.h"
#include "engine/store/templates.h"
#include "engine/util/log.h"
#include "engine/util/str.h"

#define DELIVERIES_LIMIT_DEFAULT 100
#define DELIVERIES_LIMIT_MAX 1000

/* api_campaigns_ls - GET /api/v1/campaigns */
void api_campaigns_ls(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        api_reply_stored(r, store_campaign_ls(r->conn, &j, &e), &j, &e, API_ITEMS);
}

/* api_campaigns_get - GET /api/v1/campaigns/{campaign} */
void api_campaigns_get(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        api_reply_stored(r, store_campaign_get(r->conn, api_param(r, 0), &j, &e), &j, &e, 200);
}

/* api_campaigns_stats - GET /api/v1/campaigns/{campaign}/stats */
void api_campaigns_stats(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        api_reply_stored(r, store_campaign_stats(r->conn, api_param(r, 0), &j, &e), &j, &e, 200);
}

static void campaign_move(struct api_req *r, enum campaign_action action)
{
    static const struct api_field schedule_fields[] = {
        { "send_at", API_FIELD_STRING, true, 64, 0, 0 },
        { NULL, 0, false, 0, 0, 0 },
    };
    struct store_err e = { .code = STORE_OK };
    json_t *in, *j = NULL;
    if (api_body(r, action == CAMPAIGN_SCHEDULE ? schedule_fields : api_no_fields, &in) < 0)
        return;
    const char *at = api_json_str(in, "send_at", NULL);
    if (at && !*at)
        api_reply_error(r, 400, "invalid_field", "send_at", "field \"send_at\" must be a time");
    else if (!api_db(r))
        ;
    else if (at && store_campaign_send_at_check(r->conn, at, &e) < 0 && e.code == STORE_ERR_INVALID)
        api_reply_error(r, 400, "invalid_field", "send_at", "%s", e.msg);
    else if (at && e.code == STORE_ERR_DB)
        api_reply_store(r, &e);
    else
        api_reply_stored(r, store_campaign_move(r->conn, api_param(r, 0), action, at, &j, &e), &j, &e, 200);
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

static const struct api_field campaign_fields[] = {
    { "name", API_FIELD_STRING, true, 200, 0, 0 },
    { "subject", API_FIELD_STRING, false, 998, 0, 0 },
    { "from", API_FIELD_STRING, true, 600, 0, 0 },
    { "reply_to", API_FIELD_STRING, false, 320, 0, 0 },
    { "lists", API_FIELD_REFS, true, 100, 0, 0 },
    { "template", API_FIELD_STRING, false, 200, 0, 0 },
    { "html", API_FIELD_STRING, true, API_BODY_FIELD_MAX, 0, 0 },
    { "text", API_FIELD_STRING, false, API_BODY_FIELD_MAX, 0, 0 },
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
    if (api_body_refs(r, campaign_fields, refs, &in) < 0)
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
    api_reply_stored(r, store_campaign_create(r->conn, &cn, &j, &e), &j, &e, 201);
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
    api_reply_stored(r, store_delivery_page(r->conn, &f, &j, &e), &j, &e, 200);
}
