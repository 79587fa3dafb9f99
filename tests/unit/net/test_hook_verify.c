/*
 * test_hook_verify - email services' webhook signatures: SendGrid's published
 * example, Mailgun's HMAC, SNS messages signed here with a certificate of a
 * test CA (made with the openssl command in a temporary directory), HTTP Basic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "engine/net/hook_verify.h"
#include "engine/util/base64.h"

/* SendGrid's own example (its libraries' tests): key, payload, signature, timestamp */
#define SG_KEY "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA=="
#define SG_OTHER_KEY "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqTxd43gyp8IOEto2LdIfjRQrIbsd4SXZkLW6jDutdhXSJCWHw8REntlo7aNDthvj+y7GjUuFDb/R1NGe1OPzpA=="
#define SG_PAYLOAD "{\"category\":\"example_payload\",\"event\":\"test_event\",\"message_id\":\"message_id\"}"
#define SG_SIG "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0="
#define SG_TS "1588788367"

static void test_hook_verify_sendgrid_reproduces_the_published_example(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(hook_verify_sendgrid(SG_KEY, SG_TS, SG_PAYLOAD, strlen(SG_PAYLOAD), SG_SIG, err, sizeof(err)), 0);
}

static void test_hook_verify_sendgrid_refuses_any_change(void **state)
{
    (void)state;
    char err[256];
    const char other_sig[] = "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH3j/0=";
    assert_int_equal(hook_verify_sendgrid(SG_OTHER_KEY, SG_TS, SG_PAYLOAD, strlen(SG_PAYLOAD), SG_SIG, err,
                                          sizeof(err)), -1);
    assert_string_equal(err, "the SendGrid signature does not match");
    assert_int_equal(hook_verify_sendgrid(SG_KEY, "1388788367", SG_PAYLOAD, strlen(SG_PAYLOAD), SG_SIG, err,
                                          sizeof(err)), -1);
    assert_int_equal(hook_verify_sendgrid(SG_KEY, SG_TS, "payload", 7, SG_SIG, err, sizeof(err)), -1);
    assert_int_equal(hook_verify_sendgrid(SG_KEY, SG_TS, SG_PAYLOAD, strlen(SG_PAYLOAD), other_sig, err,
                                          sizeof(err)), -1);
    assert_int_equal(hook_verify_sendgrid(SG_KEY, NULL, SG_PAYLOAD, strlen(SG_PAYLOAD), SG_SIG, err, sizeof(err)),
                     -1);
    assert_string_equal(err, "no X-Twilio-Email-Event-Webhook-Signature or -Timestamp header");
    assert_int_equal(hook_verify_sendgrid("not a key", SG_TS, SG_PAYLOAD, strlen(SG_PAYLOAD), SG_SIG, err,
                                          sizeof(err)), -1);
    assert_string_equal(err, "[hooks] sendgrid_public_key_file holds no EC public key");
}

/* HMAC-SHA256("key-7a2c3f0e9b1d4c5a8e6f2b3d1c0a9e8f", timestamp + token), computed apart (Python's hmac) */
#define MG_KEY "key-7a2c3f0e9b1d4c5a8e6f2b3d1c0a9e8f"
#define MG_TOKEN "a8ce0edb2dd8301dccd6c2ae8f7e8e4c5e6f8f1b5b2fc3c9e0"
#define MG_SIG "f49fc4fc6df77e205280e5708d163a454f2b845bd18f844c35ccafceb37b8670"

