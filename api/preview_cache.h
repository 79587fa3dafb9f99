/*
 * preview_cache - rendered previews kept a few minutes for the web admin:
 * each a document under a random id, readable only by the user who made it.
 *
 * preview_cache_new    a cache keeping a document TTL_MS, MAX_BYTES of them at most
 * preview_cache_put    keep a copy of HTML for USER at NOW; its id in ID; 0 or -errno
 * preview_cache_get    the document ID of USER at NOW, copied into OUT; 0 or -ENOENT
 * preview_cache_free   release it (NULL is fine)
 *
 * A fixed number of slots: a new document takes an expired one's, else the
 * oldest of its user's when the user holds PREVIEW_CACHE_PER_USER, else the
 * oldest of all; documents go, oldest first, until the new one fits under
 * MAX_BYTES. An id is 128 random bits in hex: it cannot be guessed, and it is
 * not enough alone (another user's id is as good as none). Safe to call from
 * any number of threads. NOW is in milliseconds of a clock that never goes
 * back (CLOCK_MONOTONIC: api_now_ms).
 */
#ifndef POSTINO_API_PREVIEW_CACHE_H
#define POSTINO_API_PREVIEW_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/util/buf.h"

#define PREVIEW_ID_LEN 32           /* hex characters of an id */
#define PREVIEW_CACHE_SLOTS 256     /* documents kept at most */
#define PREVIEW_CACHE_PER_USER 8    /* of them, one user's at most */

struct preview_cache;

struct preview_cache *preview_cache_new(unsigned ttl_ms, size_t max_bytes);
int preview_cache_put(struct preview_cache *c, uint64_t now, long long user, const char *html, size_t len,
                      char id[PREVIEW_ID_LEN + 1]);
int preview_cache_get(struct preview_cache *c, uint64_t now, long long user, const char *id, struct buf *out);
void preview_cache_free(struct preview_cache *c);

#endif
