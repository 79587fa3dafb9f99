/*
 * housekeeping - every fourth tick (each tick while stopping), through the
 * backend's claim lane: start scheduled campaigns whose time has come (and,
 * on a worker thread, send the winners of A/B tests whose window has passed),
 * finish those with nothing left, say what this sender does and give back
 * what senders that are gone leased (heartbeat), make on the audiences of
 * started campaigns (a worker thread, chunk by chunk),
 * count the running campaigns (until_done stops when none is); on its
 * record lane, renew the leases on rows held long.
 *
 * housekeeping  queue one round, unless one is under way
 *
 * A statement that fails is logged as an error; the next round runs it again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <uv.h>

#include "engine/net/smtp_pool.h"
#include "engine/send/sender_int.h"
#include "engine/store/relays.h"
#include "engine/util/log.h"

#define AUDIENCE_BUDGET_MS 2000   /* a round of audience chunks, at most (a chunk begun is finished) */

static void on_scheduled(void *owner, const uint64_t *ids, size_t n, const char *err)
{
    (void)owner;
    if (backend_ok(err, "starting scheduled campaigns"))
        for (size_t i = 0; i < n; i++)
            log_info("campaign %llu: its time has come; started", (unsigned long long)ids[i]);
}

static void on_finished(void *owner, const uint64_t *ids, size_t n, const char *err)
{
    (void)owner;
    if (backend_ok(err, "finishing campaigns"))
        for (size_t i = 0; i < n; i++)
            log_info("campaign %llu: finished", (unsigned long long)ids[i]);
}

static void on_running(void *owner, long count, const char *err)
{
    struct sender *s = owner;
    s->housekeeping_busy = false;
    if (backend_ok(err, "counting running campaigns")) {
        s->running_campaigns = count;
        s->running_campaigns_known = true;
    }
    if (s->cfg.until_done && s->running_campaigns_known && s->running_campaigns == 0 && s->inflight == 0 &&
        !s->stopping) {
        log_info("sender: no campaign is running; done (%lu sent, %lu deferred, %lu failed)", s->sent, s->deferred,
                 s->failed);
        s->stopping = true;
    }
    sender_pump(s);
}

static void on_heartbeat(void *owner, long given_back, const char *err)
{
    (void)owner;
    if (backend_ok(err, "heartbeat") && given_back > 0)
        log_info("sender: %ld deliveries leased by a sender that is gone are free again", given_back);
}

static void on_renewed(void *owner, void *arg, const char *err)
{
    (void)owner, (void)arg;
    backend_ok(err, "renewing leases");
}

static void ab_work(uv_work_t *w)
{
    struct sender *s = w->data;
    s->ab_rc = s->be->ops->ab_decide(s->be, &s->ab_decided, s->ab_err, sizeof(s->ab_err));
}

static void ab_done(uv_work_t *w, int status)
{
    struct sender *s = w->data;
    s->ab_busy = false;
    if (status == 0 && s->ab_rc < 0)
        log_error("sender: deciding A/B tests: %s", s->ab_err);
    else if (status == 0 && s->ab_decided > 0)
        log_info("sender: %zu A/B test(s) decided: the winner goes to the rest", s->ab_decided);
    sender_pump(s);
}

static void aud_work(uv_work_t *w)
{
    struct sender *s = w->data;
    s->aud_rc = s->be->ops->audience(s->be, AUDIENCE_BUDGET_MS, &s->aud_made, s->aud_err, sizeof(s->aud_err));
}

static void aud_done(uv_work_t *w, int status)
{
    struct sender *s = w->data;
    s->aud_busy = false;
    if (status == 0 && s->aud_rc < 0)
        log_error("sender: making audiences: %s", s->aud_err);
    sender_pump(s);
}

/*
 * the audiences of started campaigns made on, chunk by chunk, on a worker
 * thread (each chunk blocks), for a while each round: chunks another
 * process is making (`campaign send`, another sender) are left to it
 */
