/*
 * settings_send - the settings of sending and of the mail it makes, as
 * tables (engine/util/settings.h), filled once at start.
 *
 * send_table, send_settings  [send]: the sender's batches, leases, retries, flushes, how often
 *                            relays are read again, a campaign's audience chunks; the SMTP
 *                            client's name and timeouts
 * mail_table, mail_settings  [mail] from, unsubscribe_mailto, confirm_subject; [http]
 *                            public_url; [bounce] domain, local_part, keep; [preferences]
 *                            token_days, attributes; [mta] log, poll_ms, settle; [bounce]
 *                            mailbox, mailbox_password_file, mailbox_move, mailbox_ca_file,
 *                            mailbox_interval, mailbox_max_size, mailbox_timeout
 * settings_send_load         both, from the configuration; 0, or -1 with ERR naming the value
 *
 * Until settings_send_load runs, both structs hold the tables' defaults (a
 * unit test needs nothing else). The modules of engine/send and the commands read these
 * structs; the store is handed their values.
 */
#ifndef POSTINO_SEND_SETTINGS_SEND_H
#define POSTINO_SEND_SETTINGS_SEND_H

#include <stddef.h>

#include "engine/util/settings.h"

struct send_settings {
    unsigned max_inflight_kb;
    unsigned batch, max_inflight, lease_s, retry_base_s, retry_max_s, max_age_s, flush_ms, flush_rows;
    unsigned prepared_keep_s, relay_reload_s;
    unsigned audience_chunk;   /* subscriber ids per chunk of a starting campaign's audience; 0: all at once */
    const char *helo_name;     /* NULL: the host's name */
    unsigned connect_timeout_ms, command_timeout_ms, reconnect_min_ms, reconnect_max_ms;
    unsigned drain_timeout_s;  /* a stopping sender waits this long for what is on the wire */
};

struct mail_settings {
    const char *from;                /* the From of transactional mail when a request names none */
    const char *unsubscribe_mailto;  /* a mailto: List-Unsubscribe beside the one-click URL; NULL: none */
    const char *confirm_subject;     /* the double opt-in message's subject */
    const char *public_url;          /* the base of every public link */
    const char *bounce_domain;       /* the envelope sender's domain; NULL: the From's */
    const char *bounce_local_part;   /* the envelope sender's local part before "+token" */
    size_t bounce_keep;              /* bytes of a bounce kept with it */
    unsigned prefs_token_days;       /* a preference link (/p/TOKEN) works this many days after its message */
    const char *prefs_attributes;    /* the attributes a subscriber edits there, comma-separated; NULL: none */
    unsigned forms_confirm_interval; /* seconds: a form mails an address at most once in this long */
    unsigned forms_ip_limit;         /* signup posts per hour from one client address; 0: no limit */
    unsigned forms_address_limit;    /* signup posts per hour naming one address; 0: no limit */
    unsigned forms_pow_bits;         /* a signup's proof of work, in leading zero bits; 0: none asked */
    unsigned forms_pow_max_age;      /* seconds a proof-of-work challenge is good for */
    const char *mta_log;             /* Postfix's log that serve follows; NULL: none */
    unsigned mta_poll_ms;            /* how often it is read */
    unsigned mta_settle_s;           /* a log event younger than this waits for the next read */
    const char *bounce_mailbox;      /* the bounce mailbox's URL; NULL: none read */
    const char *bounce_mailbox_password_file; /* its password's file (never the password itself) */
    const char *bounce_mailbox_move; /* IMAP folder recorded messages go to; NULL: deleted */
    const char *bounce_mailbox_ca_file; /* CAs for its server's certificate; NULL: the system's */
    unsigned bounce_mailbox_interval; /* seconds between readings without IDLE, or after an error */
    size_t bounce_mailbox_max_size;  /* a larger message is kept as too large */
    unsigned bounce_mailbox_timeout; /* seconds the server may take to answer */
};

extern const struct setting send_table[];
extern const struct setting mail_table[];
extern struct send_settings send_settings;
extern struct mail_settings mail_settings;

int settings_send_load(char *err, size_t errlen);

/* settings_send_check - what one value cannot say: the [bounce] mailbox settings together; 0, or -1 with ERR. */
int settings_send_check(char *err, size_t errlen);

#endif
