/*
 * hook_verify - email services' webhook signatures (see hook_verify.h).
 *
 * digest_verify  one EVP signature check: KEY's signature SIG over DATA with MD
 * sns_cert_load  the SNS signing certificate for a URL: the cache, the
 *                directory or libcurl, then its chain and name checked
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "engine/net/hook_verify.h"
#include "engine/util/base64.h"
#include "engine/util/file.h"

#define SNS_CERT_MAX (64u << 10)
#define SNS_CACHE_MAX 16

/* hook_sns_string_to_sign - see hook_verify.h. */
int hook_sns_string_to_sign(json_t *msg, struct buf *out)
{
    static const char *const notification[] = { "Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type",
                                                NULL };
    static const char *const confirmation[] = { "Message", "MessageId", "SubscribeURL", "Timestamp", "Token",
                                                "TopicArn", "Type", NULL };
    const char *type = json_string_value(json_object_get(msg, "Type"));
    const char *const *names;
    if (!type)
        return -1;
    if (strcmp(type, "Notification") == 0)
        names = notification;
    else if (strcmp(type, "SubscriptionConfirmation") == 0 || strcmp(type, "UnsubscribeConfirmation") == 0)
        names = confirmation;
    else
        return -1;
    buf_reset(out);
    for (size_t i = 0; names[i]; i++) {
        json_t *v = json_object_get(msg, names[i]);
        if (!v && strcmp(names[i], "Subject") == 0)
            continue;   /* only when the message has one */
        if (!json_is_string(v))
            return -1;
        buf_appendf(out, "%s\n", names[i]);
        buf_append(out, json_string_value(v), json_string_length(v));
        buf_appendc(out, '\n');
    }
    return 0;
}

/* the host of an https URL into HOST, and where its path starts; -1 when not https or no host */
static int url_host(const char *url, char *host, size_t hostlen, const char **path)
{
    if (strncasecmp(url, "https://", 8) != 0)
        return -1;
    const char *h = url + 8, *end = h + strcspn(h, "/?#");
    if (end == h || (size_t)(end - h) >= hostlen || memchr(h, '@', end - h) || memchr(h, ':', end - h))
        return -1;
    memcpy(host, h, end - h);
    host[end - h] = 0;
    *path = end;
    return 0;
}

/* sns.<region>.amazonaws.com or .com.cn, the region of letters, digits and dashes */
static bool sns_host_ok(const char *host)
{
    if (strncasecmp(host, "sns.", 4) != 0)
        return false;
    const char *r = host + 4;
    size_t n = strspn(r, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");
    if (n < 3)
        return false;
    return strcasecmp(r + n, ".amazonaws.com") == 0 || strcasecmp(r + n, ".amazonaws.com.cn") == 0;
}

/* hook_sns_url_ok - see hook_verify.h. */
bool hook_sns_url_ok(const char *url)
{
    char host[256];
    const char *path;
    return url && url_host(url, host, sizeof(host), &path) == 0 && sns_host_ok(host);
}

/* digest_verify - KEY's signature SIG (LEN bytes) over DATA with MD; 0 when it verifies */
static int digest_verify(EVP_PKEY *key, const EVP_MD *md, const void *data, size_t dlen, const unsigned char *sig,
                         size_t slen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1 &&
             EVP_DigestVerify(ctx, sig, slen, data, dlen) == 1;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -1;
}

struct fetch { struct buf body; bool too_big; };

static size_t fetch_write(char *p, size_t size, size_t n, void *arg)
{
    struct fetch *f = arg;
    if (f->body.len + size * n > SNS_CERT_MAX) {
        f->too_big = true;
        return 0;
    }
    buf_append(&f->body, p, size * n);
    return size * n;
}

/* the PEM at URL, fetched over verified TLS; 0 or -1 with ERR */
static int sns_cert_fetch(const char *url, const char *ca_file, struct buf *pem, char *err, size_t errlen)
{
    struct fetch f = { BUF_INIT, false };
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(err, errlen, "cannot fetch the SNS certificate: libcurl did not start");
        return -1;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fetch_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &f);
    if (ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK || status != 200) {
        snprintf(err, errlen, "cannot fetch the SNS certificate %s: %s", url,
                 f.too_big ? "larger than 64 KiB" : rc != CURLE_OK ? curl_easy_strerror(rc) : "not HTTP 200");
        buf_free(&f.body);
        return -1;
    }
    *pem = f.body;
    return 0;
}

