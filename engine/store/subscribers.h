/*
 * subscribers - subscribers and their subscriptions in the store.
 *
 * store_subscriber_add        add one subscriber, optionally to lists (one transaction; confirmation
 *                             messages queued for double opt-in lists)
 * store_subscriber_each       stream subscribers matching a filter, one JSON object per callback
 * store_subscriber_get        one subscriber with its subscriptions
 * store_subscriber_get_id     the same by id (digits only; NOTFOUND otherwise)
 * store_subscriber_email      the email of subscriber ID (a decimal string)
 * store_subscriber_set        change a subscriber's name and attributes (attributes merged key by key)
 * store_subscriber_rm         delete one subscriber (and its subscriptions)
 * store_subscriber_blocklist  blocklist one subscriber and unsubscribe it everywhere
 * store_subscription_ls       a subscriber's subscriptions (list, status, dates)
 * store_subscription_set      subscribe a subscriber to one list, or change the status
 * store_subscription_rm       unsubscribe a subscriber from one list
 * store_subscription_unsub_info     what an unsubscribe link names: the subscriber's
 *                             email, the campaign's lists and whether the subscriber
 *                             is still on any of them
 * store_subscription_unsub_campaign unsubscribe a subscriber from a campaign's lists
 *
 * Emails given here are already normalised (address_normalize); lookups
 * are case-insensitive. JSON results are the caller's to json_decref().
 */
#ifndef POSTINO_STORE_SUBSCRIBERS_H
#define POSTINO_STORE_SUBSCRIBERS_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/store/store.h"

struct subscriber_new {
    const char *email;
    const char *name;           /* NULL: "" */
    json_t *attribs;            /* NULL: {} */
    const char *const *lists;   /* list names or ids */
    size_t nlists;
    const char *sub_status;     /* NULL: confirmed on single opt-in lists, unconfirmed on double */
};

struct subscriber_filter {
    const char *list;           /* NULL: any */
    const char *status;         /* NULL: any; enabled|disabled|blocklisted */
    long long after;            /* keyset: ids greater than this */
    long limit;                 /* 0: no limit */
    const char *q;              /* NULL: any; else a piece of the address or the name (SUBSCRIBER_SEARCH_MIN
                                   to SUBSCRIBER_SEARCH_MAX characters, any letter case) */
};

#define SUBSCRIBER_SEARCH_MIN 3     /* characters: what a trigram index can look up */
#define SUBSCRIBER_SEARCH_MAX 200

struct subscriber_edit {
    const char *name;           /* NULL: unchanged */
    json_t *attribs;            /* NULL: unchanged; else merged: each key given replaces its value, null removes it */
};

typedef int (*subscriber_row_cb)(json_t *row, void *arg);

int store_subscriber_add(PGconn *conn, const struct subscriber_new *s, json_t **out, struct store_err *e);
int store_subscriber_each(PGconn *conn, const struct subscriber_filter *f, subscriber_row_cb cb, void *arg,
                          struct store_err *e);
int store_subscriber_get(PGconn *conn, const char *email, json_t **out, struct store_err *e);
int store_subscriber_get_id(PGconn *conn, const char *id, json_t **out, struct store_err *e);
int store_subscriber_email(PGconn *conn, const char *id, char email[256], struct store_err *e);
int store_subscriber_set(PGconn *conn, const char *email, const struct subscriber_edit *s, json_t **out,
                         struct store_err *e);
int store_subscriber_rm(PGconn *conn, const char *email, struct store_err *e);
int store_subscriber_blocklist(PGconn *conn, const char *email, json_t **out, struct store_err *e);
int store_subscription_ls(PGconn *conn, const char *email, json_t **out, struct store_err *e);
int store_subscription_set(PGconn *conn, const char *email, const char *list, const char *status, bool *created,
                           json_t **out, struct store_err *e);
int store_subscription_rm(PGconn *conn, const char *email, const char *list, json_t **out, struct store_err *e);
int store_subscription_unsub_info(PGconn *conn, uint64_t subscriber_id, uint64_t campaign_id, json_t **out,
                                  struct store_err *e);
int store_subscription_unsub_campaign(PGconn *conn, uint64_t subscriber_id, uint64_t campaign_id, long *changed,
                                      struct store_err *e);

#endif
