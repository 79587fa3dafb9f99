/*
 * h_track - the public links in messages other than /u and /p: double
 * opt-in confirmation /c/TOKEN, the open image /o/TOKEN.gif and tracked
 * links /l/TOKEN, and their counters for /metrics.
 *
 * GET /c/TOKEN only shows a page with a Confirm button (mail scanners and
 * link previewers follow links); its POST, sent from that page (Origin or
 * Referer of this site), confirms. An open or a click is recorded by its GET:
 * that is what the image and the link are; they change no subscription.
 *
 * Every token is HMAC-signed (engine/mail/token.h); one that is malformed,
 * tampered with or of another kind is 404. The image answers for every
 * valid token, recorded or not (the delivery may be gone, the database
 * away): a mail client never shows a broken image. A click answers 302 to
 * the URL stored for the link when the campaign was prepared, and nothing
 * else: the token names a row, never a URL, so there is no open redirect.
 * Nothing here logs a token (it is a capability).
 */
#include <stdio.h>
#include <string.h>

#include "api/handlers.h"
#include "engine/mail/template.h"
#include "engine/store/tracking.h"
#include "engine/util/alloc.h"
#include "engine/util/embedded.h"
#include "engine/util/log.h"

/* A 1x1 transparent GIF89a: 43 bytes. */
static const unsigned char open_gif[43] = {
    'G', 'I', 'F', '8', '9', 'a', 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
};

/* counted since the server started, for /metrics */
static unsigned long long n_opens, n_clicks, n_confirms;

static void count(unsigned long long *n)
{
    __atomic_add_fetch(n, 1, __ATOMIC_RELAXED);
}

/* api_track_open - GET /o/{token}.gif */
void api_track_open(struct api_req *r)
{
    uint64_t delivery, zero;
    struct store_err e;
    bool recorded = false;
    if (api_link_token(r, &delivery, &zero) < 0)
        return;
    if (api_db(r) && store_track_open(r->conn, delivery, &recorded, &e) < 0)
        log_error("api: cannot record an open of delivery %llu: %s", (unsigned long long)delivery, e.msg);
    if (recorded)
        count(&n_opens);
    struct buf gif = BUF_INIT;
    buf_append(&gif, open_gif, sizeof(open_gif));
    api_reply_text(r, 200, "image/gif", &gif);
}

/* api_track_click - GET /l/{token} */
void api_track_click(struct api_req *r)
{
    uint64_t delivery, link;
    struct store_err e;
    bool recorded = false;
    char *url = NULL;
    if (api_link_token(r, &delivery, &link) < 0 || !api_db(r))
        return;
    if (store_track_click(r->conn, delivery, link, &url, &recorded, &e) < 0) {
        if (e.code == STORE_ERR_NOTFOUND)
            api_reply_error(r, 404, "not_found", NULL, "this link is not valid");
        else
            api_reply_store(r, &e);
        return;
    }
    if (recorded)
        count(&n_clicks);
    api_reply_redirect(r, 302, url);
    xfree(url);
}

/* confirm_page - the confirmation page for INFO (store_confirm's answer, or store_confirm_info's on a GET) */
static void confirm_page(struct api_req *r, json_t *info)
{
    const struct embedded_file *f = embedded_find("templates/confirmed.html");
    char err[TMPL_ERR_MAX];
    struct tmpl *t = f ? tmpl_compile((const char *)f->data, f->len, err, sizeof(err)) : NULL;
    if (!t)
        log_panic("templates/confirmed.html: %s", f ? err : "not embedded");
    const char *status = json_string_value(json_object_get(info, "status"));
    const char *sstatus = json_string_value(json_object_get(info, "subscriber_status"));
    /* blocklisted first: such a subscriber gets no mail whatever the subscription says */
    const char *state = sstatus && strcmp(sstatus, "blocklisted") == 0 ? "blocklisted"
                        : status && strcmp(status, "unconfirmed") == 0 ? "pending"
                                                                       : status;
    json_t *attribs = json_pack("{s:s}", "state", state ? state : "");
    struct buf url = BUF_INIT, html = BUF_INIT;
    buf_appendf(&url, "/c/%s", api_param(r, 0));
    struct tmpl_values v = { .list_name = json_string_value(json_object_get(info, "list")), .attribs = attribs,
                             .confirm_url = buf_cstr(&url) };
    tmpl_render(t, &v, TMPL_HTML, &html);
    /* the button's POST carries this site as its Origin (api_same_site), never the token elsewhere */
    r->referrer_policy = "same-origin";
    api_reply_page(r, 200, &html);
    json_decref(attribs);
    buf_free(&url);
    tmpl_free(t);
}

/* confirm_answer - the page for the store call's outcome RC, or the error */
static void confirm_answer(struct api_req *r, int rc, json_t *info, const struct store_err *e)
{
    if (rc == 0)
        confirm_page(r, info);
    else if (e->code == STORE_ERR_NOTFOUND)
        api_reply_error(r, 404, "not_found", NULL, "this link is not valid");
    else
        api_reply_store(r, e);
    json_decref(info);
}

/* api_confirm_page - GET /c/{token}: what the link would confirm, and a button; nothing changes */
void api_confirm_page(struct api_req *r)
{
    uint64_t sub, list;
    struct store_err e;
    json_t *info = NULL;
    if (api_link_token(r, &sub, &list) < 0 || !api_db(r))
        return;
    int rc = store_confirm_info(r->conn, sub, list, &info, &e);
    confirm_answer(r, rc, info, &e);
}

/* api_confirm_post - POST /c/{token}: the button's form, from this site's page */
void api_confirm_post(struct api_req *r)
{
    uint64_t sub, list;
    struct store_err e;
    json_t *info = NULL;
    if (api_link_token(r, &sub, &list) < 0)
        return;
    if (!api_same_site(r))
        return api_reply_error(r, 403, "forbidden", NULL, "this form must be sent from its own page");
    if (api_consent(r, "confirmation") < 0)
        return;
    int rc = store_confirm(r->conn, sub, list, &info, &e);
    if (rc == 0 && json_is_true(json_object_get(info, "changed"))) {
        count(&n_confirms);
        log_info("api: subscriber %llu confirmed on list %llu", (unsigned long long)sub, (unsigned long long)list);
    }
    confirm_answer(r, rc, info, &e);
}

/* api_track_metrics - append the open, click and confirmation counters to OUT (Prometheus text). */
void api_track_metrics(struct buf *out)
{
    buf_appendf(out,
                "# HELP postino_opens_total Opens recorded by this server.\n# TYPE postino_opens_total counter\n"
                "postino_opens_total %llu\n"
                "# HELP postino_clicks_total Clicks recorded by this server.\n# TYPE postino_clicks_total counter\n"
                "postino_clicks_total %llu\n"
                "# HELP postino_confirmations_total Subscriptions confirmed by this server.\n"
                "# TYPE postino_confirmations_total counter\npostino_confirmations_total %llu\n",
                __atomic_load_n(&n_opens, __ATOMIC_RELAXED), __atomic_load_n(&n_clicks, __ATOMIC_RELAXED),
                __atomic_load_n(&n_confirms, __ATOMIC_RELAXED));
}
