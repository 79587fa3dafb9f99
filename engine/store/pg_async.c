/*
 * pg_async - libpq's asynchronous API on a libuv poll handle.
 *
 * States: connecting (PQconnectPoll drives the poll events), idle, busy
 * (a query sent; flushing, then reading results until PQgetResult gives
 * NULL), closing. Errors are reported through the callbacks; the message
 * is kept for pg_async_error(). libpq's connect_timeout binds only its
 * blocking calls: here a timer holds the connecting state to it.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/store/pg.h"
#include "engine/store/pg_async.h"
#include "engine/util/alloc.h"

enum pa_state { PA_CONNECTING, PA_IDLE, PA_BUSY, PA_CLOSING, PA_BROKEN };

#define PA_MAX_PREPARED 8

struct pg_async {
    uv_poll_t poll;
    uv_timer_t connect_timer;  /* connect_timeout, while connecting */
    int open_handles;          /* of poll and connect_timer, not yet closed */
    uv_loop_t *loop;
    PGconn *conn;
    int fd;
    enum pa_state state;
    char *describe;
    char error[512];
    pg_async_open_cb open_cb;
    void *open_arg;
    pg_async_query_cb query_cb;
    void *query_arg;
    PGresult *result;
    const char *prepared[PA_MAX_PREPARED]; /* names prepared on this connection */
    int nprepared;
    /* a statement being prepared, to execute once it is: name and parameter copies */
    const char *pending_name;
    int pending_n;
    char **pending_params;
    pg_async_close_cb close_cb;
    void *close_arg;
};

static void pa_on_poll(uv_poll_t *h, int status, int events);

static void pa_set_error(struct pg_async *pa, const char *msg)
{
    size_t n = strcspn(msg, "\n");
    if (n >= sizeof(pa->error))
        n = sizeof(pa->error) - 1;
    memcpy(pa->error, msg, n);
    pa->error[n] = 0;
}

static void pa_watch(struct pg_async *pa, int events)
{
    uv_poll_start(&pa->poll, events, pa_on_poll);
}

static void pa_connect_step(struct pg_async *pa)
{
    PostgresPollingStatusType st = PQconnectPoll(pa->conn);
    if (PQsocket(pa->conn) != pa->fd && st != PGRES_POLLING_FAILED) {
        /* libpq moved to another socket (next host): not supported on one handle. */
        pa_set_error(pa, "connection switched sockets; name a single host");
        st = PGRES_POLLING_FAILED;
    }
    switch (st) {
    case PGRES_POLLING_READING:
        pa_watch(pa, UV_READABLE);
        return;
    case PGRES_POLLING_WRITING:
        pa_watch(pa, UV_WRITABLE);
        return;
    case PGRES_POLLING_OK:
        PQsetnonblocking(pa->conn, 1);
        pa->state = PA_IDLE;
        uv_poll_stop(&pa->poll);
        uv_timer_stop(&pa->connect_timer);
        pa->open_cb(pa, 0, pa->open_arg);
        return;
    default:
        if (!pa->error[0]) {
            const char *msg = PQerrorMessage(pa->conn);
            const char *tail = strstr(msg, " failed: ");
            pa_set_error(pa, tail ? tail + 9 : msg);
        }
        pa->state = PA_BROKEN;
        uv_poll_stop(&pa->poll);
        uv_timer_stop(&pa->connect_timer);
        pa->open_cb(pa, -1, pa->open_arg);
    }
}

/* connect_timeout ran out while connecting (an address that drops every packet): a failed open */
static void pa_on_connect_timeout(uv_timer_t *t)
{
    struct pg_async *pa = t->data;
    if (pa->state != PA_CONNECTING)
        return;
    pa_set_error(pa, "timeout expired");
    pa->state = PA_BROKEN;
    uv_poll_stop(&pa->poll);
    pa->open_cb(pa, -1, pa->open_arg);
}

/* the seconds of CONN's connect_timeout (0: none) */
static unsigned pa_connect_timeout(PGconn *conn)
{
    unsigned s = 0;
    PQconninfoOption *opts = PQconninfo(conn);
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, "connect_timeout") == 0 && o->val)
            s = (unsigned)strtoul(o->val, NULL, 10);
    PQconninfoFree(opts);
    return s;
}

