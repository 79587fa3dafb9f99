/* test_webhook_sign - Standard Webhooks signatures: the specification's own example, secrets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/net/webhook_sign.h"

/* the example of the Standard Webhooks specification (its test vector) */
static void test_webhook_sign_reproduces_the_specification_example(void **state)
{
    (void)state;
    const char body[] = "{\"test\": 2432232314}";
    struct buf sig = BUF_INIT;
    assert_int_equal(webhook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                                  1614265330, body, strlen(body), &sig),
                     0);
    assert_string_equal(buf_cstr(&sig), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    buf_free(&sig);
}

static void test_webhook_sign_changes_with_every_signed_part(void **state)
{
    (void)state;
    const char *secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    struct buf a = BUF_INIT, b = BUF_INIT, c = BUF_INIT, d = BUF_INIT;
    assert_int_equal(webhook_sign(secret, "msg_1", 1, "{}", 2, &a), 0);
    assert_int_equal(webhook_sign(secret, "msg_2", 1, "{}", 2, &b), 0);
    assert_int_equal(webhook_sign(secret, "msg_1", 2, "{}", 2, &c), 0);
    assert_int_equal(webhook_sign(secret, "msg_1", 1, "[]", 2, &d), 0);
    assert_string_not_equal(buf_cstr(&a), buf_cstr(&b));
    assert_string_not_equal(buf_cstr(&a), buf_cstr(&c));
    assert_string_not_equal(buf_cstr(&a), buf_cstr(&d));
    buf_free(&a);
    buf_free(&b);
    buf_free(&c);
    buf_free(&d);
}

static void test_webhook_secret_new_is_whsec_and_32_bytes(void **state)
{
    (void)state;
    struct buf s1 = BUF_INIT, s2 = BUF_INIT, key = BUF_INIT;
    assert_int_equal(webhook_secret_new(&s1), 0);
    assert_int_equal(webhook_secret_new(&s2), 0);
    assert_true(strncmp(buf_cstr(&s1), "whsec_", 6) == 0);
    assert_int_equal(strlen(buf_cstr(&s1)), 6 + 44);
    assert_string_not_equal(buf_cstr(&s1), buf_cstr(&s2));
    assert_int_equal(webhook_secret_check(buf_cstr(&s1), &key), 0);
    assert_int_equal(key.len, 32);
    buf_free(&s1);
    buf_free(&s2);
    buf_free(&key);
}

static void test_webhook_secret_check_refuses_what_is_not_a_secret(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "whsec_", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_c2hvcnQ=", /* 5 bytes */
        "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", /* not a whole quantum */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(webhook_secret_check(bad[i], NULL), -1);
    struct buf sig = BUF_INIT;
    assert_int_equal(webhook_sign("whsec_c2hvcnQ=", "msg_1", 1, "{}", 2, &sig), -1);
    assert_int_equal(sig.len, 0);
    buf_free(&sig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_webhook_sign_reproduces_the_specification_example),
        cmocka_unit_test(test_webhook_sign_changes_with_every_signed_part),
        cmocka_unit_test(test_webhook_secret_new_is_whsec_and_32_bytes),
        cmocka_unit_test(test_webhook_secret_check_refuses_what_is_not_a_secret),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
