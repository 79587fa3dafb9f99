/*
 * migrate - apply sql/NNN_*.sql in order, recording each in schema_migrations.
 *
 * The files come from the embedded table (scripts/embed.sh), already sorted
 * by path, so numbering decides the order.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "engine/store/migrate.h"
#include "engine/store/pg.h"
#include "engine/util/alloc.h"
#include "engine/util/embedded.h"
#include "engine/util/str.h"

#define MIGRATE_LOCK_KEY "7262951846151" /* pg_advisory_lock key for migrations */

static const char create_table_sql[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version text PRIMARY KEY,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

/* version of an embedded file "sql/001_init.sql" -> "001_init"; 0 when not a migration */
static int migration_version(const struct embedded_file *f, char *out, size_t outlen)
{
    if (!str_has_prefix(f->path, "sql/"))
        return 0;
    const char *base = f->path + 4;
    size_t n = strlen(base);
    if (n < 5 || strcmp(base + n - 4, ".sql") != 0 || n - 4 >= outlen)
        return 0;
    memcpy(out, base, n - 4);
    out[n - 4] = 0;
    return 1;
}

/* the applied versions; none when schema_migrations does not exist yet (nothing is created here) */
static int applied_versions(PGconn *conn, PGresult **res, char *err, size_t errlen)
{
    *res = pg_exec(conn,
                   "SELECT version, to_char(applied_at, 'YYYY-MM-DD HH24:MI:SS TZ') FROM schema_migrations"
                   " WHERE to_regclass('schema_migrations') IS NOT NULL",
                   0, NULL);
    if (!pg_ok(*res) && strcmp(pg_sqlstate(*res), "42P01") == 0) {
        PQclear(*res);
        *res = pg_exec(conn, "SELECT NULL::text, NULL::text WHERE false", 0, NULL);
    }
    if (!pg_ok(*res)) {
        snprintf(err, errlen, "cannot read schema_migrations: %s", pg_errmsg(conn, *res));
        PQclear(*res);
        return -1;
    }
    return 0;
}

static const char *applied_at(PGresult *res, const char *version)
{
    for (int i = 0; i < PQntuples(res); i++)
        if (strcmp(PQgetvalue(res, i, 0), version) == 0)
            return PQgetvalue(res, i, 1);
    return NULL;
}

/* migrate_status - every known migration and when it was applied; *OUT is the caller's to free. */
int migrate_status(PGconn *conn, struct migration_status **out, size_t *n, char *err, size_t errlen)
{
    PGresult *res;
    char version[128];
    *out = NULL;
    *n = 0;
    if (applied_versions(conn, &res, err, errlen) < 0)
        return -1;
    for (const struct embedded_file *f = embedded_files; f->path; f++) {
        if (!migration_version(f, version, sizeof(version)))
            continue;
        *out = xrealloc(*out, (*n + 1) * sizeof(**out));
        struct migration_status *m = &(*out)[(*n)++];
        snprintf(m->version, sizeof(m->version), "%s", version);
        const char *at = applied_at(res, version);
        snprintf(m->applied_at, sizeof(m->applied_at), "%s", at ? at : "");
    }
    PQclear(res);
    return 0;
}

/* migrate_pending - the number of migrations not yet applied, or -1 with ERR. */
int migrate_pending(PGconn *conn, char *err, size_t errlen)
{
    struct migration_status *m;
    size_t n;
    int pending = 0;
    if (migrate_status(conn, &m, &n, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!m[i].applied_at[0])
            pending++;
    xfree(m);
    return pending;
}

static int apply_one(PGconn *conn, const struct embedded_file *f, const char *version, char *err, size_t errlen)
{
    char why[400];
    const char *params[] = { version };
    if (pg_begin(conn) < 0)
        goto fail_msg;
    PGresult *res = pg_exec(conn, "SELECT 1 FROM schema_migrations WHERE version = $1", 1, params);
    int already = pg_ok(res) && PQntuples(res) > 0;
    PQclear(res);
    if (already) {
        pg_rollback(conn);
        return 0;
    }
    if (pg_command(conn, (const char *)f->data, why, sizeof(why)) < 0) {
        pg_rollback(conn);
        snprintf(err, errlen, "migration %s failed: %s", version, why);
        return -1;
    }
    res = pg_exec(conn, "INSERT INTO schema_migrations (version) VALUES ($1)", 1, params);
    int ok = pg_ok(res);
    PQclear(res);
    if (!ok || pg_commit(conn) < 0)
        goto fail_msg;
    return 1;
fail_msg:
    snprintf(err, errlen, "migration %s failed: %s", version, PQerrorMessage(conn));
    err[strcspn(err, "\n")] = 0;
    pg_rollback(conn);
    return -1;
}

/* whether VERSION is one of the migrations compiled in */
static bool known_version(const char *version)
{
    char v[128];
    for (const struct embedded_file *f = embedded_files; f->path; f++)
        if (migration_version(f, v, sizeof(v)) && strcmp(v, version) == 0)
            return true;
    return false;
}

/* migrate_newer - see migrate.h. */
int migrate_newer(PGconn *conn, char *err, size_t errlen)
{
    PGresult *res;
    char latest[128] = "", newest[128] = "";
    int n = 0;
    if (applied_versions(conn, &res, err, errlen) < 0)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *v = PQgetvalue(res, i, 0);
        if (!known_version(v)) {
            n++;
            if (strcmp(v, newest) > 0)
                snprintf(newest, sizeof(newest), "%s", v);
        }
    }
    PQclear(res);
    char v[128];
    for (const struct embedded_file *f = embedded_files; f->path; f++)
        if (migration_version(f, v, sizeof(v)))
            snprintf(latest, sizeof(latest), "%s", v);   /* sorted: the last is the latest */
    if (n > 0)
        snprintf(err, errlen,
                 "the database's schema is newer than this postino knows (it has %s; this postino ends at %s): "
                 "upgrade postino",
                 newest, latest);
    return n;
}

/* migrate_apply - apply what is pending; *APPLIED counts them. 0, or -1 with ERR. */
int migrate_apply(PGconn *conn, int *applied, char *err, size_t errlen)
{
    char version[128];
    int rc = 0;
    *applied = 0;
    if (pg_command(conn, create_table_sql, err, errlen) < 0 ||
        pg_command(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", err, errlen) < 0)
        return -1;
    if (migrate_newer(conn, err, errlen) != 0) {
        pg_command(conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", NULL, 0);
        return -1;
    }
    for (const struct embedded_file *f = embedded_files; f->path && rc == 0; f++) {
        if (!migration_version(f, version, sizeof(version)))
            continue;
        int r = apply_one(conn, f, version, err, errlen);
        if (r < 0)
            rc = -1;
        else
            *applied += r;
    }
    pg_command(conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", NULL, 0);
    return rc;
}
