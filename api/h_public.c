/*
 * h_public - /healthz and the unsubscribe page /u/TOKEN, which answer
 * without a login, and /metrics (a token, or none on [http] metrics_listen).
 *
 * GET /u/TOKEN only shows a page (mail scanners follow links); POST
 * unsubscribes from the campaign's lists at once, which is what RFC 8058
 * one-click sends, and answers 200 however often it is repeated. A token
 * that is malformed, tampered with, of another kind, or naming a subscriber
 * or campaign that is gone is 404, with the same page-less answer.
 */
#include <stdio.h>
#include <string.h>

#include "api/handlers.h"
#include "engine/mail/template.h"
#include "engine/send/sender.h"
#include "engine/store/db.h"
#include "engine/store/subscribers.h"
#include "engine/util/alloc.h"
#include "engine/util/embedded.h"
#include "engine/util/log.h"

/* the sender running in this process, if any: {"state", "detail", "relays"}; null with --no-send */
static json_t *healthz_sender(void)
{
    char status[256];
    size_t nrelays;
    if (!sender_status(status, sizeof(status), &nrelays))
        return json_null();
    char *colon = strstr(status, ": ");
    if (colon)
        *colon = 0;
    return json_pack("{s:s, s:s, s:I}", "state", status, "detail", colon ? colon + 2 : "", "relays",
                     (json_int_t)nrelays);
}

/* api_healthz - GET /healthz: the database, and what the sender in this process does */
void api_healthz(struct api_req *r)
{
    struct store_err e;
    json_t *o = json_object();
    json_object_set_new(o, "sender", healthz_sender());
    int rc = api_db(r) ? db_ping(r->conn, &e) : -1;
    /* a pooled connection the server dropped says nothing of the server now */
    if (rc < 0 && api_db_renew(r))
        rc = db_ping(r->conn, &e);
    if (rc == 0) {
        json_object_set_new(o, "status", json_string("ok"));
        json_object_set_new(o, "database", json_string("ok"));
        api_reply_json(r, 200, o);
    } else {
        json_object_set_new(o, "status", json_string("unavailable"));
        json_object_set_new(o, "database", json_string("unreachable"));
        api_reply_json(r, 503, o);
    }
}

static void gauge(struct buf *out, const char *name, const char *help, const char *label, json_t *counts,
                  const char *const *known)
{
    const char *key;
    json_t *v;
    buf_appendf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
    /* the known values always, so a series does not vanish at zero */
    for (size_t i = 0; known[i]; i++)
        buf_appendf(out, "%s{%s=\"%s\"} %lld\n", name, label, known[i],
                    (long long)json_integer_value(json_object_get(counts, known[i])));
    json_object_foreach(counts, key, v) {
        size_t i;
        for (i = 0; known[i] && strcmp(known[i], key) != 0; i++)
            ;
        if (!known[i])
            buf_appendf(out, "%s{%s=\"%s\"} %lld\n", name, label, key, (long long)json_integer_value(v));
    }
}

/* the label value V with \\, " and newlines escaped, as the text format wants */
static void label_value(struct buf *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            buf_appendc(out, '\\');
        if (*v == '\n')
            buf_appends(out, "\\n");
        else
            buf_appendc(out, *v);
    }
}

/* postino_messages{relay, state} from [[relay, state, n]] */
static void messages_by_relay(struct buf *out, json_t *rows)
{
    size_t i;
    json_t *row;
    buf_appends(out, "# HELP postino_messages Deliveries that went to a relay, by relay and state.\n"
                     "# TYPE postino_messages gauge\n");
    json_array_foreach(rows, i, row) {
        buf_appends(out, "postino_messages{relay=\"");
        label_value(out, json_string_value(json_array_get(row, 0)));
        buf_appendf(out, "\",state=\"%s\"} %lld\n", json_string_value(json_array_get(row, 1)),
                    (long long)json_integer_value(json_array_get(row, 2)));
    }
}

