/*
 * import_jobs - imports sent over HTTP, one row each (sql/008_api.sql).
 *
 * store_import_job_create   a new row, queued or running, with its options; its id
 * store_import_job_start    mark a queued job running
 * store_import_job_progress how far a running job is (rows, rejects, bytes, phase)
 * store_import_job_finish   record the outcome: done with the summary, or failed
 *                           with the one-line reason; the rejects either way
 * store_import_job_get      one job as JSON (the rejects only counted)
 * store_import_job_rejects  the rejected rows of a job, as CSV
 *
 * IDs are decimal strings as given; a non-number is "no import".
 */
#ifndef POSTINO_STORE_IMPORT_JOBS_H
#define POSTINO_STORE_IMPORT_JOBS_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine/store/store.h"
#include "engine/util/buf.h"

int store_import_job_create(PGconn *conn, json_t *options, long long bytes, long long user_id, bool running,
                            const char *server, char id[32], struct store_err *e);
int store_import_job_start(PGconn *conn, const char *id, struct store_err *e);
int store_import_job_progress(PGconn *conn, const char *id, long long rows, long long rejected, long long bytes_read,
                              const char *phase, struct store_err *e);
int store_import_job_finish(PGconn *conn, const char *id, json_t *summary, const char *error, const char *rejects,
                            size_t rejects_len, bool truncated, struct store_err *e);
int store_import_job_get(PGconn *conn, const char *id, json_t **out, struct store_err *e);
int store_import_job_rejects(PGconn *conn, const char *id, struct buf *out, struct store_err *e);

#endif
