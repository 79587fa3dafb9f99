/*
 * pg - blocking libpq helpers.
 *
 * Connection failures are reported in one line naming the server (host or
 * socket directory, port, database, user), never the password: libpq's own
 * message can span lines, so only its first line is kept.
 */
#include <stdio.h>
#include <string.h>

#include "engine/store/pg.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"

/*
 * pg_conninfo_describe - "host=H port=P dbname=D user=U" for CONNINFO (either
 * key=value form or a URI), leaving out the password and every other secret.
 * The caller frees the result.
 */
char *pg_conninfo_describe(const char *conninfo)
{
    static const char *const shown[] = { "host", "hostaddr", "port", "dbname", "user" };
    struct buf out = BUF_INIT;
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
    if (!opts) {
        PQfreemem(err);
        return xstrdup("(unparsable connection string)");
    }
    for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
        for (PQconninfoOption *o = opts; o->keyword; o++) {
            if (strcmp(o->keyword, shown[i]) == 0 && o->val && *o->val)
                buf_appendf(&out, "%s%s=%s", out.len ? " " : "", o->keyword, o->val);
        }
    }
    PQconninfoFree(opts);
    if (!out.len)
        buf_appends(&out, "(libpq defaults)");
    return buf_detach(&out, NULL);
}

/*
 * The password from [db] password_file: set once at start, before any
 * thread connects, then only read. It never goes into a conninfo string
 * (those reach log lines, and the command lines of psql and pg_dump).
 */
static char *pg_pass;

/* pg_password_set - PASSWORD (copied; NULL: none) is presented by every later connection. */
void pg_password_set(const char *password)
{
    xfree(pg_pass);
    pg_pass = password ? xstrdup(password) : NULL;
}

/* pg_password - the password set by pg_password_set, or NULL. */
const char *pg_password(void)
{
    return pg_pass;
}

/*
 * A sender on another machine must notice within seconds that the network
 * to its database is gone, and reconnect when it is back, instead of
 * waiting for the kernel's TCP timeouts (minutes, hours for an idle
 * connection): keepalives after 5 s of silence, every 2 s, 3 unanswered
 * ones end the connection; data unacknowledged for 10 s ends it; a
 * connection not made in 10 s fails. A conninfo naming any of these wins.
 * They mean nothing on a unix socket.
 */
static const char *const pg_tcp_defaults[][2] = {
    { "connect_timeout", "10" },  { "keepalives", "1" },       { "keepalives_idle", "5" },
    { "keepalives_interval", "2" }, { "keepalives_count", "3" }, { "tcp_user_timeout", "10000" },
};

/*
 * pg_conn_params - fill KEYS and VALS (PG_CONN_PARAMS_MAX entries each) for
 * PQconnectdbParams with expand_dbname set: the TCP defaults, then CONNINFO
 * as dbname (expanded: its words override the defaults), then the password
 * when one is set (it overrides a password in CONNINFO); NULL-terminated.
 * The strings are CONNINFO's, static ones and the password's: valid while
 * those are.
 */
void pg_conn_params(const char *conninfo, const char **keys, const char **vals)
{
    size_t n = 0;
    for (size_t i = 0; i < sizeof(pg_tcp_defaults) / sizeof(pg_tcp_defaults[0]); i++, n++) {
        keys[n] = pg_tcp_defaults[i][0];
        vals[n] = pg_tcp_defaults[i][1];
    }
    keys[n] = "dbname";
    vals[n++] = conninfo;
    if (pg_pass) {
        keys[n] = "password";
        vals[n++] = pg_pass;
    }
    keys[n] = vals[n] = NULL;
}

/* Server notices ("relation … already exists, skipping") are not for the user. */
static void pg_notice_ignore(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static void first_line(char *dst, size_t dstlen, const char *src)
{
    size_t n = strcspn(src, "\n");
    if (n >= dstlen)
        n = dstlen - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

/*
 * pg_connect - connect to CONNINFO. Returns the connection, or NULL with ERR
 * holding "cannot connect to database at SERVER: REASON".
 */
PGconn *pg_connect(const char *conninfo, char *err, size_t errlen)
{
    const char *keys[PG_CONN_PARAMS_MAX], *vals[PG_CONN_PARAMS_MAX];
    pg_conn_params(conninfo, keys, vals);
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(conn) == CONNECTION_OK) {
        PQsetNoticeProcessor(conn, pg_notice_ignore, NULL);
        return conn;
    }
    char reason[512];
    char *where = pg_conninfo_describe(conninfo);
    const char *msg = PQerrorMessage(conn);
    /* libpq prefixes "connection to server on socket … failed: "; keep what follows. */
    const char *tail = strstr(msg, " failed: ");
    first_line(reason, sizeof(reason), tail ? tail + 9 : msg);
    snprintf(err, errlen, "cannot connect to database at %s: %s", where, reason);
    xfree(where);
    PQfinish(conn);
    return NULL;
}

/* pg_exec - run SQL with NPARAMS text parameters; the caller PQclear()s the result. */
PGresult *pg_exec(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
    return PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
}

/* pg_ok - true when RES is a successful command or query result. */
bool pg_ok(const PGresult *res)
{
    ExecStatusType st = PQresultStatus(res);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_SINGLE_TUPLE;
}

/* pg_sqlstate - the SQLSTATE of RES, or "" when it has none. */
const char *pg_sqlstate(const PGresult *res)
{
    const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return s ? s : "";
}

/* pg_errmsg - the primary message of RES (or of CONN when RES has none). */
const char *pg_errmsg(PGconn *conn, const PGresult *res)
{
    const char *s = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (s)
        return s;
    s = PQerrorMessage(conn);
    return s && *s ? s : "unknown database error";
}

/* pg_command - run a parameterless SQL command (may hold several statements); 0 or -1 with ERR. */
int pg_command(PGconn *conn, const char *sql, char *err, size_t errlen)
{
    PGresult *res = PQexec(conn, sql);
    int rc = pg_ok(res) ? 0 : -1;
    if (rc < 0 && err)
        first_line(err, errlen, pg_errmsg(conn, res));
    PQclear(res);
    return rc;
}

/* pg_begin - start a transaction; 0 or -1. */
int pg_begin(PGconn *conn)
{
    return pg_command(conn, "BEGIN", NULL, 0);
}

/* pg_commit - commit; 0 or -1 (the transaction is then rolled back by the server). */
int pg_commit(PGconn *conn)
{
    return pg_command(conn, "COMMIT", NULL, 0);
}

/* pg_rollback - abandon the current transaction, if any. */
void pg_rollback(PGconn *conn)
{
    PQclear(PQexec(conn, "ROLLBACK"));
}
