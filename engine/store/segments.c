/*
 * segments - saved filters and counts (see segments.h).
 *
 * A filter is compiled here, by the one compiler, whenever it is saved: the
 * store keeps its text and the compiled condition with its values, read as
 * ($2::text[])[K] (SEGMENT_VALUES), which is where campaign_audience (sql/021)
 * and the counts below put them.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mail/mime.h"
#include "engine/store/lists.h"
#include "engine/store/pg.h"
#include "engine/store/segments.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"

#define SEGMENT_VALUES 2 /* the parameter holding a compiled filter's values */

#define SEGMENT_JSON                                                                                    \
    "json_build_object('id', g.id, 'name', g.name, 'description', g.description, 'filter', g.filter," \
    " 'created_at', g.created_at, 'updated_at', g.updated_at)"

/* store_filter_check - see segments.h. */
int store_filter_check(const char *filter, const char *field, struct segment_sql *out, struct store_err *e)
{
    char err[300];
    if (segment_compile(filter, SEGMENT_VALUES, out, err, sizeof(err)) < 0)
        return store_fail_field(e, field, "the filter: %s", err);
    return STORE_OK;
}

/* NAME and DESCRIPTION as a segment may have them (either NULL: not checked) */
static int fields_check(const char *name, const char *description, struct store_err *e)
{
    const char *why;
    if (name && (!*name || strlen(name) > 200))
        return store_fail_field(e, "name", "a segment's name is 1 to 200 characters");
    if (name && mime_name_check(name, false, &why) < 0)
        return store_fail_field(e, "name", "the segment's name %s", why);
    if (description && strlen(description) > 1000)
        return store_fail_field(e, "description", "a segment's description is at most 1000 bytes");
    if (description && mime_name_check(description, true, &why) < 0)
        return store_fail_field(e, "description", "the segment's description %s", why);
    return STORE_OK;
}

/* store_segment_add - see segments.h. */
int store_segment_add(PGconn *conn, const char *name, const char *filter, const char *description, json_t **out,
                      struct store_err *e)
{
    struct segment_sql q;
    if (fields_check(name, description, e) < 0 || store_filter_check(filter, "filter", &q, e) < 0)
        return e->code;
    char *values = segment_params_literal(&q);
    const char *params[] = { name, description ? description : "", filter, q.sql, values };
    PGresult *res = pg_exec(conn,
                            "WITH g AS (INSERT INTO segments (name, description, filter, sql, params)"
                            " VALUES ($1, $2, $3, $4, $5::text[]) RETURNING *) SELECT " SEGMENT_JSON " FROM g",
                            5, params);
    free(values);
    segment_sql_free(&q);
    return store_json_made(conn, res, out, e, "cannot save the segment", "segment \"%s\" already exists", name);
}

/* store_segment_ls - see segments.h. */
int store_segment_ls(PGconn *conn, json_t **out, struct store_err *e)
{
    return store_json_all(conn, "SELECT coalesce(json_agg(" SEGMENT_JSON " ORDER BY g.name), '[]') FROM segments g",
                          out, e, "cannot list segments");
}

/* store_segment_get - see segments.h. */
int store_segment_get(PGconn *conn, const char *ref, json_t **out, struct store_err *e)
{
    PGresult *res = pg_exec(conn,
                            "SELECT " SEGMENT_JSON " FROM segments g WHERE " SEGMENT_REF_MATCH(1)
                            " ORDER BY (g.name = $1) DESC LIMIT 1",
                            1, &ref);
    return store_json_row(conn, res, out, e, "cannot read the segment", "no segment \"%s\"", ref);
}

/* store_segment_set - see segments.h. */
int store_segment_set(PGconn *conn, const char *ref, const char *name, const char *filter, const char *description,
                      json_t **out, struct store_err *e)
{
    struct segment_sql q = { 0 };
    char *values = NULL;
    if (fields_check(name, description, e) < 0)
        return e->code;
    if (filter) {
        if (store_filter_check(filter, "filter", &q, e) < 0)
            return e->code;
        values = segment_params_literal(&q);
    }
    const char *params[] = { ref, name, description, filter, q.sql, values };
    PGresult *res = pg_exec(conn,
                            "WITH g AS (UPDATE segments SET name = coalesce($2, name),"
                            " description = coalesce($3, description), filter = coalesce($4, filter),"
                            " sql = coalesce($5, sql), params = coalesce($6::text[], params), updated_at = now()"
                            " WHERE id = (SELECT g.id FROM segments g WHERE " SEGMENT_REF_MATCH(1)
                            " ORDER BY (g.name = $1) DESC LIMIT 1) RETURNING *)"
                            " SELECT " SEGMENT_JSON " FROM g",
                            6, params);
    free(values);
    segment_sql_free(&q);
    if (pg_ok(res) && PQntuples(res) == 0) {
        PQclear(res);
        return store_fail(e, STORE_ERR_NOTFOUND, "no segment \"%s\"", ref);
    }
    return store_json_made(conn, res, out, e, "cannot change the segment", "segment \"%s\" already exists",
                           name ? name : ref);
}

