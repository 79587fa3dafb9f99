/*
 * campaign_ops - creating a campaign and sending one test message: the rules
 * the command line (engine/cli/cmd_campaign.c) and the REST API
 * (api/h_campaigns.c) share, so that the same input gets the same answer in
 * the same words from either; they differ only in how they read the input
 * and show the outcome.
 *
 * campaign_check      check a campaign as a person gives it, before any
 *                     database is opened: name, subject, From, Reply-To, lists
 * campaign_create     compile a checked campaign's subject and bodies (inside
 *                     its template's layouts), store it as a draft, and warn of
 *                     what will go wrong when it is sent (a From domain without
 *                     a DKIM key)
 * campaign_test_send  compose one message of a campaign for an address and
 *                     send it now through a relay, outside the ledger
 *
 * Both block on the database, and campaign_test_send on the relay too: for
 * the CLI and the API's threads, never for the sender's loop.
 */
#ifndef POSTINO_SEND_CAMPAIGN_OPS_H
#define POSTINO_SEND_CAMPAIGN_OPS_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine/mail/address.h"
#include "engine/mail/template.h"
#include "engine/send/relay.h"
#include "engine/store/campaigns.h"
#include "engine/store/store.h"

#define CAMPAIGN_BODY_MAX (8u << 20)   /* bytes of an HTML or text body */

/* a campaign as given: strings as typed, NULL when not given */
struct campaign_input {
    const char *name;
    const char *subject;        /* NULL: the template's */
    const char *from;           /* "Name <addr>" or addr */
    const char *reply_to;
    const char *template_ref;   /* an id or a name */
    const char *html;
    const char *text;           /* NULL: derived from the HTML */
    const char *const *lists;   /* ids or names */
    size_t nlists;
    bool track_opens, track_clicks;
};

/* a campaign campaign_check passed, for campaign_create; its strings point into the input's */
struct campaign_checked {
    struct campaign_new cn;
    char from_name[601], from_addr[ADDRESS_MAX + 1], reply_addr[ADDRESS_MAX + 1];
};

/* why campaign_check or campaign_create refused */
struct campaign_refusal {
    struct store_err e;         /* the code, and one line the CLI and the API both show as it is */
    const char *field;          /* NULL: the store refused (a list or the template unknown) or failed;
                                   else the input field at fault, as the API names it */
    const char *kind;           /* with FIELD: "invalid_field", "missing_field" or "invalid_template" */
    char tmpl_err[TMPL_ERR_MAX];   /* invalid_template: the compiler's words alone (line, column, what) */
};

/*
 * campaign_check - check what of IN needs no database (the name, the subject
 * when given, the From, the Reply-To, at least one list) and fill OUT for
 * campaign_create. The name and the From's name hold no control character,
 * the subject none but a tab (mime_name_check). Returns 0, or
 * STORE_ERR_INVALID with WHY naming the field; a refusal quotes the input up
 * to its first control character, so it stays one line.
 */
int campaign_check(const struct campaign_input *in, struct campaign_checked *out, struct campaign_refusal *why);

/*
 * campaign_create - compile C's subject, HTML and text (inside the template's
 * layouts when it names one; the template's subject when C has none) and
 * store C as a draft. Returns 0 with *OUT the stored campaign and *WARNINGS
 * an array of one-line strings (both the caller's to json_decref): "no DKIM
 * key for DOMAIN: messages will go unsigned" when the From domain has no key.
 * Returns a negative store code with WHY filled otherwise: STORE_ERR_INVALID
 * with WHY->field (no subject at all, one of the three does not compile),
 * STORE_ERR_NOTFOUND for a list or the template unknown, STORE_ERR_DB.
 * Nothing is stored when it fails.
 */
int campaign_create(PGconn *conn, const struct campaign_checked *c, json_t **out, json_t **warnings,
                    struct campaign_refusal *why);

/* what campaign_test_send did */
struct campaign_test {
    char relay[128];                  /* the relay's name */
    char from_addr[ADDRESS_MAX + 1];  /* the envelope sender: the campaign's From */
    bool signed_dkim;                 /* false: the From domain has no DKIM key */
    struct relay_answer ans;          /* the relay's answer; ans.ok: it took the message */
};

/*
 * campaign_test_send - compose campaign ID for TO (normalised; with a
 * subscriber's values when TO is one, else as the campaign's first list with
 * no personal values) and hand it to RELAY (NULL: the first by name) now. It
 * is not in the ledger. Returns 0 when the relay answered or could not be
 * reached, OUT->ans saying which (ans.ok when it took the message); or a
 * negative store code with E: STORE_ERR_NOTFOUND (no such campaign, no such
 * relay or none at all), STORE_ERR_INVALID (the campaign does not compose),
 * STORE_ERR_DB.
 */
int campaign_test_send(PGconn *conn, const char *id, const char *to, const char *relay, struct campaign_test *out,
                       struct store_err *e);

#endif
