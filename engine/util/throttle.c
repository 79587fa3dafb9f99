/*
 * throttle - a short table of keys, their failures and their attempts under
 * way (see throttle.h), scanned under one lock: it is consulted once per
 * password check, which costs far more (yescrypt) than a scan of a few
 * thousand keys.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "engine/util/alloc.h"
#include "engine/util/throttle.h"

struct throttle_key {
    char key[THROTTLE_KEY_MAX + 1];
    unsigned failures;
    unsigned pending;        /* attempts begun, not yet settled */
    uint64_t last_ms;        /* the last attempt begun or failed */
    uint64_t until_ms;       /* refused before this */
};

struct throttle {
    struct throttle_limits lim;
    pthread_mutex_t lock;
    struct throttle_key *keys;
    size_t nkeys;
};

/* throttle_new - an empty table with LIMITS (failures and max_keys at least 1); the caller's to free. */
struct throttle *throttle_new(const struct throttle_limits *limits)
{
    struct throttle *t = xcalloc(1, sizeof(*t));
    t->lim = *limits;
    if (!t->lim.failures)
        t->lim.failures = 1;
    if (!t->lim.max_keys)
        t->lim.max_keys = 1;
    t->keys = xcalloc(t->lim.max_keys, sizeof(*t->keys));
    pthread_mutex_init(&t->lock, NULL);
    return t;
}

/* is K of no more use at NOW: its wait is over and it was last tried forget_ms ago */
static bool stale(const struct throttle *t, const struct throttle_key *k, uint64_t now)
{
    return now >= k->until_ms && now - k->last_ms >= t->lim.forget_ms;
}

static void drop(struct throttle *t, struct throttle_key *k)
{
    *k = t->keys[--t->nkeys];
}

/* the entry of KEY, or NULL */
static struct throttle_key *lookup(struct throttle *t, const char *key)
{
    char cut[THROTTLE_KEY_MAX + 1];
    snprintf(cut, sizeof(cut), "%s", key);
    for (size_t i = 0; i < t->nkeys; i++)
        if (strcmp(t->keys[i].key, cut) == 0)
            return &t->keys[i];
    return NULL;
}

/* the entry of KEY still of use at NOW, or NULL (a stale one is dropped) */
static struct throttle_key *find(struct throttle *t, const char *key, uint64_t now)
{
    struct throttle_key *k = lookup(t, key);
    if (k && stale(t, k, now)) {
        drop(t, k);
        k = NULL;
    }
    return k;
}

/* a new entry for KEY; when the table is full a stale entry, else the one tried longest ago, makes room */
static struct throttle_key *add(struct throttle *t, const char *key, uint64_t now)
{
    if (t->nkeys == t->lim.max_keys) {
        size_t victim = 0;
        for (size_t i = 0; i < t->nkeys; i++) {
            if (stale(t, &t->keys[i], now)) {
                victim = i;
                break;
            }
            if (t->keys[i].last_ms < t->keys[victim].last_ms)
                victim = i;
        }
        drop(t, &t->keys[victim]);
    }
    struct throttle_key *k = &t->keys[t->nkeys++];
    memset(k, 0, sizeof(*k));
    snprintf(k->key, sizeof(k->key), "%s", key);
    return k;
}

/* the wait after the N-th failure beyond the allowed ones (N from 0): delay_ms doubled N times, at most delay_max_ms */
static uint64_t wait_after(const struct throttle *t, unsigned n)
{
    uint64_t d = t->lim.delay_ms;
    for (unsigned i = 0; i < n && d < t->lim.delay_max_ms; i++)
        d *= 2;
    return d < t->lim.delay_max_ms ? d : t->lim.delay_max_ms;
}

/* how long K must wait at NOW before one more attempt: its wait, or a moment when enough are under way */
static uint64_t must_wait(const struct throttle *t, const struct throttle_key *k, uint64_t now)
{
    if (k->until_ms > now)
        return k->until_ms - now;
    unsigned left = k->failures < t->lim.failures ? t->lim.failures - k->failures : 1;
    return k->pending >= left ? THROTTLE_BUSY_MS : 0;
}

/*
 * throttle_begin - may each of the NKEYS KEYS try at NOW_MS? 0 when all may,
 * each then with one attempt more under way (settle it with throttle_fail,
 * throttle_pass or throttle_reset). Otherwise the milliseconds until the
 * last of them may try, and nothing is counted.
 */
uint64_t throttle_begin(struct throttle *t, const char *const *keys, size_t nkeys, uint64_t now_ms)
{
    uint64_t wait = 0;
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < nkeys; i++) {
        struct throttle_key *k = find(t, keys[i], now_ms);
        uint64_t w = k ? must_wait(t, k, now_ms) : 0;
        if (w > wait)
            wait = w;
    }
    for (size_t i = 0; i < nkeys && !wait; i++) {
        struct throttle_key *k = find(t, keys[i], now_ms);
        if (!k)
            k = add(t, keys[i], now_ms);
        k->pending++;
        k->last_ms = now_ms;
    }
    pthread_mutex_unlock(&t->lock);
    return wait;
}

/* settle one attempt of KEY under way: its entry (NULL when dropped meanwhile), called with the lock held */
static struct throttle_key *settle(struct throttle *t, const char *key)
{
    struct throttle_key *k = lookup(t, key);
    if (k && k->pending)
        k->pending--;
    return k;
}

/* throttle_fail - KEY's attempt failed at NOW_MS: one failure more; at the limit a wait, doubled each time past it. */
void throttle_fail(struct throttle *t, const char *key, uint64_t now_ms)
{
    pthread_mutex_lock(&t->lock);
    struct throttle_key *k = settle(t, key);
    if (!k)
        k = add(t, key, now_ms);
    k->failures++;
    k->last_ms = now_ms;
    if (k->failures >= t->lim.failures)
        k->until_ms = now_ms + wait_after(t, k->failures - t->lim.failures);
    pthread_mutex_unlock(&t->lock);
}

/* throttle_pass - KEY's attempt did not fail: its failures and wait stay as they were. */
void throttle_pass(struct throttle *t, const char *key)
{
    pthread_mutex_lock(&t->lock);
    settle(t, key);
    pthread_mutex_unlock(&t->lock);
}

/* throttle_reset - KEY's attempt succeeded: forget its failures and any wait. */
void throttle_reset(struct throttle *t, const char *key)
{
    pthread_mutex_lock(&t->lock);
    struct throttle_key *k = settle(t, key);
    if (k) {
        k->failures = 0;
        k->until_ms = 0;
        if (!k->pending)
            drop(t, k);
    }
    pthread_mutex_unlock(&t->lock);
}

/* throttle_failures - the failures counted for KEY at NOW_MS (0 when unknown or forgotten). */
unsigned throttle_failures(struct throttle *t, const char *key, uint64_t now_ms)
{
    pthread_mutex_lock(&t->lock);
    struct throttle_key *k = find(t, key, now_ms);
    unsigned n = k ? k->failures : 0;
    pthread_mutex_unlock(&t->lock);
    return n;
}

/* throttle_free - release T (NULL is fine). */
void throttle_free(struct throttle *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->lock);
    xfree(t->keys);
    xfree(t);
}