/* postino_provider_events_total by provider (named ones and "other") and event */
static void provider_events(struct buf *out, json_t *rows)
{
    static const char *const events[] = { "delivered", "bounced", "expired", "deferral", "complaint" };
    size_t i;
    json_t *row;
    buf_appends(out, "# HELP postino_provider_events_total What mailbox providers did, from Postfix's log and"
                     " complaints, by provider.\n# TYPE postino_provider_events_total counter\n");
    json_array_foreach(rows, i, row) {
        for (size_t k = 0; k < 5; k++) {
            buf_appends(out, "postino_provider_events_total{provider=\"");
            label_value(out, json_string_value(json_array_get(row, 0)));
            buf_appendf(out, "\",event=\"%s\"} %lld\n", events[k],
                        (long long)json_integer_value(json_array_get(row, k + 1)));
        }
    }
}

/* a sample NAME{LABEL="V"} X, X a JSON number (or null: none written) */
static void sample(struct buf *out, const char *name, const char *label, const char *v, json_t *x)
{
    if (!json_is_number(x) && !json_is_boolean(x))
        return;
    buf_appendf(out, "%s{%s=\"", name, label);
    label_value(out, v);
    if (json_is_boolean(x))
        buf_appendf(out, "\"} %d\n", json_is_true(x));
    else
        buf_appendf(out, "\"} %.6g\n", json_number_value(x));
}

/* the providers' pace (from [[name, rate, slowed, halvings, handed, held]]) and the warm-ups ([[target, cap, sent, waiting]]) */
static void pacing(struct buf *out, json_t *pace, json_t *warmups)
{
    static const struct {
        const char *name, *type, *help;
    } pm[] = {
        { "postino_provider_pace_per_minute", "gauge", "The pace in force for a provider, messages per minute." },
        { "postino_provider_slowed", "gauge", "Whether a provider's pace is halved now (rate or reputation deferrals)." },
        { "postino_provider_halvings_total", "counter", "Times a provider's pace was halved." },
        { "postino_provider_paced_total", "counter", "Deliveries the pace let go." },
        { "postino_provider_held_total", "counter", "Deliveries the pace held back (once per claim)." },
    }, wm[] = {
        { "postino_warmup_cap", "gauge", "Today's cap of a warm-up (none past its last day)." },
        { "postino_warmup_sent", "gauge", "Deliveries counted against a warm-up today." },
        { "postino_warmup_waiting", "gauge", "Deliveries waiting for a warm-up's next day." },
    };
    size_t i;
    json_t *row;
    for (size_t k = 0; k < sizeof(pm) / sizeof(pm[0]); k++) {
        buf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n", pm[k].name, pm[k].help, pm[k].name, pm[k].type);
        json_array_foreach(pace, i, row)
            sample(out, pm[k].name, "provider", json_string_value(json_array_get(row, 0)), json_array_get(row, k + 1));
    }
    for (size_t k = 0; k < sizeof(wm) / sizeof(wm[0]); k++) {
        buf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n", wm[k].name, wm[k].help, wm[k].name, wm[k].type);
        json_array_foreach(warmups, i, row)
            sample(out, wm[k].name, "target", json_string_value(json_array_get(row, 0)), json_array_get(row, k + 1));
    }
}

/*
 * api_metrics - GET /metrics: the database's totals (kept [http]
 * metrics_cache seconds: api_counts), then this server's own counters.
 */
