/*
 * h_hooks - the email services' webhooks: bounces and complaints from Amazon
 * SES (through SNS), SendGrid, Postmark and Mailgun, recorded as POST
 * /api/v1/bounces records them.
 *
 * api_hook_ses       POST /hooks/ses: an SNS message, its signature checked against
 *                    the signing certificate, its TopicArn one of [hooks] ses_topics
 * api_hook_sendgrid  POST /hooks/sendgrid: the Event Webhook's ECDSA signature
 * api_hook_postmark  POST /hooks/postmark: HTTP Basic credentials (Postmark signs nothing)
 * api_hook_mailgun   POST /hooks/mailgun: the HMAC in the body's signature object
 *
 * No login: the signature is the authentication. A message whose signature
 * or credentials do not check out, whose signed time is more than [hooks]
 * max_age from now, or that was taken before (hook_seen) is answered 401 and
 * leaves no row anywhere. A good one notes its id in hook_seen and records its
 * events in one transaction; an address no subscriber has is counted as
 * ignored (the provider would only send it again). 404 when the provider's
 * settings are not given; 503 when the database or a key file failed (the
 * provider tries again later).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "api/handlers.h"
#include "api/request.h"
#include "api/settings_hooks.h"
#include "engine/mail/hook_events.h"
#include "engine/net/hook_verify.h"
#include "engine/store/bounces.h"
#include "engine/store/hooks.h"
#include "engine/store/pg.h"
#include "engine/util/file.h"
#include "engine/util/log.h"
#include "engine/util/str.h"

#define HOOK_KEY_MAX 8192
#define HOOK_ID_MAX 200

/* the secret in FILE, trailing white space removed, into OUT; -1 with 503 set (the file named in the log) */
static int secret_read(struct api_req *r, const char *setting, const char *file, struct buf *out)
{
    char err[512];
    if (file_read(file, HOOK_KEY_MAX, out, err, sizeof(err)) < 0) {
        log_error("hooks: [hooks] %s: %s", setting, err);
        api_reply_error(r, 503, "unavailable", NULL, "the webhook's key cannot be read");
        return -1;
    }
    size_t n = out->len;
    while (n && (out->data[n - 1] == '\n' || out->data[n - 1] == '\r' || out->data[n - 1] == ' ' ||
                 out->data[n - 1] == '\t'))
        n--;
    buf_truncate(out, n);
    buf_cstr(out);
    return 0;
}

/* answer 401 for a refused message, and say why in the log (never a key) */
static void refuse(struct api_req *r, enum hook_provider p, const char *why)
{
    log_warn("hooks: refused a %s webhook from %s: %s", hook_provider_name(p), api_peer_text(r), why);
    api_reply_error(r, 401, "unauthorized", NULL, "%s", why);
}

/* the body as JSON; NULL with 400 set */
static json_t *body_json(struct api_req *r, enum hook_provider p)
{
    json_error_t je;
    json_t *j = r->body_len ? json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (!j)
        api_reply_error(r, 400, "invalid", NULL, "a %s webhook's body is JSON", hook_provider_name(p));
    return j;
}

/* did the store call fail only because of the event (no such subscriber, a field it refuses) */
static bool event_refused(int rc, const struct store_err *e)
{
    return rc == STORE_ERR_NOTFOUND || rc == STORE_ERR_INVALID || (rc < 0 && e->code != STORE_ERR_DB);
}

/*
 * record P's message ID (checked already) and the events PAYLOAD maps to, in
 * one transaction; answers 200 {"recorded", "ignored", "bounces"}, or 401
 * when ID was taken before.
 */
