/*
 * loader - COPY into a TEMP staging table and a set-based merge in one transaction.
 *
 * Into an empty subscribers table (subscribe mode), the table is locked
 * against other writers and a row whose address surely differs from every
 * earlier one (import_addrset) is copied straight into subscribers; the
 * others (repeats, addresses that are not plain ASCII, rows naming lists)
 * go through import_stage. Every subscriber then present came from this
 * file: all are subscribed to the list in one statement, a staged row
 * naming one of them is a repeat of an earlier row and is dropped, and the
 * rest of import_stage takes the general path below.
 *
 * import_stage receives every clean row as sent (rn = the record's line).
 * import_rows holds the addresses the database already knows, each once
 * (DISTINCT ON the subscriber, keeping the first row by line), with what the
 * database holds about them and the line of that row in import_stage (where
 * --overwrite takes the name and attributes from); every outcome for them is
 * one statement and their counts one aggregate. New addresses go from
 * import_stage straight into subscribers in line order, so the unique index
 * on lower(email) keeps the first row of each and ignores its repeats;
 * duplicates are then what is left: loaded rows minus existing, new and
 * unknown addresses. When import_addrset saw no address twice, the rows need
 * no sort to keep the first of each. Counts are exact and the memory of this
 * process stays flat (the address hashes are capped at LOADER_SEEN_MAX).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/store/lists.h"
#include "engine/store/pg.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"
#include "engine/util/log.h"
#include "importers/addrset.h"
#include "importers/loader.h"

#define LOADER_CHUNK (1024 * 1024)
#define LOADER_SEEN_MAX (3 << 20)     /* addresses remembered: at most 32 MB of hashes */

enum loader_copy { COPY_NONE, COPY_STAGE, COPY_DIRECT };

static const char *const copy_sql[] = {
    [COPY_STAGE] = "COPY import_stage FROM STDIN WITH (FREEZE)",
    [COPY_DIRECT] = "COPY subscribers (email, name, attribs) FROM STDIN",
};

struct import_loader {
    PGconn *conn;
    struct import_loader_opts o;
    char list_id[32];           /* "" in blocklist mode without a list */
    char status[16];            /* of new subscriptions to the list */
    enum loader_copy copying;   /* the COPY in progress */
    bool in_tx;
    bool extra_lists;           /* some row names lists of its own */
    bool direct;                /* the target was empty: new rows go straight into subscribers */
    struct import_addrset seen; /* the addresses of the rows so far */
    bool repeats;               /* some row may repeat the address of an earlier one */
    long long nstage, ndirect;  /* rows sent to import_stage, to subscribers */
    struct buf out;             /* rows for import_stage */
    struct buf out_direct;      /* rows for subscribers */
};

static int loader_db_fail(struct import_loader *l, const PGresult *res, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: database error: %s", what, pg_errmsg(l->conn, res));
    err[strcspn(err, "\n")] = 0;
    return -1;
}

