/*
 * hook_events - email services' webhook payloads to bounce events (see hook_events.h).
 *
 * ses_map       SES's Bounce and Complaint notifications (notificationType, or
 *               eventType for event publishing)
 * sendgrid_map  SendGrid's bounce, dropped and spamreport events
 * postmark_map  Postmark's Bounce and SpamComplaint records
 * mailgun_map   Mailgun's failed and complained events
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "engine/mail/hook_events.h"
#include "engine/util/buf.h"

const char *hook_provider_name(enum hook_provider p)
{
    switch (p) {
    case HOOK_SES: return "ses";
    case HOOK_SENDGRID: return "sendgrid";
    case HOOK_POSTMARK: return "postmark";
    case HOOK_MAILGUN: return "mailgun";
    }
    return "?";
}

/* a status code at S (no digit or dot before it, none after): its length, or 0 */
static size_t status_at(const char *s)
{
    size_t n = 1;
    if (s[0] != '4' && s[0] != '5' && s[0] != '2')
        return 0;
    for (int part = 0; part < 2; part++) {
        if (s[n] != '.')
            return 0;
        size_t d = 0;
        while (isdigit((unsigned char)s[n + 1 + d]) && d < 4)
            d++;
        if (d == 0 || d > 3)
            return 0;
        n += 1 + d;
    }
    return s[n] == '.' || isdigit((unsigned char)s[n]) ? 0 : n;
}

/* hook_status_in_text - see hook_events.h. */
int hook_status_in_text(const char *text, char out[16])
{
    for (const char *s = text; s && *s; s++) {
        if (s > text && (isdigit((unsigned char)s[-1]) || s[-1] == '.'))
            continue;
        size_t n = status_at(s);
        if (n && s[0] != '2') {
            memcpy(out, s, n);
            out[n] = 0;
            return 0;
        }
    }
    return -1;
}

/* a member of O that is a non-empty string, or NULL */
static const char *str_of(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && *s ? s : NULL;
}

/*
 * add one event to EVENTS: TYPE is the provider's verdict, used when no status
 * code is found in STATUS or in REASON. No address, or one too long: ignored.
 */
static void add(json_t *events, size_t *ignored, const char *email, const char *verdict, const char *status,
                const char *reason)
{
    char st[16] = "";
    if (!email || strlen(email) > HOOK_EMAIL_MAX) {
        (*ignored)++;
        return;
    }
    if (status && strlen(status) < sizeof(st) && status_at(status) == strlen(status) && status[0] != '2')
        snprintf(st, sizeof(st), "%s", status);
    else if (reason && strcmp(verdict, "complaint") != 0)
        hook_status_in_text(reason, st);
    json_t *ev = json_pack("{s:s, s:s}", "email", email, "type", st[0] ? "bounce" : verdict);
    if (st[0])
        json_object_set_new(ev, "status", json_string(st));
    if (reason) {
        size_t n = strnlen(reason, HOOK_REASON_MAX + 1);
        if (n > HOOK_REASON_MAX) {
            n = HOOK_REASON_MAX;
            while (n > 0 && ((unsigned char)reason[n] & 0xC0) == 0x80)
                n--;
        }
        json_t *r = json_stringn_nocheck(reason, n);
        json_object_set_new(ev, "reason", r);
    }
    json_array_append_new(events, ev);
}

