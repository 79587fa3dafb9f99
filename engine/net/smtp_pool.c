/*
 * smtp_pool - a queue of messages served by up to max_conns SMTP connections.
 *
 * pool_pump is the scheduler, run after every event: it gives queued
 * messages to idle connections (asking the rate limiter first), closes
 * connections that are spent, and opens new ones while there is more mail
 * than connections and no backoff is running. With pipelining a connection
 * also asks for one more message when the one in flight has its 354
 * (smtp_conn_on_room), so that the next envelope goes with its content; a
 * queued message whose turn never came goes back to the head of the queue. One timer serves both the
 * rate limiter's waits and the reconnect backoff. A connection structure
 * stays on the list until its close callback, flagged closing.
 */
#include <stdio.h>
#include <string.h>

#include "engine/net/smtp_pool.h"
#include "engine/net/tls.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"
#include "engine/util/log.h"

struct pmsg {
    struct pmsg *next;
    char *from;
    char *rcpt;
    char *data;
    size_t len;
    unsigned flags; /* smtp_conn_send's */
    smtp_pool_cb cb;
    void *arg;
};

struct pconn {
    struct pconn *next;
    struct smtp_pool *pool;
    struct smtp_conn *conn;
    struct pmsg *msg;  /* in flight */
    struct pmsg *msg2; /* queued behind it on the connection (pipelined) */
    uint64_t idle_since; /* loop time it last became idle; 0 while busy */
    bool ready;
    bool closing;
};

struct smtp_pool {
    uv_loop_t *loop;
    struct smtp_config smtp; /* strings owned by the pool */
    unsigned max_conns;
    unsigned min_ms, max_ms, max_failures;
    unsigned idle_ms;
    struct ratelimit rl;
    uv_timer_t timer;
    uint64_t timer_due;
    struct pmsg *head, *tail;
    size_t queued;
    size_t in_flight;
    struct pconn *conns;
    unsigned nconns;   /* on the list, closing or not */
    unsigned failures; /* setups failed in a row (or drops) */
    uint64_t retry_at; /* no new connection before this */
    uint64_t hold_until; /* no message given out before this */
    void (*budget)(void *arg, unsigned want);
    void *budget_arg;
    unsigned budget_max;
    unsigned long allowance; /* with a budget: messages granted, not yet given out */
    bool asking;             /* a budget request is unanswered */
    uint64_t ask_at;         /* no budget request before this */
    void (*slots)(void *arg, unsigned want);
    void *slots_arg;
    unsigned held;           /* with slots: the connections it may have now */
    bool slots_asking;       /* a slots request is unanswered */
    uint64_t slots_ask_at;   /* no slots request from the pump before this */
    unsigned slots_asked;    /* the connections the request in flight (or the last one) wanted */
    struct smtp_result last;
    struct buf last_text;
    char last_enhanced[16];
    bool pumping, pump_again;
    bool closing;
    smtp_close_cb close_cb;
    void *close_arg;
};

static void pool_pump(struct smtp_pool *p);

static void msg_free(struct pmsg *m)
{
    xfree(m->from);
    xfree(m->rcpt);
    xfree(m->data);
    xfree(m);
}

static struct pmsg *queue_pop(struct smtp_pool *p)
{
    struct pmsg *m = p->head;
    if (!m)
        return NULL;
    p->head = m->next;
    if (!p->head)
        p->tail = NULL;
    p->queued--;
    m->next = NULL;
    return m;
}

static void queue_push_front(struct smtp_pool *p, struct pmsg *m)
{
    m->next = p->head;
    p->head = m;
    if (!p->tail)
        p->tail = m;
    p->queued++;
}

/* fail_queued - give every queued message RES as its result. */
static void fail_queued(struct smtp_pool *p, const struct smtp_result *res)
{
    struct pmsg *m;
    while ((m = queue_pop(p)) != NULL) {
        m->cb(res, m->arg);
        msg_free(m);
    }
}

static void on_timer(uv_timer_t *t)
{
    pool_pump(t->data);
}

