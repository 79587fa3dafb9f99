/*
 * fuzz_smtp_reply - libFuzzer target for the SMTP reply parser: the input is
 * what a server might send; every reply in it is parsed in turn (as the
 * client does), then EHLO extensions and the queue id are taken from each.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/mail/smtp_reply.h"
#include "engine/util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct smtp_reply r;
    struct smtp_ext ext;
    char qid[64];
    size_t off = 0;
    smtp_reply_init(&r);
    while (off < size) {
        size_t used = 0;
        int rc = smtp_reply_parse((const char *)data + off, size - off, &r, &used);
        if (rc <= 0)
            break;
        if (used == 0 || used > size - off)
            __builtin_trap();
        if (r.code < 200 || r.code > 599 || r.lines == 0 || strlen(r.enhanced) >= sizeof(r.enhanced))
            __builtin_trap();
        off += used;
        smtp_ehlo_parse(&r, &ext);
        size_t n = smtp_reply_queue_id(r.text.data ? r.text.data : "", qid, sizeof(qid));
        if (n != strlen(qid))
            __builtin_trap();
    }
    smtp_reply_free(&r);
    return 0;
}
