/*
 * loader - COPY into a TEMP staging table and a set-based merge in one transaction.
 *
 * import_stage receives every clean row as sent (rn = the record's line).
 * import_rows keeps the first row of each address (DISTINCT ON lower(email),
 * by line) joined to what the database already holds about it; each outcome
 * is then one statement, and the counts are one aggregate over import_rows,
 * so they are exact and the memory of this process stays flat.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/store/lists.h"
#include "engine/store/pg.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"
#include "importers/loader.h"

#define LOADER_CHUNK (1024 * 1024)

struct import_loader {
    PGconn *conn;
    struct import_loader_opts o;
    char list_id[32];           /* "" in blocklist mode without a list */
    char status[16];            /* of new subscriptions to the list */
    bool in_copy, in_tx;
    struct buf out;
};

static int loader_db_fail(struct import_loader *l, const PGresult *res, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: database error: %s", what, pg_errmsg(l->conn, res));
    err[strcspn(err, "\n")] = 0;
    return -1;
}

static int loader_exec(struct import_loader *l, const char *sql, int n, const char *const *params,
                       long long *tuples, const char *what, char *err, size_t errlen)
{
    PGresult *res = pg_exec(l->conn, sql, n, params);
    if (!pg_ok(res)) {
        loader_db_fail(l, res, what, err, errlen);
        PQclear(res);
        return -1;
    }
    if (tuples)
        *tuples = atoll(PQcmdTuples(res));
    PQclear(res);
    return 0;
}

/* import_mode_name - subscribe, unsubscribe or blocklist. */
const char *import_mode_name(enum import_mode mode)
{
    return mode == IMPORT_SUBSCRIBE ? "subscribe" : mode == IMPORT_UNSUBSCRIBE ? "unsubscribe" : "blocklist";
}

static int loader_resolve_list(struct import_loader *l, char *err, size_t errlen)
{
    const char *params[] = { l->o.list };
    PGresult *res = pg_exec(l->conn,
                            "SELECT l.id, l.optin FROM lists l WHERE " LIST_REF_MATCH(1)
                            " ORDER BY (l.name = $1) DESC LIMIT 1 FOR SHARE",
                            1, params);
    if (!pg_ok(res)) {
        loader_db_fail(l, res, "cannot read the list", err, errlen);
        PQclear(res);
        return -1;
    }
    if (PQntuples(res) == 0) {
        snprintf(err, errlen, "no list \"%s\"", l->o.list);
        PQclear(res);
        return -1;
    }
    snprintf(l->list_id, sizeof(l->list_id), "%s", PQgetvalue(res, 0, 0));
    const char *st = l->o.status ? l->o.status
                                 : strcmp(PQgetvalue(res, 0, 1), "double") == 0 ? "unconfirmed" : "confirmed";
    snprintf(l->status, sizeof(l->status), "%s", st);
    PQclear(res);
    return 0;
}

static int loader_load_lists(struct import_loader *l, struct import_lists *lists, char *err, size_t errlen)
{
    PGresult *res = pg_exec(l->conn, "SELECT id, name FROM lists", 0, NULL);
    if (!pg_ok(res)) {
        loader_db_fail(l, res, "cannot read the lists", err, errlen);
        PQclear(res);
        return -1;
    }
    for (int i = 0; i < PQntuples(res); i++)
        import_lists_add(lists, PQgetvalue(res, i, 1), atoll(PQgetvalue(res, i, 0)));
    PQclear(res);
    return 0;
}

/*
 * import_loader_begin - start an import on CONN as O says; when O->want_lists,
 * fill LISTS with every list. Returns the loader (the caller finishes,
 * aborts and frees it), or NULL with ERR (no such list, database error).
 */