static void test_hook_verify_mailgun_hmac_of_timestamp_and_token(void **state)
{
    (void)state;
    char err[256], upper[] = MG_SIG;
    assert_int_equal(hook_verify_mailgun(MG_KEY, strlen(MG_KEY), "1529006854", MG_TOKEN, MG_SIG, err, sizeof(err)), 0);
    for (char *p = upper; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'f' ? *p - 32 : *p);
    assert_int_equal(hook_verify_mailgun(MG_KEY, strlen(MG_KEY), "1529006854", MG_TOKEN, upper, err, sizeof(err)), 0);
    assert_int_equal(hook_verify_mailgun(MG_KEY, strlen(MG_KEY), "1529006855", MG_TOKEN, MG_SIG, err, sizeof(err)), -1);
    assert_string_equal(err, "the Mailgun signature does not match");
    assert_int_equal(hook_verify_mailgun("key-other", 9, "1529006854", MG_TOKEN, MG_SIG, err, sizeof(err)), -1);
    assert_int_equal(hook_verify_mailgun(MG_KEY, strlen(MG_KEY), "1529006854", MG_TOKEN, "f49f", err, sizeof(err)), -1);
    assert_int_equal(hook_verify_mailgun(MG_KEY, strlen(MG_KEY), "1529006854", NULL, MG_SIG, err, sizeof(err)), -1);
}

static void test_hook_basic_auth(void **state)
{
    (void)state;
    /* "postmark:s3cret" */
    assert_true(hook_basic_auth_ok("Basic cG9zdG1hcms6czNjcmV0", "postmark", "s3cret"));
    assert_true(hook_basic_auth_ok("basic  cG9zdG1hcms6czNjcmV0", "postmark", "s3cret"));
    assert_false(hook_basic_auth_ok("Basic cG9zdG1hcms6czNjcmV0", "postmark", "s3cre"));
    assert_false(hook_basic_auth_ok("Basic cG9zdG1hcms6czNjcmV0", "postmar", "s3cret"));
    assert_false(hook_basic_auth_ok("Bearer cG9zdG1hcms6czNjcmV0", "postmark", "s3cret"));
    assert_false(hook_basic_auth_ok("Basic !!!", "postmark", "s3cret"));
    assert_false(hook_basic_auth_ok(NULL, "postmark", "s3cret"));
}

static void test_hook_time(void **state)
{
    (void)state;
    long long t;
    assert_int_equal(hook_sns_time("2012-04-26T20:45:04.751Z", &t), 0);
    assert_int_equal(t, 1335473104LL);
    assert_int_equal(hook_sns_time("2012-04-26T20:45:04Z", &t), 0);
    assert_int_equal(hook_sns_time("2012-04-26T20:45:04.751+02:00", &t), -1);
    assert_int_equal(hook_sns_time("yesterday", &t), -1);
    assert_true(hook_time_fresh(1000, 1300, 300));
    assert_true(hook_time_fresh(1300, 1000, 300));
    assert_false(hook_time_fresh(1000, 1301, 300));
    assert_false(hook_time_fresh(1301, 1000, 300));
}

static void test_hook_sns_url_ok_only_https_on_an_sns_host(void **state)
{
    (void)state;
    assert_true(hook_sns_url_ok("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem"));
    assert_true(hook_sns_url_ok("https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem"));
    assert_false(hook_sns_url_ok("http://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem"));
    assert_false(hook_sns_url_ok("https://sns.us-east-1.amazonaws.com.evil.example/x.pem"));
    assert_false(hook_sns_url_ok("https://evil.example/sns.us-east-1.amazonaws.com/x.pem"));
    assert_false(hook_sns_url_ok("https://sns.us-east-1.amazonaws.com@evil.example/x.pem"));
    assert_false(hook_sns_url_ok("https://sns.us-east-1.amazonaws.com:8443/x.pem"));
    assert_false(hook_sns_url_ok("https://s3.us-east-1.amazonaws.com/x.pem"));
}

