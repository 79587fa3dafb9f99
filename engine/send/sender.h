/*
 * sender - the send path on one libuv loop: schedule, claim, render, submit, record.
 *
 * sender_config_init  a configuration from send_settings: scheduling on, no name
 * sender_run  run a sender until SIGINT/SIGTERM (or, with until_done, until no
 *             campaign is running and nothing is in flight); 0, or -1 when it
 *             could not start (one line logged). It tells systemd it is ready
 *             once its loop runs, and that it stops at the signal. SIGTERM
 *             drains: what is on the wire has [send] drain_timeout seconds to
 *             finish and be recorded; then the rest is released to the ledger
 *             (a message cut on the wire may be sent again by the next sender,
 *             as after a crash). SIGHUP reads the configuration again through
 *             cfg->reload (a refused one changes nothing) and the relays.
             Its thread, and the worker threads it starts, run as SCHED_BATCH.
 * sender_wake make the sender running in this process (if any) claim at once;
 *             callable from any thread (the API after queueing a transactional
 *             message); other processes' senders claim it at their next tick
 * sender_relays_changed  make the sender running in this process read the
 *             relays at once (the API after a relay was added or removed);
 *             other processes' senders read them every [send] relay_reload
 * sender_status  whether a sender runs in this process; its status ("idle",
 *             "sending", "waiting: ...", "idle: no relay is configured") and
 *             how many relays it sends through; callable from any thread
 *
 * sender_run is made of these, which a test (or another embedder) may use
 * with a loop and backend of its own (engine/send/backend.h):
 * sender_new  a sender on LOOP over backend BE, with the relays DEFS (whose
 *             strings it takes over); it starts at once (its first claim
 *             within a tick); BE's owner becomes the sender
 * sender_stop finish what is on the wire, record it, release the rest, close
 *             every handle of the sender and of BE (as SIGTERM does)
 * sender_free after the loop has run out: release the sender (not BE)
 *
 * With no relay defined a sender starts all the same (unless until_done): it
 * claims nothing, says so once, and takes the first relay that appears.
 *
 * The loop never blocks: PostgreSQL through pg_async, SMTP through the relay
 * pools, and campaign preparation and per-recipient rendering and signing on
 * libuv's worker threads. Memory is bounded by max_inflight deliveries and by
 * max_inflight_kb of composed messages, whatever the campaign's size or the
 * message's. A crash can only duplicate messages a relay accepted that were
 * not yet recorded: leases return everything else.
 */
#ifndef POSTINO_SEND_SENDER_H
#define POSTINO_SEND_SENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/send/settings_send.h"

struct sender_config {
    const char *conninfo;
    const char *name;          /* NULL: host:pid */
    bool until_done;
    bool schedule;             /* start scheduled campaigns whose time has come */
    struct send_settings set;  /* [send]: batch, max_inflight, lease, retries, flushes... */
    bool batch_given, max_inflight_given;  /* set by the command line: a reload keeps them */
    /* SIGHUP: read the configuration again into SET (0), or refuse it (-1, ERR); NULL: relays only */
    int (*reload)(struct send_settings *set, char *err, size_t errlen);
};

struct relay_def;
struct send_backend;
struct sender;
typedef struct uv_loop_s uv_loop_t;

void sender_config_init(struct sender_config *cfg);
int sender_run(const struct sender_config *cfg);
struct sender *sender_new(uv_loop_t *loop, const struct sender_config *cfg, struct send_backend *be,
                          struct relay_def *defs, size_t ndefs);
void sender_stop(struct sender *s);
void sender_free(struct sender *s);
void sender_wake(void);
void sender_relays_changed(void);
bool sender_status(char *status, size_t len, size_t *nrelays);

#endif
