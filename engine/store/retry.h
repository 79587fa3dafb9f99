/*
 * retry - a campaign's failed deliveries sent again, on the same ledger rows.
 *
 * store_campaign_retry  put back to queued the failed deliveries of a campaign
 *                       that may safely be tried again, in one statement
 *
 * What is safe: a failed delivery whose bounce class (the sender's own
 * rejection, or the latest report about it) is one of the classes asked for
 * (soft, policy and unknown unless told; hard only when named), whose message
 * no relay ever accepted (no 2xx reply, no queue id, never sent), and whose
 * recipient still counts for the campaign (LEDGER_GONE_SQL: not blocklisted,
 * disabled or unsubscribed since). Nothing else moves: a sent delivery is
 * never touched, so nobody who got the message gets it twice. The rows keep
 * their ids, attempts and last reply until the next attempt; their age for
 * [send] max_age starts again. A finished campaign goes back to running so
 * senders claim them; a paused one stays paused; the counters move in the
 * same statement.
 */
#ifndef POSTINO_STORE_RETRY_H
#define POSTINO_STORE_RETRY_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine/store/store.h"

#define RETRY_CLASSES_MAX 4

/*
 * store_campaign_retry - retry campaign ID's failed deliveries of CLASSES
 * (NCLASSES names among hard, soft, policy, unknown; none: soft, policy and
 * unknown). With DRY_RUN nothing changes and the answer says what would.
 * *OUT (the caller's to json_decref) is {"campaign", "status", "dry_run",
 * "requeued", "retryable", "failed", "by_class": {class: n}, "not_retried":
 * {"accepted", "suppressed", "class"}, "classes": [...]}: "failed" and the
 * rest count the failed deliveries found, before the retry. Errors:
 * STORE_ERR_NOTFOUND (no such campaign), STORE_ERR_INVALID with field
 * "classes" (a class that is not one of the four) or naming the campaign's
 * state (a draft, a scheduled or a cancelled campaign; a transactional one),
 * STORE_ERR_DB.
 */
int store_campaign_retry(PGconn *conn, const char *id, const char *const *classes, size_t nclasses, bool dry_run,
                         json_t **out, struct store_err *e);

#endif