/* the canonical strings of the SNS documentation: Subject only when present, confirmations with their URL and Token */
static void test_hook_sns_string_to_sign(void **state)
{
    (void)state;
    struct buf s = BUF_INIT;
    json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Type", "Notification", "MessageId", "id-1",
                          "TopicArn", "arn:aws:sns:us-east-1:1:t", "Message", "line 1\nline 2", "Timestamp",
                          "2012-04-26T20:45:04.751Z", "SignatureVersion", "1", "UnsubscribeURL", "https://x");
    assert_int_equal(hook_sns_string_to_sign(m, &s), 0);
    assert_string_equal(buf_cstr(&s), "Message\nline 1\nline 2\nMessageId\nid-1\nTimestamp\n2012-04-26T20:45:04.751Z\n"
                                      "TopicArn\narn:aws:sns:us-east-1:1:t\nType\nNotification\n");
    json_object_set_new(m, "Subject", json_string("Hi"));
    assert_int_equal(hook_sns_string_to_sign(m, &s), 0);
    assert_string_equal(buf_cstr(&s), "Message\nline 1\nline 2\nMessageId\nid-1\nSubject\nHi\nTimestamp\n"
                                      "2012-04-26T20:45:04.751Z\nTopicArn\narn:aws:sns:us-east-1:1:t\nType\nNotification\n");
    json_object_set_new(m, "Type", json_string("SubscriptionConfirmation"));
    assert_int_equal(hook_sns_string_to_sign(m, &s), -1);   /* no SubscribeURL, no Token */
    json_object_set_new(m, "SubscribeURL", json_string("https://sns.us-east-1.amazonaws.com/?Action=Confirm"));
    json_object_set_new(m, "Token", json_string("tok"));
    assert_int_equal(hook_sns_string_to_sign(m, &s), 0);
    assert_string_equal(buf_cstr(&s), "Message\nline 1\nline 2\nMessageId\nid-1\nSubscribeURL\n"
                                      "https://sns.us-east-1.amazonaws.com/?Action=Confirm\nTimestamp\n"
                                      "2012-04-26T20:45:04.751Z\nToken\ntok\nTopicArn\narn:aws:sns:us-east-1:1:t\n"
                                      "Type\nSubscriptionConfirmation\n");
    json_object_set_new(m, "Type", json_string("Other"));
    assert_int_equal(hook_sns_string_to_sign(m, &s), -1);
    json_decref(m);
    buf_free(&s);
}

static char dir[] = "/tmp/test_hook_verify.XXXXXX";

/* run a shell command in the temporary directory; it must succeed */
static void sh(const char *cmd)
{
    char full[2048];
    snprintf(full, sizeof(full), "cd %s && (%s) >/dev/null 2>&1", dir, cmd);
    assert_int_equal(system(full), 0);
}

/* a test CA, a certificate of it for sns.amazonaws.com, one for another name, and one of another CA */
static int certs_setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    sh("mkdir certs");
    sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -subj /CN=Test-SNS-CA -days 2");
    sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -subj /CN=Other-CA -days 2");
    sh("openssl req -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj /CN=sns.amazonaws.com && "
       "printf 'subjectAltName=DNS:sns.amazonaws.com\\n' > ext && "
       "openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext "
       "-out certs/SimpleNotificationService-good.pem && "
       "openssl x509 -req -in leaf.csr -CA other-ca.pem -CAkey other-ca.key -CAcreateserial -days 2 -extfile ext "
       "-out certs/SimpleNotificationService-othera.pem && "
       "openssl req -new -key leaf.key -out evil.csr -subj /CN=evil.example && "
       "printf 'subjectAltName=DNS:evil.example\\n' > ext2 && "
       "openssl x509 -req -in evil.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext2 "
       "-out certs/SimpleNotificationService-name.pem");
    return 0;
}

static int certs_teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* an SNS Notification signed with the leaf's key (version 1 or 2), its certificate at CERT's URL */
static json_t *sns_signed(const char *ver, const char *cert)
{
    char path[300], url[300];
    snprintf(path, sizeof(path), "%s/leaf.key", dir);
    snprintf(url, sizeof(url), "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-%s.pem", cert);
    json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Type", "Notification", "MessageId",
                          "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324", "TopicArn", "arn:aws:sns:us-east-1:123456789012:ses",
                          "Message", "{\"notificationType\":\"Delivery\"}", "Timestamp", "2012-05-02T00:54:06.655Z",
                          "SignatureVersion", ver, "SigningCertURL", url);
    struct buf text = BUF_INIT, b64 = BUF_INIT;
    assert_int_equal(hook_sns_string_to_sign(m, &text), 0);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(key);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char sig[512];
    size_t slen = sizeof(sig);
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, strcmp(ver, "1") == 0 ? EVP_sha1() : EVP_sha256(), NULL, key), 1);
    assert_int_equal(EVP_DigestSign(ctx, sig, &slen, (unsigned char *)text.data, text.len), 1);
    base64_encode(&b64, sig, slen);
    json_object_set_new(m, "Signature", json_string(buf_cstr(&b64)));
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    buf_free(&text);
    buf_free(&b64);
    return m;
}

