/* test_tx - a transactional message is composed without the bulk-mail headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine/mail/compose.h"
#include "engine/store/tx.h"

/* render one message of C for a fixed recipient into OUT */
static void compose_one(struct compose_campaign *c, struct buf *out)
{
    const char *why;
    struct compose_recipient r = { .subscriber_id = 7, .email = "ann@example.org", .name = "Ann",
                                   .list_id = 3, .list_name = "news", .delivery_id = "99" };
    struct compose_scratch s = COMPOSE_SCRATCH_INIT;
    assert_int_equal(compose_message(c, &r, 1795852800, &s, out, &why), 0);
    compose_scratch_free(&s);
}

static void test_tx_compose_has_no_list_headers(void **state)
{
    (void)state;
    char err[TMPL_ERR_MAX];
    struct tmpl *html = tmpl_compile("<p>Order for {{ name }}</p>", 27, err, sizeof(err));
    struct tmpl *subject = tmpl_compile("Your order", 10, err, sizeof(err));
    assert_non_null(html);
    assert_non_null(subject);
    unsigned char key[TOKEN_KEY_LEN] = "0123456789abcdef0123456789abcdef";
    struct compose_campaign c = {
        .id = 42, .name = "tx", .subject = subject, .html = html, .from_name = "Shop",
        .from_addr = "shop@example.com", .public_url = "https://shop.example.com", .token_key = key,
        .unsubscribe_mailto = "unsubscribe@example.com",
    };
    struct buf bulk = BUF_INIT, tx = BUF_INIT;
    compose_one(&c, &bulk);
    c.transactional = true;
    compose_one(&c, &tx);
    assert_non_null(strstr(bulk.data, "\r\nList-Unsubscribe: "));
    assert_non_null(strstr(bulk.data, "\r\nList-Id: "));
    assert_null(strstr(tx.data, "List-Unsubscribe"));
    assert_null(strstr(tx.data, "List-Id"));
    assert_null(strstr(tx.data, "List-Unsubscribe-Post"));
    assert_non_null(strstr(tx.data, "\r\nSubject: Your order\r\n"));
    assert_non_null(strstr(tx.data, "\r\nX-Postino-Delivery: 99\r\n"));
    assert_non_null(strstr(tx.data, "Order for Ann"));
    buf_free(&bulk);
    buf_free(&tx);
    tmpl_free(html);
    tmpl_free(subject);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tx_compose_has_no_list_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
