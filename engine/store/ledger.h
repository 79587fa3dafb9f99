/*
 * ledger - the statements senders run against the delivery ledger.
 *
 * ledger_claim_sql        claim up to $2 due deliveries for sender $1 with a lease of $3 s;
 *                         recipients who left since the start are marked skipped on the way; those a
 *                         provider's pace or a warm-up holds back stay queued, not leased, with
 *                         next_attempt_at pushed to their turn (sql/036_provider_pacing.sql)
 * ledger_schedule_sql     start every scheduled campaign whose time has come ($1: its first chunk)
 * ledger_finish_sql       mark running campaigns with nothing left to send finished
 * ledger_heartbeat_sql    say what sender $1 on host $2 (pid $3) is doing ($4); give back the
 *                         leases of senders that are gone: the number of deliveries given back
 * ledger_renew_sql        extend the leases sender $1 holds by $2 s
 * ledger_release_sql      give back what sender $1 leases, unsent, and take it off the senders table
 * ledger_lock_sql         does this session hold sender $1's lock (taking it when it is free)
 * ledger_held_sql         the deliveries sender $1 leases, by id (run once it holds its lock again)
 * ledger_budget_sql       up to $2 more messages for relay $1 under its rate $3 (per second) and
 *                         quota $4 per $5 s, shared by all senders (sql/035_relay_budget.sql)
 * ledger_slots_sql        sender $1 wants $4 of relay $2's $3 connection slots: how many it holds
 *                         (sql/038_relay_slots.sql)
 * ledger_running_sql      count the running campaigns (a transactional one while it has something to send;
 *                         not one whose every delivery left waits for a later day's warm-up)
 * ledger_claim_rows       the rows of a claim's result, as struct ledger_row
 * ledger_batch_*          results gathered for ledger_record_sql; ledger_batch_params makes its
 *                         array parameters, ledger_batch_get reads one back
 *
 * Everything is set-based and parameterised; many senders on many machines
 * share the tables through FOR UPDATE SKIP LOCKED and leases. Counters move
 * in the statement that moves the deliveries.
 */
#ifndef POSTINO_STORE_LEDGER_H
#define POSTINO_STORE_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "engine/util/buf.h"

/*
 * LEDGER_GONE_SQL - an SQL condition: the recipient of a campaign's delivery
 * no longer counts (not enabled, or subscribed to none of the campaign's lists
 * in a way that counts: confirmed, or unconfirmed on a single opt-in list).
 * S names the subscribers row; SUB and CAMP are SQL for the subscriber's and
 * the campaign's ids. The claim skips such a delivery; a retry leaves it failed.
 */
#define LEDGER_GONE_SQL(s, sub, camp)                                                                       \
    "(" s ".status <> 'enabled' OR NOT EXISTS (SELECT 1 FROM subscriptions sl"                             \
    " JOIN campaign_lists cl ON cl.list_id = sl.list_id AND cl.campaign_id = " camp                        \
    " JOIN lists l ON l.id = sl.list_id WHERE sl.subscriber_id = " sub                                     \
    " AND (sl.status = 'confirmed' OR (sl.status = 'unconfirmed' AND l.optin = 'single'))))"

extern const char ledger_claim_sql[];
extern const char ledger_schedule_sql[];
extern const char ledger_finish_sql[];
extern const char ledger_heartbeat_sql[];
extern const char ledger_renew_sql[];
extern const char ledger_record_sql[];
extern const char ledger_release_sql[];
extern const char ledger_lock_sql[];
extern const char ledger_held_sql[];
extern const char ledger_running_sql[];
extern const char ledger_budget_sql[];
extern const char ledger_slots_sql[];

/* Claimed row columns, in order. */
enum { CLAIM_ID, CLAIM_CAMPAIGN, CLAIM_SUBSCRIBER, CLAIM_EMAIL, CLAIM_NAME, CLAIM_ATTRIBS, CLAIM_LIST,
       CLAIM_LIST_NAME, CLAIM_ATTEMPTS, CLAIM_VARIANT };

/* One claimed delivery, as a sender reads it; the strings belong to whoever hands the row over. */
struct ledger_row {
    uint64_t id, campaign_id, subscriber_id, list_id;
    int attempts;
    int variant;                                    /* an A/B test's variant (1..4); 0: the campaign's own content */
    const char *email, *name, *attribs, *list_name; /* attribs: a JSON object */
};

/* One outcome, as added to a batch (ledger_batch_get). */
struct ledger_result {
    uint64_t id;
    const char *state;         /* sent, deferred or failed */
    int code;                  /* the SMTP reply code; 0 when none came */
    const char *enhanced, *reply, *queue_id;
    long delay_s;              /* a deferral waits this long */
    const char *cls, *relay;   /* the bounce class of a failure, LEDGER_CLASS_LOCAL, or ""; the relay, or "" */
};

/*
 * The class of a failure that happened here, before any relay saw the
 * message (it cannot be composed): the delivery fails for good with the
 * reason as its reply, and no bounce is recorded, for it says nothing of the
 * recipient's address.
 */
#define LEDGER_CLASS_LOCAL "local"

struct ledger_slot;

/* Results waiting to be recorded: kept as added, made into array parameters when recorded. */
struct ledger_batch {
    size_t n, cap;
    struct ledger_slot *slots;
    struct buf text;           /* the results' strings, each ended by a NUL */
    struct buf arrays[9];      /* ledger_batch_params' arrays */
};

#define LEDGER_RECORD_NPARAMS 11

void ledger_batch_init(struct ledger_batch *b);
void ledger_batch_add(struct ledger_batch *b, const struct ledger_result *r);
void ledger_batch_get(const struct ledger_batch *b, size_t i, struct ledger_result *out);
void ledger_batch_params(struct ledger_batch *b, const char *owner, const char *max_age_s,
                         const char *params[LEDGER_RECORD_NPARAMS]);
void ledger_batch_reset(struct ledger_batch *b);
void ledger_batch_free(struct ledger_batch *b);
int ledger_claim_rows(const PGresult *res, struct ledger_row **rows);

#endif
