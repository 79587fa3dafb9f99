/*
 * classify - SMTP answers to delivery outcomes and bounce classes.
 */
#include <string.h>
#include <strings.h>

#include "engine/mail/classify.h"

static bool mentions(const char *text, const char *const *words)
{
    if (!text)
        return false;
    for (size_t i = 0; words[i]; i++)
        if (strcasestr(text, words[i]))
            return true;
    return false;
}

static const char *const policy_words[] = { "spam", "blocked", "blacklist", "blocklist", "reputation",
                                            "policy", "dmarc", "spf", "dkim", "listed", NULL };
static const char *const rate_words[] = { "rate", "too many", "limit", "throttl", "slow down", "try again later",
                                          "exceeded", NULL };
static const char *const mailbox_words[] = { "user unknown", "no such user", "unknown user", "does not exist",
                                             "mailbox unavailable", "invalid recipient", "recipient address rejected",
                                             "no mailbox", NULL };

/* words that blame the sender whatever the code (a 5.1.8, an SPF failure under 5.1.0, a blocklist under 5.1.3) */
static const char *const sender_words[] = { "sender address rejected", "sender verify failed", "spf", "dmarc", "dkim",
                                            "unauthenticated", "blocklist", "block list", "blacklist", "black list",
                                            "blocked using", "spamhaus", "reputation", "banned sender", NULL };
static const char *const full_words[] = { "mailbox full", "mailbox is full", "over quota", "quota exceeded",
                                          "out of storage", "insufficient storage", NULL };

/* classify_status - the bounce class an enhanced status code (and its text) stand for. */
enum bounce_class classify_status(const char *enhanced, const char *text)
{
    if (mentions(text, full_words))
        return BOUNCE_SOFT;       /* a full mailbox is never hard */
    if (mentions(text, sender_words))
        return BOUNCE_POLICY;     /* the receiver refused the sender, not the recipient */
    if (enhanced && strlen(enhanced) >= 5 && enhanced[1] == '.') {
        int subject = enhanced[2] - '0';
        const char *detail = enhanced + 4;
        if (subject == 1)
            return BOUNCE_HARD;                                     /* addressing: bad mailbox or domain */
        if (subject == 4 && strcmp(detail, "4") == 0 && enhanced[0] == '5')
            return BOUNCE_HARD;                                     /* 5.4.4: no host or domain by that name */
        if (subject == 2)
            return strcmp(detail, "1") == 0 ? BOUNCE_HARD : BOUNCE_SOFT; /* 2.1 disabled; 2.2 full */
        if (subject == 3 || subject == 4 || subject == 5 || subject == 6)
            return BOUNCE_SOFT;                                     /* system, routing, protocol, content */
        if (subject == 7)
            return BOUNCE_POLICY;
    }
    if (mentions(text, policy_words))
        return BOUNCE_POLICY;
    if (mentions(text, mailbox_words))
        return BOUNCE_HARD;
    return enhanced && enhanced[0] == '5' ? BOUNCE_HARD : BOUNCE_UNKNOWN;
}

/* classify_smtp - see classify.h. */
void classify_smtp(bool accepted, bool at_message, int code, const char *enhanced, const char *text,
                   struct classification *out)
{
    memset(out, 0, sizeof(*out));
    if (accepted) {
        out->outcome = OUTCOME_SENT;
        return;
    }
    if (!at_message || code == 0 || code == 421) {
        out->outcome = OUTCOME_DEFER;
        out->relay_trouble = true;
        out->rate_limited = code == 421 && mentions(text, rate_words);
        return;
    }
    if (code >= 500 && code <= 599) {
        out->outcome = OUTCOME_FAIL;
        out->cls = classify_status(enhanced, text);
        if (out->cls == BOUNCE_UNKNOWN)
            out->cls = BOUNCE_HARD;
        return;
    }
    out->outcome = OUTCOME_DEFER;
    out->rate_limited = (enhanced && strncmp(enhanced, "4.7.", 4) == 0) || mentions(text, rate_words);
}

/* bounce_class_name - the name stored in bounces.class. */
const char *bounce_class_name(enum bounce_class cls)
{
    switch (cls) {
    case BOUNCE_HARD: return "hard";
    case BOUNCE_SOFT: return "soft";
    case BOUNCE_POLICY: return "policy";
    case BOUNCE_COMPLAINT: return "complaint";
    case BOUNCE_AUTOREPLY: return "autoreply";
    case BOUNCE_DELAY: return "delay";
    case BOUNCE_NONE:
    case BOUNCE_UNKNOWN: break;
    }
    return "unknown";
}

/* classify_report - see classify.h. */
enum bounce_class classify_report(const char *status, const char *diagnostic, enum bounce_class rule,
                                  bool rule_beats_code)
{
    bool transient = status && status[0] == '4';
    bool specific = status && strlen(status) >= 5 && status[1] == '.' && status[2] >= '1' && status[2] <= '7' &&
                    status[3] == '.';
    if (rule != BOUNCE_NONE && (rule_beats_code || !specific))
        return transient && rule == BOUNCE_HARD ? BOUNCE_SOFT : rule;
    if (specific) {
        if (status[2] == '7')
            return BOUNCE_POLICY;
        if (transient)
            return BOUNCE_SOFT;   /* retried until it expired: never proof the mailbox is gone */
        return classify_status(status, NULL);
    }
    enum bounce_class c = classify_status(NULL, diagnostic);
    if (transient && (c == BOUNCE_HARD || c == BOUNCE_UNKNOWN))
        return BOUNCE_SOFT;
    return c;
}

/* bounce_class_parse - the class NAME stands for; BOUNCE_NONE when it names none. */
enum bounce_class bounce_class_parse(const char *name)
{
    static const enum bounce_class all[] = { BOUNCE_HARD,    BOUNCE_SOFT,      BOUNCE_POLICY, BOUNCE_COMPLAINT,
                                             BOUNCE_UNKNOWN, BOUNCE_AUTOREPLY, BOUNCE_DELAY };
    for (size_t i = 0; name && i < sizeof(all) / sizeof(all[0]); i++)
        if (strcmp(name, bounce_class_name(all[i])) == 0)
            return all[i];
    return BOUNCE_NONE;
}
