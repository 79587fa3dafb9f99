/*
 * fuzz_dsn - libFuzzer target for the bounce reader: the input is any message
 * that might reach the bounce address. Each report is parsed whole; every
 * field must come back NUL-terminated within its buffer, counts within their
 * bounds, the class decided for each recipient a valid one, and the verdict
 * (without rules: the code and the built-in words) a valid class with a
 * bounded status and recipient. Seeds: tests/data/dsn and tests/data/bounces
 * (the formats of many MTAs and providers), in tests/fuzz/corpus/fuzz_dsn.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mail/classify.h"
#include "engine/mail/dsn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BOUNDED(f) (strnlen((f), sizeof(f)) < sizeof(f))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dsn_report *r = malloc(sizeof(*r));
    if (!r)
        return 0;
    dsn_parse((const char *)data, size, r);
    if (r->nrcpt > DSN_MAX_RCPTS || r->naddrs > DSN_MAX_ADDRS || r->kind > DSN_KIND_AUTOREPLY)
        __builtin_trap();
    if (!BOUNDED(r->message_id) || !BOUNDED(r->from) || !BOUNDED(r->subject) || !BOUNDED(r->envelope_to) ||
        !BOUNDED(r->reporting_mta) || !BOUNDED(r->orig_delivery) || !BOUNDED(r->orig_return_path) ||
        !BOUNDED(r->orig_to) || !BOUNDED(r->feedback_type) || !BOUNDED(r->arf_mail_from) ||
        !BOUNDED(r->arf_rcpt_to) || !BOUNDED(r->text_status) || !BOUNDED(r->text_diagnostic) || !BOUNDED(r->to) ||
        !BOUNDED(r->failed_rcpt) || !BOUNDED(r->orig_hmxmr_rcpt))
        __builtin_trap();
    for (size_t i = 0; i < r->nrcpt; i++) {
        const struct dsn_recipient *rc = &r->rcpt[i];
        if (!BOUNDED(rc->action) || !BOUNDED(rc->status) || !BOUNDED(rc->final_rcpt) ||
            !BOUNDED(rc->original_rcpt) || !BOUNDED(rc->diagnostic) || !BOUNDED(rc->remote_mta))
            __builtin_trap();
        if (classify_report(rc->status, rc->diagnostic, BOUNCE_NONE, false) > BOUNCE_UNKNOWN)
            __builtin_trap();
    }
    for (size_t i = 0; i < r->naddrs; i++)
        if (!BOUNDED(r->addrs[i]) || !strchr(r->addrs[i], '@'))
            __builtin_trap();
    struct dsn_verdict v;
    if (dsn_verdict(r, NULL, NULL, &v) != 0 || v.cls > BOUNCE_DELAY || !BOUNDED(v.status) || !BOUNDED(v.recipient) ||
        !v.diagnostic || (v.recipient[0] && !strchr(v.recipient, '@')) || (v.rcpt && (v.rcpt < r->rcpt ||
                                                                                       v.rcpt >= r->rcpt + r->nrcpt)))
        __builtin_trap();
    char tok[72];
    dsn_verp_token(r->envelope_to, "bounces", tok, sizeof(tok));
    free(r);
    return 0;
}