/* SES: notificationType (eventType when published as events) Bounce or Complaint */
static void ses_map(json_t *n, json_t *events, size_t *ignored)
{
    const char *kind = str_of(n, "notificationType");
    if (!kind)
        kind = str_of(n, "eventType");
    size_t i;
    json_t *r;
    if (kind && strcmp(kind, "Bounce") == 0) {
        json_t *b = json_object_get(n, "bounce");
        const char *bt = str_of(b, "bounceType"), *sub = str_of(b, "bounceSubType");
        const char *verdict = !bt ? "bounce" : strcasecmp(bt, "Permanent") == 0 ? "hard"
                                           : strcasecmp(bt, "Transient") == 0 ? "soft" : "bounce";
        json_t *rcpts = json_object_get(b, "bouncedRecipients");
        if (!json_is_array(rcpts) || json_array_size(rcpts) == 0)
            (*ignored)++;
        json_array_foreach(rcpts, i, r) {
            const char *diag = str_of(r, "diagnosticCode");
            char why[128];
            if (!diag && sub) {
                snprintf(why, sizeof(why), "Amazon SES: %s bounce, %s", bt ? bt : "undetermined", sub);
                diag = why;
            }
            add(events, ignored, str_of(r, "emailAddress"), verdict, str_of(r, "status"), diag);
        }
    } else if (kind && strcmp(kind, "Complaint") == 0) {
        json_t *c = json_object_get(n, "complaint");
        const char *fb = str_of(c, "complaintFeedbackType");
        json_t *rcpts = json_object_get(c, "complainedRecipients");
        if (fb && strcasecmp(fb, "not-spam") == 0) {
            (*ignored)++;
            return;
        }
        char why[128];
        snprintf(why, sizeof(why), "Amazon SES complaint%s%.64s", fb ? ": " : "", fb ? fb : "");
        if (!json_is_array(rcpts) || json_array_size(rcpts) == 0)
            (*ignored)++;
        json_array_foreach(rcpts, i, r)
            add(events, ignored, str_of(r, "emailAddress"), "complaint", NULL, why);
    } else {
        (*ignored)++;   /* Delivery, Send, Open...: not a bounce */
    }
}

/* SendGrid: an array of events; bounce (type bounce or blocked), dropped, spamreport */
static void sendgrid_map(json_t *arr, json_t *events, size_t *ignored)
{
    size_t i;
    json_t *ev;
    json_array_foreach(arr, i, ev) {
        const char *kind = str_of(ev, "event"), *email = str_of(ev, "email"), *reason = str_of(ev, "reason");
        if (kind && strcmp(kind, "bounce") == 0) {
            const char *t = str_of(ev, "type");
            add(events, ignored, email, t && strcmp(t, "blocked") == 0 ? "policy" : "hard", str_of(ev, "status"),
                reason);
        } else if (kind && strcmp(kind, "spamreport") == 0) {
            add(events, ignored, email, "complaint", NULL, "SendGrid spam report");
        } else if (kind && strcmp(kind, "dropped") == 0 && reason && strcmp(reason, "Bounced Address") == 0) {
            add(events, ignored, email, "hard", NULL, "SendGrid dropped the message: Bounced Address");
        } else if (kind && strcmp(kind, "dropped") == 0 && reason && strcmp(reason, "Invalid") == 0) {
            add(events, ignored, email, "hard", NULL, "SendGrid dropped the message: Invalid");
        } else if (kind && strcmp(kind, "dropped") == 0 && reason && strcmp(reason, "Spam Reporting Address") == 0) {
            add(events, ignored, email, "complaint", NULL, "SendGrid dropped the message: Spam Reporting Address");
        } else {
            (*ignored)++;   /* deferred (SendGrid retries), delivered, open, other drops... */
        }
    }
}

/* Postmark's bounce Type to a class; NULL: not a bounce */
static const char *postmark_verdict(const char *type)
{
    static const struct { const char *type, *cls; } map[] = {
        { "HardBounce", "hard" }, { "BadEmailAddress", "hard" },
        { "SoftBounce", "soft" }, { "Transient", "soft" }, { "DnsError", "soft" },
        { "Blocked", "policy" }, { "DMARCPolicy", "policy" },
        { "SpamComplaint", "complaint" }, { "SpamNotification", "complaint" },
        { "Unknown", "unknown" },
    };
    for (size_t i = 0; type && i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(type, map[i].type) == 0)
            return map[i].cls;
    return NULL;   /* AutoResponder, Subscribe, AddressChange, ManuallyDeactivated, ... */
}

