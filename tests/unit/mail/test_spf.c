/* test_spf - SPF records (RFC 7208): parsing, macros, and check_host over a table of DNS answers. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/mail/spf.h"

/* ---- a zone as a table: "NAME TYPE VALUE" (VALUE "NX": no such name, "SERVFAIL": the server failed) ---- */

static void load(struct dns_cache *c, const char *const *zone)
{
    dns_cache_init(c);
    for (size_t i = 0; zone[i]; i++) {
        char name[300], type[8];
        int off = 0;
        assert_true(sscanf(zone[i], "%299s %7s %n", name, type, &off) >= 2);
        const char *val = zone[i] + off;
        int t = !strcmp(type, "A") ? DNS_T_A : !strcmp(type, "AAAA") ? DNS_T_AAAA : !strcmp(type, "MX") ? DNS_T_MX
              : !strcmp(type, "PTR") ? DNS_T_PTR : DNS_T_TXT;
        if (!strcmp(val, "NX") || !strcmp(val, "SERVFAIL")) {
            dns_cache_put(c, name, t, !strcmp(val, "NX") ? DNS_NXDOMAIN : DNS_SERVFAIL, NULL, 0);
            continue;
        }
        /* records of one name and type are consecutive lines: gather them */
        struct dns_rr rr[16];
        size_t n = 0;
        for (size_t j = i; zone[j] && n < 16; j++) {
            char n2[300], t2[8];
            int o2 = 0;
            sscanf(zone[j], "%299s %7s %n", n2, t2, &o2);
            if (strcmp(n2, name) || strcmp(t2, type))
                break;
            const char *v = zone[j] + o2;
            memset(&rr[n], 0, sizeof(rr[n]));
            if (t == DNS_T_A)
                rr[n].family = 4, inet_pton(AF_INET, v, rr[n].addr);
            else if (t == DNS_T_AAAA)
                rr[n].family = 6, inet_pton(AF_INET6, v, rr[n].addr);
            else if (t == DNS_T_MX)
                rr[n].pref = (unsigned)strtoul(v, (char **)&v, 10), v += *v == ' ';
            rr[n++].text = (char *)v;
            i = j;
        }
        dns_cache_put(c, name, t, DNS_OK, rr, n);
    }
}

/* check_host over ZONE, every question it has no answer for being "no such name" */
static enum spf_result run(const char *const *zone, const char *ip, const char *domain, struct spf_outcome *o)
{
    struct dns_cache c;
    struct spf_input in = { .sender = "bounces@example.test", .helo = "mail.example.test" };
    in.family = strchr(ip, ':') ? 6 : 4;
    assert_int_equal(inet_pton(in.family == 4 ? AF_INET : AF_INET6, ip, in.ip), 1);
    load(&c, zone);
    int rounds = 0;
    while (spf_check(&c, &in, domain, o) == 1) {
        assert_true(++rounds < 100);
        assert_true(c.nneed > 0);
        while (c.nneed)
            dns_cache_put(&c, c.need[0].name, c.need[0].type, DNS_NXDOMAIN, NULL, 0);
    }
    dns_cache_free(&c);
    return o->result;
}

static void test_spf_parse_terms(void **state)
{
    (void)state;
    struct spf_record r;
    char why[200];
    assert_int_equal(spf_parse("v=spf1 -ip4:192.0.2.0/24 ~a:mail.%{d}/28//64 mx ?include:_spf.x.test "
                               "ip6:2001:db8::/32 exists:%{i}.x.test ptr redirect=r.test foo=bar",
                               &r, why, sizeof(why)), 0);
    assert_int_equal(r.n, 7);
    assert_int_equal(r.t[0].mech, SPF_IP4);
    assert_int_equal(r.t[0].qual, '-');
    assert_int_equal(r.t[0].cidr4, 24);
    assert_int_equal(r.t[1].mech, SPF_A);
    assert_string_equal(r.t[1].spec, "mail.%{d}");
    assert_int_equal(r.t[1].cidr4, 28);
    assert_int_equal(r.t[1].cidr6, 64);
    assert_int_equal(r.t[2].mech, SPF_MX);
    assert_null(r.t[2].spec);
    assert_int_equal(r.t[3].qual, '?');
    assert_int_equal(r.t[4].cidr6, 32);
    assert_string_equal(r.redirect, "r.test");
    spf_record_free(&r);
}

