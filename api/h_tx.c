/*
 * h_tx - transactional messages: POST /api/v1/tx queues one message from a
 * template for one recipient, GET /api/v1/tx/{delivery} reports it.
 *
 * The message is a delivery row inserted in the request's transaction
 * (engine/store/tx.h); the sender running in this process is woken at once
 * to claim it, others pick it up at their next tick. An Idempotency-Key
 * header (or the "key" field) makes a retried request answer the delivery
 * queued the first time instead of sending twice. Configuration read here:
 * [mail] from, the From used when the request names none.
 */
#include <stdio.h>
#include <string.h>

#include <microhttpd.h>

#include "api/handlers.h"
#include "engine/mail/address.h"
#include "engine/mail/mime.h"
#include "engine/mail/template.h"
#include "engine/send/sender.h"
#include "engine/store/tx.h"
#include "engine/util/alloc.h"
#include "engine/send/settings_send.h"
#include "engine/util/str.h"

#define TX_KEY_MAX 200
#define TX_DATA_MAX 65536

const struct api_field api_tx_fields[] = {
    { "template", API_FIELD_STRING, true, 200, 0, 0 },
    { "to", API_FIELD_STRING, true, 320, 0, 0 },
    { "name", API_FIELD_STRING, false, 200, 0, 0 },
    { "data", API_FIELD_OBJECT, false, 0, 0, 0 },
    { "from", API_FIELD_STRING, false, 600, 0, 0 },
    { "reply_to", API_FIELD_STRING, false, 320, 0, 0 },
    { "subject", API_FIELD_STRING, false, 998, 0, 0 },
    { "key", API_FIELD_STRING, false, TX_KEY_MAX, 0, 0 },
    { "relay", API_FIELD_STRING, false, 100, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

/* the body decoded and checked; a template named by its number becomes its decimal string. -1: 400 set */
static int tx_body(struct api_req *r, json_t **out)
{
    struct api_err e;
    *out = NULL;
    if (api_json_parse(r->body, r->body_len, out, &e) == 0) {
        json_t *t = json_object_get(*out, "template");
        if (json_is_integer(t) && json_integer_value(t) >= 0) {
            char id[24];
            snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(t));
            json_object_set_new(*out, "template", json_string(id));
        }
        if (api_json_check(*out, api_tx_fields, &e) == 0)
            return 0;
    }
    json_decref(*out);
    *out = NULL;
    api_reply_err(r, &e);
    return -1;
}

/* the idempotency key from the header or the field, scoped to the user, into OUT; "" when none. -1: 400 set */
static int tx_key(struct api_req *r, json_t *in, char *out, size_t outlen)
{
    const char *h = MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, "Idempotency-Key");
    const char *f = api_json_str(in, "key", NULL), *k = h ? h : f;
    out[0] = 0;
    if (h && f && strcmp(h, f) != 0) {
        api_reply_error(r, 400, "invalid_field", "key", "the Idempotency-Key header and field \"key\" differ");
        return -1;
    }
    if (!k)
        return 0;
    size_t n = strlen(k);
    if (n == 0 || n > TX_KEY_MAX || !str_utf8_valid(k, n, NULL) || strpbrk(k, "\r\n\t")) {
        api_reply_error(r, 400, "invalid_field", "key",
                        "the idempotency key must be 1 to %d characters of UTF-8 without control characters",
                        TX_KEY_MAX);
        return -1;
    }
    snprintf(out, outlen, "%lld:%s", r->user.id, k);
    return 0;
}

/* the subject as a template: 0, or -1 with 400 naming the line and column */
static int tx_subject_ok(struct api_req *r, const char *subject)
{
    char why[TMPL_ERR_MAX];
    if (!*subject || strpbrk(subject, "\r\n")) {
        api_reply_error(r, 400, "invalid_field", "subject", "field \"subject\" must be one line, not empty");
        return -1;
    }
    struct tmpl *t = tmpl_compile(subject, strlen(subject), why, sizeof(why));
    if (!t) {
        api_reply_error(r, 400, "invalid_field", "subject", "field \"subject\": %s", why);
        return -1;
    }
    tmpl_free(t);
    return 0;
}

