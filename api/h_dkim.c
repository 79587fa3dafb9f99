/*
 * h_dkim - DKIM signing keys (postino dkim).
 *
 * api_dkim_ls      GET /api/v1/dkim-keys: each key with the DNS record to publish
 *                  (name, type TXT, record: the value, zone: a zone file's line)
 * api_dkim_create  POST /api/v1/dkim-keys: a new key, generated here; the answer
 *                  is the DNS record, never the private key
 * api_dkim_rm      DELETE /api/v1/dkim-keys/{id}
 *
 * Writes are for admins (api/routes.c).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/handlers.h"
#include "engine/mail/address.h"
#include "engine/mail/dkim.h"
#include "engine/store/dkim_keys.h"
#include "engine/util/alloc.h"
#include "engine/util/log.h"
#include "engine/util/str.h"

/* the DNS record of KEY to publish: its type, its TXT value, and the line for a zone file */
static void record_set(json_t *key, const char *txt)
{
    struct buf zone = BUF_INIT;
    const char *sel = json_string_value(json_object_get(key, "selector"));
    const char *domain = json_string_value(json_object_get(key, "domain"));
    dkim_zone_line(&zone, sel ? sel : "", domain ? domain : "", txt);
    json_object_set_new(key, "type", json_string("TXT"));
    json_object_set_new(key, "record", json_string(txt));
    json_object_set_new(key, "zone", json_string(buf_cstr(&zone)));
    buf_free(&zone);
}

/* api_dkim_ls - GET /api/v1/dkim-keys */
void api_dkim_ls(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL, *k;
    size_t i;
    if (!api_db(r))
        return;
    if (store_dkim_ls(r->conn, &j, &e) < 0)
        return api_reply_store(r, &e);
    /* the DNS record to publish, as postino dkim record prints it */
    json_array_foreach(j, i, k) {
        enum dkim_alg alg = DKIM_RSA_SHA256;
        const char *pub = json_string_value(json_object_get(k, "public_key"));
        struct buf rec = BUF_INIT;
        dkim_alg_parse(json_string_value(json_object_get(k, "algorithm")), &alg);
        dkim_txt_record(&rec, alg, pub ? pub : "");
        record_set(k, buf_cstr(&rec));
        buf_free(&rec);
    }
    api_reply_items(r, j);
}

static const struct api_field dkim_fields[] = {
    { "domain", API_FIELD_STRING, true, 253, 0, 0 },
    { "selector", API_FIELD_STRING, false, 63, 0, 0 },
    { "algorithm", API_FIELD_STRING, false, 16, 0, 0 },
    { "bits", API_FIELD_INT, false, 0, DKIM_RSA_MIN_BITS, DKIM_RSA_MAX_BITS },
    { NULL, 0, false, 0, 0, 0 },
};

/* api_dkim_create - POST /api/v1/dkim-keys: a new key; the answer is the DNS record, never the private key */
void api_dkim_create(struct api_req *r)
{
    char domain[ADDRESS_MAX + 1], sel[64];
    const char *why;
    struct store_err e;
    enum dkim_alg alg = DKIM_RSA_SHA256;
    json_t *in, *key = NULL;
    if (api_body(r, dkim_fields, &in) < 0)
        return;
    const char *alg_name = api_json_str(in, "algorithm", "rsa"), *selector = api_json_str(in, "selector", NULL);
    long bits = (long)api_json_int(in, "bits", 0);
    if (strcmp(alg_name, "rsa") != 0 && strcmp(alg_name, "ed25519") != 0) {
        api_reply_error(r, 400, "invalid_field", "algorithm", "field \"algorithm\" must be \"rsa\" or \"ed25519\"");
        goto out;
    }
    dkim_alg_parse(alg_name, &alg);
    if (bits && alg != DKIM_RSA_SHA256) {
        api_reply_error(r, 400, "invalid_field", "bits", "field \"bits\" applies to rsa keys only");
        goto out;
    }
    if (address_domain_normalize(api_json_str(in, "domain", ""), domain, sizeof(domain), &why) < 0) {
        api_reply_error(r, 400, "invalid_field", "domain", "field \"domain\" is not a valid domain: %s", why);
        goto out;
    }
    if (selector) {
        snprintf(sel, sizeof(sel), "%s", selector);
        str_lower(sel);
        if (!dkim_selector_ok(sel)) {
            api_reply_error(r, 400, "invalid_field", "selector",
                            "field \"selector\" must be one DNS label (letters, digits, hyphens)");
            goto out;
        }
    } else {
        dkim_selector_default(alg, time(NULL), sel, sizeof(sel));
    }
    if (alg == DKIM_RSA_SHA256 && !bits)
        bits = DKIM_RSA_DEFAULT_BITS;
    if (!api_db(r))
        goto out;
    char *pem = NULL, *pub = NULL;
    if (dkim_key_generate(alg, (int)bits, &pem, &pub, &why) < 0) {
        log_error("api: cannot generate a DKIM key for %s: %s", domain, why);
        api_reply_error(r, 503, "unavailable", NULL, "a key could not be generated now; try again later");
        goto out;
    }
    int rc = store_dkim_add(r->conn, domain, sel, alg_name, (int)bits, pem, pub, &key, &e);
    dkim_secret_free(pem);
    xfree(pub);
    if (rc < 0) {
        api_reply_store(r, &e);
        goto out;
    }
    struct buf txt = BUF_INIT;
    dkim_txt_record(&txt, alg, json_string_value(json_object_get(key, "public_key")));
    record_set(key, buf_cstr(&txt));
    buf_free(&txt);
    api_reply_json(r, 201, key);
out:
    json_decref(in);
}

/* api_dkim_rm - DELETE /api/v1/dkim-keys/{id} */
void api_dkim_rm(struct api_req *r)
{
    struct store_err e;
    if (!api_db(r))
        return;
    api_reply_stored(r, store_dkim_rm_id(r->conn, api_param(r, 0), &e), NULL, &e, 204);
}