static void test_hook_verify_sns_versions_1_and_2(void **state)
{
    (void)state;
    char err[256], certs[300], ca[300];
    snprintf(certs, sizeof(certs), "%s/certs", dir);
    snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
    struct hook_sns_certs src = { certs, ca };
    json_t *m1 = sns_signed("1", "good"), *m2 = sns_signed("2", "good");
    assert_int_equal(hook_verify_sns(m1, &src, err, sizeof(err)), 0);
    assert_int_equal(hook_verify_sns(m2, &src, err, sizeof(err)), 0);
    /* a version 1 signature said to be version 2 */
    json_object_set_new(m1, "SignatureVersion", json_string("2"));
    assert_int_equal(hook_verify_sns(m1, &src, err, sizeof(err)), -1);
    assert_string_equal(err, "the SNS signature does not match");
    /* any signed field changed */
    json_object_set_new(m2, "Message", json_string("{\"notificationType\":\"Bounce\"}"));
    assert_int_equal(hook_verify_sns(m2, &src, err, sizeof(err)), -1);
    assert_string_equal(err, "the SNS signature does not match");
    json_decref(m1);
    json_decref(m2);
}

static void test_hook_verify_sns_refuses_certificates_not_from_sns(void **state)
{
    (void)state;
    char err[256], certs[300], ca[300];
    snprintf(certs, sizeof(certs), "%s/certs", dir);
    snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
    struct hook_sns_certs src = { certs, ca };
    json_t *m = sns_signed("2", "othera");
    assert_int_equal(hook_verify_sns(m, &src, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "the SNS certificate is not trusted"));
    json_decref(m);
    m = sns_signed("2", "name");
    assert_int_equal(hook_verify_sns(m, &src, err, sizeof(err)), -1);
    assert_string_equal(err, "the SNS certificate names neither sns.us-east-1.amazonaws.com nor sns.amazonaws.com");
    json_decref(m);
    m = sns_signed("2", "absent");
    assert_int_equal(hook_verify_sns(m, &src, err, sizeof(err)), -1);
    assert_string_equal(err, "no SNS certificate for SimpleNotificationService-absent.pem in [hooks] sns_cert_dir");
    json_decref(m);
    m = sns_signed("2", "good");
    json_object_set_new(m, "SigningCertURL", json_string("https://evil.example/SimpleNotificationService-good.pem"));
    assert_int_equal(hook_verify_sns(m, &src, err, sizeof(err)), -1);
    assert_string_equal(err, "SigningCertURL is not https on an SNS host (sns.REGION.amazonaws.com)");
    json_object_set_new(m, "SigningCertURL", json_string("https://sns.us-east-1.amazonaws.com/../ca.pem"));
    assert_int_equal(hook_verify_sns(m, &src, err, sizeof(err)), -1);
    json_object_set_new(m, "SigningCertURL", json_string("https://sns.us-east-1.amazonaws.com/.pem"));
    assert_int_equal(hook_verify_sns(m, &src, err, sizeof(err)), -1);
    assert_string_equal(err, "SigningCertURL does not name a .pem file");
    json_decref(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hook_verify_sendgrid_reproduces_the_published_example),
        cmocka_unit_test(test_hook_verify_sendgrid_refuses_any_change),
        cmocka_unit_test(test_hook_verify_mailgun_hmac_of_timestamp_and_token),
        cmocka_unit_test(test_hook_basic_auth),
        cmocka_unit_test(test_hook_time),
        cmocka_unit_test(test_hook_sns_url_ok_only_https_on_an_sns_host),
        cmocka_unit_test(test_hook_sns_string_to_sign),
        cmocka_unit_test(test_hook_verify_sns_versions_1_and_2),
        cmocka_unit_test(test_hook_verify_sns_refuses_certificates_not_from_sns),
    };
    return cmocka_run_group_tests(tests, certs_setup, certs_teardown);
}
