/*
 * dbq - a sequential statement queue over one asynchronous connection.
 *
 * dbq_init        set up a queue and start connecting
 * dbq_push        queue one statement
 * dbq_push_named  queue one statement, prepared once per connection
 * dbq_ready       is the connection open and set up
 * dbq_session     which connection is open (0: none)
 * dbq_idle        is nothing queued or in flight
 * dbq_close       drop what is queued and close
 *
 * The task at the head is the one in flight; it leaves the queue only when
 * its result comes, so a lost connection sends it again on the next one.
 */
#include <string.h>

#include "engine/store/dbq.h"
#include "engine/store/pg_async.h"
#include "engine/util/alloc.h"
#include "engine/util/log.h"

struct dbq_task {
    const char *name; /* prepared once per connection under this name; NULL: not prepared */
    const char *sql;
    int n;
    char **params;
    dbq_cb cb;
    void *arg;
    struct dbq_task *next;
};

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
        log_warn("%s database connection lost (%s); reconnecting", q->what, why);
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
    q->opened++;
    q->backoff_ms = 0;
    dbq_pump(q);
    if (q->on_ready)
        q->on_ready(q->owner);
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
    if (pg_async_open(q->loop, q->conninfo, dbq_on_open, q, &q->pa) < 0) {
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
    t->cb(q->owner, res, t->arg);
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
 * dbq_push_named - queue SQL with N parameters (copied) on Q; CB gets the
 * result (never NULL). With NAME, the statement is prepared once per
 * connection and planned once (the claim and the record, run for every
 * batch: planning them took about 20 microseconds of the server's time per
 * message).
 */
void dbq_push_named(struct dbq *q, const char *name, const char *sql, int n, const char *const *params,
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

/* dbq_push - dbq_push_named with no name: planned for every run. */
void dbq_push(struct dbq *q, const char *sql, int n, const char *const *params, dbq_cb cb, void *arg)
{
    dbq_push_named(q, NULL, sql, n, params, cb, arg);
}

/* dbq_init - set up Q on LOOP for CONNINFO (kept, not copied) and start connecting. */
void dbq_init(struct dbq *q, uv_loop_t *loop, const char *conninfo, void *owner, const char *what)
{
    memset(q, 0, sizeof(*q));
    q->owner = owner;
    q->what = what;
    q->loop = loop;
    q->conninfo = conninfo;
    uv_timer_init(loop, &q->retry);
    q->retry.data = q;
    dbq_connect(q);
}

/* dbq_ready - whether Q's connection is open and set up, taking statements. */
bool dbq_ready(const struct dbq *q)
{
    return q->ready;
}

/* dbq_session - which of Q's connections is open: 1, 2, … in the order they were set up; 0 while none is. */
unsigned dbq_session(const struct dbq *q)
{
    return q->ready ? q->opened : 0;
}

/* dbq_idle - whether Q has nothing queued and nothing in flight. */
bool dbq_idle(const struct dbq *q)
{
    return !q->head && !q->busy;
}

static void dbq_on_timer_closed(uv_handle_t *h)
{
    struct dbq *q = h->data;
    if (q->close_cb)
        q->close_cb(q->owner);
}

/*
 * dbq_close - drop what Q has queued (callbacks never called) and close its
 * connection, abandoning a statement in flight; CB(owner), when not NULL,
 * runs once Q's timer is closed.
 */
void dbq_close(struct dbq *q, dbq_close_cb cb)
{
    q->closing = true;
    uv_timer_stop(&q->retry);
    q->close_cb = cb;
    uv_close((uv_handle_t *)&q->retry, dbq_on_timer_closed);
    if (q->pa)
        pg_async_close(q->pa, NULL, NULL);
    q->pa = NULL;
    while (q->head) {
        struct dbq_task *t = q->head;
        q->head = t->next;
        dbq_task_free(t);
    }
}
