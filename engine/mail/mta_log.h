/*
 * mta_log - one line of Postfix's log, read as a delivery event.
 *
 * mta_log_parse        a log line -> what the delivery agent (or qmgr) did
 * mta_log_status_name  "sent", "deferred", "bounced", "expired"
 *
 * Both of Postfix 3.7's log forms are read: its own maillog_file (postlogd,
 * "Dec 04 14:55:51 host postfix/smtp[123]: ...") and syslog's files as rsyslog
 * writes them (the same traditional header, or an RFC 3339 timestamp:
 * "2026-12-04T14:55:51.123456+00:00 host postfix/smtp[123]: ..."). The lines
 * read are "QUEUEID: to=<...>, [orig_to=<...>,] relay=..., delay=..., ...,
 * dsn=X.Y.Z, status=sent|deferred|bounced|expired (REASON)" and qmgr's
 * "QUEUEID: from=<...>, status=expired, returned to sender", which names the
 * sender: the event has an empty recipient and means every recipient of the
 * queue id still waiting. Pure functions: no I/O, no policy (what a status
 * means for a subscriber is engine/mail/classify.c's).
 */
#ifndef POSTINO_MAIL_MTA_LOG_H
#define POSTINO_MAIL_MTA_LOG_H

#include <stddef.h>
#include <time.h>

#define MTA_QUEUE_ID_MAX 31    /* Postfix's long queue ids are 12..20 characters */
#define MTA_ADDR_MAX 512       /* an address as logged, quotes and all; longer: not read */
#define MTA_HOST_MAX 255
#define MTA_REASON_MAX 1000    /* a longer reason is cut (on a UTF-8 boundary) */

enum mta_status { MTA_NONE = 0, MTA_SENT, MTA_DEFERRED, MTA_BOUNCED, MTA_EXPIRED };

struct mta_event {
    time_t time;                          /* when Postfix logged it (seconds since the epoch) */
    int usec;                             /* and microseconds, when the log has them */
    char queue_id[MTA_QUEUE_ID_MAX + 1];
    char to[MTA_ADDR_MAX + 1];            /* the recipient; "" for qmgr's expiry */
    char orig_to[MTA_ADDR_MAX + 1];       /* the recipient before rewriting, or "" */
    char from[MTA_ADDR_MAX + 1];          /* qmgr's expiry: the sender; else "" */
    char relay_host[MTA_HOST_MAX + 1];    /* "mx.example.org", or "" for relay=none */
    char relay_addr[64];                  /* "192.0.2.1", "2001:db8::1", or "" */
    int relay_port;                       /* 0 when not logged */
    long delay_ms;                        /* delay=, in milliseconds; -1 when not logged */
    char dsn[16];                         /* "5.1.1", or "" */
    enum mta_status status;
    char reason[MTA_REASON_MAX + 1];      /* the text in parentheses, without them */
};

/*
 * mta_log_parse - read the LEN bytes at LINE (one line, without or with its
 * line end; not NUL-terminated; untrusted) into *EV. NOW places a timestamp
 * without a year in the year that puts it no later than a day after NOW.
 * Returns 1 for a delivery event, 0 for any other line (*EV is then cleared).
 */
int mta_log_parse(const char *line, size_t len, time_t now, struct mta_event *ev);

/* mta_log_status_name - the status's word as Postfix logs it ("" for MTA_NONE) */
const char *mta_log_status_name(enum mta_status s);

#endif
