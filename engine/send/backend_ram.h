/*
 * backend_ram - the sender's backend in memory: the ledger's rules (leases,
 * due times, a deferral's retry and maximum age, finishing a campaign) kept
 * in arrays, for unit tests that drive the pump without PostgreSQL.
 *
 * backend_ram_new       an empty ledger on LOOP
 * backend_ram_campaign  add a running campaign from its row (as store_campaign_get gives it:
 *                       id, kind, subject, html, text, from_addr, relay...); the row is kept
 * backend_ram_delivery  queue a delivery of campaign CAMPAIGN to EMAIL; its id
 * backend_ram_name      give the recipient of delivery ID a name (claims say "" otherwise)
 * backend_ram_relays    the relays defined from now on (copied)
 * backend_ram_down      while DOWN, ready is false and nothing is answered (as a lost
 *                       connection: requests wait, and are answered once it is back;
 *                       coming back, it calls on_ready)
 * backend_ram_locks     from now on the connection holds the sender's lock, as PostgreSQL's
 *                       claim connection does: session counts the times it came back up
 *                       (0 while down), held answers with the rows the sender still leases
 * backend_ram_take_over what another sender does once OWNER's lock is gone: the rows OWNER
 *                       leases, unsent, are leased to nobody
 * backend_ram_latency   answer each request MS after it was asked (0: at the next loop turn)
 * backend_ram_fail      the next N records fail (and change nothing)
 * backend_ram_get       delivery ID, or NULL
 * backend_ram_count     how many deliveries are in STATE (queued, deferred, sent, failed),
 *                       and of those how many are leased when LEASED is not NULL
 * backend_ram_stats     what was asked: counters, the most leased at once, the last heartbeat
 *
 * Everything runs on LOOP's thread but prepare (a worker thread: it reads
 * the campaigns under a lock). Time is the loop's (uv_now).
 */
#ifndef POSTINO_SEND_BACKEND_RAM_H
#define POSTINO_SEND_BACKEND_RAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "engine/send/backend.h"

struct relay_def;

struct ram_delivery {
    uint64_t id, campaign_id;
    char *email, *name;        /* name: NULL for none */
    char state[16];            /* queued, deferred, sent, failed */
    char owner[160];           /* the sender leasing it, or "" */
    uint64_t lease_until;      /* ms, loop time */
    uint64_t due;              /* ms, loop time: not claimed before */
    uint64_t created;          /* ms, loop time */
    int attempts;
    unsigned records;          /* outcomes recorded for it */
    int code;
    char reply[256], relay[64], cls[16];
};

struct ram_stats {
    unsigned claims, claimed, records, recorded, stale, renewals, releases, heartbeats, relay_reads, prepares;
    size_t leased_max;         /* the most deliveries leased at any one time */
    char status[256];          /* the last heartbeat's */
    bool released;             /* release was asked (and the sender left) */
};

struct send_backend *backend_ram_new(uv_loop_t *loop);
void backend_ram_campaign(struct send_backend *b, json_t *row);
uint64_t backend_ram_delivery(struct send_backend *b, uint64_t campaign, const char *email);
void backend_ram_name(struct send_backend *b, uint64_t id, const char *name);
void backend_ram_relays(struct send_backend *b, const struct relay_def *defs, size_t n);
void backend_ram_down(struct send_backend *b, bool down);
void backend_ram_locks(struct send_backend *b);
void backend_ram_take_over(struct send_backend *b, const char *owner);
void backend_ram_latency(struct send_backend *b, unsigned ms);
void backend_ram_fail(struct send_backend *b, unsigned n);
const struct ram_delivery *backend_ram_get(struct send_backend *b, uint64_t id);
size_t backend_ram_count(struct send_backend *b, const char *state, size_t *leased);
const struct ram_stats *backend_ram_stats(struct send_backend *b);

#endif
