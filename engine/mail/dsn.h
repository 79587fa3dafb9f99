/*
 * dsn - read what comes back to the bounce address: RFC 3464 delivery status
 * notifications, RFC 5965 ARF feedback reports, and the non-standard text
 * bounces (qmail, older Exchange) that name the failed address in prose.
 *
 * dsn_parse        parse one raw message (untrusted) into a dsn_report
 * dsn_verdict      what a parsed report says: class, status, recipient, the words
 * dsn_verp_token   the TOKEN of a LOCAL+TOKEN@DOMAIN bounce address
 * dsn_kind_name    "dsn", "arf", "text", "autoreply", "other"
 *
 * GMime 3 reads the MIME structure; this module reads the delivery-status and
 * feedback-report fields itself and takes nothing else on trust: the input is
 * bounded (DSN_MAX_INPUT), so is MIME nesting (DSN_MAX_DEPTH; messages with
 * more container parts than GMime should recurse through are read as plain
 * text), and every field is cut to its buffer. No I/O, no policy: classify.h
 * decides what a status means, store/bounces.c whom it concerns.
 */
#ifndef POSTINO_MAIL_DSN_H
#define POSTINO_MAIL_DSN_H

#include <stddef.h>

#include <stdbool.h>

#include "engine/mail/address.h"
#include "engine/mail/classify.h"

#define DSN_MAX_INPUT (4u << 20)     /* bytes parsed; the rest is ignored */
#define DSN_MAX_DEPTH 8              /* MIME levels walked */
#define DSN_MAX_CONTAINERS 64        /* multipart/message parts before MIME is not trusted */
#define DSN_MAX_RCPTS 16
#define DSN_MAX_ADDRS 8
#define DSN_TEXT_MAX 1024
#define DSN_LINE_MAX 256

enum dsn_kind {
    DSN_KIND_OTHER,   /* not a bounce: an auto-reply, spam, a person */
    DSN_KIND_DSN,     /* multipart/report; report-type=delivery-status */
    DSN_KIND_ARF,     /* multipart/report; report-type=feedback-report */
    DSN_KIND_TEXT,    /* a bounce in prose */
    DSN_KIND_AUTOREPLY, /* an out-of-office or other automatic answer: never a bounce */
};

struct dsn_recipient {
    char action[32];                  /* failed, delayed, delivered, relayed, expanded; lower-case */
    char status[16];                  /* the enhanced code alone, "5.1.1"; "" when absent or malformed */
    char final_rcpt[ADDRESS_MAX + 1]; /* address part of Final-Recipient, as written */
    char original_rcpt[ADDRESS_MAX + 1];
    char diagnostic[DSN_TEXT_MAX];    /* Diagnostic-Code without its "smtp;" type */
    char remote_mta[DSN_LINE_MAX];
};

struct dsn_report {
    enum dsn_kind kind;
    /* the report's own header */
    char message_id[DSN_LINE_MAX];
    char from[DSN_LINE_MAX];
    char subject[DSN_LINE_MAX];
    char envelope_to[DSN_LINE_MAX];   /* X-Original-To, else Delivered-To */
    char to[ADDRESS_MAX + 1];         /* the report's To (our own bounce address) */
    char failed_rcpt[ADDRESS_MAX + 1]; /* the first address of X-Failed-Recipients (Exim) */
    bool auto_header;                 /* Auto-Submitted: auto-replied, X-Autoreply, Precedence: auto_reply... */
    bool delayed;                     /* a prose warning that delivery is only delayed */
    char reporting_mta[DSN_LINE_MAX];
    /* RFC 3464 per-recipient blocks */
    size_t nrcpt;
    struct dsn_recipient rcpt[DSN_MAX_RCPTS];
    /* the returned original (message/rfc822 or text/rfc822-headers, or inline in a text bounce) */
    char orig_delivery[100];          /* X-Postino-Delivery: ID.TOKEN (or ID alone) */
    char orig_return_path[DSN_LINE_MAX];
    char orig_to[DSN_LINE_MAX];
    char orig_hmxmr_rcpt[ADDRESS_MAX + 1]; /* X-HmXmrOriginalRecipient (Microsoft's feedback loop) */
    /* RFC 5965 */
    char feedback_type[32];           /* lower-case */
    char arf_mail_from[DSN_LINE_MAX];
    char arf_rcpt_to[ADDRESS_MAX + 1];
    /* a text bounce: what the prose says */
    char text_status[16];
    char text_diagnostic[DSN_TEXT_MAX];
    size_t naddrs;
    char addrs[DSN_MAX_ADDRS][ADDRESS_MAX + 1];
};

/*
 * dsn_parse - read the LEN bytes at DATA (any bytes; not NUL-terminated) into
 * OUT, which is overwritten. Always returns 0: what cannot be read as a
 * report comes back as DSN_KIND_OTHER or DSN_KIND_TEXT with the fields that
 * could be found. Every string in OUT is NUL-terminated, possibly cut.
 */
int dsn_parse(const char *data, size_t len, struct dsn_report *out);

/*
 * dsn_verp_token - when ADDR (with or without <>) is LOCAL+TOKEN@DOMAIN, with
 * LOCAL compared without case, copy TOKEN to OUT and return 0; -1 otherwise.
 */
int dsn_verp_token(const char *addr, const char *local, char *out, size_t outlen);

const char *dsn_kind_name(enum dsn_kind kind);

/*
 * A bounce rule's verdict on some words: CLS (BOUNCE_NONE when no rule
 * matched), BEATS_CODE when the rule decides even over a specific status code,
 * ID the rule's id ("" none). Returns 0, or -1 when the rules could not be read.
 */
struct dsn_rule_hit {
    enum bounce_class cls;
    bool beats_code;
    char id[32];
};
typedef int (*dsn_rule_fn)(void *arg, const char *text, struct dsn_rule_hit *hit);

struct dsn_verdict {
    enum bounce_class cls;           /* BOUNCE_NONE: not a bounce (see WHY) */
    const char *why;                 /* for BOUNCE_NONE, BOUNCE_AUTOREPLY, BOUNCE_DELAY: what it is instead */
    const struct dsn_recipient *rcpt; /* a DSN's failed (or delayed) recipient, or NULL */
    char status[16];                 /* the most specific code the report gives; "" none */
    char recipient[ADDRESS_MAX + 1]; /* whom it concerns, as the report names it; "" unknown */
    const char *diagnostic;          /* the remote server's words (points into the report) */
    struct dsn_rule_hit rule;        /* the rule that decided, if one did */
};

/*
 * dsn_verdict - classify R: the kind (a delay warning or an auto-reply is no
 * bounce), the most specific status code (a vague x.0.0 Status gives way to
 * a specific code in the Diagnostic-Code or the prose), the recipient (the
 * report's fields, then X-Failed-Recipients or the prose's addresses, then the
 * returned original's headers) and the class (classify_report, with RULE
 * called on the diagnostic words; RULE may be NULL). Returns 0, or -1 when
 * RULE failed.
 */
int dsn_verdict(const struct dsn_report *r, dsn_rule_fn rule, void *arg, struct dsn_verdict *v);

#endif
