/*
 * dbq - a queue of statements run one after another on one asynchronous
 * PostgreSQL connection (pg_async), opened again when it is lost.
 *
 * dbq_init        set up a queue on a loop and start connecting; reports nothing
 * dbq_push        queue one statement (parameters copied); its callback gets the result
 * dbq_push_named  the same, prepared once per connection under a name
 * dbq_ready       is the connection open and set up, taking statements
 * dbq_session     which connection is open: 1 for the first, one more for each one after (0: none)
 * dbq_idle        is nothing queued and nothing in flight
 * dbq_close       drop what is queued, close the connection; CLOSE_CB runs once its timer is closed
 *
 * Failures are not returned: a connection that fails to open or is lost is
 * logged as a warning naming the queue (WHAT, e.g. "sender: claim"), and
 * opened again after 250 ms, then twice as long each time up to 10 s; the
 * statement that was in flight is sent again on the new connection, and the
 * queue goes on. A callback gets every result, error results included (never
 * NULL: check it with pg_ok), with the OWNER given to dbq_init; the queue
 * PQclear()s it once the callback returns. Statements still queued at
 * dbq_close are dropped and their callbacks never called. A queue stays
 * allocated until its loop has no handles left (uv_run has returned).
 */
#ifndef POSTINO_STORE_DBQ_H
#define POSTINO_STORE_DBQ_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <uv.h>

typedef void (*dbq_cb)(void *owner, PGresult *res, void *arg);
typedef void (*dbq_close_cb)(void *owner);

struct dbq_task;
struct pg_async;

/* A queue, embedded by its owner; the fields are dbq's own (read dbq_ready and dbq_idle), but on_ready, which
 * the owner may set after dbq_init. */
struct dbq {
    void *owner;              /* handed to every callback */
    const char *what;         /* names the queue in log lines */
    uv_loop_t *loop;
    const char *conninfo;     /* the caller's, outliving the queue */
    struct pg_async *pa;
    bool ready, busy, closing;
    struct dbq_task *head, *tail;
    uv_timer_t retry;
    unsigned backoff_ms;
    unsigned opened;          /* connections set up so far */
    dbq_close_cb close_cb;
    void (*on_ready)(void *owner); /* optional, the owner's: a connection was set up (after the queued statements went) */
};

/* dbq_init - set up Q on LOOP for CONNINFO and start connecting; callbacks get OWNER, log lines name WHAT. */
void dbq_init(struct dbq *q, uv_loop_t *loop, const char *conninfo, void *owner, const char *what);
/* dbq_push - queue SQL with N parameters (copied) on Q; CB gets the result (never NULL). */
void dbq_push(struct dbq *q, const char *sql, int n, const char *const *params, dbq_cb cb, void *arg);
/* dbq_push_named - as dbq_push, SQL prepared once per connection under NAME (a string outliving Q). */
void dbq_push_named(struct dbq *q, const char *name, const char *sql, int n, const char *const *params,
                    dbq_cb cb, void *arg);
/* dbq_ready - whether Q's connection is open and set up. */
bool dbq_ready(const struct dbq *q);
/* dbq_session - the number of Q's open connection (1, 2, … as they were opened), or 0 while it has none. */
unsigned dbq_session(const struct dbq *q);
/* dbq_idle - whether Q has nothing queued and nothing in flight. */
bool dbq_idle(const struct dbq *q);
/* dbq_close - drop what Q has queued and close it; CB(owner) (may be NULL) runs once its timer is closed. */
void dbq_close(struct dbq *q, dbq_close_cb cb);

#endif
