/*
 * bulk - one change to every subscriber a segment or a filter picks.
 *
 * store_bulk_action_parse  the action a name gives: subscribe, unsubscribe,
 *                          blocklist or delete
 * store_subscriber_bulk    apply the action to every subscriber picked, in one
 *                          transaction, and count them
 *
 * The command line (postino subscriber bulk) and the API (POST
 * /api/v1/subscribers/bulk) both call these: the same input is refused in
 * the same words. Who made the change is what the caller said on the
 * connection (store_consent_session): each subscription changed gets its
 * consent record from the trigger of sql/022.
 */
#ifndef POSTINO_STORE_BULK_H
#define POSTINO_STORE_BULK_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "engine/store/store.h"

enum bulk_action { BULK_SUBSCRIBE, BULK_UNSUBSCRIBE, BULK_BLOCKLIST, BULK_DELETE };

#define BULK_ACTIONS "subscribe, unsubscribe, blocklist or delete"

/* one bulk change as given; strings NULL when not given */
struct bulk_job {
    enum bulk_action action;
    const char *list;       /* subscribe, unsubscribe: the list (a name or an id); refused otherwise */
    const char *segment;    /* who: a saved segment (a name or an id), or */
    const char *filter;     /* a filter (engine/mail/segment.h); exactly one of the two */
    const char *status;     /* subscribe: confirmed or unconfirmed; NULL: confirmed on a single
                               opt-in list, unconfirmed on a double one (no message is sent) */
    bool dry_run;           /* count, change nothing */
};

/* store_bulk_action_parse - *OUT for NAME; STORE_ERR_INVALID (field "action") when it is none of BULK_ACTIONS */
int store_bulk_action_parse(const char *name, enum bulk_action *out, struct store_err *e);

/* store_bulk_action_name - the name of action A */
const char *store_bulk_action_name(enum bulk_action a);

/*
 * store_subscriber_bulk - apply J to every subscriber its segment or filter
 * picks, in one transaction (all or nothing). subscribe adds a subscription
 * to the list where there is none (a blocklisted subscriber is skipped; an
 * existing subscription, unsubscribed included, is left as it is);
 * unsubscribe marks the list's subscriptions unsubscribed; blocklist
 * blocklists and unsubscribes from every list (store_subscriber_blocklist);
 * delete removes the subscribers (store_subscriber_rm). *OUT (the caller's)
 * is {"action", "list", "matched": subscribers picked, "changed": those the
 * action changed (would change, with dry_run), "dry_run"}. Errors:
 * STORE_ERR_INVALID naming the field (action, list, filter, status),
 * STORE_ERR_NOTFOUND (no such list or segment), STORE_ERR_DB.
 */
int store_subscriber_bulk(PGconn *conn, const struct bulk_job *j, json_t **out, struct store_err *e);

#endif
