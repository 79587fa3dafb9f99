/*
 * sender_int - what the files of the sender share; included only by engine/send.
 *
 * sender.c         jobs' lifecycle, claims and the pump, start and stop
 * results.c        the result batches and their recording
 * submit.c         rendered messages handed to the relay pools; their answers
 * render.c         messages composed and signed on worker threads
 * campaigns_rt.c   the campaigns in use, prepared on worker threads
 * relays_rt.c      the relays in use, read again every [send] relay_reload
 * housekeeping.c   schedule, finish, heartbeat, lease renewal, status
 * leases.c         after the claim connection came back: the rows still this sender's
 *
 * Everything runs on the loop's thread except render_work (render.c) and
 * prepare_work (campaigns_rt.c), on libuv's worker threads: they write only
 * their job, or the fields of their campaign the loop leaves alone while it
 * is CAMP_PREPARING.
 */
#ifndef POSTINO_SEND_SENDER_INT_H
#define POSTINO_SEND_SENDER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "engine/send/prepare.h"
#include "engine/send/sender.h"
#include "engine/send/backend.h"
#include "engine/store/ledger.h"
#include "engine/util/buf.h"

struct relay_def;
struct smtp_pool;

/* ---- campaigns and jobs ---- */

/* CAMP_RELAY: prepared, naming a relay not known here; waits for the relays to be read again */
enum camp_state { CAMP_PREPARING, CAMP_READY, CAMP_RELAY, CAMP_FAILED };

struct job;

struct campaign_rt {
    struct sender *s;
    uint64_t id;
    enum camp_state state;     /* the loop's own: the worker writes prepared, read in prepare_done */
    enum camp_state prepared;  /* CAMP_READY or CAMP_FAILED, set by prepare_work on a worker thread */
    struct prepared_campaign pc;
    char bounce_domain[256];
    char bounce_local[64];     /* [bounce] local_part, read once per campaign, not per message */
    struct relay_rt *relay;    /* the relay a transactional campaign names; NULL: the least loaded */
    bool relay_gone;           /* the relay it names was removed: its messages are deferred */
    bool relay_asked;          /* it names a relay not known here: the relays were read again for it */
    char err[512];
    bool warned;
    unsigned jobs;             /* claimed and not yet freed: while any, the prepared campaign stays */
    uint64_t ready_at;         /* ms, loop time it became ready */
    struct job *waiting;
    uv_work_t work;
    struct campaign_rt *next;
};

struct job {
    struct sender *s;
    struct campaign_rt *camp;
    uint64_t id, subscriber_id, list_id;
    int attempts;
    int variant;               /* an A/B test's variant; 0: the campaign's own content */
    char *email, *name, *list_name;
    json_t *attribs;
    struct buf msg;
    size_t bytes;              /* the composed message's size, counted in s->msg_bytes until J is done */
    char env_from[600];
    char delivery_header[100]; /* X-Postino-Delivery: the id and the VERP token, so a returned copy proves itself */
    const char *why;
    int rc;
    unsigned session;          /* the claim connection it was claimed on (backend session) */
    struct job *next;
};

struct relay_rt {
    struct sender *s;
    struct relay_def *def;     /* its own (one definition), freed with it */
    struct smtp_pool *pool;
    bool retiring;             /* no longer in s->relays: its pool closes, then it is freed */
};

struct sender {
    struct sender_config cfg;
    uv_loop_t *loop;
    char name[160];
    char host[128];
    struct send_backend *be;    /* the ledger: claims, records, housekeeping */
    struct relay_rt **relays;   /* the relays in use, read again every [send] relay_reload */
    size_t nrelays;
    bool relays_loading, relays_wanted, relays_none_warned;
    uint64_t relays_loaded_at;  /* ms, loop time */
    struct campaign_rt *camps;
    struct ledger_batch batches[2];
    int active;                 /* index of the batch results go to */
    bool flushing;
    unsigned inflight;          /* claimed, not yet in a recorded batch */
    unsigned rendering;
    unsigned long render_batches, render_jobs; /* hand-overs to the worker threads, and the jobs they carried */
    struct job *torender_head, *torender_tail; /* to compose once the bytes held allow (render_more) */
    unsigned ntorender;
    size_t msg_bytes;           /* composed messages not yet done with (ready, in the pools, on the wire) */
    size_t msg_guess;           /* the last composed message's size: what one being composed will take */
    bool claim_busy, housekeeping_busy;
    bool aud_busy;              /* audiences being made on a worker thread (aud_work) */
    uv_work_t aud_work;
    long long aud_made;
    int aud_rc;
    char aud_err[256];
    bool ab_busy;               /* A/B tests being decided on a worker thread (ab_work) */
    uv_work_t ab_work;
    size_t ab_decided;
    int ab_rc;
    char ab_err[256];
    uint64_t renewed_at;        /* ms, loop time of the last lease renewal */
    uint64_t hold_until;        /* ms, loop time: no new message starts before (back-pressure) */
    uint64_t claim_after;       /* ms, loop time: the last claim found nothing; no other before */
    unsigned ratelimit_hits;
    struct job *ready_head, *ready_tail; /* rendered, waiting for room in a relay pool */
    unsigned nready;
    char status[256];
    bool stopping, running_campaigns_known;
    bool closed, deregistering, stop_begun;
    unsigned pools_open;
    unsigned ticks;
    long running_campaigns;
    uv_timer_t tick, flush_timer;
    uv_signal_t sigint, sigterm, sighup;
    bool signals;               /* sigint, sigterm and sighup are set up (sender_run) */
    uv_timer_t drain_timer;     /* started by the stop signal: [send] drain_timeout */
    bool drain_expired;         /* what is still on the wire is given up: released, not awaited */
    bool abandoned;             /* the loop was stopped with pools or renderings left (drain_expired) */
    uv_async_t wake;
    unsigned long sent, deferred, failed;
    unsigned session_checked;   /* the claim connection whose leases are known (leases.c) */
    unsigned held_for;          /* the one asked about */
    bool held_busy;
    uint64_t held_after;        /* ms, loop time: the lock was still held elsewhere; ask again after */
    uint64_t *held_ids;         /* the deliveries leased when it was asked, in order */
    size_t nheld;
    unsigned long lost;         /* claimed, then sent by another sender while the database was out of reach */
    int exit_code;
    int closing_handles;
};

