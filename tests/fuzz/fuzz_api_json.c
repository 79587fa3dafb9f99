/*
 * fuzz_api_json - the API's strict request decoding: api_json_parse, then
 * api_json_check against the subscriber fields, the transactional message
 * fields and a table of every field type, the values read back, and the
 * error envelope encoded (it must always be valid JSON, whatever the input
 * quoted into it); the "from" of a transactional message (address_mailbox_parse);
 * an object field through the attribute rules (subscriber_attribs_check).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/json.h"
#include "engine/store/tx.h"
#include "engine/mail/address.h"
#include "engine/mail/subscriber_fields.h"
#include "engine/util/alloc.h"
#include "engine/util/log.h"

static const struct api_field all_types[] = {
    { "s", API_FIELD_STRING, true, 16, 0, 0 },
    { "i", API_FIELD_INT, false, 0, -5, 5 },
    { "b", API_FIELD_BOOL, false, 0, 0, 0 },
    { "o", API_FIELD_OBJECT, false, 0, 0, 0 },
    { "r", API_FIELD_REFS, false, 4, 0, 0 },
    { NULL, 0, false, 0, 0, 0 },
};

static void envelope(const struct api_err *e)
{
    json_t *j = api_error_json(e);
    char *s = json_dumps(j, JSON_COMPACT);
    if (!s)
        abort();
    free(s);
    json_decref(j);
}

static void decode(const uint8_t *data, size_t size, const struct api_field *fields)
{
    struct api_err e;
    json_t *j = NULL;
    if (api_json_parse((const char *)data, size, &j, &e) < 0) {
        if (e.status != 400 || j)
            abort();
        envelope(&e);
        return;
    }
    if (api_json_check(j, fields, &e) < 0) {
        if (e.status != 400 || !e.has_field)
            abort();
        envelope(&e);
    } else {
        for (const struct api_field *f = fields; f->name; f++) {
            if (f->type == API_FIELD_STRING && api_json_str(j, f->name, NULL) &&
                strlen(api_json_str(j, f->name, NULL)) > (f->max_len ? f->max_len : 10000))
                abort();
            if (f->type == API_FIELD_INT && json_object_get(j, f->name) && !json_is_null(json_object_get(j, f->name))) {
                long long v = api_json_int(j, f->name, 0);
                if (v < f->min || v > f->max)
                    abort();
            }
            if (f->type == API_FIELD_OBJECT && json_is_object(json_object_get(j, f->name))) {
                /* the attribute rules of subscriber add and PATCH: a verdict with a reason, a key when one is at fault */
                const char *key = NULL, *why = NULL;
                for (int removals = 0; removals < 2; removals++)
                    if (subscriber_attribs_check(json_object_get(j, f->name), removals, &key, &why) < 0 &&
                        (!why || (key && !json_object_get(json_object_get(j, f->name), key))))
                        abort();
            }
            if (f->type == API_FIELD_REFS) {
                char **refs;
                size_t n;
                api_json_refs(j, f->name, &refs, &n);
                for (size_t i = 0; i < n; i++)
                    if (!refs[i][0])
                        abort();
                api_json_refs_free(refs, n);
            }
        }
    }
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet) {
        log_set_level(LOG_FATAL);
        quiet = 1;
    }
    decode(data, size, api_subscriber_fields);
    decode(data, size, api_tx_fields);
    decode(data, size, all_types);
    char *from = xstrndup((const char *)data, size), name[256], addr[ADDRESS_MAX + 1];
    const char *why = NULL;
    if (address_mailbox_parse(from, name, sizeof(name), addr, &why) == 0) {
        if (!addr[0] || strlen(name) >= sizeof(name) || strpbrk(name, "\r\n"))
            abort();
    } else if (!why) {
        abort();
    }
    xfree(from);
    return 0;
}
