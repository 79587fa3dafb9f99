/*
 * deadline - a list of the open connections, each with the phase its
 * request is in and since when, and a thread that shuts down the socket of
 * each one past its deadline (see deadline.h).
 *
 * A connection's deadline, by phase:
 *   first request's line and headers   start + header_s
 *   waiting for the next request line  done + idle_s + header_s (the server's own
 *                                      idle timeout closes a quiet one first)
 *   a later request's headers          request line + header_s
 *   body                               headers + body_s + received / min_rate
 *   answering                          none (the handler may take its time)
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "api/deadline.h"
#include "engine/util/alloc.h"
#include "engine/util/log.h"

enum phase { PHASE_FIRST, PHASE_WAIT, PHASE_HEADERS, PHASE_BODY, PHASE_ANSWER };

struct deadline {
    struct deadline *prev, *next;
    int fd;
    enum phase phase;
    uint64_t since_ms;     /* the phase's start */
    uint64_t body;         /* bytes of the body so far */
    bool cut;              /* its socket was shut down */
};

struct deadlines {
    struct deadline_limits lim;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool stopping;
    struct deadline *head;
    unsigned long long cut_headers, cut_body;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* when C is due, in now_ms's time; UINT64_MAX: never */
static uint64_t due(const struct deadlines *d, const struct deadline *c)
{
    switch (c->phase) {
    case PHASE_FIRST:
    case PHASE_HEADERS: return c->since_ms + (uint64_t)d->lim.header_s * 1000;
    case PHASE_WAIT: return c->since_ms + ((uint64_t)d->lim.idle_s + d->lim.header_s) * 1000;
    case PHASE_BODY: return c->since_ms + (uint64_t)d->lim.body_s * 1000 + c->body * 1000 / d->lim.min_rate;
    case PHASE_ANSWER: break;
    }
    return UINT64_MAX;
}

/* shut C's socket down (D locked) */
static void cut(struct deadlines *d, struct deadline *c)
{
    shutdown(c->fd, SHUT_RDWR);
    c->cut = true;
    if (c->phase == PHASE_BODY) {
        d->cut_body++;
        log_debug("api: a connection was cut off: its body came slower than %u bytes a second", d->lim.min_rate);
    } else {
        d->cut_headers++;
        log_debug("api: a connection was cut off: its request's headers took over %u s", d->lim.header_s);
    }
}

/*
 * the watcher: cut off whoever is due, then sleep until the next one is, or
 * a second at most (a deadline set meanwhile is a second away at least);
 * with nothing to watch, until a connection opens
 */
static void *watch(void *arg)
{
    struct deadlines *d = arg;
    pthread_mutex_lock(&d->lock);
    while (!d->stopping) {
        uint64_t now = now_ms(), next = now + 1000;
        for (struct deadline *c = d->head; c; c = c->next) {
            uint64_t t = c->cut ? UINT64_MAX : due(d, c);
            if (now >= t)
                cut(d, c);
            else if (t < next)
                next = t;
        }
        if (!d->head) {
            pthread_cond_wait(&d->wake, &d->lock);
            continue;
        }
        struct timespec until = { .tv_sec = (time_t)(next / 1000), .tv_nsec = (long)(next % 1000) * 1000000 };
        pthread_cond_timedwait(&d->wake, &d->lock, &until);
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

/* deadlines_start - a watcher for LIM, its thread running; the caller's to stop. Fatal when no thread can be made. */
struct deadlines *deadlines_start(const struct deadline_limits *lim)
{
    struct deadlines *d = xcalloc(1, sizeof(*d));
    d->lim = *lim;
    if (d->lim.min_rate == 0)
        d->lim.min_rate = 1;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&d->lock, NULL);
    if (pthread_create(&d->thread, NULL, watch, d) != 0)
        log_fatal("api: cannot start the thread watching slow requests");
    return d;
}

/* deadlines_stop - stop D's thread and free D (NULL is fine); no connection may be open. */
void deadlines_stop(struct deadlines *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    d->stopping = true;
    pthread_cond_signal(&d->wake);
    pthread_mutex_unlock(&d->lock);
    pthread_join(d->thread, NULL);
    while (d->head) {
        struct deadline *c = d->head;
        d->head = c->next;
        xfree(c);
    }
    pthread_cond_destroy(&d->wake);
    pthread_mutex_destroy(&d->lock);
    xfree(d);
}

/* deadline_open - watch the connection on FD, its first request due within header_s; D's until deadline_close. */
struct deadline *deadline_open(struct deadlines *d, int fd)
{
    struct deadline *c = xcalloc(1, sizeof(*c));
    c->fd = fd;
    c->phase = PHASE_FIRST;
    c->since_ms = now_ms();
    pthread_mutex_lock(&d->lock);
    c->next = d->head;
    if (d->head)
        d->head->prev = c;
    else
        pthread_cond_signal(&d->wake);   /* the watcher sleeps while there is nothing to watch */
    d->head = c;
    pthread_mutex_unlock(&d->lock);
    return c;
}

/* C enters PHASE since now (NULL C: nothing) */
static void set_phase(struct deadlines *d, struct deadline *c, enum phase phase)
{
    if (!c)
        return;
    pthread_mutex_lock(&d->lock);
    c->phase = phase;
    c->since_ms = now_ms();
    c->body = 0;
    pthread_mutex_unlock(&d->lock);
}

/* deadline_request - a request line arrived on C: a waiting connection's headers are due within header_s. */
void deadline_request(struct deadlines *d, struct deadline *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&d->lock);
    if (c->phase == PHASE_WAIT) {
        c->phase = PHASE_HEADERS;
        c->since_ms = now_ms();
    }
    pthread_mutex_unlock(&d->lock);
}

/* deadline_headers - C's headers are complete: its body is due within body_s and a second per min_rate bytes. */
void deadline_headers(struct deadlines *d, struct deadline *c)
{
    set_phase(d, c, PHASE_BODY);
}

/* deadline_body - N more bytes of C's body arrived. */
void deadline_body(struct deadlines *d, struct deadline *c, size_t n)
{
    if (!c)
        return;
    pthread_mutex_lock(&d->lock);
    c->body += n;
    pthread_mutex_unlock(&d->lock);
}

/* deadline_answer - C's request is whole: no deadline while it is answered. */
void deadline_answer(struct deadlines *d, struct deadline *c)
{
    set_phase(d, c, PHASE_ANSWER);
}

/* deadline_done - C's answer went out: it waits for its next request line. */
void deadline_done(struct deadlines *d, struct deadline *c)
{
    set_phase(d, c, PHASE_WAIT);
}

/* deadline_close - C's connection is closing, its socket still open: forget C and free it (NULL is fine). */
void deadline_close(struct deadlines *d, struct deadline *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&d->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        d->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&d->lock);
    xfree(c);
}

/* deadlines_metrics - append D's counts of connections cut off to OUT, in Prometheus text format. */
void deadlines_metrics(struct deadlines *d, struct buf *out)
{
    pthread_mutex_lock(&d->lock);
    unsigned long long h = d->cut_headers, b = d->cut_body;
    pthread_mutex_unlock(&d->lock);
    buf_appendf(out,
                "# HELP postino_http_timeouts_total Connections cut off because a request's headers or body came too "
                "slowly.\n# TYPE postino_http_timeouts_total counter\n"
                "postino_http_timeouts_total{phase=\"headers\"} %llu\npostino_http_timeouts_total{phase=\"body\"} %llu\n",
                h, b);
}
