/*
 * dns_report - one DNS check from input to report (see dns_report.h).
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "engine/mail/address.h"
#include "engine/mail/dkim.h"
#include "engine/mail/dnscheck.h"
#include "engine/net/dns_run.h"
#include "engine/net/resolver.h"
#include "engine/send/dns_report.h"
#include "engine/send/settings_send.h"
#include "engine/store/dkim_keys.h"
#include "engine/util/alloc.h"
#include "engine/util/psl.h"
#include "engine/util/str.h"

const struct setting dns_table[] = {
    SETTING_TEXT_ENTRY("dns", "servers", struct dns_settings, servers, NULL,
                       "the DNS servers dns check asks, address[:port] comma-separated (none: resolv.conf's)"),
    SETTING_TEXT_ENTRY("dns", "ip", struct dns_settings, ip, NULL,
                       "the address mail leaves from, when dns check is given none"),
    SETTING_NUMBER_ENTRY("dns", "timeout_ms", SETTING_UNSIGNED, struct dns_settings, timeout_ms, 10000, 100, 120000,
                         "milliseconds a whole dns check may take"),
    SETTING_NUMBER_ENTRY("dns", "try_ms", SETTING_UNSIGNED, struct dns_settings, try_ms, 2000, 50, 30000,
                         "milliseconds one DNS question waits before it is asked again"),
    SETTING_TEXT_ENTRY("dns", "public_suffix_list", struct dns_settings, public_suffix_list,
                       "/usr/share/publicsuffix/public_suffix_list.dat",
                       "the Public Suffix List, for DMARC's organizational domains"),
    { 0 },
};

struct dns_settings dns_settings;

__attribute__((constructor)) static void dns_settings_defaults(void)
{
    settings_defaults(dns_table, &dns_settings);
}

/* dns_settings_check - can the resolver start with [dns] servers; 0, or -1 with ERR. */
int dns_settings_check(char *err, size_t errlen)
{
    if (!dns_settings.servers || !*dns_settings.servers)
        return 0;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct resolver *r = resolver_new(&loop, dns_settings.servers, dns_settings.try_ms, err, errlen);
    if (r)
        resolver_close(r, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return r ? 0 : -1;
}

static pthread_once_t psl_once = PTHREAD_ONCE_INIT;
static struct psl *psl;

static void psl_read(void)
{
    psl = dns_settings.public_suffix_list ? psl_load(dns_settings.public_suffix_list) : NULL;
}

/* the domain's keys as dnscheck keys pointing into KEYS; *N their number */
static struct dnscheck_key *keys_of(json_t *keys, size_t *n)
{
    size_t i;
    json_t *k;
    *n = json_array_size(keys);
    struct dnscheck_key *out = xcalloc(*n ? *n : 1, sizeof(*out));
    json_array_foreach(keys, i, k) {
        out[i].selector = json_string_value(json_object_get(k, "selector"));
        out[i].algorithm = json_string_value(json_object_get(k, "algorithm"));
        out[i].public_key = json_string_value(json_object_get(k, "public_key"));
    }
    return out;
}

static json_t *report_of(const char *domain, const char *ip, const char *bounce, const char *selector, json_t *f)
{
    size_t i, errors = 0, warnings = 0, ok = 0;
    json_t *x;
    json_array_foreach(f, i, x) {
        const char *l = json_string_value(json_object_get(x, "level"));
        errors += strcmp(l, "error") == 0, warnings += strcmp(l, "warning") == 0, ok += strcmp(l, "ok") == 0;
    }
    return json_pack("{s:s,s:o,s:s,s:o,s:o,s:I,s:I,s:I}", "domain", domain, "ip", ip ? json_string(ip) : json_null(),
                     "bounce_domain", bounce, "selector", selector ? json_string(selector) : json_null(), "findings",
                     f, "errors", (json_int_t)errors, "warnings", (json_int_t)warnings, "ok", (json_int_t)ok);
}

/* dns_report_run - see dns_report.h. */
int dns_report_run(PGconn *conn, const char *domain_in, const char *ip, const char *selector, json_t **report,
                   struct store_err *e)
{
    char domain[ADDRESS_MAX + 1], bounce[ADDRESS_MAX + 1], sel[64], err[300];
    const char *why;
    struct dnscheck_in in = { .bounce_local = mail_settings.bounce_local_part, .helo = send_settings.helo_name };
    *report = NULL;
    if (!domain_in || !*domain_in)
        return store_fail_field(e, "domain", "domain is required");
    if (address_domain_normalize(domain_in, domain, sizeof(domain), &why) < 0)
        return store_fail_field(e, "domain", "domain \"%.80s\" is not a valid domain: %s", domain_in, why);
    if (!ip || !*ip)
        ip = dns_settings.ip && *dns_settings.ip ? dns_settings.ip : NULL;
    if (ip) {
        if (inet_pton(AF_INET, ip, in.ip) == 1)
            in.family = 4;
        else if (inet_pton(AF_INET6, ip, in.ip) == 1)
            in.family = 6;
        else
            return store_fail_field(e, "ip", "ip \"%.60s\" is not an IPv4 or IPv6 address", ip);
        in.has_ip = true;
    }
    if (selector && *selector) {
        snprintf(sel, sizeof(sel), "%s", selector);
        str_lower(sel);
        if (strlen(selector) >= sizeof(sel) || !dkim_selector_ok(sel))
            return store_fail_field(e, "selector", "selector must be one DNS label (letters, digits, hyphens)");
        in.selector = sel;
    }
    snprintf(bounce, sizeof(bounce), "%s", domain);
    if (mail_settings.bounce_domain && *mail_settings.bounce_domain &&
        address_domain_normalize(mail_settings.bounce_domain, bounce, sizeof(bounce), &why) < 0)
        return store_fail(e, STORE_ERR_INVALID, "[bounce] domain is not a valid domain: %s", why);
    json_t *keys = NULL;
    struct store_err ke;
    if (store_dkim_domain(conn, domain, &keys, &ke) < 0) {
        if (ke.code != STORE_ERR_NOTFOUND) {
            *e = ke;
            return ke.code;
        }
        keys = json_array();
    }
    in.domain = domain;
    in.bounce_domain = bounce;
    in.keys = keys_of(keys, &in.nkeys);
    pthread_once(&psl_once, psl_read);
    in.is_suffix = psl ? psl_is_suffix : NULL;
    in.suffix_arg = psl;
    struct dns_run_opts o = { dns_settings.servers, dns_settings.timeout_ms, dns_settings.try_ms };
    json_t *f = NULL;
    int rc = dns_run_check(&in, &o, &f, err, sizeof(err));
    xfree((void *)in.keys);
    if (rc < 0) {
        json_decref(keys);
        return store_fail(e, STORE_ERR_DB, "%s", err);
    }
    *report = report_of(domain, ip, bounce, in.selector, f);
    json_decref(keys);
    return 0;
}
