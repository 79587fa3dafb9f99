/*
 * buf - a growable byte buffer.
 *
 * buf_init, buf_free, buf_reset, buf_reserve, buf_append, buf_appendc,
 * buf_appends, buf_appendf, buf_appendu, buf_cstr, buf_detach, buf_truncate.
 *
 * The data is always NUL-terminated (the NUL is not counted in len), so a
 * buffer holding text can be passed as a C string. Allocation failure is
 * fatal (see alloc.h); no function here fails. buf_append and buf_appendc,
 * called for every piece of every message, are inline: only growing the
 * buffer is a call.
 */
#ifndef POSTINO_UTIL_BUF_H
#define POSTINO_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

struct buf {
    char *data;
    size_t len;
    size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_reserve(struct buf *b, size_t extra);
void buf_appends(struct buf *b, const char *s);
void buf_appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vappendf(struct buf *b, const char *fmt, va_list ap);
const char *buf_cstr(struct buf *b);
char *buf_detach(struct buf *b, size_t *len);
void buf_truncate(struct buf *b, size_t len);
void buf_appendu(struct buf *b, unsigned long long v);

/* buf_append - append LEN bytes of DATA. */
static inline void buf_append(struct buf *b, const void *data, size_t len)
{
    if (b->len + len + 1 > b->cap)
        buf_reserve(b, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = 0;
}

/* buf_appendc - append one byte. */
static inline void buf_appendc(struct buf *b, char c)
{
    if (b->len + 2 > b->cap)
        buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = 0;
}

#endif