struct import_loader *import_loader_begin(PGconn *conn, const struct import_loader_opts *o,
                                          struct import_lists *lists, char *err, size_t errlen)
{
    struct import_loader *l = xcalloc(1, sizeof(*l));
    l->conn = conn;
    l->o = *o;
    buf_init(&l->out);
    /* Server memory for the temp tables and the sort; set before the session's first temp table. */
    if (pg_command(conn, "SET temp_buffers = '128MB'", NULL, 0) < 0 ||
        pg_command(conn, "BEGIN", err, errlen) < 0)
        goto fail;
    l->in_tx = true;
    if (pg_command(conn, "SET LOCAL work_mem = '256MB'", err, errlen) < 0)
        goto fail;
    if (o->list && loader_resolve_list(l, err, errlen) < 0)
        goto fail;
    if (o->want_lists && loader_load_lists(l, lists, err, errlen) < 0)
        goto fail;
    if (pg_command(conn,
                   "CREATE TEMP TABLE import_stage (rn bigint NOT NULL, email text NOT NULL, name text,"
                   " attribs jsonb NOT NULL, lists bigint[]) ON COMMIT DROP",
                   err, errlen) < 0)
        goto fail;
    PGresult *res = PQexec(conn, "COPY import_stage FROM STDIN");
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        loader_db_fail(l, res, "cannot start loading", err, errlen);
        PQclear(res);
        goto fail;
    }
    PQclear(res);
    l->in_copy = true;
    return l;
fail:
    import_loader_free(l);
    return NULL;
}

/* Append S (LEN bytes) in COPY text format: backslash, tab, CR and LF escaped. */
static void copy_text(struct buf *b, const char *s, size_t len)
{
    size_t run = 0;
    buf_reserve(b, len);
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c != '\\' && c != '\t' && c != '\n' && c != '\r')
            continue;
        buf_append(b, s + run, i - run);
        run = i + 1;
        buf_appendc(b, '\\');
        buf_appendc(b, c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '\\');
    }
    buf_append(b, s + run, len - run);
}

static int loader_flush(struct import_loader *l, char *err, size_t errlen)
{
    if (l->out.len && PQputCopyData(l->conn, l->out.data, (int)l->out.len) != 1) {
        loader_db_fail(l, NULL, "cannot send rows", err, errlen);
        return -1;
    }
    buf_reset(&l->out);
    return 0;
}

/* import_loader_add - queue ROW for the staging table; 0, or -1 with ERR when sending fails. */
int import_loader_add(struct import_loader *l, const struct import_row *row, char *err, size_t errlen)
{
    struct buf *b = &l->out;
    buf_appendf(b, "%ld\t", row->line);
    copy_text(b, row->email, strlen(row->email));
    buf_appendc(b, '\t');
    if (row->has_name)
        copy_text(b, row->name.data, row->name.len);
    else
        buf_append(b, "\\N", 2);
    buf_appendc(b, '\t');
    copy_text(b, row->attribs.data, row->attribs.len);
    buf_appendc(b, '\t');
    if (row->nlists) {
        buf_appendc(b, '{');
        for (size_t i = 0; i < row->nlists; i++)
            buf_appendf(b, "%s%lld", i ? "," : "", row->lists[i]);
        buf_appendc(b, '}');
    } else {
        buf_append(b, "\\N", 2);
    }
    buf_appendc(b, '\n');
    return b->len >= LOADER_CHUNK ? loader_flush(l, err, errlen) : 0;
}

