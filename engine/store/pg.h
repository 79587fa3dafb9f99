/*
 * pg - PostgreSQL connections for blocking callers (the CLI).
 *
 * pg_conninfo_describe  the server a conninfo names, without its password
 * pg_password_set       the password every connection presents ([db] password_file)
 * pg_password           that password, or NULL
 * pg_conn_params        a conninfo as libpq keyword arrays: postino's TCP defaults
 *                       (keepalives, user and connect timeouts), then the conninfo's
 *                       own words (which win), then the password
 * pg_connect            open a connection; NULL and a one-line reason on failure
 * pg_exec               run one parameterised statement
 * pg_ok                 did a result succeed (command or tuples)
 * pg_sqlstate           the SQLSTATE of a failed result ("" when none)
 * pg_errmsg             the primary error message of a result, one line
 * pg_begin / pg_commit / pg_rollback   transaction control; 0 or -1
 *
 * Every value reaches the server as a parameter; no SQL is built from input.
 * The asynchronous side (for the libuv engine) is in pg_async.h.
 */
#ifndef POSTINO_STORE_PG_H
#define POSTINO_STORE_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#define PG_UNIQUE_VIOLATION "23505"
#define PG_FOREIGN_KEY_VIOLATION "23503"

/* room pg_conn_params needs in its arrays, the final NULL included */
#define PG_CONN_PARAMS_MAX 10

char *pg_conninfo_describe(const char *conninfo);
void pg_password_set(const char *password);
const char *pg_password(void);
void pg_conn_params(const char *conninfo, const char **keys, const char **vals);
PGconn *pg_connect(const char *conninfo, char *err, size_t errlen);
PGresult *pg_exec(PGconn *conn, const char *sql, int nparams, const char *const *params);
bool pg_ok(const PGresult *res);
const char *pg_sqlstate(const PGresult *res);
const char *pg_errmsg(PGconn *conn, const PGresult *res);
int pg_command(PGconn *conn, const char *sql, char *err, size_t errlen);
int pg_begin(PGconn *conn);
int pg_commit(PGconn *conn);
void pg_rollback(PGconn *conn);

#endif
