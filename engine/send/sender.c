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
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "engine/mail/address.h"
#include "engine/mail/classify.h"
#include "engine/net/smtp_pool.h"
#include "engine/send/prepare.h"
#include "engine/send/relay.h"
#include "engine/send/sender.h"
#include "engine/store/ledger.h"
#include "engine/store/pg.h"
#include "engine/store/pg_async.h"
#include "engine/store/relays.h"
#include "engine/store/store.h"
#include "engine/util/alloc.h"
#include "engine/util/conf.h"
#include "engine/util/log.h"

/* an idle sender looks for due deliveries this often (the tick is 250 ms) */
#define CLAIM_IDLE_MS 200

struct sender;

/* ---- a sequential statement queue over one asynchronous connection ---- */

typedef void (*dbq_cb)(struct sender *s, PGresult *res, void *arg);

struct dbq_task {
    const char *name; /* prepared once per connection under this name; NULL: not prepared */
    const char *sql;
    int n;
    char **params;
    dbq_cb cb;
    void *arg;
    struct dbq_task *next;
};

struct dbq {
    struct sender *s;
    const char *what;
    struct pg_async *pa;
    bool ready, busy, closing;
    struct dbq_task *head, *tail;
    uv_timer_t retry;
    unsigned backoff_ms;
};

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
    char *email, *name, *list_name;
    json_t *attribs;
    struct buf msg;
    char env_from[600];
    const char *why;
    int rc;
    uv_work_t work;
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
    struct dbq claimq, recordq;
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
    bool claim_busy, housekeeping_busy;
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
    uv_signal_t sigint, sigterm;
    uv_async_t wake;
    unsigned long sent, deferred, failed;
    char max_age[32];
    int exit_code;
    int closing_handles;
};

static void sender_pump(struct sender *s);
static void sender_maybe_stop(struct sender *s);
static void render_job(struct sender *s, struct job *j);
static void relays_reload(struct sender *s);

/* the running sender of this process, woken from other threads (sender_wake) */
/* the sender running in this process, for sender_wake and sender_status (any thread), under wake_lock */
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static uv_async_t *wake_handle;
static bool wake_relays;          /* sender_relays_changed was called: read the relays at once */
static char shown_status[256];    /* the sender's status at its last housekeeping */
static size_t shown_relays;       /* the relays it sends through */

/* ---- dbq ---- */

static void dbq_connect(struct dbq *q);
static void dbq_pump(struct dbq *q);

static void dbq_task_free(struct dbq_task *t)
{
    for (int i = 0; i < t->n; i++)
        xfree(t->params[i]);
    xfree(t->params);
    xfree(t);
}

static void dbq_on_retry(uv_timer_t *t)
{
    dbq_connect(t->data);
}

static void dbq_closed(void *arg)
{
    struct dbq *q = arg;
    q->pa = NULL;
    if (!q->closing) {
        q->backoff_ms = q->backoff_ms ? (q->backoff_ms * 2 > 10000 ? 10000 : q->backoff_ms * 2) : 250;
        uv_timer_start(&q->retry, dbq_on_retry, q->backoff_ms, 0);
    }
}

static void dbq_lost(struct dbq *q, const char *why)
{
    if (q->ready || !q->closing)
        log_warn("sender: %s database connection lost (%s); reconnecting", q->what, why);
    q->ready = false;
    q->busy = false;
    if (q->pa)
        pg_async_close(q->pa, dbq_closed, q);
}

static void dbq_on_set(struct pg_async *pa, PGresult *res, void *arg)
{
    struct dbq *q = arg;
    if (!res) {
        dbq_lost(q, pg_async_error(pa));
        return;
    }
    PQclear(res);
    q->ready = true;
    q->backoff_ms = 0;
    dbq_pump(q);
}

/*
 * A new connection first fixes how its prepared statements are planned: once,
 * for any parameters (their plans walk indexes by key whatever the values;
 * test_ledger checks the claim's), not again for every batch.
 */
static void dbq_on_open(struct pg_async *pa, int status, void *arg)
{
    struct dbq *q = arg;
    if (status < 0 ||
        pg_async_query(pa, "SET plan_cache_mode = force_generic_plan", 0, NULL, dbq_on_set, q) < 0) {
        dbq_lost(q, pg_async_error(pa));
        return;
    }
}

static void dbq_connect(struct dbq *q)
{
    if (q->closing || q->pa)
        return;
    if (pg_async_open(q->s->loop, q->s->cfg.conninfo, dbq_on_open, q, &q->pa) < 0) {
        q->pa = NULL;
        dbq_closed(q);
    }
}

static void dbq_on_result(struct pg_async *pa, PGresult *res, void *arg)
{
    struct dbq *q = arg;
    q->busy = false;
    if (!res) {
        dbq_lost(q, pg_async_error(pa));
        return;
    }
    struct dbq_task *t = q->head;
    q->head = t->next;
    if (!q->head)
        q->tail = NULL;
    t->cb(q->s, res, t->arg);
    PQclear(res);
    dbq_task_free(t);
    dbq_pump(q);
}

static void dbq_pump(struct dbq *q)
{
    if (!q->ready || q->busy || !q->head)
        return;
    struct dbq_task *t = q->head;
    int rc = t->name ? pg_async_query_prepared(q->pa, t->name, t->sql, t->n, (const char *const *)t->params,
                                               dbq_on_result, q)
                     : pg_async_query(q->pa, t->sql, t->n, (const char *const *)t->params, dbq_on_result, q);
    if (rc < 0) {
        dbq_lost(q, pg_async_error(q->pa));
        return;
    }
    q->busy = true;
}

