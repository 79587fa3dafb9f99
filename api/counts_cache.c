/*
 * counts_cache - one JSON value, when it was read, and whether a reading is
 * under way (see counts_cache.h).
 */
#include <pthread.h>
#include <stdbool.h>

#include "api/counts_cache.h"
#include "engine/util/alloc.h"

struct counts_cache {
    unsigned ttl_ms;
    pthread_mutex_t lock;
    pthread_cond_t read;     /* a reading ended */
    bool have;               /* a reading ended once */
    bool reading;            /* a caller is reading now */
    json_t *counts;          /* the last reading's; NULL when it failed */
    uint64_t at_ms;
};

/* counts_cache_new - a cache keeping the totals TTL_MS (0: never); the caller's to free. */
struct counts_cache *counts_cache_new(unsigned ttl_ms)
{
    struct counts_cache *c = xcalloc(1, sizeof(*c));
    c->ttl_ms = ttl_ms;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->read, NULL);
    return c;
}

/*
 * counts_cache_get - 1 with *COUNTS (a reference, or NULL when the last
 * reading failed) and *AGE_MS when the kept totals do: they are younger
 * than the TTL, or another caller is reading new ones. 0 when this caller
 * must read them and call counts_cache_put. Before the first reading ends,
 * callers other than the reader wait for it.
 */
int counts_cache_get(struct counts_cache *c, uint64_t now_ms, json_t **counts, uint64_t *age_ms)
{
    if (!c->ttl_ms)
        return 0;
    pthread_mutex_lock(&c->lock);
    while (!c->have && c->reading)
        pthread_cond_wait(&c->read, &c->lock);
    uint64_t age = now_ms > c->at_ms ? now_ms - c->at_ms : 0;
    int kept = c->have && (c->reading || age < c->ttl_ms);
    if (kept) {
        *counts = json_incref(c->counts);
        *age_ms = age;
    } else {
        c->reading = true;
    }
    pthread_mutex_unlock(&c->lock);
    return kept;
}

/* counts_cache_put - keep COUNTS (the reference is taken; NULL: the reading failed), read at NOW_MS. */
void counts_cache_put(struct counts_cache *c, json_t *counts, uint64_t now_ms)
{
    if (!c->ttl_ms) {
        json_decref(counts);
        return;
    }
    pthread_mutex_lock(&c->lock);
    json_decref(c->counts);
    c->counts = counts;
    c->at_ms = now_ms;
    c->have = true;
    c->reading = false;
    pthread_cond_broadcast(&c->read);
    pthread_mutex_unlock(&c->lock);
}

/* counts_cache_free - release C (NULL is fine). */
void counts_cache_free(struct counts_cache *c)
{
    if (!c)
        return;
    json_decref(c->counts);
    pthread_cond_destroy(&c->read);
    pthread_mutex_destroy(&c->lock);
    xfree(c);
}
