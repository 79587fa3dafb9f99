/*
 * sender - claim deliveries, render and sign them on worker threads, submit
 * them through the relay pools, record the outcomes in batches.
 *
 * Flow of one delivery: a claim row becomes a job; its campaign is prepared
 * once (worker thread, blocking connection of its own); the job is rendered
 * on a worker thread; after_work submits it to the relay with the most room;
 * the pool's callback classifies the answer (engine/mail/classify) and adds
 * it to the result batch; the batch is recorded by primary key from arrays
 * every flush_ms or flush_rows. Two database connections: one runs claims
 * and housekeeping (schedule, finish, heartbeat, reading the relays again)
 * in turn, one records.
 *
 * This file: the jobs' lifecycle, claims and the pump, the wake-ups from
 * other threads, starting and stopping. The ledger is reached through a
 * backend (backend.h: PostgreSQL in backend_pg.c, in memory in
 * backend_ram.c). The rest, with what they share in sender_int.h: the
 * result batches (results.c), submission to the relay pools (submit.c), rendering
 * (render.c), the campaigns (campaigns_rt.c) and relays (relays_rt.c) in
 * use, housekeeping (housekeeping.c).
 */
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "engine/mail/dkim.h"
#include "engine/net/smtp_pool.h"
#include "engine/send/prepare.h"
#include "engine/send/sender.h"
#include "engine/send/sender_int.h"
#include "engine/send/backend.h"
#include "engine/store/ledger.h"
#include "engine/store/pg.h"
#include "engine/store/relays.h"
#include "engine/store/store.h"
#include "engine/util/alloc.h"
#include "engine/util/log.h"
#include "engine/util/notify.h"

/* an idle sender looks for due deliveries this often (the tick is 250 ms) */
#define CLAIM_IDLE_MS 200

/* the running sender of this process, woken from other threads (sender_wake) */
/* the sender running in this process, for sender_wake and sender_status (any thread), under wake_lock */
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static uv_async_t *wake_handle;
static bool wake_relays;          /* sender_relays_changed was called: read the relays at once */
static char shown_status[256];    /* the sender's status at its last housekeeping */
static size_t shown_relays;       /* the relays it sends through */

/* backend_ok - whether a backend answer succeeded (ERR is NULL); if not, logs WHAT failed and why */
bool backend_ok(const char *err, const char *what)
{
    if (!err)
        return true;
    log_error("sender: %s: %s", what, err);
    return false;
}

/* job_free - free J; its campaign has one job fewer */
void job_free(struct job *j)
{
    if (j->camp)
        j->camp->jobs--;
    j->s->msg_bytes -= j->bytes;
    xfree(j->email);
    xfree(j->name);
    xfree(j->list_name);
    json_decref(j->attribs);
    buf_free(&j->msg);
    xfree(j);
}

/*
 * job_drop - forget J, unsent and unrecorded: while stopping (its row keeps
 * its state and its lease is released at the end), or when another sender
 * took its row over while the database was out of reach (leases.c)
 */
void job_drop(struct sender *s, struct job *j)
{
    s->inflight--;
    job_free(j);
}

/* job_defer - defer J without having sent it (preparation or rendering trouble, no relay) */
void job_defer(struct sender *s, struct job *j, const char *why)
{
    add_result(s, j, "deferred", 0, "", why, "", retry_delay(s, j->attempts, false), "", "");
    s->deferred++;
    job_free(j);
}

/*
 * job_unsendable - fail J for good without sending it: its message cannot be
 * made of its values (WHY), and trying again would only make the same
 * mistake until the maximum age. The reason is the delivery's reply; no
 * bounce is recorded (LEDGER_CLASS_LOCAL).
 */
void job_unsendable(struct sender *s, struct job *j, const char *why)
{
    char reply[256];
    snprintf(reply, sizeof(reply), "cannot compose: %s", why);
    log_error("sender: delivery %llu failed: %s", (unsigned long long)j->id, reply);
    add_result(s, j, "failed", 0, "", reply, "", 0, LEDGER_CLASS_LOCAL, "");
    s->failed++;
    job_free(j);
}

/* ---- claiming ---- */

