/*
 * metrics - the HTTP requests answered, counted by route and status.
 *
 * http_metrics_new    an empty set of counters for the route table ROUTES
 * http_metrics_count  count one answer (ROUTE: the index in ROUTES, or past its
 *                     end when no route matched)
 * http_metrics_print  append the counters in Prometheus text format
 * http_metrics_free   release them (NULL is fine)
 *
 * Safe to call from any number of threads.
 */
#ifndef POSTINO_API_METRICS_H
#define POSTINO_API_METRICS_H

#include <stddef.h>

#include "api/router.h"
#include "engine/util/buf.h"

struct http_metrics;

struct http_metrics *http_metrics_new(const struct api_route *routes);
void http_metrics_count(struct http_metrics *m, size_t route, int status);
void http_metrics_print(struct http_metrics *m, struct buf *out);
void http_metrics_free(struct http_metrics *m);

#endif