static double loader_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int loader_exec(struct import_loader *l, const char *sql, int n, const char *const *params,
                       long long *tuples, const char *what, char *err, size_t errlen)
{
    double t0 = loader_now();
    PGresult *res = pg_exec(l->conn, sql, n, params);
    log_debug("import: %.2f s, %s rows: %.60s", loader_now() - t0, PQcmdTuples(res), sql);
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

static int loader_query_bool(struct import_loader *l, const char *sql, bool *out, char *err, size_t errlen)
{
    PGresult *res = pg_exec(l->conn, sql, 0, NULL);
    if (!pg_ok(res) || PQntuples(res) != 1) {
        loader_db_fail(l, res, "cannot read the subscribers", err, errlen);
        PQclear(res);
        return -1;
    }
    *out = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return 0;
}

/*
 * Is the subscribers table empty? Then lock it against other writers until
 * the end (so that every subscriber in it at the merge came from this
 * import) and copy new rows straight into it.
 */
static int loader_check_empty(struct import_loader *l, char *err, size_t errlen)
{
    static const char sql_empty[] = "SELECT NOT EXISTS (SELECT 1 FROM subscribers)";
    bool empty;
    if (loader_query_bool(l, sql_empty, &empty, err, errlen) < 0)
        return -1;
    if (!empty)
        return 0;
    if (pg_command(l->conn, "LOCK TABLE subscribers IN SHARE ROW EXCLUSIVE MODE", err, errlen) < 0 ||
        loader_query_bool(l, sql_empty, &l->direct, err, errlen) < 0)
        return -1;
    if (l->direct)
        log_debug("import: the subscribers table is empty: new rows go straight into it");
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
    buf_init(&l->out_direct);
    import_addrset_init(&l->seen, LOADER_SEEN_MAX);
    /* Server memory for the temp tables; only possible before the session's first temp table. */
    (void)pg_command(conn, "SET temp_buffers = '512MB'", NULL, 0);
    if (pg_command(conn, "BEGIN", err, errlen) < 0)
        goto fail;
    l->in_tx = true;
    /* JIT compilation costs most of a second per statement here and gains nothing on these plans. */
    if (pg_command(conn, "SET LOCAL work_mem = '256MB'", err, errlen) < 0 ||
        pg_command(conn, "SET LOCAL jit = off", err, errlen) < 0)
        goto fail;
    if (o->list && loader_resolve_list(l, err, errlen) < 0)
        goto fail;
    if (o->want_lists && loader_load_lists(l, lists, err, errlen) < 0)
        goto fail;
    if (o->mode == IMPORT_SUBSCRIBE && loader_check_empty(l, err, errlen) < 0)
        goto fail;
    if (pg_command(conn,
                   "CREATE TEMP TABLE import_stage (rn bigint NOT NULL, email text NOT NULL, name text,"
                   " attribs jsonb NOT NULL, lists bigint[]) ON COMMIT DROP",
                   err, errlen) < 0)
        goto fail;
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

static int loader_end_copy(struct import_loader *l, const char *errmsg, char *err, size_t errlen);

/* Send what B holds for TARGET, switching the COPY in progress to TARGET first. */
static int loader_send(struct import_loader *l, enum loader_copy target, struct buf *b, char *err, size_t errlen)
{
    if (!b->len)
        return 0;
    if (l->copying != target) {
        if (l->copying != COPY_NONE && loader_end_copy(l, NULL, err, errlen) < 0)
            return -1;
        PGresult *res = PQexec(l->conn, copy_sql[target]);
        if (PQresultStatus(res) != PGRES_COPY_IN) {
            loader_db_fail(l, res, "cannot start loading", err, errlen);
            PQclear(res);
            return -1;
        }
        PQclear(res);
        l->copying = target;
    }
    if (PQputCopyData(l->conn, b->data, (int)b->len) != 1) {
        loader_db_fail(l, NULL, "cannot send rows", err, errlen);
        return -1;
    }
    buf_reset(b);
    return 0;
}

/* Send every buffered row and end the COPY. */
static int loader_flush(struct import_loader *l, char *err, size_t errlen)
{
    if (loader_send(l, COPY_DIRECT, &l->out_direct, err, errlen) < 0 ||
        loader_send(l, COPY_STAGE, &l->out, err, errlen) < 0)
        return -1;
    return l->copying != COPY_NONE ? loader_end_copy(l, NULL, err, errlen) : 0;
}

/* A row for subscribers (email, name, attribs): ROW's address surely new in an empty table. */
static int loader_add_direct(struct import_loader *l, const struct import_row *row, char *err, size_t errlen)
{
    struct buf *b = &l->out_direct;
    l->ndirect++;
    copy_text(b, row->email, strlen(row->email));
    buf_appendc(b, '\t');
    if (row->has_name)
        copy_text(b, row->name.data, row->name.len);
    buf_appendc(b, '\t');
    copy_text(b, row->attribs.data, row->attribs.len);
    buf_appendc(b, '\n');
    return b->len >= LOADER_CHUNK ? loader_send(l, COPY_DIRECT, b, err, errlen) : 0;
}

/* import_loader_add - queue ROW for the database; 0, or -1 with ERR when sending fails. */
int import_loader_add(struct import_loader *l, const struct import_row *row, char *err, size_t errlen)
{
    int fresh = import_addrset_add(&l->seen, row->email);
    if (!fresh)
        l->repeats = true;
    if (l->direct && fresh && row->nlists == 0)
        return loader_add_direct(l, row, err, errlen);
    struct buf *b = &l->out;
    l->nstage++;
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
        l->extra_lists = true;
        buf_appendc(b, '{');
        for (size_t i = 0; i < row->nlists; i++)
            buf_appendf(b, "%s%lld", i ? "," : "", row->lists[i]);
        buf_appendc(b, '}');
    } else {
        buf_append(b, "\\N", 2);
    }
    buf_appendc(b, '\n');
    return b->len >= LOADER_CHUNK ? loader_send(l, COPY_STAGE, b, err, errlen) : 0;
}

/* End the COPY in progress: done, or (ERRMSG) failed on purpose. 0, or -1 with ERR. */
static int loader_end_copy(struct import_loader *l, const char *errmsg, char *err, size_t errlen)
{
    int rc = 0;
    l->copying = COPY_NONE;
    if (PQputCopyEnd(l->conn, errmsg) != 1)
        rc = loader_db_fail(l, NULL, "cannot finish loading", err, errlen);
    PGresult *res;
    while ((res = PQgetResult(l->conn)) != NULL) {
        if (rc == 0 && !errmsg && PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = loader_db_fail(l, res, "cannot load the rows", err, errlen);
        PQclear(res);
    }
    return rc;
}

/*
 * The existing subscribers the file names, each once: its first row (by
 * line) with what the database holds about it. New addresses are not here;
 * they go straight from import_stage into subscribers below.
 */
#define ROWS_SELECT                                                                                                \
    " st.rn, s.id AS sid, s.status AS sstatus, z.status AS substatus,"                                             \
    "  ($2::boolean AND ((st.name IS NOT NULL AND st.name <> s.name) OR NOT s.attribs @> st.attribs)) AS changed," \
    "  (st.lists IS NOT NULL AND EXISTS (SELECT 1 FROM unnest(st.lists) AS x(id)"                                  \
    "   WHERE NOT EXISTS (SELECT 1 FROM subscriptions y WHERE y.subscriber_id = s.id AND y.list_id = x.id)))"      \
    "   AS extra_missing"                                                                                          \
    " FROM import_stage st JOIN subscribers s ON lower(s.email) = lower(st.email)"                                 \
    " LEFT JOIN subscriptions z ON z.subscriber_id = s.id AND z.list_id = $1::bigint"

static const char sql_rows[] =
    "CREATE TEMP TABLE import_rows ON COMMIT DROP AS SELECT DISTINCT ON (s.id)" ROWS_SELECT " ORDER BY s.id, st.rn";

/* The same when no address is twice in import_stage: no sort needed to keep the first. */
static const char sql_rows_once[] = "CREATE TEMP TABLE import_rows ON COMMIT DROP AS SELECT" ROWS_SELECT;

/*
 * New addresses: inserted in file order, so the unique index on lower(email)
 * keeps the first row of an address and turns its repeats into no-ops.
 */
#define NEW_ROWS                                                                          \
    " FROM import_stage st"                                                               \
    " WHERE NOT EXISTS (SELECT 1 FROM subscribers s WHERE lower(s.email) = lower(st.email))" \
    " ORDER BY st.rn ON CONFLICT ((lower(email))) DO NOTHING"

static const char sql_sub_new[] =
    "WITH ins AS (INSERT INTO subscribers (email, name, attribs)"
    "  SELECT st.email, coalesce(st.name, ''), st.attribs" NEW_ROWS " RETURNING id)"
    " INSERT INTO subscriptions (subscriber_id, list_id, status) SELECT id, $1::bigint, $2 FROM ins";

static const char sql_block_new[] =
    "INSERT INTO subscribers (email, name, attribs, status)"
    " SELECT st.email, coalesce(st.name, ''), st.attribs, 'blocklisted'" NEW_ROWS;

static const char sql_unsub_missing[] =
    "SELECT count(DISTINCT lower(st.email) COLLATE \"C\") FROM import_stage st"
    " WHERE NOT EXISTS (SELECT 1 FROM subscribers s WHERE lower(s.email) = lower(st.email))";

static const char sql_overwrite[] =
    "UPDATE subscribers s SET name = coalesce(st.name, s.name), attribs = s.attribs || st.attribs, updated_at = now()"
    " FROM import_rows r JOIN import_stage st ON st.rn = r.rn"
    " WHERE r.changed AND s.id = r.sid AND ($1::boolean OR r.sstatus <> 'blocklisted')";

static const char sql_sub_existing[] =
    "INSERT INTO subscriptions (subscriber_id, list_id, status)"
    " SELECT sid, $1::bigint, $2 FROM import_rows"
    " WHERE sstatus <> 'blocklisted' AND substatus IS NULL"
    " ON CONFLICT DO NOTHING";

/* Lists named by <list>, from the first row of each address that names any. */
static const char sql_sub_extra[] =
    "INSERT INTO subscriptions (subscriber_id, list_id, status)"
    " SELECT s.id, l.id, coalesce($1, CASE l.optin WHEN 'double' THEN 'unconfirmed' ELSE 'confirmed' END)"
    " FROM (SELECT DISTINCT ON (lower(email) COLLATE \"C\") email, lists FROM import_stage"
    "       ORDER BY lower(email) COLLATE \"C\", rn) r"
    " JOIN subscribers s ON lower(s.email) = lower(r.email)"
    " JOIN lists l ON l.id = ANY (r.lists)"
    " WHERE r.lists IS NOT NULL AND s.status <> 'blocklisted'"
    " ON CONFLICT DO NOTHING";

#define SUB_CHANGES "(changed OR substatus IS NULL OR extra_missing)"

static const char sql_sub_counts[] =
    "SELECT count(*) FILTER (WHERE sstatus <> 'blocklisted' AND " SUB_CHANGES "),"
    " count(*) FILTER (WHERE sstatus <> 'blocklisted' AND NOT " SUB_CHANGES " AND substatus <> 'unsubscribed'),"
    " count(*) FILTER (WHERE sstatus = 'blocklisted' OR (NOT " SUB_CHANGES " AND substatus = 'unsubscribed'))"
    " FROM import_rows";

static const char sql_unsub[] =
    "UPDATE subscriptions z SET status = 'unsubscribed', updated_at = now() FROM import_rows r"
    " WHERE z.subscriber_id = r.sid AND z.list_id = $1::bigint AND z.status <> 'unsubscribed'";

static const char sql_unsub_counts[] =
    "SELECT count(*) FILTER (WHERE substatus IN ('confirmed', 'unconfirmed')),"
    " count(*) FILTER (WHERE substatus IS NULL OR substatus = 'unsubscribed'), 0 FROM import_rows";

static const char sql_block_existing[] =
    "WITH b AS (UPDATE subscribers s SET status = 'blocklisted', updated_at = now() FROM import_rows r"
    "  WHERE s.id = r.sid AND s.status <> 'blocklisted' RETURNING s.id)"
    " UPDATE subscriptions SET status = 'unsubscribed', updated_at = now()"
    " WHERE subscriber_id IN (SELECT sid FROM import_rows) AND status <> 'unsubscribed'";

static const char sql_block_counts[] =
    "SELECT count(*) FILTER (WHERE sstatus <> 'blocklisted' OR changed),"
    " count(*) FILTER (WHERE sstatus = 'blocklisted' AND NOT changed), 0 FROM import_rows";

/*
 * May the new subscribers' subscriptions skip the per-row foreign key checks?
 * Only for a superuser (session_replication_role), and only when no trigger
 * other than those of the foreign keys exists on the two tables: the rows
 * reference subscribers inserted by this very statement and a list locked
 * FOR SHARE since the start, so the checks could not fail.
 */
static bool loader_can_skip_fk(struct import_loader *l)
{
    PGresult *res = pg_exec(l->conn,
                            "SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
                            " AND NOT EXISTS (SELECT 1 FROM pg_trigger WHERE NOT tgisinternal"
                            "  AND tgrelid IN ('subscribers'::regclass, 'subscriptions'::regclass))",
                            0, NULL);
    bool ok = pg_ok(res) && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return ok;
}

/* Run SQL that subscribes this import's new subscribers, without the foreign key checks where that is safe. */
static int loader_exec_subscribe(struct import_loader *l, const char *sql, const char *const *p_list,
                                 long long *tuples, char *err, size_t errlen)
{
    bool fast = loader_can_skip_fk(l);
    if (fast && pg_command(l->conn, "SET LOCAL session_replication_role = replica", err, errlen) < 0)
        return -1;
    int rc = loader_exec(l, sql, 2, p_list, tuples, "cannot add subscribers", err, errlen);
    if (fast && rc == 0 && pg_command(l->conn, "SET LOCAL session_replication_role = DEFAULT", err, errlen) < 0)
        return -1;
    return rc;
}

static int loader_insert_new(struct import_loader *l, const char *const *p_list, long long *added, char *err,
                             size_t errlen)
{
    if (l->o.mode == IMPORT_BLOCKLIST)
        return loader_exec(l, sql_block_new, 0, NULL, added, "cannot add subscribers", err, errlen);
    return loader_exec_subscribe(l, sql_sub_new, p_list, added, err, errlen);
}

/* The subscribers table was empty and is locked: every subscriber in it now came straight from the file. */
static const char sql_sub_direct[] =
    "INSERT INTO subscriptions (subscriber_id, list_id, status) SELECT id, $1::bigint, $2 FROM subscribers";

/* ... so a staged row naming one of them repeats an earlier row of the file. */
static const char sql_drop_repeats[] =
    "DELETE FROM import_stage st USING subscribers s WHERE lower(s.email) = lower(st.email)";

/* Subscribe the rows copied straight into subscribers; drop the staged rows that repeat them. */
static int loader_merge_direct(struct import_loader *l, const char *const *p_list, char *err, size_t errlen)
{
    if (l->ndirect && loader_exec_subscribe(l, sql_sub_direct, p_list, NULL, err, errlen) < 0)
        return -1;
    if (l->ndirect && l->nstage &&
        loader_exec(l, sql_drop_repeats, 0, NULL, NULL, "cannot merge", err, errlen) < 0)
        return -1;
    return 0;
}

static int loader_merge(struct import_loader *l, struct import_counts *c, char *err, size_t errlen)
{
    const char *list_id = l->list_id[0] ? l->list_id : NULL;
    const char *p_rows[] = { list_id, l->o.overwrite ? "true" : "false" };
    const char *p_list[] = { list_id, l->status };
    const char *p_extra[] = { l->o.status };
    const char *p_over[] = { l->o.mode == IMPORT_BLOCKLIST ? "true" : "false" };
    long long existing = 0, added = 0;
    const char *counts_sql;
    bool once = !l->repeats;    /* each address at most once in import_stage */
    if (l->direct && loader_merge_direct(l, p_list, err, errlen) < 0)
        return -1;
    if (l->direct && l->nstage == 0) {
        c->added = l->ndirect;
        return 0;
    }
    if (loader_exec(l, once ? sql_rows_once : sql_rows, 2, p_rows, &existing, "cannot merge", err, errlen) < 0)
        return -1;
    if (l->o.mode == IMPORT_UNSUBSCRIBE) {
        if (once) {
            c->not_found = l->nstage - existing;
        } else {
            PGresult *res = pg_exec(l->conn, sql_unsub_missing, 0, NULL);
            if (!pg_ok(res)) {
                loader_db_fail(l, res, "cannot merge", err, errlen);
                PQclear(res);
                return -1;
            }
            c->not_found = atoll(PQgetvalue(res, 0, 0));
            PQclear(res);
        }
        if (loader_exec(l, sql_unsub, 1, p_list, NULL, "cannot unsubscribe", err, errlen) < 0)
            return -1;
        counts_sql = sql_unsub_counts;
    } else {
        /* With each address once, every staged row named an existing subscriber: nothing new. */
        bool none_new = once && existing == l->nstage;
        if ((!none_new && loader_insert_new(l, p_list, &added, err, errlen) < 0) ||
            (l->o.overwrite &&
             loader_exec(l, sql_overwrite, 1, p_over, NULL, "cannot update subscribers", err, errlen) < 0))
            return -1;
        if (l->o.mode == IMPORT_SUBSCRIBE &&
            (loader_exec(l, sql_sub_existing, 2, p_list, NULL, "cannot subscribe", err, errlen) < 0 ||
             (l->extra_lists && loader_exec(l, sql_sub_extra, 1, p_extra, NULL, "cannot subscribe", err, errlen) < 0)))
            return -1;
        if (l->o.mode == IMPORT_BLOCKLIST &&
            loader_exec(l, sql_block_existing, 0, NULL, NULL, "cannot blocklist", err, errlen) < 0)
            return -1;
        counts_sql = l->o.mode == IMPORT_SUBSCRIBE ? sql_sub_counts : sql_block_counts;
    }
    PGresult *res = pg_exec(l->conn, counts_sql, 0, NULL);
    if (!pg_ok(res)) {
        loader_db_fail(l, res, "cannot count", err, errlen);
        PQclear(res);
        return -1;
    }
    c->added = added + l->ndirect;
    c->updated = atoll(PQgetvalue(res, 0, 0));
    c->unchanged = atoll(PQgetvalue(res, 0, 1));
    c->skipped = atoll(PQgetvalue(res, 0, 2));
    PQclear(res);
    /* Every loaded row is the first of an existing address, a new one, an unknown one, or a repeat. */
    c->duplicates = c->staged - existing - c->added - c->not_found;
    return 0;
}

/*
 * import_loader_finish - end the COPY, merge, fill C's database outcomes and
 * duplicates, and commit (dry run: roll back). 0, or -1 with ERR; on failure
 * nothing is written.
 */
int import_loader_finish(struct import_loader *l, struct import_counts *c, char *err, size_t errlen)
{
    double t0 = loader_now();
    if (loader_flush(l, err, errlen) < 0)
        return -1;
    c->staged = l->nstage + l->ndirect;
    log_debug("import: %.2f s to end the COPY, %lld rows straight into subscribers, %lld staged", loader_now() - t0,
              l->ndirect, l->nstage);
    if (loader_merge(l, c, err, errlen) < 0)
        return -1;
    int rc = pg_command(l->conn, l->o.dry_run ? "ROLLBACK" : "COMMIT", err, errlen);
    l->in_tx = false;
    return rc;
}

/* import_loader_abort - stop the COPY with WHY and roll everything back. */
void import_loader_abort(struct import_loader *l, const char *why)
{
    char err[256];
    if (l->copying != COPY_NONE)
        loader_end_copy(l, why ? why : "import aborted", err, sizeof(err));
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
    buf_free(&l->out_direct);
    import_addrset_free(&l->seen);
    xfree(l);
}