/* schedule - run the pump again in DELAY_MS, unless it is due sooner already. */
static void schedule(struct smtp_pool *p, uint64_t delay_ms)
{
    uint64_t due = uv_now(p->loop) + delay_ms;
    if (uv_is_active((uv_handle_t *)&p->timer) && p->timer_due <= due)
        return;
    p->timer_due = due;
    uv_timer_start(&p->timer, on_timer, delay_ms, 0);
}

static void backoff(struct smtp_pool *p)
{
    p->failures++;
    uint64_t ms = p->min_ms;
    for (unsigned i = 1; i < p->failures && ms < p->max_ms; i++)
        ms *= 2;
    if (ms > p->max_ms)
        ms = p->max_ms;
    p->retry_at = uv_now(p->loop) + ms;
}

static void on_pool_closed(uv_handle_t *h)
{
    struct smtp_pool *p = h->data;
    smtp_close_cb cb = p->close_cb;
    void *arg = p->close_arg;
    xfree((char *)p->smtp.host);
    xfree((char *)p->smtp.helo_name);
    xfree((char *)p->smtp.tls_server_name);
    xfree((char *)p->smtp.tls_ca_file);
    xfree((char *)p->smtp.username);
    if (p->smtp.password) {
        explicit_bzero((char *)p->smtp.password, strlen(p->smtp.password));
        xfree((char *)p->smtp.password);
    }
    if (p->smtp.tls_ctx)
        tls_ctx_free(p->smtp.tls_ctx);
    buf_free(&p->last_text);
    xfree(p);
    if (cb)
        cb(arg);
}

static void maybe_finish(struct smtp_pool *p)
{
    /* an unanswered budget request answers to this pool: it waits for it */
    if (p->closing && p->nconns == 0 && !p->asking && !p->slots_asking && !uv_is_closing((uv_handle_t *)&p->timer))
        uv_close((uv_handle_t *)&p->timer, on_pool_closed);
}

static void on_conn_closed(void *arg)
{
    struct pconn *pc = arg;
    struct smtp_pool *p = pc->pool;
    for (struct pconn **pp = &p->conns; *pp; pp = &(*pp)->next) {
        if (*pp == pc) {
            *pp = pc->next;
            break;
        }
    }
    p->nconns--;
    xfree(pc);
    if (p->closing)
        maybe_finish(p);
    else
        pool_pump(p);
}

static void pconn_close(struct pconn *pc)
{
    if (pc->closing)
        return;
    pc->closing = true;
    pc->ready = false;
    smtp_conn_close(pc->conn, on_conn_closed, pc);
}

static void remember_failure(struct smtp_pool *p, const struct smtp_result *res)
{
    p->last = *res;
    buf_reset(&p->last_text);
    buf_appends(&p->last_text, res->text);
    snprintf(p->last_enhanced, sizeof(p->last_enhanced), "%s", res->enhanced);
    p->last.text = p->last_text.data;
    p->last.enhanced = p->last_enhanced;
    p->last.queue_id = "";
    p->last.unsent = false;
}

static void on_open(struct smtp_conn *c, int status, const struct smtp_result *res, void *arg)
{
    (void)c;
    struct pconn *pc = arg;
    struct smtp_pool *p = pc->pool;
    if (status == 0) {
        pc->ready = true;
        p->failures = 0;
        pool_pump(p);
        return;
    }
    bool was_ready = pc->ready;
    pconn_close(pc);
    if (!was_ready) {
        char line[600];
        log_warn("smtp %s:%d: %s failed: %s", p->smtp.host, p->smtp.port, smtp_stage_name(res->stage),
                 smtp_reply_line(res->code, res->enhanced, res->text, line, sizeof(line)));
        remember_failure(p, res);
        backoff(p);
        bool any_ready = false;
        for (struct pconn *o = p->conns; o; o = o->next)
            any_ready |= o->ready;
        if (p->failures >= p->max_failures && !any_ready)
            fail_queued(p, &p->last);
    }
    pool_pump(p);
}

