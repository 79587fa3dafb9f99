/*
 * h_relays - the SMTP relays messages leave through (postino relay).
 *
 * api_relays_ls      GET /api/v1/relays (the password never shown)
 * api_relays_create  POST /api/v1/relays: checked by relay_input_check, as the CLI's
 * api_relays_rm      DELETE /api/v1/relays/{relay}
 * api_relays_test    POST /api/v1/relays/{relay}/test: one session (connect, EHLO,
 *                    STARTTLS, AUTH, QUIT) as `postino relay test` runs it, each step
 *                    answered with the server's reply as it came
 *
 * Writes and tests are for admins (api/routes.c). A change reaches this
 * process's sender at once. The password goes to the relay only: never to
 * an answer or the log (a server's reply does not repeat it).
 */
#include <string.h>

#include "api/handlers.h"
#include "engine/net/smtp.h"
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

/* the report's lines "STEP: RESULT" as [{step, ok, result}]: ok unless the result starts "failed: " */
static json_t *steps_json(const char *report)
{
    json_t *a = json_array();
    const char *p = report;
    while (*p) {
        size_t n = strcspn(p, "\n");
        const char *colon = memchr(p, ':', n);
        if (colon) {
            const char *res = colon + 1 + (colon[1] == ' ');
            size_t rlen = (size_t)(p + n - res);
            bool failed = rlen >= 7 && strncmp(res, "failed:", 7) == 0;
            json_array_append_new(a, json_pack("{s:s%, s:b, s:s%}", "step", p, (size_t)(colon - p), "ok", !failed,
                                               "result", res, rlen));
        }
        p += n + (p[n] == '\n');
    }
    return a;
}

/* api_relays_test - POST /api/v1/relays/{relay}/test */
void api_relays_test(struct api_req *r)
{
    struct store_err e;
    struct relay_def *defs;
    size_t n;
    json_t *in;
    if (api_body(r, api_no_fields, &in) < 0)
        return;
    json_decref(in);
    if (!api_db(r))
        return;
    if (store_relay_load(r->conn, api_param(r, 0), &defs, &n, &e) < 0)
        return api_reply_store(r, &e);
    struct buf report = BUF_INIT;
    struct relay_answer ans;
    char line[600];
    int rc = relay_probe(&defs[0], &report, &ans);
    json_t *steps = steps_json(buf_cstr(&report));
    if (rc == 0)
        json_array_append_new(steps, json_pack("{s:s, s:b, s:s}", "step", "quit", "ok", true, "result", "ok"));
    json_t *j = json_pack("{s:s, s:b, s:o}", "relay", defs[0].name, "ok", rc == 0, "steps", steps);
    if (rc < 0) {
        json_object_set_new(j, "failed_step", json_string(ans.stage[0] ? ans.stage : "connect"));
        json_object_set_new(j, "code", ans.code ? json_integer(ans.code) : json_null());
        json_object_set_new(j, "reply", json_string(smtp_reply_line(ans.code, ans.enhanced, ans.text, line,
                                                                    sizeof(line))));
    }
    buf_free(&report);
    relay_defs_free(defs, n);
    api_reply_json(r, 200, j);
}
