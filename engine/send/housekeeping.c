/*
 * housekeeping - every fourth tick (each tick while stopping), on the claim
 * connection: start scheduled campaigns whose time has come, finish those
 * with nothing left, say what this sender does (heartbeat), count the
 * running campaigns (until_done stops when none is); on the record
 * connection, renew the leases on rows held long.
 *
 * housekeeping  queue one round, unless one is under way
 *
 * A statement that fails is logged as an error; the next round runs it again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <uv.h>

#include "engine/net/smtp_pool.h"
#include "engine/send/sender_int.h"
#include "engine/store/dbq.h"
#include "engine/store/ledger.h"
#include "engine/store/relays.h"
#include "engine/util/log.h"

static void on_scheduled(void *owner, PGresult *res, void *arg)
{
    struct sender *s = owner;
    (void)arg;
    if (res_ok(s, res, "starting scheduled campaigns"))
        for (int i = 0; i < PQntuples(res); i++)
            log_info("campaign %s: its time has come; started", PQgetvalue(res, i, 0));
}

static void on_finished(void *owner, PGresult *res, void *arg)
{
    struct sender *s = owner;
    (void)arg;
    if (res_ok(s, res, "finishing campaigns"))
        for (int i = 0; i < PQntuples(res); i++)
            log_info("campaign %s: finished", PQgetvalue(res, i, 0));
}

static void on_running(void *owner, PGresult *res, void *arg)
{
    struct sender *s = owner;
    (void)arg;
    s->housekeeping_busy = false;
    if (res_ok(s, res, "counting running campaigns")) {
        s->running_campaigns = atol(PQgetvalue(res, 0, 0));
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

static void on_heartbeat(void *owner, PGresult *res, void *arg)
{
    struct sender *s = owner;
    (void)arg;
    res_ok(s, res, "heartbeat");
}

static void on_renewed(void *owner, PGresult *res, void *arg)
{
    struct sender *s = owner;
    (void)arg;
    res_ok(s, res, "renewing leases");
}

/* housekeeping - renew leases, then queue one round, unless one is under way, the claim connection is down or S is leaving */
void housekeeping(struct sender *s)
{
    char pid[16], lease[16];
    /* once the release is queued, a heartbeat after it would list the sender again */
    if (s->deregistering)
        return;
    /*
     * Rows held longer than a lease (slow relays, back-pressure) must not be
     * claimed again: renewed on the record connection (renewals and records
     * touch the same rows, one at a time), whether or not the claim connection is up.
     */
    if (s->inflight > 0 && uv_now(s->loop) - s->renewed_at >= s->cfg.lease_s * 1000u / 3) {
        const char *rp[] = { s->name, lease };
        snprintf(lease, sizeof(lease), "%u", s->cfg.lease_s);
        dbq_push(&s->recordq, ledger_renew_sql, 2, rp, on_renewed, NULL);
        s->renewed_at = uv_now(s->loop);
    }
    if (s->housekeeping_busy || !dbq_ready(&s->claimq))
        return;
    s->housekeeping_busy = true;
    campaigns_forget_idle(s);
    if (uv_now(s->loop) - s->relays_loaded_at >= s->cfg.relay_reload_s * 1000u)
        relays_reload(s);
    if (s->cfg.schedule)
        dbq_push(&s->claimq, ledger_schedule_sql, 0, NULL, on_scheduled, NULL);
    dbq_push(&s->claimq, ledger_finish_sql, 0, NULL, on_finished, NULL);
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    if (s->nrelays == 0)
        snprintf(s->status, sizeof(s->status), "idle: no relay is configured");
    else if (!s->inflight && !s->status[0])
        snprintf(s->status, sizeof(s->status), "idle");
    for (size_t i = 0; i < s->nrelays; i++) {
        /* messages waiting in a pool with none on the wire: the relay's pace holds them */
        struct relay_rt *r = s->relays[i];
        if (smtp_pool_queued(r->pool) > 0 && smtp_pool_in_flight(r->pool) == 0 && smtp_pool_conns(r->pool) > 0) {
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
    const char *hb[] = { s->name, s->host, pid, s->status };
    dbq_push(&s->claimq, ledger_heartbeat_sql, 4, hb, on_heartbeat, NULL);
    /* a transactional campaign runs for ever: it counts while it has something to send */
    dbq_push(&s->claimq,
             "SELECT count(*) FROM campaigns WHERE status = 'running' AND (kind = 'campaign' OR n_queued + n_deferred > 0)",
             0, NULL, on_running, NULL);
}
