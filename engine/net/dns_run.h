/*
 * dns_run - a DNS check (engine/mail/dnscheck.h) driven to its end on a
 * loop of its own: each round asks, in parallel through the resolver, every
 * question the check still needs, until it needs none or the overall deadline
 * passes (what is unanswered then counts as timed out).
 *
 * dns_run_check  the findings of IN: 0 with *FINDINGS (freed by the caller),
 *                or -1 with ERR when the resolver cannot start
 */
#ifndef POSTINO_NET_DNS_RUN_H
#define POSTINO_NET_DNS_RUN_H

#include <jansson.h>
#include <stddef.h>

#include "engine/mail/dnscheck.h"

struct dns_run_opts {
    const char *servers;      /* "127.0.0.1:5353"; NULL: the system's */
    unsigned timeout_ms;      /* the whole check, at most */
    unsigned try_ms;          /* one try of one question */
};

int dns_run_check(const struct dnscheck_in *in, const struct dns_run_opts *o, json_t **findings, char *err,
                  size_t errlen);

#endif
