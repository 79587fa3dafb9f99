/*
 * forms - public signup forms (/s/LIST, POST /s): the lists a form offers,
 * its abuse limits, and the signup itself.
 *
 * store_form_lists   the public lists named by REFS (names or ids), in order:
 *                    [{id, name, description, optin}]; STORE_ERR_NOTFOUND
 *                    names the first that is no public list
 * store_form_lists_text  the same for "a,b,c" (a path, an operand)
 * store_form_hit     count one post against KEY in a window of WINDOW_S
 *                    seconds; *OVER when it makes more than LIMIT
 * store_form_pow_spend  spend a proof-of-work challenge; *FRESH false when it
 *                    was spent before
 * store_form_signup  the signup, in one transaction (below)
 * store_form_page    the hosted page's template as the admin edited it (the
 *                    template named FORM_PAGE_TEMPLATE), or NULL: the default
 *
 * A signup never tells whether the address was known: whatever the
 * address's state, its caller answers the same. What it does:
 *   no subscriber             one is made (name as posted), then as "none"
 *   suppressed, blocklisted   nothing
 *   per list: none            single opt-in: confirmed (welcome mail);
 *                             double: unconfirmed (confirmation mail)
 *             unsubscribed    unconfirmed, and a confirmation mail even on a
 *                             single opt-in list: a form posted by anyone
 *                             does not undo an unsubscribe without the
 *                             address's owner
 *             unconfirmed     the confirmation mail again
 *             confirmed       nothing
 * A known subscriber's name is never changed by a form. Mail caused by a
 * form goes to an address at most once per CONFIRM_INTERVAL seconds
 * (form_mails), whatever is posted; the subscriptions change anyway. The
 * caller sets how the change is made (consent: via 'form') first.
 */
#ifndef POSTINO_STORE_FORMS_H
#define POSTINO_STORE_FORMS_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/store/store.h"

#define FORM_LISTS_MAX 20
#define FORM_PAGE_TEMPLATE "signup"

struct form_signup {
    const char *email;            /* normalised */
    const char *name;             /* "" when none */
    const uint64_t *lists;        /* public list ids (store_form_lists) */
    size_t nlists;
    unsigned confirm_interval;    /* seconds */
};

/* What a signup did, for the log and the tests; never for the answer. */
struct form_outcome {
    bool created;                 /* a new subscriber */
    bool refused;                 /* suppressed or blocklisted: nothing done */
    int joined;                   /* subscriptions made confirmed */
    int pending;                  /* subscriptions made or left unconfirmed */
    int mailed;                   /* messages queued */
    bool held;                    /* mail was due but confirm_interval held it back */
};

int store_form_lists(PGconn *conn, const char *const *refs, size_t nrefs, json_t **out, struct store_err *e);
int store_form_lists_text(PGconn *conn, const char *text, json_t **out, struct store_err *e);
int store_form_hit(PGconn *conn, const char *key, unsigned limit, unsigned window_s, bool *over, struct store_err *e);
int store_form_pow_spend(PGconn *conn, const char *challenge, unsigned keep_s, bool *fresh, struct store_err *e);
int store_form_signup(PGconn *conn, const struct form_signup *s, struct form_outcome *o, struct store_err *e);
/* store_form_addr_hash - hex SHA-256 of ADDR lower-cased (ASCII), as form_mails and the limits key it */
void store_form_addr_hash(const char *addr, char out[65]);
/* *HTML is malloc'd (xfree), or NULL */
int store_form_page(PGconn *conn, char **html, struct store_err *e);

#endif