static void on_sent(struct smtp_conn *c, const struct smtp_result *res, void *arg)
{
    struct pconn *pc = arg;
    struct smtp_pool *p = pc->pool;
    struct pmsg *m = pc->msg; /* results come in the order the messages went */
    pc->msg = pc->msg2;
    pc->msg2 = NULL;
    p->in_flight--;
    bool dropped = res->error != 0 || res->code == 421;
    if (res->unsent && !p->closing) {
        /* nothing of it went out: another connection (or this one's successor) takes it */
        queue_push_front(p, m);
        if (p->budget)
            p->allowance++;
    } else {
        m->cb(res, m->arg);
        msg_free(m);
    }
    /* The callback may have submitted more and the pump given this connection
     * another message already; close it only when it is idle and spent. */
    if (!pc->msg && (p->closing || !smtp_conn_ready(c))) {
        if (dropped && !p->closing && res->error != UV_ECANCELED)
            backoff(p);
        pconn_close(pc);
    }
    pool_pump(p);
}

/* on_room - a connection's message has its 354: it may take the next one along */
static void on_room(struct smtp_conn *c, void *arg)
{
    (void)c;
    struct pconn *pc = arg;
    pool_pump(pc->pool);
}

static void pconn_open(struct smtp_pool *p)
{
    struct pconn *pc = xcalloc(1, sizeof(*pc));
    pc->pool = p;
    int rc = smtp_conn_open(p->loop, &p->smtp, on_open, pc, &pc->conn);
    if (rc < 0) {
        struct smtp_result res = { .stage = SMTP_STAGE_CONNECT, .error = rc, .enhanced = "",
                                   .text = "cannot start a connection", .queue_id = "" };
        xfree(pc);
        remember_failure(p, &res);
        backoff(p);
        if (p->failures >= p->max_failures && p->nconns == 0)
            fail_queued(p, &p->last);
        return;
    }
    smtp_conn_on_room(pc->conn, on_room);
    pc->next = p->conns;
    p->conns = pc;
    p->nconns++;
}

/* assign - give queued messages to idle connections, as far as the hold and the limiter allow. */
static void assign(struct smtp_pool *p)
{
    uint64_t now = uv_now(p->loop);
    if (p->head && now < p->hold_until) {
        schedule(p, p->hold_until - now);
        return;
    }
    unsigned busy = 0;
    for (struct pconn *pc = p->conns; pc; pc = pc->next)
        busy += pc->msg != NULL;
    for (struct pconn *pc = p->conns; pc && p->head; pc = pc->next) {
        bool queue = pc->msg != NULL; /* behind the message in flight */
        if (!pc->ready || pc->closing || pc->msg2 ||
            !(queue ? smtp_conn_can_queue(pc->conn) : smtp_conn_ready(pc->conn)))
            continue;
        if (p->slots && !queue && busy >= p->held)
            continue;   /* as many on the wire as slots held: the rest close when idle */
        if (p->budget && !p->allowance) {
            if (p->asking || p->closing)
                return;
            if (now < p->ask_at) {
                schedule(p, p->ask_at - now);
                return;
            }
            p->asking = true;
            p->budget(p->budget_arg, p->queued < p->budget_max ? (unsigned)p->queued : p->budget_max);
            return;   /* smtp_pool_grant pumps again */
        }
        uint64_t wait = ratelimit_acquire(&p->rl, 1, uv_now(p->loop));
        if (wait) {
            schedule(p, wait == UINT64_MAX ? 60000 : wait);
            return;
        }
        struct pmsg *m = queue_pop(p);
        if (p->budget)
            p->allowance--;
        int rc = smtp_conn_send(pc->conn, m->from, m->rcpt, m->data, m->len, m->flags, on_sent, pc);
        if (rc == UV_EINVAL || rc == UV_E2BIG) {
            struct smtp_result res = { .stage = SMTP_STAGE_MAIL, .error = rc, .enhanced = "",
                                       .text = rc == UV_E2BIG ? "the message exceeds the server's SIZE limit"
                                                              : "invalid envelope address",
                                       .queue_id = "" };
            m->cb(&res, m->arg);
            msg_free(m);
            continue;
        }
        if (rc < 0) {
            queue_push_front(p, m);
            if (p->budget)
                p->allowance++;
            if (!queue)
                pconn_close(pc);
            continue;
        }
        if (queue) {
            pc->msg2 = m;
        } else {
            pc->msg = m;
            busy++;
        }
        pc->idle_since = 0;
        p->in_flight++;
    }
}