/*
 * queue SQL with N parameters (copied) on Q; CB gets the result (never NULL).
 * With NAME, the statement is prepared once per connection and planned once
 * (the claim and the record, run for every batch: planning them took about
 * 20 microseconds of the server's time per message).
 */
static void dbq_push_named(struct dbq *q, const char *name, const char *sql, int n, const char *const *params,
                           dbq_cb cb, void *arg)
{
    struct dbq_task *t = xcalloc(1, sizeof(*t));
    t->name = name;
    t->sql = sql;
    t->n = n;
    t->params = xcalloc((size_t)(n ? n : 1), sizeof(char *));
    for (int i = 0; i < n; i++)
        t->params[i] = params[i] ? xstrdup(params[i]) : NULL;
    t->cb = cb;
    t->arg = arg;
    if (q->tail)
        q->tail->next = t;
    else
        q->head = t;
    q->tail = t;
    dbq_pump(q);
}

static void dbq_push(struct dbq *q, const char *sql, int n, const char *const *params, dbq_cb cb, void *arg)
{
    dbq_push_named(q, NULL, sql, n, params, cb, arg);
}

static void dbq_init(struct sender *s, struct dbq *q, const char *what)
{
    memset(q, 0, sizeof(*q));
    q->s = s;
    q->what = what;
    uv_timer_init(s->loop, &q->retry);
    q->retry.data = q;
    dbq_connect(q);
}

static bool dbq_idle(const struct dbq *q)
{
    return !q->head && !q->busy;
}

static void on_handle_closed(uv_handle_t *h)
{
    struct sender *s = h->data;
    s->closing_handles--;
}

static void dbq_close(struct dbq *q)
{
    q->closing = true;
    uv_timer_stop(&q->retry);
    q->s->closing_handles++;
    q->retry.data = q->s;
    uv_close((uv_handle_t *)&q->retry, on_handle_closed);
    if (q->pa)
        pg_async_close(q->pa, NULL, NULL);
    q->pa = NULL;
    while (q->head) {
        struct dbq_task *t = q->head;
        q->head = t->next;
        dbq_task_free(t);
    }
}

static bool res_ok(struct sender *s, PGresult *res, const char *what)
{
    (void)s;
    if (pg_ok(res))
        return true;
    log_error("sender: %s: %s", what, PQresultErrorMessage(res));
    return false;
}

/* ---- recording results ---- */

static void on_recorded(struct sender *s, PGresult *res, void *arg)
{
    struct ledger_batch *b = arg;
    s->flushing = false;
    if (!res_ok(s, res, "recording results")) {
        return; /* kept; retried on the next flush */
    }
    s->inflight -= (unsigned)b->n;
    ledger_batch_reset(b);
    sender_pump(s);
}

/*
 * flush_results - record the full batch (or the current one) on the record
 * connection. Its commits stay synchronous (synchronous_commit is left as the
 * server has it): with it off, a crash of PostgreSQL or of its machine could
 * forget records already committed, up to about three wal_writer_delay (600 ms
 * by default, some 2,000 messages at this sender's speed), and every "sent"
 * among them would go out again once its lease expires; the promise is that
 * only what was accepted and not yet recorded can be sent twice. It would buy
 * no CPU either: the record connection runs beside sending, so the wait for
 * the WAL flush holds up neither rendering nor the SMTP connections.
 */
static void flush_results(struct sender *s)
{
    if (s->flushing)
        return;
    struct ledger_batch *b = &s->batches[1 - s->active];
    if (b->n == 0) {
        if (s->batches[s->active].n == 0)
            return;
        s->active = 1 - s->active; /* results now go to the other, empty batch */
        b = &s->batches[1 - s->active];
    }
    const char *params[LEDGER_RECORD_NPARAMS];
    ledger_batch_params(b, s->name, s->max_age, params);
    s->flushing = true;
    dbq_push_named(&s->recordq, "postino_record", ledger_record_sql, LEDGER_RECORD_NPARAMS, params, on_recorded, b);
}

static void on_flush_timer(uv_timer_t *t)
{
    flush_results(t->data);
}

static long retry_delay(struct sender *s, int attempts, bool rate_limited)
{
    long d = rate_limited ? (long)s->cfg.retry_base_s / 2 + 1 : (long)s->cfg.retry_base_s;
    for (int i = 0; i < attempts && d < (long)s->cfg.retry_max_s; i++)
        d *= 2;
    return d > (long)s->cfg.retry_max_s ? (long)s->cfg.retry_max_s : d;
}

static void add_result(struct sender *s, struct job *j, const char *state, int code, const char *enhanced,
                       const char *reply, const char *queue_id, long delay, const char *cls, const char *relay)
{
    struct ledger_batch *b = &s->batches[s->active];
    ledger_batch_add(b, j->id, state, code, enhanced, reply, queue_id, delay, cls, relay);
    if (b->n >= s->cfg.flush_rows)
        flush_results(s);
    else if (!uv_is_active((uv_handle_t *)&s->flush_timer))
        uv_timer_start(&s->flush_timer, on_flush_timer, s->cfg.flush_ms, 0);
}

