/*
 * tracking - the rows behind click and open tracking and double opt-in.
 *
 * store_links_save    store a campaign's tracked URLs (once per preparation;
 *                     the same URL keeps its row) and give their row ids
 * store_track_open    count an open of a delivery
 * store_track_click   count a click of a delivery on a link; the link's URL
 * store_confirm       confirm an unconfirmed subscription unless the
 *                     subscriber is blocklisted; what it is afterwards
 * store_confirm_info  what a confirmation link names, changing nothing
 *
 * A delivery that is gone records nothing and is no error: the image and
 * the redirect still answer. STORE_ERR_NOTFOUND for an unknown link or
 * subscription. JSON results are the caller's to json_decref().
 */
#ifndef POSTINO_STORE_TRACKING_H
#define POSTINO_STORE_TRACKING_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/store/store.h"

/* store_links_save - IDS[i] (the caller's, N long) gets the row of URLS[i] for CAMPAIGN_ID; one transaction. */
int store_links_save(PGconn *conn, uint64_t campaign_id, char *const *urls, size_t n, uint64_t *ids,
                     struct store_err *e);

/* store_track_open - count an open of DELIVERY_ID; *RECORDED false when the delivery is gone. */
int store_track_open(PGconn *conn, uint64_t delivery_id, bool *recorded, struct store_err *e);

/*
 * store_track_click - count a click of DELIVERY_ID on LINK_ID and put the
 * link's URL in *URL (the caller frees it); *RECORDED false when the delivery
 * is gone. STORE_ERR_NOTFOUND when the link is unknown, or the delivery is
 * one of another campaign than the link's.
 */
int store_track_click(PGconn *conn, uint64_t delivery_id, uint64_t link_id, char **url, bool *recorded,
                      struct store_err *e);

/*
 * store_confirm - confirm SUBSCRIBER_ID's subscription to LIST_ID when it is
 * unconfirmed and the subscriber not blocklisted. *OUT is {"list": name,
 * "status": the subscription's status afterwards, "subscriber_status": …,
 * "changed": bool}. STORE_ERR_NOTFOUND when there is no such subscription.
 */
int store_confirm(PGconn *conn, uint64_t subscriber_id, uint64_t list_id, json_t **out, struct store_err *e);

/* store_confirm_info - *OUT as store_confirm's, "changed" false, for the subscription as it is. */
int store_confirm_info(PGconn *conn, uint64_t subscriber_id, uint64_t list_id, json_t **out, struct store_err *e);

#endif
