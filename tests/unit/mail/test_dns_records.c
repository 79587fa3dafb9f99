/* test_dns_records - DKIM key records and DMARC policies parsed; organizational domains and alignment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine/mail/dns_records.h"
#include "engine/util/psl.h"

static void test_dkim_record_parses_tags(void **state)
{
    (void)state;
    struct dkim_record r;
    char why[200];
    assert_int_equal(dkim_record_parse("v=DKIM1; k=ed25519; s=email; t=s:y; h=sha256; p=ab+/ Cd\t= ", &r, why,
                                       sizeof(why)), 0);
    assert_string_equal(r.key_type, "ed25519");
    assert_string_equal(r.p, "ab+/Cd=");
    assert_string_equal(r.hashes, "sha256");
    assert_true(r.testing);
    assert_true(r.has_v);
    dkim_record_free(&r);
    assert_int_equal(dkim_record_parse("p=", &r, why, sizeof(why)), 0);
    assert_string_equal(r.p, "");
    assert_string_equal(r.key_type, "rsa");
    assert_false(r.testing);
    dkim_record_free(&r);
}

static void test_dkim_record_refuses_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *txt, *why;
    } cases[] = {
        { "v=DKIM1; k=rsa", "no p= tag (the public key)" },
        { "k=rsa; v=DKIM1; p=AB", "v= must come first and be DKIM1" },
        { "v=DKIM2; p=AB", "v= must come first and be DKIM1" },
        { "v=DKIM1; p=AB; p=CD", "the tag p= appears twice" },
        { "v=DKIM1; p=A*B", "p= is not base64" },
        { "v=DKIM1; 1=2; p=AB", "not a tag=value list" },
        { "just text", "not a tag=value list" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dkim_record r;
        char why[200] = "";
        assert_int_equal(dkim_record_parse(cases[i].txt, &r, why, sizeof(why)), -1);
        assert_string_equal(why, cases[i].why);
        assert_null(r.p);
    }
}

static void test_dmarc_parses_policy(void **state)
{
    (void)state;
    struct dmarc_record r;
    char why[200];
    assert_true(dmarc_is_record("v=DMARC1; p=none"));
    assert_true(dmarc_is_record("v = DMARC1"));
    assert_false(dmarc_is_record("v=DMARC10; p=none"));
    assert_false(dmarc_is_record("p=none; v=DMARC1"));
    assert_int_equal(dmarc_parse("v=DMARC1; p=Reject; sp=none; adkim=s; aspf=r; pct=30; rua=mailto:a@b.test", &r,
                                 why, sizeof(why)), 0);
    assert_int_equal(r.p, DMARC_REJECT);
    assert_int_equal(r.sp, DMARC_NONE);
    assert_true(r.adkim_strict);
    assert_false(r.aspf_strict);
    assert_int_equal(r.pct, 30);
    assert_string_equal(r.rua, "mailto:a@b.test");
    assert_int_equal(dmarc_parse("v=DMARC1;p=quarantine", &r, why, sizeof(why)), 0);
    assert_int_equal(r.sp, DMARC_QUARANTINE);
    assert_int_equal(r.pct, 100);
    assert_false(r.adkim_strict);
}

static void test_dmarc_refuses_invalid(void **state)
{
    (void)state;
    static const struct {
        const char *txt, *why;
    } cases[] = {
        { "v=DMARC1; rua=mailto:a@b.test", "no p= tag (the policy)" },
        { "p=none; v=DMARC1", "the record must start with v=DMARC1" },
        { "v=DMARC1; p=block", "p= must be none, quarantine or reject, not \"block\"" },
        { "v=DMARC1; p=none; adkim=x", "adkim= must be r or s" },
        { "v=DMARC1; p=none; pct=101", "pct= must be a number from 0 to 100" },
        { "", "empty record" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dmarc_record r;
        char why[200] = "";
        assert_int_equal(dmarc_parse(cases[i].txt, &r, why, sizeof(why)), -1);
        assert_string_equal(why, cases[i].why);
    }
}

static bool fake_suffix(const char *s, void *arg)
{
    (void)arg;
    return !strcmp(s, "uk") || !strcmp(s, "co.uk") || !strcmp(s, "com");
}

static void test_dmarc_org_domain_and_alignment(void **state)
{
    (void)state;
    char out[256];
    dmarc_org_domain("mail.news.example.co.uk", fake_suffix, NULL, out, sizeof(out));
    assert_string_equal(out, "example.co.uk");
    dmarc_org_domain("a.b.example.com", fake_suffix, NULL, out, sizeof(out));
    assert_string_equal(out, "example.com");
    dmarc_org_domain("a.b.example.test", NULL, NULL, out, sizeof(out));
    assert_string_equal(out, "example.test");
    dmarc_org_domain("example.test", NULL, NULL, out, sizeof(out));
    assert_string_equal(out, "example.test");
    assert_true(dmarc_aligned("bounces.example.co.uk", "example.co.uk", false, fake_suffix, NULL));
    assert_false(dmarc_aligned("bounces.example.co.uk", "example.co.uk", true, fake_suffix, NULL));
    assert_false(dmarc_aligned("other.co.uk", "example.co.uk", false, fake_suffix, NULL));
    assert_true(dmarc_aligned("Example.Test", "example.test", true, NULL, NULL));
}

static void test_psl_reads_debian_list(void **state)
{
    (void)state;
    struct psl *p = psl_load("/usr/share/publicsuffix/public_suffix_list.dat");
    assert_non_null(p);   /* Debian's publicsuffix package, in scripts/deps.sh */
    char out[256];
    assert_true(psl_is_suffix("co.uk", p));
    assert_false(psl_is_suffix("example.co.uk", p));
    assert_true(psl_is_suffix("anything.ck", p));    /* *.ck */
    assert_false(psl_is_suffix("www.ck", p));        /* !www.ck */
    dmarc_org_domain("a.b.example.co.uk", psl_is_suffix, p, out, sizeof(out));
    assert_string_equal(out, "example.co.uk");
    psl_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dkim_record_parses_tags),
        cmocka_unit_test(test_dkim_record_refuses_malformed),
        cmocka_unit_test(test_dmarc_parses_policy),
        cmocka_unit_test(test_dmarc_refuses_invalid),
        cmocka_unit_test(test_dmarc_org_domain_and_alignment),
        cmocka_unit_test(test_psl_reads_debian_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
