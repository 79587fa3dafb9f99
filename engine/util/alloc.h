/*
 * alloc - memory allocation that never returns NULL.
 *
 * xmalloc, xcalloc, xrealloc, xstrdup, xstrndup, xmemdup, xasprintf: as the
 * C library's, but out of memory is fatal (logged, exit 1), so no caller
 * checks for NULL. xfree accepts NULL.
 */
#ifndef POSTINO_UTIL_ALLOC_H
#define POSTINO_UTIL_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void xfree(void *ptr);

#endif
