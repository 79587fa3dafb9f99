/*
 * settings_send - the [send], [mail], [http] public_url, [bounce], [preferences] and [forms] tables
 * (see settings_send.h).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "engine/mail/mailbox_proto.h"
#include "engine/send/settings_send.h"
#include "engine/store/bounces.h"

#define SEND_U(k, field, d, lo, hi, what) \
    SETTING_NUMBER_ENTRY("send", k, SETTING_UNSIGNED, struct send_settings, field, d, lo, hi, what)

const struct setting send_table[] = {
    SEND_U("batch", batch, 1000, 1, 100000, "deliveries per claim"),
    SEND_U("max_inflight", max_inflight, 4000, 1, 1000000, "claimed and not yet recorded, at most"),
    SEND_U("max_inflight_kb", max_inflight_kb, 8192, 64, 4194304,
           "kilobytes of messages composed and not yet sent, at most (one message may exceed it)"),
    SEND_U("lease", lease_s, 300, 5, 86400, "seconds a claim holds its deliveries (renewed while held)"),
    SEND_U("retry_base", retry_base_s, 60, 1, 86400, "seconds before the first retry of a deferral, doubling"),
    SEND_U("retry_max", retry_max_s, 3600, 1, 7 * 86400, "seconds between retries, at most"),
    SEND_U("max_age", max_age_s, 3 * 86400, 1, 30 * 86400, "seconds a delivery may stay deferred before it fails"),
    SEND_U("flush_ms", flush_ms, 100, 1, 60000, "milliseconds results wait to be recorded, at most"),
    SEND_U("flush_rows", flush_rows, 300, 1, 100000, "results recorded together, at most"),
    SEND_U("prepared_keep", prepared_keep_s, 60, 1, 86400, "seconds an unused prepared campaign is kept"),
    SEND_U("relay_reload", relay_reload_s, 10, 1, 86400, "seconds between readings of the relays"),
    SEND_U("audience_chunk", audience_chunk, 10000, 0, 100000000,
           "subscriber ids per chunk of a starting campaign's audience: its first messages go out when the first"
           " chunk is made (0: the whole audience at once)"),
    SETTING_TEXT_ENTRY("send", "helo_name", struct send_settings, helo_name, NULL, "the name given in EHLO"),
    SEND_U("connect_timeout_ms", connect_timeout_ms, 30000, 100, 600000, "connecting to a relay, at most"),
    SEND_U("command_timeout_ms", command_timeout_ms, 120000, 100, 3600000, "waiting for a relay's answer, at most"),
    SEND_U("reconnect_min_ms", reconnect_min_ms, 1000, 10, 600000, "first wait before connecting again"),
    SEND_U("reconnect_max_ms", reconnect_max_ms, 60000, 10, 3600000, "longest wait before connecting again"),
    SEND_U("drain_timeout", drain_timeout_s, 30, 1, 3600,
           "seconds a stopping sender lets messages on the wire finish; the rest goes back to the ledger"),
    { 0 },
};

const struct setting mail_table[] = {
    SETTING_TEXT_ENTRY("mail", "from", struct mail_settings, from, NULL,
                       "From of transactional mail when a request names none"),
    SETTING_TEXT_ENTRY("mail", "unsubscribe_mailto", struct mail_settings, unsubscribe_mailto, NULL,
                       "mailto: address in List-Unsubscribe beside the one-click URL"),
    SETTING_TEXT_ENTRY("mail", "confirm_subject", struct mail_settings, confirm_subject,
                       "Please confirm your subscription to {{ list.name }}", "subject of the opt-in message"),
    SETTING_TEXT_ENTRY("http", "public_url", struct mail_settings, public_url, "http://localhost:8080",
                       "base of unsubscribe, confirmation and tracking links"),
    SETTING_TEXT_ENTRY("bounce", "domain", struct mail_settings, bounce_domain, NULL,
                       "envelope sender's domain (none: the From's)"),
    SETTING_TEXT_ENTRY("bounce", "local_part", struct mail_settings, bounce_local_part, "bounces",
                       "envelope sender's local part, before +token"),
    SETTING_NUMBER_ENTRY("bounce", "keep", SETTING_SIZE, struct mail_settings, bounce_keep, BOUNCE_KEEP_DEFAULT, 0,
                         1 << 20, "bytes of the original kept with a bounce"),
    SETTING_TEXT_ENTRY("bounce", "mailbox", struct mail_settings, bounce_mailbox, NULL,
                       "a mailbox bounces arrive in, read by bounce fetch and serve: imaps://USER@HOST[:PORT]/FOLDER,"
                       " imap:// (STARTTLS), pop3s:// or pop3:// (STLS) (none: not read)"),
    SETTING_TEXT_ENTRY("bounce", "mailbox_password_file", struct mail_settings, bounce_mailbox_password_file, NULL,
                       "file holding the mailbox's password (its first line)"),
    SETTING_TEXT_ENTRY("bounce", "mailbox_move", struct mail_settings, bounce_mailbox_move, NULL,
                       "IMAP folder a recorded message is moved to (none: it is deleted)"),
    SETTING_TEXT_ENTRY("bounce", "mailbox_ca_file", struct mail_settings, bounce_mailbox_ca_file, NULL,
                       "CA certificates the mailbox server's certificate is verified with (none: the system's)"),
    SETTING_NUMBER_ENTRY("bounce", "mailbox_interval", SETTING_UNSIGNED, struct mail_settings, bounce_mailbox_interval,
                         60, 1, 86400, "seconds between readings of a mailbox whose server has no IDLE, or after an error"),
    SETTING_NUMBER_ENTRY("bounce", "mailbox_max_size", SETTING_SIZE, struct mail_settings, bounce_mailbox_max_size,
                         10 << 20, 64 << 10, 1 << 30, "bytes of a mailbox message read, at most (a larger one is kept"
                         " as too large, with its head)"),
    SETTING_NUMBER_ENTRY("bounce", "mailbox_timeout", SETTING_UNSIGNED, struct mail_settings, bounce_mailbox_timeout,
                         60, 1, 3600, "seconds the mailbox server may take to answer"),
    SETTING_NUMBER_ENTRY("preferences", "token_days", SETTING_UNSIGNED, struct mail_settings, prefs_token_days, 90, 1,
                         3650, "days a preference link works after its message was made"),
    SETTING_TEXT_ENTRY("preferences", "attributes", struct mail_settings, prefs_attributes, NULL,
                       "attributes a subscriber may edit on the preference page, comma-separated"),
    SETTING_NUMBER_ENTRY("forms", "confirm_interval", SETTING_UNSIGNED, struct mail_settings, forms_confirm_interval,
                         600, 0, 30 * 86400, "seconds: a signup form mails one address at most once in this long"),
    SETTING_NUMBER_ENTRY("forms", "ip_limit", SETTING_UNSIGNED, struct mail_settings, forms_ip_limit, 20, 0, 1000000,
                         "signup posts per hour from one client address (0: no limit)"),
    SETTING_NUMBER_ENTRY("forms", "address_limit", SETTING_UNSIGNED, struct mail_settings, forms_address_limit, 5, 0,
                         1000000, "signup posts per hour naming one email address (0: no limit)"),
    SETTING_NUMBER_ENTRY("forms", "pow_bits", SETTING_UNSIGNED, struct mail_settings, forms_pow_bits, 0, 0, 24,
                         "proof of work a signup form asks of the browser, in bits (0: none; 16: about 0.1 s)"),
    SETTING_NUMBER_ENTRY("forms", "pow_max_age", SETTING_UNSIGNED, struct mail_settings, forms_pow_max_age, 3600, 60,
                         86400, "seconds a signup form's proof-of-work challenge is good for"),
    SETTING_TEXT_ENTRY("mta", "log", struct mail_settings, mta_log, NULL,
                       "Postfix's log (maillog_file or mail.log) that serve follows into the ledger (none: not read)"),
    SETTING_NUMBER_ENTRY("mta", "poll_ms", SETTING_UNSIGNED, struct mail_settings, mta_poll_ms, 1000, 50, 600000,
                         "milliseconds between reads of Postfix's log"),
    SETTING_NUMBER_ENTRY("mta", "settle", SETTING_UNSIGNED, struct mail_settings, mta_settle_s, 10, 0, 3600,
                         "seconds a log line waits before it is matched (the ledger records queue ids in batches)"),
    { 0 },
};

struct send_settings send_settings;
struct mail_settings mail_settings;

/* the defaults from the tables, before main reads the configuration (and for programs that read none) */
__attribute__((constructor)) static void settings_send_defaults(void)
{
    settings_defaults(send_table, &send_settings);
    settings_defaults(mail_table, &mail_settings);
}

