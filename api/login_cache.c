/*
 * login_cache - a fixed table of slots, one token a slot, chosen by the
 * token's hash; a newer token takes an older one's slot. Nothing here asks
 * the database: the server checks a token it does not find, then puts it.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "api/login_cache.h"
#include "engine/util/alloc.h"

#define LOGIN_CACHE_SLOTS 128

struct login_slot {
    char hash[AUTH_TOKEN_HASH_LEN + 1];
    struct user_auth user;
    uint64_t until_ms;
};

struct login_cache {
    unsigned ttl_ms;
    pthread_mutex_t lock;
    struct login_slot slots[LOGIN_CACHE_SLOTS];
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* the slot of the token HASH (hex SHA-256: its first octets are as good as any) */
static struct login_slot *slot_of(struct login_cache *c, const char *hash)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++)
        v = v * 16 + (unsigned)(hash[i] <= '9' ? hash[i] - '0' : hash[i] - 'a' + 10);
    return &c->slots[v % LOGIN_CACHE_SLOTS];
}

/* login_cache_new - a cache believing a checked token for TTL_MS; the caller's to free. */
struct login_cache *login_cache_new(unsigned ttl_ms)
{
    struct login_cache *c = xcalloc(1, sizeof(*c));
    c->ttl_ms = ttl_ms;
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

/* login_cache_get - true with *USER when the token HASH was put less than TTL_MS ago. */
bool login_cache_get(struct login_cache *c, const char hash[AUTH_TOKEN_HASH_LEN + 1], struct user_auth *user)
{
    if (!c->ttl_ms)
        return false;
    pthread_mutex_lock(&c->lock);
    struct login_slot *a = slot_of(c, hash);
    bool hit = a->until_ms > now_ms() && strcmp(a->hash, hash) == 0;
    if (hit)
        *user = a->user;
    pthread_mutex_unlock(&c->lock);
    return hit;
}

/* login_cache_put - believe the token HASH to be USER's for TTL_MS. */
void login_cache_put(struct login_cache *c, const char hash[AUTH_TOKEN_HASH_LEN + 1], const struct user_auth *user)
{
    if (!c->ttl_ms)
        return;
    pthread_mutex_lock(&c->lock);
    struct login_slot *a = slot_of(c, hash);
    memcpy(a->hash, hash, sizeof(a->hash));
    a->user = *user;
    a->until_ms = now_ms() + c->ttl_ms;
    pthread_mutex_unlock(&c->lock);
}

/* login_cache_clear - forget every token: the next request of each is checked again. */
void login_cache_clear(struct login_cache *c)
{
    pthread_mutex_lock(&c->lock);
    memset(c->slots, 0, sizeof(c->slots));
    pthread_mutex_unlock(&c->lock);
}

/* login_cache_free - release C (NULL is fine). */
void login_cache_free(struct login_cache *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->lock);
    memset(c->slots, 0, sizeof(c->slots));
    xfree(c);
}
