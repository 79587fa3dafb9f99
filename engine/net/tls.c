/*
 * tls - OpenSSL client sessions on two memory BIOs.
 *
 * The read BIO holds ciphertext that arrived (tls_conn_feed); the write BIO
 * collects what OpenSSL wants sent (tls_conn_output). An empty read BIO
 * means "retry", never end of file, so a partial record simply waits.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "engine/net/tls.h"
#include "engine/util/alloc.h"

struct tls_conn {
    SSL *ssl;
    BIO *rbio; /* owned by ssl */
    BIO *wbio; /* owned by ssl */
    char error[256];
};

static void set_error(char *dst, size_t n, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    if (e) {
        char reason[200];
        ERR_error_string_n(e, reason, sizeof(reason));
        snprintf(dst, n, "%s: %s", what, reason);
    } else {
        snprintf(dst, n, "%s", what);
    }
    ERR_clear_error();
}

/*
 * tls_ctx_new - a client context trusting CA_FILE (PEM), or the system's CAs
 * when CA_FILE is NULL; TLS 1.2 or later. Returns NULL with a reason in ERR
 * when the CA file cannot be loaded. Free with tls_ctx_free.
 */
SSL_CTX *tls_ctx_new(const char *ca_file, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        set_error(err, errlen, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    int ok = ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
                     : SSL_CTX_set_default_verify_paths(ctx);
    if (!ok) {
        char what[300];
        snprintf(what, sizeof(what), "cannot load CA file %s", ca_file ? ca_file : "(system)");
        set_error(err, errlen, what);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* tls_ctx_free - drop the caller's reference to CTX (sessions hold their own). */
void tls_ctx_free(SSL_CTX *ctx)
{
    SSL_CTX_free(ctx);
}

static bool is_ip_literal(const char *s)
{
    unsigned char a[16];
    return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/*
 * tls_conn_new - a client session on CTX for SERVER_NAME (may be NULL when
 * VERIFY is false). A DNS name is sent as SNI; with VERIFY the certificate
 * must chain to a trusted CA and match SERVER_NAME (DNS name or IP address).
 * Returns NULL only when OpenSSL cannot allocate or the name is unusable.
 */
struct tls_conn *tls_conn_new(SSL_CTX *ctx, const char *server_name, bool verify)
{
    if (verify && (!server_name || !*server_name))
        return NULL;
    SSL *ssl = SSL_new(ctx);
    if (!ssl)
        return NULL;
    struct tls_conn *t = xcalloc(1, sizeof(*t));
    t->ssl = ssl;
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(t->rbio, -1);
    SSL_set_bio(ssl, t->rbio, t->wbio);
    SSL_set_connect_state(ssl);
    int ok = 1;
    bool ip = server_name && is_ip_literal(server_name);
    if (server_name && *server_name && !ip)
        ok &= SSL_set_tlsext_host_name(ssl, server_name);
    if (verify) {
        SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
        if (ip)
            ok &= X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server_name);
        else
            ok &= SSL_set1_host(ssl, server_name);
    } else {
        SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
    }
    if (!ok) {
        ERR_clear_error();
        tls_conn_free(t);
        return NULL;
    }
    return t;
}

/* tls_conn_feed - hand T the LEN bytes of ciphertext the socket read. 0 or -1. */
int tls_conn_feed(struct tls_conn *t, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        int n = len > INT_MAX ? INT_MAX : (int)len;
        int w = BIO_write(t->rbio, p, n);
        if (w <= 0) {
            set_error(t->error, sizeof(t->error), "TLS buffer write failed");
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* ssl_failed - record why an SSL call returned RC; true when it is a real failure. */
static bool ssl_failed(struct tls_conn *t, int rc, const char *what)
{
    int e = SSL_get_error(t->ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return false;
    long v = SSL_get_verify_result(t->ssl);
    if (v != X509_V_OK) {
        snprintf(t->error, sizeof(t->error), "%s: certificate verification failed: %s", what,
                 X509_verify_cert_error_string(v));
        ERR_clear_error();
    } else if (e == SSL_ERROR_ZERO_RETURN) {
        snprintf(t->error, sizeof(t->error), "%s: the server closed the TLS session", what);
    } else {
        set_error(t->error, sizeof(t->error), what);
    }
    return true;
}

/*
 * tls_conn_handshake - advance the handshake with what was fed. Returns 1
 * when it is complete (verification passed), 0 when it needs more input
 * (send tls_conn_output first), -1 when it failed (tls_conn_error says why).
 */
int tls_conn_handshake(struct tls_conn *t)
{
    int rc = SSL_do_handshake(t->ssl);
    if (rc == 1)
        return 1;
    return ssl_failed(t, rc, "TLS handshake") ? -1 : 0;
}

/*
 * tls_conn_read - decrypt all complete records fed so far, appending the
 * plaintext to OUT. Returns 0 (possibly nothing appended), 1 when the server
 * sent close_notify, -1 on a TLS error.
 */
int tls_conn_read(struct tls_conn *t, struct buf *out)
{
    for (;;) {
        buf_reserve(out, 16384);
        int n = SSL_read(t->ssl, out->data + out->len, 16384);
        if (n > 0) {
            out->len += (size_t)n;
            out->data[out->len] = 0;
            continue;
        }
        if (SSL_get_error(t->ssl, n) == SSL_ERROR_ZERO_RETURN)
            return 1;
        return ssl_failed(t, n, "TLS read") ? -1 : 0;
    }
}

/* tls_conn_write - encrypt LEN bytes; the records wait in tls_conn_output. 0 or -1. */
int tls_conn_write(struct tls_conn *t, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        int n = len > (1 << 20) ? (1 << 20) : (int)len;
        int w = SSL_write(t->ssl, p, n);
        if (w <= 0) {
            ssl_failed(t, w, "TLS write");
            if (!t->error[0])
                snprintf(t->error, sizeof(t->error), "TLS write: renegotiation is not supported");
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* tls_conn_output - move the ciphertext waiting to be sent into OUT; returns its length. */
size_t tls_conn_output(struct tls_conn *t, struct buf *out)
{
    size_t total = 0;
    size_t pending;
    while ((pending = BIO_ctrl_pending(t->wbio)) > 0) {
        int n = pending > INT_MAX ? INT_MAX : (int)pending;
        buf_reserve(out, (size_t)n);
        int r = BIO_read(t->wbio, out->data + out->len, n);
        if (r <= 0)
            break;
        out->len += (size_t)r;
        out->data[out->len] = 0;
        total += (size_t)r;
    }
    return total;
}

/* tls_conn_shutdown - queue a close_notify alert (send tls_conn_output afterwards). */
void tls_conn_shutdown(struct tls_conn *t)
{
    if (SSL_is_init_finished(t->ssl))
        SSL_shutdown(t->ssl);
    ERR_clear_error();
}

/* tls_conn_describe - the protocol and cipher in OUT ("TLSv1.3 TLS_AES_256_GCM_SHA384"). */
const char *tls_conn_describe(const struct tls_conn *t, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s %s", SSL_get_version(t->ssl), SSL_get_cipher_name(t->ssl));
    return out;
}

/* tls_conn_error - the last error, one line, or "" when none. */
const char *tls_conn_error(const struct tls_conn *t)
{
    return t->error;
}

/* tls_conn_free - free T and its BIOs; NULL is allowed. */
void tls_conn_free(struct tls_conn *t)
{
    if (!t)
        return;
    SSL_free(t->ssl);
    xfree(t);
}
