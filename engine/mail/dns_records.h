/*
 * dns_records - the tag=value TXT records of DKIM keys (RFC 6376 3.6.1) and
 * DMARC policies (RFC 7489 6.3), parsed from untrusted DNS answers.
 *
 * dkim_record_parse  a selector's TXT value; -1 with WHY when it is not a usable key record
 * dkim_record_free   free what dkim_record_parse filled
 * dmarc_is_record    does a TXT value start with "v=DMARC1"
 * dmarc_parse        a _dmarc TXT value; -1 with WHY when it is not a valid policy
 * dmarc_org_domain   the organizational domain of a name (public suffix + one label), given
 *                    a test telling public suffixes; without one, the last two labels
 * dmarc_aligned      do two domains align, strictly (equal) or relaxed (same organizational domain)
 *
 * Pure functions; nothing here does I/O.
 */
#ifndef POSTINO_MAIL_DNS_RECORDS_H
#define POSTINO_MAIL_DNS_RECORDS_H

#include <stdbool.h>
#include <stddef.h>

struct dkim_record {
    char key_type[16];   /* k=, "rsa" when absent */
    char *p;             /* p= with its whitespace removed; "" when revoked */
    char hashes[64];     /* h=, "" when absent (all allowed) */
    bool testing;        /* t=y */
    bool has_v;
};

enum dmarc_policy { DMARC_NONE, DMARC_QUARANTINE, DMARC_REJECT };

struct dmarc_record {
    enum dmarc_policy p, sp;
    bool has_sp;
    bool adkim_strict, aspf_strict;
    int pct;
    char rua[256];
};

/* is SUFFIX a public suffix (e.g. "com", "co.uk")? */
typedef bool (*dmarc_suffix_fn)(const char *suffix, void *arg);

int dkim_record_parse(const char *txt, struct dkim_record *r, char *why, size_t whylen);
void dkim_record_free(struct dkim_record *r);
bool dmarc_is_record(const char *txt);
int dmarc_parse(const char *txt, struct dmarc_record *r, char *why, size_t whylen);
const char *dmarc_policy_name(enum dmarc_policy p);
void dmarc_org_domain(const char *domain, dmarc_suffix_fn is_suffix, void *arg, char *out, size_t outlen);
bool dmarc_aligned(const char *a, const char *b, bool strict, dmarc_suffix_fn is_suffix, void *arg);

#endif