static void on_claimed(void *owner, const struct ledger_row *rows, size_t n, const char *err)
{
    struct sender *s = owner;
    s->claim_busy = false;
    if (!backend_ok(err, "claiming deliveries"))
        return;
    leases_check(s);   /* with nothing in hand yet, the rows claimed on this connection are known to be its own */
    for (size_t i = 0; i < n; i++) {
        struct job *j = xcalloc(1, sizeof(*j));
        json_error_t jerr;
        j->s = s;
        j->id = rows[i].id;
        j->subscriber_id = rows[i].subscriber_id;
        j->list_id = rows[i].list_id;
        j->attempts = rows[i].attempts;
        j->variant = rows[i].variant;
        j->email = xstrdup(rows[i].email);
        j->name = xstrdup(rows[i].name);
        j->list_name = xstrdup(rows[i].list_name);
        j->attribs = json_loads(rows[i].attribs, 0, &jerr);
        j->session = s->be->ops->session ? s->be->ops->session(s->be) : 0;
        s->inflight++;
        struct campaign_rt *c = campaign_get(s, rows[i].campaign_id);
        j->camp = c;
        c->jobs++;
        if (c->state == CAMP_READY) {
            render_job(s, j);
        } else {
            j->next = c->waiting;
            c->waiting = j;
        }
    }
    if (n > 0)
        snprintf(s->status, sizeof(s->status), "sending");
    /* nothing due: ask again at a tick (or when woken), not in a loop of round trips */
    s->claim_after = n > 0 ? 0 : uv_now(s->loop) + CLAIM_IDLE_MS;
    sender_pump(s);
}

static void claim(struct sender *s)
{
    unsigned room = s->cfg.set.max_inflight - s->inflight;
    s->claim_busy = true;
    s->be->ops->claim(s->be, s->name, room < s->cfg.set.batch ? room : s->cfg.set.batch, s->cfg.set.lease_s, on_claimed);
}

/* sender_pump - claim more when there is room, and see whether it is time to stop */
void sender_pump(struct sender *s)
{
    leases_check(s);
    submit_ready(s);
    render_more(s);
    if (s->stopping) {
        sender_maybe_stop(s);
        return;
    }
    if (s->claim_busy || !s->be->ops->ready(s->be))
        return;
    /* with no relay nothing could be sent: nothing is claimed, so nothing is deferred */
    if (s->nrelays == 0)
        return;
    if (uv_now(s->loop) < s->hold_until || uv_now(s->loop) < s->claim_after)
        return;
    /* claim when at least half a batch fits and rendered messages are not piling up */
    if (s->inflight + s->cfg.set.batch / 2 > s->cfg.set.max_inflight ||
        s->nready + s->rendering + s->ntorender > s->cfg.set.batch)
        return;
    claim(s);
}

/* a transactional delivery was queued in this process: claim now rather than at the next tick */
static void on_wake(uv_async_t *h)
{
    struct sender *s = h->data;
    pthread_mutex_lock(&wake_lock);
    bool reload = wake_relays;
    wake_relays = false;
    pthread_mutex_unlock(&wake_lock);
    if (reload && !s->stop_begun)
        relays_reload(s);
    s->claim_after = 0;
    sender_pump(s);
}

/* sender_wake - see sender.h. */
void sender_wake(void)
{
    pthread_mutex_lock(&wake_lock);
    if (wake_handle)
        uv_async_send(wake_handle);
    pthread_mutex_unlock(&wake_lock);
}

/* sender_relays_changed - see sender.h. */
void sender_relays_changed(void)
{
    pthread_mutex_lock(&wake_lock);
    if (wake_handle) {
        wake_relays = true;
        uv_async_send(wake_handle);
    }
    pthread_mutex_unlock(&wake_lock);
}

/* sender_status - see sender.h. */
bool sender_status(char *status, size_t len, size_t *nrelays)
{
    pthread_mutex_lock(&wake_lock);
    bool running = wake_handle != NULL;
    snprintf(status, len, "%s", shown_status[0] ? shown_status : "starting");
    *nrelays = shown_relays;
    pthread_mutex_unlock(&wake_lock);
    return running;
}

/* sender_show - S's status and relay count, for sender_status on any thread */
void sender_show(struct sender *s)
{
    pthread_mutex_lock(&wake_lock);
    snprintf(shown_status, sizeof(shown_status), "%s", s->status);
    shown_relays = s->nrelays;
    pthread_mutex_unlock(&wake_lock);
}

/* the claim connection is set up: claim now (the first claim of a start, or the first after an outage), not at the tick */
static void on_backend_ready(void *owner)
{
    sender_pump(owner);
}

