/*
 * mta - what Postfix did with each delivery, from its log, into the ledger.
 *
 * store_mta_position_get  where reading a log file got to
 * store_mta_apply         record a batch of log events and the new position, in one transaction
 * MTA_DELIVERY_JSON       a delivery's state from the log, as the listings show it
 *
 * Events are matched to deliveries by queue id and recipient
 * (sql/027_mta_log.sql, mta_event_apply); a bounce or an expiry is also a
 * bounce row (store_bounce_record_mta), counted once with its DSN. Applying
 * the same events twice changes nothing. Both return 0 or a store error.
 */
#ifndef POSTINO_STORE_MTA_H
#define POSTINO_STORE_MTA_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine/mail/mta_log.h"
#include "engine/net/mta_tail.h"
#include "engine/store/store.h"

/* A delivery D's state as Postfix's log told it, a JSON object or null (for the listings that show deliveries). */
#define MTA_DELIVERY_JSON(d)                                                                                   \
    "(SELECT json_build_object('state', m.state, 'host', m.host, 'dsn', m.dsn, 'reason', m.reason,"           \
    " 'deferrals', m.deferrals, 'at', m.at) FROM delivery_mta m WHERE m.delivery_id = " d ".id)"

struct mta_apply_stats {
    long events;     /* delivery events in the batch */
    long changed;    /* deliveries whose state changed */
    long bounces;    /* bounce rows added */
};

/* store_mta_position_get - the saved position of PATH into *POS (all zero when none). */
int store_mta_position_get(PGconn *conn, const char *path, struct mta_pos *pos, struct store_err *e);

/*
 * store_mta_apply - apply the N events EV read from PATH (LINES lines in all;
 * event I's line starts at byte OFF[I] of POS's file) and save POS as PATH's
 * position, all or nothing. Adds to *ST.
 */
int store_mta_apply(PGconn *conn, const char *path, const struct mta_event *ev, const long long *off, size_t n,
                    long lines, const struct mta_pos *pos, struct mta_apply_stats *st, struct store_err *e);

#endif
