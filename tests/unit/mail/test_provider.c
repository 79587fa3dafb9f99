/*
 * test_provider - what names a mailbox provider: names, domain and host
 * patterns, the host in a relay field as Postfix logs it, an address or a
 * domain asked about. (Which provider a domain or a host belongs to is
 * matched in SQL, provider_match: tests/integration/test_providers.sh.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine/mail/provider.h"

struct pcase {
    const char *in, *out;   /* out NULL: refused */
    const char *why;        /* refused: a part of the reason */
};

typedef int (*pattern_fn)(const char *, char *, size_t, const char **);

static void run_cases(pattern_fn fn, const struct pcase *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char out[PROVIDER_PATTERN_MAX + 3] = "";
        const char *why = NULL;
        int rc = fn(cases[i].in, out, sizeof(out), &why);
        if (cases[i].out) {
            if (rc != 0)
                fail_msg("\"%s\" refused: %s", cases[i].in, why);
            assert_string_equal(out, cases[i].out);
        } else {
            if (rc != -1)
                fail_msg("\"%s\" taken as \"%s\"", cases[i].in, out);
            if (!strstr(why, cases[i].why))
                fail_msg("\"%s\": \"%s\" does not say \"%s\"", cases[i].in, why, cases[i].why);
        }
    }
}

static void test_provider_names(void **state)
{
    (void)state;
    const char *why;
    assert_int_equal(provider_name_check("google", &why), 0);
    assert_int_equal(provider_name_check("t-online", &why), 0);
    assert_int_equal(provider_name_check("1und1", &why), 0);
    assert_int_equal(provider_name_check("Google", &why), -1);
    assert_string_equal(why, "a provider's name starts with a lower-case letter or a digit");
    assert_int_equal(provider_name_check("-x", &why), -1);
    assert_int_equal(provider_name_check("a b", &why), -1);
    assert_string_equal(why, "a provider's name holds only a-z, 0-9 and '-'");
    assert_int_equal(provider_name_check("", &why), -1);
    assert_int_equal(provider_name_check("abcdefghijabcdefghijabcdefghijabc", &why), -1);   /* 33 */
    assert_string_equal(why, "a provider's name is 1 to 32 characters");
    assert_int_equal(provider_name_check("abcdefghijabcdefghijabcdefghijab", &why), 0);     /* 32 */
    assert_int_equal(provider_name_check("other", &why), -1);
    assert_non_null(strstr(why, "every delivery of no provider"));
    assert_int_equal(provider_name_check("match", &why), -1);
    assert_int_equal(provider_name_check("stats", &why), -1);
}

static void test_provider_domain_patterns(void **state)
{
    (void)state;
    static const struct pcase cases[] = {
        { "gmail.com", "gmail.com", NULL },
        { "GMail.COM.", "gmail.com", NULL },                 /* lower case, no final dot */
        { "hotmail.*", "hotmail.*", NULL },                  /* NAME under any suffix */
        { "Yahoo.co.*", "yahoo.co.*", NULL },
        { "xn--mller-kva.de", "xn--mller-kva.de", NULL },
        { "a-b.example", "a-b.example", NULL },
        { "gmail", NULL, "two labels or more" },
        { "*.gmail.com", NULL, "a wildcard is only a final \".*\"" },
        { "hot*.com", NULL, "a wildcard is only a final \".*\"" },
        { ".*", NULL, "empty" },
        { "a..b", NULL, "an empty label" },
        { "a.*.*", NULL, "a wildcard is only a final" },
        { "-a.com", NULL, "starts or ends with '-'" },
        { "a-.com", NULL, "starts or ends with '-'" },
        { "a_b.com", NULL, "a character other than" },
        { "", NULL, "empty" },
        { "gmail.com..*", NULL, "an empty label" },
    };
    run_cases(provider_domain_pattern, cases, sizeof(cases) / sizeof(cases[0]));
    char long_label[80];
    memset(long_label, 'a', 64);
    strcpy(long_label + 64, ".com");
    run_cases(provider_domain_pattern, (struct pcase[]){ { long_label, NULL, "longer than 63" } }, 1);
}

