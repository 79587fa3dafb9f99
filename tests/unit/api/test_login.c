/* test_login - the throttle's key of a client address: IPv4 whole, IPv6 by its /64, mapped IPv4 as IPv4. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/login.h"

static void key_of_v6(const char *text, char *out, size_t n)
{
    struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
    assert_int_equal(inet_pton(AF_INET6, text, &sa.sin6_addr), 1);
    login_peer_key((const struct sockaddr *)&sa, out, n);
}

static void test_login_peer_key_ipv4_whole(void **state)
{
    (void)state;
    char key[LOGIN_KEY_MAX];
    struct sockaddr_in sa = { .sin_family = AF_INET };
    inet_pton(AF_INET, "127.0.0.2", &sa.sin_addr);
    login_peer_key((const struct sockaddr *)&sa, key, sizeof(key));
    assert_string_equal(key, "addr:127.0.0.2");
}

static void test_login_peer_key_ipv6_by_its_64(void **state)
{
    (void)state;
    char a[LOGIN_KEY_MAX], b[LOGIN_KEY_MAX], c[LOGIN_KEY_MAX];
    key_of_v6("2001:db8:1:2:aaaa:bbbb:cccc:dddd", a, sizeof(a));
    key_of_v6("2001:db8:1:2::1", b, sizeof(b));
    key_of_v6("2001:db8:1:3::1", c, sizeof(c));
    assert_string_equal(a, "addr:2001:db8:1:2::/64");
    assert_string_equal(b, a);
    assert_string_equal(c, "addr:2001:db8:1:3::/64");
}

static void test_login_peer_key_mapped_ipv4_is_ipv4(void **state)
{
    (void)state;
    char key[LOGIN_KEY_MAX];
    key_of_v6("::ffff:192.0.2.7", key, sizeof(key));
    assert_string_equal(key, "addr:192.0.2.7");
}

static void test_login_peer_key_unknown(void **state)
{
    (void)state;
    char key[LOGIN_KEY_MAX];
    login_peer_key(NULL, key, sizeof(key));
    assert_string_equal(key, "addr:?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_peer_key_ipv4_whole),
        cmocka_unit_test(test_login_peer_key_ipv6_by_its_64),
        cmocka_unit_test(test_login_peer_key_mapped_ipv4_is_ipv4),
        cmocka_unit_test(test_login_peer_key_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
