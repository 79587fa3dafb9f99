/*
 * classify - the one place that decides what an SMTP answer means for a delivery.
 *
 * classify_smtp       sent, deferred or failed; the bounce class; rate limiting
 * classify_status     the bounce class of an RFC 3463 enhanced status code
 * classify_report     the bounce class of a failed recipient in a DSN or prose bounce
 * bounce_class_name   "hard", "soft", "policy", "complaint", "unknown", "autoreply", "delay"
 * bounce_class_parse  the class a name stands for
 *
 * Rules (RFC 5321 4.2.1, RFC 3463): a 2xx to the end of data is sent. A 5xx
 * to MAIL, RCPT or DATA fails the delivery with a bounce of the status's
 * class: hard for bad mailboxes and domains (5.1.x, 5.4.4), soft for a full
 * mailbox (x.2.2) and routing or system trouble (x.3.x, x.4.x), policy for
 * refusals of the SENDER (reputation, blocklists, spam content, SPF, DKIM or
 * DMARC failures, x.7.x): a sending problem, not the subscriber's fault, which
 * never suppresses the recipient. An auto-reply and a delay warning are
 * classes of their own that no policy acts on. A 4xx, a timeout, a dropped link and
 * any failure before MAIL (connect, TLS, AUTH) defer: they say nothing about
 * the recipient. A 4xx that speaks of rates or limits, or a 4.7.x, is also
 * back-pressure: the sender slows down.
 */
#ifndef POSTINO_MAIL_CLASSIFY_H
#define POSTINO_MAIL_CLASSIFY_H

#include <stdbool.h>

enum delivery_outcome { OUTCOME_SENT, OUTCOME_DEFER, OUTCOME_FAIL };
enum bounce_class {
    BOUNCE_NONE,
    BOUNCE_HARD,
    BOUNCE_SOFT,
    BOUNCE_POLICY,    /* the sender refused: a sending problem */
    BOUNCE_COMPLAINT,
    BOUNCE_UNKNOWN,
    BOUNCE_AUTOREPLY, /* an out-of-office or other automatic answer */
    BOUNCE_DELAY,     /* a warning that delivery is delayed, still retried */
};

struct classification {
    enum delivery_outcome outcome;
    enum bounce_class cls;      /* for OUTCOME_FAIL */
    bool rate_limited;          /* slow down */
    bool relay_trouble;         /* the relay, not the recipient: connect, TLS, AUTH, no reply */
};

/*
 * classify_smtp - classify one message's result. ACCEPTED: the server took it.
 * AT_MESSAGE: the answer came at MAIL, RCPT or DATA (not during session
 * setup). CODE 0 means there was no reply (timeout, dropped link).
 */
void classify_smtp(bool accepted, bool at_message, int code, const char *enhanced, const char *text,
                   struct classification *out);
enum bounce_class classify_status(const char *enhanced, const char *text);

/*
 * classify_report - the class of a recipient a report says has failed.
 * STATUS is its enhanced code ("" when none), DIAGNOSTIC the remote server's
 * words, RULE the class the first matching bounce rule names (BOUNCE_NONE when
 * none matched) and RULE_BEATS_CODE whether that rule decides over a specific
 * code (the text that blames the sender under a 5.1.x, a full mailbox, an
 * invalid recipient under a 5.7.x). Otherwise a specific code decides (a
 * 4.x.x that expired is soft, x.7.x is policy); a vague one (x.0.0) or none
 * leaves it to the rule, then to the words; what is still undecided is soft
 * for a 4.x.x and unknown otherwise. A 4.x.x is never hard.
 */
enum bounce_class classify_report(const char *status, const char *diagnostic, enum bounce_class rule,
                                  bool rule_beats_code);
const char *bounce_class_name(enum bounce_class cls);
enum bounce_class bounce_class_parse(const char *name);

#endif
