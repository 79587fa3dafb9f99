/*
 * prefs - what a subscriber sees and changes on the preference page (/p/TOKEN).
 *
 * store_prefs_get    the subscriber, and every public list with the subscriber's status on it
 * store_prefs_apply  a change of the page: name, the editable attributes, the public lists
 *                    ticked and not, or unsubscribe from everything
 *
 * Lists that are not public (lists.public, sql/023) are never shown, joined
 * or left here one by one; "everything" leaves them too. The changes go
 * through the same store functions as the CLI and the API (the subscriber's
 * rules, double opt-in and its confirmation message); the caller says how
 * they are made first (store_consent_session). JSON results are the caller's to
 * json_decref().
 */
#ifndef POSTINO_STORE_PREFS_H
#define POSTINO_STORE_PREFS_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/store/store.h"

#define PREFS_LISTS_MAX 200   /* lists one change names, at most */

struct prefs_change {
    bool unsubscribe_all;       /* leave every list; nothing else is read */
    const char *name;           /* NULL: unchanged */
    json_t *attribs;            /* {key: "value"}; keys not in EDITABLE are refused; "" removes one */
    const char *editable;       /* the attributes a subscriber may edit, comma-separated; NULL: none */
    const uint64_t *shown;      /* the lists the page showed: only these are joined or left */
    size_t nshown;
    const uint64_t *ticked;     /* of those, the ones to be on */
    size_t nticked;
};

/*
 * store_prefs_get - *OUT is {"email", "name", "attribs", "status",
 * "lists": [{"id", "name", "description", "optin", "status": confirmed |
 * unconfirmed | unsubscribed | null}]} for SUBSCRIBER_ID, the public lists by
 * name. STORE_ERR_NOTFOUND when there is no such subscriber.
 */
int store_prefs_get(PGconn *conn, uint64_t subscriber_id, json_t **out, struct store_err *e);

/*
 * store_prefs_apply - make C of SUBSCRIBER_ID: the name and attributes
 * (STORE_ERR_INVALID naming the field when they break the subscriber's
 * rules, or an attribute is not editable), then each shown public list ticked
 * and not joined (double opt-in: unconfirmed, its confirmation queued) and
 * each shown one not ticked left. A blocklisted subscriber joins nothing.
 * *OUT is {"joined": [names], "left": [names]}.
 */
int store_prefs_apply(PGconn *conn, uint64_t subscriber_id, const struct prefs_change *c, json_t **out,
                      struct store_err *e);

/* store_subscription_unsub_all - mark SUBSCRIBER_ID unsubscribed on every list; *CHANGED how many moved. */
int store_subscription_unsub_all(PGconn *conn, uint64_t subscriber_id, long *changed, struct store_err *e);

#endif
