/*
 * backend_ram - the sender's backend in memory (see backend_ram.h).
 *
 * Requests wait in one queue, in the order asked, and are answered from a
 * timer on the loop: at the next turn, or LATENCY ms after they were asked;
 * while the backend is down, not at all until it is back. The rules are the
 * ledger's (engine/store/ledger.c): a claim takes due, unleased (or
 * lease-expired) deliveries of running campaigns, transactional ones first;
 * a record moves only what the recording sender still leases, and a
 * deferral older than the maximum age fails; a release gives back what a
 * sender leases.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <uv.h>

#include "engine/send/backend_ram.h"
#include "engine/send/prepare.h"
#include "engine/store/relays.h"
#include "engine/util/alloc.h"

enum task_kind { T_CLAIM, T_RECORD, T_RENEW, T_RELEASE, T_HEARTBEAT, T_SCHEDULE, T_FINISH, T_RUNNING, T_RELAYS,
                 T_HELD };

struct task {
    enum task_kind kind;
    uint64_t at;               /* ms, loop time: answered no sooner */
    char owner[160];
    unsigned limit, lease_s, max_age_s;
    struct ledger_batch *batch;
    char status[256];
    union {
        backend_rows_cb rows;
        backend_done_cb done;
        backend_ids_cb ids;
        backend_count_cb count;
        backend_relays_cb relays;
        backend_held_cb held;
    } cb;
    void *arg;
    struct task *next;
};

struct ram_campaign {
    uint64_t id;
    json_t *row;
    bool tx, finished;
};

struct backend_ram {
    struct send_backend base;
    uv_loop_t *loop;
    uv_timer_t timer;
    bool down, closed;
    unsigned session;          /* with locks (backend_ram_locks): 1, then one more each time it is back up */
    unsigned latency_ms, fail_records;
    struct task *head, *tail;
    pthread_mutex_t lock;      /* the campaigns, read by prepare on a worker thread */
    struct ram_campaign *camps;
    size_t ncamps;
    struct ram_delivery *dels;
    size_t ndels;
    struct relay_def *relays;
    size_t nrelays;
    struct ram_stats stats;
    backend_closed_cb closed_cb;
};

static void answer(uv_timer_t *t);

static void arm(struct backend_ram *r)
{
    if (r->closed || r->down || !r->head)
        return;
    uint64_t now = uv_now(r->loop);
    uv_timer_start(&r->timer, answer, r->head->at > now ? r->head->at - now : 0, 0);
}

static struct task *ask(struct backend_ram *r, enum task_kind kind, const char *owner)
{
    struct task *t = xcalloc(1, sizeof(*t));
    t->kind = kind;
    t->at = uv_now(r->loop) + r->latency_ms;
    snprintf(t->owner, sizeof(t->owner), "%s", owner ? owner : "");
    if (r->tail)
        r->tail->next = t;
    else
        r->head = t;
    r->tail = t;
    if (!uv_is_active((uv_handle_t *)&r->timer))
        arm(r);
    return t;
}

static bool leased(const struct ram_delivery *d, uint64_t now)
{
    return d->owner[0] && d->lease_until > now;
}

static bool pending(const struct ram_delivery *d)
{
    return strcmp(d->state, "queued") == 0 || strcmp(d->state, "deferred") == 0;
}

static struct ram_campaign *campaign(struct backend_ram *r, uint64_t id)
{
    for (size_t i = 0; i < r->ncamps; i++)
        if (r->camps[i].id == id)
            return &r->camps[i];
    return NULL;
}

static void note_leased(struct backend_ram *r)
{
    size_t n = 0;
    uint64_t now = uv_now(r->loop);
    for (size_t i = 0; i < r->ndels; i++)
        n += pending(&r->dels[i]) && leased(&r->dels[i], now);
    if (n > r->stats.leased_max)
        r->stats.leased_max = n;
}

