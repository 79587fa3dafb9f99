/*
 * h_report - what the web admin's dashboard and campaign report read, and the
 * retry of a campaign's failed deliveries.
 *
 * api_dashboard          GET /api/v1/dashboard (store_dashboard)
 * api_campaigns_report   GET /api/v1/campaigns/{campaign}/report (store_campaign_report)
 * api_campaigns_domains  GET /api/v1/campaigns/{campaign}/domains (store_campaign_domains)
 * api_campaigns_retry    POST /api/v1/campaigns/{campaign}/retry (store_campaign_retry,
 *                        as postino campaign retry); the sender of this process
 *                        claims at once
 */
#include "api/handlers.h"
#include "engine/send/sender.h"
#include "engine/store/report.h"
#include "engine/store/retry.h"

/* api_dashboard - GET /api/v1/dashboard */
void api_dashboard(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        api_reply_stored(r, store_dashboard(r->conn, &j, &e), &j, &e, 200);
}

/* api_campaigns_report - GET /api/v1/campaigns/{campaign}/report */
void api_campaigns_report(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        api_reply_stored(r, store_campaign_report(r->conn, api_param(r, 0), &j, &e), &j, &e, 200);
}

/* api_campaigns_domains - GET /api/v1/campaigns/{campaign}/domains */
void api_campaigns_domains(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        api_reply_stored(r, store_campaign_domains(r->conn, api_param(r, 0), &j, &e), &j, &e, 200);
}

/* api_campaigns_retry - POST /api/v1/campaigns/{campaign}/retry {classes?, dry_run?} */
void api_campaigns_retry(struct api_req *r)
{
    static const struct api_field fields[] = {
        { "classes", API_FIELD_REFS, false, RETRY_CLASSES_MAX, 0, 0 },
        { "dry_run", API_FIELD_BOOL, false, 0, 0, 0 },
        { NULL, 0, false, 0, 0, 0 },
    };
    struct store_err e;
    json_t *in, *j = NULL;
    char **classes = NULL;
    size_t n = 0;
    if (api_body(r, fields, &in) < 0)
        return;
    api_json_refs(in, "classes", &classes, &n);
    bool dry = api_json_bool(in, "dry_run", false);
    if (api_db(r)) {
        int rc = store_campaign_retry(r->conn, api_param(r, 0), (const char *const *)classes, n, dry, &j, &e);
        if (rc == 0 && json_integer_value(json_object_get(j, "requeued")) > 0)
            sender_wake();
        api_reply_stored(r, rc, &j, &e, 200);
    }
    api_json_refs_free(classes, n);
    json_decref(in);
}
