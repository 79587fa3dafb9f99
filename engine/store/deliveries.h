/*
 * deliveries - reading a campaign's delivery ledger.
 *
 * store_delivery_page  one keyset page of a campaign's deliveries, by id,
 *                      optionally in one state
 *
 * The states read are the ledger's, with "sending" for a queued or deferred
 * delivery a sender holds under a lease now. STORE_ERR_NOTFOUND when the
 * campaign does not exist. JSON results are the caller's to json_decref().
 */
#ifndef POSTINO_STORE_DELIVERIES_H
#define POSTINO_STORE_DELIVERIES_H

#include <jansson.h>
#include <libpq-fe.h>

#include "engine/store/store.h"

struct delivery_filter {
    const char *campaign;   /* id, a decimal string */
    const char *state;      /* NULL: any; queued|sending|sent|deferred|failed|skipped|cancelled */
    long long after;        /* ids greater than this */
    long limit;
};

int store_delivery_page(PGconn *conn, const struct delivery_filter *f, json_t **out, struct store_err *e);

#endif
