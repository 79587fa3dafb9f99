/*
 * alloc - out-of-memory-fatal allocation wrappers.
 *
 * Every allocation in postino goes through these; on failure they write one
 * line to stderr and exit(1): there is no sensible recovery from OOM here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/util/alloc.h"

static void alloc_oom(size_t size)
{
    char msg[96];
    int n = snprintf(msg, sizeof(msg), "postino: fatal: out of memory allocating %zu bytes\n", size);
    if (n > 0 && write(2, msg, (size_t)n) < 0) {
        /* nothing more to do */
    }
    exit(1);
}

/* xmalloc - allocate SIZE bytes; never returns NULL. */
void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        alloc_oom(size);
    return p;
}

/* xcalloc - allocate N zeroed elements of SIZE bytes; never returns NULL. */
void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        alloc_oom(n * size);
    return p;
}

/* xrealloc - resize PTR to SIZE bytes; never returns NULL. */
void *xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p)
        alloc_oom(size);
    return p;
}

/* xstrdup - copy a string; the caller frees it. */
char *xstrdup(const char *s)
{
    return xmemdup(s, strlen(s) + 1);
}

/* xstrndup - copy at most N bytes of S and NUL-terminate; the caller frees it. */
char *xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = 0;
    return p;
}

/* xmemdup - copy N bytes; the caller frees the copy. */
void *xmemdup(const void *src, size_t n)
{
    void *p = xmalloc(n);
    memcpy(p, src, n);
    return p;
}

/* xasprintf - format into a new string; the caller frees it. */
char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *out;
    va_start(ap, fmt);
    int n = vasprintf(&out, fmt, ap);
    va_end(ap);
    if (n < 0)
        alloc_oom(0);
    return out;
}

/* xfree - free PTR; NULL is fine. */
void xfree(void *ptr)
{
    free(ptr);
}