static void do_claim(struct backend_ram *r, struct task *t)
{
    uint64_t now = uv_now(r->loop);
    struct ledger_row *rows = xcalloc(t->limit ? t->limit : 1, sizeof(*rows));
    size_t n = 0;
    r->stats.claims++;
    /* transactional campaigns first, then in the order they were added */
    for (int tx = 1; tx >= 0; tx--)
        for (size_t c = 0; c < r->ncamps; c++) {
            if (r->camps[c].tx != (tx == 1) || r->camps[c].finished)
                continue;
            for (size_t i = 0; i < r->ndels && n < t->limit; i++) {
                struct ram_delivery *d = &r->dels[i];
                if (d->campaign_id != r->camps[c].id || !pending(d) || d->due > now || leased(d, now))
                    continue;
                snprintf(d->owner, sizeof(d->owner), "%s", t->owner);
                d->lease_until = now + t->lease_s * 1000ull;
                rows[n++] = (struct ledger_row){ .id = d->id, .campaign_id = d->campaign_id, .subscriber_id = d->id,
                                                 .list_id = 1, .attempts = d->attempts, .email = d->email,
                                                 .name = d->name ? d->name : "", .attribs = "{}",
                                                 .list_name = "list" };
            }
        }
    r->stats.claimed += (unsigned)n;
    note_leased(r);
    t->cb.rows(r->base.owner, rows, n, NULL);
    xfree(rows);
}

static void do_record(struct backend_ram *r, struct task *t)
{
    uint64_t now = uv_now(r->loop);
    if (r->fail_records > 0) {
        r->fail_records--;
        t->cb.done(r->base.owner, t->arg, "ram: recording failed (as asked)");
        return;
    }
    r->stats.records++;
    for (size_t k = 0; k < t->batch->n; k++) {
        struct ledger_result res;
        ledger_batch_get(t->batch, k, &res);
        struct ram_delivery *d = NULL;
        for (size_t i = 0; i < r->ndels && !d; i++)
            if (r->dels[i].id == res.id)
                d = &r->dels[i];
        if (!d || !pending(d) || strcmp(d->owner, t->owner) != 0) {
            r->stats.stale++; /* not this sender's any more: PostgreSQL's record moves nothing either */
            continue;
        }
        bool too_old = strcmp(res.state, "deferred") == 0 && now - d->created > t->max_age_s * 1000ull;
        snprintf(d->state, sizeof(d->state), "%s", too_old ? "failed" : res.state);
        d->attempts++;
        d->records++;
        d->code = res.code;
        snprintf(d->reply, sizeof(d->reply), "%s", res.reply);
        snprintf(d->relay, sizeof(d->relay), "%s", res.relay);
        snprintf(d->cls, sizeof(d->cls), "%s", res.cls);
        if (strcmp(d->state, "deferred") == 0)
            d->due = now + (uint64_t)res.delay_s * 1000;
        d->owner[0] = 0;
        d->lease_until = 0;
        r->stats.recorded++;
    }
    t->cb.done(r->base.owner, t->arg, NULL);
}

static void do_lease(struct backend_ram *r, struct task *t, bool release)
{
    uint64_t now = uv_now(r->loop);
    for (size_t i = 0; i < r->ndels; i++) {
        struct ram_delivery *d = &r->dels[i];
        if (!pending(d) || strcmp(d->owner, t->owner) != 0)
            continue;
        if (release)
            d->owner[0] = 0, d->lease_until = 0;
        else
            d->lease_until = now + t->lease_s * 1000ull;
    }
    if (release)
        r->stats.releases++, r->stats.released = true;
    else
        r->stats.renewals++;
    t->cb.done(r->base.owner, t->arg, NULL);
}

/* the rows the sender leases, by id (the ids are in order: deliveries are added with growing ids) */
static void do_held(struct backend_ram *r, struct task *t)
{
    uint64_t *ids = xcalloc(r->ndels + 1, sizeof(*ids));
    size_t n = 0;
    for (size_t i = 0; i < r->ndels; i++)
        if (pending(&r->dels[i]) && strcmp(r->dels[i].owner, t->owner) == 0)
            ids[n++] = r->dels[i].id;
    t->cb.held(r->base.owner, true, ids, n, NULL);
    xfree(ids);
}

static size_t campaign_pending(struct backend_ram *r, uint64_t id)
{
    size_t n = 0;
    for (size_t i = 0; i < r->ndels; i++)
        n += r->dels[i].campaign_id == id && pending(&r->dels[i]);
    return n;
}

static void do_finish(struct backend_ram *r, struct task *t)
{
    uint64_t *ids = xcalloc(r->ncamps + 1, sizeof(*ids));
    size_t n = 0;
    for (size_t c = 0; c < r->ncamps; c++)
        if (!r->camps[c].tx && !r->camps[c].finished && campaign_pending(r, r->camps[c].id) == 0) {
            r->camps[c].finished = true;
            ids[n++] = r->camps[c].id;
        }
    t->cb.ids(r->base.owner, ids, n, NULL);
    xfree(ids);
}