static void job_free(struct job *j)
{
    if (j->camp)
        j->camp->jobs--;
    xfree(j->email);
    xfree(j->name);
    xfree(j->list_name);
    json_decref(j->attribs);
    buf_free(&j->msg);
    xfree(j);
}

/* job_drop - forget J while stopping: its row keeps its state and its lease is released at the end */
static void job_drop(struct sender *s, struct job *j)
{
    s->inflight--;
    job_free(j);
}

/* defer J without having sent it (preparation or rendering trouble, no relay) */
static void job_defer(struct sender *s, struct job *j, const char *why)
{
    add_result(s, j, "deferred", 0, "", why, "", retry_delay(s, j->attempts, false), "", "");
    s->deferred++;
    job_free(j);
}

/* ---- submitting ---- */

struct submit {
    struct sender *s;
    struct job *job;
    struct relay_rt *relay;
};

static void on_smtp_result(const struct smtp_result *res, void *arg)
{
    struct submit *sub = arg;
    struct sender *s = sub->s;
    struct job *j = sub->job;
    struct classification c;
    if (res->error == UV_ECANCELED && s->stop_begun) {
        /* never left this process: released, not recorded */
        xfree(sub);
        job_drop(s, j);
        sender_pump(s);
        return;
    }
    if (res->error == UV_ECANCELED && sub->relay->retiring) {
        /* it waited in a relay changed or removed meanwhile: made again, for the relay in use now */
        xfree(sub);
        render_job(s, j);
        sender_pump(s);
        return;
    }
    bool at_message = res->stage >= SMTP_STAGE_MAIL && res->error == 0;
    classify_smtp(res->accepted, at_message, res->code, res->enhanced, res->text, &c);
    if (c.outcome == OUTCOME_SENT) {
        add_result(s, j, "sent", res->code, res->enhanced, res->text, res->queue_id, 0, "", sub->relay->def->name);
        s->sent++;
        if (s->ratelimit_hits > 0 && uv_now(s->loop) >= s->hold_until)
            s->ratelimit_hits--;
    } else if (c.outcome == OUTCOME_FAIL) {
        add_result(s, j, "failed", res->code, res->enhanced, res->text, "", 0, bounce_class_name(c.cls),
                   sub->relay->def->name);
        s->failed++;
    } else {
        if (c.rate_limited) {
            /* back-pressure: start no message for a while, longer while it goes on */
            if (uv_now(s->loop) >= s->hold_until) {
                unsigned pause = 1000u << (s->ratelimit_hits < 5 ? s->ratelimit_hits : 5);
                s->ratelimit_hits++;
                s->hold_until = uv_now(s->loop) + pause;
            }
            snprintf(s->status, sizeof(s->status), "waiting: relay %s asks to slow down (%d %s %s)",
                     sub->relay->def->name, res->code, res->enhanced, res->text);
        } else if (c.relay_trouble) {
            snprintf(s->status, sizeof(s->status), "waiting: relay %s: %s %s (%s)", sub->relay->def->name,
                     smtp_stage_name(res->stage), res->code ? "failed" : "unreachable", res->text);
        }
        add_result(s, j, "deferred", res->code, res->enhanced, res->text, "",
                   retry_delay(s, j->attempts, c.rate_limited), "", sub->relay->def->name);
        s->deferred++;
    }
    xfree(sub);
    job_free(j);
    sender_pump(s);
}

static struct relay_rt *pick_relay(struct sender *s)
{
    struct relay_rt *best = NULL;
    double best_load = 0;
    for (size_t i = 0; i < s->nrelays; i++) {
        struct relay_rt *r = s->relays[i];
        double load = (double)(smtp_pool_queued(r->pool) + smtp_pool_in_flight(r->pool)) / r->def->max_conns;
        if (!best || load < best_load)
            best = r, best_load = load;
    }
    return best;
}

static void submit_job(struct sender *s, struct job *j, struct relay_rt *r)
{
    struct submit *sub = xcalloc(1, sizeof(*sub));
    sub->s = s;
    sub->job = j;
    sub->relay = r;
    size_t len;
    char *data = buf_detach(&j->msg, &len);
    if (smtp_pool_submit_owned(r->pool, j->env_from, j->email, data, len, on_smtp_result, sub) < 0) {
        xfree(data);
        xfree(sub);
        job_defer(s, j, "relay pool closing");
        return;
    }
    /* the pool owns the message now (no 14 KB copy per message) */
}

/*
 * submit_ready - hand rendered messages to the pools while they have room
 * (a little more than one message per connection waiting) and no
 * back-pressure hold is on. Keeping the rest here lets a rate-limit answer
 * stop every message that has not started yet.
 */
static void submit_ready(struct sender *s)
{
    while (s->ready_head && s->stop_begun) {
        struct job *j = s->ready_head;
        s->ready_head = j->next;
        if (!s->ready_head)
            s->ready_tail = NULL;
        s->nready--;
        job_drop(s, j);
    }
    while (s->ready_head && uv_now(s->loop) >= s->hold_until) {
        if (s->ready_head->camp->relay_gone) {
            struct job *j = s->ready_head;
            s->ready_head = j->next;
            if (!s->ready_head)
                s->ready_tail = NULL;
            s->nready--;
            job_defer(s, j, j->camp->err);
            continue;
        }
        struct relay_rt *r = s->ready_head->camp->relay ? s->ready_head->camp->relay : pick_relay(s);
        if (!r)
            return;
        if (smtp_pool_queued(r->pool) + smtp_pool_in_flight(r->pool) >= 2u * (unsigned)r->def->max_conns)
            return;
        struct job *j = s->ready_head;
        s->ready_head = j->next;
        if (!s->ready_head)
            s->ready_tail = NULL;
        s->nready--;
        j->next = NULL;
        submit_job(s, j, r);
    }
}

