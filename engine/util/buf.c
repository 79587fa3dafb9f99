/*
 * buf - growable byte buffer (in the manner of Postfix's VSTRING and Redis's sds).
 *
 * Capacity grows geometrically; data stays NUL-terminated after every call.
 */
#include <stdio.h>
#include <string.h>

#include "engine/util/alloc.h"
#include "engine/util/buf.h"
#include "engine/util/str.h"

/* buf_init - make B an empty buffer that owns nothing yet. */
void buf_init(struct buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

/* buf_free - release B's memory; B is empty and reusable afterwards. */
void buf_free(struct buf *b)
{
    xfree(b->data);
    buf_init(b);
}

/* buf_reset - empty B, keeping its memory for reuse. */
void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = 0;
}

/* buf_reserve - make room for EXTRA more bytes plus the terminating NUL. */
void buf_reserve(struct buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

/* buf_append, buf_appendc: inline, see buf.h. */

/* buf_appends - append a C string. */
void buf_appends(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

/* buf_vappendf - append printf-formatted text. */
void buf_vappendf(struct buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    buf_reserve(b, 64);
    int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    if (n >= 0 && (size_t)n >= b->cap - b->len) {
        buf_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
    }
    va_end(ap2);
    if (n > 0)
        b->len += (size_t)n;
}

/* buf_appendf - append printf-formatted text. */
void buf_appendf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vappendf(b, fmt, ap);
    va_end(ap);
}

/* buf_cstr - B's contents as a C string ("" when nothing was ever appended). */
const char *buf_cstr(struct buf *b)
{
    if (!b->data)
        buf_reserve(b, 0), b->data[0] = 0;
    return b->data;
}

/* buf_detach - hand B's data to the caller (who frees it) and leave B empty. */
char *buf_detach(struct buf *b, size_t *len)
{
    buf_cstr(b);
    char *p = b->data;
    if (len)
        *len = b->len;
    buf_init(b);
    return p;
}

/* buf_truncate - shorten B to LEN bytes (no effect when already shorter). */
void buf_truncate(struct buf *b, size_t len)
{
    if (len < b->len) {
        b->len = len;
        b->data[len] = 0;
    }
}

/* buf_appendu - append V in decimal (as "%llu", without printf). */
void buf_appendu(struct buf *b, unsigned long long v)
{
    char d[STR_U64_MAX];
    buf_append(b, d, str_u64(d, v, 10));
}