static void on_tick(uv_timer_t *t)
{
    struct sender *s = t->data;
    if (s->inflight == 0 && !s->claim_busy && uv_now(s->loop) >= s->hold_until)
        s->status[0] = 0;
    if (++s->ticks % 4 == 0 || s->stopping)
        housekeeping(s);
    flush_results(s);
    sender_pump(s);
}

/* ---- starting and stopping ---- */

static void on_pool_closed(void *arg)
{
    struct sender *s = arg;
    s->pools_open--;
    sender_maybe_stop(s);
}

/*
 * sender_begin_stop - take no more work: messages not yet on the wire are
 * dropped (their rows are released, untouched, at the end), the pools cancel
 * what waits for a connection or the relay's pace and finish what is on the wire.
 */
static void sender_begin_stop(struct sender *s)
{
    if (s->stop_begun)
        return;
    s->stop_begun = true;
    submit_ready(s);
    render_more(s);
    for (size_t i = 0; i < s->nrelays; i++)
        smtp_pool_close(s->relays[i]->pool, on_pool_closed, s);
}

static void on_released(void *owner, void *arg, const char *err)
{
    struct sender *s = owner;
    (void)arg;
    backend_ok(err, "releasing leases and leaving the senders table");
    s->deregistering = true;
    sender_maybe_stop(s);
}

static void on_backend_closed(void *owner)
{
    (void)owner;
}

/* sender_maybe_stop - begin stopping; once nothing is left in flight, release the leases and close */
void sender_maybe_stop(struct sender *s)
{
    if (s->closed)
        return;
    sender_begin_stop(s);
    flush_results(s);
    /* on the wire: awaited until [send] drain_timeout, then given up (released below, not recorded) */
    bool wire = s->pools_open > 0 || s->rendering > 0;
    if ((wire && !s->drain_expired) || s->flushing || s->batches[0].n || s->batches[1].n ||
        !s->be->ops->idle(s->be))
        return;
    for (struct campaign_rt *c = s->camps; c && !s->drain_expired; c = c->next)
        if (c->state == CAMP_PREPARING)
            return;
    if (!s->deregistering && s->be->ops->ready(s->be)) {
        s->deregistering = true;
        s->be->ops->release(s->be, s->name, on_released);
        return;
    }
    s->closed = true;
    uv_timer_stop(&s->tick);
    uv_timer_stop(&s->flush_timer);
    uv_timer_stop(&s->drain_timer);
    pthread_mutex_lock(&wake_lock);
    wake_handle = NULL;
    pthread_mutex_unlock(&wake_lock);
    if (wire) {
        /* the pools and renderings cannot end in time: the loop stops with them; the process is ending */
        s->abandoned = true;
        uv_stop(s->loop);
        return;
    }
    uv_close((uv_handle_t *)&s->drain_timer, NULL);
    uv_close((uv_handle_t *)&s->wake, NULL);
    uv_close((uv_handle_t *)&s->tick, NULL);
    uv_close((uv_handle_t *)&s->flush_timer, NULL);
    if (s->signals) {
        uv_close((uv_handle_t *)&s->sigint, NULL);
        uv_close((uv_handle_t *)&s->sigterm, NULL);
        uv_close((uv_handle_t *)&s->sighup, NULL);
    }
    s->be->ops->close(s->be, on_backend_closed);
}

/* [send] drain_timeout is over: what is still on the wire is released to the ledger, not awaited */
static void on_drain_timeout(uv_timer_t *t)
{
    struct sender *s = t->data;
    log_warn("sender %s: [send] drain_timeout (%u s) is over: %u message%s still in flight go%s back to the ledger",
             s->name, s->cfg.set.drain_timeout_s, s->inflight, s->inflight == 1 ? "" : "s",
             s->inflight == 1 ? "es" : "");
    s->drain_expired = true;
    sender_maybe_stop(s);
}

/* sender_stop - see sender.h. */
void sender_stop(struct sender *s)
{
    if (!s->stopping)
        uv_timer_start(&s->drain_timer, on_drain_timeout, (uint64_t)s->cfg.set.drain_timeout_s * 1000u, 0);
    s->stopping = true;
    sender_pump(s);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct sender *s = h->data;
    if (s->stopping) {
        log_warn("sender: second signal; leaving now (leases return what was not recorded)");
        exit(1);
    }
    log_info("sender: signal %d: finishing what is in flight (%u s at most), then stopping", signum,
             s->cfg.set.drain_timeout_s);
    notify_stopping();
    sender_stop(s);
}