static void job_ready(struct sender *s, struct job *j)
{
    j->next = NULL;
    if (s->ready_tail)
        s->ready_tail->next = j;
    else
        s->ready_head = j;
    s->ready_tail = j;
    s->nready++;
    submit_ready(s);
}

/* ---- rendering (worker threads) ---- */

static __thread struct compose_scratch *thread_scratch;
static __thread size_t thread_last_len; /* size of this thread's last message: the next one's first guess */

static void render_work(uv_work_t *w)
{
    struct job *j = w->data;
    if (!thread_scratch) {
        thread_scratch = xcalloc(1, sizeof(*thread_scratch));
    }
    char delivery[32];
    snprintf(delivery, sizeof(delivery), "%llu", (unsigned long long)j->id);
    struct compose_recipient r = {
        .subscriber_id = j->subscriber_id,
        .email = j->email,
        .name = j->name,
        .attribs = j->attribs,
        .list_id = j->list_id,
        .list_name = j->list_name,
        .delivery_id = delivery,
    };
    buf_reserve(&j->msg, thread_last_len + thread_last_len / 8);
    j->rc = compose_message(&j->camp->pc.cc, &r, (long long)time(NULL), thread_scratch, &j->msg, &j->why);
    thread_last_len = j->msg.len;
}

static void render_done(uv_work_t *w, int status)
{
    struct job *j = w->data;
    struct sender *s = j->s;
    s->rendering--;
    if (s->stop_begun) {
        job_drop(s, j);
    } else if (status < 0 || j->rc < 0) {
        log_error("sender: cannot compose delivery %llu: %s", (unsigned long long)j->id,
                  status < 0 ? "cancelled" : j->why);
        job_defer(s, j, j->why ? j->why : "compose failed");
    } else {
        job_ready(s, j);
    }
    sender_pump(s);
}

static void render_job(struct sender *s, struct job *j)
{
    char tok[TOKEN_MAX + 1];
    token_make(j->camp->pc.token_key, 'b', j->id, j->camp->id, tok, sizeof(tok));
    snprintf(j->env_from, sizeof(j->env_from), "%s+%s@%s", j->camp->bounce_local, tok, j->camp->bounce_domain);
    j->work.data = j;
    s->rendering++;
    if (uv_queue_work(s->loop, &j->work, render_work, render_done) < 0) {
        s->rendering--;
        job_defer(s, j, "cannot queue rendering");
    }
}

/* ---- campaigns (prepared on a worker thread) ---- */

static void prepare_work(uv_work_t *w)
{
    struct campaign_rt *c = w->data;
    char err[512], id[32];
    bool unsigned_warning;
    snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
    /* only fields the loop leaves alone while the campaign is CAMP_PREPARING are written here */
    PGconn *conn = pg_connect(c->s->cfg.conninfo, err, sizeof(err));
    if (!conn) {
        snprintf(c->err, sizeof(c->err), "%s", err);
        c->prepared = CAMP_FAILED;
        return;
    }
    if (campaign_prepare(conn, id, &c->pc, &unsigned_warning, err, sizeof(err)) < 0) {
        snprintf(c->err, sizeof(c->err), "%s", err);
        c->prepared = CAMP_FAILED;
    } else {
        c->warned = !unsigned_warning;
        snprintf(c->bounce_domain, sizeof(c->bounce_domain), "%s",
                 conf_get("bounce", "domain", address_domain(c->pc.cc.from_addr)));
        snprintf(c->bounce_local, sizeof(c->bounce_local), "%s", conf_get("bounce", "local_part", "bounces"));
        c->prepared = CAMP_READY;
    }
    PQfinish(conn);
}

/* the relay in use named NAME, or NULL */
static struct relay_rt *relay_named(struct sender *s, const char *name)
{
    for (size_t i = 0; i < s->nrelays; i++)
        if (strcmp(s->relays[i]->def->name, name) == 0)
            return s->relays[i];
    return NULL;
}

/*
 * campaign_start - C is prepared, or failed: find the relay it names, then
 * render the jobs waiting for it, or defer them with its error. A relay not
 * known here (added since the relays were last read) holds the jobs until
 * the relays are read again, once.
 */
static void campaign_start(struct sender *s, struct campaign_rt *c)
{
    if (c->state == CAMP_READY || c->state == CAMP_RELAY) {
        const char *relay = json_string_value(json_object_get(c->pc.row, "relay"));
        c->relay = relay ? relay_named(s, relay) : NULL;
        c->state = CAMP_READY;
        if (relay && !c->relay && !c->relay_asked && !s->stop_begun) {
            c->relay_asked = true;
            c->state = CAMP_RELAY;
            relays_reload(s);
            return;
        }
        if (relay && !c->relay) {
            snprintf(c->err, sizeof(c->err), "relay %s is not one this sender knows", relay);
            campaign_prepared_free(&c->pc);
            c->state = CAMP_FAILED;
        }
    }
    if (c->state != CAMP_READY)
        log_error("campaign %llu: %s", (unsigned long long)c->id, c->err);
    struct job *j = c->waiting;
    c->waiting = NULL;
    while (j) {
        struct job *next = j->next;
        if (s->stop_begun)
            job_drop(s, j);
        else if (c->state == CAMP_READY)
            render_job(s, j);
        else
            job_defer(s, j, c->err);
        j = next;
    }
    if (c->state == CAMP_FAILED) {
        /* forget it: the next claim prepares it again (the operator may have fixed it) */
        struct campaign_rt **pp = &s->camps;
        while (*pp != c)
            pp = &(*pp)->next;
        *pp = c->next;
        xfree(c);
    }
}

