/*
 * h_relays - the SMTP relays messages leave through (postino relay).
 *
 * api_relays_ls      GET /api/v1/relays (the password never shown)
 * api_relays_create  POST /api/v1/relays: checked by relay_input_check, as the CLI's
 * api_relays_rm      DELETE /api/v1/relays/{relay}
 *
 * Writes are for admins (api/routes.c). A change reaches this process's
 * sender at once.
 */
#include "api/handlers.h"
#include "engine/send/relay.h"
#include "engine/send/sender.h"
#include "engine/store/relays.h"

/* api_relays_ls - GET /api/v1/relays */
void api_relays_ls(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (api_db(r))
        api_reply_stored(r, store_relay_ls(r->conn, &j, &e), &j, &e, API_ITEMS);
}

/* types and sizes only: the values' rules are relay_input_check's, the same words as the CLI's */
static const struct api_field relay_fields[] = {
    { "name", API_FIELD_STRING, true, 1000, 0, 0 },
    { "host", API_FIELD_STRING, true, 1000, 0, 0 },
    { "port", API_FIELD_INT, false, 0, -2147483647, 2147483647 },
    { "tls", API_FIELD_STRING, false, 1000, 0, 0 },
    { "tls_verify", API_FIELD_BOOL, false, 0, 0, 0 },
    { "allow_plain_auth", API_FIELD_BOOL, false, 0, 0, 0 },
    { "ca_file", API_FIELD_STRING, false, 1000, 0, 0 },
    { "username", API_FIELD_STRING, false, 1000, 0, 0 },
    { "password", API_FIELD_STRING, false, 1000, 0, 0 },
    { "max_conns", API_FIELD_INT, false, 0, -2147483647, 2147483647 },
    { "max_per_conn", API_FIELD_INT, false, 0, -2147483647, 2147483647 },
    { "rate", API_FIELD_STRING, false, 1000, 0, 0 },
    { "quota", API_FIELD_STRING, false, 1000, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

/* api_relays_create - POST /api/v1/relays (the password is stored, never answered) */
void api_relays_create(struct api_req *r)
{
    struct store_err e;
    struct relay_check why;
    struct relay_def d;
    json_t *in, *j = NULL;
    if (api_body(r, relay_fields, &in) < 0)
        return;
    struct relay_input ri = {
        .name = api_json_str(in, "name", ""),
        .host = api_json_str(in, "host", ""),
        .tls = api_json_str(in, "tls", NULL),
        .tls_verify = api_json_bool(in, "tls_verify", true),
        .allow_plain_auth = api_json_bool(in, "allow_plain_auth", false),
        .ca_file = api_json_str(in, "ca_file", NULL),
        .username = api_json_str(in, "username", NULL),
        .password = api_json_str(in, "password", NULL),
        .rate = api_json_str(in, "rate", NULL),
        .quota = api_json_str(in, "quota", NULL),
        .port = api_json_int(in, "port", -1),
        .max_conns = api_json_int(in, "max_conns", -1),
        .max_per_conn = api_json_int(in, "max_per_conn", -1),
    };
    if (relay_input_check(&ri, &d, &why) < 0) {
        api_reply_error(r, 400, "invalid_field", why.field, "%s", why.why);
    } else if (api_db(r)) {
        int rc = store_relay_add(r->conn, &d, &j, &e);
        if (rc == 0) {
            json_object_del(j, "password_set");
            sender_relays_changed(); /* this process's sender takes it now, not at its next reading */
        }
        api_reply_stored(r, rc, &j, &e, 201);
    }
    json_decref(in);
}

/* api_relays_rm - DELETE /api/v1/relays/{relay} */
void api_relays_rm(struct api_req *r)
{
    struct store_err e;
    if (!api_db(r))
        return;
    if (store_relay_rm(r->conn, api_param(r, 0), &e) < 0) {
        api_reply_store(r, &e);
    } else {
        sender_relays_changed();
        api_reply_empty(r, 204);
    }
}
