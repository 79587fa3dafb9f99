/*
 * dns_report - postino dns check, GET /api/v1/dns/check and the admin's DNS
 * check all run this: the domain's DKIM keys from the store, the envelope
 * domain and EHLO name from the settings, the check (engine/mail/dnscheck.h)
 * driven over the network (engine/net/dns_run.h).
 *
 * dns_table, dns_settings  [dns] servers, ip, timeout_ms, try_ms, public_suffix_list
 * dns_settings_check       is [dns] servers usable; -1 with ERR naming it
 * dns_report_run           the report for DOMAIN sending from IP (NULL: [dns] ip, or none), only
 *                          the key SELECTOR (NULL: all); 0 with *REPORT (the caller frees), or a
 *                          store code with E (STORE_ERR_INVALID with E->field for bad input)
 *
 * The report: {"domain", "ip" (null when none), "bounce_domain", "selector", "findings":
 * [...], "errors", "warnings", "ok": counts}.
 */
#ifndef POSTINO_SEND_DNS_REPORT_H
#define POSTINO_SEND_DNS_REPORT_H

#include <jansson.h>
#include <libpq-fe.h>

#include "engine/store/store.h"
#include "engine/util/settings.h"

struct dns_settings {
    const char *servers;              /* NULL: the system's resolv.conf */
    const char *ip;                   /* the address mail leaves from, when a check names none */
    unsigned timeout_ms, try_ms;
    const char *public_suffix_list;
};

extern const struct setting dns_table[];
extern struct dns_settings dns_settings;

int dns_settings_check(char *err, size_t errlen);
int dns_report_run(PGconn *conn, const char *domain, const char *ip, const char *selector, json_t **report,
                   struct store_err *e);

#endif