static void test_provider_mx_patterns(void **state)
{
    (void)state;
    static const struct pcase cases[] = {
        { "*.google.com", "*.google.com", NULL },
        { "aspmx.l.google.com", "aspmx.l.google.com", NULL },
        { "MX*.Mail.iCloud.com.", "mx*.mail.icloud.com", NULL },
        { "*.protection.outlook.com", "*.protection.outlook.com", NULL },
        { "mx*.t-online.de", "mx*.t-online.de", NULL },
        { "*.com", NULL, "the last two labels are a domain" },
        { "*", NULL, "two labels or more" },
        { "mx.*", NULL, "the last two labels are a domain" },
        { "*.goo*gle.com", NULL, "the last two labels are a domain" },
        { "mx%.google.com", NULL, "a character other than a-z, 0-9, '-', '.' and '*'" },
        { "mx_1.google.com", NULL, "a character other than" },
        { "mx..google.com", NULL, "an empty label" },
    };
    run_cases(provider_mx_pattern, cases, sizeof(cases) / sizeof(cases[0]));
}

static int relay_host(const char *in, char *out, size_t outlen, const char **why)
{
    return provider_relay_host(in, out, outlen, why);
}

/* relay= as Postfix 3.7 logs it (smtp(8): name[address]:port; IPv6 addresses in the brackets as they are) */
static void test_provider_relay_field(void **state)
{
    (void)state;
    static const struct pcase cases[] = {
        { "gmail-smtp-in.l.google.com[142.250.1.26]:25", "gmail-smtp-in.l.google.com", NULL },
        { "gmail-smtp-in.l.google.com[2a00:1450:400c:c0b::1a]:25", "gmail-smtp-in.l.google.com", NULL },
        { "mx.example.org[2001:db8::25]:25", "mx.example.org", NULL },
        { "mx.example.org[192.0.2.1]:2525", "mx.example.org", NULL },
        { "mx.example.org[192.0.2.1]", "mx.example.org", NULL },   /* no port logged */
        { "MX.Example.ORG.[192.0.2.1]:25", "mx.example.org", NULL },
        { "aspmx.l.google.com", "aspmx.l.google.com", NULL },      /* a bare name, as typed */
        { "127.0.0.1[127.0.0.1]:15026", "127.0.0.1", NULL },       /* a relay by address: its "name" is the address */
        { "none", NULL, "no receiving host" },
        { "local", NULL, "no receiving host" },
        { "[192.0.2.1]:25", NULL, "an address without a host name" },
        { "[2001:db8::1]:25", NULL, "an address without a host name" },
        { "mx.example.org[192.0.2.1:25", NULL, "a '[' without its ']'" },
        { "mx.example.org[192.0.2.1]:smtp", NULL, "a port that is not a number" },
        { "mx.example.org[192.0.2.1]:", NULL, "a port that is not a number" },
        { "mx.example.org[192.0.2.1]:123456", NULL, "a port that is not a number" },
        { "mx.example.org[192.0.2.1]x", NULL, "text after the address" },
        { "mx example.org[192.0.2.1]:25", NULL, "a character other than" },
        { "", NULL, "an address without a host name" },
    };
    run_cases(relay_host, cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_provider_target(void **state)
{
    (void)state;
    static const struct pcase cases[] = {
        { "Ann@GMail.com", "gmail.com", NULL },
        { "gmail.com", "gmail.com", NULL },
        { "Workspace.Example", "workspace.example", NULL },
        { "b@hotmail.co.uk", "hotmail.co.uk", NULL },
        { "ann@", NULL, "" },
        { "not a domain", NULL, "" },
        { "@gmail.com", NULL, "" },
    };
    run_cases(provider_target, cases, sizeof(cases) / sizeof(cases[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_provider_names),
        cmocka_unit_test(test_provider_domain_patterns),
        cmocka_unit_test(test_provider_mx_patterns),
        cmocka_unit_test(test_provider_relay_field),
        cmocka_unit_test(test_provider_target),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
