/*
 * tx - transactional messages: one recipient, sent at once through the same
 * ledger, sender pool and signing as campaigns.
 *
 * store_tx_send          queue one message from a template (its own transaction)
 * store_tx_get           one transactional delivery: state, last reply, queue id
 * store_tx_confirm       queue the double opt-in confirmations a new subscriber needs
 *                        (inside the caller's transaction)
 * store_tx_confirm_lists the same, with single opt-in lists that need one too
 * store_tx_welcome       queue a list's welcome message to a new member (caller's transaction)
 *
 * Each message is a delivery of a hidden campaign of kind "tx", one per
 * (template, subject, From, Reply-To, relay), made on first use and always running:
 * the sender claims, renders, signs, submits and records it like any other.
 * The delivery row carries the template variables (data, merged over the
 * subscriber's attributes when it is rendered), the recipient's name for this
 * message and the caller's idempotency key (unique). The recipient is the
 * subscriber with that address, or a new one subscribed to no list; a
 * blocklisted one is refused. Transactional messages carry no List-Id or
 * List-Unsubscribe: they are not bulk mail.
 */
#ifndef POSTINO_STORE_TX_H
#define POSTINO_STORE_TX_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/mail/address.h"
#include "engine/store/store.h"

struct tx_new {
    const char *template_ref;   /* name, or id in decimal */
    const char *to;             /* normalised address */
    const char *name;           /* NULL: the subscriber's own */
    json_t *data;               /* object or NULL */
    const char *subject;        /* a template (text mode) */
    const char *from_name;      /* "" when none */
    const char *from_addr;      /* normalised */
    const char *reply_to;       /* NULL when none */
    const char *key;            /* idempotency key or NULL */
    const char *list_id;        /* the list it is about (confirmations), or NULL */
    const char *relay;          /* the relay it must go through, or NULL: any */
};

/* Why store_tx_send refused: STORE_ERR_EXISTS (blocklisted, key reused) or STORE_ERR_NOTFOUND (no relay). */
enum tx_refusal { TX_OK, TX_BLOCKLISTED, TX_KEY_REUSED, TX_NO_RELAY };

/*
 * store_tx_send - queue T in one transaction. *OUT is {"delivery", "state"}:
 * the new delivery (*CREATED true), or the one queued before under the same
 * key for the same address (*CREATED false). STORE_ERR_NOTFOUND names an
 * unknown template or (*WHY TX_NO_RELAY) relay; STORE_ERR_EXISTS with *WHY
 * says a blocklisted address or a key already used for another address.
 */
int store_tx_send(PGconn *conn, const struct tx_new *t, json_t **out, bool *created, enum tx_refusal *why,
                  struct store_err *e);

/* store_tx_get - transactional delivery ID; STORE_ERR_NOTFOUND when it is none. */
int store_tx_get(PGconn *conn, const char *id, json_t **out, struct store_err *e);

/*
 * store_tx_confirm - queue one confirmation message (template "confirm", its
 * {{ attribs.confirm_url }} the signed /c/ link of kind 'c', subscriber, list)
 * for each unconfirmed subscription of subscriber SUB_ID to a double opt-in
 * list that has none waiting. Runs in the caller's transaction. *QUEUED is
 * how many; with no From to send them from ([mail] from, else noreply@ the
 * domain of the first DKIM key) or no "confirm" template, none are queued and
 * *SKIPPED says why (a static string), which is not an error.
 */
int store_tx_confirm(PGconn *conn, const char *sub_id, int *queued, const char **skipped, struct store_err *e);

/*
 * store_tx_confirm_lists - store_tx_confirm, and also for the unconfirmed
 * subscriptions to the NALSO single opt-in lists ALSO (a form re-joining an
 * unsubscribed address asks its owner first).
 */
int store_tx_confirm_lists(PGconn *conn, const char *sub_id, const uint64_t *also, size_t nalso, int *queued,
                           const char **skipped, struct store_err *e);

/*
 * store_tx_welcome - queue list LIST_ID's welcome message (lists.welcome_template_id,
 * its subject lists.welcome_subject) to subscriber SUB_ID, inside the caller's
 * transaction. *QUEUED 0 when the list has none or the subscriber is
 * blocklisted; with no From, none is queued and the reason is logged.
 */
int store_tx_welcome(PGconn *conn, const char *sub_id, uint64_t list_id, int *queued, struct store_err *e);


#endif