/* the certificate's chain to CA_FILE (or the system's CAs) and its name; 0 or -1 with ERR */
static int sns_cert_check(X509 *cert, const char *host, const char *ca_file, char *err, size_t errlen)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok = store && ctx && (ca_file ? X509_STORE_load_file(store, ca_file) == 1
                                      : X509_STORE_set_default_paths(store) == 1);
    if (!ok)
        snprintf(err, errlen, "cannot read the CAs for the SNS certificate%s%s", ca_file ? " from " : "",
                 ca_file ? ca_file : "");
    else if (X509_STORE_CTX_init(ctx, store, cert, NULL) != 1 || X509_verify_cert(ctx) != 1) {
        snprintf(err, errlen, "the SNS certificate is not trusted: %s",
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
        ok = 0;
    } else if (X509_check_host(cert, host, 0, 0, NULL) != 1 &&
               X509_check_host(cert, "sns.amazonaws.com", 0, 0, NULL) != 1) {
        snprintf(err, errlen, "the SNS certificate names neither %s nor sns.amazonaws.com", host);
        ok = 0;
    }
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return ok ? 0 : -1;
}

static struct { char *url; EVP_PKEY *key; } sns_cache[SNS_CACHE_MAX];
static size_t sns_cached;
static pthread_mutex_t sns_lock = PTHREAD_MUTEX_INITIALIZER;

/* sns_cert_load - the public key of the checked certificate at URL (a new reference); NULL with ERR */
static EVP_PKEY *sns_cert_load(const char *url, const struct hook_sns_certs *src, char *err, size_t errlen)
{
    char host[256];
    const char *path;
    EVP_PKEY *key = NULL;
    if (url_host(url, host, sizeof(host), &path) < 0 || !sns_host_ok(host)) {
        snprintf(err, errlen, "SigningCertURL is not https on an SNS host (sns.REGION.amazonaws.com)");
        return NULL;
    }
    pthread_mutex_lock(&sns_lock);
    for (size_t i = 0; i < sns_cached; i++)
        if (strcmp(sns_cache[i].url, url) == 0 && EVP_PKEY_up_ref(sns_cache[i].key) == 1)
            key = sns_cache[i].key;
    pthread_mutex_unlock(&sns_lock);
    if (key)
        return key;

    struct buf pem = BUF_INIT;
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : "";
    size_t nlen = strlen(name);
    if (nlen < 5 || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != nlen ||
        name[0] == '.' || strcmp(name + nlen - 4, ".pem") != 0) {
        snprintf(err, errlen, "SigningCertURL does not name a .pem file");
        return NULL;
    }
    if (src->cert_dir) {
        char file[4096], ferr[256];
        snprintf(file, sizeof(file), "%s/%s", src->cert_dir, name);
        if (file_read(file, SNS_CERT_MAX, &pem, ferr, sizeof(ferr)) < 0) {
            snprintf(err, errlen, "no SNS certificate for %s in [hooks] sns_cert_dir", name);
            buf_free(&pem);
            return NULL;
        }
    } else if (sns_cert_fetch(url, src->ca_file, &pem, err, errlen) < 0) {
        return NULL;
    }
    BIO *bio = BIO_new_mem_buf(pem.data, (int)pem.len);
    X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    buf_free(&pem);
    if (!cert) {
        snprintf(err, errlen, "the SNS certificate %s is not a PEM certificate", name);
        return NULL;
    }
    if (sns_cert_check(cert, host, src->ca_file, err, errlen) == 0)
        key = X509_get_pubkey(cert);
    X509_free(cert);
    if (!key)
        return NULL;
    pthread_mutex_lock(&sns_lock);
    if (sns_cached < SNS_CACHE_MAX && EVP_PKEY_up_ref(key) == 1) {
        sns_cache[sns_cached].url = strdup(url);
        if (sns_cache[sns_cached].url)
            sns_cache[sns_cached++].key = key;
        else
            EVP_PKEY_free(key);
    }
    pthread_mutex_unlock(&sns_lock);
    return key;
}

/* hook_verify_sns - see hook_verify.h. */
int hook_verify_sns(json_t *msg, const struct hook_sns_certs *src, char *err, size_t errlen)
{
    const char *ver = json_string_value(json_object_get(msg, "SignatureVersion"));
    const char *sig = json_string_value(json_object_get(msg, "Signature"));
    const char *url = json_string_value(json_object_get(msg, "SigningCertURL"));
    const EVP_MD *md = ver && strcmp(ver, "1") == 0 ? EVP_sha1() : ver && strcmp(ver, "2") == 0 ? EVP_sha256() : NULL;
    struct buf text = BUF_INIT, raw = BUF_INIT;
    int rc = -1;
    if (!md)
        snprintf(err, errlen, "SignatureVersion is neither 1 nor 2");
    else if (!sig || !url)
        snprintf(err, errlen, "the message has no Signature or SigningCertURL");
    else if (hook_sns_string_to_sign(msg, &text) < 0)
        snprintf(err, errlen, "the message lacks a field its signature covers");
    else if (base64_decode(&raw, sig, strlen(sig)) < 0 || raw.len == 0)
        snprintf(err, errlen, "Signature is not base64");
    else {
        EVP_PKEY *key = sns_cert_load(url, src, err, errlen);
        if (key && digest_verify(key, md, text.data, text.len, (unsigned char *)raw.data, raw.len) == 0)
            rc = 0;
        else if (key)
            snprintf(err, errlen, "the SNS signature does not match");
        EVP_PKEY_free(key);
    }
    buf_free(&text);
    buf_free(&raw);
    return rc;
}