static void prepare_done(uv_work_t *w, int status)
{
    struct campaign_rt *c = w->data;
    struct sender *s = c->s;
    (void)status;
    c->state = c->prepared; /* the loop sees the outcome only now, with everything the worker wrote */
    c->ready_at = uv_now(s->loop);
    if (c->state == CAMP_READY && !c->warned)
        log_warn("campaign %llu: no DKIM key for %s: messages go unsigned", (unsigned long long)c->id,
                 address_domain(c->pc.cc.from_addr));
    campaign_start(s, c);
    sender_pump(s);
}

/* ---- relays, read again every [send] relay_reload ---- */

/* a relay for DEF, whose strings it takes over (DEF is left empty); NULL when its pool cannot be made */
static struct relay_rt *relay_new(struct sender *s, struct relay_def *def)
{
    struct relay_rt *r = xcalloc(1, sizeof(*r));
    struct smtp_pool_config pc;
    r->s = s;
    r->def = xmalloc(sizeof(*r->def));
    *r->def = *def;
    memset(def, 0, sizeof(*def));
    relay_pool_config(r->def, &pc);
    if (smtp_pool_create(s->loop, &pc, &r->pool) < 0) {
        log_error("sender: cannot set up relay %s", r->def->name);
        relay_defs_free(r->def, 1);
        xfree(r);
        return NULL;
    }
    s->pools_open++;
    return r;
}

static void on_relay_retired(void *arg)
{
    struct relay_rt *r = arg;
    struct sender *s = r->s;
    s->pools_open--;
    relay_defs_free(r->def, 1);
    xfree(r);
    if (s->stop_begun)
        sender_maybe_stop(s);
}

/*
 * relay_retire - R, no longer in s->relays, closes: what is on the wire
 * finishes, what waits in it is made again for the relay in use now (see
 * on_smtp_result). Campaigns naming it move to its successor of the same
 * name, or, when it was removed, defer their messages.
 */
static void relay_retire(struct sender *s, struct relay_rt *r)
{
    struct relay_rt *now = relay_named(s, r->def->name);
    r->retiring = true;
    for (struct campaign_rt *c = s->camps; c; c = c->next) {
        if (c->relay != r)
            continue;
        c->relay = now;
        if (!now) {
            c->relay_gone = true;
            snprintf(c->err, sizeof(c->err), "relay %s was removed", r->def->name);
        }
    }
    log_info("sender: relay %s %s", r->def->name, now ? "changed: its new settings apply from now on" : "removed");
    smtp_pool_close(r->pool, on_relay_retired, r);
}

/* relays_apply - make DEFS[0..N) the relays in use: new ones added, changed ones replaced, others retired */
static void relays_apply(struct sender *s, struct relay_def *defs, size_t n)
{
    struct relay_rt **next = xcalloc(n, sizeof(*next));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        struct relay_rt *old = relay_named(s, defs[i].name);
        if (old && relay_def_same(old->def, &defs[i])) {
            next[k++] = old;
            continue;
        }
        struct relay_rt *r = relay_new(s, &defs[i]);
        if (!r) {
            if (old)
                next[k++] = old; /* keep what works */
            continue;
        }
        if (!old) {
            log_info("sender: relay %s added", r->def->name);
            /* back under a name campaigns still name: theirs again */
            for (struct campaign_rt *c = s->camps; c; c = c->next) {
                const char *named = c->relay_gone ? json_string_value(json_object_get(c->pc.row, "relay")) : NULL;
                if (named && strcmp(named, r->def->name) == 0)
                    c->relay = r, c->relay_gone = false;
            }
        }
        next[k++] = r;
    }
    if (k == 0) {
        xfree(next); /* none could be set up: keep those in use */
        return;
    }
    struct relay_rt **gone = s->relays;
    size_t ngone = s->nrelays;
    s->relays = next;
    s->nrelays = k;
    for (size_t i = 0; i < ngone; i++) {
        bool kept = false;
        for (size_t m = 0; m < k && !kept; m++)
            kept = next[m] == gone[i];
        if (!kept)
            relay_retire(s, gone[i]);
    }
    xfree(gone);
}

static void on_relays_loaded(struct sender *s, PGresult *res, void *arg)
{
    (void)arg;
    s->relays_loading = false;
    s->relays_loaded_at = uv_now(s->loop);
    if (res_ok(s, res, "reading relays") && !s->stop_begun) {
        struct relay_def *defs;
        size_t n = store_relay_defs(res, &defs);
        if (n > 0)
            relays_apply(s, defs, n);
        else if (!s->relays_none_warned && s->nrelays > 0)
            log_warn("sender: no relay is defined any more; still sending through the ones in use");
        else if (!s->relays_none_warned)
            log_warn("sender: no relay is configured; waiting for one ('postino relay add' or POST /api/v1/relays)");
        s->relays_none_warned = n == 0;
        relay_defs_free(defs, n);
    }
    /* campaigns that waited for a relay: it is known now, or it is not */
    for (struct campaign_rt *c = s->camps, *next; c; c = next) {
        next = c->next;
        if (c->state == CAMP_RELAY)
            campaign_start(s, c);
    }
    if (s->relays_wanted) {
        s->relays_wanted = false;
        relays_reload(s);
    }
    sender_pump(s);
}