static void do_running(struct backend_ram *r, struct task *t)
{
    long n = 0;
    for (size_t c = 0; c < r->ncamps; c++)
        n += !r->camps[c].finished && (!r->camps[c].tx || campaign_pending(r, r->camps[c].id) > 0);
    t->cb.count(r->base.owner, n, NULL);
}

static void run_task(struct backend_ram *r, struct task *t)
{
    switch (t->kind) {
    case T_CLAIM:
        do_claim(r, t);
        break;
    case T_RECORD:
        do_record(r, t);
        break;
    case T_RENEW:
    case T_RELEASE:
        do_lease(r, t, t->kind == T_RELEASE);
        break;
    case T_HEARTBEAT:
        r->stats.heartbeats++;
        snprintf(r->stats.status, sizeof(r->stats.status), "%s", t->status);
        t->cb.count(r->base.owner, 0, NULL);
        break;
    case T_SCHEDULE:
        t->cb.ids(r->base.owner, NULL, 0, NULL); /* campaigns are added running */
        break;
    case T_FINISH:
        do_finish(r, t);
        break;
    case T_RUNNING:
        do_running(r, t);
        break;
    case T_HELD:
        do_held(r, t);
        break;
    case T_RELAYS:
        r->stats.relay_reads++;
        t->cb.relays(r->base.owner, relay_defs_copy(r->relays, r->nrelays), r->nrelays, NULL);
        break;
    }
}

/* answer what is due, in order; a callback may ask more (answered at a later turn) */
static void answer(uv_timer_t *timer)
{
    struct backend_ram *r = timer->data;
    uint64_t now = uv_now(r->loop);
    struct task *last = r->tail;
    while (r->head && !r->down && !r->closed && r->head->at <= now) {
        struct task *t = r->head;
        r->head = t->next;
        if (!r->head)
            r->tail = NULL;
        bool was_last = t == last;
        run_task(r, t);
        xfree(t);
        if (was_last)
            break;
    }
    arm(r);
}

static bool ram_ready(struct send_backend *b)
{
    return !((struct backend_ram *)b)->down;
}

static bool ram_idle(struct send_backend *b)
{
    return ((struct backend_ram *)b)->head == NULL;
}

static void ram_claim(struct send_backend *b, const char *owner, unsigned limit, unsigned lease_s, backend_rows_cb cb)
{
    struct task *t = ask((struct backend_ram *)b, T_CLAIM, owner);
    t->limit = limit;
    t->lease_s = lease_s;
    t->cb.rows = cb;
}

static void ram_record(struct send_backend *b, struct ledger_batch *batch, const char *owner, unsigned max_age_s,
                       backend_done_cb cb, void *arg)
{
    struct task *t = ask((struct backend_ram *)b, T_RECORD, owner);
    t->batch = batch;
    t->max_age_s = max_age_s;
    t->cb.done = cb;
    t->arg = arg;
}

static void ram_renew(struct send_backend *b, const char *owner, unsigned lease_s, backend_done_cb cb)
{
    struct task *t = ask((struct backend_ram *)b, T_RENEW, owner);
    t->lease_s = lease_s;
    t->cb.done = cb;
}

static void ram_release(struct send_backend *b, const char *owner, backend_done_cb cb)
{
    ask((struct backend_ram *)b, T_RELEASE, owner)->cb.done = cb;
}

static unsigned ram_session(struct send_backend *b)
{
    struct backend_ram *r = (struct backend_ram *)b;
    return r->down ? 0 : r->session;
}

static void ram_held(struct send_backend *b, const char *owner, backend_held_cb cb)
{
    ask((struct backend_ram *)b, T_HELD, owner)->cb.held = cb;
}

static void ram_heartbeat(struct send_backend *b, const char *owner, const char *host, int pid, const char *status,
                          backend_count_cb cb)
{
    (void)host, (void)pid;
    struct task *t = ask((struct backend_ram *)b, T_HEARTBEAT, owner);
    snprintf(t->status, sizeof(t->status), "%s", status);
    t->cb.count = cb;
}

static void ram_schedule(struct send_backend *b, unsigned chunk, backend_ids_cb cb)
{
    (void)chunk;
    ask((struct backend_ram *)b, T_SCHEDULE, NULL)->cb.ids = cb;
}