/* Postmark: one record, RecordType Bounce or SpamComplaint */
static void postmark_map(json_t *o, json_t *events, size_t *ignored)
{
    const char *rt = str_of(o, "RecordType"), *type = str_of(o, "Type");
    if (rt && strcmp(rt, "Bounce") != 0 && strcmp(rt, "SpamComplaint") != 0) {
        (*ignored)++;   /* Delivery, Open, Click, SubscriptionChange */
        return;
    }
    const char *verdict = postmark_verdict(type);
    if (!verdict) {
        (*ignored)++;
        return;
    }
    const char *reason = str_of(o, "Details");
    if (!reason)
        reason = str_of(o, "Description");
    if (strcmp(verdict, "complaint") == 0)
        reason = "Postmark spam complaint";
    add(events, ignored, str_of(o, "Email"), verdict, NULL, reason);
}

/* Mailgun: event-data's failed (permanent; temporary only once given up, reason "old") or complained */
static void mailgun_map(json_t *o, json_t *events, size_t *ignored)
{
    json_t *ed = json_object_get(o, "event-data");
    const char *kind = str_of(ed, "event"), *email = str_of(ed, "recipient");
    if (kind && strcmp(kind, "complained") == 0) {
        add(events, ignored, email, "complaint", NULL, "Mailgun complaint");
        return;
    }
    if (!kind || strcmp(kind, "failed") != 0) {
        (*ignored)++;
        return;
    }
    const char *sev = str_of(ed, "severity"), *why = str_of(ed, "reason");
    json_t *ds = json_object_get(ed, "delivery-status");
    const char *msg = str_of(ds, "message"), *desc = str_of(ds, "description");
    json_int_t code = json_integer_value(json_object_get(ds, "code"));
    struct buf reason = BUF_INIT;   /* "550 5.1.1 The email account ... does not exist" */
    if (code)
        buf_appendf(&reason, "%lld", (long long)code);
    if (msg)
        buf_appendf(&reason, "%s%s", reason.len ? " " : "", msg);
    if (desc)
        buf_appendf(&reason, "%s%s", reason.len ? " " : "", desc);
    const char *text = reason.len ? buf_cstr(&reason) : NULL;
    if (why && strcmp(why, "suppress-complaint") == 0) {
        add(events, ignored, email, "complaint", NULL, "Mailgun: suppressed, the address complained before");
    } else if (why && strcmp(why, "suppress-unsubscribe") == 0) {
        (*ignored)++;
    } else if (sev && strcmp(sev, "permanent") == 0) {
        add(events, ignored, email, "hard", str_of(ds, "enhanced-code"), text);
    } else if (sev && strcmp(sev, "temporary") == 0 && why && strcmp(why, "old") == 0) {
        add(events, ignored, email, "soft", str_of(ds, "enhanced-code"), text);
    } else {
        (*ignored)++;   /* a temporary failure Mailgun will retry */
    }
    buf_free(&reason);
}

/* hook_events_map - see hook_events.h. */
int hook_events_map(enum hook_provider p, json_t *payload, json_t **events, size_t *ignored, char *err,
                    size_t errlen)
{
    *events = NULL;
    *ignored = 0;
    if (p == HOOK_SENDGRID ? !json_is_array(payload) : !json_is_object(payload)) {
        snprintf(err, errlen, "a %s webhook's payload is a JSON %s", hook_provider_name(p),
                 p == HOOK_SENDGRID ? "array" : "object");
        return -1;
    }
    *events = json_array();
    switch (p) {
    case HOOK_SES: ses_map(payload, *events, ignored); break;
    case HOOK_SENDGRID: sendgrid_map(payload, *events, ignored); break;
    case HOOK_POSTMARK: postmark_map(payload, *events, ignored); break;
    case HOOK_MAILGUN: mailgun_map(payload, *events, ignored); break;
    }
    return 0;
}
