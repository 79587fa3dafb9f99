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
 * campaign_update     the same for a draft or scheduled campaign, replaced whole
 * campaign_preview    render content not saved yet (a campaign's, or a template's
 *                     around sample content) for one subscriber through the
 *                     sender's own composer: the subject, the HTML, the text part
 * campaign_test_send  compose one message of a campaign for an address and
 *                     send it now through a relay, outside the ledger
 * campaign_patch      change some fields of a campaign (campaign_patch.c): the
 *                     rest as stored, checked as campaign_update checks; once
 *                     it has started, only what is in no message (its name)
 * campaign_field_bit  the CAMPAIGN_F_ bit of a field's name, as the API names it
 *
 * A body is HTML or Markdown (engine/mail/markdown.h): Markdown is rendered
 * to HTML when the campaign is saved (and for each preview), and the
 * template engine then runs on that HTML as on any other.
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

#include "engine/mail/abtest.h"
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
    const char *html;           /* the body in HTML, or */
    const char *markdown;       /* the body in Markdown (one of the two) */
    const char *text;           /* NULL: derived from the HTML */
    const char *const *lists;   /* ids or names */
    size_t nlists;
    const char *segment;        /* NULL, or a saved segment (id or name) narrowing the lists, or */
    const char *filter;         /* NULL, or a filter of its own (engine/mail/segment.h) */
    bool track_opens, track_clicks;
    json_t *ab;                 /* NULL, or an A/B test in its JSON form (engine/mail/abtest.h) */
};

/* a campaign campaign_check passed, for campaign_create; its strings point into the input's */
struct campaign_checked {
    struct campaign_new cn;
    char from_name[601], from_addr[ADDRESS_MAX + 1], reply_addr[ADDRESS_MAX + 1];
    struct abtest ab;           /* when cn.ab is set: the test, its strings in the input's JSON */
};

/* why campaign_check or campaign_create refused */
struct campaign_refusal {
    struct store_err e;         /* the code, and one line the CLI and the API both show as it is */
    const char *field;          /* NULL: the store refused (a list or the template unknown) or failed;
                                   else the input field at fault, as the API names it */
    const char *kind;           /* with FIELD: "invalid_field", "missing_field" or "invalid_template" */
    char tmpl_err[TMPL_ERR_MAX];   /* invalid_template: the compiler's words alone (line, column, what) */
    const char *refused[16];    /* campaign_patch's STORE_ERR_CONFLICT: every field it may not change */
    size_t nrefused;
};

/*
 * campaign_check - check what of IN needs no database (the name, the subject
 * when given, the From, the Reply-To, at least one list, a body in HTML or in
 * Markdown but not both) and fill OUT for campaign_create or
 * campaign_update. The name and the From's name hold no control character,
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
 * with WHY->field (no subject at all, one of the three does not compile: a
 * Markdown body is compiled as typed, so WHY names "markdown" and its line),
 * STORE_ERR_NOTFOUND for a list or the template unknown, STORE_ERR_DB.
 * Nothing is stored when it fails.
 */
int campaign_create(PGconn *conn, const struct campaign_checked *c, json_t **out, json_t **warnings,
                    struct campaign_refusal *why);

/*
 * campaign_update - as campaign_create, for campaign ID, which must be a draft
 * or scheduled (STORE_ERR_INVALID naming its state otherwise; STORE_ERR_NOTFOUND
 * when there is none): its content and lists are replaced by C's.
 */
int campaign_update(PGconn *conn, const char *id, const struct campaign_checked *c, json_t **out, json_t **warnings,
                    struct campaign_refusal *why);

/*
 * campaign_preview - IN as it would be sent to subscriber EMAIL (NULL: no
 * personal values), saved or not: nothing in it is required (no body is an
 * empty one; a From that does not parse is replaced), LAYOUT (a template as
 * {html, text, subject}, not stored) replaces IN's template when given. The
 * message goes through the sender's composer (compose_message) with no
 * tracking, no DKIM signature and a token key of zeros, so its links carry
 * no valid token. Returns 0 with *OUT {subject, html, text} (the text part
 * derived from the HTML when IN has none), the caller's to json_decref; or a
 * negative store code with WHY as campaign_create's (WHY->field "subscriber"
 * for an EMAIL that is no subscriber, "markdown", "html", "text" or
 * "subject" with WHY->tmpl_err for what does not compile).
 */
int campaign_preview(PGconn *conn, const struct campaign_input *in, json_t *layout, const char *email, json_t **out,
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

/* The fields campaign_patch takes, one bit each (the order of campaign_field_names). */
enum {
    CAMPAIGN_F_NAME = 1u << 0, CAMPAIGN_F_SUBJECT = 1u << 1, CAMPAIGN_F_FROM = 1u << 2, CAMPAIGN_F_REPLY_TO = 1u << 3,
    CAMPAIGN_F_TEMPLATE = 1u << 4, CAMPAIGN_F_HTML = 1u << 5, CAMPAIGN_F_MARKDOWN = 1u << 6, CAMPAIGN_F_TEXT = 1u << 7,
    CAMPAIGN_F_LISTS = 1u << 8, CAMPAIGN_F_SEGMENT = 1u << 9, CAMPAIGN_F_FILTER = 1u << 10,
    CAMPAIGN_F_TRACK_OPENS = 1u << 11, CAMPAIGN_F_TRACK_CLICKS = 1u << 12, CAMPAIGN_F_AB = 1u << 13,
};
#define CAMPAIGN_F_COUNT 14
/* what a started campaign may still change: nothing of it is in a message */
#define CAMPAIGN_F_AFTER_START CAMPAIGN_F_NAME

extern const char *const campaign_field_names[CAMPAIGN_F_COUNT];

/* campaign_field_bit - the CAMPAIGN_F_ bit of field NAME ("subject"), or 0 */
unsigned campaign_field_bit(const char *name);

/*
 * campaign_patch - change the fields of campaign ID that GIVEN (CAMPAIGN_F_
 * bits) names to IN's values (NULL clears an optional one: subject, then the
 * template's; reply_to; template; text; segment; filter); every other field
 * keeps its stored value. Giving a segment clears the filter and the other
 * way round; giving html clears markdown and the other way round. A draft or
 * scheduled campaign is then checked and saved as campaign_check and
 * campaign_update do, with the same refusals. A running, paused, finished or
 * cancelled one has sent, or may have sent, messages: a change of any field
 * but its name is STORE_ERR_CONFLICT, with WHY->e.field the first and
 * WHY->refused every field refused, and nothing changes. Returns 0 with *OUT
 * and *WARNINGS as campaign_update's (no warnings for a rename), or a
 * negative store code with WHY: also STORE_ERR_INVALID when GIVEN is 0.
 */
int campaign_patch(PGconn *conn, const char *id, const struct campaign_input *in, unsigned given, json_t **out,
                   json_t **warnings, struct campaign_refusal *why);

#endif
