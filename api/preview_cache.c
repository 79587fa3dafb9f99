/*
 * preview_cache - a fixed table of slots, each one document with its user,
 * its id and when it was made; a lock over all of it. Nothing here asks the
 * database: the handlers put what campaign_preview rendered, and the preview
 * page gets it back.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "api/preview_cache.h"
#include "engine/util/alloc.h"

struct preview_slot {
    char id[PREVIEW_ID_LEN + 1];   /* "" when the slot is free */
    long long user;
    uint64_t made_ms;
    uint64_t seq;                  /* the order of making: the oldest has the least */
    char *html;                    /* malloc'd */
    size_t len;
};

struct preview_cache {
    unsigned ttl_ms;
    size_t max_bytes;
    size_t bytes;                  /* of the documents kept */
    uint64_t seq;                  /* the last document's */
    pthread_mutex_t lock;
    struct preview_slot slots[PREVIEW_CACHE_SLOTS];
};

/* empty slot S */
static void slot_drop(struct preview_cache *c, struct preview_slot *s)
{
    c->bytes -= s->len;
    xfree(s->html);
    memset(s, 0, sizeof(*s));
}

/* empty every slot expired at NOW */
static void drop_expired(struct preview_cache *c, uint64_t now)
{
    for (size_t i = 0; i < PREVIEW_CACHE_SLOTS; i++)
        if (c->slots[i].id[0] && now - c->slots[i].made_ms >= c->ttl_ms)
            slot_drop(c, &c->slots[i]);
}

/* the oldest slot in use (of USER's when ONLY_USER), or NULL; *N counts them */
static struct preview_slot *oldest(struct preview_cache *c, bool only_user, long long user, size_t *n)
{
    struct preview_slot *o = NULL;
    *n = 0;
    for (size_t i = 0; i < PREVIEW_CACHE_SLOTS; i++) {
        struct preview_slot *s = &c->slots[i];
        if (!s->id[0] || (only_user && s->user != user))
            continue;
        (*n)++;
        if (!o || s->seq < o->seq)
            o = s;
    }
    return o;
}

/* a free slot for a document of LEN bytes of USER, others dropped to make room */
static struct preview_slot *make_room(struct preview_cache *c, long long user, size_t len)
{
    size_t n;
    struct preview_slot *o = oldest(c, true, user, &n);
    if (n >= PREVIEW_CACHE_PER_USER)
        slot_drop(c, o);
    while (c->bytes + len > c->max_bytes && (o = oldest(c, false, 0, &n)) != NULL)
        slot_drop(c, o);
    for (size_t i = 0; i < PREVIEW_CACHE_SLOTS; i++)
        if (!c->slots[i].id[0])
            return &c->slots[i];
    o = oldest(c, false, 0, &n);
    slot_drop(c, o);
    return o;
}

/* preview_cache_new - a cache keeping a document TTL_MS, MAX_BYTES of them at most; the caller's to free. */
struct preview_cache *preview_cache_new(unsigned ttl_ms, size_t max_bytes)
{
    struct preview_cache *c = xcalloc(1, sizeof(*c));
    c->ttl_ms = ttl_ms;
    c->max_bytes = max_bytes;
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

/*
 * preview_cache_put - keep a copy of the LEN bytes of HTML for USER from NOW
 * on, under a new random id written to ID. Returns 0, -EFBIG when LEN alone is over the
 * cache's bytes, or -EIO when no random id could be made.
 */
int preview_cache_put(struct preview_cache *c, uint64_t now, long long user, const char *html, size_t len,
                      char id[PREVIEW_ID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[PREVIEW_ID_LEN / 2];
    if (len > c->max_bytes)
        return -EFBIG;
    if (RAND_bytes(raw, (int)sizeof(raw)) != 1)
        return -EIO;
    for (size_t i = 0; i < sizeof(raw); i++) {
        id[2 * i] = hex[raw[i] >> 4];
        id[2 * i + 1] = hex[raw[i] & 15];
    }
    id[PREVIEW_ID_LEN] = 0;
    char *copy = xmalloc(len + 1);
    memcpy(copy, html, len);
    copy[len] = 0;
    pthread_mutex_lock(&c->lock);
    drop_expired(c, now);
    struct preview_slot *s = make_room(c, user, len);
    memcpy(s->id, id, sizeof(s->id));
    s->user = user;
    s->made_ms = now;
    s->seq = ++c->seq;
    s->html = copy;
    s->len = len;
    c->bytes += len;
    pthread_mutex_unlock(&c->lock);
    return 0;
}

/*
 * preview_cache_get - append the document ID of USER, at NOW, to OUT. Returns 0, or
 * -ENOENT when there is none: never was, expired, dropped, or another user's.
 */
int preview_cache_get(struct preview_cache *c, uint64_t now, long long user, const char *id, struct buf *out)
{
    int rc = -ENOENT;
    if (strlen(id) != PREVIEW_ID_LEN)
        return rc;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < PREVIEW_CACHE_SLOTS; i++) {
        struct preview_slot *s = &c->slots[i];
        if (!s->id[0] || CRYPTO_memcmp(s->id, id, PREVIEW_ID_LEN) != 0)
            continue;
        if (now - s->made_ms >= c->ttl_ms)
            slot_drop(c, s);
        else if (s->user == user) {
            buf_append(out, s->html, s->len);
            rc = 0;
        }
        break;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

/* preview_cache_free - release C and every document in it (NULL is fine). */
void preview_cache_free(struct preview_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < PREVIEW_CACHE_SLOTS; i++)
        if (c->slots[i].id[0])
            slot_drop(c, &c->slots[i]);
    pthread_mutex_destroy(&c->lock);
    xfree(c);
}
