/*
 * dnscheck - a sending domain's DNS judged, finding by finding (see dnscheck.h).
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "engine/mail/dkim.h"
#include "engine/mail/dnscheck.h"
#include "engine/mail/spf.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"

#define NEED 1

static void add(json_t *arr, const char *check, const char *name, const char *level, const char *fix,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void add(json_t *arr, const char *check, const char *name, const char *level, const char *fix,
                const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:o}", "check", check, "name", name, "level", level,
                                         "message", msg, "fix", fix ? json_string(fix) : json_null()));
}

static void ip_text(const struct dnscheck_in *in, char out[64])
{
    if (!in->has_ip)
        snprintf(out, 64, "ADDR");
    else
        inet_ntop(in->family == 4 ? AF_INET : AF_INET6, in->ip, out, 64);
}

/* a TXT zone line: NAME. IN TXT "VALUE" */
static char *txt_line(const char *name, const char *value)
{
    return xasprintf("%s. IN TXT \"%s\"", name, value);
}

/* ---- SPF ---- */

/* the one SPF record at NAME in the cache, or NULL */
static const char *spf_text(struct dns_cache *c, const char *name)
{
    const struct dns_answer *a = dns_cache_get(c, name, DNS_T_TXT);
    const char *t = NULL;
    for (size_t i = 0; a && a->status == DNS_OK && i < a->n; i++)
        if (spf_is_record(a->rr[i].text)) {
            if (t)
                return NULL;
            t = a->rr[i].text;
        }
    return t;
}

/* the SPF record to publish: the present one with the sending address added first, or a new one */
static char *spf_fix(const struct dnscheck_in *in, struct dns_cache *c, const char *e, bool keep)
{
    char ip[64];
    ip_text(in, ip);
    const char *mech = in->has_ip && in->family == 6 ? "ip6" : "ip4";
    const char *cur = keep ? spf_text(c, e) : NULL;
    char *rec = cur ? xasprintf("v=spf1 %s:%s%s", mech, ip, cur + 6) : xasprintf("v=spf1 %s:%s ~all", mech, ip);
    char *line = txt_line(e, rec);
    xfree(rec);
    return line;
}

static int check_spf(const struct dnscheck_in *in, struct dns_cache *c, json_t *arr)
{
    const char *e = in->bounce_domain ? in->bounce_domain : in->domain;
    char sender[DNS_NAME_MAX + 80], ip[64];
    snprintf(sender, sizeof(sender), "%s@%s", in->bounce_local ? in->bounce_local : "bounces", e);
    struct spf_input si = { .family = in->has_ip ? in->family : 4, .sender = sender,
                            .helo = in->helo ? in->helo : in->domain };
    if (in->has_ip)
        memcpy(si.ip, in->ip, 16);
    else
        memcpy(si.ip, (unsigned char[]){ 192, 0, 2, 0 }, 4);   /* TEST-NET-1: never a sender */
    struct spf_outcome o;
    if (spf_check(c, &si, e, &o))
        return NEED;
    ip_text(in, ip);
    char *fix = NULL;
    switch (o.result) {
    case SPF_NONE:
        fix = spf_fix(in, c, e, false);
        add(arr, "spf", e, "error", fix, "%s has no SPF record", e);
        break;
    case SPF_PERMERROR:
        if (strstr(o.why, "lookups")) {
            char *rec = spf_fix(in, c, e, false);
            fix = xasprintf("%s (ip4:/ip6: ranges in place of include:, a and mx terms keep it within %d lookups)",
                            rec, SPF_MAX_LOOKUPS);
            xfree(rec);
        } else {
            fix = spf_fix(in, c, e, false);
        }
        add(arr, "spf", e, "error", fix, "the SPF record of %s is broken (permerror): %s", e, o.why);
        break;
    case SPF_TEMPERROR:
        add(arr, "spf", e, "error", "make the name servers of the domain answer, then check again",
            "the SPF record of %s could not be read (temperror): %s", e, o.why);
        break;
    case SPF_PASS:
        if (o.plus_all) {
            fix = spf_fix(in, c, e, false);
            add(arr, "spf", e, "warning", fix, "the SPF record of %s ends with +all: every address on the Internet may "
                "send as %s", e, e);
            break;
        }
        /* fall through */
    default:
        if (!in->has_ip) {
            add(arr, "spf", e, "warning", "give the sending address: --ip ADDR (or [dns] ip)",
                "the SPF record of %s is valid (%d DNS lookups); no sending address was given to evaluate it for",
                e, o.lookups);
        } else if (o.result == SPF_PASS) {
            add(arr, "spf", e, "ok", NULL, "SPF of %s permits %s (%s; %d DNS lookups)", e, ip, o.why, o.lookups);
        } else {
            fix = spf_fix(in, c, e, true);
            add(arr, "spf", e, "error", fix, "SPF of %s does not permit %s: %s (%s)", e, ip,
                spf_result_name(o.result), o.why);
        }
        break;
    }
    xfree(fix);
    return 0;
}

