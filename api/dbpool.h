/*
 * dbpool - a bounded pool of blocking PostgreSQL connections for API threads.
 *
 * dbpool_new   a pool of at most SIZE connections to CONNINFO (opened lazily)
 * dbpool_get   borrow a connection, waiting up to TIMEOUT_MS for one to be
 *              free; NULL when none came free or the server cannot be reached
 * dbpool_put   give it back; a broken one is closed and re-opened on next use,
 *              an open transaction rolled back
 * dbpool_free  close every connection (none may be borrowed)
 *
 * Safe to call from any number of threads.
 */
#ifndef POSTINO_API_DBPOOL_H
#define POSTINO_API_DBPOOL_H

#include <libpq-fe.h>

struct dbpool;

struct dbpool *dbpool_new(const char *conninfo, unsigned size);
PGconn *dbpool_get(struct dbpool *p, unsigned timeout_ms);
void dbpool_put(struct dbpool *p, PGconn *conn);
void dbpool_free(struct dbpool *p);

#endif
