/*
 * spf - Sender Policy Framework records (RFC 7208): parsing, macro
 * expansion, and check_host() evaluated over the answers of a dns_cache.
 *
 * spf_is_record     does a TXT value start with "v=spf1" (and a space or its end)
 * spf_parse         a record's terms; -1 with WHY ("unknown mechanism 'foo'") on a syntax error
 * spf_record_free   free what spf_parse filled
 * spf_macro_expand  a domain-spec with its %{...} macros expanded; -1 with WHY when malformed
 * spf_check         check_host(IP, DOMAIN, SENDER) over CACHE: 0 with OUT set, or 1 when
 *                   answers are missing (CACHE's need list says which); run again once they are in
 * spf_result_name   "pass", "fail", "softfail", "neutral", "none", "temperror", "permerror"
 *
 * Pure functions: the record text and the DNS answers are untrusted input,
 * and nothing here does I/O. The limits of section 4.6.4 are kept: 10 terms
 * that cause DNS lookups (include, a, mx, ptr, exists, redirect), 2 void
 * lookups, 10 MX or PTR names per mechanism.
 */
#ifndef POSTINO_MAIL_SPF_H
#define POSTINO_MAIL_SPF_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/mail/dns_cache.h"

#define SPF_MAX_LOOKUPS 10
#define SPF_MAX_VOID 2
#define SPF_MAX_NAMES 10

enum spf_result { SPF_NONE, SPF_NEUTRAL, SPF_PASS, SPF_FAIL, SPF_SOFTFAIL, SPF_TEMPERROR, SPF_PERMERROR };
enum spf_mech { SPF_ALL, SPF_INCLUDE, SPF_A, SPF_MX, SPF_PTR, SPF_IP4, SPF_IP6, SPF_EXISTS };

struct spf_term {
    char qual;              /* '+', '-', '~' or '?' */
    enum spf_mech mech;
    char *spec;             /* the domain-spec as written (macros unexpanded); NULL: the current domain */
    int cidr4, cidr6;       /* prefix lengths (32 and 128 when not given) */
    unsigned char addr[16]; /* ip4 / ip6 network */
};

struct spf_record {
    struct spf_term *t;
    size_t n;
    char *redirect;         /* redirect= domain-spec, or NULL */
    char *exp;              /* exp= domain-spec, or NULL */
};

/* what check_host needs besides the domain: the client's address and the identities of the message */
struct spf_input {
    int family;                /* 4 or 6 */
    unsigned char ip[16];
    const char *sender;        /* MAIL FROM: local@domain */
    const char *helo;          /* the EHLO name */
};

struct spf_outcome {
    enum spf_result result;
    int lookups, voids;        /* as counted */
    bool plus_all;             /* the top record ends with +all (anyone passes) */
    char all_qual;             /* the top record's all qualifier; 0: none */
    char why[300];             /* what decided it, one line */
};

bool spf_is_record(const char *txt);
int spf_parse(const char *txt, struct spf_record *r, char *why, size_t whylen);
void spf_record_free(struct spf_record *r);
int spf_macro_expand(const char *spec, const struct spf_input *in, const char *domain, char *out, size_t outlen,
                     char *why, size_t whylen);
int spf_check(struct dns_cache *cache, const struct spf_input *in, const char *domain, struct spf_outcome *out);
const char *spf_result_name(enum spf_result r);

#endif
