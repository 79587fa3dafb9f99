/*
 * deadline - connections whose request comes too slowly are cut off: its
 * line and headers must arrive within a time, its body at a least rate.
 * An idle timeout alone does not do it: a client sending a byte every few
 * seconds is never idle, and holds its connection for ever.
 *
 * deadlines_start    a watcher (a thread) for the limits in LIM
 * deadlines_stop     stop it and free it (NULL is fine); the connections are gone
 * deadline_open      watch a new connection on socket FD; its first request's
 *                    line and headers are due within header_s
 * deadline_request   the request line of a later request arrived (a kept-alive
 *                    connection may wait idle_s for it; its headers are due within
 *                    header_s of it)
 * deadline_headers   the headers are complete; the body is due within body_s,
 *                    and a second more for each min_rate bytes received
 * deadline_body      N more bytes of the body arrived
 * deadline_answer    the request is whole: no deadline while it is answered
 * deadline_done      the answer went out: the connection waits for the next request
 * deadline_close     the connection is closed (before its socket is): forget it
 * deadlines_metrics  append the count of connections cut off, by phase (Prometheus text)
 *
 * A connection past its deadline has its socket shut down (shutdown(2), both
 * ways), which the HTTP server sees as the client going away: it closes the
 * connection as it would any other. The socket is only ever shut between
 * deadline_open and deadline_close, under the same lock, so a number reused
 * by a new connection is never touched. The watcher wakes when the next
 * deadline is due, and at least once a second while there are connections.
 * Every function is safe from any thread.
 */
#ifndef POSTINO_API_DEADLINE_H
#define POSTINO_API_DEADLINE_H

#include <stddef.h>

#include "engine/util/buf.h"

struct deadline_limits {
    unsigned header_s;    /* a request's line and headers, at most (from the connection's start) */
    unsigned idle_s;      /* a kept-alive connection's wait for its next request line */
    unsigned body_s;      /* a body, at most, before the extension for what arrived */
    unsigned min_rate;    /* bytes of a body that earn it one second more (at least 1) */
};

struct deadlines;
struct deadline;

struct deadlines *deadlines_start(const struct deadline_limits *lim);
void deadlines_stop(struct deadlines *d);
struct deadline *deadline_open(struct deadlines *d, int fd);
void deadline_request(struct deadlines *d, struct deadline *c);
void deadline_headers(struct deadlines *d, struct deadline *c);
void deadline_body(struct deadlines *d, struct deadline *c, size_t n);
void deadline_answer(struct deadlines *d, struct deadline *c);
void deadline_done(struct deadlines *d, struct deadline *c);
void deadline_close(struct deadlines *d, struct deadline *c);
void deadlines_metrics(struct deadlines *d, struct buf *out);

#endif
