/*
 * dnscheck - what a sending domain's DNS says, judged: SPF evaluated for the
 * sending address, each DKIM key's record against the key postino signs with,
 * DMARC's policy and alignment, MX of the bounce domain, the sending address's
 * reverse name and its forward confirmation. Each finding is ok, warning or
 * error, with the fix in one line (the record to publish).
 *
 * dnscheck_eval  the findings over CACHE's answers: 0 with *FINDINGS (a JSON array the
 *                caller frees), or 1 when answers are missing (CACHE's need list says
 *                which; run again once they are in)
 *
 * A finding: {"check": "spf"|"dkim"|"dmarc"|"alignment"|"mx"|"ptr", "name": the DNS name
 * (or identifier) it is about, "level": "ok"|"warning"|"error", "message": one line,
 * "fix": one line or null}. Pure: no I/O; the answers are untrusted.
 */
#ifndef POSTINO_MAIL_DNSCHECK_H
#define POSTINO_MAIL_DNSCHECK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine/mail/dns_cache.h"
#include "engine/mail/dns_records.h"

struct dnscheck_key {
    const char *selector, *algorithm, *public_key;   /* algorithm: "rsa" or "ed25519" */
};

struct dnscheck_in {
    const char *domain;          /* the From domain, normalized */
    const char *bounce_domain;   /* the envelope sender's domain (SPF's); NULL: DOMAIN */
    const char *bounce_local;    /* the envelope sender's local part */
    const char *helo;            /* the EHLO name; NULL: DOMAIN */
    bool has_ip;
    int family;                  /* 4 or 6 */
    unsigned char ip[16];
    const struct dnscheck_key *keys;   /* the domain's DKIM keys */
    size_t nkeys;
    const char *selector;        /* only this key; NULL: every key */
    dmarc_suffix_fn is_suffix;   /* public suffixes, for relaxed alignment; NULL: the last two labels */
    void *suffix_arg;
};

int dnscheck_eval(const struct dnscheck_in *in, struct dns_cache *cache, json_t **findings);

#endif