/* relays_reload - read the relays again (once more after the reading in progress, if one is) */
static void relays_reload(struct sender *s)
{
    if (s->relays_loading) {
        s->relays_wanted = true;
        return;
    }
    const char *params[] = { NULL };
    s->relays_loading = true;
    dbq_push(&s->claimq, store_relay_load_sql, 1, params, on_relays_loaded, NULL);
}

static struct campaign_rt *campaign_get(struct sender *s, uint64_t id)
{
    for (struct campaign_rt *c = s->camps; c; c = c->next)
        if (c->id == id)
            return c;
    struct campaign_rt *c = xcalloc(1, sizeof(*c));
    c->s = s;
    c->id = id;
    c->state = CAMP_PREPARING;
    c->next = s->camps;
    s->camps = c;
    c->work.data = c;
    if (uv_queue_work(s->loop, &c->work, prepare_work, prepare_done) < 0)
        log_panic("sender: cannot queue campaign preparation");
    return c;
}

/* ---- claiming ---- */

static void on_claimed(struct sender *s, PGresult *res, void *arg)
{
    (void)arg;
    s->claim_busy = false;
    if (!res_ok(s, res, "claiming deliveries"))
        return;
    int n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        struct job *j = xcalloc(1, sizeof(*j));
        json_error_t jerr;
        j->s = s;
        j->id = strtoull(PQgetvalue(res, i, CLAIM_ID), NULL, 10);
        j->subscriber_id = strtoull(PQgetvalue(res, i, CLAIM_SUBSCRIBER), NULL, 10);
        j->list_id = strtoull(PQgetvalue(res, i, CLAIM_LIST), NULL, 10);
        j->attempts = atoi(PQgetvalue(res, i, CLAIM_ATTEMPTS));
        j->email = xstrdup(PQgetvalue(res, i, CLAIM_EMAIL));
        j->name = xstrdup(PQgetvalue(res, i, CLAIM_NAME));
        j->list_name = xstrdup(PQgetvalue(res, i, CLAIM_LIST_NAME));
        j->attribs = json_loads(PQgetvalue(res, i, CLAIM_ATTRIBS), 0, &jerr);
        s->inflight++;
        struct campaign_rt *c = campaign_get(s, strtoull(PQgetvalue(res, i, CLAIM_CAMPAIGN), NULL, 10));
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
    char owner_limit[16], lease[16];
    unsigned room = s->cfg.max_inflight - s->inflight;
    unsigned limit = room < s->cfg.batch ? room : s->cfg.batch;
    snprintf(owner_limit, sizeof(owner_limit), "%u", limit);
    snprintf(lease, sizeof(lease), "%u", s->cfg.lease_s);
    const char *params[] = { s->name, owner_limit, lease };
    s->claim_busy = true;
    dbq_push_named(&s->claimq, "postino_claim", ledger_claim_sql, 3, params, on_claimed, NULL);
}

/* sender_pump - claim more when there is room, and see whether it is time to stop */
static void sender_pump(struct sender *s)
{
    submit_ready(s);
    if (s->stopping) {
        sender_maybe_stop(s);
        return;
    }
    if (s->claim_busy || !s->claimq.ready)
        return;
    /* with no relay nothing could be sent: nothing is claimed, so nothing is deferred */
    if (s->nrelays == 0)
        return;
    if (uv_now(s->loop) < s->hold_until || uv_now(s->loop) < s->claim_after)
        return;
    /* claim when at least half a batch fits and rendered messages are not piling up */
    if (s->inflight + s->cfg.batch / 2 > s->cfg.max_inflight || s->nready + s->rendering > s->cfg.batch)
        return;
    claim(s);
}

/* ---- housekeeping: schedule, finish, heartbeat ---- */

static void on_scheduled(struct sender *s, PGresult *res, void *arg)
{
    (void)arg;
    if (res_ok(s, res, "starting scheduled campaigns"))
        for (int i = 0; i < PQntuples(res); i++)
            log_info("campaign %s: its time has come; started", PQgetvalue(res, i, 0));
}

static void on_finished(struct sender *s, PGresult *res, void *arg)
{
    (void)arg;
    if (res_ok(s, res, "finishing campaigns"))
        for (int i = 0; i < PQntuples(res); i++)
            log_info("campaign %s: finished", PQgetvalue(res, i, 0));
}