static void test_spf_parse_errors(void **state)
{
    (void)state;
    static const struct {
        const char *txt, *why;
    } cases[] = {
        { "v=spf1 foo", "unknown mechanism 'foo'" },
        { "v=spf1 ip4:300.1.1.1", "malformed term 'ip4:300.1.1.1'" },
        { "v=spf1 ip4:192.0.2.0/33", "malformed term 'ip4:192.0.2.0/33'" },
        { "v=spf1 ip6:2001:db8::/129", "malformed term 'ip6:2001:db8::/129'" },
        { "v=spf1 include", "malformed term 'include'" },
        { "v=spf1 all:x", "malformed term 'all:x'" },
        { "v=spf1 a/024", "malformed term 'a/024'" },
        { "v=spf1 redirect=a.test redirect=b.test", "more than one redirect= modifier" },
        { "v=spf1 exists:%{z}.test", "bad macro in \"%{z}.test\"" },
        { "v=spf1 exists:%{d0}.test", "bad macro in \"%{d0}.test\"" },
        { "v=spf1 a:%x", "bad macro in \"%x\": '%' must be followed by {letter}, %, _ or -" },
        { "v=spf10 -all", "not an SPF record (no v=spf1)" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct spf_record r;
        char why[200] = "";
        assert_int_equal(spf_parse(cases[i].txt, &r, why, sizeof(why)), -1);
        assert_string_equal(why, cases[i].why);
        assert_int_equal(r.n, 0);
    }
}

static void test_spf_macros_expand(void **state)
{
    (void)state;
    struct spf_input in4 = { .family = 4, .ip = { 192, 0, 2, 3 }, .sender = "strong-bad@email.example.com",
                             .helo = "mx.example.org" };
    struct spf_input in6 = { .family = 6, .sender = "strong-bad@email.example.com" };
    inet_pton(AF_INET6, "2001:db8::cb01", in6.ip);
    static const struct {
        const char *spec, *want;
        int v6;
    } cases[] = {
        /* the examples of RFC 7208 7.4 */
        { "%{s}", "strong-bad@email.example.com", 0 },
        { "%{o}", "email.example.com", 0 },
        { "%{d}", "email.example.com", 0 },
        { "%{d4}", "email.example.com", 0 },
        { "%{d3}", "email.example.com", 0 },
        { "%{d2}", "example.com", 0 },
        { "%{d1}", "com", 0 },
        { "%{dr}", "com.example.email", 0 },
        { "%{d2r}", "example.email", 0 },
        { "%{l}", "strong-bad", 0 },
        { "%{l-}", "strong.bad", 0 },
        { "%{lr}", "strong-bad", 0 },
        { "%{lr-}", "bad.strong", 0 },
        { "%{l1r-}", "strong", 0 },
        { "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com", 0 },
        { "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com", 0 },
        { "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com", 0 },
        { "%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net", 0 },
        { "%{h}%%%_%-", "mx.example.org% %20", 0 },
        { "%{ir}.%{v}._spf.%{d2}",
          "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com", 1 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[300], why[200];
        assert_int_equal(spf_macro_expand(cases[i].spec, cases[i].v6 ? &in6 : &in4, "email.example.com", out,
                                          sizeof(out), why, sizeof(why)), 0);
        assert_string_equal(out, cases[i].want);
    }
}

static void test_spf_check_include_redirect_mx(void **state)
{
    (void)state;
    static const char *const zone[] = {
        "example.test TXT v=spf1 include:_inc.example.test redirect=_spf.example.test",
        "example.test TXT google-site-verification=x",
        "_inc.example.test TXT v=spf1 ip4:198.51.100.0/24 -all",
        "_spf.example.test TXT v=spf1 mx:example.test/30 -all",
        "example.test MX 10 mail.example.test",
        "example.test MX 20 mx2.example.test",
        "mail.example.test A 192.0.2.8",
        "mx2.example.test A 203.0.113.1",
        NULL,
    };
    struct spf_outcome o;
    assert_int_equal(run(zone, "192.0.2.10", "example.test", &o), SPF_PASS);
    assert_string_equal(o.why, "mx:example.test in _spf.example.test");
    assert_int_equal(o.lookups, 3);
    assert_int_equal(run(zone, "198.51.100.7", "example.test", &o), SPF_PASS);
    assert_string_equal(o.why, "ip4:198.51.100.0/24 in _inc.example.test");
    assert_int_equal(run(zone, "192.0.2.20", "example.test", &o), SPF_FAIL);
    assert_string_equal(o.why, "-all in _spf.example.test");
    assert_int_equal(o.all_qual, 0);   /* the top record has no all: redirect decides */
}

static void test_spf_check_all_qualifiers(void **state)
{
    (void)state;
    static const struct {
        const char *txt;
        enum spf_result want;
    } cases[] = {
        { "v=spf1 ip4:198.51.100.1 -all", SPF_FAIL },   { "v=spf1 ip4:198.51.100.1 ~all", SPF_SOFTFAIL },
        { "v=spf1 ip4:198.51.100.1 ?all", SPF_NEUTRAL }, { "v=spf1 ip4:198.51.100.1 +all", SPF_PASS },
        { "v=spf1 ip4:198.51.100.1", SPF_NEUTRAL },      { "v=spf1 -ip4:192.0.2.0/24 +all", SPF_FAIL },
        { "v=spf1 ip4:192.0.2.10/32 -all", SPF_PASS },    { "v=spf1 ip4:192.0.2.11 -all", SPF_FAIL },
        { "v=spf1 ip4:192.0.0.0/16 -all", SPF_PASS },     { "v=spf1 ip6:2001:db8::/32 -all", SPF_FAIL },
        { "V=SPF1 IP4:192.0.2.0/24 -ALL", SPF_PASS },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char line[200];
        snprintf(line, sizeof(line), "t.test TXT %s", cases[i].txt);
        const char *zone[] = { line, NULL };
        struct spf_outcome o;
        assert_int_equal(run(zone, "192.0.2.10", "t.test", &o), cases[i].want);
    }
    const char *zone[] = { "t.test TXT v=spf1 +all", NULL };
    struct spf_outcome o;
    run(zone, "192.0.2.10", "t.test", &o);
    assert_true(o.plus_all);
}

static void test_spf_check_errors_and_limits(void **state)
{
    (void)state;
    static const char *const zone[] = {
        "two.test TXT v=spf1 -all",
        "two.test TXT v=spf1 +all",
        "nospf.test TXT hello",
        "bad.test TXT v=spf1 ip4:1.2.3",
        "inc-none.test TXT v=spf1 include:nospf.test -all",
        "redir-none.test TXT v=spf1 redirect=nospf.test",
        "voids.test TXT v=spf1 a:n1.test a:n2.test a:n3.test +all",
        "twovoids.test TXT v=spf1 a:n1.test a:n2.test +all",
        "fail.test TXT v=spf1 a:sf.test -all",
        "sf.test A SERVFAIL",
        "loop.test TXT v=spf1 include:loop.test -all",
        "mx11.test TXT v=spf1 mx -all",
        "mx11.test MX 1 a.test", "mx11.test MX 2 a.test", "mx11.test MX 3 a.test", "mx11.test MX 4 a.test",
        "mx11.test MX 5 a.test", "mx11.test MX 6 a.test", "mx11.test MX 7 a.test", "mx11.test MX 8 a.test",
        "mx11.test MX 9 a.test", "mx11.test MX 10 a.test", "mx11.test MX 11 a.test",
        NULL,
    };
    static const struct {
        const char *domain;
        enum spf_result want;
        const char *why;
    } cases[] = {
        { "two.test", SPF_PERMERROR, "two.test has 2 SPF records (one is allowed)" },
        { "nospf.test", SPF_NONE, "nospf.test has no SPF record" },
        { "nx.test", SPF_NONE, "nx.test has no SPF record" },
        { "bad.test", SPF_PERMERROR, "the SPF record of bad.test: malformed term 'ip4:1.2.3'" },
        { "inc-none.test", SPF_PERMERROR, "include:nospf.test in inc-none.test: nospf.test has no SPF record" },
        { "redir-none.test", SPF_PERMERROR, "redirect=nospf.test in redir-none.test: nospf.test has no SPF record" },
        { "voids.test", SPF_PERMERROR, "more than 2 void DNS lookups (the last: n3.test)" },
        { "twovoids.test", SPF_PASS, "all in twovoids.test" },
        { "fail.test", SPF_TEMPERROR, "DNS lookup of A sf.test failed: server failure" },
        { "loop.test", SPF_PERMERROR, "more than 10 DNS lookups (RFC 7208 4.6.4), the 11th in loop.test" },
        { "mx11.test", SPF_PERMERROR, "mx:mx11.test has 11 MX records (at most 10 are allowed)" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct spf_outcome o;
        assert_int_equal(run(zone, "192.0.2.10", cases[i].domain, &o), cases[i].want);
        assert_string_equal(o.why, cases[i].why);
    }
}

static void test_spf_check_ten_lookups_pass_eleven_fail(void **state)
{
    (void)state;
    /* a chain: top includes l1 .. l9 includes l10 (10 lookups) which has the address; then one more */
    const char *zone[16];
    char lines[16][100];
    for (int i = 0; i < 10; i++) {
        snprintf(lines[i], sizeof(lines[i]), "%s TXT v=spf1 include:l%d.test -all", i ? "" : "top.test", i + 1);
        if (i)
            snprintf(lines[i], sizeof(lines[i]), "l%d.test TXT v=spf1 include:l%d.test -all", i, i + 1);
        zone[i] = lines[i];
    }
    snprintf(lines[10], sizeof(lines[10]), "l10.test TXT v=spf1 ip4:192.0.2.10 -all");
    zone[10] = lines[10];
    zone[11] = NULL;
    struct spf_outcome o;
    assert_int_equal(run(zone, "192.0.2.10", "top.test", &o), SPF_PASS);
    assert_int_equal(o.lookups, 10);
    snprintf(lines[10], sizeof(lines[10]), "l10.test TXT v=spf1 a:l10.test -all");
    snprintf(lines[11], sizeof(lines[11]), "l10.test A 192.0.2.10");
    zone[11] = lines[11];
    zone[12] = NULL;
    assert_int_equal(run(zone, "192.0.2.10", "top.test", &o), SPF_PERMERROR);
    assert_int_equal(o.lookups, 11);
}

static void test_spf_check_a_ptr_exists_ipv6(void **state)
{
    (void)state;
    static const char *const zone[] = {
        "a.test TXT v=spf1 a:h.a.test/24 -all",
        "h.a.test A 192.0.2.200",
        "six.test TXT v=spf1 a:h6.six.test//64 -all",
        "h6.six.test AAAA 2001:db8:1:2::99",
        "ptr.test TXT v=spf1 ptr:ptr.test -all",
        "10.2.0.192.in-addr.arpa PTR out.ptr.test",
        "10.2.0.192.in-addr.arpa PTR other.elsewhere.test",
        "out.ptr.test A 192.0.2.10",
        "ex.test TXT v=spf1 exists:%{ir}.ok.ex.test -all",
        "10.2.0.192.ok.ex.test A 127.0.0.2",
        NULL,
    };
    struct spf_outcome o;
    assert_int_equal(run(zone, "192.0.2.10", "a.test", &o), SPF_PASS);
    assert_int_equal(run(zone, "192.0.3.10", "a.test", &o), SPF_FAIL);
    assert_int_equal(run(zone, "2001:db8:1:2::1", "six.test", &o), SPF_PASS);
    assert_int_equal(run(zone, "2001:db8:1:3::1", "six.test", &o), SPF_FAIL);
    assert_int_equal(run(zone, "192.0.2.10", "ptr.test", &o), SPF_PASS);
    assert_int_equal(run(zone, "192.0.2.10", "ex.test", &o), SPF_PASS);
    assert_int_equal(run(zone, "192.0.2.11", "ex.test", &o), SPF_FAIL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spf_parse_terms),
        cmocka_unit_test(test_spf_parse_errors),
        cmocka_unit_test(test_spf_macros_expand),
        cmocka_unit_test(test_spf_check_include_redirect_mx),
        cmocka_unit_test(test_spf_check_all_qualifiers),
        cmocka_unit_test(test_spf_check_errors_and_limits),
        cmocka_unit_test(test_spf_check_ten_lookups_pass_eleven_fail),
        cmocka_unit_test(test_spf_check_a_ptr_exists_ipv6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