/* close_idle - QUIT connections that have had nothing to carry for idle_ms (the server may
 * keep per-session state, such as its access maps, for as long as a session lasts). */
static void close_idle(struct smtp_pool *p)
{
    uint64_t now = uv_now(p->loop);
    for (struct pconn *pc = p->conns; pc; pc = pc->next) {
        if (!pc->ready || pc->closing || pc->msg)
            continue;
        if (!pc->idle_since)
            pc->idle_since = now;
        if (p->head)
            continue;
        if (now - pc->idle_since >= p->idle_ms)
            pconn_close(pc);
        else
            schedule(p, p->idle_ms - (now - pc->idle_since));
    }
}

static void pump_once(struct smtp_pool *p)
{
    if (p->closing) {
        for (struct pconn *pc = p->conns; pc; pc = pc->next)
            if (!pc->msg)
                pconn_close(pc);
        maybe_finish(p);
        return;
    }
    assign(p);
    close_idle(p);
    unsigned active = 0;
    for (struct pconn *pc = p->conns; pc; pc = pc->next) {
        if (pc->closing)
            continue;
        if (pc->ready && !pc->msg && !smtp_conn_ready(pc->conn))
            pconn_close(pc);
        else
            active++;
    }
    size_t want = p->queued + p->in_flight;
    if (want > p->max_conns)
        want = p->max_conns;
    uint64_t now = uv_now(p->loop);
    if (p->slots) {
        if (want > p->held && now >= p->slots_ask_at)
            smtp_pool_ask_slots(p);
        /* more open than slots held: idle ones close now */
        for (struct pconn *pc = p->conns; pc && active > p->held; pc = pc->next)
            if (!pc->closing && !pc->msg) {
                pconn_close(pc);
                active--;
            }
        if (want > p->held)
            want = p->held;
    }
    if (active < want && now < p->retry_at) {
        schedule(p, p->retry_at - now);
        return;
    }
    /* While failing, probe with one connection at a time. */
    if (p->failures > 0 && want > active + 1)
        want = active + 1;
    while (active < want && p->head) {
        pconn_open(p);
        active++;
        if (p->failures > 0)
            break;
    }
}

static void pool_pump(struct smtp_pool *p)
{
    if (p->pumping) {
        p->pump_again = true;
        return;
    }
    p->pumping = true;
    do {
        p->pump_again = false;
        pump_once(p);
    } while (p->pump_again);
    p->pumping = false;
}

static const char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/*
 * smtp_pool_create - a pool for the relay CFG describes. Returns 0 with the
 * pool in *OUT, or UV_EINVAL (no host, or the CA file cannot be loaded) with
 * *OUT NULL. No connection opens until a message is submitted.
 */