/* a public key from base64 DER (as SendGrid shows it) or PEM; NULL when neither */
static EVP_PKEY *public_key_parse(const char *text)
{
    EVP_PKEY *key = NULL;
    if (strstr(text, "-----BEGIN")) {
        BIO *bio = BIO_new_mem_buf(text, -1);
        key = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        return key;
    }
    struct buf der = BUF_INIT;
    if (base64_decode(&der, text, strlen(text)) == 0) {
        const unsigned char *p = (const unsigned char *)der.data;
        key = d2i_PUBKEY(NULL, &p, (long)der.len);
    }
    buf_free(&der);
    return key;
}

/* hook_verify_sendgrid - see hook_verify.h. */
int hook_verify_sendgrid(const char *public_key, const char *timestamp, const void *body, size_t len,
                         const char *signature, char *err, size_t errlen)
{
    EVP_PKEY *key = public_key_parse(public_key);
    struct buf sig = BUF_INIT, data = BUF_INIT;
    int rc = -1;
    if (!key || !EVP_PKEY_is_a(key, "EC"))
        snprintf(err, errlen, "[hooks] sendgrid_public_key_file holds no EC public key");
    else if (!timestamp || !signature)
        snprintf(err, errlen, "no X-Twilio-Email-Event-Webhook-Signature or -Timestamp header");
    else if (base64_decode(&sig, signature, strlen(signature)) < 0 || sig.len == 0)
        snprintf(err, errlen, "the signature is not base64");
    else {
        buf_appends(&data, timestamp);
        buf_append(&data, body, len);
        if (digest_verify(key, EVP_sha256(), data.data, data.len, (unsigned char *)sig.data, sig.len) == 0)
            rc = 0;
        else
            snprintf(err, errlen, "the SendGrid signature does not match");
    }
    EVP_PKEY_free(key);
    buf_free(&sig);
    buf_free(&data);
    return rc;
}

/* hook_verify_mailgun - see hook_verify.h. */
int hook_verify_mailgun(const char *key, size_t keylen, const char *timestamp, const char *token,
                        const char *signature, char *err, size_t errlen)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    if (!timestamp || !token || !signature) {
        snprintf(err, errlen, "the signature object lacks timestamp, token or signature");
        return -1;
    }
    struct buf data = BUF_INIT;
    buf_appends(&data, timestamp);
    buf_appends(&data, token);
    unsigned char *r = EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, keylen, (unsigned char *)data.data,
                                 data.len, mac, sizeof(mac), &maclen);
    buf_free(&data);
    if (!r) {
        snprintf(err, errlen, "cannot compute the HMAC");
        return -1;
    }
    for (size_t i = 0; i < maclen; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    size_t n = strlen(signature);
    char given[2 * EVP_MAX_MD_SIZE + 1];
    for (size_t i = 0; i < n && i < sizeof(given) - 1; i++)
        given[i] = (char)tolower((unsigned char)signature[i]);
    if (n != 2 * maclen || CRYPTO_memcmp(hex, given, n) != 0) {
        snprintf(err, errlen, "the Mailgun signature does not match");
        return -1;
    }
    return 0;
}

/* hook_basic_auth_ok - see hook_verify.h. */
bool hook_basic_auth_ok(const char *authorization, const char *user, const char *password)
{
    if (!authorization || !user || !password || strncasecmp(authorization, "Basic ", 6) != 0)
        return false;
    struct buf dec = BUF_INIT, want = BUF_INIT;
    const char *b = authorization + 6;
    while (*b == ' ')
        b++;
    bool ok = false;
    if (base64_decode(&dec, b, strlen(b)) == 0) {
        buf_appendf(&want, "%s:%s", user, password);
        /* the same length first, then every byte compared whatever the first difference */
        ok = dec.len == want.len && CRYPTO_memcmp(dec.data, want.data, want.len) == 0;
    }
    if (dec.data)
        OPENSSL_cleanse(dec.data, dec.len);
    if (want.data)
        OPENSSL_cleanse(want.data, want.len);
    buf_free(&dec);
    buf_free(&want);
    return ok;
}

/* hook_time_fresh - see hook_verify.h. */
bool hook_time_fresh(long long t, time_t now, unsigned max_age)
{
    long long d = (long long)now - t;
    return d <= (long long)max_age && d >= -(long long)max_age;
}

/* hook_sns_time - see hook_verify.h. */
int hook_sns_time(const char *text, long long *out)
{
    struct tm tm = { 0 };
    const char *end = text ? strptime(text, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!end)
        return -1;
    if (*end == '.') {
        end++;
        if (!isdigit((unsigned char)*end))
            return -1;
        while (isdigit((unsigned char)*end))
            end++;
    }
    if (strcmp(end, "Z") != 0)
        return -1;
    *out = (long long)timegm(&tm);
    return 0;
}
