/*
 * counts_cache - the installation's totals (store_counts) kept a few
 * seconds, read by one request at a time: what /metrics shows costs a scan
 * of the ledger, and a scraper or many must not make every request pay it.
 *
 * counts_cache_new   a cache keeping the totals TTL_MS (0: never kept)
 * counts_cache_get   1 with the kept totals (a new reference; NULL when the
 *                    last reading failed) and their age; 0 when this caller
 *                    must read them now and hand them to counts_cache_put
 * counts_cache_put   the totals just read (the reference is taken; NULL: the
 *                    reading failed), read at NOW_MS
 * counts_cache_free  release it (NULL is fine)
 *
 * While one caller reads, the others get the totals kept before, however
 * old; before the first reading they wait for it. A caller told 0 must call
 * counts_cache_put, whatever happens. The clock is the caller's
 * (milliseconds, monotonic). Safe to call from any number of threads.
 */
#ifndef POSTINO_API_COUNTS_CACHE_H
#define POSTINO_API_COUNTS_CACHE_H

#include <jansson.h>
#include <stdint.h>

struct counts_cache;

struct counts_cache *counts_cache_new(unsigned ttl_ms);
int counts_cache_get(struct counts_cache *c, uint64_t now_ms, json_t **counts, uint64_t *age_ms);
void counts_cache_put(struct counts_cache *c, json_t *counts, uint64_t now_ms);
void counts_cache_free(struct counts_cache *c);

#endif
