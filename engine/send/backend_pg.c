/*
 * backend_pg - the sender's backend on PostgreSQL: the ledger's statements
 * (engine/store/ledger.c) on two statement queues (engine/store/dbq.c),
 * claims and housekeeping on one connection, records and lease renewals on
 * the other; campaigns are prepared on a blocking connection of their own.
 *
 * The claim and the record are prepared once per connection. A failed
 * statement's error reaches the callback as one line; the queues reconnect
 * on their own (see dbq.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>
#include <uv.h>

#include "engine/send/backend.h"
#include "engine/send/prepare.h"
#include "engine/store/abtests.h"
#include "engine/store/campaigns.h"
#include "engine/store/dbq.h"
#include "engine/store/ledger.h"
#include "engine/store/pg.h"
#include "engine/store/relays.h"
#include "engine/util/alloc.h"

struct backend_pg {
    struct send_backend base;
    const char *conninfo;
    struct dbq claimq, recordq;
    unsigned closing;           /* queues not yet closed */
    PGconn *abconn;             /* ab_decide's blocking connection, kept between rounds (one at a time) */
    PGconn *audconn;            /* audience's, likewise */
    backend_closed_cb closed_cb;
};

/* what a statement's callback needs: the caller's callback and argument */
struct req {
    union {
        backend_rows_cb rows;
        backend_done_cb done;
        backend_ids_cb ids;
        backend_count_cb count;
        backend_relays_cb relays;
        backend_budget_cb budget;
        backend_slots_cb slots;
        backend_held_cb held;
    } cb;
    void *arg;
    char *owner;   /* held: the sender whose leases are read once its lock is had */
};

static struct req *req_new(void *arg)
{
    struct req *r = xcalloc(1, sizeof(*r));
    r->arg = arg;
    return r;
}

static const char *res_err(PGresult *res)
{
    return pg_ok(res) ? NULL : PQresultErrorMessage(res);
}

static bool pg_ready(struct send_backend *b)
{
    return dbq_ready(&((struct backend_pg *)b)->claimq);
}

static bool pg_idle(struct send_backend *b)
{
    struct backend_pg *p = (struct backend_pg *)b;
    return dbq_idle(&p->claimq) && dbq_idle(&p->recordq);
}

static void on_claimed(void *owner, PGresult *res, void *arg)
{
    struct backend_pg *p = owner;
    struct req *r = arg;
    struct ledger_row *rows = NULL;
    int n = pg_ok(res) ? ledger_claim_rows(res, &rows) : 0;
    r->cb.rows(p->base.owner, rows, (size_t)n, res_err(res));
    xfree(rows);
    xfree(r);
}

static void pg_claim(struct send_backend *b, const char *owner, unsigned limit, unsigned lease_s, backend_rows_cb cb)
{
    struct backend_pg *p = (struct backend_pg *)b;
    char lim[16], lease[16];
    snprintf(lim, sizeof(lim), "%u", limit);
    snprintf(lease, sizeof(lease), "%u", lease_s);
    const char *params[] = { owner, lim, lease };
    struct req *r = req_new(NULL);
    r->cb.rows = cb;
    dbq_push_named(&p->claimq, "postino_claim", ledger_claim_sql, 3, params, on_claimed, r);
}

static void on_done(void *owner, PGresult *res, void *arg)
{
    struct backend_pg *p = owner;
    struct req *r = arg;
    r->cb.done(p->base.owner, r->arg, res_err(res));
    xfree(r);
}

/* push SQL on Q; CB(owner, ARG, err) gets the outcome */
static void push_done(struct dbq *q, const char *name, const char *sql, int n,
                      const char *const *params, backend_done_cb cb, void *arg)
{
    struct req *r = req_new(arg);
    r->cb.done = cb;
    if (name)
        dbq_push_named(q, name, sql, n, params, on_done, r);
    else
        dbq_push(q, sql, n, params, on_done, r);
}

static void pg_record(struct send_backend *b, struct ledger_batch *batch, const char *owner, unsigned max_age_s,
                      backend_done_cb cb, void *arg)
{
    struct backend_pg *p = (struct backend_pg *)b;
    char max_age[16];
    const char *params[LEDGER_RECORD_NPARAMS];
    snprintf(max_age, sizeof(max_age), "%u", max_age_s);
    ledger_batch_params(batch, owner, max_age, params);
    push_done(&p->recordq, "postino_record", ledger_record_sql, LEDGER_RECORD_NPARAMS, params, cb, arg);
}

