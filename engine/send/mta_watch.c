/*
 * mta_watch - Postfix's log followed into the ledger (see mta_watch.h).
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/mail/mta_log.h"
#include "engine/net/mta_tail.h"
#include "engine/send/mta_watch.h"
#include "engine/store/mta.h"
#include "engine/store/pg.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"
#include "engine/util/log.h"

struct events {
    struct mta_event *ev;
    long long *off;   /* where each event's line starts in its file */
    size_t n, cap;
};

/*
 * parse the lines in B (the bytes up to NEXT->read_to) into EVS; an event
 * newer than CUTOFF (when not 0) ends the batch before its line, moving
 * NEXT->read_to back to that line. The number of lines taken.
 */
static long parse_batch(const struct buf *b, time_t cutoff, struct mta_pos *next, struct events *evs)
{
    const char *p = b->data, *end = b->data + b->len;
    long lines = 0;
    time_t now = time(NULL);
    evs->n = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p + 1) : (size_t)(end - p);
        if (evs->n == evs->cap) {
            evs->cap = evs->cap ? evs->cap * 2 : 256;
            evs->ev = xrealloc(evs->ev, evs->cap * sizeof(*evs->ev));
            evs->off = xrealloc(evs->off, evs->cap * sizeof(*evs->off));
        }
        struct mta_event *ev = &evs->ev[evs->n];
        if (mta_log_parse(p, len, now, ev) == 1) {
            if (cutoff && ev->time > cutoff) {
                next->read_to -= (long long)(end - p);
                break;
            }
            evs->off[evs->n++] = next->read_to - (long long)(end - p);
        }
        lines++;
        p += len;
    }
    return lines;
}

/* mta_watch_once - see mta_watch.h. */
int mta_watch_once(PGconn *conn, const char *path, unsigned settle_s, struct mta_watch_stats *st, char *err,
                   size_t errlen)
{
    struct mta_pos pos, next;
    struct store_err e;
    struct buf b = BUF_INIT;
    struct events evs = { 0 };
    int rc = 0;
    if (store_mta_position_get(conn, path, &pos, &e) < 0) {
        snprintf(err, errlen, "%s", e.msg);
        return -1;
    }
    for (;;) {
        buf_reset(&b);
        int r = mta_tail_read(path, &pos, MTA_WATCH_BATCH, &b, &next, err, errlen);
        if (r <= 0) {
            rc = r < 0 ? -1 : 0;
            break;
        }
        long long read_to = next.read_to;
        long lines = parse_batch(&b, settle_s ? time(NULL) - (time_t)settle_s : 0, &next, &evs);
        bool held = next.read_to != read_to;
        if (next.inode == pos.inode && next.read_to == pos.read_to && strcmp(next.first_line, pos.first_line) == 0)
            break;   /* the first line is too new: wait */
        struct mta_apply_stats as = { 0 };
        if (store_mta_apply(conn, path, evs.ev, evs.off, evs.n, lines, &next, &as, &e) < 0) {
            snprintf(err, errlen, "%s", e.msg);
            rc = -1;
            break;
        }
        st->lines += lines;
        st->events += as.events;
        st->changed += as.changed;
        st->bounces += as.bounces;
        pos = next;
        if (held)
            break;
    }
    buf_free(&b);
    xfree(evs.ev);
    xfree(evs.off);
    return rc;
}

/* mta_watch_path_key - see mta_watch.h. */
char *mta_watch_path_key(const char *path)
{
    char *d = xstrdup(path), *b = xstrdup(path), real[PATH_MAX];
    char *key = realpath(dirname(d), real) ? xasprintf("%s/%s", strcmp(real, "/") == 0 ? "" : real, basename(b))
                                           : xstrdup(path);
    xfree(d);
    xfree(b);
    return key;
}

struct mta_watch {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    char *conninfo, *path;
    unsigned poll_ms, settle_s;
};

static void *watch_main(void *arg)
{
    struct mta_watch *w = arg;
    PGconn *conn = NULL;
    char err[512];
    bool warned = false;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        pthread_mutex_unlock(&w->mu);
        if (!conn)
            conn = pg_connect(w->conninfo, err, sizeof(err));
        struct mta_watch_stats st = { 0 };
        int rc = conn ? mta_watch_once(conn, w->path, w->settle_s, &st, err, sizeof(err)) : -1;
        if (rc < 0) {
            if (!warned)
                log_warn("mta: %s (trying again)", err);
            warned = true;
            if (conn && PQstatus(conn) != CONNECTION_OK) {
                PQfinish(conn);
                conn = NULL;
            }
        } else {
            warned = false;
            if (st.changed)
                log_info("mta: %ld log lines, %ld delivery events, %ld deliveries changed, %ld bounces", st.lines,
                         st.events, st.changed, st.bounces);
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += w->poll_ms / 1000;
        until.tv_nsec += (long)(w->poll_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&w->mu);
        while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&w->mu);
    if (conn)
        PQfinish(conn);
    return NULL;
}

/* mta_watch_start - see mta_watch.h. */
struct mta_watch *mta_watch_start(const char *conninfo, const char *path, unsigned poll_ms, unsigned settle_s,
                                  char *err, size_t errlen)
{
    struct mta_watch *w = xcalloc(1, sizeof(*w));
    w->conninfo = xstrdup(conninfo ? conninfo : "");
    w->path = mta_watch_path_key(path);
    w->poll_ms = poll_ms ? poll_ms : 1000;
    w->settle_s = settle_s;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    int rc = pthread_create(&w->thread, NULL, watch_main, w);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the log follower: %s", strerror(rc));
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        xfree(w->conninfo);
        xfree(w->path);
        xfree(w);
        return NULL;
    }
    log_info("mta: following %s", path);
    return w;
}

/* mta_watch_stop - see mta_watch.h. */
void mta_watch_stop(struct mta_watch *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    xfree(w->conninfo);
    xfree(w->path);
    xfree(w);
}
