/* test_dnscheck - a sending domain's findings over a table of DNS answers: levels, messages and fixes. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/mail/dnscheck.h"

#define KEY "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtest"

/* ZONE's lines "NAME TYPE VALUE" into C (one RRset per consecutive name and type) */
static void load(struct dns_cache *c, const char *const *zone)
{
    dns_cache_init(c);
    for (size_t i = 0; zone[i];) {
        char name[300], type[8];
        sscanf(zone[i], "%299s %7s", name, type);
        int t = !strcmp(type, "A") ? DNS_T_A : !strcmp(type, "AAAA") ? DNS_T_AAAA : !strcmp(type, "MX") ? DNS_T_MX
              : !strcmp(type, "PTR") ? DNS_T_PTR : DNS_T_TXT;
        struct dns_rr rr[16];
        size_t n = 0;
        for (; zone[i] && n < 16; i++) {
            char n2[300], t2[8];
            int off = 0;
            sscanf(zone[i], "%299s %7s %n", n2, t2, &off);
            if (strcmp(n2, name) || strcmp(t2, type))
                break;
            const char *v = zone[i] + off;
            memset(&rr[n], 0, sizeof(rr[n]));
            if (t == DNS_T_A)
                rr[n].family = 4, inet_pton(AF_INET, v, rr[n].addr);
            else if (t == DNS_T_MX)
                rr[n].pref = (unsigned)strtoul(v, (char **)&v, 10), v += *v == ' ';
            rr[n++].text = (char *)v;
        }
        dns_cache_put(c, name, t, DNS_OK, rr, n);
    }
}

static json_t *eval(const char *const *zone, struct dnscheck_in *in)
{
    struct dns_cache c;
    json_t *f;
    load(&c, zone);
    while (dnscheck_eval(in, &c, &f) == 1)
        while (c.nneed)
            dns_cache_put(&c, c.need[0].name, c.need[0].type, DNS_NXDOMAIN, NULL, 0);
    dns_cache_free(&c);
    return f;
}

/* the finding CHECK about NAME: "level|message|fix" */
static const char *finding(json_t *f, const char *check, const char *name)
{
    static char out[2000];
    size_t i;
    json_t *x;
    json_array_foreach(f, i, x) {
        if (strcmp(json_string_value(json_object_get(x, "check")), check) == 0 &&
            strcmp(json_string_value(json_object_get(x, "name")), name) == 0) {
            const char *fix = json_string_value(json_object_get(x, "fix"));
            snprintf(out, sizeof(out), "%s|%s|%s", json_string_value(json_object_get(x, "level")),
                     json_string_value(json_object_get(x, "message")), fix ? fix : "-");
            return out;
        }
    }
    return "missing";
}

static const struct dnscheck_key keys[] = { { "s1", "rsa", KEY } };

static struct dnscheck_in input(const char *domain)
{
    struct dnscheck_in in = { .domain = domain, .bounce_local = "bounces", .has_ip = true, .family = 4,
                              .ip = { 192, 0, 2, 10 }, .keys = keys, .nkeys = 1 };
    return in;
}

static const char *const good[] = {
    "example.test TXT v=spf1 ip4:192.0.2.0/24 -all",
    "example.test MX 10 mail.example.test",
    "s1._domainkey.example.test TXT v=DKIM1; k=rsa; p=" KEY,
    "_dmarc.example.test TXT v=DMARC1; p=reject",
    "10.2.0.192.in-addr.arpa PTR mail.example.test",
    "mail.example.test A 192.0.2.10",
    NULL,
};

static void test_dnscheck_good_domain_all_ok(void **state)
{
    (void)state;
    struct dnscheck_in in = input("example.test");
    json_t *f = eval(good, &in);
    assert_int_equal(json_array_size(f), 7);
    assert_string_equal(finding(f, "spf", "example.test"),
                        "ok|SPF of example.test permits 192.0.2.10 (ip4:192.0.2.0/24 in example.test; 0 DNS lookups)|-");
    assert_string_equal(finding(f, "dkim", "s1._domainkey.example.test"),
                        "ok|s1._domainkey.example.test publishes the rsa key postino signs with|-");
    assert_string_equal(finding(f, "dmarc", "_dmarc.example.test"),
                        "ok|DMARC policy of example.test: reject (adkim=r, aspf=r)|-");
    assert_string_equal(finding(f, "alignment", "spf"),
                        "ok|the envelope domain example.test aligns with the From domain example.test (aspf=r)|-");
    assert_string_equal(finding(f, "mx", "example.test"),
                        "ok|example.test receives mail at mail.example.test (10): bounces come back|-");
    assert_string_equal(finding(f, "ptr", "192.0.2.10"),
                        "ok|192.0.2.10 is mail.example.test, which resolves back to 192.0.2.10|-");
    json_decref(f);
}