/* ---- DKIM ---- */

static int check_key(const struct dnscheck_in *in, struct dns_cache *c, const struct dnscheck_key *k, json_t *arr,
                     size_t *verified)
{
    char name[DNS_NAME_MAX + 80], why[200];
    snprintf(name, sizeof(name), "%s._domainkey.%s", k->selector, in->domain);
    const struct dns_answer *a = dns_cache_get(c, name, DNS_T_TXT);
    if (!a)
        return NEED;
    enum dkim_alg alg = DKIM_RSA_SHA256;
    dkim_alg_parse(k->algorithm, &alg);
    struct buf want = BUF_INIT, zone = BUF_INIT;
    dkim_txt_record(&want, alg, k->public_key);
    dkim_zone_line(&zone, k->selector, in->domain, buf_cstr(&want));
    const char *fix = buf_cstr(&zone), *kt = dkim_alg_key_type(alg);
    struct dkim_record r = { 0 };
    if (a->status == DNS_SERVFAIL || a->status == DNS_TIMEOUT) {
        add(arr, "dkim", name, "error", "make the name servers of the domain answer, then check again",
            "the lookup of %s failed: %s", name, dns_status_text(a->status));
    } else if (a->status != DNS_OK) {
        add(arr, "dkim", name, "error", fix, "no DKIM record at %s: receivers cannot verify the %s signature", name,
            kt);
    } else if (a->n > 1) {
        add(arr, "dkim", name, "error", fix, "%zu TXT records at %s (one is expected)", a->n, name);
    } else if (dkim_record_parse(a->rr[0].text, &r, why, sizeof(why)) < 0) {
        add(arr, "dkim", name, "error", fix, "the DKIM record at %s is malformed: %s", name, why);
    } else if (!r.p[0]) {
        add(arr, "dkim", name, "error", fix, "the key at %s is revoked (empty p=): signatures with it fail", name);
    } else if (strcasecmp(r.key_type, kt) != 0) {
        add(arr, "dkim", name, "error", fix, "the record at %s says k=%s, the key postino signs with is %s", name,
            r.key_type, kt);
    } else if (strcmp(r.p, k->public_key) != 0) {
        add(arr, "dkim", name, "error", fix,
            "the record at %s publishes another key than the one postino signs with: signatures fail", name);
    } else if (r.hashes[0] && !strstr(r.hashes, "sha256")) {
        add(arr, "dkim", name, "error", fix, "the record at %s allows h=%s, not sha256", name, r.hashes);
    } else if (r.testing) {
        add(arr, "dkim", name, "warning", fix, "the record at %s has t=y: receivers treat it as a test", name);
        (*verified)++;
    } else {
        add(arr, "dkim", name, "ok", NULL, "%s publishes the %s key postino signs with", name, kt);
        (*verified)++;
    }
    dkim_record_free(&r);
    buf_free(&want);
    buf_free(&zone);
    return 0;
}

