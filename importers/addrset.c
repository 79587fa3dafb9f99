/*
 * addrset - an open-addressing set of 64-bit hashes of addresses folded as lower() may fold them.
 *
 * PostgreSQL's lower() (which the unique index on subscribers uses) folds
 * by the database's locale. Besides A-Z, the only characters whose lower or
 * upper case is ASCII are U+0130 (İ -> i), U+0131 (ı <- I in Turkish),
 * U+017F (ſ, upper S) and U+212A (Kelvin sign -> k); the key folds those to
 * their ASCII letter and keeps every other byte. So when a plain ASCII
 * address equals another under lower() in any locale, the two share a key,
 * and an ASCII address whose key is new equals none of those added before.
 */
#include <stdbool.h>
#include <string.h>

#include "engine/util/alloc.h"
#include "importers/addrset.h"

#define ADDRSET_KEY_MAX 1024

#define ADDRSET_HIGH 0x8080808080808080ULL

static uint64_t addrset_mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 29);
}

/*
 * The hash of the LEN bytes of KEY, eight at a time. With LOWER, KEY is
 * plain ASCII and A-Z are lowered on the way (in each word at once: a byte
 * is upper case when adding 0x3f sets its top bit and adding 0x25 does not).
 */
static uint64_t addrset_words(const char *key, size_t len, bool lower)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ len;
    while (len) {
        uint64_t w = 0;
        size_t n = len < 8 ? len : 8;
        memcpy(&w, key, n);
        if (lower)
            w |= ((w + 0x3f3f3f3f3f3f3f3fULL) & ~(w + 0x2525252525252525ULL) & ADDRSET_HIGH) >> 2;
        h = addrset_mix(h, w);
        key += n;
        len -= n;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h ? h : 1;
}

/* Fold the LEN bytes of EMAIL (not plain ASCII) into KEY (LEN bytes at least); returns the key's length. */
static size_t addrset_fold(const char *email, size_t len, char *key)
{
    const unsigned char *p = (const unsigned char *)email, *end = p + len;
    size_t k = 0;
    while (p < end) {
        unsigned char c = *p++;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        else if (c == 0xc4 && p < end && (p[0] == 0xb0 || p[0] == 0xb1))
            c = 'i', p++;
        else if (c == 0xc5 && p < end && p[0] == 0xbf)
            c = 's', p++;
        else if (c == 0xe2 && end - p >= 2 && p[0] == 0x84 && p[1] == 0xaa)
            c = 'k', p += 2;
        key[k++] = (char)c;
    }
    return k;
}

/* import_addrset_init - an empty set S that will take up to MAX keys (then it answers "maybe seen"). */
void import_addrset_init(struct import_addrset *s, size_t max)
{
    memset(s, 0, sizeof(*s));
    s->max = max;
}

/* Insert H (known absent) without growing. */
static void addrset_put(struct import_addrset *s, uint64_t h)
{
    size_t i = (size_t)h & (s->cap - 1);
    while (s->slot[i])
        i = (i + 1) & (s->cap - 1);
    s->slot[i] = h;
    s->n++;
}

static void addrset_grow(struct import_addrset *s)
{
    uint64_t *old = s->slot;
    size_t oldcap = s->cap;
    s->cap = s->cap ? s->cap * 2 : 65536;
    s->slot = xcalloc(s->cap, sizeof(*s->slot));
    s->n = 0;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i])
            addrset_put(s, old[i]);
    xfree(old);
}

/*
 * import_addrset_add - add EMAIL (NUL-terminated) to S. Returns 1 when EMAIL
 * surely differs, in any letter case lower() folds, from every address added
 * before; 0 when it may equal one of them, or is not plain ASCII, or S is full.
 */
int import_addrset_add(struct import_addrset *s, const char *email)
{
    size_t len = strlen(email);
    bool ascii = true;
    uint64_t h;
    if (s->n >= s->max)
        return 0;
    for (size_t i = 0; i < len && ascii; i += 8) {
        uint64_t w = 0;
        memcpy(&w, email + i, len - i < 8 ? len - i : 8);
        ascii = !(w & ADDRSET_HIGH);
    }
    if (ascii) {
        h = addrset_words(email, len, true);
    } else {
        char key[ADDRSET_KEY_MAX];
        if (len > sizeof(key)) {
            s->max = s->n;   /* cannot be told apart: from now on everything may have been seen */
            return 0;
        }
        h = addrset_words(key, addrset_fold(email, len, key), false);
    }
    if ((s->n + 1) * 4 > s->cap * 3)
        addrset_grow(s);
    size_t i = (size_t)h & (s->cap - 1);
    while (s->slot[i]) {
        if (s->slot[i] == h)
            return 0;
        i = (i + 1) & (s->cap - 1);
    }
    s->slot[i] = h;
    s->n++;
    return ascii ? 1 : 0;
}

/* import_addrset_free - release S's memory; S is empty afterwards. */
void import_addrset_free(struct import_addrset *s)
{
    xfree(s->slot);
    import_addrset_init(s, s->max);
}