/* settings_send_load - see settings_send.h. */
int settings_send_load(char *err, size_t errlen)
{
    if (settings_load(send_table, &send_settings, err, errlen) < 0)
        return -1;
    return settings_load(mail_table, &mail_settings, err, errlen);
}

/* settings_send_check - see settings_send.h. */
int settings_send_check(char *err, size_t errlen)
{
    const struct mail_settings *m = &mail_settings;
    struct mailbox_url u;
    const char *why;
    if (!m->bounce_mailbox || !*m->bounce_mailbox)
        return 0;
    if (mailbox_url_parse(m->bounce_mailbox, &u, &why) < 0) {
        snprintf(err, errlen, "[bounce] mailbox: %s", why);
        return -1;
    }
    if (!m->bounce_mailbox_password_file || !*m->bounce_mailbox_password_file) {
        snprintf(err, errlen, "[bounce] mailbox_password_file: required when [bounce] mailbox is set");
        return -1;
    }
    if (m->bounce_mailbox_move && *m->bounce_mailbox_move) {
        if (u.proto == MAILBOX_POP3) {
            snprintf(err, errlen, "[bounce] mailbox_move: a POP3 mailbox has no folders (its messages are deleted)");
            return -1;
        }
        if (strpbrk(m->bounce_mailbox_move, "\r\n") || strlen(m->bounce_mailbox_move) > 200) {
            snprintf(err, errlen, "[bounce] mailbox_move: a folder name of at most 200 characters on one line");
            return -1;
        }
    }
    return 0;
}
