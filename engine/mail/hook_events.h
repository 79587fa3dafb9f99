/*
 * hook_events - the bounces and complaints in an email service's webhook
 * payload, as the events POST /api/v1/bounces takes.
 *
 * hook_provider_name   "ses", "sendgrid", "postmark" or "mailgun"
 * hook_events_map      a provider's payload (untrusted, already parsed) to
 *                      [{email, type, status?, reason?}], and what was ignored
 * hook_status_in_text  the first enhanced status code ("5.1.1") in a text
 *
 * Pure functions: no I/O, no policy of their own. When the provider gives an
 * enhanced status code (a field, or one in its diagnostic text) the event's
 * type is "bounce" and engine/mail/classify.c decides the class from the code
 * and the text, as for a DSN; only when there is none does the provider's own
 * verdict (permanent, transient, blocked) name the class. Deliveries, opens,
 * deferrals and retries still under way are counted as ignored, never as
 * bounces: a delay is not a bounce, and the provider reports the final failure.
 */
#ifndef POSTINO_MAIL_HOOK_EVENTS_H
#define POSTINO_MAIL_HOOK_EVENTS_H

#include <jansson.h>
#include <stddef.h>

enum hook_provider {
    HOOK_SES,        /* Amazon SES through SNS: the SNS message's Message, parsed */
    HOOK_SENDGRID,   /* SendGrid's Event Webhook: an array of events */
    HOOK_POSTMARK,   /* Postmark: one Bounce or SpamComplaint record */
    HOOK_MAILGUN,    /* Mailgun: {"signature": {...}, "event-data": {...}} */
};

#define HOOK_EMAIL_MAX 254
#define HOOK_REASON_MAX 2000   /* bytes of a reason kept (POST /api/v1/bounces' limit) */

const char *hook_provider_name(enum hook_provider p);

/*
 * hook_events_map - the events in PAYLOAD, a new array into *EVENTS (the
 * caller's to json_decref), each {"email", "type", "status"?, "reason"?};
 * *IGNORED counts what the payload held that is not a bounce or a complaint
 * (or names no address). -1 with ERR (one line) when PAYLOAD is not of the
 * provider's shape at all (not an object, or for SendGrid not an array);
 * *EVENTS is then NULL.
 */
int hook_events_map(enum hook_provider p, json_t *payload, json_t **events, size_t *ignored, char *err,
                    size_t errlen);

/* hook_status_in_text - the first "D.D.D" code (D one to three digits, first 4 or 5) in TEXT into OUT; 0 or -1 */
int hook_status_in_text(const char *text, char out[16]);

#endif