static void pa_pending_free(struct pg_async *pa)
{
    for (int i = 0; i < pa->pending_n; i++)
        xfree(pa->pending_params[i]);
    xfree(pa->pending_params);
    pa->pending_params = NULL;
    pa->pending_n = 0;
    pa->pending_name = NULL;
}

/* the statement PA prepared is ready: remember it and execute it; false when that cannot be sent */
static bool pa_execute_pending(struct pg_async *pa)
{
    if (pa->nprepared < PA_MAX_PREPARED)
        pa->prepared[pa->nprepared++] = pa->pending_name;
    int ok = PQsendQueryPrepared(pa->conn, pa->pending_name, pa->pending_n,
                                 (const char *const *)pa->pending_params, NULL, NULL, 0);
    pa_pending_free(pa);
    if (!ok)
        return false;
    PQclear(pa->result);
    pa->result = NULL;
    pa_watch(pa, UV_READABLE | UV_WRITABLE);
    return true;
}

static void pa_finish_query(struct pg_async *pa, PGresult *res)
{
    pg_async_query_cb cb = pa->query_cb;
    void *arg = pa->query_arg;
    pa->query_cb = NULL;
    pa->result = NULL;
    uv_poll_stop(&pa->poll);
    cb(pa, res, arg);
}

static void pa_query_step(struct pg_async *pa, int events)
{
    if (events & UV_WRITABLE) {
        int f = PQflush(pa->conn);
        if (f < 0)
            goto lost;
        if (f == 0)
            pa_watch(pa, UV_READABLE);
    }
    if (events & UV_READABLE) {
        if (!PQconsumeInput(pa->conn))
            goto lost;
        while (!PQisBusy(pa->conn)) {
            PGresult *r = PQgetResult(pa->conn);
            if (!r) {
                if (pa->pending_name && pa->result && PQresultStatus(pa->result) == PGRES_COMMAND_OK) {
                    if (!pa_execute_pending(pa))
                        goto lost;
                    return;
                }
                pa_pending_free(pa);
                pa->state = PA_IDLE;
                pa_finish_query(pa, pa->result);
                return;
            }
            if (!pg_ok(r))
                pa_set_error(pa, pg_errmsg(pa->conn, r));
            PQclear(pa->result);
            pa->result = r;
        }
    }
    return;
lost:
    pa_set_error(pa, PQerrorMessage(pa->conn));
    pa->state = PA_BROKEN;
    pa_pending_free(pa);
    PQclear(pa->result);
    pa_finish_query(pa, NULL);
}

static void pa_on_poll(uv_poll_t *h, int status, int events)
{
    struct pg_async *pa = h->data;
    if (status < 0)
        events = UV_READABLE | UV_WRITABLE; /* let libpq find the error */
    if (pa->state == PA_CONNECTING)
        pa_connect_step(pa);
    else if (pa->state == PA_BUSY)
        pa_query_step(pa, events);
    else
        uv_poll_stop(&pa->poll);
}

/*
 * pg_async_open - start connecting to CONNINFO on LOOP; *OUT is set at once.
 * Returns 0 (CB is called later with 0 or -1) or a negative error (CB never
 * called, *OUT NULL). Either way the handle, when set, is closed with pg_async_close.
 */
int pg_async_open(uv_loop_t *loop, const char *conninfo, pg_async_open_cb cb, void *arg,
                  struct pg_async **out)
{
    *out = NULL;
    const char *keys[PG_CONN_PARAMS_MAX], *vals[PG_CONN_PARAMS_MAX];
    pg_conn_params(conninfo, keys, vals);
    PGconn *conn = PQconnectStartParams(keys, vals, 1);
    if (!conn)
        return UV_ENOMEM;
    if (PQstatus(conn) == CONNECTION_BAD || PQsocket(conn) < 0) {
        PQfinish(conn);
        return UV_ECONNREFUSED;
    }
    struct pg_async *pa = xcalloc(1, sizeof(*pa));
    pa->loop = loop;
    pa->conn = conn;
    pa->fd = PQsocket(conn);
    pa->state = PA_CONNECTING;
    pa->open_cb = cb;
    pa->open_arg = arg;
    pa->describe = pg_conninfo_describe(conninfo);
    int rc = uv_poll_init(loop, &pa->poll, pa->fd);
    if (rc < 0) {
        PQfinish(conn);
        xfree(pa->describe);
        xfree(pa);
        return rc;
    }
    pa->poll.data = pa;
    uv_timer_init(loop, &pa->connect_timer);
    pa->connect_timer.data = pa;
    pa->open_handles = 2;
    unsigned timeout_s = pa_connect_timeout(conn);
    if (timeout_s > 0)
        uv_timer_start(&pa->connect_timer, pa_on_connect_timeout, timeout_s * 1000u, 0);
    pa_watch(pa, UV_WRITABLE);
    *out = pa;
    return 0;
}