/* the DKIM findings; *VERIFIED counts the keys whose published record matches */
static int check_dkim(const struct dnscheck_in *in, struct dns_cache *c, json_t *arr, size_t *verified)
{
    int need = 0;
    size_t checked = 0;
    char fix[DNS_NAME_MAX + 120];
    for (size_t i = 0; i < in->nkeys; i++) {
        if (in->selector && strcmp(in->selector, in->keys[i].selector) != 0)
            continue;
        checked++;
        need |= check_key(in, c, &in->keys[i], arr, verified);
    }
    if (checked == 0 && in->selector) {
        snprintf(fix, sizeof(fix), "postino dkim add %s --selector %s", in->domain, in->selector);
        add(arr, "dkim", in->domain, "error", fix, "postino holds no DKIM key with selector %s for %s", in->selector,
            in->domain);
    } else if (checked == 0) {
        snprintf(fix, sizeof(fix), "postino dkim add %s, then publish the record it prints", in->domain);
        add(arr, "dkim", in->domain, "error", fix, "postino holds no DKIM key for %s: its mail goes out unsigned",
            in->domain);
    }
    return need;
}

/* ---- DMARC and alignment ---- */

static char *dmarc_fix(const char *domain, const char *name, const struct dmarc_record *r, enum dmarc_policy p)
{
    char rua[300];
    if (r && r->rua[0])
        snprintf(rua, sizeof(rua), "; rua=%s", r->rua);
    else
        snprintf(rua, sizeof(rua), "; rua=mailto:dmarc-reports@%s", domain);
    char *v = xasprintf("v=DMARC1; p=%s%s; adkim=%c; aspf=%c", dmarc_policy_name(p), rua,
                        r && r->adkim_strict ? 's' : 'r', r && r->aspf_strict ? 's' : 'r');
    char *line = txt_line(name, v);
    xfree(v);
    return line;
}

/* the DMARC check; *REC set (and *HAVE true) when a valid policy was found, for the alignment modes */
static int check_dmarc(const struct dnscheck_in *in, struct dns_cache *c, json_t *arr, struct dmarc_record *rec,
                       bool *have)
{
    char name[DNS_NAME_MAX + 10], org[DNS_NAME_MAX + 1], oname[DNS_NAME_MAX + 10], why[200];
    snprintf(name, sizeof(name), "_dmarc.%s", in->domain);
    dmarc_org_domain(in->domain, in->is_suffix, in->suffix_arg, org, sizeof(org));
    snprintf(oname, sizeof(oname), "_dmarc.%s", org);
    const struct dns_answer *a = dns_cache_get(c, name, DNS_T_TXT);
    if (!a)
        return NEED;
    const char *at = name;
    bool inherited = false;
    /* no DMARC record at the domain (no name, no TXT, or only other TXT): the organizational domain's */
    bool none = a->status != DNS_SERVFAIL && a->status != DNS_TIMEOUT;
    for (size_t i = 0; a->status == DNS_OK && i < a->n; i++)
        if (dmarc_is_record(a->rr[i].text))
            none = false;
    if (none && strcmp(org, in->domain) != 0) {
        a = dns_cache_get(c, oname, DNS_T_TXT);
        if (!a)
            return NEED;
        at = oname, inherited = true;
    }
    const char *txt = NULL;
    size_t n = 0;
    for (size_t i = 0; a->status == DNS_OK && i < a->n; i++)
        if (dmarc_is_record(a->rr[i].text))
            txt = a->rr[i].text, n++;
    char *fix = dmarc_fix(in->domain, name, NULL, DMARC_NONE);
    *have = false;
    if (a->status == DNS_SERVFAIL || a->status == DNS_TIMEOUT) {
        add(arr, "dmarc", at, "error", "make the name servers of the domain answer, then check again",
            "the lookup of %s failed: %s", at, dns_status_text(a->status));
    } else if (n == 0) {
        add(arr, "dmarc", name, "error", fix,
            "no DMARC record at %s: large mailbox providers refuse bulk mail without one", name);
    } else if (n > 1) {
        add(arr, "dmarc", at, "error", fix, "%zu DMARC records at %s: receivers ignore them all", n, at);
    } else if (dmarc_parse(txt, rec, why, sizeof(why)) < 0) {
        add(arr, "dmarc", at, "error", fix, "the DMARC record at %s is invalid: %s", at, why);
    } else {
        *have = true;
        enum dmarc_policy p = inherited ? rec->sp : rec->p;
        xfree(fix);
        fix = dmarc_fix(in->domain, at, rec, DMARC_QUARANTINE);
        if (p == DMARC_NONE)
            add(arr, "dmarc", at, "warning", fix,
                "the DMARC policy of %s is p=none: mail that fails DMARC is delivered all the same; move to "
                "quarantine once the reports show all mail passing", in->domain);
        else if (rec->pct < 100)
            add(arr, "dmarc", at, "warning", fix, "the DMARC policy of %s (%s) applies to %d%% of failing mail",
                in->domain, dmarc_policy_name(p), rec->pct);
        else
            add(arr, "dmarc", at, "ok", NULL, "DMARC policy of %s: %s%s (adkim=%c, aspf=%c)", in->domain,
                dmarc_policy_name(p), inherited ? ", from its organizational domain" : "",
                rec->adkim_strict ? 's' : 'r', rec->aspf_strict ? 's' : 'r');
    }
    xfree(fix);
    return 0;
}

