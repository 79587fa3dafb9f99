/*
 * h_bounces - the bounce routes: intake for providers' webhooks and raw
 * reports, and what came back.
 *
 * api_bounces_post  POST /api/v1/bounces: message/rfc822 (a DSN, an ARF report,
 *                   any returned mail) or JSON {email, type, status, reason, campaign};
 *                   an API key vouches for the report (a trusted path)
 * api_bounces_ls    GET /api/v1/bounces?campaign=&class=&before=&limit=&unmatched=
 * api_bounces_get   GET /api/v1/bounces/{bounce}
 * api_bounce_rules_ls   GET /api/v1/bounce-rules: the ordered rules (postino bounce rules)
 * api_bounce_policy_ls  GET /api/v1/bounce-policy: each class's threshold and action
 *                       (postino bounce policy)
 *
 * The work is engine/store/bounces.c's, the same as `postino bounce`.
 */
#include <string.h>
#include <strings.h>

#include "api/handlers.h"
#include "api/request.h"
#include "engine/send/settings_send.h"
#include "engine/store/bounces.h"
#include "engine/util/str.h"

static bool type_is(const char *ct, const char *want)
{
    size_t n = strlen(want);
    return ct && strncasecmp(ct, want, n) == 0 && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

/* api_bounces_post - POST /api/v1/bounces */
void api_bounces_post(struct api_req *r)
{
    static const struct api_field fields[] = {
        { "email", API_FIELD_STRING, true, 254, 0, 0 },
        { "type", API_FIELD_STRING, false, 32, 0, 0 },
        { "status", API_FIELD_STRING, false, 16, 0, 0 },
        { "reason", API_FIELD_STRING, false, 2000, 0, 0 },
        { "campaign", API_FIELD_INT, false, 0, 1, 1000000000000000000LL },
        { NULL, 0, false, 0, 0, 0 },
    };
    struct store_err e;
    json_t *in = NULL, *out = NULL;
    int rc;
    if (type_is(r->content_type, "application/json")) {
        if (api_body(r, fields, &in) < 0 || !api_db(r))
            goto done;
        rc = store_bounce_ingest_json(r->conn, in, &out, &e);
    } else if (type_is(r->content_type, "message/rfc822") || type_is(r->content_type, "text/plain")) {
        if (r->body_len == 0) {
            api_reply_error(r, 400, "empty_body", NULL, "the message is empty");
            goto done;
        }
        if (!api_db(r))
            goto done;
        rc = store_bounce_ingest_raw(r->conn, r->body, r->body_len, &(struct bounce_intake){ .local_part = mail_settings.bounce_local_part, .trusted = true }, &out, &e);
    } else {
        api_reply_error(r, 415, "unsupported_media_type", NULL,
                        "a bounce is message/rfc822 (the report as received) or application/json");
        goto done;
    }
    api_reply_stored(r, rc, &out, &e, 201);
done:
    json_decref(in);
}

/* api_bounces_ls - GET /api/v1/bounces */
void api_bounces_ls(struct api_req *r)
{
    static const char *const allowed[] = { "campaign", "class", "before", "limit", "unmatched", NULL };
    struct bounce_filter f = { 0 };
    struct store_err e;
    json_t *out = NULL;
    long v;
    if (api_query_only(r, allowed) < 0)
        return;
    const char *campaign = api_query(r, "campaign"), *before = api_query(r, "before"), *limit = api_query(r, "limit");
    if (campaign) {
        if (str_parse_long(campaign, 1, 999999999999999999L, &v) < 0)
            return api_reply_error(r, 400, "invalid", "campaign", "campaign must be a campaign id");
        f.campaign = v;
    }
    if (before) {
        if (str_parse_long(before, 1, 999999999999999999L, &v) < 0)
            return api_reply_error(r, 400, "invalid", "before", "before must be a bounce id");
        f.before = v;
    }
    if (limit) {
        if (str_parse_long(limit, 1, 1000, &v) < 0)
            return api_reply_error(r, 400, "invalid", "limit", "limit must be from 1 to 1000");
        f.limit = v;
    }
    const char *unmatched = api_query(r, "unmatched");
    if (unmatched && strcmp(unmatched, "true") && strcmp(unmatched, "false"))
        return api_reply_error(r, 400, "invalid", "unmatched", "unmatched must be true or false");
    f.unmatched = unmatched && strcmp(unmatched, "true") == 0;
    if (f.unmatched && campaign)
        return api_reply_error(r, 400, "invalid", "campaign", "an unmatched report names no campaign");
    f.cls = api_query(r, "class");
    if (f.cls && strcmp(f.cls, "hard") && strcmp(f.cls, "soft") && strcmp(f.cls, "complaint") &&
        strcmp(f.cls, "policy") && strcmp(f.cls, "unknown") &&
        (!f.unmatched || (strcmp(f.cls, "autoreply") && strcmp(f.cls, "delay"))))
        return api_reply_error(r, 400, "invalid", "class",
                               f.unmatched ? "class must be hard, soft, complaint, policy, unknown, autoreply or delay"
                                           : "class must be hard, soft, complaint, policy or unknown");
    if (!api_db(r))
        return;
    api_reply_stored(r, store_bounce_ls(r->conn, &f, &out, &e), &out, &e, API_ITEMS);
}

/* api_bounces_get - GET /api/v1/bounces/{bounce} */
void api_bounces_get(struct api_req *r)
{
    struct store_err e;
    json_t *out = NULL;
    long id;
    if (str_parse_long(api_param(r, 0), 1, 999999999999999999L, &id) < 0)
        return api_reply_error(r, 404, "not_found", NULL, "no bounce %s", api_param(r, 0));
    if (!api_db(r))
        return;
    api_reply_stored(r, store_bounce_get(r->conn, id, &out, &e), &out, &e, 200);
}

/* api_bounce_rules_ls - GET /api/v1/bounce-rules */
void api_bounce_rules_ls(struct api_req *r)
{
    struct store_err e;
    json_t *out = NULL;
    if (api_db(r))
        api_reply_stored(r, store_bounce_rules_ls(r->conn, &out, &e), &out, &e, API_ITEMS);
}

/* api_bounce_policy_ls - GET /api/v1/bounce-policy */
void api_bounce_policy_ls(struct api_req *r)
{
    struct store_err e;
    json_t *out = NULL;
    if (api_db(r))
        api_reply_stored(r, store_bounce_policy_ls(r->conn, &out, &e), &out, &e, API_ITEMS);
}
