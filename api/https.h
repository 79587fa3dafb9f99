/*
 * https - the certificate and key the API serves HTTPS with.
 *
 * https_load    read a PEM certificate (chain) and its private key, checked
 *               with OpenSSL so that a wrong file is named at once rather than
 *               as a failed start; 0 when neither is given or both load, -1
 *               with a one-line reason in ERR
 * https_forget  wipe the key and free both
 * HTTPS_PRIORITIES  what a connection may negotiate (GnuTLS priority string)
 * HTTPS_HSTS        the Strict-Transport-Security value of every HTTPS answer
 *
 * The PEM texts are NUL-terminated, as libmicrohttpd takes them, and kept
 * while the daemon runs.
 */
#ifndef POSTINO_API_HTTPS_H
#define POSTINO_API_HTTPS_H

#include <stddef.h>

#include "engine/util/buf.h"

/*
 * TLS 1.2 and 1.3 only; in TLS 1.2 only ECDHE key exchange (forward secret)
 * with AEAD ciphers: ECDHE-{ECDSA,RSA} with AES-256-GCM, CHACHA20-POLY1305,
 * AES-128-GCM; in TLS 1.3 its three suites over elliptic-curve groups only (no
 * finite-field DHE). `gnutls-cli --priority STRING --list` shows the suites.
 */
#define HTTPS_PRIORITIES                                                                     \
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:-CIPHER-ALL:" \
    "+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-GCM:-MAC-ALL:+AEAD:-GROUP-ALL:+GROUP-EC-ALL"

/* a year; not includeSubDomains: other names under the domain are not postino's to promise */
#define HTTPS_HSTS "max-age=31536000"

struct https_pem {
    struct buf cert, key;   /* empty: plain HTTP */
};

int https_load(struct https_pem *p, const char *cert_path, const char *key_path, char *err, size_t errlen);
void https_forget(struct https_pem *p);

#endif
