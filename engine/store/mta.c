/*
 * mta - Postfix's log events into the ledger (see mta.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/store/bounces.h"
#include "engine/store/mta.h"
#include "engine/store/pg.h"

static const char position_get_sql[] =
    "SELECT inode, first_line, read_to FROM mta_log_position WHERE path = $1";

static const char position_set_sql[] =
    "INSERT INTO mta_log_position (path, inode, first_line, read_to, lines, events)"
    " VALUES ($1, $2::bigint, $3, $4::bigint, $5::bigint, $6::bigint)"
    " ON CONFLICT (path) DO UPDATE SET inode = excluded.inode, first_line = excluded.first_line,"
    " read_to = excluded.read_to, lines = mta_log_position.lines + excluded.lines,"
    " events = mta_log_position.events + excluded.events, updated_at = now()";

static const char apply_sql[] =
    "SELECT delivery_id, state, coalesce(dsn, ''), coalesce(reason, ''), host"
    " FROM mta_event_apply($1, $2, $3, $4, $5::timestamptz, $6, $7, $8, $9::bigint, $10::bigint)";

/* store_mta_position_get - see mta.h. */
int store_mta_position_get(PGconn *conn, const char *path, struct mta_pos *pos, struct store_err *e)
{
    memset(pos, 0, sizeof(*pos));
    PGresult *res = pg_exec(conn, position_get_sql, 1, &path);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot read the log position");
    else if (PQntuples(res) == 1) {
        pos->inode = atoll(PQgetvalue(res, 0, 0));
        snprintf(pos->first_line, sizeof(pos->first_line), "%s", PQgetvalue(res, 0, 1));
        pos->read_to = atoll(PQgetvalue(res, 0, 2));
    }
    PQclear(res);
    return rc;
}

/* the receiving host as one text: "mx.example.org[192.0.2.1]:25", or "" */
static void host_text(const struct mta_event *ev, char *out, size_t size)
{
    if (!ev->relay_host[0])
        out[0] = 0;
    else if (!ev->relay_addr[0])
        snprintf(out, size, "%s", ev->relay_host);
    else if (ev->relay_port)
        snprintf(out, size, "%s[%s]:%d", ev->relay_host, ev->relay_addr, ev->relay_port);
    else
        snprintf(out, size, "%s[%s]", ev->relay_host, ev->relay_addr);
}

static const char *state_of(enum mta_status s)
{
    return s == MTA_SENT ? "delivered" : mta_log_status_name(s);
}

/* one event: its changes, and a bounce row for a bounce or an expiry */
static int apply_one(PGconn *conn, const struct mta_event *ev, long long inode, long long off,
                     struct mta_apply_stats *st, struct store_err *e)
{
    char at[64], host[MTA_HOST_MAX + 100], ino[32], offs[32];
    snprintf(ino, sizeof(ino), "%lld", inode);
    snprintf(offs, sizeof(offs), "%lld", off);
    struct tm tm;
    gmtime_r(&ev->time, &tm);
    size_t n = strftime(at, sizeof(at), "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(at + n, sizeof(at) - n, ".%06d+00", ev->usec);
    host_text(ev, host, sizeof(host));
    const char *params[] = { ev->queue_id, ev->to, ev->orig_to, state_of(ev->status), at, host, ev->dsn, ev->reason,
                             ino, offs };
    PGresult *res = pg_exec(conn, apply_sql, 10, params);
    if (!pg_ok(res)) {
        int rc = store_fail_db(e, conn, res, "cannot record the log event");
        PQclear(res);
        return rc;
    }
    int rc = STORE_OK;
    for (int i = 0; i < PQntuples(res) && rc == STORE_OK; i++) {
        st->changed++;
        const char *state = PQgetvalue(res, i, 1);
        if (strcmp(state, "bounced") != 0 && strcmp(state, "expired") != 0)
            continue;
        bool recorded = false;
        rc = store_bounce_record_mta(conn, atoll(PQgetvalue(res, i, 0)), PQgetvalue(res, i, 2),
                                     PQgetvalue(res, i, 3), PQgetisnull(res, i, 4) ? NULL : PQgetvalue(res, i, 4),
                                     &recorded, e);
        st->bounces += recorded;
    }
    PQclear(res);
    return rc;
}

/* store_mta_apply - see mta.h. */
int store_mta_apply(PGconn *conn, const char *path, const struct mta_event *ev, const long long *off, size_t n,
                    long lines, const struct mta_pos *pos, struct mta_apply_stats *st, struct store_err *e)
{
    struct mta_apply_stats add = { 0 };
    if (pg_begin(conn) < 0)
        return store_fail(e, STORE_ERR_DB, "cannot record the log events: %s", PQerrorMessage(conn));
    int rc = STORE_OK;
    for (size_t i = 0; i < n && rc == STORE_OK; i++) {
        add.events++;
        rc = apply_one(conn, &ev[i], pos->inode, off[i], &add, e);
    }
    if (rc == STORE_OK) {
        char inode[32], read_to[32], nlines[32], nev[32];
        snprintf(inode, sizeof(inode), "%lld", pos->inode);
        snprintf(read_to, sizeof(read_to), "%lld", pos->read_to);
        snprintf(nlines, sizeof(nlines), "%ld", lines);
        snprintf(nev, sizeof(nev), "%zu", n);
        const char *params[] = { path, inode, pos->first_line, read_to, nlines, nev };
        PGresult *res = pg_exec(conn, position_set_sql, 6, params);
        if (!pg_ok(res))
            rc = store_fail_db(e, conn, res, "cannot save the log position");
        PQclear(res);
    }
    if (rc != STORE_OK) {
        pg_rollback(conn);
        return rc;
    }
    if (pg_commit(conn) < 0)
        return store_fail(e, STORE_ERR_DB, "cannot record the log events: %s", PQerrorMessage(conn));
    st->events += add.events;
    st->changed += add.changed;
    st->bounces += add.bounces;
    return STORE_OK;
}
