/*
 * fuzz_dns_records - libFuzzer target for what a DNS check reads from the
 * network: the input is a set of DNS answers, one a line, "NAME TYPE VALUE"
 * (TYPE: A, AAAA, MX, TXT, PTR; VALUE an address, "PREF HOST", a TXT value, a
 * name). Each TXT value goes through the SPF, DKIM-key and DMARC parsers and
 * the SPF macro expander; then the whole check (SPF evaluation included) runs
 * over the answers, every question they do not answer being "no such name",
 * until it completes, which it must, with findings of the three levels only.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mail/dnscheck.h"
#include "engine/mail/spf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int type_of(const char *t)
{
    return !strcmp(t, "A") ? DNS_T_A : !strcmp(t, "AAAA") ? DNS_T_AAAA : !strcmp(t, "MX") ? DNS_T_MX
         : !strcmp(t, "TXT") ? DNS_T_TXT : !strcmp(t, "PTR") ? DNS_T_PTR : 0;
}

static void parse_all(const char *txt)
{
    struct spf_record r;
    struct dkim_record k;
    struct dmarc_record d;
    char why[200], out[DNS_NAME_MAX + 1];
    struct spf_input in = { .family = 4, .ip = { 192, 0, 2, 10 }, .sender = "bounces@example.test", .helo = "h.test" };
    if (spf_parse(txt, &r, why, sizeof(why)) == 0)
        spf_record_free(&r);
    if (dkim_record_parse(txt, &k, why, sizeof(why)) == 0)
        dkim_record_free(&k);
    dmarc_parse(txt, &d, why, sizeof(why));
    spf_macro_expand(txt, &in, "example.test", out, sizeof(out), why, sizeof(why));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 20000)
        return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    struct dns_cache c;
    dns_cache_init(&c);
    /* gather the answers: one RRset per NAME and TYPE, records in order */
    struct dns_rr rr[64];
    size_t n = 0;
    char cur[DNS_NAME_MAX + 1] = "";
    int curtype = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char name[300], type[8];
        int off = 0;
        if (sscanf(line, "%299s %7s %n", name, type, &off) < 2 || !type_of(type))
            continue;
        const char *val = line + off;
        if (type_of(type) == DNS_T_TXT)
            parse_all(val);
        if (n && (strcmp(name, cur) != 0 || type_of(type) != curtype)) {
            dns_cache_put(&c, cur, curtype, DNS_OK, rr, n);
            for (size_t i = 0; i < n; i++)
                free(rr[i].text);
            n = 0;
        }
        if (n == 64)
            continue;
        snprintf(cur, sizeof(cur), "%s", name);
        curtype = type_of(type);
        memset(&rr[n], 0, sizeof(rr[n]));
        if (curtype == DNS_T_A && inet_pton(AF_INET, val, rr[n].addr) == 1)
            rr[n].family = 4;
        else if (curtype == DNS_T_AAAA && inet_pton(AF_INET6, val, rr[n].addr) == 1)
            rr[n].family = 6;
        else if (curtype == DNS_T_MX)
            rr[n].pref = (unsigned)strtoul(val, (char **)&val, 10), val += *val == ' ';
        rr[n++].text = strdup(val);
    }
    if (n)
        dns_cache_put(&c, cur, curtype, DNS_OK, rr, n);
    for (size_t i = 0; i < n; i++)
        free(rr[i].text);
    static const struct dnscheck_key keys[] = { { "s1", "rsa", "MIIBIjAN" }, { "s2", "ed25519", "AAAA" } };
    struct dnscheck_in in = { .domain = "example.test", .bounce_domain = "bounces.example.test",
                              .bounce_local = "bounces", .has_ip = true, .family = 4, .ip = { 192, 0, 2, 10 },
                              .keys = keys, .nkeys = 2 };
    json_t *f = NULL;
    int rounds = 0;
    while (dnscheck_eval(&in, &c, &f) == 1) {
        if (++rounds > 1000 || c.nneed == 0)
            __builtin_trap();
        size_t nn = c.nneed;
        struct dns_question q[nn];
        memcpy(q, c.need, sizeof(q));
        for (size_t i = 0; i < nn; i++)
            dns_cache_put(&c, q[i].name, q[i].type, DNS_NXDOMAIN, NULL, 0);
        c.nneed = 0;
    }
    size_t i;
    json_t *x;
    json_array_foreach(f, i, x) {
        const char *l = json_string_value(json_object_get(x, "level"));
        if (!l || (strcmp(l, "ok") && strcmp(l, "warning") && strcmp(l, "error")))
            __builtin_trap();
    }
    json_decref(f);
    dns_cache_free(&c);
    free(text);
    return 0;
}
