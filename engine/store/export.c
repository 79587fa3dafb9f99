/*
 * export - a list's subscribers written out in constant memory (see export.h).
 *
 * The rows come in libpq's single-row mode: one PGresult per subscriber,
 * freed before the next, so neither libpq nor this file ever holds the
 * whole result. The attribute columns are picked by the database
 * (attribs ->> key, keys as a parameter), so a row costs no JSON parsing here.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "engine/store/export.h"
#include "engine/store/lists.h"
#include "engine/store/pg.h"
#include "engine/store/segments.h"
#include "engine/util/alloc.h"

struct export_stream {
    PGconn *conn;
    enum export_format format;
    json_t *keys;          /* CSV: the attribute keys, a JSON array of strings */
    bool started;          /* the header is written */
    bool done;             /* the last row came and the transaction ended */
    long long rows;
};

/* the subscribers of list $1 (an id) that condition COND (values in $2) picks */
#define EXPORT_FROM                                                                        \
    " FROM subscribers s JOIN subscriptions x ON x.subscriber_id = s.id"                   \
    " WHERE x.list_id = $1::bigint AND x.status IN ('confirmed', 'unconfirmed')"           \
    " AND $2::text[] IS NOT NULL AND (%s)"

/* store_export_format_parse - see export.h. */
int store_export_format_parse(const char *name, enum export_format *out, struct store_err *e)
{
    if (name && strcmp(name, "csv") == 0)
        *out = EXPORT_CSV;
    else if (name && strcmp(name, "json") == 0)
        *out = EXPORT_JSON;
    else
        return store_fail_field(e, "format", "the format is csv or json, not \"%.20s\"", name ? name : "");
    return STORE_OK;
}

