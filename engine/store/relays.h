/*
 * relays - the SMTP submission servers postino sends through.
 *
 * store_relay_add    add one; STORE_ERR_EXISTS when the name is taken
 * store_relay_ls     every relay as JSON, the password only as "password_set" / "has_password"
 * store_relay_rm     remove one by name
 * store_relay_load   relays with their passwords, for senders (one, or all when NAME is NULL)
 * store_relay_load_sql, store_relay_defs  the same query, for a connection of one's own, and its rows
 * relay_def_same     whether two definitions are the same settings
 * relay_defs_copy    a copy of definitions, of its own
 * relay_defs_free    release what store_relay_load returned (passwords wiped)
 */
#ifndef POSTINO_STORE_RELAYS_H
#define POSTINO_STORE_RELAYS_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine/store/store.h"

struct relay_def {
    char *name;
    char *host;
    int port;
    char *tls;          /* starttls | tls | none | auto */
    bool tls_verify;
    char *ca_file;      /* NULL: the system's CAs */
    char *username;     /* NULL: no AUTH */
    char *password;     /* secret */
    bool allow_plain_auth; /* AUTH without TLS, to a loopback address only */
    int max_conns;
    int max_per_conn;
    double rate;        /* messages per second; 0: unpaced */
    long quota;         /* recipients per quota_period_s; 0: none */
    long quota_period_s;
};

int store_relay_add(PGconn *conn, const struct relay_def *r, json_t **out, struct store_err *e);
int store_relay_ls(PGconn *conn, json_t **out, struct store_err *e);
int store_relay_rm(PGconn *conn, const char *name, struct store_err *e);
extern const char store_relay_load_sql[];
int store_relay_load(PGconn *conn, const char *name, struct relay_def **out, size_t *n, struct store_err *e);
size_t store_relay_defs(PGresult *res, struct relay_def **out);
bool relay_def_same(const struct relay_def *a, const struct relay_def *b);
struct relay_def *relay_defs_copy(const struct relay_def *defs, size_t n);
void relay_defs_free(struct relay_def *defs, size_t n);

#endif
