/*
 * dbpool - N slots under one mutex; a condition variable wakes a waiter when
 * a slot is returned. Connecting happens outside the lock (a slot is
 * reserved first), so one slow server does not stall the other threads.
 * Failures to connect are logged once a line, without the password.
 * When one connection is found broken, or a connection cannot be made, the
 * server probably went away: the pool's epoch moves on and every idle
 * connection opened before is closed when next taken, instead of failing
 * one request each after the server is back.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "api/dbpool.h"
#include "engine/store/pg.h"
#include "engine/util/alloc.h"
#include "engine/util/log.h"

struct dbslot {
    PGconn *conn;      /* NULL: not open */
    bool busy;
    unsigned epoch;    /* the pool's epoch when conn was opened */
};

struct dbpool {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    char *conninfo;
    unsigned size;
    struct dbslot *slots;
    unsigned epoch;    /* bumped when the server is found gone */
};

/* dbpool_new - see dbpool.h; SIZE 0 is taken as 1. */
struct dbpool *dbpool_new(const char *conninfo, unsigned size)
{
    struct dbpool *p = xcalloc(1, sizeof(*p));
    pthread_condattr_t ca;
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->freed, &ca);
    pthread_condattr_destroy(&ca);
    p->conninfo = xstrdup(conninfo);
    p->size = size ? size : 1;
    p->slots = xcalloc(p->size, sizeof(*p->slots));
    return p;
}

static struct dbslot *slot_of(struct dbpool *p, PGconn *conn)
{
    for (unsigned i = 0; i < p->size; i++)
        if (p->slots[i].busy && p->slots[i].conn == conn)
            return &p->slots[i];
    return NULL;
}

/*
 * idle_alive - whether the idle CONN still has its server. A server that
 * went away (restart, idle timeout) shows it only when the socket is read,
 * and often in two steps: its last words (a FATAL message) and then the end
 * of the stream. An idle pool connection expects nothing, so the socket is
 * read as long as it is readable; the end shows as a failed read.
 */
static bool idle_alive(PGconn *conn)
{
    for (int i = 0; i < 8; i++) {
        struct pollfd pfd = { .fd = PQsocket(conn), .events = POLLIN };
        if (pfd.fd < 0)
            return false;
        int n = poll(&pfd, 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (!PQconsumeInput(conn))
            return false;
    }
    return PQstatus(conn) == CONNECTION_OK;
}

/* dbpool_get - a connection, or NULL after TIMEOUT_MS or when connecting fails. */
PGconn *dbpool_get(struct dbpool *p, unsigned timeout_ms)
{
    struct timespec until;
    struct dbslot *s = NULL;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L)
        until.tv_sec++, until.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        /* an open idle connection first, then an empty slot */
        for (unsigned i = 0; i < p->size && !s; i++)
            if (!p->slots[i].busy && p->slots[i].conn)
                s = &p->slots[i];
        for (unsigned i = 0; i < p->size && !s; i++)
            if (!p->slots[i].busy)
                s = &p->slots[i];
        if (s)
            break;
        if (pthread_cond_timedwait(&p->freed, &p->lock, &until) == ETIMEDOUT) {
            pthread_mutex_unlock(&p->lock);
            log_warn("api: no database connection came free within %u ms", timeout_ms);
            return NULL;
        }
    }
    s->busy = true;
    PGconn *conn = s->conn;
    /* opened before the server was last found gone: likely dead too */
    bool stale = conn && s->epoch != p->epoch;
    unsigned epoch = p->epoch;
    pthread_mutex_unlock(&p->lock);
    if (conn && (stale || !idle_alive(conn))) {
        if (!stale)
            epoch++;
        PQfinish(conn);
        conn = NULL;
    }
    if (!conn) {
        char err[512];
        conn = pg_connect(p->conninfo, err, sizeof(err));
        if (!conn)
            log_error("api: %s", err);
    }
    pthread_mutex_lock(&p->lock);
    if (!conn)
        epoch++;
    if (epoch > p->epoch)
        p->epoch = epoch;
    s->conn = conn;
    s->epoch = p->epoch;
    if (!conn) {
        s->busy = false;
        pthread_cond_signal(&p->freed);
    }
    pthread_mutex_unlock(&p->lock);
    return conn;
}

/* dbpool_put - return CONN to P. */
void dbpool_put(struct dbpool *p, PGconn *conn)
{
    if (!conn)
        return;
    if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE)
        pg_rollback(conn);
    pthread_mutex_lock(&p->lock);
    struct dbslot *s = slot_of(p, conn);
    if (!s)
        log_panic("dbpool_put: a connection the pool did not lend");
    if (PQstatus(conn) != CONNECTION_OK || PQtransactionStatus(conn) != PQTRANS_IDLE) {
        if (PQstatus(conn) != CONNECTION_OK)
            p->epoch++;
        PQfinish(conn);
        s->conn = NULL;
    }
    s->busy = false;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
}

/* dbpool_free - close P's connections and free it (NULL is fine). */
void dbpool_free(struct dbpool *p)
{
    if (!p)
        return;
    for (unsigned i = 0; i < p->size; i++)
        if (p->slots[i].conn)
            PQfinish(p->slots[i].conn);
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->lock);
    xfree(p->slots);
    xfree(p->conninfo);
    xfree(p);
}
