/*
 * via - how and by whom the next subscription changes on a connection are
 * made, as the consent trigger reads them (postino.via, postino.actor,
 * postino.ip, postino.ua, postino.form_hash).
 *
 * store_via_set    set them for the connection's session (so that store
 *                  functions running transactions of their own are covered)
 * store_via_reset  reset them all; a pooled connection is always reset
 *
 * Values longer than VIA_VALUE_MAX bytes are cut there; NULL is ''.
 */
#ifndef POSTINO_STORE_VIA_H
#define POSTINO_STORE_VIA_H

#include <libpq-fe.h>

#include "engine/store/store.h"

#define VIA_VALUE_MAX 512

struct store_via {
    const char *via;        /* import | api | form | admin | cli | confirmation | unsubscribe | preferences | ... */
    const char *actor;      /* 'user:EMAIL', 'token:ID', 'subscriber' or '' */
    const char *ip;         /* the request's address, or NULL */
    const char *ua;         /* its User-Agent, or NULL */
    const char *form_hash;  /* sha256 hex of a form's text, or NULL */
};

/* store_via_set - set V on CONN for its session; 0, or a STORE_ERR with E filled. */
int store_via_set(PGconn *conn, const struct store_via *v, struct store_err *e);

/* store_via_reset - reset what store_via_set set on CONN; 0, or a STORE_ERR with E filled. */
int store_via_reset(PGconn *conn, struct store_err *e);

#endif