static void on_running(struct sender *s, PGresult *res, void *arg)
{
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

static void on_heartbeat(struct sender *s, PGresult *res, void *arg)
{
    (void)arg;
    res_ok(s, res, "heartbeat");
}

static void on_renewed(struct sender *s, PGresult *res, void *arg)
{
    (void)arg;
    res_ok(s, res, "renewing leases");
}

/*
 * campaigns_forget_idle - drop prepared campaigns that no job uses and that
 * were prepared more than [send] prepared_keep ago: the next claim prepares them
 * again, so a changed template or From reaches a long-running sender (the
 * transactional campaigns never finish), and the list does not grow for ever.
 */
static void campaigns_forget_idle(struct sender *s)
{
    struct campaign_rt **pp = &s->camps;
    while (*pp) {
        struct campaign_rt *c = *pp;
        if (c->state == CAMP_READY && c->jobs == 0 && !c->waiting && uv_now(s->loop) - c->ready_at >= s->cfg.prepared_keep_s * 1000u) {
            *pp = c->next;
            campaign_prepared_free(&c->pc);
            xfree(c);
        } else {
            pp = &c->next;
        }
    }
}

static void housekeeping(struct sender *s)
{
    char pid[16], lease[16];
    /* once the release is queued, a heartbeat after it would list the sender again */
    if (s->housekeeping_busy || !s->claimq.ready || s->deregistering)
        return;
    s->housekeeping_busy = true;
    campaigns_forget_idle(s);
    /* rows held longer than a lease (slow relays, back-pressure) must not be claimed again */
    if (s->inflight > 0 && uv_now(s->loop) - s->renewed_at >= s->cfg.lease_s * 1000u / 3) {
        const char *rp[] = { s->name, lease };
        snprintf(lease, sizeof(lease), "%u", s->cfg.lease_s);
        /* on the record connection: renewals and records touch the same rows, one at a time */
        dbq_push(&s->recordq, ledger_renew_sql, 2, rp, on_renewed, NULL);
        s->renewed_at = uv_now(s->loop);
    }
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
    pthread_mutex_lock(&wake_lock);
    snprintf(shown_status, sizeof(shown_status), "%s", s->status);
    shown_relays = s->nrelays;
    pthread_mutex_unlock(&wake_lock);
    const char *hb[] = { s->name, s->host, pid, s->status };
    dbq_push(&s->claimq, ledger_heartbeat_sql, 4, hb, on_heartbeat, NULL);
    /* a transactional campaign runs for ever: it counts while it has something to send */
    dbq_push(&s->claimq,
             "SELECT count(*) FROM campaigns WHERE status = 'running' AND (kind = 'campaign' OR n_queued + n_deferred > 0)",
             0, NULL, on_running, NULL);
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
    for (size_t i = 0; i < s->nrelays; i++)
        smtp_pool_close(s->relays[i]->pool, on_pool_closed, s);
}

static void on_released(struct sender *s, PGresult *res, void *arg)
{
    (void)arg;
    res_ok(s, res, "releasing leases and leaving the senders table");
    s->deregistering = true;
    sender_maybe_stop(s);
}

static const char release_sql[] =
    "WITH r AS (UPDATE deliveries SET lease_owner = NULL, lease_until = NULL"
    "  WHERE lease_owner = $1 AND state IN ('queued', 'deferred'))"
    " DELETE FROM senders WHERE name = $1";

static void sender_maybe_stop(struct sender *s)
{
    if (s->closed)
        return;
    sender_begin_stop(s);
    flush_results(s);
    if (s->pools_open > 0 || s->rendering > 0 || s->flushing || s->batches[0].n || s->batches[1].n ||
        !dbq_idle(&s->claimq) || !dbq_idle(&s->recordq))
        return;
    for (struct campaign_rt *c = s->camps; c; c = c->next)
        if (c->state == CAMP_PREPARING)
            return;
    if (!s->deregistering && s->claimq.ready) {
        const char *params[] = { s->name };
        s->deregistering = true;
        dbq_push(&s->claimq, release_sql, 1, params, on_released, NULL);
        return;
    }
    s->closed = true;
    uv_timer_stop(&s->tick);
    uv_timer_stop(&s->flush_timer);
    pthread_mutex_lock(&wake_lock);
    wake_handle = NULL;
    pthread_mutex_unlock(&wake_lock);
    s->closing_handles += 5;
    uv_close((uv_handle_t *)&s->wake, on_handle_closed);
    uv_close((uv_handle_t *)&s->tick, on_handle_closed);
    uv_close((uv_handle_t *)&s->flush_timer, on_handle_closed);
    uv_close((uv_handle_t *)&s->sigint, on_handle_closed);
    uv_close((uv_handle_t *)&s->sigterm, on_handle_closed);
    dbq_close(&s->claimq);
    dbq_close(&s->recordq);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct sender *s = h->data;
    if (s->stopping) {
        log_warn("sender: second signal; leaving now (leases return what was not recorded)");
        exit(1);
    }
    log_info("sender: signal %d: finishing what is in flight, then stopping", signum);
    s->stopping = true;
    sender_pump(s);
}

/* sender_config_from_conf - defaults, then [send] keys of the configuration. */
void sender_config_from_conf(struct sender_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->batch = (unsigned)conf_get_long("send", "batch", 1000, 1, 100000);
    cfg->max_inflight = (unsigned)conf_get_long("send", "max_inflight", 4000, 1, 1000000);
    cfg->lease_s = (unsigned)conf_get_long("send", "lease", 300, 5, 86400);
    cfg->retry_base_s = (unsigned)conf_get_long("send", "retry_base", 60, 1, 86400);
    cfg->retry_max_s = (unsigned)conf_get_long("send", "retry_max", 3600, 1, 7 * 86400);
    cfg->max_age_s = (unsigned)conf_get_long("send", "max_age", 3 * 86400, 1, 30 * 86400);
    cfg->flush_ms = (unsigned)conf_get_long("send", "flush_ms", 100, 1, 60000);
    cfg->flush_rows = (unsigned)conf_get_long("send", "flush_rows", 300, 1, 100000);
    cfg->prepared_keep_s = (unsigned)conf_get_long("send", "prepared_keep", 60, 1, 86400);
    cfg->relay_reload_s = (unsigned)conf_get_long("send", "relay_reload", 10, 1, 86400);
    cfg->schedule = true;
}

/* sender_run - see sender.h. */
int sender_run(const struct sender_config *cfg)
{
    struct sender *s = xcalloc(1, sizeof(*s));
    char err[1024];
    struct store_err e;
    s->cfg = *cfg;
    if (!s->cfg.batch)
        s->cfg.batch = 1000;
    if (!s->cfg.max_inflight)
        s->cfg.max_inflight = 4000;
    if (s->cfg.batch > s->cfg.max_inflight)
        s->cfg.batch = s->cfg.max_inflight;
    if (!s->cfg.flush_rows)
        s->cfg.flush_rows = 300;
    if (!s->cfg.flush_ms)
        s->cfg.flush_ms = 100;
    if (!s->cfg.lease_s)
        s->cfg.lease_s = 300;
    if (!s->cfg.prepared_keep_s)
        s->cfg.prepared_keep_s = 60;
    if (!s->cfg.relay_reload_s)
        s->cfg.relay_reload_s = 10;
    snprintf(s->max_age, sizeof(s->max_age), "%u", s->cfg.max_age_s ? s->cfg.max_age_s : 3 * 86400);
    gethostname(s->host, sizeof(s->host) - 1);
    if (cfg->name)
        snprintf(s->name, sizeof(s->name), "%s", cfg->name);
    else
        snprintf(s->name, sizeof(s->name), "%s:%d", s->host, (int)getpid());

    PGconn *conn = pg_connect(cfg->conninfo, err, sizeof(err));
    if (!conn) {
        log_error("%s", err);
        xfree(s);
        return -1;
    }
    struct relay_def *defs;
    size_t ndefs;
    /* no relay yet (a fresh install): wait for one, unless asked to finish what there is */
    if (store_relay_load(conn, NULL, &defs, &ndefs, &e) < 0 && (e.code != STORE_ERR_NOTFOUND || cfg->until_done)) {
        log_error("%s", e.msg);
        PQfinish(conn);
        xfree(s);
        return -1;
    }
    PQfinish(conn);

    s->loop = xmalloc(sizeof(*s->loop));
    uv_loop_init(s->loop);
    s->relays = xcalloc(ndefs, sizeof(*s->relays));
    for (size_t i = 0; i < ndefs; i++)
        if (!(s->relays[s->nrelays++] = relay_new(s, &defs[i])))
            log_fatal("sender: cannot start without every relay");
    relay_defs_free(defs, ndefs);
    s->relays_loaded_at = uv_now(s->loop);
    ledger_batch_init(&s->batches[0]);
    ledger_batch_init(&s->batches[1]);
    dbq_init(s, &s->claimq, "claim");
    dbq_init(s, &s->recordq, "record");
    uv_timer_init(s->loop, &s->tick);
    uv_timer_init(s->loop, &s->flush_timer);
    s->tick.data = s->flush_timer.data = s;
    uv_timer_start(&s->tick, on_tick, 250, 250);
    uv_async_init(s->loop, &s->wake, on_wake);
    s->wake.data = s;
    pthread_mutex_lock(&wake_lock);
    wake_handle = &s->wake;
    pthread_mutex_unlock(&wake_lock);
    uv_signal_init(s->loop, &s->sigint);
    uv_signal_init(s->loop, &s->sigterm);
    s->sigint.data = s->sigterm.data = s;
    uv_signal_start(&s->sigint, on_signal, SIGINT);
    uv_signal_start(&s->sigterm, on_signal, SIGTERM);
    if (s->nrelays == 0) {
        snprintf(s->status, sizeof(s->status), "idle: no relay is configured");
        log_warn("sender %s: no relay is configured; waiting for one ('postino relay add' or POST /api/v1/relays)",
                 s->name);
        s->relays_none_warned = true;
    } else {
        log_info("sender %s: sending through %zu relay%s", s->name, s->nrelays, s->nrelays == 1 ? "" : "s");
    }
    pthread_mutex_lock(&wake_lock);
    snprintf(shown_status, sizeof(shown_status), "%s", s->nrelays ? "starting" : s->status);
    shown_relays = s->nrelays;
    pthread_mutex_unlock(&wake_lock);

    uv_run(s->loop, UV_RUN_DEFAULT);

    int rc = s->exit_code;
    uv_loop_close(s->loop);
    xfree(s->loop);
    for (struct campaign_rt *c = s->camps; c;) {
        struct campaign_rt *next = c->next;
        if (c->state == CAMP_READY || c->state == CAMP_RELAY)
            campaign_prepared_free(&c->pc);
        xfree(c);
        c = next;
    }
    ledger_batch_free(&s->batches[0]);
    ledger_batch_free(&s->batches[1]);
    for (size_t i = 0; i < s->nrelays; i++) {
        relay_defs_free(s->relays[i]->def, 1);
        xfree(s->relays[i]);
    }
    xfree(s->relays);
    log_info("sender %s: stopped (%lu sent, %lu deferred, %lu failed)", s->name, s->sent, s->deferred, s->failed);
    xfree(s);
    return rc;
}
