/*
 * tls - a TLS client session over memory BIOs, for a socket driven by libuv.
 *
 * tls_ctx_new        a client context: system or CA_FILE trust, TLS 1.2 at least
 * tls_ctx_free       drop a reference to a context
 * tls_conn_new       a session for SERVER_NAME (SNI and the name verified)
 * tls_conn_feed      ciphertext read from the socket goes in
 * tls_conn_handshake advance the handshake: 1 done, 0 wants more input, -1 failed
 * tls_conn_read      decrypt what has arrived, appending plaintext
 * tls_conn_write     encrypt plaintext
 * tls_conn_output    take the ciphertext to send on the socket
 * tls_conn_shutdown  queue a close_notify
 * tls_conn_describe  "TLSv1.3 TLS_AES_256_GCM_SHA384", for logs
 * tls_conn_error     the last error, one line
 * tls_conn_free      free a session
 *
 * The session never touches the socket: the caller feeds it what the socket
 * read and writes out what tls_conn_output gives, after every call. Verification
 * is on unless the caller turns it off (tests): the chain must lead to a
 * trusted CA and the certificate must name SERVER_NAME (a DNS name or an IP
 * address). Errors are -1 with a reason for tls_conn_error; nothing is logged.
 */
#ifndef POSTINO_NET_TLS_H
#define POSTINO_NET_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "engine/util/buf.h"

struct tls_conn;

SSL_CTX *tls_ctx_new(const char *ca_file, char *err, size_t errlen);
void tls_ctx_free(SSL_CTX *ctx);
struct tls_conn *tls_conn_new(SSL_CTX *ctx, const char *server_name, bool verify);
int tls_conn_feed(struct tls_conn *t, const void *data, size_t len);
int tls_conn_handshake(struct tls_conn *t);
int tls_conn_read(struct tls_conn *t, struct buf *out);
int tls_conn_write(struct tls_conn *t, const void *data, size_t len);
size_t tls_conn_output(struct tls_conn *t, struct buf *out);
void tls_conn_shutdown(struct tls_conn *t);
const char *tls_conn_describe(const struct tls_conn *t, char *out, size_t outlen);
const char *tls_conn_error(const struct tls_conn *t);
void tls_conn_free(struct tls_conn *t);

#endif
