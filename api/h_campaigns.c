/*
 * h_campaigns - campaigns (postino campaign).
 *
 * api_campaigns_ls / _get / _stats   every campaign; one with its bodies; its counters
 * api_campaigns_schedule / _send / _pause / _resume / _cancel   the lifecycle moves
 * api_campaigns_archive   a finished or cancelled campaign's deliveries to the archive
 * api_campaigns_create       POST /api/v1/campaigns: a draft (campaign_create)
 * api_campaigns_put          PUT /api/v1/campaigns/{campaign}: a draft or scheduled one replaced
 *                            (campaign_update)
 * api_campaigns_render       POST /api/v1/campaigns/preview: content not saved, rendered for a
 *                            subscriber as {subject, html, text} (campaign_preview), and the
 *                            "url" of the HTML for the admin's frame (h_admin.c)
 * api__reply_invalid_template  a 400 for what does not compile, with its line and column
 * api_campaigns_test         one message composed now and sent through a relay
 *                            (campaign_test_send)
 * api_campaigns_preview      one message composed now, answered as message/rfc822
 * api_campaigns_deliveries   the ledger of a campaign, by keyset page
 * api_campaigns_patch        PATCH /api/v1/campaigns/{campaign}: the fields given changed
 *                            (campaign_patch); 409 naming those a started campaign keeps
 * api_campaigns_rm           DELETE /api/v1/campaigns/{campaign}: one not started (store_campaign_rm)
 * api_campaigns_clone        POST /api/v1/campaigns/{campaign}/clone: a new draft (store_campaign_clone)
 * api_campaigns_ab           GET /api/v1/campaigns/{campaign}/ab: the A/B test's results (store_ab_show)
 * api_campaigns_ab_pick      POST /api/v1/campaigns/{campaign}/ab/pick: the winner sent to the rest
 *                            (store_ab_pick)
 *
 * A campaign is named by id; lists and the template by id or name.
 */
#include <limits.h>
#include <string.h>

#include "api/handlers.h"
#include "engine/mail/segment.h"
#include "api/preview_cache.h"
#include "engine/mail/address.h"
#include "engine/mail/smtp_reply.h"
#include "engine/send/campaign_ops.h"
#include "engine/send/prepare.h"
#include "engine/send/settings_send.h"
#include "engine/store/abtests.h"
#include "engine/store/campaigns.h"
#include "engine/store/deliveries.h"
#include "engine/util/log.h"
#include "engine/util/str.h"

#define DELIVERIES_LIMIT_DEFAULT 100
#define DELIVERIES_LIMIT_MAX 1000
#define CAMPAIGNS_LIMIT_DEFAULT 100
#define CAMPAIGNS_LIMIT_MAX 1000

/* api_campaigns_ls - GET /api/v1/campaigns[?after=ID&limit=N]: newest first, a keyset page */
void api_campaigns_ls(struct api_req *r)
{
    static const char *const allowed[] = { "after", "limit", NULL };
    const char *limit_s = api_query(r, "limit"), *after_s = api_query(r, "after");
    long limit = CAMPAIGNS_LIMIT_DEFAULT, after = 0;
    struct store_err e;
    json_t *j = NULL;
    if (api_query_only(r, allowed) < 0)
        return;
    if (limit_s && str_parse_long(limit_s, 1, CAMPAIGNS_LIMIT_MAX, &limit) < 0)
        return api_reply_error(r, 400, "invalid_field", "limit", "\"limit\" must be a number from 1 to %d",
                               CAMPAIGNS_LIMIT_MAX);
    if (after_s && str_parse_long(after_s, 0, LONG_MAX, &after) < 0)
        return api_reply_error(r, 400, "invalid_field", "after", "\"after\" must be a campaign id");
    if (api_db(r))
        api_reply_stored(r, store_campaign_ls(r->conn, after, limit, &j, &e), &j, &e, API_ITEMS);
}

