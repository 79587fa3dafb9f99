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

/* import_addrset_init - an empty set S that will take up to MAX keys (then it answers "maybe seen"). */
void import_addrset_init(struct import_addrset *s, size_t max)
{
    memset(s, 0, sizeof(*s));
    s->max = max;
}

/* The folded key of EMAIL hashed (FNV-1a, then a 64-bit finaliser); *ASCII says whether EMAIL is plain ASCII. */
static uint64_t addrset_hash(const char *email, bool *ascii)
{
    const unsigned char *p = (const unsigned char *)email;
    uint64_t h = 0xcbf29ce484222325ULL;
    *ascii = true;
    while (*p) {
        unsigned char c = *p++;
        if (c >= 0x80) {
            *ascii = false;
            if (c == 0xc4 && (p[0] == 0xb0 || p[0] == 0xb1))
                c = 'i', p++;
            else if (c == 0xc5 && p[0] == 0xbf)
                c = 's', p++;
            else if (c == 0xe2 && p[0] == 0x84 && p[1] == 0xaa)
                c = 'k', p += 2;
        } else if (c >= 'A' && c <= 'Z') {
            c = (unsigned char)(c - 'A' + 'a');
        }
        h = (h ^ c) * 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h ? h : 1;
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
    s->cap = s->cap ? s->cap * 2 : 1024;
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
    bool ascii;
    uint64_t h = addrset_hash(email, &ascii);
    if (s->n >= s->max)
        return 0;
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
