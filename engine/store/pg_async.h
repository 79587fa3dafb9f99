/*
 * pg_async - a PostgreSQL connection driven by a libuv loop.
 *
 * pg_async_open   start connecting; CB reports success (0) or failure (-1), also when
 *                 the conninfo's connect_timeout runs out first ("timeout expired")
 * pg_async_query  send one parameterised statement; CB gets its result
 * pg_async_query_prepared  the same, prepared once per connection under a name
 * pg_async_busy   is a query in flight
 * pg_async_error  the last error, one line, without secrets
 * pg_async_close  close; CLOSE_CB (may be NULL) runs once the handle is freed
 *
 * libpq runs in non-blocking mode and its socket sits on a uv_poll_t, so the
 * loop never waits on the database. One statement is in flight at a time; a
 * second pg_async_query while busy returns UV_EBUSY and its callback is never
 * called. The result handed to a query callback is the caller's to PQclear();
 * it is NULL when the connection was lost.
 */
#ifndef POSTINO_STORE_PG_ASYNC_H
#define POSTINO_STORE_PG_ASYNC_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <uv.h>

struct pg_async;

typedef void (*pg_async_open_cb)(struct pg_async *pa, int status, void *arg);
typedef void (*pg_async_query_cb)(struct pg_async *pa, PGresult *res, void *arg);
typedef void (*pg_async_close_cb)(void *arg);

int pg_async_open(uv_loop_t *loop, const char *conninfo, pg_async_open_cb cb, void *arg,
                  struct pg_async **out);
int pg_async_query(struct pg_async *pa, const char *sql, int nparams, const char *const *params,
                   pg_async_query_cb cb, void *arg);
int pg_async_query_prepared(struct pg_async *pa, const char *name, const char *sql, int nparams,
                            const char *const *params, pg_async_query_cb cb, void *arg);
bool pg_async_busy(const struct pg_async *pa);
const char *pg_async_error(const struct pg_async *pa);
PGconn *pg_async_conn(struct pg_async *pa);
void pg_async_close(struct pg_async *pa, pg_async_close_cb cb, void *arg);

#endif