/* store_segment_rm - see segments.h. */
int store_segment_rm(PGconn *conn, const char *ref, struct store_err *e)
{
    PGresult *res = pg_exec(conn,
                            "DELETE FROM segments WHERE id = (SELECT g.id FROM segments g WHERE " SEGMENT_REF_MATCH(1)
                            " ORDER BY (g.name = $1) DESC LIMIT 1)",
                            1, &ref);
    return store_deleted(conn, res, e, "segment", ref,
                         "segment \"%s\" is used by a campaign; give the campaign another audience first",
                         "cannot remove the segment");
}

/* the ids of the lists REFS name as a bigint[] literal into B; STORE_ERR_NOTFOUND naming the first unknown */
static int list_ids(PGconn *conn, const char *const *refs, size_t n, struct buf *b, struct store_err *e)
{
    if (n > SEGMENT_COUNT_LISTS_MAX)
        return store_fail_field(e, "lists", "at most %d lists", SEGMENT_COUNT_LISTS_MAX);
    buf_appendc(b, '{');
    for (size_t i = 0; i < n; i++) {
        PGresult *res = pg_exec(conn,
                                "SELECT l.id FROM lists l WHERE " LIST_REF_MATCH(1) " ORDER BY (l.name = $1) DESC LIMIT 1",
                                1, &refs[i]);
        int rc = !pg_ok(res)              ? store_fail_db(e, conn, res, "cannot read the lists")
                 : PQntuples(res) == 0 ? store_fail(e, STORE_ERR_NOTFOUND, "no list \"%s\"", refs[i])
                                          : STORE_OK;
        if (rc == STORE_OK)
            buf_appendf(b, "%s%s", i ? "," : "", PQgetvalue(res, 0, 0));
        PQclear(res);
        if (rc < 0)
            return rc;
    }
    buf_appendc(b, '}');
    return STORE_OK;
}

/* store_segment_cond - see segments.h. */
int store_segment_cond(PGconn *conn, const char *segment, const char *filter, char **cond, char **values,
                       struct store_err *e)
{
    struct segment_sql q = { 0 };
    int rc = STORE_OK;
    *cond = *values = NULL;
    if (filter) {
        if (store_filter_check(filter, "filter", &q, e) < 0)
            return e->code;
        *cond = q.sql, q.sql = NULL;
        *values = segment_params_literal(&q);
        segment_sql_free(&q);
        return STORE_OK;
    }
    PGresult *res = pg_exec(conn,
                            "SELECT g.sql, g.params::text FROM segments g WHERE " SEGMENT_REF_MATCH(1)
                            " ORDER BY (g.name = $1) DESC LIMIT 1",
                            1, &segment);
    if (!pg_ok(res))
        rc = store_fail_db(e, conn, res, "cannot read the segment");
    else if (PQntuples(res) == 0)
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no segment \"%s\"", segment);
    else
        *cond = xstrdup(PQgetvalue(res, 0, 0)), *values = xstrdup(PQgetvalue(res, 0, 1));
    PQclear(res);
    return rc;
}

/* store_segment_count - see segments.h. */
int store_segment_count(PGconn *conn, const char *segment, const char *filter, const char *const *lists,
                        size_t nlists, json_t **out, struct store_err *e)
{
    char *cond = NULL, *values = NULL;
    int rc = STORE_OK;
    if (segment && filter)
        return store_fail_field(e, "filter", "a count takes a segment or a filter, not both");
    if (!segment && !filter && nlists == 0)
        return store_fail_field(e, "filter", "a count takes a segment, a filter or lists");
    if (!segment && !filter) {
        cond = xstrdup("true");   /* the lists' audience as it is */
        values = xstrdup("{}");
    } else if ((rc = store_segment_cond(conn, segment, filter, &cond, &values, e)) < 0) {
        return rc;
    }
    struct buf ids, sql;
    buf_init(&ids);
    buf_init(&sql);
    if (nlists > 0)
        rc = list_ids(conn, lists, nlists, &ids, e);
    if (rc == STORE_OK) {
        /* $2 is always read, so that it has its type whether or not the filter reads a value */
        buf_appends(&sql, "WITH v AS (SELECT $2::text[] AS v) SELECT json_build_object('count', count(*))"
                          " FROM subscribers s WHERE ");
        if (nlists > 0)
            buf_appends(&sql, "s.status = 'enabled' AND EXISTS (SELECT 1 FROM subscriptions sl JOIN lists l"
                              " ON l.id = sl.list_id WHERE sl.subscriber_id = s.id AND sl.list_id = ANY ($1::bigint[])"
                              " AND (sl.status = 'confirmed' OR (sl.status = 'unconfirmed' AND l.optin = 'single')))"
                              " AND ");
        else
            buf_appends(&sql, "$1::bigint[] IS NULL AND ");
        buf_appendf(&sql, "(%s)", cond);
        /* as campaign_audience does (sql/021): hashes, not a loop of look-ups per subscriber */
        const char *params[] = { nlists > 0 ? buf_cstr(&ids) : NULL, values };
        if (pg_begin(conn) < 0 || pg_command(conn, "SET LOCAL enable_nestloop = off", NULL, 0) < 0) {
            rc = store_fail_db(e, conn, NULL, "cannot count the segment");
        } else {
            PGresult *res = pg_exec(conn, buf_cstr(&sql), 2, params);
            rc = store_json_row(conn, res, out, e, "cannot count the segment", "nothing counted");
        }
        pg_rollback(conn);   /* a read: nothing to keep */
    }
    buf_free(&ids);
    buf_free(&sql);
    free(cond);
    free(values);
    return rc;
}
