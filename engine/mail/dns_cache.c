/*
 * dns_cache - answers gathered and questions pending (see dns_cache.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "engine/mail/dns_cache.h"
#include "engine/util/alloc.h"

/* dns_cache_init - an empty cache. */
void dns_cache_init(struct dns_cache *c)
{
    memset(c, 0, sizeof(*c));
}

/* dns_name_norm - NAME lower-cased without its final dot into OUT; -1 when empty, too long, or a label is bad. */
int dns_name_norm(const char *in, char out[DNS_NAME_MAX + 1])
{
    size_t len = strlen(in), label = 0;
    if (len && in[len - 1] == '.')
        len--;
    if (len == 0 || len > DNS_NAME_MAX)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch == '.') {
            if (label == 0)
                return -1;
            label = 0;
        } else if (ch <= ' ' || ch >= 0x7f || ++label > 63) {
            return -1;
        }
        out[i] = (char)tolower(ch);
    }
    out[len] = '\0';
    return label ? 0 : -1;
}

static struct dns_answer *find(struct dns_cache *c, const char *name, int type)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->a[i].type == type && strcmp(c->a[i].name, name) == 0)
            return &c->a[i];
    return NULL;
}

/* dns_cache_get - NAME's TYPE answer; NULL when not known yet, the question then noted in c->need. */
const struct dns_answer *dns_cache_get(struct dns_cache *c, const char *name, int type)
{
    char key[DNS_NAME_MAX + 1];
    static const struct dns_answer bad = { .status = DNS_NXDOMAIN };
    if (dns_name_norm(name, key) < 0)
        return &bad;   /* a name no server could hold */
    struct dns_answer *a = find(c, key, type);
    if (a)
        return a;
    for (size_t i = 0; i < c->nneed; i++)
        if (c->need[i].type == type && strcmp(c->need[i].name, key) == 0)
            return NULL;
    if (c->nneed == c->needcap) {
        c->needcap = c->needcap ? 2 * c->needcap : 16;
        c->need = xrealloc(c->need, c->needcap * sizeof(*c->need));
    }
    memcpy(c->need[c->nneed].name, key, sizeof(key));
    c->need[c->nneed++].type = type;
    return NULL;
}

/* dns_cache_put - record NAME's TYPE answer (RR copied) and drop the question from c->need. */
void dns_cache_put(struct dns_cache *c, const char *name, int type, enum dns_status status, const struct dns_rr *rr,
                   size_t n)
{
    char key[DNS_NAME_MAX + 1];
    if (dns_name_norm(name, key) < 0 || find(c, key, type))
        return;
    for (size_t i = 0; i < c->nneed; i++)
        if (c->need[i].type == type && strcmp(c->need[i].name, key) == 0) {
            c->need[i] = c->need[--c->nneed];
            break;
        }
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 32;
        c->a = xrealloc(c->a, c->cap * sizeof(*c->a));
    }
    struct dns_answer *a = &c->a[c->n++];
    memset(a, 0, sizeof(*a));
    memcpy(a->name, key, sizeof(key));
    a->type = type;
    a->status = status == DNS_OK && n == 0 ? DNS_NODATA : status;
    if (a->status == DNS_OK) {
        a->rr = xcalloc(n, sizeof(*a->rr));
        for (size_t i = 0; i < n; i++) {
            a->rr[i] = rr[i];
            a->rr[i].text = xstrdup(rr[i].text ? rr[i].text : "");
        }
        a->n = n;
    }
}

/* dns_cache_free - free C's answers and questions. */
void dns_cache_free(struct dns_cache *c)
{
    for (size_t i = 0; i < c->n; i++) {
        for (size_t j = 0; j < c->a[i].n; j++)
            xfree(c->a[i].rr[j].text);
        xfree(c->a[i].rr);
    }
    xfree(c->a);
    xfree(c->need);
    memset(c, 0, sizeof(*c));
}

/* dns_reverse_name - the PTR name of ADDR: d.c.b.a.in-addr.arpa or 32 nibbles.ip6.arpa. */
void dns_reverse_name(int family, const unsigned char *addr, char out[80])
{
    if (family == 4) {
        snprintf(out, 80, "%u.%u.%u.%u.in-addr.arpa", addr[3], addr[2], addr[1], addr[0]);
        return;
    }
    static const char hex[] = "0123456789abcdef";
    char *p = out;
    for (int i = 15; i >= 0; i--) {
        *p++ = hex[addr[i] & 15];
        *p++ = '.';
        *p++ = hex[addr[i] >> 4];
        *p++ = '.';
    }
    strcpy(p, "ip6.arpa");
}

/* dns_type_name - the mnemonic of TYPE. */
const char *dns_type_name(int type)
{
    switch (type) {
    case DNS_T_A: return "A";
    case DNS_T_AAAA: return "AAAA";
    case DNS_T_MX: return "MX";
    case DNS_T_TXT: return "TXT";
    case DNS_T_PTR: return "PTR";
    default: return "?";
    }
}

/* dns_status_text - a few words for S. */
const char *dns_status_text(enum dns_status s)
{
    switch (s) {
    case DNS_OK: return "answered";
    case DNS_NXDOMAIN: return "no such name";
    case DNS_NODATA: return "no record";
    case DNS_SERVFAIL: return "server failure";
    default: return "timed out";
    }
}