/* alignment with the From domain: DKIM's d= (postino signs with the From domain's keys; VERIFIED of them
 * have a matching record) and the envelope domain */
static void check_alignment(const struct dnscheck_in *in, json_t *arr, const struct dmarc_record *rec, bool have,
                            size_t verified)
{
    const char *e = in->bounce_domain ? in->bounce_domain : in->domain;
    bool ds = have && rec->adkim_strict, ss = have && rec->aspf_strict;
    bool dkim_ok = in->nkeys > 0 && verified > 0;
    char fix[DNS_NAME_MAX + 120];
    if (dkim_ok) {
        add(arr, "alignment", "dkim", "ok", NULL, "DKIM d=%s aligns with the From domain %s (adkim=%c)", in->domain,
            in->domain, ds ? 's' : 'r');
    } else if (in->nkeys > 0) {
        add(arr, "alignment", "dkim", "error", "publish the DKIM record of the dkim finding above",
            "DKIM d=%s would align with the From domain, but no key of it verifies against the DNS", in->domain);
    } else {
        snprintf(fix, sizeof(fix), "postino dkim add %s, then publish the record it prints", in->domain);
        add(arr, "alignment", "dkim", "error", fix, "no DKIM signature of %s: nothing aligns by DKIM", in->domain);
    }
    if (dmarc_aligned(e, in->domain, ss, in->is_suffix, in->suffix_arg)) {
        add(arr, "alignment", "spf", "ok", NULL, "the envelope domain %s aligns with the From domain %s (aspf=%c)", e,
            in->domain, ss ? 's' : 'r');
    } else {
        snprintf(fix, sizeof(fix), "[bounce] domain = %s%s in postino.conf", ss ? "" : "bounces.", in->domain);
        add(arr, "alignment", "spf", dkim_ok ? "warning" : "error", fix,
            "the envelope domain %s does not align with the From domain %s (aspf=%c)%s", e, in->domain,
            ss ? 's' : 'r', dkim_ok ? ": DMARC rests on DKIM alone" : "");
    }
}

/* ---- MX and PTR ---- */

static int check_mx(const struct dnscheck_in *in, struct dns_cache *c, json_t *arr)
{
    const char *e = in->bounce_domain ? in->bounce_domain : in->domain;
    const struct dns_answer *a = dns_cache_get(c, e, DNS_T_MX);
    if (!a)
        return NEED;
    char *fix = xasprintf("%s. IN MX 10 mail.%s.", e, e);
    if (a->status == DNS_SERVFAIL || a->status == DNS_TIMEOUT) {
        add(arr, "mx", e, "error", "make the name servers of the domain answer, then check again",
            "the MX lookup of %s failed: %s", e, dns_status_text(a->status));
    } else if (a->status == DNS_OK && a->n == 1 && (!a->rr[0].text[0] || strcmp(a->rr[0].text, ".") == 0)) {
        add(arr, "mx", e, "error", fix, "%s publishes a null MX: it receives no mail, so bounces cannot come back", e);
    } else if (a->status == DNS_OK) {
        struct buf hosts = BUF_INIT;
        for (size_t i = 0; i < a->n && i < 5; i++)
            buf_appendf(&hosts, "%s%s (%u)", i ? ", " : "", a->rr[i].text, a->rr[i].pref);
        add(arr, "mx", e, "ok", NULL, "%s receives mail at %s: bounces come back", e, buf_cstr(&hosts));
        buf_free(&hosts);
    } else {
        const struct dns_answer *h = dns_cache_get(c, e, DNS_T_A);
        if (!h) {
            xfree(fix);
            return NEED;
        }
        if (h->status == DNS_OK)
            add(arr, "mx", e, "warning", fix, "%s has no MX: bounces go to the address of its A record", e);
        else
            add(arr, "mx", e, "error", fix, "%s has no MX and no address: bounces cannot come back", e);
    }
    xfree(fix);
    return 0;
}

