/*
 * h_exports - a list's subscribers streamed out (postino export).
 *
 * api_exports_get  GET /api/v1/exports?list=L[&segment=S|&filter=EXPR][&format=csv|json]
 *
 * The export runs on a database connection of its own, opened for it and
 * closed when the answer is done with (sent whole, or the client gone): the
 * pool's connections are not held for the minutes a large export may take.
 * Bad input is answered before any of the body, as JSON errors; a failure
 * half way cuts the body short (the connection is closed without the last
 * chunk), so a client never takes part of an export for the whole.
 */
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "engine/store/export.h"
#include "engine/store/pg.h"
#include "engine/util/alloc.h"
#include "engine/util/log.h"

/* one export being sent: its connection, the stream, what is produced and not yet given to MHD */
struct export_answer {
    PGconn *conn;
    struct export_stream *x;
    struct buf pending;
    size_t off;
    bool ended;
};

/* MHD's reader: the pending bytes first, then the next rows */
static ssize_t export_read(void *arg, uint64_t pos, char *out, size_t max)
{
    struct export_answer *a = arg;
    struct store_err e;
    (void)pos;
    while (a->off == a->pending.len) {
        if (a->ended)
            return API_STREAM_END;
        buf_reset(&a->pending);
        a->off = 0;
        int rc = store_export_next(a->x, &a->pending, &e);
        if (rc < 0) {
            log_error("api: GET /api/v1/exports: %s", e.msg);
            return API_STREAM_ERROR;
        }
        a->ended = rc == 0;
    }
    size_t n = a->pending.len - a->off < max ? a->pending.len - a->off : max;
    memcpy(out, a->pending.data + a->off, n);
    a->off += n;
    return (ssize_t)n;
}

static void export_free(void *arg)
{
    struct export_answer *a = arg;
    store_export_close(a->x);
    PQfinish(a->conn);
    buf_free(&a->pending);
    xfree(a);
}

/* api_exports_get - GET /api/v1/exports: text/csv or application/json, streamed */
void api_exports_get(struct api_req *r)
{
    static const char *const allowed[] = { "list", "segment", "filter", "format", NULL };
    struct export_query q = {
        .list = api_query(r, "list"),
        .segment = api_query(r, "segment"),
        .filter = api_query(r, "filter"),
    };
    struct store_err e;
    if (api_query_only(r, allowed) < 0)
        return;
    if (!q.list || !*q.list)
        return api_reply_error(r, 400, "missing_field", "list", "query argument \"list\" is required");
    if (store_export_format_parse(api_query(r, "format") ? api_query(r, "format") : "csv", &q.format, &e) < 0)
        return api_reply_store(r, &e);
    char err[600];
    PGconn *conn = pg_connect(api_conninfo(r), err, sizeof(err));
    if (!conn) {
        log_error("api: GET /api/v1/exports: %s", err);
        return api_reply_error(r, 503, "unavailable", NULL, "the database is not available; try again later");
    }
    struct export_stream *x;
    if (store_export_open(conn, &q, &x, &e) < 0) {
        PQfinish(conn);
        return api_reply_store(r, &e);
    }
    struct export_answer *a = xcalloc(1, sizeof(*a));
    a->conn = conn;
    a->x = x;
    buf_init(&a->pending);
    r->disposition = xstrdup(q.format == EXPORT_CSV ? "attachment; filename=\"subscribers.csv\""
                                                    : "attachment; filename=\"subscribers.json\"");
    api_reply_stream(r, q.format == EXPORT_CSV ? "text/csv; charset=utf-8" : "application/json", export_read,
                     export_free, a);
}