/* api__reply_invalid_template - 400 invalid_template naming FIELD, with MSG and TMPL_ERR's line and column */
void api__reply_invalid_template(struct api_req *r, const char *field, const char *msg, const char *tmpl_err)
{
    struct api_err ae = { .status = 400, .code = "invalid_template", .has_field = true };
    unsigned long line, column;
    snprintf(ae.field, sizeof(ae.field), "%s", field);
    snprintf(ae.message, sizeof(ae.message), "%s", msg);
    json_t *j = api_error_json(&ae);
    if (tmpl_err_position(tmpl_err, &line, &column) == 0) {
        json_t *err = json_object_get(j, "error");
        json_object_set_new(err, "line", json_integer((json_int_t)line));
        json_object_set_new(err, "column", json_integer((json_int_t)column));
    }
    api_reply_json(r, 400, j);
}

/* 409 naming every field a started campaign keeps: "field" the first, "fields" all of them */
static void reply_conflict(struct api_req *r, const struct campaign_refusal *why)
{
    struct api_err ae = { .status = 409, .code = "conflict", .has_field = true };
    snprintf(ae.field, sizeof(ae.field), "%s", why->refused[0]);
    snprintf(ae.message, sizeof(ae.message), "%.*s", (int)sizeof(ae.message) - 1, why->e.msg);
    json_t *j = api_error_json(&ae), *fields = json_array();
    for (size_t i = 0; i < why->nrefused; i++)
        json_array_append_new(fields, json_string(why->refused[i]));
    json_object_set_new(json_object_get(j, "error"), "fields", fields);
    api_reply_json(r, 409, j);
}

