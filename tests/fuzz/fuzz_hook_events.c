/*
 * fuzz_hook_events - libFuzzer target for the email services' webhook
 * payloads: the first byte picks the provider (SES, SendGrid, Postmark,
 * Mailgun), the rest is the body. Whatever it is, every event mapped must
 * have an address of at most HOOK_EMAIL_MAX bytes, a type the store knows, a
 * status of the D.D.D form or none, a reason within HOOK_REASON_MAX; SNS's
 * string to sign is built from any object without failing; a status found in
 * the text is a bounded code.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mail/hook_events.h"
#include "engine/net/hook_verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool type_ok(const char *t)
{
    static const char *const types[] = { "hard", "soft", "complaint", "policy", "unknown", "bounce", NULL };
    for (size_t i = 0; t && types[i]; i++)
        if (strcmp(t, types[i]) == 0)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum hook_provider p = (enum hook_provider)(data[0] % 4);
    json_t *payload = json_loadb((const char *)data + 1, size - 1, 0, NULL), *events = NULL, *ev;
    char err[256], st[16];
    size_t ignored, i;
    if (payload) {
        struct buf s = BUF_INIT;
        hook_sns_string_to_sign(payload, &s);
        buf_free(&s);
        if (hook_events_map(p, payload, &events, &ignored, err, sizeof(err)) == 0) {
            json_array_foreach(events, i, ev) {
                const char *email = json_string_value(json_object_get(ev, "email"));
                const char *status = json_string_value(json_object_get(ev, "status"));
                const char *reason = json_string_value(json_object_get(ev, "reason"));
                if (!email || strlen(email) > HOOK_EMAIL_MAX || !type_ok(json_string_value(json_object_get(ev, "type"))))
                    __builtin_trap();
                if (status && (strlen(status) < 5 || strlen(status) > 11 || (status[0] != '4' && status[0] != '5')))
                    __builtin_trap();
                if (reason && strlen(reason) > HOOK_REASON_MAX)
                    __builtin_trap();
            }
        } else if (events) {
            __builtin_trap();
        }
        json_decref(events);
        json_decref(payload);
    }
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;
    if (hook_status_in_text(text, st) == 0 && (strlen(st) < 5 || strlen(st) > 11))
        __builtin_trap();
    free(text);
    return 0;
}
