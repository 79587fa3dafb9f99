/*
 * history - what happened to one subscriber: every delivery to it with the
 * relay's last reply, what came back, and its opens and clicks.
 *
 * store_history_deliveries  its deliveries, newest first, each with its campaign, state,
 *                           attempts, the last SMTP reply, times, and its open and click counts
 * store_history_bounces     its bounces, newest first, with the campaign
 * store_history_events      its deliveries that were opened or clicked, newest first, each
 *                           with the open (count, first and last time) and each link clicked
 *
 * Each reads one keyset page through an index on the subscriber
 * (deliveries_subscriber_idx, bounces_subscriber_idx; opens and clicks by
 * delivery), so its cost grows with that subscriber's history, never with
 * the tables. *OUT is {"items": [...], "next_before": id or null}: items with
 * ids below H->before (0: from the newest), at most H->limit of them;
 * next_before is set when more may follow. STORE_ERR_NOTFOUND when no
 * subscriber has the address. JSON results are the caller's to json_decref().
 */
#ifndef POSTINO_STORE_HISTORY_H
#define POSTINO_STORE_HISTORY_H

#include <jansson.h>
#include <libpq-fe.h>

#include "engine/store/store.h"

struct history_page {
    const char *email;      /* the subscriber, normalised */
    long long before;       /* ids below this; 0: no bound */
    long limit;
};

int store_history_deliveries(PGconn *conn, const struct history_page *h, json_t **out, struct store_err *e);
int store_history_bounces(PGconn *conn, const struct history_page *h, json_t **out, struct store_err *e);
int store_history_events(PGconn *conn, const struct history_page *h, json_t **out, struct store_err *e);

#endif
