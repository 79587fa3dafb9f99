/*
 * backend - what a sender asks of the delivery ledger, behind a table of
 * functions (as OpenSMTPD's queue backends): the PostgreSQL one
 * (backend_pg.c) for every real sender, an in-memory one (backend_ram.c)
 * that unit tests drive the pump with.
 *
 * ready      whether claims and housekeeping can be asked now (the claim connection is up)
 * idle       whether nothing asked is still unanswered
 * claim      lease up to LIMIT due deliveries to OWNER for LEASE_S seconds
 * record     record a batch of outcomes of deliveries OWNER leases; a deferral older
 *            than MAX_AGE_S seconds fails instead
 * renew      extend OWNER's leases by LEASE_S seconds
 * release    give back what OWNER leases, unsent, and forget OWNER
 * session    which connection holds OWNER's lock: a number that changes each time the claim
 *            connection is opened again (the lock may have been lost meanwhile), 0 while it is
 *            down (NULL in a backend whose connection is never lost)
 * held       take OWNER's lock on that connection if it is free; when held, the deliveries
 *            OWNER still leases (ids in order: what another sender took over while the lock
 *            was lost is not among them); LOCKED false: another session holds it still
 * heartbeat  say what OWNER (on HOST, process PID) is doing, and give back what senders
 *            that are gone leased (their connection, and so their lock, ended): the count
 * budget     up to WANT more messages for relay NAME under its limits, shared by every
 *            sender (NULL in a backend with no other senders): the count, or 0 and a wait
 * slots      OWNER wants WANT of relay NAME's MAX_CONNS connection slots, shared by every
 *            sender (NULL in a backend with no other senders): how many it holds now
 * schedule   start the scheduled campaigns whose time has come, each with a first chunk of
 *            CHUNK subscriber ids (0: its whole audience); their ids
 * finish     mark finished the running campaigns with nothing left; their ids
 * running    count the running campaigns (transactional ones while they have something to send)
 * relays     the relays defined now (the callback owns them: relay_defs_free)
 * prepare    campaign ID made ready for composing (runs on a worker thread, may block)
 * audience   make chunks of the audiences being made for up to BUDGET_MS, *MADE deliveries (runs on
 *            a worker thread, may block; NULL in a backend whose campaigns start whole)
 * ab_decide  pick the winners of the A/B tests whose window has passed, *N of them (runs on
 *            a worker thread, may block; NULL in a backend with no A/B tests)
 * close      drop what is asked and not begun, then CB(owner) once closed
 * free       release the backend (after close's callback, or if never started)
 *
 * Every function but prepare, close and free answers later, on the loop's
 * thread, through its callback with the OWNER the backend was made for;
 * ERR is NULL on success, else one line (already logged by nobody: the
 * caller decides). Requests are answered in the order asked on each of the
 * two lanes a backend may have: claims and housekeeping on one, records
 * and renewals on the other (so records are never held up behind a claim).
 * A request that fails is not retried by the backend: the sender asks again.
 */
#ifndef POSTINO_SEND_BACKEND_H
#define POSTINO_SEND_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "engine/store/ledger.h"

struct prepared_campaign;
struct relay_def;
struct send_backend;

typedef void (*backend_rows_cb)(void *owner, const struct ledger_row *rows, size_t n, const char *err);
typedef void (*backend_done_cb)(void *owner, void *arg, const char *err);
typedef void (*backend_ids_cb)(void *owner, const uint64_t *ids, size_t n, const char *err);
typedef void (*backend_count_cb)(void *owner, long count, const char *err);
typedef void (*backend_relays_cb)(void *owner, struct relay_def *defs, size_t n, const char *err);
typedef void (*backend_closed_cb)(void *owner);
typedef void (*backend_budget_cb)(void *owner, void *arg, unsigned granted, unsigned wait_ms, const char *err);
typedef void (*backend_slots_cb)(void *owner, void *arg, unsigned held, const char *err);
typedef void (*backend_held_cb)(void *owner, bool locked, const uint64_t *ids, size_t n, const char *err);

struct send_backend_ops {
    bool (*ready)(struct send_backend *b);
    bool (*idle)(struct send_backend *b);
    void (*claim)(struct send_backend *b, const char *owner, unsigned limit, unsigned lease_s, backend_rows_cb cb);
    void (*record)(struct send_backend *b, struct ledger_batch *batch, const char *owner, unsigned max_age_s,
                   backend_done_cb cb, void *arg);
    void (*renew)(struct send_backend *b, const char *owner, unsigned lease_s, backend_done_cb cb);
    void (*release)(struct send_backend *b, const char *owner, backend_done_cb cb);
    unsigned (*session)(struct send_backend *b);
    void (*held)(struct send_backend *b, const char *owner, backend_held_cb cb);
    void (*heartbeat)(struct send_backend *b, const char *owner, const char *host, int pid, const char *status,
                      backend_count_cb cb);
    void (*budget)(struct send_backend *b, const char *name, unsigned want, double rate, long quota,
                   long period_s, backend_budget_cb cb, void *arg);
    void (*slots)(struct send_backend *b, const char *owner, const char *name, unsigned max_conns, unsigned want,
                  backend_slots_cb cb, void *arg);
    void (*schedule)(struct send_backend *b, unsigned chunk, backend_ids_cb cb);
    void (*finish)(struct send_backend *b, backend_ids_cb cb);
    void (*running)(struct send_backend *b, backend_count_cb cb);
    void (*relays)(struct send_backend *b, backend_relays_cb cb);
    int (*prepare)(struct send_backend *b, uint64_t id, struct prepared_campaign *pc, bool *unsigned_warning,
                   char *err, size_t errlen);
    int (*audience)(struct send_backend *b, long budget_ms, long long *made, char *err, size_t errlen);
    int (*ab_decide)(struct send_backend *b, size_t *n, char *err, size_t errlen);
    void (*close)(struct send_backend *b, backend_closed_cb cb);
    void (*free)(struct send_backend *b);
};

/* A backend: its table, and the owner its callbacks get (set by the sender that uses it). */
struct send_backend {
    const struct send_backend_ops *ops;
    void *owner;
    void (*on_ready)(void *owner); /* the owner's, optional: ready() became true (the claim connection is set up) */
};

/* backend_pg_new - the PostgreSQL backend on LOOP for CONNINFO (a string outliving it); starts connecting. */
struct send_backend *backend_pg_new(uv_loop_t *loop, const char *conninfo);

#endif
