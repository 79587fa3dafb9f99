/*
 * https - the API's certificate and key, read and checked once at start.
 */
#include <stdio.h>

#include <microhttpd.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "api/https.h"
#include "engine/util/file.h"

#define TLS_FILE_MAX (1024 * 1024)

/*
 * https_load - read CERT_PATH and KEY_PATH into P: a PEM certificate, a PEM
 * private key, and the key matching the certificate. 0 when both are unset
 * or both load; -1 with the reason in ERR (P is then the caller's to forget).
 */
int https_load(struct https_pem *p, const char *cert_path, const char *key_path, char *err, size_t errlen)
{
    if (!cert_path && !key_path)
        return 0;
    if (!cert_path || !key_path) {
        snprintf(err, errlen, "HTTPS needs both a certificate and a key (--tls-cert and --tls-key)");
        return -1;
    }
    if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
        snprintf(err, errlen, "this libmicrohttpd has no TLS support: serve behind a TLS proxy instead");
        return -1;
    }
    if (file_read(cert_path, TLS_FILE_MAX, &p->cert, err, errlen) < 0 ||
        file_read(key_path, TLS_FILE_MAX, &p->key, err, errlen) < 0)
        return -1;
    BIO *cb = BIO_new_mem_buf(p->cert.data, (int)p->cert.len);
    BIO *kb = BIO_new_mem_buf(p->key.data, (int)p->key.len);
    X509 *x = PEM_read_bio_X509(cb, NULL, NULL, NULL);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
    int rc = -1;
    if (!x)
        snprintf(err, errlen, "%s: not a PEM certificate", cert_path);
    else if (!k)
        snprintf(err, errlen, "%s: not a PEM private key (or it is encrypted)", key_path);
    else if (X509_check_private_key(x, k) != 1)
        snprintf(err, errlen, "%s does not match the certificate %s", key_path, cert_path);
    else
        rc = 0;
    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(cb);
    BIO_free(kb);
    return rc;
}

/* https_forget - wipe and free the key material P holds. */
void https_forget(struct https_pem *p)
{
    if (p->key.data)
        OPENSSL_cleanse(p->key.data, p->key.len);
    buf_free(&p->key);
    buf_free(&p->cert);
}
