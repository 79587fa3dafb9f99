/*
 * dns_cache - the DNS answers one check has gathered, and the questions it
 * still needs answered. Pure data: no I/O. The checks (spf.c, dnscheck.c)
 * read answers from it; whoever drives them (engine/net/dns_run.c) asks the
 * network for what is missing and puts the answers in.
 *
 * dns_cache_init     an empty cache
 * dns_cache_get      the answer for NAME and TYPE; NULL when not known yet (the
 *                    question is then noted as needed)
 * dns_cache_put      record an answer (copied); a second answer for the same question is ignored
 * dns_cache_free     free everything
 * dns_name_norm      a name as the cache keys it: lower case, no final dot; -1 when not a DNS name
 * dns_reverse_name   the in-addr.arpa / ip6.arpa name of an address
 * dns_type_name      "A", "MX", ... for a type
 *
 * Names are keyed case-insensitively without the final dot.
 */
#ifndef POSTINO_MAIL_DNS_CACHE_H
#define POSTINO_MAIL_DNS_CACHE_H

#include <stdbool.h>
#include <stddef.h>

enum dns_type { DNS_T_A = 1, DNS_T_PTR = 12, DNS_T_MX = 15, DNS_T_TXT = 16, DNS_T_AAAA = 28 };

enum dns_status {
    DNS_OK,         /* one or more records */
    DNS_NXDOMAIN,   /* no such name */
    DNS_NODATA,     /* the name exists, no record of this type */
    DNS_SERVFAIL,   /* the server failed or refused */
    DNS_TIMEOUT,    /* no answer in time */
};

#define DNS_NAME_MAX 253

/* One record: TXT its strings joined; MX its exchange and preference; PTR its name; A/AAAA its address. */
struct dns_rr {
    char *text;               /* TXT value, MX exchange, PTR name, or the address as text */
    unsigned pref;            /* MX preference */
    int family;               /* A: 4, AAAA: 6, else 0 */
    unsigned char addr[16];
};

struct dns_answer {
    char name[DNS_NAME_MAX + 1];
    int type;
    enum dns_status status;
    struct dns_rr *rr;
    size_t n;
};

struct dns_question {
    char name[DNS_NAME_MAX + 1];
    int type;
};

struct dns_cache {
    struct dns_answer *a;
    size_t n, cap;
    struct dns_question *need;   /* asked for by dns_cache_get and not answered */
    size_t nneed, needcap;
};

void dns_cache_init(struct dns_cache *c);
const struct dns_answer *dns_cache_get(struct dns_cache *c, const char *name, int type);
void dns_cache_put(struct dns_cache *c, const char *name, int type, enum dns_status status, const struct dns_rr *rr,
                   size_t n);
void dns_cache_free(struct dns_cache *c);
int dns_name_norm(const char *in, char out[DNS_NAME_MAX + 1]);
void dns_reverse_name(int family, const unsigned char *addr, char out[80]);
const char *dns_type_name(int type);
const char *dns_status_text(enum dns_status s);

#endif
