/*
 * fuzz_mta_log - libFuzzer target for the Postfix log-line parser: the input is
 * a log file's bytes; each line is parsed as the follower reads it, and what
 * comes out must be NUL-terminated, bounded text with a status that fits.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/mail/mta_log.h"
#include "engine/util/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, size_t size)
{
    size_t n = strnlen(s, size);
    if (n >= size || !str_utf8_valid(s, n, NULL))
        __builtin_trap();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20)
            __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p + 1) : (size_t)(end - p);
        struct mta_event ev;
        int rc = mta_log_parse(p, len, 1796396400, &ev);
        if (rc != 0 && rc != 1)
            __builtin_trap();
        if (rc == 1) {
            if (ev.status == MTA_NONE || ev.status > MTA_EXPIRED || !ev.queue_id[0])
                __builtin_trap();
            if (!ev.to[0] && ev.status != MTA_EXPIRED)
                __builtin_trap();
            check_text(ev.to, sizeof(ev.to));
            check_text(ev.orig_to, sizeof(ev.orig_to));
            check_text(ev.from, sizeof(ev.from));
            check_text(ev.relay_host, sizeof(ev.relay_host));
            check_text(ev.relay_addr, sizeof(ev.relay_addr));
            check_text(ev.reason, sizeof(ev.reason));
            check_text(ev.dsn, sizeof(ev.dsn));
            if (ev.usec < 0 || ev.usec > 999999 || ev.relay_port < 0 || ev.relay_port > 65535)
                __builtin_trap();
        } else if (ev.queue_id[0])
            __builtin_trap();
        p += len;
    }
    return 0;
}
