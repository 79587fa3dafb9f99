/*
 * webhooks - the endpoints applications register, their outbox and their log
 * (sql/025_webhooks.sql).
 *
 * store_webhook_add      register an endpoint (its secret stored, never answered); the
 *                        tables' triggers follow in the same transaction
 * store_webhook_ls       every endpoint as JSON (no secret), with its queue
 * store_webhook_get      one endpoint as JSON
 * store_webhook_update   enable or disable it, or change its events; enabling clears the reason
 * store_webhook_rm       remove it, its outbox and its log
 * store_webhook_log      its latest attempts (at most LIMIT, those before BEFORE when > 0)
 * store_webhook_replay   queue again one event (EVENT_ID) or those made in [SINCE, UNTIL)
 * store_webhook_secret   the URL and the secret of an endpoint, for a test sending
 * store_webhook_note     add a test's attempt to the log
 *
 * Endpoints are named by their id. Errors as store.h says; the secret is in
 * no JSON any of these return and in no message.
 */
#ifndef POSTINO_STORE_WEBHOOKS_H
#define POSTINO_STORE_WEBHOOKS_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "engine/store/store.h"
#include "engine/util/buf.h"

struct webhook_def {
    const char *url;
    const char *events;       /* a PostgreSQL array literal of checked event names: {a,b} */
    const char *secret;
    const char *description;  /* NULL: none */
};

int store_webhook_add(PGconn *conn, const struct webhook_def *d, json_t **out, struct store_err *e);
int store_webhook_ls(PGconn *conn, json_t **out, struct store_err *e);
int store_webhook_get(PGconn *conn, long long id, json_t **out, struct store_err *e);
int store_webhook_update(PGconn *conn, long long id, int enabled, const char *events, json_t **out,
                         struct store_err *e);
int store_webhook_rm(PGconn *conn, long long id, struct store_err *e);
int store_webhook_log(PGconn *conn, long long id, int limit, long long before, json_t **out, struct store_err *e);
int store_webhook_replay(PGconn *conn, long long id, long long event_id, const char *since, const char *until,
                         long long *queued, struct store_err *e);
int store_webhook_secret(PGconn *conn, long long id, struct buf *url, struct buf *secret, struct store_err *e);
int store_webhook_note(PGconn *conn, long long id, const char *type, int status, int latency_ms, const char *error,
                       struct store_err *e);

#endif