/* the id of list REF into ID; STORE_ERR_NOTFOUND naming it */
static int list_id(PGconn *conn, const char *ref, char id[32], struct store_err *e)
{
    PGresult *res = pg_exec(conn, "SELECT l.id FROM lists l WHERE " LIST_REF_MATCH(1) " ORDER BY (l.name = $1) DESC LIMIT 1",
                            1, &ref);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot read the list");
    else if (PQntuples(res) == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no list \"%s\"", ref);
    else
        snprintf(id, 32, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

/* CSV: every attribute key of the rows FROM (with PARAMS) picks, as X->keys and *LITERAL (a text[]) */
static int keys_read(struct export_stream *x, const char *from, const char *const *params, char **literal,
                     struct store_err *e)
{
    struct buf sql = BUF_INIT;
    buf_appendf(&sql,
                "SELECT coalesce(array_agg(k ORDER BY k), '{}')::text, coalesce(json_agg(k ORDER BY k), '[]')::text,"
                " count(*) FROM (SELECT DISTINCT jsonb_object_keys(s.attribs) AS k %s) z",
                from);
    PGresult *res = pg_exec(x->conn, buf_cstr(&sql), 2, params);
    buf_free(&sql);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, x->conn, res, "cannot read the attribute keys");
    else if (strtoll(PQgetvalue(res, 0, 2), NULL, 10) > EXPORT_KEYS_MAX)
        rc = store_fail_field(e, "format", "these subscribers have more than %d attribute keys: export them as json",
                              EXPORT_KEYS_MAX);
    else if (!(x->keys = json_loads(PQgetvalue(res, 0, 1), 0, NULL)))
        rc = store_fail(e, STORE_ERR_DB, "cannot read the attribute keys");
    else
        *literal = xstrdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

/* the query of the rows, sent: FROM the subscribers, KEYS the CSV's attribute keys as a text[] literal */
static int rows_send(struct export_stream *x, const char *from, const char *list, const char *values,
                     const char *keys, struct store_err *e)
{
    struct buf sql = BUF_INIT;
    if (x->format == EXPORT_CSV) {
        buf_appends(&sql, "SELECT s.email, s.name");
        for (size_t i = 1; i <= json_array_size(x->keys); i++)
            buf_appendf(&sql, ", s.attribs ->> ($3::text[])[%zu]", i);
        buf_appendf(&sql, " %s AND $3::text[] IS NOT NULL ORDER BY s.id", from);
    } else {
        buf_appendf(&sql,
                    "SELECT json_build_object('id', s.id, 'email', s.email, 'name', s.name, 'status', s.status,"
                    " 'attribs', s.attribs, 'created_at', s.created_at, 'subscription', json_build_object("
                    "'status', x.status, 'created_at', x.created_at))::text %s AND $3::text IS NULL ORDER BY s.id",
                    from);
    }
    const char *params[] = { list, values, keys };
    int ok = PQsendQueryParams(x->conn, buf_cstr(&sql), 3, NULL, params, NULL, NULL, 0) && PQsetSingleRowMode(x->conn);
    buf_free(&sql);
    return ok ? STORE_OK : store_fail_db(e, x->conn, NULL, "cannot export the subscribers");
}

/* store_export_open - see export.h. */
int store_export_open(PGconn *conn, const struct export_query *q, struct export_stream **out, struct store_err *e)
{
    char id[32];
    char *cond = NULL, *values = NULL, *keys = NULL;
    int rc;
    *out = NULL;
    if (q->segment && q->filter)
        return store_fail_field(e, "filter", "give a segment or a filter, not both");
    if (pg_command(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL, 0) < 0)
        return store_fail_db(e, conn, NULL, "cannot export the subscribers");
    struct export_stream *x = xcalloc(1, sizeof(*x));
    x->conn = conn;
    x->format = q->format;
    if ((rc = list_id(conn, q->list, id, e)) < 0)
        goto fail;
    if (q->segment || q->filter) {
        if ((rc = store_segment_cond(conn, q->segment, q->filter, &cond, &values, e)) < 0)
            goto fail;
    } else {
        cond = xstrdup("true");
        values = xstrdup("{}");
    }
    struct buf from = BUF_INIT;
    buf_appendf(&from, EXPORT_FROM, cond);
    const char *params[] = { id, values };
    if (q->format == EXPORT_CSV)
        rc = keys_read(x, buf_cstr(&from), params, &keys, e);
    if (rc == STORE_OK)
        rc = rows_send(x, buf_cstr(&from), id, values, keys, e);
    buf_free(&from);
    if (rc < 0)
        goto fail;
    free(cond);
    free(values);
    free(keys);
    *out = x;
    return STORE_OK;
fail:
    free(cond);
    free(values);
    free(keys);
    json_decref(x->keys);
    xfree(x);
    pg_rollback(conn);
    return rc;
}

/* one CSV field: quoted when it holds a comma, a quote, a line break, or blanks at either end */
static void csv_field(struct buf *b, const char *s, size_t n)
{
    bool quote = n > 0 && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t');
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        buf_append(b, s, n);
        return;
    }
    buf_appendc(b, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            buf_appendc(b, '"');
        buf_appendc(b, s[i]);
    }
    buf_appendc(b, '"');
}

static void header_write(struct export_stream *x, struct buf *b)
{
    size_t i;
    json_t *k;
    if (x->format == EXPORT_JSON) {
        buf_appends(b, "[");
        return;
    }
    buf_appends(b, "email,name");
    json_array_foreach(x->keys, i, k) {
        buf_appendc(b, ',');
        csv_field(b, json_string_value(k), json_string_length(k));
    }
    buf_appendc(b, '\n');
}

static void row_write(struct export_stream *x, struct buf *b, const PGresult *res)
{
    if (x->format == EXPORT_JSON) {
        buf_appends(b, x->rows ? ",\n" : "\n");
        buf_append(b, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    } else {
        for (int i = 0; i < PQnfields(res); i++) {
            if (i)
                buf_appendc(b, ',');
            csv_field(b, PQgetvalue(res, 0, i), (size_t)PQgetlength(res, 0, i));
        }
        buf_appendc(b, '\n');
    }
    x->rows++;
}

/* the results left on X's connection read and dropped */
static void drain(struct export_stream *x)
{
    PGresult *res;
    while ((res = PQgetResult(x->conn)))
        PQclear(res);
}

/* store_export_next - see export.h. */
int store_export_next(struct export_stream *x, struct buf *b, struct store_err *e)
{
    size_t start = b->len;
    if (x->done)
        return 0;
    if (!x->started) {
        header_write(x, b);
        x->started = true;
    }
    while (b->len - start < EXPORT_CHUNK) {
        PGresult *res = PQgetResult(x->conn);
        ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
        if (st == PGRES_SINGLE_TUPLE) {
            row_write(x, b, res);
            PQclear(res);
            continue;
        }
        if (st == PGRES_TUPLES_OK) {
            PQclear(res);
            drain(x);
            x->done = true;
            if (x->format == EXPORT_JSON)
                buf_appends(b, x->rows ? "\n]\n" : "]\n");
            pg_rollback(x->conn);   /* a read: nothing to keep */
            return 0;
        }
        int rc = store_fail_db(e, x->conn, res, "cannot export the subscribers");
        PQclear(res);
        drain(x);
        pg_rollback(x->conn);
        x->done = true;
        return rc;
    }
    return 1;
}

/* store_export_rows - see export.h. */
long long store_export_rows(const struct export_stream *x)
{
    return x->rows;
}

/* store_export_close - see export.h. */
void store_export_close(struct export_stream *x)
{
    if (!x)
        return;
    if (!x->done) {
        /* stopped half way (the reader went away): the query cancelled, not read to its end */
        PGcancel *c = PQgetCancel(x->conn);
        char err[256];
        if (c) {
            PQcancel(c, err, sizeof(err));
            PQfreeCancel(c);
        }
        drain(x);
        pg_rollback(x->conn);
    }
    json_decref(x->keys);
    xfree(x);
}