static void audience_make(struct sender *s)
{
    if (s->aud_busy || !s->be->ops->audience || s->stop_begun)
        return;
    s->aud_busy = true;
    s->aud_work.data = s;
    if (uv_queue_work(s->loop, &s->aud_work, aud_work, aud_done) < 0)
        s->aud_busy = false;
}

/* the A/B tests whose window has passed decided on a worker thread (the switch blocks), one round at a time */
static void ab_decide(struct sender *s)
{
    if (s->ab_busy || !s->be->ops->ab_decide || s->stop_begun)
        return;
    s->ab_busy = true;
    s->ab_work.data = s;
    if (uv_queue_work(s->loop, &s->ab_work, ab_work, ab_done) < 0)
        s->ab_busy = false;
}

/* housekeeping - renew leases, then queue one round, unless one is under way, the claim connection is down or S is leaving */
void housekeeping(struct sender *s)
{
    /* once the release is queued, a heartbeat after it would list the sender again */
    if (s->deregistering)
        return;
    /*
     * Rows held longer than a lease (slow relays, back-pressure) must not be
     * claimed again: renewed on the record lane (renewals and records touch
     * the same rows, one at a time), whether or not the claim lane is up.
     */
    if (s->inflight > 0 && uv_now(s->loop) - s->renewed_at >= s->cfg.set.lease_s * 1000u / 3) {
        s->be->ops->renew(s->be, s->name, s->cfg.set.lease_s, on_renewed);
        s->renewed_at = uv_now(s->loop);
    }
    if (s->housekeeping_busy || !s->be->ops->ready(s->be))
        return;
    s->housekeeping_busy = true;
    campaigns_forget_idle(s);
    if (uv_now(s->loop) - s->relays_loaded_at >= s->cfg.set.relay_reload_s * 1000u)
        relays_reload(s);
    if (s->cfg.schedule) {
        s->be->ops->schedule(s->be, s->cfg.set.audience_chunk, on_scheduled);
        ab_decide(s);
    }
    audience_make(s);
    s->be->ops->finish(s->be, on_finished);
    if (s->nrelays == 0)
        snprintf(s->status, sizeof(s->status), "idle: no relay is configured");
    else if (!s->inflight && !s->status[0])
        snprintf(s->status, sizeof(s->status), "idle");
    /* the relays' connection slots: asked for again, what is not wanted given back */
    for (size_t i = 0; i < s->nrelays; i++)
        smtp_pool_ask_slots(s->relays[i]->pool);
    for (size_t i = 0; i < s->nrelays; i++) {
        /* messages waiting in a pool with none on the wire: the relay's pace (or its shared budget) holds them */
        struct relay_rt *r = s->relays[i];
        if (smtp_pool_starved(r->pool)) {
            snprintf(s->status, sizeof(s->status),
                     "waiting: relay %s: its %d connections are all in use by other senders", r->def->name,
                     r->def->max_conns);
        } else if (smtp_pool_queued(r->pool) > 0 && smtp_pool_in_flight(r->pool) == 0 &&
                   (smtp_pool_conns(r->pool) > 0 || smtp_pool_paced(r->pool))) {
            char rate[48] = "", quota[64] = "";
            if (r->def->rate > 0)
                snprintf(rate, sizeof(rate), "rate %.4g/s", r->def->rate);
            if (r->def->quota > 0)
                snprintf(quota, sizeof(quota), "%squota %ld per %ld s", rate[0] ? ", " : "", r->def->quota,
                         r->def->quota_period_s);
            snprintf(s->status, sizeof(s->status), "waiting: relay %s paces sending (%s%s)", r->def->name, rate,
                     quota);
        }
    }
    sender_show(s);
    s->be->ops->heartbeat(s->be, s->name, s->host, (int)getpid(), s->status, on_heartbeat);
    s->be->ops->running(s->be, on_running);
}
