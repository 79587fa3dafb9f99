/*
 * https - the certificate and key the API serves HTTPS with.
 *
 * https_load    read a PEM certificate (chain) and its private key, checked
 *               with OpenSSL so that a wrong file is named at once rather than
 *               as a failed start; 0 when neither is given or both load, -1
 *               with a one-line reason in ERR
 * https_forget  wipe the key and free both
 *
 * The PEM texts are NUL-terminated, as libmicrohttpd takes them, and kept
 * while the daemon runs.
 */
#ifndef POSTINO_API_HTTPS_H
#define POSTINO_API_HTTPS_H

#include <stddef.h>

#include "engine/util/buf.h"

struct https_pem {
    struct buf cert, key;   /* empty: plain HTTP */
};

int https_load(struct https_pem *p, const char *cert_path, const char *key_path, char *err, size_t errlen);
void https_forget(struct https_pem *p);

#endif