/* SIGHUP: the configuration (through cfg.reload) and the relays, read again */
static void on_sighup(uv_signal_t *h, int signum)
{
    struct sender *s = h->data;
    char err[512];
    (void)signum;
    if (s->stopping)
        return;
    notify_reloading();
    if (s->cfg.reload) {
        struct send_settings set;
        if (s->cfg.reload(&set, err, sizeof(err)) < 0) {
            log_error("reload: %s; the running configuration stays", err);
        } else {
            if (s->cfg.batch_given)
                set.batch = s->cfg.set.batch;
            if (s->cfg.max_inflight_given)
                set.max_inflight = s->cfg.set.max_inflight;
            if (set.batch > set.max_inflight)
                set.batch = set.max_inflight;
            s->cfg.set = set;
            log_info("reload: the configuration was read again; [log] and [send] apply now, the other sections "
                     "at the next start");
        }
    }
    log_info("reload: reading the relays again");
    relays_reload(s);
    notify_ready("sending");
}

/* sender_config_init - see sender.h. */
void sender_config_init(struct sender_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->set = send_settings;
    cfg->schedule = true;
}

/* sender_new - see sender.h. */
struct sender *sender_new(uv_loop_t *loop, const struct sender_config *cfg, struct send_backend *be,
                          struct relay_def *defs, size_t ndefs)
{
    struct sender *s = xcalloc(1, sizeof(*s));
    s->cfg = *cfg;
    if (s->cfg.set.batch > s->cfg.set.max_inflight)
        s->cfg.set.batch = s->cfg.set.max_inflight;
    gethostname(s->host, sizeof(s->host) - 1);
    if (cfg->name)
        snprintf(s->name, sizeof(s->name), "%s", cfg->name);
    else
        snprintf(s->name, sizeof(s->name), "%s:%d", s->host, (int)getpid());
    s->loop = loop;
    s->be = be;
    be->owner = s;
    be->on_ready = on_backend_ready;
    s->relays = xcalloc(ndefs ? ndefs : 1, sizeof(*s->relays));
    for (size_t i = 0; i < ndefs; i++)
        if (!(s->relays[s->nrelays++] = relay_new(s, &defs[i])))
            log_fatal("sender: cannot start without every relay");
    s->relays_loaded_at = uv_now(s->loop);
    ledger_batch_init(&s->batches[0]);
    ledger_batch_init(&s->batches[1]);
    uv_timer_init(s->loop, &s->tick);
    uv_timer_init(s->loop, &s->flush_timer);
    uv_timer_init(s->loop, &s->drain_timer);
    s->tick.data = s->flush_timer.data = s->drain_timer.data = s;
    uv_timer_start(&s->tick, on_tick, 250, 250);
    uv_async_init(s->loop, &s->wake, on_wake);
    s->wake.data = s;
    pthread_mutex_lock(&wake_lock);
    wake_handle = &s->wake;
    pthread_mutex_unlock(&wake_lock);
    if (s->nrelays == 0) {
        snprintf(s->status, sizeof(s->status), "idle: no relay is configured");
        log_warn("sender %s: no relay is configured; waiting for one ('postino relay add' or POST /api/v1/relays)",
                 s->name);
        s->relays_none_warned = true;
    } else {
        log_info("sender %s: sending through %zu relay%s", s->name, s->nrelays, s->nrelays == 1 ? "" : "s");
    }
    sender_show(s); /* an empty status reads "starting" until the first housekeeping */
    return s;
}

/* sender_free - see sender.h. */
void sender_free(struct sender *s)
{
    for (struct campaign_rt *c = s->camps; c;) {
        struct campaign_rt *next = c->next;
        if (c->state == CAMP_READY || c->state == CAMP_RELAY)
            campaign_prepared_free(&c->pc);
        xfree(c);
        c = next;
    }
    ledger_batch_free(&s->batches[0]);
    ledger_batch_free(&s->batches[1]);
    xfree(s->held_ids);
    for (size_t i = 0; i < s->nrelays; i++) {
        relay_defs_free(s->relays[i]->def, 1);
        xfree(s->relays[i]);
    }
    xfree(s->relays);
    char lost[96] = "";
    if (s->lost)
        snprintf(lost, sizeof(lost), ", %lu left to other senders while the database was out of reach", s->lost);
    log_info("sender %s: stopped (%lu sent, %lu deferred, %lu failed%s)", s->name, s->sent, s->deferred, s->failed,
             lost);
    unsigned long timed;
    unsigned long long ns;
    dkim_sign_cpu(&timed, &ns);
    if (timed > 0)
        log_info("sender %s: a DKIM signature's private-key operation took %.1f us of CPU (1 in %d timed: %lu)", s->name,
                 (double)ns / (double)timed / 1000.0, DKIM_SIGN_SAMPLE, timed);
    xfree(s);
}

