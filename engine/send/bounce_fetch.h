/*
 * bounce_fetch - the bounce mailbox read into the ledger: postino bounce
 * fetch, and a thread of postino serve when [bounce] mailbox is set.
 *
 * bounce_fetch_config  the mailbox settings ([bounce] mailbox ...) and the password read from its file
 * bounce_fetch_once    one session: every message there recorded and removed
 * bounce_fetch_start   a thread that keeps reading (IMAP IDLE, else every interval)
 * bounce_fetch_stop    stop it (after the message under way) and free it
 *
 * Each message goes through store_bounce_ingest_once (the pipe's path, keyed
 * so that a message read twice is recorded once) and is moved or deleted on
 * the server only after its row is committed. When the database fails, the
 * pass stops and the message stays on the server for the next one. Nothing
 * here logs the password.
 */
#ifndef POSTINO_SEND_BOUNCE_FETCH_H
#define POSTINO_SEND_BOUNCE_FETCH_H

#include <libpq-fe.h>
#include <stddef.h>

#include "engine/mail/mailbox_proto.h"
#include "engine/net/mailbox.h"

struct bounce_fetch_config {
    struct mailbox_url url;
    const char *url_text;     /* as configured, for logs (it holds no password) */
    char password[1024];
    struct mailbox_opts opts; /* url and password point into this struct */
    unsigned interval_s;
};

struct bounce_fetch_stats {
    unsigned read, bounces, unmatched, repeats, removed;
};

/* bounce_fetch_config - *CFG from the settings: 0, or -1 with ERR (no mailbox set, its password unreadable). */
int bounce_fetch_config(struct bounce_fetch_config *cfg, char *err, size_t errlen);

/* bounce_fetch_once - one session on CFG's mailbox, recording through CONN: 0, or -1 with ERR; adds to *ST. */
int bounce_fetch_once(PGconn *conn, const struct bounce_fetch_config *cfg, struct bounce_fetch_stats *st, char *err,
                      size_t errlen);

struct bounce_fetch;

/* bounce_fetch_start - keep reading CFG's mailbox on a thread with a connection of its own to CONNINFO; NULL with ERR. */
struct bounce_fetch *bounce_fetch_start(const char *conninfo, const struct bounce_fetch_config *cfg, char *err,
                                        size_t errlen);

/* bounce_fetch_stop - stop F's thread and free F; NULL is allowed. Safe to call from a signal-driven path. */
void bounce_fetch_stop(struct bounce_fetch *f);

#endif
