/*
 * dkim_keys - DKIM keys per domain and selector.
 *
 * store_dkim_add      store a generated key; STORE_ERR_EXISTS when the selector is taken
 * store_dkim_ls       every key's public side (never the private key) as a JSON array
 * store_dkim_domain   the public side of one domain's keys; STORE_ERR_NOTFOUND when none
 * store_dkim_rm       remove one selector of a domain, or all of its keys
 * store_dkim_rm_id    remove one key by id
 * store_dkim_signing  the keys to sign with for a domain, private keys included
 * dkim_rows_free      release what store_dkim_signing returned
 *
 * The private key is read only by store_dkim_signing, for signing; nothing
 * else selects the column.
 */
#ifndef POSTINO_STORE_DKIM_KEYS_H
#define POSTINO_STORE_DKIM_KEYS_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

#include "engine/store/store.h"

struct dkim_row {
    char domain[256];
    char selector[64];
    char algorithm[16];
    char *private_pem;   /* secret: never log or print */
};

int store_dkim_add(PGconn *conn, const char *domain, const char *selector, const char *algorithm, int bits,
                   const char *private_pem, const char *public_b64, json_t **out, struct store_err *e);
int store_dkim_ls(PGconn *conn, json_t **out, struct store_err *e);
int store_dkim_domain(PGconn *conn, const char *domain, json_t **out, struct store_err *e);
int store_dkim_rm(PGconn *conn, const char *domain, const char *selector, int *removed, struct store_err *e);
int store_dkim_rm_id(PGconn *conn, const char *id, struct store_err *e);
int store_dkim_signing(PGconn *conn, const char *domain, struct dkim_row **rows, size_t *n, struct store_err *e);
void dkim_rows_free(struct dkim_row *rows, size_t n);

#endif