/* a refusal of campaign_check, campaign_create, campaign_update, campaign_patch or campaign_preview */
static void reply_refusal(struct api_req *r, const struct campaign_refusal *why)
{
    if (why->nrefused > 0)
        reply_conflict(r, why);
    else if (why->field && strcmp(why->kind, "invalid_template") == 0)
        api__reply_invalid_template(r, why->field, why->e.msg, why->tmpl_err);
    else if (why->field)
        api_reply_error(r, 400, why->kind, why->field, "%s", why->e.msg);
    else
        api_reply_store(r, &why->e);
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
    struct store_err e;
    json_t *in, *j = NULL;
    if (api_body(r, action == CAMPAIGN_SCHEDULE ? schedule_fields : api_no_fields, &in) < 0)
        return;
    const char *at = api_json_str(in, "send_at", NULL);
    if (at && !*at)
        api_reply_error(r, 400, "invalid_field", "send_at", "field \"send_at\" must be a time");
    else if (api_db(r))
        api_reply_stored(r, store_campaign_move(r->conn, api_param(r, 0), action, at,
                                                    send_settings.audience_chunk, &j, &e), &j, &e, 200);
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

/* api_campaigns_archive - POST /api/v1/campaigns/{campaign}/archive */
void api_campaigns_archive(struct api_req *r)
{
    struct store_err e;
    json_t *in, *j = NULL;
    long long moved = 0;
    if (api_body(r, api_no_fields, &in) < 0)
        return;
    json_decref(in);
    if (!api_db(r))
        return;
    int rc = store_campaign_archive(r->conn, api_param(r, 0), &moved, &j, &e);
    if (rc == STORE_OK)
        json_object_set_new(j, "archived", json_integer(moved));
    api_reply_stored(r, rc, &j, &e, 200);
}

/*
 * a campaign's fields, the one list a save and a preview both take: SAVE
 * marks those a save requires (a preview of a draft being written requires
 * none of them)
 */
#define CAMPAIGN_FIELDS(save)                                           \
    { "name", API_FIELD_STRING, save, 200, 0, 0 },                      \
    { "subject", API_FIELD_STRING, false, 998, 0, 0 },                  \
    { "from", API_FIELD_STRING, save, 600, 0, 0 },                      \
    { "reply_to", API_FIELD_STRING, false, 320, 0, 0 },                 \
    { "lists", API_FIELD_REFS, save, 100, 0, 0 },                       \
    { "template", API_FIELD_STRING, false, 200, 0, 0 },                 \
    { "html", API_FIELD_STRING, false, CAMPAIGN_BODY_MAX, 0, 0 },       \
    { "markdown", API_FIELD_STRING, false, CAMPAIGN_BODY_MAX, 0, 0 },   \
    { "text", API_FIELD_STRING, false, CAMPAIGN_BODY_MAX, 0, 0 },       \
    { "segment", API_FIELD_STRING, false, 200, 0, 0 },                  \
    { "filter", API_FIELD_STRING, false, SEGMENT_MAX_LEN, 0, 0 },       \
    { "track_opens", API_FIELD_BOOL, false, 0, 0, 0 },                  \
    { "track_clicks", API_FIELD_BOOL, false, 0, 0, 0 },                 \
    { "ab", API_FIELD_OBJECT, false, 0, 0, 0 }

static const struct api_field campaign_fields[] = {
    CAMPAIGN_FIELDS(true),
    { NULL, 0, false, 0, 0, 0 },
};

static const struct api_field patch_fields[] = {
    CAMPAIGN_FIELDS(false),
    { NULL, 0, false, 0, 0, 0 },
};

static const struct api_field render_fields[] = {
    CAMPAIGN_FIELDS(false),
    { "subscriber", API_FIELD_STRING, false, 320, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

/* IN's campaign fields as campaign_input; the lists in *LISTS (api_json_refs_free) */
static struct campaign_input campaign_in(json_t *in, char ***lists, size_t *nlists)
{
    api_json_refs(in, "lists", lists, nlists);
    return (struct campaign_input){
        .name = api_json_str(in, "name", NULL),
        .subject = api_json_str(in, "subject", NULL),
        .from = api_json_str(in, "from", NULL),
        .reply_to = api_json_str(in, "reply_to", NULL),
        .template_ref = api_json_str(in, "template", NULL),
        .html = api_json_str(in, "html", NULL),
        .markdown = api_json_str(in, "markdown", NULL),
        .text = api_json_str(in, "text", NULL),
        .lists = (const char *const *)*lists,
        .nlists = *nlists,
        .segment = api_json_str(in, "segment", NULL),
        .filter = api_json_str(in, "filter", NULL),
        .track_opens = api_json_bool(in, "track_opens", false),
        .track_clicks = api_json_bool(in, "track_clicks", false),
        .ab = json_object_get(in, "ab"),
    };
}

/* a campaign from the body of R: ID NULL creates a draft (201), else replaces campaign ID (200) */
static void campaign_save(struct api_req *r, const char *id)
{
    static const char *const refs[] = { "template", NULL };
    struct campaign_checked cc;
    struct campaign_refusal why;
    json_t *in, *j = NULL, *warnings = NULL;
    char **lists = NULL;
    size_t nlists = 0;
    if (api_body_refs(r, campaign_fields, refs, &in) < 0)
        return;
    struct campaign_input ci = campaign_in(in, &lists, &nlists);
    int rc = campaign_check(&ci, &cc, &why);
    if (rc == 0 && !api_db(r))
        goto out;
    if (rc == 0)
        rc = id ? campaign_update(r->conn, id, &cc, &j, &warnings, &why)
                : campaign_create(r->conn, &cc, &j, &warnings, &why);
    if (rc < 0) {
        reply_refusal(r, &why);
    } else {
        json_object_set_new(j, "warnings", warnings);
        api_reply_json(r, id ? 200 : 201, j);
    }
out:
    api_json_refs_free(lists, nlists);
    json_decref(in);
}

/* api_campaigns_create - POST /api/v1/campaigns: campaign_create's answer, with its "warnings" */
void api_campaigns_create(struct api_req *r)
{
    campaign_save(r, NULL);
}

/* api_campaigns_put - PUT /api/v1/campaigns/{campaign}: campaign_update's answer, with its "warnings" */
void api_campaigns_put(struct api_req *r)
{
    campaign_save(r, api_param(r, 0));
}

/* api_campaigns_patch - PATCH /api/v1/campaigns/{campaign}: campaign_patch's answer, with its "warnings" */
void api_campaigns_patch(struct api_req *r)
{
    static const char *const refs[] = { "template", NULL };
    struct campaign_refusal why;
    json_t *in, *j = NULL, *warnings = NULL, *v;
    const char *key;
    char **lists = NULL;
    size_t nlists = 0;
    unsigned given = 0;
    if (api_body_refs(r, patch_fields, refs, &in) < 0)
        return;
    json_object_foreach(in, key, v)
        given |= campaign_field_bit(key);
    struct campaign_input ci = campaign_in(in, &lists, &nlists);
    if (api_db(r)) {
        if (campaign_patch(r->conn, api_param(r, 0), &ci, given, &j, &warnings, &why) < 0) {
            reply_refusal(r, &why);
        } else {
            json_object_set_new(j, "warnings", warnings);
            api_reply_json(r, 200, j);
        }
    }
    api_json_refs_free(lists, nlists);
    json_decref(in);
}

/* api_campaigns_ab - GET /api/v1/campaigns/{campaign}/ab: the A/B test and each variant's results */
void api_campaigns_ab(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        api_reply_stored(r, store_ab_show(r->conn, api_param(r, 0), &j, &e), &j, &e, 200);
}

/*
 * api_campaigns_ab_pick - POST /api/v1/campaigns/{campaign}/ab/pick {"variant": N}: variant N
 * (without it: the best so far by the test's metric) wins now and goes to the rest (store_ab_pick)
 */
void api_campaigns_ab_pick(struct api_req *r)
{
    static const struct api_field fields[] = {
        { "variant", API_FIELD_INT, false, 0, 1, ABTEST_VARIANTS_MAX },
        { NULL, 0, false, 0, 0, 0 },
    };
    struct store_err e;
    json_t *in, *j = NULL;
    if (api_body(r, fields, &in) < 0)
        return;
    int v = (int)json_integer_value(json_object_get(in, "variant"));
    if (api_db(r))
        api_reply_stored(r, store_ab_pick(r->conn, api_param(r, 0), v, "manual", &j, &e), &j, &e, 200);
    json_decref(in);
}

/* api_campaigns_rm - DELETE /api/v1/campaigns/{campaign}: 204, or 409 once it has started */
void api_campaigns_rm(struct api_req *r)
{
    struct store_err e;
    if (api_db(r))
        api_reply_stored(r, store_campaign_rm(r->conn, api_param(r, 0), &e), NULL, &e, 204);
}

/* api_campaigns_clone - POST /api/v1/campaigns/{campaign}/clone: 201 with the new draft */
void api_campaigns_clone(struct api_req *r)
{
    struct store_err e;
    json_t *in, *j = NULL;
    if (api_body(r, api_no_fields, &in) < 0)
        return;
    if (api_db(r))
        api_reply_stored(r, store_campaign_clone(r->conn, api_param(r, 0), &j, &e), &j, &e, 201);
    json_decref(in);
}

/*
 * J (campaign_preview's {subject, html, text}) with its "url": where the web
 * admin's frame reads the HTML, kept a few minutes for this user alone
 * (api_admin_preview); null when the HTML is too large to keep.
 */
static json_t *preview_keep(struct api_req *r, json_t *j)
{
    char id[PREVIEW_ID_LEN + 1], url[64];
    json_t *html = json_object_get(j, "html");
    if (!json_is_string(html) || preview_cache_put(api_previews(r), api_now_ms(), r->user.id, json_string_value(html),
                                                   json_string_length(html), id) < 0) {
        json_object_set_new(j, "url", json_null());
        return j;
    }
    snprintf(url, sizeof(url), "/admin/preview/%s", id);
    json_object_set_new(j, "url", json_string(url));
    return j;
}

/* api__render - answer campaign_preview of the campaign fields of IN inside LAYOUT (NULL: IN's template) */
void api__render(struct api_req *r, json_t *in, json_t *layout)
{
    char **lists = NULL, email[ADDRESS_MAX + 1];
    size_t nlists = 0;
    struct campaign_refusal why;
    const char *who = api_json_str(in, "subscriber", NULL), *bad;
    json_t *j = NULL;
    struct campaign_input ci = campaign_in(in, &lists, &nlists);
    if (who && address_normalize(who, email, sizeof(email), &bad) < 0)
        api_reply_error(r, 400, "invalid_field", "subscriber", "field \"subscriber\" is not a valid address: %s", bad);
    else if (!api_db(r))
        ;
    else if (campaign_preview(r->conn, &ci, layout, who ? email : NULL, &j, &why) < 0)
        reply_refusal(r, &why);
    else
        api_reply_json(r, 200, preview_keep(r, j));
    api_json_refs_free(lists, nlists);
}

/* api_campaigns_render - POST /api/v1/campaigns/preview */
void api_campaigns_render(struct api_req *r)
{
    static const char *const refs[] = { "template", NULL };
    json_t *in;
    if (api_body_refs(r, render_fields, refs, &in) < 0)
        return;
    api__render(r, in, NULL);
    json_decref(in);
}

static const struct api_field test_fields[] = {
    { "to", API_FIELD_STRING, true, 320, 0, 0 },
    { "relay", API_FIELD_STRING, false, 100, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

/* api_campaigns_test - POST /api/v1/campaigns/{campaign}/test: campaign_test_send's answer; 502 when refused */
void api_campaigns_test(struct api_req *r)
{
    char to[ADDRESS_MAX + 1];
    const char *why;
    struct store_err e;
    struct campaign_test t;
    json_t *in;
    if (api_body(r, test_fields, &in) < 0)
        return;
    if (address_normalize(api_json_str(in, "to", ""), to, sizeof(to), &why) < 0) {
        api_reply_error(r, 400, "invalid_field", "to", "field \"to\" is not a valid address: %s", why);
    } else if (!api_db(r)) {
        ;
    } else if (campaign_test_send(r->conn, api_param(r, 0), to, api_json_str(in, "relay", NULL), &t, &e) < 0) {
        api_reply_store(r, &e);
    } else if (t.ans.ok) {
        api_reply_json(r, 200,
                       json_pack("{s:b,s:s,s:s,s:b,s:i,s:s,s:s,s:s}", "accepted", t.ans.ok, "to", to, "relay", t.relay,
                                 "signed", t.signed_dkim, "code", t.ans.code, "enhanced", t.ans.enhanced, "text",
                                 t.ans.text, "queue_id", t.ans.queue_id));
    } else {
        char line[600];
        smtp_reply_line(t.ans.code, t.ans.enhanced, t.ans.text, line, sizeof(line));
        log_warn("api: test message of campaign %s through %s: %s %s", api_param(r, 0), t.relay,
                 t.ans.stage[0] ? t.ans.stage : "connect", line);
        api_reply_error(r, 502, "relay_failed", NULL, "relay \"%s\" did not take the message at %s: %s", t.relay,
                        t.ans.stage[0] ? t.ans.stage : "connect", line);
    }
    json_decref(in);
}

/* api_campaigns_preview - GET /api/v1/campaigns/{campaign}/preview?email=ADDR[&variant=N]: the signed message */
void api_campaigns_preview(struct api_req *r)
{
    static const char *const allowed[] = { "email", "variant", NULL };
    const char *who = api_query(r, "email"), *why, *variant_s = api_query(r, "variant");
    char email[ADDRESS_MAX + 1];
    long variant = 0;
    if (api_query_only(r, allowed) < 0)
        return;
    if (variant_s && str_parse_long(variant_s, 1, ABTEST_VARIANTS_MAX, &variant) < 0)
        return api_reply_error(r, 400, "invalid_field", "variant", "\"variant\" must be a number from 1 to %d",
                               ABTEST_VARIANTS_MAX);
    if (!who)
        return api_reply_error(r, 400, "missing_field", "email", "query argument \"email\" is required");
    if (address_normalize(who, email, sizeof(email), &why) < 0)
        return api_reply_error(r, 400, "invalid_field", "email", "\"email\" is not a valid address: %s", why);
    if (!api_db(r))
        return;
    struct buf msg = BUF_INIT;
    struct compose_for_info info;
    struct store_err ce;
    int rc = compose_for(r->conn, api_param(r, 0), email, false, "preview", (int)variant, &msg, &info, ce.msg, sizeof(ce.msg));
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
                                          "held", NULL };
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
