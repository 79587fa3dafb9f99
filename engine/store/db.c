/*
 * db - resolve and open postino's database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/store/db.h"
#include "engine/store/migrate.h"
#include "engine/store/pg.h"
#include "engine/util/alloc.h"
#include "engine/util/file.h"
#include "engine/util/log.h"

/* the longest password [db] password_file may hold */
#define DB_PASSWORD_MAX 1024

/* db_target_resolve - decide which database to use; 0, or -1 with ERR. */
int db_target_resolve(const char *cli_db, const struct db_settings *s, struct db_target *t, char *err,
                      size_t errlen)
{
    memset(t, 0, sizeof(*t));
    if (s->password_file && *s->password_file) {
        char pw[DB_PASSWORD_MAX], ferr[512];
        if (file_read_secret(s->password_file, pw, sizeof(pw), ferr, sizeof(ferr)) < 0) {
            snprintf(err, errlen, "[db] password_file: %s", ferr);
            return -1;
        }
        pg_password_set(pw);
        explicit_bzero(pw, sizeof(pw));
    }
    const char *ci = cli_db;
    if (!ci || !*ci)
        ci = getenv("POSTINO_DB");
    if (!ci || !*ci)
        ci = s->url;
    if (ci && *ci) {
        t->conninfo = xstrdup(ci);
        return 0;
    }
    if (cluster_init(&t->cluster, s->dir, s->pg_bindir, err, errlen) < 0)
        return -1;
    t->private_cluster = true;
    t->conninfo = cluster_conninfo(&t->cluster, "postino");
    return 0;
}

/* db_open - connect to T as MODE asks; the connection, or NULL with ERR. */
PGconn *db_open(struct db_target *t, enum db_open_mode mode, char *err, size_t errlen)
{
    if (t->private_cluster) {
        bool started;
        if (cluster_start(&t->cluster, &started, err, errlen) < 0)
            return NULL;
        if (started)
            log_info("started the private PostgreSQL in %s", t->cluster.datadir);
    }
    PGconn *conn = pg_connect(t->conninfo, err, errlen);
    if (!conn || mode == DB_OPEN_RAW)
        return conn;
    if (migrate_newer(conn, err, errlen) != 0) {   /* a newer postino migrated it: this one must not work on it */
        PQfinish(conn);
        return NULL;
    }
    int pending = migrate_pending(conn, err, errlen);
    if (pending > 0 && t->private_cluster) {
        int applied;
        if (migrate_apply(conn, &applied, err, errlen) < 0) {
            PQfinish(conn);
            return NULL;
        }
        if (applied)
            log_info("applied %d schema migration%s", applied, applied == 1 ? "" : "s");
        return conn;
    }
    if (pending != 0) {
        if (pending > 0) {
            char *where = pg_conninfo_describe(t->conninfo);
            snprintf(err, errlen, "the database at %s needs %d schema migration%s: run 'postino db migrate'",
                     where, pending, pending == 1 ? "" : "s");
            xfree(where);
        }
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

/* db_target_free - release T's memory. */
void db_target_free(struct db_target *t)
{
    xfree(t->conninfo);
    t->conninfo = NULL;
}

/* db_ping - 0 when the database answers a query. */
int db_ping(PGconn *conn, struct store_err *e)
{
    PGresult *res = pg_exec(conn, "SELECT 1", 0, NULL);
    int rc = pg_ok(res) ? STORE_OK : store_fail_db(e, conn, res, "database check failed");
    PQclear(res);
    return rc;
}