int smtp_pool_create(uv_loop_t *loop, const struct smtp_pool_config *cfg, struct smtp_pool **out)
{
    *out = NULL;
    if (!cfg->smtp.host || !*cfg->smtp.host)
        return UV_EINVAL;
    SSL_CTX *ctx;
    if (smtp_tls_ctx_get(&cfg->smtp, &ctx) < 0)
        return UV_EINVAL;
    struct smtp_pool *p = xcalloc(1, sizeof(*p));
    p->loop = loop;
    p->smtp = cfg->smtp;
    p->smtp.host = xstrdup(cfg->smtp.host);
    p->smtp.helo_name = dup_or_null(cfg->smtp.helo_name);
    p->smtp.tls_server_name = dup_or_null(cfg->smtp.tls_server_name);
    p->smtp.tls_ca_file = dup_or_null(cfg->smtp.tls_ca_file);
    p->smtp.username = dup_or_null(cfg->smtp.username);
    p->smtp.password = dup_or_null(cfg->smtp.password);
    p->smtp.tls_ctx = ctx;
    if (!p->smtp.port)
        p->smtp.port = 587;
    p->max_conns = cfg->max_conns ? cfg->max_conns : 4;
    p->min_ms = cfg->reconnect_min_ms ? cfg->reconnect_min_ms : 1000;
    p->max_ms = cfg->reconnect_max_ms ? cfg->reconnect_max_ms : 60000;
    if (p->max_ms < p->min_ms)
        p->max_ms = p->min_ms;
    p->max_failures = cfg->max_connect_failures ? cfg->max_connect_failures : 5;
    p->idle_ms = cfg->idle_timeout_ms ? cfg->idle_timeout_ms : 5000;
    ratelimit_init(&p->rl, &cfg->limits, uv_now(loop));
    p->budget = cfg->budget;
    p->budget_arg = cfg->budget_arg;
    p->budget_max = cfg->budget_max ? cfg->budget_max : 100;
    p->slots = cfg->slots;
    p->slots_arg = cfg->slots_arg;
    uv_timer_init(loop, &p->timer);
    p->timer.data = p;
    *out = p;
    return 0;
}

/*
 * smtp_pool_submit_owned - queue DATA[0..LEN) from ENV_FROM to RCPT (both
 * copied), taking DATA over: the pool frees it (xfree) once the message is
 * done with; FLAGS go to smtp_conn_send (SMTP_SEND_READY). Returns 0, and
 * CB is called once with the message's result; or UV_ESHUTDOWN when the pool
 * is closing (CB never called, DATA still the caller's).
 */
int smtp_pool_submit_owned(struct smtp_pool *p, const char *env_from, const char *rcpt, char *data,
                           size_t len, unsigned flags, smtp_pool_cb cb, void *arg)
{
    if (p->closing)
        return UV_ESHUTDOWN;
    struct pmsg *m = xcalloc(1, sizeof(*m));
    m->from = xstrdup(env_from);
    m->rcpt = xstrdup(rcpt);
    m->data = data;
    m->len = len;
    m->flags = flags;
    m->cb = cb;
    m->arg = arg;
    if (p->tail)
        p->tail->next = m;
    else
        p->head = m;
    p->tail = m;
    p->queued++;
    pool_pump(p);
    return 0;
}

/*
 * smtp_pool_submit - queue DATA[0..LEN) from ENV_FROM to RCPT (all copied).
 * Returns as smtp_pool_submit_owned.
 */
int smtp_pool_submit(struct smtp_pool *p, const char *env_from, const char *rcpt, const void *data,
                     size_t len, smtp_pool_cb cb, void *arg)
{
    if (p->closing)
        return UV_ESHUTDOWN;
    return smtp_pool_submit_owned(p, env_from, rcpt, xmemdup(data, len ? len : 1), len, 0, cb, arg);
}

/* smtp_pool_queued - messages waiting for a connection. */
size_t smtp_pool_queued(const struct smtp_pool *p)
{
    return p->queued;
}

/* smtp_pool_in_flight - messages given to a connection and not yet answered. */
size_t smtp_pool_in_flight(const struct smtp_pool *p)
{
    return p->in_flight;
}

/* smtp_pool_conns - connections open or opening (not those closing): at most max_conns. */
unsigned smtp_pool_conns(const struct smtp_pool *p)
{
    unsigned n = 0;
    for (const struct pconn *pc = p->conns; pc; pc = pc->next)
        n += !pc->closing;
    return n;
}

/*
 * smtp_pool_hold - give no queued message to a connection for the next MS
 * milliseconds (a later hold that ends sooner does not shorten it); what is
 * in flight goes on. For the caller's back-pressure, e.g. after 4xx replies.
 */