/* render.c */
/* render_more - compose queued jobs while the bytes held allow; drop them while stopping */
void render_more(struct sender *s);

/* sender.c */
/* backend_ok - whether a backend answer succeeded (ERR is NULL); if not, logs WHAT failed and why */
bool backend_ok(const char *err, const char *what);
/* job_free - free J; its campaign has one job fewer */
void job_free(struct job *j);
/* job_drop - forget J, unsent and unrecorded: while stopping (its lease is released at the end), or its row lost to another sender */
void job_drop(struct sender *s, struct job *j);
/* job_defer - record J deferred, unsent, for WHY; then free it */
void job_defer(struct sender *s, struct job *j, const char *why);
/* job_unsendable - record J failed for good, unsent, because its message cannot be composed (WHY); then free it */
void job_unsendable(struct sender *s, struct job *j, const char *why);
/* sender_pump - submit what is rendered, claim more when there is room, stop when asked */
void sender_pump(struct sender *s);
/* sender_maybe_stop - begin stopping; once nothing is left in flight, release the leases and close */
void sender_maybe_stop(struct sender *s);
/* sender_show - S's status and relay count, for sender_status on any thread */
void sender_show(struct sender *s);

/* results.c */
/* add_result - J's outcome into the batch results go to; recorded when full, else within flush_ms */
void add_result(struct sender *s, struct job *j, const char *state, int code, const char *enhanced,
                const char *reply, const char *queue_id, long delay, const char *cls, const char *relay);
/* flush_results - record the full batch, or the current one, unless a batch is being recorded */
void flush_results(struct sender *s);
/* retry_delay - seconds a deferral waits after ATTEMPTS tries */
long retry_delay(struct sender *s, int attempts, bool rate_limited);

/* submit.c */
/* submit_ready - hand rendered jobs to the pools while they have room and no hold is on */
void submit_ready(struct sender *s);
/* job_ready - J is rendered: queue it for submission */
void job_ready(struct sender *s, struct job *j);

/* render.c */
/* render_job - queue J to be composed on a worker thread; the caller's sender_pump starts it (render_more) */
void render_job(struct sender *s, struct job *j);

/* campaigns_rt.c */
/* campaign_get - campaign ID in use; a new one's preparation is queued */
struct campaign_rt *campaign_get(struct sender *s, uint64_t id);
/* campaign_start - C is prepared, or failed: render its waiting jobs, or defer them */
void campaign_start(struct sender *s, struct campaign_rt *c);
/* campaigns_forget_idle - drop prepared campaigns no job uses, prepared more than prepared_keep ago */
void campaigns_forget_idle(struct sender *s);

/* relays_rt.c */
/* relay_named - the relay in use named NAME, or NULL */
struct relay_rt *relay_named(struct sender *s, const char *name);
/* relay_new - a relay and its pool for DEF, whose strings it takes over; NULL when the pool cannot be made */
struct relay_rt *relay_new(struct sender *s, struct relay_def *def);
/* relays_reload - read the relays again (once more after the reading in progress, if one is) */
void relays_reload(struct sender *s);

/* leases.c */
/* leases_check - a new claim connection with rows in hand: take the lock again, read the leases kept */
void leases_check(struct sender *s);
/* leases_sure - whether messages may go to the relays (the claim connection up, its leases known) */
bool leases_sure(struct sender *s);
/* lease_kept - whether J's row is still leased to S */
bool lease_kept(struct sender *s, struct job *j);

/* housekeeping.c */
/* housekeeping - queue one round: schedule, finish, heartbeat, lease renewal */
void housekeeping(struct sender *s);

#endif
