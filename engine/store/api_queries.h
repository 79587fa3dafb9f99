/*
 * api_queries - the few queries the REST API needs that no other store module has.
 *
 * store_api_subscriber_email  the email of subscriber ID (a decimal string)
 * store_api_unsub_info        what an unsubscribe link names: the subscriber's
 *                             email, the campaign's lists and whether the
 *                             subscriber is still on any of them
 * store_api_unsubscribe       unsubscribe a subscriber from a campaign's lists
 * store_api_counts            deliveries by state and campaigns by status
 * store_api_ping              is the database answering
 * store_api_time_check        is a text a finite time PostgreSQL understands
 *
 * STORE_ERR_NOTFOUND when the subscriber or campaign is gone. JSON results
 * are the caller's to json_decref().
 */
#ifndef POSTINO_STORE_API_QUERIES_H
#define POSTINO_STORE_API_QUERIES_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdint.h>

#include "engine/store/store.h"

int store_api_subscriber_email(PGconn *conn, const char *id, char email[256], struct store_err *e);
int store_api_unsub_info(PGconn *conn, uint64_t subscriber_id, uint64_t campaign_id, json_t **out,
                         struct store_err *e);
int store_api_unsubscribe(PGconn *conn, uint64_t subscriber_id, uint64_t campaign_id, long *changed,
                          struct store_err *e);
int store_api_counts(PGconn *conn, json_t **out, struct store_err *e);
int store_api_ping(PGconn *conn, struct store_err *e);
int store_api_time_check(PGconn *conn, const char *when, struct store_err *e);

#endif