void api_metrics(struct api_req *r)
{
    static const char *const states[] = { "queued", "sent", "deferred", "failed", "skipped", "cancelled", NULL };
    static const char *const statuses[] = { "draft", "scheduled", "running", "paused", "finished", "cancelled", NULL };
    static const char *const import_states[] = { "queued", "running", "done", "failed", NULL };
    static const char *const bounce_classes[] = { "hard", "soft", "complaint", "policy", "unknown", NULL };
    struct buf out = BUF_INIT;
    double age = 0;
    json_t *counts = api_counts(r, &age);
    buf_appendf(&out, "# HELP postino_up Whether the database answered.\n# TYPE postino_up gauge\npostino_up %d\n",
                counts != NULL);
    buf_appendf(&out, "# HELP postino_metrics_cache_age_seconds How old the totals read from the database are.\n"
                      "# TYPE postino_metrics_cache_age_seconds gauge\npostino_metrics_cache_age_seconds %.3f\n",
                age);
    if (counts) {
        gauge(&out, "postino_deliveries", "Deliveries by state.", "state", json_object_get(counts, "deliveries"),
              states);
        messages_by_relay(&out, json_object_get(counts, "messages"));
        buf_appendf(&out, "# HELP postino_queue_depth Deliveries queued or deferred and due now.\n"
                          "# TYPE postino_queue_depth gauge\npostino_queue_depth %lld\n",
                    (long long)json_integer_value(json_object_get(counts, "due")));
        buf_appendf(&out, "# HELP postino_send_rate Messages sent per second over the last minute.\n"
                          "# TYPE postino_send_rate gauge\npostino_send_rate %.3f\n",
                    (double)json_integer_value(json_object_get(counts, "sent_last_minute")) / 60.0);
        gauge(&out, "postino_campaigns", "Campaigns by status.", "status", json_object_get(counts, "campaigns"),
              statuses);
        gauge(&out, "postino_imports", "Imports over the API by state.", "state", json_object_get(counts, "imports"),
              import_states);
        gauge(&out, "postino_bounces", "Bounces and complaints recorded, by class.", "class",
              json_object_get(counts, "bounces"), bounce_classes);
        provider_events(&out, json_object_get(counts, "providers"));
        pacing(&out, json_object_get(counts, "pace"), json_object_get(counts, "warmups"));
    }
    json_decref(counts);
    api_track_metrics(&out);
    api_forms_metrics(&out);
    api_http_metrics(r->srv, &out);
    api_reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", &out);
}

static void unsub_page(struct api_req *r, json_t *info, bool done)
{
    const struct embedded_file *f = embedded_find("templates/unsubscribe.html");
    char err[TMPL_ERR_MAX];
    struct tmpl *t = f ? tmpl_compile((const char *)f->data, f->len, err, sizeof(err)) : NULL;
    if (!t)
        log_panic("templates/unsubscribe.html: %s", f ? err : "not embedded");
    struct buf names = BUF_INIT, url = BUF_INIT, html = BUF_INIT;
    size_t i;
    json_t *l, *attribs = json_object();
    json_array_foreach(json_object_get(info, "lists"), i, l) {
        buf_appends(&names, i ? ", " : "");
        buf_appends(&names, json_string_value(l));
    }
    buf_appendf(&url, "/u/%s", api_param(r, 0));
    if (done)
        json_object_set_new(attribs, "done", json_string("yes"));
    struct tmpl_values v = {
        .list_name = buf_cstr(&names),
        .unsubscribe_url = buf_cstr(&url),
        .attribs = attribs,
    };
    tmpl_render(t, &v, TMPL_HTML, &html);
    api_reply_page(r, 200, &html);
    tmpl_free(t);
    json_decref(attribs);
    buf_free(&names);
    buf_free(&url);
}

/* api_unsub_page - GET /u/{token} */
void api_unsub_page(struct api_req *r)
{
    uint64_t sub, camp;
    struct store_err e;
    json_t *info = NULL;
    if (api_link_token(r, &sub, &camp) < 0 || !api_db(r))
        return;
    if (store_subscription_unsub_info(r->conn, sub, camp, &info, &e) < 0) {
        if (e.code == STORE_ERR_NOTFOUND)
            api_reply_error(r, 404, "not_found", NULL, "this link is not valid");
        else
            api_reply_store(r, &e);
        return;
    }
    unsub_page(r, info, !json_is_true(json_object_get(info, "subscribed")));
    json_decref(info);
}

/* api_unsub_post - POST /u/{token} */
void api_unsub_post(struct api_req *r)
{
    uint64_t sub, camp;
    struct store_err e;
    json_t *info = NULL;
    long changed = 0;
    if (api_link_token(r, &sub, &camp) < 0 || api_consent(r, "unsubscribe") < 0)
        return;
    int rc = store_subscription_unsub_campaign(r->conn, sub, camp, &changed, &e);
    if (rc < 0 || store_subscription_unsub_info(r->conn, sub, camp, &info, &e) < 0) {
        if (e.code == STORE_ERR_NOTFOUND)
            api_reply_error(r, 404, "not_found", NULL, "this link is not valid");
        else
            api_reply_store(r, &e);
        return;
    }
    if (changed)
        log_info("api: subscriber %llu unsubscribed from %ld list%s (campaign %llu)", (unsigned long long)sub,
                 changed, changed == 1 ? "" : "s", (unsigned long long)camp);
    unsub_page(r, info, true);
    json_decref(info);
}
