/*
 * privacy - everything stored about one address, handed over or erased.
 *
 * store_subscriber_export  one JSON document with every row that mentions the subscriber
 * store_subscriber_erase   remove the subscriber and every row that mentions its address,
 *                          keeping a salted hash of it in suppressions when it must stay
 *                          suppressed (blocklisted, complained, or off every list)
 * store_suppressed         is an address suppressed by an earlier erasure?
 *
 * The export's "tables" object has one key per table that holds the
 * subscriber's data (PRIVACY_TABLES, in this order), each an array of rows;
 * tests/integration/test_consent.sh checks it against every table of the
 * schema that refers to subscribers or deliveries or has an email/address
 * column, so a new such table must be added here.
 *
 * The erasure is one transaction. The counters of past campaigns are stored
 * (campaigns.n_*, track_hours, link_counts, campaign_bounce_counts,
 * daily_counts) and are not recounted from the rows it deletes. It returns
 * {"id", "suppressed": reason or null, "removed": {table: rows}}.
 * STORE_ERR_NOTFOUND for an unknown address; JSON results are the caller's
 * to json_decref().
 */
#ifndef POSTINO_STORE_PRIVACY_H
#define POSTINO_STORE_PRIVACY_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "engine/store/store.h"

#define PRIVACY_TABLES \
    "subscribers, subscriptions, consent, deliveries, opens, clicks, bounces, bounces_unmatched, import_jobs"

int store_subscriber_export(PGconn *conn, const char *email, json_t **out, struct store_err *e);
int store_subscriber_erase(PGconn *conn, const char *email, json_t **out, struct store_err *e);
int store_suppressed(PGconn *conn, const char *email, bool *suppressed, struct store_err *e);

#endif
