/*
 * metrics - counters of answered requests, one per route and status seen
 * (a few dozen routes, a handful of statuses: a short array scanned under a
 * lock costs nothing beside a request).
 */
#include <pthread.h>

#include "api/metrics.h"
#include "engine/util/alloc.h"

struct http_count {
    size_t route;              /* index in the table; nroutes: no route */
    int status;
    unsigned long long n;
};

struct http_metrics {
    const struct api_route *routes;
    size_t nroutes;
    pthread_mutex_t lock;
    struct http_count *counts;
    size_t ncounts;
};

/* http_metrics_new - empty counters for ROUTES (ended by a NULL method), the caller's to free. */
struct http_metrics *http_metrics_new(const struct api_route *routes)
{
    struct http_metrics *m = xcalloc(1, sizeof(*m));
    m->routes = routes;
    while (routes[m->nroutes].method)
        m->nroutes++;
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

/* http_metrics_count - one more answer STATUS on ROUTE (nroutes or more: no route). */
void http_metrics_count(struct http_metrics *m, size_t route, int status)
{
    if (route > m->nroutes)
        route = m->nroutes;
    pthread_mutex_lock(&m->lock);
    size_t i;
    for (i = 0; i < m->ncounts; i++)
        if (m->counts[i].route == route && m->counts[i].status == status)
            break;
    if (i == m->ncounts) {
        m->counts = xrealloc(m->counts, (m->ncounts + 1) * sizeof(*m->counts));
        m->counts[i] = (struct http_count){ route, status, 0 };
        m->ncounts++;
    }
    m->counts[i].n++;
    pthread_mutex_unlock(&m->lock);
}

/* http_metrics_print - append M's counters to OUT in Prometheus text format. */
void http_metrics_print(struct http_metrics *m, struct buf *out)
{
    buf_appends(out, "# HELP postino_http_requests_total HTTP requests answered, by route and status.\n"
                     "# TYPE postino_http_requests_total counter\n");
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->ncounts; i++) {
        const struct http_count *c = &m->counts[i];
        if (c->route < m->nroutes)
            buf_appendf(out, "postino_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"} %llu\n",
                        m->routes[c->route].method, m->routes[c->route].pattern, c->status, c->n);
        else
            buf_appendf(out, "postino_http_requests_total{method=\"\",route=\"\",status=\"%d\"} %llu\n", c->status,
                        c->n);
    }
    pthread_mutex_unlock(&m->lock);
}

/* http_metrics_free - release M (NULL is fine). */
void http_metrics_free(struct http_metrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->lock);
    xfree(m->counts);
    xfree(m);
}