static void ram_finish(struct send_backend *b, backend_ids_cb cb)
{
    ask((struct backend_ram *)b, T_FINISH, NULL)->cb.ids = cb;
}

static void ram_running(struct send_backend *b, backend_count_cb cb)
{
    ask((struct backend_ram *)b, T_RUNNING, NULL)->cb.count = cb;
}

static void ram_relays(struct send_backend *b, backend_relays_cb cb)
{
    ask((struct backend_ram *)b, T_RELAYS, NULL)->cb.relays = cb;
}

static int ram_prepare(struct send_backend *b, uint64_t id, struct prepared_campaign *pc, bool *unsigned_warning,
                       char *err, size_t errlen)
{
    struct backend_ram *r = (struct backend_ram *)b;
    json_t *row = NULL;
    *unsigned_warning = false; /* the test's campaigns are unsigned on purpose: no warning */
    pthread_mutex_lock(&r->lock);
    r->stats.prepares++;
    for (size_t i = 0; i < r->ncamps; i++)
        if (r->camps[i].id == id)
            row = json_deep_copy(r->camps[i].row);
    pthread_mutex_unlock(&r->lock);
    if (!row) {
        snprintf(err, errlen, "no campaign %llu", (unsigned long long)id);
        return -1;
    }
    int rc = campaign_prepare_row(row, pc, err, errlen);
    json_decref(row);
    return rc;
}

static void on_timer_closed(uv_handle_t *h)
{
    struct backend_ram *r = h->data;
    if (r->closed_cb)
        r->closed_cb(r->base.owner);
}

static void ram_close(struct send_backend *b, backend_closed_cb cb)
{
    struct backend_ram *r = (struct backend_ram *)b;
    r->closed = true;
    r->closed_cb = cb;
    while (r->head) {
        struct task *t = r->head;
        r->head = t->next;
        xfree(t);
    }
    r->tail = NULL;
    uv_close((uv_handle_t *)&r->timer, on_timer_closed);
}

static void ram_free(struct send_backend *b)
{
    struct backend_ram *r = (struct backend_ram *)b;
    for (size_t i = 0; i < r->ncamps; i++)
        json_decref(r->camps[i].row);
    for (size_t i = 0; i < r->ndels; i++) {
        xfree(r->dels[i].email);
        xfree(r->dels[i].name);
    }
    xfree(r->camps);
    xfree(r->dels);
    relay_defs_free(r->relays, r->nrelays);
    pthread_mutex_destroy(&r->lock);
    xfree(r);
}

static const struct send_backend_ops ram_ops = {
    .ready = ram_ready,
    .idle = ram_idle,
    .claim = ram_claim,
    .record = ram_record,
    .renew = ram_renew,
    .release = ram_release,
    .heartbeat = ram_heartbeat,
    .schedule = ram_schedule,
    .finish = ram_finish,
    .running = ram_running,
    .relays = ram_relays,
    .prepare = ram_prepare,
    .close = ram_close,
    .free = ram_free,
};

/* with locks (backend_ram_locks): the same table, and the connection's session and the leases kept */
static const struct send_backend_ops ram_lock_ops = {
    .ready = ram_ready,
    .idle = ram_idle,
    .claim = ram_claim,
    .record = ram_record,
    .renew = ram_renew,
    .release = ram_release,
    .session = ram_session,
    .held = ram_held,
    .heartbeat = ram_heartbeat,
    .schedule = ram_schedule,
    .finish = ram_finish,
    .running = ram_running,
    .relays = ram_relays,
    .prepare = ram_prepare,
    .close = ram_close,
    .free = ram_free,
};

/* backend_ram_new - see backend_ram.h. */
struct send_backend *backend_ram_new(uv_loop_t *loop)
{
    struct backend_ram *r = xcalloc(1, sizeof(*r));
    r->base.ops = &ram_ops;
    r->loop = loop;
    pthread_mutex_init(&r->lock, NULL);
    uv_timer_init(loop, &r->timer);
    r->timer.data = r;
    return &r->base;
}