/*
 * batch_scheduling - the calling thread, and the threads it starts from now
 * on (the worker threads inherit it), become SCHED_BATCH. A sender is a
 * throughput job: when a reply or a composed batch wakes its loop thread
 * while its workers sign on every core, the loop waits for a worker's turn
 * to end rather than preempting it. On a busy host that halves the context
 * switches a message costs (0.62 voluntary and 0.48 involuntary a message
 * in bench/send.sh's RSA run, 0.32 and 0.13 under SCHED_BATCH) and lets
 * each wake-up of the loop take in more replies. Nothing waits longer than
 * a scheduler tick for it, and the sender yields to everything else on the
 * host (Postfix, PostgreSQL, the API) where they want the CPU at once.
 */
static void batch_scheduling(void)
{
    struct sched_param sp = { 0 };
    int rc = pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
    if (rc != 0)
        log_warn("sender: cannot run as SCHED_BATCH (%s); it runs as it was started", strerror(rc));
}

/*
 * keep_heap - the heap's free top is kept for the next messages rather than
 * handed back to the kernel. Each worker thread composes into its own malloc
 * arena, and the loop's thread frees the message once it is sent: with
 * glibc's defaults an arena shrinks as soon as 128 KB at its top are free
 * (madvise) and faults its pages in again for the next batch. In
 * bench/send.sh's RSA run that was 34,000 page faults for 100,000 messages,
 * 7,000 with this. Up to 32 MB an arena may keep; allocations up to 4 MB
 * (a claim's rows, a batch of results) come from the heap, not mmap.
 */
static void keep_heap(void)
{
    if (!mallopt(M_MMAP_THRESHOLD, 4 << 20) || !mallopt(M_TRIM_THRESHOLD, 32 << 20))
        log_warn("sender: malloc kept its defaults");
}

/* sender_run - see sender.h. */
int sender_run(const struct sender_config *cfg)
{
    char err[1024];
    struct store_err e;
    batch_scheduling();
    keep_heap();
    PGconn *conn = pg_connect(cfg->conninfo, err, sizeof(err));
    if (!conn) {
        log_error("%s", err);
        return -1;
    }
    struct relay_def *defs;
    size_t ndefs;
    /* no relay yet (a fresh install): wait for one, unless asked to finish what there is */
    if (store_relay_load(conn, NULL, &defs, &ndefs, &e) < 0 && (e.code != STORE_ERR_NOTFOUND || cfg->until_done)) {
        log_error("%s", e.msg);
        PQfinish(conn);
        return -1;
    }
    PQfinish(conn);

    uv_loop_t *loop = xmalloc(sizeof(*loop));
    uv_loop_init(loop);
    struct send_backend *be = backend_pg_new(loop, cfg->conninfo);
    struct sender *s = sender_new(loop, cfg, be, defs, ndefs);
    relay_defs_free(defs, ndefs);
    uv_signal_init(loop, &s->sigint);
    uv_signal_init(loop, &s->sigterm);
    uv_signal_init(loop, &s->sighup);
    s->sigint.data = s->sigterm.data = s->sighup.data = s;
    uv_signal_start(&s->sigint, on_signal, SIGINT);
    uv_signal_start(&s->sigterm, on_signal, SIGTERM);
    uv_signal_start(&s->sighup, on_sighup, SIGHUP);
    s->signals = true;
    /* a stop or reload asked while starting (serve blocks the signals until now) is taken now, by the handlers */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_UNBLOCK, &stop, NULL);
    notify_ready("sending");

    uv_run(loop, UV_RUN_DEFAULT);
    if (s->abandoned) {
        /* the loop still holds the connections cut at drain_timeout: they close as the process exits */
        log_info("sender %s: stopped (%lu sent, %lu deferred, %lu failed); what was on the wire was released",
                 s->name, s->sent, s->deferred, s->failed);
        return 0;
    }

    sender_free(s);
    be->ops->free(be);
    uv_loop_close(loop);
    xfree(loop);
    return 0;
}
