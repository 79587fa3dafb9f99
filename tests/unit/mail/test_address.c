/* test_address - address syntax and normal form; mailboxes ("Name <addr>"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/mail/address.h"
#include "engine/mail/mime.h"
#include "engine/util/buf.h"

static void test_address_normalizes_valid_addresses(void **state)
{
    (void)state;
    static const struct { const char *in, *out; } cases[] = {
        { "alice@example.com", "alice@example.com" },
        { "  Alice@Example.COM \r\n", "Alice@example.com" },
        { "first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk" },
        { "o'brien@example.ie", "o'brien@example.ie" },
        { "user@example.com.", "user@example.com" },
        { "hans@b\xc3\xbc" "cher.de", "hans@xn--bcher-kva.de" },
        { "x@M\xc3\x9cNCHEN.de", "x@xn--mnchen-3ya.de" },
    };
    char out[ADDRESS_MAX + 1];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *why = NULL;
        assert_int_equal(address_normalize(cases[i].in, out, sizeof(out), &why), 0);
        assert_string_equal(out, cases[i].out);
    }
}

static void test_address_rejects_with_reason(void **state)
{
    (void)state;
    char long_local[80], long_addr[300];
    memset(long_local, 'a', 65);
    strcpy(long_local + 65, "@example.com");
    memset(long_addr, 'a', 250);
    strcpy(long_addr + 250, "@example.com");
    const struct { const char *in, *why; } cases[] = {
        { "", "empty address" },
        { "alice.example.com", "no @" },
        { "a@b@example.com", "more than one @" },
        { "al ice@example.com", "contains spaces" },
        { "alice@example", "domain has no dot" },
        { "alice@exa_mple.com", "bad domain" },
        { "alice@-example.com", "bad domain" },
        { "alice@example..com", "bad domain" },
        { "alice@example.123", "bad domain" },
        { "@example.com", "empty local part" },
        { "alice@", "empty domain" },
        { ".alice@example.com", "local part starts or ends with a dot" },
        { "al..ice@example.com", "two dots in a row" },
        { "al<ice@example.com", "invalid character in local part" },
        { "alice@[192.0.2.1]", "address literals are not accepted" },
        { "a\x01" "b@example.com", "contains control characters" },
        { long_local, "local part longer than 64 octets" },
        { long_addr, "longer than 254 octets" },
        { "x@caf\xe9.com", "domain is not valid UTF-8" },
    };
    char out[ADDRESS_MAX + 1];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *why = "unset";
        assert_int_equal(address_normalize(cases[i].in, out, sizeof(out), &why), -1);
        assert_string_equal(why, cases[i].why);
    }
}

static void test_address_mailbox_splits_name_and_address(void **state)
{
    static const struct {
        const char *in, *name, *addr;
    } ok[] = {
        { "News <news@Example.COM>", "News", "news@example.com" },
        { "\"News, Team\" <a@b.example>", "News, Team", "a@b.example" },
        { "  Spaced Out   <a@b.example>  ", "Spaced Out", "a@b.example" },
        { "a@b.example", "", "a@b.example" },
        { "<a@b.example>", "", "a@b.example" },
        /* a quoted string's escapes stand for the characters: the name is kept unescaped */
        { "\"Sh\\\"op, Inc.\" <shop@b.example>", "Sh\"op, Inc.", "shop@b.example" },
        { "\"Back\\\\slash\" <a@b.example>", "Back\\slash", "a@b.example" },
    };
    static const char *const bad[] = { "News <a@b.example", "News <a@b.example> x", "not an address", "N <>", "" };
    char name[601], addr[ADDRESS_MAX + 1];
    const char *why;
    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(address_mailbox_parse(ok[i].in, name, sizeof(name), addr, &why), 0);
        assert_string_equal(name, ok[i].name);
        assert_string_equal(addr, ok[i].addr);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        assert_int_equal(address_mailbox_parse(bad[i], name, sizeof(name), addr, &why), -1);
        assert_non_null(why);
    }
}