static void hook_record(struct api_req *r, enum hook_provider p, const char *id, json_t *payload)
{
    char err[256];
    json_t *events = NULL, *ids = NULL, *ev;
    size_t ignored = 0, i;
    struct store_err e = { 0 };
    bool fresh = false;
    if (hook_events_map(p, payload, &events, &ignored, err, sizeof(err)) < 0)
        return api_reply_error(r, 400, "invalid", NULL, "%s", err);
    if (!api_db(r))
        goto done;
    if (pg_begin(r->conn) < 0) {
        api_reply_error(r, 503, "unavailable", NULL, "the database is unavailable");
        goto done;
    }
    if (store_hook_seen(r->conn, hook_provider_name(p), id, hooks_settings.replay_keep_s, &fresh, &e) < 0) {
        pg_rollback(r->conn);
        api_reply_store(r, &e);
        goto done;
    }
    if (!fresh) {
        pg_rollback(r->conn);
        refuse(r, p, "this message was taken before");
        goto done;
    }
    ids = json_array();
    json_array_foreach(events, i, ev) {
        json_t *b = NULL;
        int rc = store_bounce_ingest_signed(r->conn, ev, &b, &e);
        if (rc == 0)
            json_array_append_new(ids, json_incref(json_object_get(b, "id")));
        json_decref(b);
        if (rc < 0 && event_refused(rc, &e)) {
            ignored++;
        } else if (rc < 0) {
            pg_rollback(r->conn);
            api_reply_store(r, &e);
            goto done;
        }
    }
    if (pg_commit(r->conn) < 0) {
        pg_rollback(r->conn);
        api_reply_error(r, 503, "unavailable", NULL, "the database is unavailable");
        goto done;
    }
    if (json_array_size(ids))
        log_info("hooks: %s webhook: %zu bounce%s recorded, %zu ignored", hook_provider_name(p),
                 json_array_size(ids), json_array_size(ids) == 1 ? "" : "s", ignored);
    api_reply_json(r, 200, json_pack("{s:I, s:I, s:O}", "recorded", (json_int_t)json_array_size(ids), "ignored",
                                     (json_int_t)ignored, "bounces", ids));
done:
    json_decref(ids);
    json_decref(events);
}

/* is TOPIC one of [hooks] ses_topics (separated by commas or white space) */
static bool topic_allowed(const char *topic)
{
    const char *s = hooks_settings.ses_topics;
    size_t n = strlen(topic);
    while (s && *s) {
        s += strspn(s, ", \t");
        size_t len = strcspn(s, ", \t");
        if (len && len == n && memcmp(s, topic, n) == 0)
            return true;
        s += len;
    }
    return false;
}

/* api_hook_ses - POST /hooks/ses */
void api_hook_ses(struct api_req *r)
{
    char err[512];
    long long t;
    if (!hooks_settings.ses_topics || !*hooks_settings.ses_topics)
        return api_reply_error(r, 404, "not_found", NULL, "no SES webhook here ([hooks] ses_topics is not set)");
    json_t *msg = body_json(r, HOOK_SES), *payload = NULL;
    if (!msg)
        return;
    const char *type = json_string_value(json_object_get(msg, "Type"));
    const char *topic = json_string_value(json_object_get(msg, "TopicArn"));
    const char *id = json_string_value(json_object_get(msg, "MessageId"));
    struct hook_sns_certs certs = { hooks_settings.sns_cert_dir, hooks_settings.sns_ca_file };
    if (hook_verify_sns(msg, &certs, err, sizeof(err)) < 0)
        refuse(r, HOOK_SES, err);
    else if (!topic || !topic_allowed(topic))
        refuse(r, HOOK_SES, "TopicArn is not one of [hooks] ses_topics");
    else if (hook_sns_time(json_string_value(json_object_get(msg, "Timestamp")), &t) < 0 ||
             !hook_time_fresh(t, time(NULL), hooks_settings.max_age_s))
        refuse(r, HOOK_SES, "Timestamp is not within [hooks] max_age of now");
    else if (!id || !*id || strlen(id) > HOOK_ID_MAX)
        refuse(r, HOOK_SES, "MessageId is missing or too long");
    else if (strcmp(type, "Notification") != 0) {
        /* SubscriptionConfirmation, UnsubscribeConfirmation: noted, no events; the operator confirms */
        if (strcmp(type, "SubscriptionConfirmation") == 0)
            log_warn("hooks: SNS topic %s asks to confirm the subscription of /hooks/ses; confirm it by opening %s",
                     topic, json_string_value(json_object_get(msg, "SubscribeURL")));
        payload = json_object();
        hook_record(r, HOOK_SES, id, payload);
    } else if (!(payload = json_loads(json_string_value(json_object_get(msg, "Message")), 0, NULL))) {
        api_reply_error(r, 400, "invalid", NULL, "the SNS message's Message is not an SES notification");
    } else {
        hook_record(r, HOOK_SES, id, payload);
    }
    json_decref(payload);
    json_decref(msg);
}