static int check_ptr(const struct dnscheck_in *in, struct dns_cache *c, json_t *arr)
{
    char rev[80], ip[64], fix[400];
    if (!in->has_ip) {
        add(arr, "ptr", "ADDR", "warning", "give the sending address: --ip ADDR (or [dns] ip)",
            "no sending address was given: its reverse name was not checked");
        return 0;
    }
    ip_text(in, ip);
    dns_reverse_name(in->family, in->ip, rev);
    const struct dns_answer *a = dns_cache_get(c, rev, DNS_T_PTR);
    if (!a)
        return NEED;
    snprintf(fix, sizeof(fix), "%s. IN PTR mail.%s. (set where %s is hosted), and mail.%s. IN %s %s", rev,
             in->domain, ip, in->domain, in->family == 4 ? "A" : "AAAA", ip);
    if (a->status == DNS_SERVFAIL || a->status == DNS_TIMEOUT) {
        add(arr, "ptr", ip, "error", fix, "the PTR lookup of %s failed: %s", rev, dns_status_text(a->status));
        return 0;
    }
    if (a->status != DNS_OK) {
        add(arr, "ptr", ip, "error", fix, "%s has no reverse name (no PTR at %s): many receivers refuse its mail", ip,
            rev);
        return 0;
    }
    int need = 0;
    const char *confirmed = NULL;
    for (size_t i = 0; i < a->n && i < 10; i++) {
        const struct dns_answer *h = dns_cache_get(c, a->rr[i].text, in->family == 4 ? DNS_T_A : DNS_T_AAAA);
        if (!h) {
            need = NEED;
            continue;
        }
        for (size_t j = 0; h->status == DNS_OK && j < h->n; j++)
            if (h->rr[j].family == in->family && memcmp(h->rr[j].addr, in->ip, in->family == 4 ? 4 : 16) == 0)
                confirmed = confirmed ? confirmed : a->rr[i].text;
    }
    if (need)
        return NEED;
    if (confirmed) {
        add(arr, "ptr", ip, "ok", NULL, "%s is %s, which resolves back to %s", ip, confirmed, ip);
    } else {
        snprintf(fix, sizeof(fix), "%s. IN %s %s", a->rr[0].text, in->family == 4 ? "A" : "AAAA", ip);
        add(arr, "ptr", ip, "error", fix, "the reverse name of %s, %s, does not resolve back to %s", ip,
            a->rr[0].text, ip);
    }
    return 0;
}

/* dnscheck_eval - the findings over CACHE; 0 with *FINDINGS, or 1 when answers are missing. */
int dnscheck_eval(const struct dnscheck_in *in, struct dns_cache *cache, json_t **findings)
{
    json_t *arr = json_array();
    struct dmarc_record rec;
    bool have = false;
    size_t verified = 0;
    int need = check_spf(in, cache, arr);
    need |= check_dkim(in, cache, arr, &verified);
    if (check_dmarc(in, cache, arr, &rec, &have))
        need = NEED;
    else if (!need)
        check_alignment(in, arr, &rec, have, verified);
    need |= check_mx(in, cache, arr);
    need |= check_ptr(in, cache, arr);
    if (need) {
        json_decref(arr);
        *findings = NULL;
        return 1;
    }
    *findings = arr;
    return 0;
}