static void tx_reply(struct api_req *r, json_t *j, bool created)
{
    long long id = (long long)json_integer_value(json_object_get(j, "delivery"));
    char where[64];
    snprintf(where, sizeof(where), "/api/v1/tx/%lld", id);
    xfree(r->location);
    r->location = xstrdup(where);
    json_object_set_new(j, "location", json_string(where));
    api_reply_json(r, created ? 201 : 200, j);
}

/* api_tx_send - POST /api/v1/tx */
void api_tx_send(struct api_req *r)
{
    json_t *in, *out = NULL;
    char to[ADDRESS_MAX + 1], from_addr[ADDRESS_MAX + 1], reply_to[ADDRESS_MAX + 1], from_name[256];
    char key[TX_KEY_MAX + 32];
    const char *why;
    struct store_err e;
    if (tx_body(r, &in) < 0)
        return;
    const char *from = api_json_str(in, "from", mail_settings.from);
    const char *subject = api_json_str(in, "subject", NULL), *rt = api_json_str(in, "reply_to", NULL);
    const char *name = api_json_str(in, "name", NULL);
    json_t *data = json_object_get(in, "data");
    char *dumped = json_is_object(data) ? json_dumps(data, JSON_COMPACT) : NULL;
    size_t data_len = dumped ? strlen(dumped) : 0;
    free(dumped);
    if (address_normalize(api_json_str(in, "to", ""), to, sizeof(to), &why) < 0)
        api_reply_error(r, 400, "invalid_field", "to", "field \"to\" is not a valid address: %s", why);
    else if (!from)
        api_reply_error(r, 400, "missing_field", "from", "field \"from\" is required (no [mail] from is configured)");
    else if (address_mailbox_parse(from, from_name, sizeof(from_name), from_addr, &why) < 0)
        api_reply_error(r, 400, "invalid_field", "from", "field \"from\" is not a valid sender: %s", why);
    else if (rt && address_normalize(rt, reply_to, sizeof(reply_to), &why) < 0)
        api_reply_error(r, 400, "invalid_field", "reply_to", "field \"reply_to\" is not a valid address: %s", why);
    else if (!subject)
        api_reply_error(r, 400, "missing_field", "subject", "field \"subject\" is required");
    else if (name && mime_name_check(name, false, &why) < 0)
        api_reply_error(r, 400, "invalid_field", "name", "field \"name\" %s", why);
    else if (data_len > TX_DATA_MAX)
        api_reply_error(r, 400, "invalid_field", "data", "field \"data\" is larger than %d bytes", TX_DATA_MAX);
    else if (tx_subject_ok(r, subject) == 0 && tx_key(r, in, key, sizeof(key)) == 0 && api_db(r)) {
        struct tx_new t = {
            .template_ref = api_json_str(in, "template", ""),
            .to = to,
            .name = name,
            .data = json_is_object(data) ? data : NULL,
            .subject = subject,
            .from_name = from_name,
            .from_addr = from_addr,
            .reply_to = rt ? reply_to : NULL,
            .key = key[0] ? key : NULL,
            .relay = api_json_str(in, "relay", NULL),
        };
        bool created;
        enum tx_refusal refused;
        if (store_tx_send(r->conn, &t, &out, &created, &refused, &e) < 0) {
            if (e.code == STORE_ERR_NOTFOUND)
                api_reply_error(r, 404, "not_found", refused == TX_NO_RELAY ? "relay" : "template", "%s", e.msg);
            else if (e.code == STORE_ERR_EXISTS && refused == TX_BLOCKLISTED)
                api_reply_error(r, 409, "blocklisted", "to", "%s", e.msg);
            else if (e.code == STORE_ERR_EXISTS && refused == TX_KEY_REUSED)
                api_reply_error(r, 409, "key_reused", "key", "%s", e.msg);
            else
                api_reply_store(r, &e);
        } else {
            if (created)
                sender_wake();
            tx_reply(r, out, created);
        }
    }
    json_decref(in);
}

/* api_tx_get - GET /api/v1/tx/{delivery} */
void api_tx_get(struct api_req *r)
{
    json_t *j = NULL;
    struct store_err e;
    if (!api_db(r))
        return;
    api_reply_stored(r, store_tx_get(r->conn, api_param(r, 0), &j, &e), &j, &e, 200);
}
