/*
 * h_dns - the live DNS check (postino dns check).
 *
 * api_dns_check  GET /api/v1/dns/check?domain=D[&ip=A][&selector=S]: the report of
 *                engine/send/dns_report.h, findings ok / warning / error with their fixes
 *
 * The check asks the DNS on a loop of its own in the request's thread, within
 * [dns] timeout_ms.
 */
#include "api/handlers.h"
#include "engine/send/dns_report.h"

/* api_dns_check - GET /api/v1/dns/check */
void api_dns_check(struct api_req *r)
{
    static const char *const allowed[] = { "domain", "ip", "selector", NULL };
    struct store_err e;
    json_t *rep = NULL;
    if (api_query_only(r, allowed) < 0 || !api_db(r))
        return;
    int rc = dns_report_run(r->conn, api_query(r, "domain"), api_query(r, "ip"), api_query(r, "selector"), &rep, &e);
    if (rc < 0)
        return api_reply_store(r, &e);
    api_reply_json(r, 200, rep);
}