/* backend_ram_campaign - see backend_ram.h. */
void backend_ram_campaign(struct send_backend *b, json_t *row)
{
    struct backend_ram *r = (struct backend_ram *)b;
    const char *kind = json_string_value(json_object_get(row, "kind"));
    pthread_mutex_lock(&r->lock);
    r->camps = xrealloc(r->camps, (r->ncamps + 1) * sizeof(*r->camps));
    r->camps[r->ncamps++] = (struct ram_campaign){ .id = (uint64_t)json_integer_value(json_object_get(row, "id")),
                                                   .row = json_incref(row),
                                                   .tx = kind && strcmp(kind, "tx") == 0 };
    pthread_mutex_unlock(&r->lock);
}

/* backend_ram_delivery - see backend_ram.h. */
uint64_t backend_ram_delivery(struct send_backend *b, uint64_t campaign_id, const char *email)
{
    struct backend_ram *r = (struct backend_ram *)b;
    r->dels = xrealloc(r->dels, (r->ndels + 1) * sizeof(*r->dels));
    struct ram_delivery *d = &r->dels[r->ndels++];
    memset(d, 0, sizeof(*d));
    d->id = r->ndels;
    d->campaign_id = campaign_id;
    d->email = xstrdup(email);
    snprintf(d->state, sizeof(d->state), "queued");
    d->created = d->due = uv_now(r->loop);
    if (campaign(r, campaign_id))
        campaign(r, campaign_id)->finished = false;
    return d->id;
}

/* backend_ram_name - see backend_ram.h. */
void backend_ram_name(struct send_backend *b, uint64_t id, const char *name)
{
    struct backend_ram *r = (struct backend_ram *)b;
    struct ram_delivery *d = &r->dels[id - 1];
    xfree(d->name);
    d->name = xstrdup(name);
}

/* backend_ram_relays - see backend_ram.h. */
void backend_ram_relays(struct send_backend *b, const struct relay_def *defs, size_t n)
{
    struct backend_ram *r = (struct backend_ram *)b;
    relay_defs_free(r->relays, r->nrelays);
    r->relays = relay_defs_copy(defs, n);
    r->nrelays = n;
}

/* backend_ram_down - see backend_ram.h. */
void backend_ram_down(struct send_backend *b, bool down)
{
    struct backend_ram *r = (struct backend_ram *)b;
    bool up = r->down && !down;
    if (up && r->session)
        r->session++;   /* a new connection: the lock is to be taken again */
    r->down = down;
    arm(r);
    if (up && r->base.on_ready && r->base.owner)
        r->base.on_ready(r->base.owner); /* as the database's backend says when its claim connection is set up */
}

/* backend_ram_locks - see backend_ram.h. */
void backend_ram_locks(struct send_backend *b)
{
    struct backend_ram *r = (struct backend_ram *)b;
    r->base.ops = &ram_lock_ops;
    r->session = 1;
}

/* backend_ram_take_over - see backend_ram.h. */
void backend_ram_take_over(struct send_backend *b, const char *owner)
{
    struct backend_ram *r = (struct backend_ram *)b;
    for (size_t i = 0; i < r->ndels; i++)
        if (pending(&r->dels[i]) && strcmp(r->dels[i].owner, owner) == 0)
            r->dels[i].owner[0] = 0, r->dels[i].lease_until = 0;
}

/* backend_ram_latency - see backend_ram.h. */
void backend_ram_latency(struct send_backend *b, unsigned ms)
{
    ((struct backend_ram *)b)->latency_ms = ms;
}

/* backend_ram_fail - see backend_ram.h. */
void backend_ram_fail(struct send_backend *b, unsigned n)
{
    ((struct backend_ram *)b)->fail_records = n;
}

/* backend_ram_get - see backend_ram.h. */
const struct ram_delivery *backend_ram_get(struct send_backend *b, uint64_t id)
{
    struct backend_ram *r = (struct backend_ram *)b;
    return id >= 1 && id <= r->ndels ? &r->dels[id - 1] : NULL;
}

/* backend_ram_count - see backend_ram.h. */
size_t backend_ram_count(struct send_backend *b, const char *state, size_t *nleased)
{
    struct backend_ram *r = (struct backend_ram *)b;
    size_t n = 0, l = 0;
    for (size_t i = 0; i < r->ndels; i++)
        if (strcmp(r->dels[i].state, state) == 0) {
            n++;
            l += leased(&r->dels[i], uv_now(r->loop));
        }
    if (nleased)
        *nleased = l;
    return n;
}

/* backend_ram_stats - see backend_ram.h. */
const struct ram_stats *backend_ram_stats(struct send_backend *b)
{
    return &((struct backend_ram *)b)->stats;
}