/* after a PQsend* call that returned OK: PA is busy with it until its results are read */
static int pa_sent(struct pg_async *pa, int ok, pg_async_query_cb cb, void *arg)
{
    if (!ok) {
        pa_set_error(pa, PQerrorMessage(pa->conn));
        return UV_EIO;
    }
    pa->state = PA_BUSY;
    pa->query_cb = cb;
    pa->query_arg = arg;
    pa->error[0] = 0;
    pa_watch(pa, UV_READABLE | UV_WRITABLE);
    return 0;
}

/* pg_async_query - send SQL with NPARAMS text parameters; see pg_async.h. */
int pg_async_query(struct pg_async *pa, const char *sql, int nparams, const char *const *params,
                   pg_async_query_cb cb, void *arg)
{
    if (pa->state != PA_IDLE)
        return pa->state == PA_BUSY ? UV_EBUSY : UV_ENOTCONN;
    return pa_sent(pa, PQsendQueryParams(pa->conn, sql, nparams, NULL, params, NULL, NULL, 0), cb, arg);
}

/*
 * pg_async_query_prepared - as pg_async_query, with SQL prepared once per
 * connection under NAME (a string that outlives PA): the first call prepares
 * it and then executes it, later ones only execute it, so the server plans
 * it once instead of for every batch.
 */
int pg_async_query_prepared(struct pg_async *pa, const char *name, const char *sql, int nparams,
                            const char *const *params, pg_async_query_cb cb, void *arg)
{
    if (pa->state != PA_IDLE)
        return pa->state == PA_BUSY ? UV_EBUSY : UV_ENOTCONN;
    bool known = false;
    for (int i = 0; i < pa->nprepared && !known; i++)
        known = strcmp(pa->prepared[i], name) == 0;
    if (!known && pa->nprepared == PA_MAX_PREPARED)
        return pg_async_query(pa, sql, nparams, params, cb, arg); /* no room to remember another */
    if (known)
        return pa_sent(pa, PQsendQueryPrepared(pa->conn, name, nparams, params, NULL, NULL, 0), cb, arg);
    int rc = pa_sent(pa, PQsendPrepare(pa->conn, name, sql, nparams, NULL), cb, arg);
    if (rc == 0) {
        pa->pending_name = name;
        pa->pending_n = nparams;
        pa->pending_params = xcalloc((size_t)(nparams ? nparams : 1), sizeof(char *));
        for (int i = 0; i < nparams; i++)
            pa->pending_params[i] = params[i] ? xstrdup(params[i]) : NULL;
    }
    return rc;
}

/* pg_async_busy - true while a statement is in flight. */
bool pg_async_busy(const struct pg_async *pa)
{
    return pa->state == PA_BUSY || pa->state == PA_CONNECTING;
}

/* pg_async_error - the last error, one line, or "" when none. */
const char *pg_async_error(const struct pg_async *pa)
{
    return pa->error;
}

/* pg_async_conn - the underlying libpq connection (for escaping, status). */
PGconn *pg_async_conn(struct pg_async *pa)
{
    return pa->conn;
}

static void pa_on_close(uv_handle_t *h)
{
    struct pg_async *pa = h->data;
    if (--pa->open_handles > 0)
        return;
    pg_async_close_cb cb = pa->close_cb;
    void *arg = pa->close_arg;
    PQclear(pa->result);
    pa_pending_free(pa);
    PQfinish(pa->conn);
    xfree(pa->describe);
    xfree(pa);
    if (cb)
        cb(arg);
}

/*
 * pg_async_close - close PA. A query in flight is abandoned and its callback
 * never called. PA is freed in the close callback, after which CB(ARG) runs.
 */
void pg_async_close(struct pg_async *pa, pg_async_close_cb cb, void *arg)
{
    if (pa->state == PA_CLOSING)
        return;
    pa->state = PA_CLOSING;
    pa->close_cb = cb;
    pa->close_arg = arg;
    uv_close((uv_handle_t *)&pa->poll, pa_on_close);
    uv_close((uv_handle_t *)&pa->connect_timer, pa_on_close);
}
