/*
 * hook_verify - the signatures email services put on their webhooks, checked
 * with OpenSSL's EVP interfaces (X509 for Amazon SNS's certificate).
 *
 * hook_sns_string_to_sign  SNS's canonical "Name\nvalue\n" string of a message's fields
 * hook_sns_url_ok          is a URL https on sns.<region>.amazonaws.com (or .com.cn)
 * hook_verify_sns          an SNS message's Signature (version 1: SHA1, 2: SHA256)
 *                          against the certificate at its SigningCertURL
 * hook_verify_sendgrid     SendGrid's ECDSA P-256 signature over timestamp + body
 * hook_verify_mailgun      Mailgun's HMAC-SHA256 of timestamp + token, in hex
 * hook_basic_auth_ok       an Authorization header of HTTP Basic with this user and password
 * hook_time_fresh          is a timestamp within MAX_AGE seconds of now (either way)
 * hook_sns_time            an SNS Timestamp ("2012-04-26T20:45:04.751Z") in seconds
 *
 * The SNS certificate: its URL must be https on an SNS host; with
 * CERT_DIR set it is read from CERT_DIR/<the URL's file name> instead of
 * fetched (for tests, and for hosts that may not reach out), otherwise fetched
 * once with libcurl (TLS verified, no redirect, 10 s, 64 KiB at most). Either
 * way it must chain to a CA of CA_FILE (NULL: the system's) and name the SNS
 * host or sns.amazonaws.com; it is then kept, by URL, for the process's life
 * (SNS rotates certificates under new URLs). Every check returns 0 or -1 with
 * ERR in a line that says what failed, never a key.
 */
#ifndef POSTINO_NET_HOOK_VERIFY_H
#define POSTINO_NET_HOOK_VERIFY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "engine/util/buf.h"

struct hook_sns_certs {
    const char *cert_dir;   /* certificates as local files; NULL: fetched */
    const char *ca_file;    /* CAs the certificate must chain to; NULL: the system's */
};

int hook_sns_string_to_sign(json_t *msg, struct buf *out);
bool hook_sns_url_ok(const char *url);
int hook_verify_sns(json_t *msg, const struct hook_sns_certs *src, char *err, size_t errlen);
int hook_verify_sendgrid(const char *public_key, const char *timestamp, const void *body, size_t len,
                         const char *signature, char *err, size_t errlen);
int hook_verify_mailgun(const char *key, size_t keylen, const char *timestamp, const char *token,
                        const char *signature, char *err, size_t errlen);
bool hook_basic_auth_ok(const char *authorization, const char *user, const char *password);
bool hook_time_fresh(long long t, time_t now, unsigned max_age);
int hook_sns_time(const char *text, long long *out);

#endif