static void test_address_mailbox_table(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int rc;
        const char *name, *addr;
    } cases[] = {
        { "shop@Example.COM", 0, "", "shop@example.com" },
        { "Shop <shop@example.com>", 0, "Shop", "shop@example.com" },
        { "  \"Shop, Inc.\"  < shop@example.com > ", 0, "Shop, Inc.", "shop@example.com" },
        { "Caf\xc3\xa9 <caf\xc3\xa9@b\xc3\xbc" "cher.de>", -1, NULL, NULL },
        { "Shop <shop@b\xc3\xbc" "cher.de>", 0, "Shop", "shop@xn--bcher-kva.de" },
        { "Shop <not an address>", -1, NULL, NULL },
        { "Shop <shop@example.com", -1, NULL, NULL },
        { "Shop <shop@example.com> trailing", -1, NULL, NULL },
        { "Sh\r\nBcc: x@example.com <shop@example.com>", -1, NULL, NULL },
        { "", -1, NULL, NULL },
        { "<>", -1, NULL, NULL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char name[256], addr[ADDRESS_MAX + 1];
        const char *why = NULL;
        int rc = address_mailbox_parse(cases[i].in, name, sizeof(name), addr, &why);
        if (rc != cases[i].rc)
            fail_msg("case %zu \"%s\": %d, expected %d", i, cases[i].in, rc, cases[i].rc);
        if (rc == 0) {
            assert_string_equal(name, cases[i].name);
            assert_string_equal(addr, cases[i].addr);
        } else {
            assert_non_null(why);
        }
    }
}

/* a From display name holds no control character, line breaks and tabs included, each named */
static void test_address_mailbox_name_without_control_characters(void **state)
{
    (void)state;
    static const struct {
        const char *in, *why;
    } cases[] = {
        { "Sh\r\nBcc: x@example.com <shop@example.com>", "the name holds a line break" },
        { "\"Shop\nNews\" <shop@example.com>", "the name holds a line break" },
        { "Shop\tNews <shop@example.com>", "the name holds a tab" },
        { "Shop\x07 <shop@example.com>", "the name holds a control character" },
        { "\"Sh\x1b[1mop\" <shop@example.com>", "the name holds a control character" },
        { "Shop\x7f <shop@example.com>", "the name holds a control character" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char name[256], addr[ADDRESS_MAX + 1];
        const char *why = NULL;
        assert_int_equal(address_mailbox_parse(cases[i].in, name, sizeof(name), addr, &why), -1);
        assert_string_equal(why, cases[i].why);
    }
}

static void test_address_mailbox_name_too_long(void **state)
{
    (void)state;
    char in[400], name[16], addr[ADDRESS_MAX + 1];
    const char *why = NULL;
    snprintf(in, sizeof(in), "%s <a@example.com>", "A very long display name indeed");
    assert_int_equal(address_mailbox_parse(in, name, sizeof(name), addr, &why), -1);
    assert_string_equal(why, "the name is too long");
}

/* a From display name with a quote comes out escaped once, in a quoted string */
static void test_address_display_name_with_a_quote_is_escaped_once(void **state)
{
    char name[601], addr[ADDRESS_MAX + 1];
    const char *why;
    struct buf out = BUF_INIT;
    (void)state;
    assert_int_equal(address_mailbox_parse("\"Sh\\\"op, Inc.\" <shop@b.example>", name, sizeof(name), addr, &why), 0);
    mime_header_address(&out, "From", name, addr);
    assert_string_equal(buf_cstr(&out), "From: \"Sh\\\"op, Inc.\" <shop@b.example>\r\n");
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_address_display_name_with_a_quote_is_escaped_once),
        cmocka_unit_test(test_address_normalizes_valid_addresses),
        cmocka_unit_test(test_address_rejects_with_reason),
        cmocka_unit_test(test_address_mailbox_splits_name_and_address),
        cmocka_unit_test(test_address_mailbox_table),
        cmocka_unit_test(test_address_mailbox_name_too_long),
        cmocka_unit_test(test_address_mailbox_name_without_control_characters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