void smtp_pool_hold(struct smtp_pool *p, unsigned ms)
{
    uint64_t until = uv_now(p->loop) + ms;
    if (until > p->hold_until)
        p->hold_until = until;
}

/*
 * smtp_pool_grant - the answer to the pool's budget request: N more messages
 * may go; with none, ask again in WAIT_MS. A closing pool waits for it.
 */
void smtp_pool_grant(struct smtp_pool *p, unsigned n, unsigned wait_ms)
{
    p->asking = false;
    p->allowance += n;
    if (!n)
        p->ask_at = uv_now(p->loop) + (wait_ms ? wait_ms : 1000);
    pool_pump(p);
}

/* smtp_pool_allowance - messages granted by the budget and not yet given to a connection. */
unsigned long smtp_pool_allowance(const struct smtp_pool *p)
{
    return p->allowance;
}

/* smtp_pool_wanted - see smtp_pool.h: the messages' need, or the connections still open (idle ones keep theirs) */
unsigned smtp_pool_wanted(const struct smtp_pool *p)
{
    size_t want = p->queued + p->in_flight;
    unsigned open = smtp_pool_conns(p);
    if (want < open)
        want = open;
    return want > p->max_conns ? p->max_conns : (unsigned)want;
}

/* smtp_pool_starved - see smtp_pool.h. */
bool smtp_pool_starved(const struct smtp_pool *p)
{
    return p->slots && p->held == 0 && p->queued > 0 && p->in_flight == 0;
}

/* smtp_pool_ask_slots - see smtp_pool.h. */
void smtp_pool_ask_slots(struct smtp_pool *p)
{
    /* holding none and wanting none: nothing to take or give back */
    if (!p->slots || p->slots_asking || p->closing || (p->held == 0 && smtp_pool_wanted(p) == 0))
        return;
    p->slots_asking = true;
    p->slots_ask_at = uv_now(p->loop) + 1000;
    p->slots_asked = smtp_pool_wanted(p);
    p->slots(p->slots_arg, p->slots_asked);
}

/* smtp_pool_slots - see smtp_pool.h. */
void smtp_pool_slots(struct smtp_pool *p, unsigned held)
{
    p->slots_asking = false;
    if (held != SMTP_POOL_SLOTS_UNKNOWN) {
        p->held = held;
        /* all that was asked was had, and messages came meanwhile (the first ask, at the first message,
           wanted one): ask for the rest now rather than a second later */
        if (held >= p->slots_asked && smtp_pool_wanted(p) > held)
            p->slots_ask_at = 0;
    }
    pool_pump(p);
}

/* smtp_pool_paced - see smtp_pool.h. */
bool smtp_pool_paced(const struct smtp_pool *p)
{
    return p->budget && !p->allowance && (p->asking || uv_now(p->loop) < p->ask_at);
}

/*
 * smtp_pool_close - stop: queued messages get UV_ECANCELED results now (those
 * queued behind one in flight on a connection too: their content never goes),
 * messages in flight finish, then every connection QUITs. CB (may be NULL)
 * runs with ARG once the pool is freed.
 */
void smtp_pool_close(struct smtp_pool *p, smtp_close_cb cb, void *arg)
{
    if (p->closing)
        log_panic("smtp_pool_close called twice");
    p->closing = true;
    p->close_cb = cb;
    p->close_arg = arg;
    uv_timer_stop(&p->timer);
    struct smtp_result res = { .stage = SMTP_STAGE_CONNECT, .error = UV_ECANCELED, .enhanced = "",
                               .text = "the pool was closed", .queue_id = "" };
    for (struct pconn *pc = p->conns; pc; pc = pc->next) {
        struct pmsg *m = pc->msg2;
        if (m && smtp_conn_unqueue(pc->conn)) {
            pc->msg2 = NULL;
            p->in_flight--;
            m->cb(&res, m->arg);
            msg_free(m);
        }
    }
    fail_queued(p, &res);
    pool_pump(p);
}