static int loader_end_copy(struct import_loader *l, const char *errmsg, long long *rows, char *err, size_t errlen)
{
    int rc = 0;
    l->in_copy = false;
    if (PQputCopyEnd(l->conn, errmsg) != 1)
        rc = loader_db_fail(l, NULL, "cannot finish loading", err, errlen);
    PGresult *res;
    while ((res = PQgetResult(l->conn)) != NULL) {
        if (rc == 0 && !errmsg && PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = loader_db_fail(l, res, "cannot load the rows", err, errlen);
        else if (rows && PQresultStatus(res) == PGRES_COMMAND_OK)
            *rows = atoll(PQcmdTuples(res));
        PQclear(res);
    }
    return rc;
}

/* What the database holds about each distinct address of the file. */
static const char sql_rows[] =
    "CREATE TEMP TABLE import_rows ON COMMIT DROP AS"
    " SELECT d.rn, d.email, d.name, d.attribs, d.lists,"
    "  s.id AS sid, s.status AS sstatus, z.status AS substatus,"
    "  (s.id IS NOT NULL AND $2::boolean AND ((d.name IS NOT NULL AND d.name <> s.name)"
    "   OR NOT s.attribs @> d.attribs)) AS changed,"
    "  (d.lists IS NOT NULL AND s.id IS NOT NULL AND EXISTS (SELECT 1 FROM unnest(d.lists) AS x(id)"
    "   WHERE NOT EXISTS (SELECT 1 FROM subscriptions y WHERE y.subscriber_id = s.id AND y.list_id = x.id)))"
    "   AS extra_missing"
    " FROM (SELECT DISTINCT ON (lower(email) COLLATE \"C\") * FROM import_stage"
    "       ORDER BY lower(email) COLLATE \"C\", rn) d"
    " LEFT JOIN subscribers s ON lower(s.email) = lower(d.email)"
    " LEFT JOIN subscriptions z ON z.subscriber_id = s.id AND z.list_id = $1::bigint";

static const char sql_sub_new[] =
    "WITH ins AS (INSERT INTO subscribers (email, name, attribs)"
    "  SELECT email, coalesce(name, ''), attribs FROM import_rows WHERE sid IS NULL ORDER BY rn"
    "  ON CONFLICT ((lower(email))) DO NOTHING RETURNING id)"
    " INSERT INTO subscriptions (subscriber_id, list_id, status) SELECT id, $1::bigint, $2 FROM ins";

static const char sql_overwrite[] =
    "UPDATE subscribers s SET name = coalesce(r.name, s.name), attribs = s.attribs || r.attribs, updated_at = now()"
    " FROM import_rows r WHERE r.changed AND s.id = r.sid AND ($1::boolean OR r.sstatus <> 'blocklisted')";

static const char sql_sub_existing[] =
    "INSERT INTO subscriptions (subscriber_id, list_id, status)"
    " SELECT sid, $1::bigint, $2 FROM import_rows"
    " WHERE sid IS NOT NULL AND sstatus <> 'blocklisted' AND substatus IS NULL"
    " ON CONFLICT DO NOTHING";

static const char sql_sub_extra[] =
    "INSERT INTO subscriptions (subscriber_id, list_id, status)"
    " SELECT s.id, l.id, coalesce($1, CASE l.optin WHEN 'double' THEN 'unconfirmed' ELSE 'confirmed' END)"
    " FROM import_rows r JOIN subscribers s ON lower(s.email) = lower(r.email)"
    " JOIN lists l ON l.id = ANY (r.lists)"
    " WHERE r.lists IS NOT NULL AND s.status <> 'blocklisted'"
    " ON CONFLICT DO NOTHING";

static const char sql_sub_counts[] =
    "SELECT count(*) FILTER (WHERE sid IS NULL),"
    " count(*) FILTER (WHERE sstatus <> 'blocklisted' AND (changed OR substatus IS NULL OR extra_missing)),"
    " count(*) FILTER (WHERE sstatus <> 'blocklisted' AND NOT (changed OR substatus IS NULL OR extra_missing)"
    "   AND substatus <> 'unsubscribed'),"
    " count(*) FILTER (WHERE sstatus = 'blocklisted' OR (NOT (changed OR substatus IS NULL OR extra_missing)"
    "   AND substatus = 'unsubscribed')),"
    " 0 FROM import_rows";

static const char sql_unsub[] =
    "UPDATE subscriptions z SET status = 'unsubscribed', updated_at = now() FROM import_rows r"
    " WHERE z.subscriber_id = r.sid AND z.list_id = $1::bigint AND z.status <> 'unsubscribed'";

static const char sql_unsub_counts[] =
    "SELECT 0, count(*) FILTER (WHERE substatus IN ('confirmed', 'unconfirmed')),"
    " count(*) FILTER (WHERE sid IS NOT NULL AND (substatus IS NULL OR substatus = 'unsubscribed')),"
    " 0, count(*) FILTER (WHERE sid IS NULL) FROM import_rows";

static const char sql_block_new[] =
    "INSERT INTO subscribers (email, name, attribs, status)"
    " SELECT email, coalesce(name, ''), attribs, 'blocklisted' FROM import_rows WHERE sid IS NULL ORDER BY rn"
    " ON CONFLICT ((lower(email))) DO NOTHING";

static const char sql_block_existing[] =
    "WITH b AS (UPDATE subscribers s SET status = 'blocklisted', updated_at = now() FROM import_rows r"
    "  WHERE s.id = r.sid AND s.status <> 'blocklisted' RETURNING s.id)"
    " UPDATE subscriptions SET status = 'unsubscribed', updated_at = now()"
    " WHERE subscriber_id IN (SELECT sid FROM import_rows WHERE sid IS NOT NULL) AND status <> 'unsubscribed'";

static const char sql_block_counts[] =
    "SELECT count(*) FILTER (WHERE sid IS NULL),"
    " count(*) FILTER (WHERE sstatus <> 'blocklisted' OR changed),"
    " count(*) FILTER (WHERE sstatus = 'blocklisted' AND NOT changed), 0, 0 FROM import_rows";

static int loader_merge(struct import_loader *l, struct import_counts *c, char *err, size_t errlen)
{
    const char *overwrite = l->o.overwrite ? "true" : "false";
    const char *list_id = l->list_id[0] ? l->list_id : NULL;
    const char *p_rows[] = { list_id, overwrite };
    long long distinct = 0, added = -1;
    if (loader_exec(l, sql_rows, 2, p_rows, &distinct, "cannot merge", err, errlen) < 0 ||
        loader_exec(l, "ANALYZE import_rows", 0, NULL, NULL, "cannot merge", err, errlen) < 0)
        return -1;
    const char *counts_sql;
    const char *p_list[] = { list_id, l->status };
    const char *p_extra[] = { l->o.status };
    if (l->o.mode == IMPORT_SUBSCRIBE) {
        const char *p_over[] = { "false" };
        if (loader_exec(l, sql_sub_new, 2, p_list, &added, "cannot add subscribers", err, errlen) < 0 ||
            (l->o.overwrite &&
             loader_exec(l, sql_overwrite, 1, p_over, NULL, "cannot update subscribers", err, errlen) < 0) ||
            loader_exec(l, sql_sub_existing, 2, p_list, NULL, "cannot subscribe", err, errlen) < 0 ||
            loader_exec(l, sql_sub_extra, 1, p_extra, NULL, "cannot subscribe", err, errlen) < 0)
            return -1;
        counts_sql = sql_sub_counts;
    } else if (l->o.mode == IMPORT_UNSUBSCRIBE) {
        if (loader_exec(l, sql_unsub, 1, p_list, NULL, "cannot unsubscribe", err, errlen) < 0)
            return -1;
        counts_sql = sql_unsub_counts;
    } else {
        const char *p_over[] = { "true" };
        if (loader_exec(l, sql_block_new, 0, NULL, &added, "cannot add subscribers", err, errlen) < 0 ||
            (l->o.overwrite &&
             loader_exec(l, sql_overwrite, 1, p_over, NULL, "cannot update subscribers", err, errlen) < 0) ||
            loader_exec(l, sql_block_existing, 0, NULL, NULL, "cannot blocklist", err, errlen) < 0)
            return -1;
        counts_sql = sql_block_counts;
    }
    PGresult *res = pg_exec(l->conn, counts_sql, 0, NULL);
    if (!pg_ok(res)) {
        loader_db_fail(l, res, "cannot count", err, errlen);
        PQclear(res);
        return -1;
    }
    c->added = atoll(PQgetvalue(res, 0, 0));
    c->updated = atoll(PQgetvalue(res, 0, 1));
    c->unchanged = atoll(PQgetvalue(res, 0, 2));
    c->skipped = atoll(PQgetvalue(res, 0, 3));
    c->not_found = atoll(PQgetvalue(res, 0, 4));
    PQclear(res);
    /* An address another session added meanwhile was not inserted here: it existed. */
    if (added >= 0 && added < c->added) {
        c->unchanged += c->added - added;
        c->added = added;
    }
    c->duplicates = c->staged - distinct;
    return 0;
}

/*
 * import_loader_finish - end the COPY, merge, fill C's database outcomes and
 * duplicates, and commit (dry run: roll back). 0, or -1 with ERR; on failure
 * nothing is written.
 */
int import_loader_finish(struct import_loader *l, struct import_counts *c, char *err, size_t errlen)
{
    if (loader_flush(l, err, errlen) < 0 || loader_end_copy(l, NULL, &c->staged, err, errlen) < 0 ||
        loader_merge(l, c, err, errlen) < 0)
        return -1;
    int rc = pg_command(l->conn, l->o.dry_run ? "ROLLBACK" : "COMMIT", err, errlen);
    l->in_tx = false;
    return rc;
}

/* import_loader_abort - stop the COPY with WHY and roll everything back. */
void import_loader_abort(struct import_loader *l, const char *why)
{
    char err[256];
    if (l->in_copy)
        loader_end_copy(l, why ? why : "import aborted", NULL, err, sizeof(err));
    if (l->in_tx)
        pg_rollback(l->conn);
    l->in_tx = false;
}

/* import_loader_free - release L, rolling back what was not finished; NULL is accepted. */
void import_loader_free(struct import_loader *l)
{
    if (!l)
        return;
    import_loader_abort(l, NULL);
    buf_free(&l->out);
    xfree(l);
}