/* api_hook_sendgrid - POST /hooks/sendgrid */
void api_hook_sendgrid(struct api_req *r)
{
    char err[512], id[2 * EVP_MAX_MD_SIZE + 1];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    long t;
    struct buf key = BUF_INIT;
    if (!hooks_settings.sendgrid_public_key_file)
        return api_reply_error(r, 404, "not_found", NULL,
                               "no SendGrid webhook here ([hooks] sendgrid_public_key_file is not set)");
    if (secret_read(r, "sendgrid_public_key_file", hooks_settings.sendgrid_public_key_file, &key) < 0)
        return;
    const char *sig = api_header(r, "X-Twilio-Email-Event-Webhook-Signature");
    const char *ts = api_header(r, "X-Twilio-Email-Event-Webhook-Timestamp");
    json_t *payload = NULL;
    if (hook_verify_sendgrid(buf_cstr(&key), ts, r->body, r->body_len, sig, err, sizeof(err)) < 0)
        refuse(r, HOOK_SENDGRID, err);
    else if (str_parse_long(ts, 0, 99999999999L, &t) < 0 || !hook_time_fresh(t, time(NULL), hooks_settings.max_age_s))
        refuse(r, HOOK_SENDGRID, "the timestamp is not within [hooks] max_age of now");
    else if ((payload = body_json(r, HOOK_SENDGRID))) {
        /* SendGrid's events carry no id for the request: an exact copy has the same signature */
        EVP_Digest(sig, strlen(sig), md, &mdlen, EVP_sha256(), NULL);
        for (unsigned i = 0; i < mdlen; i++)
            snprintf(id + 2 * i, 3, "%02x", md[i]);
        hook_record(r, HOOK_SENDGRID, id, payload);
    }
    json_decref(payload);
    buf_free(&key);
}

/* api_hook_postmark - POST /hooks/postmark */
void api_hook_postmark(struct api_req *r)
{
    char id[64];
    struct buf pw = BUF_INIT;
    if (!hooks_settings.postmark_user || !hooks_settings.postmark_password_file)
        return api_reply_error(r, 404, "not_found", NULL,
                               "no Postmark webhook here ([hooks] postmark_user and postmark_password_file)");
    if (secret_read(r, "postmark_password_file", hooks_settings.postmark_password_file, &pw) < 0)
        return;
    bool ok = hook_basic_auth_ok(api_header(r, "Authorization"), hooks_settings.postmark_user, buf_cstr(&pw));
    buf_free(&pw);
    if (!ok)
        return refuse(r, HOOK_POSTMARK, "the Basic credentials are not those of [hooks] postmark_user");
    json_t *payload = body_json(r, HOOK_POSTMARK);
    if (!payload)
        return;
    const char *rt = json_string_value(json_object_get(payload, "RecordType"));
    json_t *pid = json_object_get(payload, "ID");
    if (!json_is_integer(pid))
        api_reply_error(r, 400, "invalid", "ID", "a Postmark record has a numeric ID");
    else {
        snprintf(id, sizeof(id), "%.20s:%lld", rt ? rt : "Bounce", (long long)json_integer_value(pid));
        hook_record(r, HOOK_POSTMARK, id, payload);
    }
    json_decref(payload);
}

/* api_hook_mailgun - POST /hooks/mailgun */
void api_hook_mailgun(struct api_req *r)
{
    char err[512], tsbuf[32];
    long t;
    struct buf key = BUF_INIT;
    if (!hooks_settings.mailgun_signing_key_file)
        return api_reply_error(r, 404, "not_found", NULL,
                               "no Mailgun webhook here ([hooks] mailgun_signing_key_file is not set)");
    json_t *payload = body_json(r, HOOK_MAILGUN);
    if (!payload)
        return;
    if (secret_read(r, "mailgun_signing_key_file", hooks_settings.mailgun_signing_key_file, &key) < 0)
        goto done;
    json_t *s = json_object_get(payload, "signature"), *tsj = json_object_get(s, "timestamp");
    const char *ts = json_string_value(tsj), *token = json_string_value(json_object_get(s, "token"));
    if (json_is_integer(tsj)) {
        snprintf(tsbuf, sizeof(tsbuf), "%lld", (long long)json_integer_value(tsj));
        ts = tsbuf;
    }
    if (hook_verify_mailgun(key.data, key.len, ts, token, json_string_value(json_object_get(s, "signature")), err,
                            sizeof(err)) < 0)
        refuse(r, HOOK_MAILGUN, err);
    else if (str_parse_long(ts, 0, 99999999999L, &t) < 0 || !hook_time_fresh(t, time(NULL), hooks_settings.max_age_s))
        refuse(r, HOOK_MAILGUN, "the timestamp is not within [hooks] max_age of now");
    else if (!*token || strlen(token) > HOOK_ID_MAX)
        refuse(r, HOOK_MAILGUN, "the token is empty or too long");
    else
        hook_record(r, HOOK_MAILGUN, token, payload);
done:
    json_decref(payload);
    buf_free(&key);
}
