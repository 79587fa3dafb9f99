/*
 * ledger - the statements senders run against the delivery ledger.
 *
 * ledger_claim_sql        claim up to $2 due deliveries for sender $1 with a lease of $3 s;
 *                         recipients who left since the start are marked skipped on the way
 * ledger_schedule_sql     start every scheduled campaign whose time has come (materialise)
 * ledger_finish_sql       mark running campaigns with nothing left to send finished
 * ledger_heartbeat_sql    say what sender $1 on host $2 (pid $3) is doing ($4)
 * ledger_renew_sql        extend the leases sender $1 holds by $2 s
 * ledger_batch_*          results gathered as array parameters for ledger_record_sql
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

#include "engine/util/buf.h"

extern const char ledger_claim_sql[];
extern const char ledger_schedule_sql[];
extern const char ledger_finish_sql[];
extern const char ledger_heartbeat_sql[];
extern const char ledger_renew_sql[];
extern const char ledger_record_sql[];

/* Claimed row columns, in order. */
enum { CLAIM_ID, CLAIM_CAMPAIGN, CLAIM_SUBSCRIBER, CLAIM_EMAIL, CLAIM_NAME, CLAIM_ATTRIBS, CLAIM_LIST,
       CLAIM_LIST_NAME, CLAIM_ATTEMPTS };

/* Results waiting to be recorded, as PostgreSQL array literals. */
struct ledger_batch {
    size_t n;
    bool closed;
    struct buf ids, states, codes, enhanced, replies, queue_ids, delays, classes, relays;
};

#define LEDGER_RECORD_NPARAMS 11

void ledger_batch_init(struct ledger_batch *b);
void ledger_batch_add(struct ledger_batch *b, uint64_t id, const char *state, int code, const char *enhanced,
                      const char *reply, const char *queue_id, long delay_s, const char *cls, const char *relay);
void ledger_batch_params(struct ledger_batch *b, const char *owner, const char *max_age_s,
                         const char *params[LEDGER_RECORD_NPARAMS]);
void ledger_batch_reset(struct ledger_batch *b);
void ledger_batch_free(struct ledger_batch *b);

#endif