static void pg_renew(struct send_backend *b, const char *owner, unsigned lease_s, backend_done_cb cb)
{
    struct backend_pg *p = (struct backend_pg *)b;
    char lease[16];
    snprintf(lease, sizeof(lease), "%u", lease_s);
    const char *params[] = { owner, lease };
    push_done(&p->recordq, NULL, ledger_renew_sql, 2, params, cb, NULL);
}

static void pg_release(struct send_backend *b, const char *owner, backend_done_cb cb)
{
    struct backend_pg *p = (struct backend_pg *)b;
    const char *params[] = { owner };
    push_done(&p->claimq, NULL, ledger_release_sql, 1, params, cb, NULL);
}

static unsigned pg_session(struct send_backend *b)
{
    return dbq_session(&((struct backend_pg *)b)->claimq);
}

static void on_held_ids(void *owner, PGresult *res, void *arg)
{
    struct backend_pg *p = owner;
    struct req *r = arg;
    int n = pg_ok(res) ? PQntuples(res) : 0;
    uint64_t *ids = xcalloc(n ? (size_t)n : 1, sizeof(*ids));
    for (int i = 0; i < n; i++)
        ids[i] = strtoull(PQgetvalue(res, i, 0), NULL, 10);
    r->cb.held(p->base.owner, pg_ok(res), ids, (size_t)n, res_err(res));
    xfree(ids);
    xfree(r->owner);
    xfree(r);
}

/* the lock first, then (a statement of its own, so that it sees every takeover before the lock) the leases */
static void on_locked(void *owner, PGresult *res, void *arg)
{
    struct backend_pg *p = owner;
    struct req *r = arg;
    bool locked = pg_ok(res) && PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
    if (!locked) {
        r->cb.held(p->base.owner, false, NULL, 0, res_err(res));
        xfree(r->owner);
        xfree(r);
        return;
    }
    const char *params[] = { r->owner };
    dbq_push(&p->claimq, ledger_held_sql, 1, params, on_held_ids, r);
}

/* on the claim lane: the sender's lock is a lock of that connection's session */
static void pg_held(struct send_backend *b, const char *owner, backend_held_cb cb)
{
    struct backend_pg *p = (struct backend_pg *)b;
    const char *params[] = { owner };
    struct req *r = req_new(NULL);
    r->cb.held = cb;
    r->owner = xstrdup(owner);
    dbq_push(&p->claimq, ledger_lock_sql, 1, params, on_locked, r);
}

