/*
 * counts - the installation's totals at a glance, for monitoring.
 *
 * store_counts  deliveries by state and by relay, what is due, what was sent
 *               in the last minute, campaigns by status, imports by state and
 *               bounces by class, from one scan of the ledger
 *
 * The JSON result is the caller's to json_decref().
 */
#ifndef POSTINO_STORE_COUNTS_H
#define POSTINO_STORE_COUNTS_H

#include <jansson.h>
#include <libpq-fe.h>

#include "engine/store/store.h"

int store_counts(PGconn *conn, json_t **out, struct store_err *e);

#endif
