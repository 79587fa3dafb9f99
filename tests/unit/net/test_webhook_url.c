/* test_webhook_url - webhook URLs and the addresses a webhook must not reach. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/net/webhook_url.h"

static void test_webhook_url_parse_takes_host_and_port(void **state)
{
    (void)state;
    static const struct {
        const char *url, *host;
        int port;
        bool https;
    } ok[] = {
        { "https://hooks.example.com/p?q=1", "hooks.example.com", 443, true },
        { "http://example.org", "example.org", 80, false },
        { "HTTPS://Example.org:8443/x", "Example.org", 8443, true },
        { "http://[2001:4860::8888]:81/", "2001:4860::8888", 81, false },
        { "https://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1", 443, true },
        { "http://93.184.216.34#frag", "93.184.216.34", 80, false },
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct webhook_url u;
        char why[200];
        assert_int_equal(webhook_url_parse(ok[i].url, &u, why, sizeof(why)), 0);
        assert_string_equal(u.host, ok[i].host);
        assert_int_equal(u.port, ok[i].port);
        assert_int_equal(u.https, ok[i].https);
    }
}

static void test_webhook_url_parse_refuses_with_the_reason(void **state)
{
    (void)state;
    static const struct {
        const char *url, *why;
    } bad[] = {
        { "ftp://example.org/", "url must start with https:// or http://" },
        { "example.org/hook", "url must start with https:// or http://" },
        { "https://user:pw@example.org/", "url must not hold a user name or password" },
        { "https://example.org:0/", "url's port must be a number from 1 to 65535" },
        { "https://example.org:65536/", "url's port must be a number from 1 to 65535" },
        { "https://example.org:/", "url's port must be a number from 1 to 65535" },
        { "https://example.org:8o/", "url's port must be a number from 1 to 65535" },
        { "https:///path", "url must name a host (at most 255 characters)" },
        { "https://exa mple.org/", "url must be ASCII without spaces or control characters" },
        { "https://[::1/", "url has an IPv6 address without its closing ]" },
        { "https://[nothex]/", "url's IPv6 address is not one" },
        { "https://[::1]x/", "url has something after its IPv6 address" },
        { "https://exa$mple.org/", "url's host has characters a host name cannot have" },
        { "", "url must be 1 to 2000 characters" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct webhook_url u;
        char why[200];
        assert_int_equal(webhook_url_parse(bad[i].url, &u, why, sizeof(why)), -1);
        assert_string_equal(why, bad[i].why);
    }
}

static void test_webhook_host_private_ranges_v4_and_v6(void **state)
{
    (void)state;
    static const char *const private_[] = {
        "127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
        "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "198.18.0.1", "192.0.0.8",
        "::1", "::", "fe80::1", "fd00::1", "fc12::3", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
        "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "2002:7f00:1::", "::127.0.0.1", "2001:db8::1",
    };
    static const char *const public_[] = {
        "93.184.216.34", "8.8.8.8", "172.32.0.1", "172.15.255.255", "100.128.0.1", "1.1.1.1",
        "2001:4860:4860::8888", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808",
    };
    for (size_t i = 0; i < sizeof(private_) / sizeof(private_[0]); i++)
        assert_true(webhook_host_private(private_[i]));
    for (size_t i = 0; i < sizeof(public_) / sizeof(public_[0]); i++)
        assert_false(webhook_host_private(public_[i]));
    assert_false(webhook_host_private("hooks.example.com")); /* a name is judged by what it resolves to */
}

static void test_webhook_addr_private_on_socket_addresses(void **state)
{
    (void)state;
    struct sockaddr_in s4 = { .sin_family = AF_INET };
    struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
    inet_pton(AF_INET, "127.0.0.1", &s4.sin_addr);
    assert_true(webhook_addr_private((struct sockaddr *)&s4));
    inet_pton(AF_INET, "8.8.4.4", &s4.sin_addr);
    assert_false(webhook_addr_private((struct sockaddr *)&s4));
    inet_pton(AF_INET6, "::ffff:192.168.0.1", &s6.sin6_addr);
    assert_true(webhook_addr_private((struct sockaddr *)&s6));
    inet_pton(AF_INET6, "2a00:1450::1", &s6.sin6_addr);
    assert_false(webhook_addr_private((struct sockaddr *)&s6));
    struct sockaddr un = { .sa_family = AF_UNIX };
    assert_true(webhook_addr_private(&un));
}

static void test_webhook_url_check_refuses_private_unless_allowed(void **state)
{
    (void)state;
    char why[300];
    assert_int_equal(webhook_url_check("http://127.0.0.1:9/x", false, why, sizeof(why)), -1);
    assert_string_equal(why, "url's host 127.0.0.1 is a loopback, link-local or private address"
                             " ([webhooks] allow_private)");
    assert_int_equal(webhook_url_check("http://[::ffff:10.0.0.1]/", false, why, sizeof(why)), -1);
    assert_int_equal(webhook_url_check("http://localhost:9/x", false, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "resolves to"));
    assert_int_equal(webhook_url_check("http://127.0.0.1:9/x", true, why, sizeof(why)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_webhook_url_parse_takes_host_and_port),
        cmocka_unit_test(test_webhook_url_parse_refuses_with_the_reason),
        cmocka_unit_test(test_webhook_host_private_ranges_v4_and_v6),
        cmocka_unit_test(test_webhook_addr_private_on_socket_addresses),
        cmocka_unit_test(test_webhook_url_check_refuses_private_unless_allowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
