/*
 * h_pacing - providers' pace, rate texts, warm-ups (engine/store/pacing.h,
 * as postino provider pace, provider rate-text and warmup).
 *
 * api_providers_pace      PATCH /api/v1/providers/{provider}/pace {per_minute?, per_hour? (null: no limit),
 *                         aimd_threshold?, aimd_window_s?, reset?}
 * api_rate_texts_ls       GET /api/v1/rate-texts
 * api_rate_texts_create   POST /api/v1/rate-texts {pattern, provider? (none: every provider)}
 * api_rate_texts_rm       DELETE /api/v1/rate-texts?pattern=&provider=
 * api_warmups_ls          GET /api/v1/warmups
 * api_warmups_curves      GET /api/v1/warmup-curves
 * api_warmups_get         GET /api/v1/warmups/{target}
 * api_warmups_put         PUT /api/v1/warmups/{target} {days ("50,100,500") | curve, start?}
 * api_warmups_rm          DELETE /api/v1/warmups/{target}
 * api_campaigns_pacing    GET /api/v1/campaigns/{campaign}/pacing
 *
 * Writes are for admins (api/routes.c); bad input is 400 invalid_field with
 * the CLI's words.
 */
#include "api/handlers.h"
#include "engine/store/pacing.h"

static const struct api_field pace_fields[] = {
    { "per_minute", API_FIELD_INT, false, 0, 1, PACE_RATE_MAX },
    { "per_hour", API_FIELD_INT, false, 0, 1, PACE_RATE_MAX },
    { "aimd_threshold", API_FIELD_INT, false, 0, 1, 100000 },
    { "aimd_window_s", API_FIELD_INT, false, 0, 10, 86400 },
    { "reset", API_FIELD_BOOL, false, 0, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

/* a limit of IN: PACE_KEEP when absent, PACE_CLEAR when null */
static long limit_of(json_t *in, const char *name)
{
    json_t *v = json_object_get(in, name);
    if (!v)
        return PACE_KEEP;
    return json_is_null(v) ? PACE_CLEAR : (long)json_integer_value(v);
}

/* api_providers_pace - PATCH /api/v1/providers/{provider}/pace */
void api_providers_pace(struct api_req *r)
{
    json_t *in, *j = NULL;
    struct store_err e;
    if (api_body(r, pace_fields, &in) < 0)
        return;
    struct pace_edit ed = { limit_of(in, "per_minute"), limit_of(in, "per_hour"),
                            api_json_int(in, "aimd_threshold", PACE_KEEP), api_json_int(in, "aimd_window_s", PACE_KEEP),
                            api_json_bool(in, "reset", false) };
    if (api_db(r))
        api_reply_stored(r, store_provider_pace(r->conn, api_param(r, 0), &ed, &j, &e), &j, &e, 200);
    json_decref(in);
}

/* api_rate_texts_ls - GET /api/v1/rate-texts */
void api_rate_texts_ls(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        api_reply_stored(r, store_rate_text_ls(r->conn, &j, &e), &j, &e, API_ITEMS);
}

static const struct api_field rate_text_fields[] = {
    { "pattern", API_FIELD_STRING, true, 200, 0, 0 },
    { "provider", API_FIELD_STRING, false, 32, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

/* api_rate_texts_create - POST /api/v1/rate-texts */
void api_rate_texts_create(struct api_req *r)
{
    json_t *in, *j = NULL;
    struct store_err e;
    if (api_body(r, rate_text_fields, &in) < 0)
        return;
    if (api_db(r))
        api_reply_stored(r,
                         store_rate_text_add(r->conn, api_json_str(in, "provider", NULL), api_json_str(in, "pattern", ""),
                                             &j, &e),
                         &j, &e, 201);
    json_decref(in);
}

/* api_rate_texts_rm - DELETE /api/v1/rate-texts?pattern=&provider= */
void api_rate_texts_rm(struct api_req *r)
{
    static const char *const allowed[] = { "pattern", "provider", NULL };
    struct store_err e;
    if (api_query_only(r, allowed) < 0)
        return;
    const char *pattern = api_query(r, "pattern");
    if (!pattern)
        return api_reply_error(r, 400, "invalid", "pattern", "pattern names the rate text to remove");
    if (api_db(r))
        api_reply_stored(r, store_rate_text_rm(r->conn, api_query(r, "provider"), pattern, &e), NULL, &e, 204);
}

/* api_warmups_ls - GET /api/v1/warmups */
void api_warmups_ls(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        api_reply_stored(r, store_warmup_ls(r->conn, &j, &e), &j, &e, API_ITEMS);
}

/* api_warmups_curves - GET /api/v1/warmup-curves */
void api_warmups_curves(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        api_reply_stored(r, store_warmup_curves(r->conn, &j, &e), &j, &e, API_ITEMS);
}

/* api_warmups_get - GET /api/v1/warmups/{target} */
void api_warmups_get(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        api_reply_stored(r, store_warmup_get(r->conn, api_param(r, 0), &j, &e), &j, &e, 200);
}

static const struct api_field warmup_fields[] = {
    { "days", API_FIELD_STRING, false, 4000, 0, 0 },
    { "curve", API_FIELD_STRING, false, 32, 0, 0 },
    { "start", API_FIELD_STRING, false, 10, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

/* api_warmups_put - PUT /api/v1/warmups/{target}: 201 when made, 200 when changed */
void api_warmups_put(struct api_req *r)
{
    json_t *in, *j = NULL;
    struct store_err e;
    bool created = false;
    if (api_body(r, warmup_fields, &in) < 0)
        return;
    if (api_db(r)) {
        int rc = store_warmup_set(r->conn, api_param(r, 0), api_json_str(in, "days", NULL),
                                  api_json_str(in, "curve", NULL), api_json_str(in, "start", NULL), &j, &created, &e);
        api_reply_stored(r, rc, &j, &e, created ? 201 : 200);
    }
    json_decref(in);
}

/* api_warmups_rm - DELETE /api/v1/warmups/{target} */
void api_warmups_rm(struct api_req *r)
{
    struct store_err e;
    if (api_db(r))
        api_reply_stored(r, store_warmup_rm(r->conn, api_param(r, 0), &e), NULL, &e, 204);
}

/* api_campaigns_pacing - GET /api/v1/campaigns/{campaign}/pacing */
void api_campaigns_pacing(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        api_reply_stored(r, store_pace_campaign(r->conn, api_param(r, 0), &j, &e), &j, &e, 200);
}
