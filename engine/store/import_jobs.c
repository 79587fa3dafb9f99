/*
 * import_jobs - queries for imports over HTTP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/store/import_jobs.h"
#include "engine/store/pg.h"

#define JOB_ID_MATCH(n) "j.id = CASE WHEN $" #n " ~ '^[0-9]{1,18}$' THEN $" #n "::bigint END"
#define JOB_JSON                                                                               \
    "json_build_object('id', j.id, 'state', j.state, 'location', '/api/v1/imports/' || j.id,"  \
    " 'server', j.server, 'options', j.options, 'bytes', j.bytes, 'summary', j.summary, 'error', j.error,"         \
    " 'rejects_bytes', coalesce(octet_length(j.rejects), 0), 'rejects_truncated', j.rejects_truncated," \
    " 'progress', j.progress,"                                                                 \
    " 'created_at', j.created_at, 'started_at', j.started_at, 'finished_at', j.finished_at)"

/* store_import_job_create - a new job (running when RUNNING, else queued); its id in ID. */
int store_import_job_create(PGconn *conn, json_t *options, long long bytes, long long user_id, bool running,
                            const char *server, char id[32], struct store_err *e)
{
    char bytes_s[32], user_s[32];
    char *opts = json_dumps(options, JSON_COMPACT);
    snprintf(bytes_s, sizeof(bytes_s), "%lld", bytes);
    snprintf(user_s, sizeof(user_s), "%lld", user_id);
    const char *params[] = { opts, bytes_s, user_id > 0 ? user_s : NULL, running ? "running" : "queued", server };
    PGresult *res = pg_exec(conn,
                            "INSERT INTO import_jobs (options, bytes, user_id, state, server, started_at)"
                            " VALUES ($1::jsonb, $2::bigint, $3::bigint, $4, $5,"
                            " CASE WHEN $4 = 'running' THEN now() END) RETURNING id",
                            5, params);
    free(opts);
    int rc = STORE_OK;
    if (pg_ok(res))
        snprintf(id, 32, "%s", PQgetvalue(res, 0, 0));
    else
        rc = store_fail_db(e, conn, res, "cannot record the import");
    PQclear(res);
    return rc;
}

/* store_import_job_start - mark job ID running. */
int store_import_job_start(PGconn *conn, const char *id, struct store_err *e)
{
    PGresult *res = pg_exec(conn,
                            "UPDATE import_jobs j SET state = 'running', started_at = now()"
                            " WHERE " JOB_ID_MATCH(1) " AND state = 'queued'",
                            1, &id);
    int rc = pg_ok(res) ? STORE_OK : store_fail_db(e, conn, res, "cannot start the import");
    PQclear(res);
    return rc;
}

/* store_import_job_progress - how far running job ID is: ROWS read, REJECTED, BYTES_READ of its body, PHASE. */
int store_import_job_progress(PGconn *conn, const char *id, long long rows, long long rejected, long long bytes_read,
                              const char *phase, struct store_err *e)
{
    char rows_s[32], rej_s[32], bytes_s[32];
    snprintf(rows_s, sizeof(rows_s), "%lld", rows);
    snprintf(rej_s, sizeof(rej_s), "%lld", rejected);
    snprintf(bytes_s, sizeof(bytes_s), "%lld", bytes_read);
    const char *params[] = { id, rows_s, rej_s, bytes_s, phase };
    PGresult *res = pg_exec(conn,
                            "UPDATE import_jobs j SET progress = json_build_object('rows', $2::bigint, 'rejected',"
                            " $3::bigint, 'bytes_read', least($4::bigint, j.bytes), 'phase', $5::text)"
                            " WHERE " JOB_ID_MATCH(1) " AND state = 'running'",
                            5, params);
    int rc = pg_ok(res) ? STORE_OK : store_fail_db(e, conn, res, "cannot record the import's progress");
    PQclear(res);
    return rc;
}

/* store_import_job_finish - job ID done with SUMMARY, or failed with ERROR (SUMMARY NULL); REJECTS kept. */
int store_import_job_finish(PGconn *conn, const char *id, json_t *summary, const char *error, const char *rejects,
                            size_t rejects_len, bool truncated, struct store_err *e)
{
    char *sum = summary ? json_dumps(summary, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    const char *params[] = { id, sum, error, rejects_len ? rejects : NULL, truncated ? "t" : "f" };
    int lengths[] = { 0, 0, 0, (int)rejects_len, 0 };
    int formats[] = { 0, 0, 0, 1, 0 };
    PGresult *res = PQexecParams(conn,
                                 "UPDATE import_jobs j SET state = CASE WHEN $2::jsonb IS NULL THEN 'failed'"
                                 " ELSE 'done' END, summary = $2::jsonb, error = $3, rejects = $4::bytea,"
                                 " rejects_truncated = $5::boolean, finished_at = now() WHERE " JOB_ID_MATCH(1),
                                 5, NULL, params, lengths, formats, 0);
    free(sum);
    int rc = pg_ok(res) ? STORE_OK : store_fail_db(e, conn, res, "cannot record the import's outcome");
    PQclear(res);
    return rc;
}

/* store_import_job_get - job ID as JSON. */
int store_import_job_get(PGconn *conn, const char *id, json_t **out, struct store_err *e)
{
    PGresult *res = pg_exec(conn, "SELECT " JOB_JSON " FROM import_jobs j WHERE " JOB_ID_MATCH(1), 1, &id);
    return store_json_row(conn, res, out, e, "cannot read the import", "no import %s", id);
}

/* store_import_job_rejects - job ID's rejected rows (CSV: line,reason,row) appended to OUT. */
int store_import_job_rejects(PGconn *conn, const char *id, struct buf *out, struct store_err *e)
{
    PGresult *res = PQexecParams(conn, "SELECT coalesce(j.rejects, ''::bytea) FROM import_jobs j WHERE " JOB_ID_MATCH(1),
                                 1, NULL, &id, NULL, NULL, 1);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot read the import");
    else if (PQntuples(res) == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no import %s", id);
    else
        buf_append(out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    PQclear(res);
    return rc;
}