static void on_budget(void *owner, PGresult *res, void *arg)
{
    struct backend_pg *p = owner;
    struct req *r = arg;
    bool ok = pg_ok(res) && PQntuples(res) == 1;
    unsigned granted = ok ? (unsigned)strtoul(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    unsigned wait_ms = ok ? (unsigned)strtoul(PQgetvalue(res, 0, 1), NULL, 10) : 0;
    r->cb.budget(p->base.owner, r->arg, granted, wait_ms, res_err(res));
    xfree(r);
}

static void pg_budget(struct send_backend *b, const char *name, unsigned want, double rate, long quota,
                      long period_s, backend_budget_cb cb, void *arg)
{
    struct backend_pg *p = (struct backend_pg *)b;
    char w[16], rt[32], q[24], per[24];
    snprintf(w, sizeof(w), "%u", want);
    snprintf(rt, sizeof(rt), "%.17g", rate);
    snprintf(q, sizeof(q), "%ld", quota);
    snprintf(per, sizeof(per), "%ld", period_s);
    const char *params[] = { name, w, rt, q, per };
    struct req *r = req_new(arg);
    r->cb.budget = cb;
    dbq_push_named(&p->claimq, "postino_budget", ledger_budget_sql, 5, params, on_budget, r);
}

static void on_slots(void *owner, PGresult *res, void *arg)
{
    struct backend_pg *p = owner;
    struct req *r = arg;
    bool ok = pg_ok(res) && PQntuples(res) == 1;
    r->cb.slots(p->base.owner, r->arg, ok ? (unsigned)strtoul(PQgetvalue(res, 0, 0), NULL, 10) : 0, res_err(res));
    xfree(r);
}

/* on the claim lane: the slots are locks of the claim connection's session, as the sender's own lock is */
static void pg_slots(struct send_backend *b, const char *owner, const char *name, unsigned max_conns, unsigned want,
                     backend_slots_cb cb, void *arg)
{
    struct backend_pg *p = (struct backend_pg *)b;
    char mc[16], w[16];
    snprintf(mc, sizeof(mc), "%u", max_conns);
    snprintf(w, sizeof(w), "%u", want);
    const char *params[] = { owner, name, mc, w };
    struct req *r = req_new(arg);
    r->cb.slots = cb;
    dbq_push_named(&p->claimq, "postino_slots", ledger_slots_sql, 4, params, on_slots, r);
}

static void on_ids(void *owner, PGresult *res, void *arg)
{
    struct backend_pg *p = owner;
    struct req *r = arg;
    int n = pg_ok(res) ? PQntuples(res) : 0;
    uint64_t *ids = xcalloc(n ? (size_t)n : 1, sizeof(*ids));
    for (int i = 0; i < n; i++)
        ids[i] = strtoull(PQgetvalue(res, i, 0), NULL, 10);
    r->cb.ids(p->base.owner, ids, (size_t)n, res_err(res));
    xfree(ids);
    xfree(r);
}

static void push_ids(struct backend_pg *p, const char *sql, backend_ids_cb cb)
{
    struct req *r = req_new(NULL);
    r->cb.ids = cb;
    dbq_push(&p->claimq, sql, 0, NULL, on_ids, r);
}

static void pg_schedule(struct send_backend *b, unsigned chunk, backend_ids_cb cb)
{
    struct backend_pg *p = (struct backend_pg *)b;
    char ch[16];
    snprintf(ch, sizeof(ch), "%u", chunk);
    const char *params[] = { ch };
    struct req *r = req_new(NULL);
    r->cb.ids = cb;
    dbq_push(&p->claimq, ledger_schedule_sql, 1, params, on_ids, r);
}

static void pg_finish(struct send_backend *b, backend_ids_cb cb)
{
    push_ids((struct backend_pg *)b, ledger_finish_sql, cb);
}

static void on_count(void *owner, PGresult *res, void *arg)
{
    struct backend_pg *p = owner;
    struct req *r = arg;
    long n = pg_ok(res) && PQntuples(res) == 1 ? atol(PQgetvalue(res, 0, 0)) : 0;
    r->cb.count(p->base.owner, n, res_err(res));
    xfree(r);
}

static void pg_heartbeat(struct send_backend *b, const char *owner, const char *host, int pid, const char *status,
                         backend_count_cb cb)
{
    struct backend_pg *p = (struct backend_pg *)b;
    char spid[16];
    snprintf(spid, sizeof(spid), "%d", pid);
    const char *params[] = { owner, host, spid, status };
    struct req *r = req_new(NULL);
    r->cb.count = cb;
    dbq_push(&p->claimq, ledger_heartbeat_sql, 4, params, on_count, r);
}

static void pg_running(struct send_backend *b, backend_count_cb cb)
{
    struct backend_pg *p = (struct backend_pg *)b;
    struct req *r = req_new(NULL);
    r->cb.count = cb;
    dbq_push(&p->claimq, ledger_running_sql, 0, NULL, on_count, r);
}

static void on_relays(void *owner, PGresult *res, void *arg)
{
    struct backend_pg *p = owner;
    struct req *r = arg;
    struct relay_def *defs = NULL;
    size_t n = pg_ok(res) ? store_relay_defs(res, &defs) : 0;
    r->cb.relays(p->base.owner, defs, n, res_err(res));
    xfree(r);
}

static void pg_relays(struct send_backend *b, backend_relays_cb cb)
{
    struct backend_pg *p = (struct backend_pg *)b;
    const char *params[] = { NULL };
    struct req *r = req_new(NULL);
    r->cb.relays = cb;
    dbq_push(&p->claimq, store_relay_load_sql, 1, params, on_relays, r);
}

static int pg_prepare(struct send_backend *b, uint64_t id, struct prepared_campaign *pc, bool *unsigned_warning,
                      char *err, size_t errlen)
{
    struct backend_pg *p = (struct backend_pg *)b;
    char sid[32];
    snprintf(sid, sizeof(sid), "%llu", (unsigned long long)id);
    PGconn *conn = pg_connect(p->conninfo, err, errlen);
    if (!conn)
        return -1;
    int rc = campaign_prepare(conn, sid, pc, unsigned_warning, err, errlen);
    PQfinish(conn);
    return rc;
}

/* *CONN connected to P's database, kept between rounds (connected again when it broke); 0 or -1 with ERR */
static int kept_conn(struct backend_pg *p, PGconn **conn, char *err, size_t errlen)
{
    if (*conn && PQstatus(*conn) != CONNECTION_OK) {
        PQfinish(*conn);
        *conn = NULL;
    }
    if (!*conn && !(*conn = pg_connect(p->conninfo, err, errlen)))
        return -1;
    return 0;
}

static int pg_audience(struct send_backend *b, long budget_ms, long long *made, char *err, size_t errlen)
{
    struct backend_pg *p = (struct backend_pg *)b;
    struct store_err e;
    *made = 0;
    if (kept_conn(p, &p->audconn, err, errlen) < 0)
        return -1;
    int rc = store_campaign_audience_work(p->audconn, budget_ms, made, &e);
    if (rc < 0)
        snprintf(err, errlen, "%s", e.msg);
    return rc < 0 ? -1 : 0;
}

static int pg_ab_decide(struct send_backend *b, size_t *n, char *err, size_t errlen)
{
    struct backend_pg *p = (struct backend_pg *)b;
    struct store_err e;
    *n = 0;
    if (kept_conn(p, &p->abconn, err, errlen) < 0)
        return -1;
    int rc = store_ab_decide_due(p->abconn, n, &e);
    if (rc < 0)
        snprintf(err, errlen, "%s", e.msg);
    return rc < 0 ? -1 : 0;
}

static void on_queue_closed(void *owner)
{
    struct backend_pg *p = owner;
    if (--p->closing == 0 && p->closed_cb)
        p->closed_cb(p->base.owner);
}

static void pg_close(struct send_backend *b, backend_closed_cb cb)
{
    struct backend_pg *p = (struct backend_pg *)b;
    p->closing = 2;
    p->closed_cb = cb;
    dbq_close(&p->claimq, on_queue_closed);
    dbq_close(&p->recordq, on_queue_closed);
}

static void pg_free(struct send_backend *b)
{
    struct backend_pg *p = (struct backend_pg *)b;
    if (p->abconn)
        PQfinish(p->abconn);
    if (p->audconn)
        PQfinish(p->audconn);
    xfree(b);
}

static const struct send_backend_ops pg_ops = {
    .ready = pg_ready,
    .idle = pg_idle,
    .claim = pg_claim,
    .record = pg_record,
    .renew = pg_renew,
    .release = pg_release,
    .session = pg_session,
    .held = pg_held,
    .heartbeat = pg_heartbeat,
    .budget = pg_budget,
    .slots = pg_slots,
    .schedule = pg_schedule,
    .finish = pg_finish,
    .running = pg_running,
    .relays = pg_relays,
    .prepare = pg_prepare,
    .audience = pg_audience,
    .ab_decide = pg_ab_decide,
    .close = pg_close,
    .free = pg_free,
};

/* the claim connection is set up (at the start, and again after it was lost): the sender need not wait for its tick */
static void claimq_ready(void *owner)
{
    struct backend_pg *p = owner;
    if (p->base.on_ready && p->base.owner)
        p->base.on_ready(p->base.owner);
}

/* backend_pg_new - see backend.h. */
struct send_backend *backend_pg_new(uv_loop_t *loop, const char *conninfo)
{
    struct backend_pg *p = xcalloc(1, sizeof(*p));
    p->base.ops = &pg_ops;
    p->conninfo = conninfo;
    dbq_init(&p->claimq, loop, conninfo, p, "sender: claim");
    p->claimq.on_ready = claimq_ready;
    dbq_init(&p->recordq, loop, conninfo, p, "sender: record");
    return &p->base;
}