static void test_dnscheck_without_address_warns(void **state)
{
    (void)state;
    struct dnscheck_in in = input("example.test");
    in.has_ip = false;
    json_t *f = eval(good, &in);
    assert_string_equal(finding(f, "spf", "example.test"),
                        "warning|the SPF record of example.test is valid (0 DNS lookups); no sending address was "
                        "given to evaluate it for|give the sending address: --ip ADDR (or [dns] ip)");
    assert_string_equal(finding(f, "ptr", "ADDR"),
                        "warning|no sending address was given: its reverse name was not checked|give the sending "
                        "address: --ip ADDR (or [dns] ip)");
    json_decref(f);
}

static void test_dnscheck_broken_records(void **state)
{
    (void)state;
    static const char *const zone[] = {
        "sub.example.test TXT v=spf1 ip4:198.51.100.1 -all",
        "sub.example.test A 203.0.113.5",
        "s1._domainkey.sub.example.test TXT v=DKIM1; k=ed25519; p=" KEY,
        "_dmarc.example.test TXT v=DMARC1; p=reject; sp=none; aspf=s",
        "10.2.0.192.in-addr.arpa PTR elsewhere.test",
        "elsewhere.test A 192.0.2.99",
        NULL,
    };
    struct dnscheck_in in = input("sub.example.test");
    json_t *f = eval(zone, &in);
    assert_string_equal(finding(f, "spf", "sub.example.test"),
                        "error|SPF of sub.example.test does not permit 192.0.2.10: fail (-all in sub.example.test)|"
                        "sub.example.test. IN TXT \"v=spf1 ip4:192.0.2.10 ip4:198.51.100.1 -all\"");
    assert_string_equal(finding(f, "dkim", "s1._domainkey.sub.example.test"),
                        "error|the record at s1._domainkey.sub.example.test says k=ed25519, the key postino signs "
                        "with is rsa|s1._domainkey.sub.example.test. IN TXT ( \"v=DKIM1; k=rsa; s=email; p=" KEY
                        "\" )");
    /* no _dmarc at sub: the organizational domain's, its sp= applying */
    assert_string_equal(finding(f, "dmarc", "_dmarc.example.test"),
                        "warning|the DMARC policy of sub.example.test is p=none: mail that fails DMARC is delivered "
                        "all the same; move to quarantine once the reports show all mail passing|_dmarc.example.test. "
                        "IN TXT \"v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@sub.example.test; adkim=r; aspf=s\"");
    assert_string_equal(finding(f, "mx", "sub.example.test"),
                        "warning|sub.example.test has no MX: bounces go to the address of its A record|"
                        "sub.example.test. IN MX 10 mail.sub.example.test.");
    assert_string_equal(finding(f, "ptr", "192.0.2.10"),
                        "error|the reverse name of 192.0.2.10, elsewhere.test, does not resolve back to 192.0.2.10|"
                        "elsewhere.test. IN A 192.0.2.10");
    json_decref(f);
}

static void test_dnscheck_alignment(void **state)
{
    (void)state;
    static const char *const zone[] = {
        "_dmarc.example.test TXT v=DMARC1; p=reject; aspf=s",
        "s1._domainkey.example.test TXT v=DKIM1; p=" KEY,
        NULL,
    };
    struct dnscheck_in in = input("example.test");
    in.bounce_domain = "bounces.example.test";
    json_t *f = eval(zone, &in);
    assert_string_equal(finding(f, "alignment", "spf"),
                        "warning|the envelope domain bounces.example.test does not align with the From domain "
                        "example.test (aspf=s): DMARC rests on DKIM alone|[bounce] domain = example.test in postino.conf");
    assert_string_equal(finding(f, "alignment", "dkim"),
                        "ok|DKIM d=example.test aligns with the From domain example.test (adkim=r)|-");
    json_decref(f);
    static const char *const revoked[] = { "s1._domainkey.example.test TXT v=DKIM1; p=", NULL };
    f = eval(revoked, &in);
    assert_string_equal(finding(f, "alignment", "dkim"),
                        "error|DKIM d=example.test would align with the From domain, but no key of it verifies "
                        "against the DNS|publish the DKIM record of the dkim finding above");
    /* no DMARC record: relaxed alignment, bounces.example.test is under example.test */
    assert_string_equal(finding(f, "alignment", "spf"),
                        "ok|the envelope domain bounces.example.test aligns with the From domain example.test "
                        "(aspf=r)|-");
    json_decref(f);
    in.nkeys = 0;
    in.bounce_domain = "bounces.other.test";
    f = eval(zone, &in);
    assert_string_equal(finding(f, "alignment", "spf"),
                        "error|the envelope domain bounces.other.test does not align with the From domain "
                        "example.test (aspf=s)|[bounce] domain = example.test in postino.conf");
    assert_string_equal(finding(f, "dkim", "example.test"),
                        "error|postino holds no DKIM key for example.test: its mail goes out unsigned|postino dkim "
                        "add example.test, then publish the record it prints");
    json_decref(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dnscheck_good_domain_all_ok),
        cmocka_unit_test(test_dnscheck_without_address_warns),
        cmocka_unit_test(test_dnscheck_broken_records),
        cmocka_unit_test(test_dnscheck_alignment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
