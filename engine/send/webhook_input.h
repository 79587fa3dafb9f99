/*
 * webhook_input - what an endpoint may be, checked in one place for the
 * command line, the API and the admin (the same words everywhere).
 *
 * webhook_event_names   every event type, in the order the documentation lists them
 * webhook_event_known   is NAME one of them
 * webhook_input_check   check IN: the URL (webhook_url_check: a private destination is
 *                       refused unless ALLOW_PRIVATE), the events (known, no repeats),
 *                       the secret (made when none is given), the description; fill OUT.
 *                       -1 with WHY and the field at fault
 * webhook_events_literal  the PostgreSQL array literal of N checked names, appended to OUT
 * webhook_input_free    release what webhook_input_check filled (the secret wiped)
 */
#ifndef POSTINO_SEND_WEBHOOK_INPUT_H
#define POSTINO_SEND_WEBHOOK_INPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/util/buf.h"

extern const char *const webhook_event_names[];

struct webhook_input {
    const char *url;
    const char *const *events;   /* event names */
    size_t n_events;
    const char *secret;          /* NULL: make one */
    const char *description;     /* NULL: none */
};

struct webhook_checked {
    struct buf events;           /* the array literal */
    struct buf secret;
    bool secret_made;            /* made here: to be shown once */
};

struct webhook_why {
    const char *field;
    char why[300];
};

bool webhook_event_known(const char *name);
int webhook_events_literal(const char *const *names, size_t n, struct buf *out, struct webhook_why *why);
int webhook_input_check(const struct webhook_input *in, bool allow_private, struct webhook_checked *out,
                        struct webhook_why *why);
void webhook_input_free(struct webhook_checked *c);

#endif
