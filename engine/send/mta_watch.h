/*
 * mta_watch - follow Postfix's log into the ledger: postino mta follow, and a
 * thread of postino serve when [mta] log is set.
 *
 * mta_watch_once   read PATH from its saved position to its end, recording each batch
 * mta_watch_start  a thread that does that every poll interval
 * mta_watch_stop   stop it (after the batch under way) and free it
 * mta_watch_path_key  the name a log's position is kept under (its absolute path)
 *
 * Each batch (at most MTA_WATCH_BATCH bytes of lines) is recorded with the
 * position after it in one transaction (store_mta_apply), so a crash or a
 * restart resumes where the last batch ended and reading twice changes
 * nothing. SETTLE seconds: an event newer than that is left for the next
 * round, so that the ledger has recorded the queue id Postfix answered before
 * the log line naming it is matched (0 for everything now).
 */
#ifndef POSTINO_SEND_MTA_WATCH_H
#define POSTINO_SEND_MTA_WATCH_H

#include <libpq-fe.h>
#include <stddef.h>

#define MTA_WATCH_BATCH (1u << 20)

struct mta_watch_stats {
    long lines, events, changed, bounces;
};

/* mta_watch_once - see above. 0, or -1 with a one-line reason in ERR; adds to *ST. */
int mta_watch_once(PGconn *conn, const char *path, unsigned settle_s, struct mta_watch_stats *st, char *err,
                   size_t errlen);

/* mta_watch_path_key - PATH made absolute through its directory's real path; the caller frees it. */
char *mta_watch_path_key(const char *path);

struct mta_watch;

/* mta_watch_start - follow PATH every POLL_MS on a connection of its own to CONNINFO; NULL with ERR. */
struct mta_watch *mta_watch_start(const char *conninfo, const char *path, unsigned poll_ms, unsigned settle_s,
                                  char *err, size_t errlen);
void mta_watch_stop(struct mta_watch *w);

#endif
