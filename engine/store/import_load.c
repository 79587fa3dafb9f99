/*
 * import_load - COPY into a TEMP staging table and a set-based merge in one transaction.
 *
 * Into an empty subscribers table (subscribe mode), the table is locked
 * against other writers and a row whose address the caller says surely
 * differs from every earlier one is copied straight into subscribers; the
 * others (repeats, addresses the caller is not sure of, rows naming lists)
 * go through import_stage. Every subscriber then present came from this
 * import: all are subscribed to the list in one statement, a staged row
 * naming one of them is a repeat of an earlier row and is dropped, and the
 * rest of import_stage takes the general path below.
 *
 * import_stage receives every other row as sent (rn = the record's line).
 * import_rows holds the addresses the database already knows, each once
 * (DISTINCT ON the subscriber, keeping the first row by line), with what the
 * database holds about them and the line of that row in import_stage (where
 * overwrite takes the name and attributes from); every outcome for them is
 * one statement and their counts one aggregate. New addresses go from
 * import_stage straight into subscribers in line order, so the unique index
 * on lower(email) keeps the first row of each and ignores its repeats;
 * duplicates are then what is left: loaded rows minus existing, new and
 * unknown addresses. When every row was surely new, the rows need no sort
 * to keep the first of each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/store/consent.h"
#include "engine/store/daily.h"
#include "engine/store/import_load.h"
#include "engine/store/lists.h"
#include "engine/store/pg.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"
#include "engine/util/log.h"

#define LOAD_CHUNK (1024 * 1024)

enum load_copy { COPY_NONE, COPY_STAGE, COPY_DIRECT };

static const char *const copy_sql[] = {
    [COPY_STAGE] = "COPY import_stage FROM STDIN WITH (FREEZE)",
    [COPY_DIRECT] = "COPY subscribers (email, name, attribs) FROM STDIN",
};

struct store_import_load {
    PGconn *conn;
    struct import_load_opts o;
    char list_id[32];           /* "" in blocklist mode without a list */
    char status[16];            /* of new subscriptions to the list */
    enum load_copy copying;     /* the COPY in progress */
    bool in_tx;
    bool extra_lists;           /* some row names lists of its own */
    bool direct;                /* the target was empty: new rows go straight into subscribers */
    bool repeats;               /* some row may repeat the address of an earlier one */
    bool suppressions;          /* some address was erased and stays suppressed */
    long long nstage, ndirect;  /* rows sent to import_stage, to subscribers */
    struct buf out;             /* rows for import_stage */
    struct buf out_direct;      /* rows for subscribers */
};

static double load_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run a parameterless command; E holds the server's message (first line) on failure. */
static int load_command(struct store_import_load *l, const char *sql, struct store_err *e)
{
    if (pg_command(l->conn, sql, e->msg, sizeof(e->msg)) == 0)
        return STORE_OK;
    e->code = STORE_ERR_DB;
    return STORE_ERR_DB;
}

/* Run SQL with N PARAMS; *TUPLES (when given) the rows it touched. A failure names WHAT. */
static int load_exec(struct store_import_load *l, const char *sql, int n, const char *const *params,
                     long long *tuples, const char *what, struct store_err *e)
{
    double t0 = load_now();
    PGresult *res = pg_exec(l->conn, sql, n, params);
    log_debug("import: %.2f s, %s rows: %.60s", load_now() - t0, PQcmdTuples(res), sql);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, l->conn, res, what);
    else if (tuples)
        *tuples = atoll(PQcmdTuples(res));
    PQclear(res);
    return rc;
}

/* Run a one-row query; its columns as numbers into OUT[0..N-1]. A failure names WHAT. */
static int load_query_counts(struct store_import_load *l, const char *sql, long long *out, int n, const char *what,
                             struct store_err *e)
{
    PGresult *res = pg_exec(l->conn, sql, 0, NULL);
    int rc = STORE_OK;
    if (!pg_ok(res) || PQntuples(res) != 1)
        rc = store_fail_db(e, l->conn, res, what);
    else
        for (int i = 0; i < n; i++)
            out[i] = atoll(PQgetvalue(res, 0, i));
    PQclear(res);
    return rc;
}

static int load_resolve_list(struct store_import_load *l, struct store_err *e)
{
    const char *params[] = { l->o.list };
    PGresult *res = pg_exec(l->conn,
                            "SELECT l.id, l.optin FROM lists l WHERE " LIST_REF_MATCH(1)
                            " ORDER BY (l.name = $1) DESC LIMIT 1 FOR SHARE",
                            1, params);
    int rc = STORE_OK;
    if (!pg_ok(res)) {
        rc = store_fail_db(e, l->conn, res, "cannot read the list");
    } else if (PQntuples(res) == 0) {
        rc = store_fail(e, STORE_ERR_NOTFOUND, "no list \"%s\"", l->o.list);
    } else {
        snprintf(l->list_id, sizeof(l->list_id), "%s", PQgetvalue(res, 0, 0));
        const char *st = l->o.status ? l->o.status
                                     : strcmp(PQgetvalue(res, 0, 1), "double") == 0 ? "unconfirmed" : "confirmed";
        snprintf(l->status, sizeof(l->status), "%s", st);
    }
    PQclear(res);
    return rc;
}

static int load_query_bool(struct store_import_load *l, const char *sql, bool *out, struct store_err *e)
{
    PGresult *res = pg_exec(l->conn, sql, 0, NULL);
    int rc = STORE_OK;
    if (!pg_ok(res) || PQntuples(res) != 1)
        rc = store_fail_db(e, l->conn, res, "cannot read the subscribers");
    else
        *out = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return rc;
}

/*
 * Is the subscribers table empty? Then lock it against other writers until
 * the end (so that every subscriber in it at the merge came from this
 * import) and copy new rows straight into it.
 */
static int load_check_empty(struct store_import_load *l, struct store_err *e)
{
    static const char sql_empty[] = "SELECT NOT EXISTS (SELECT 1 FROM subscribers)";
    bool empty;
    if (load_query_bool(l, sql_empty, &empty, e) < 0)
        return STORE_ERR_DB;
    if (!empty)
        return STORE_OK;
    if (load_command(l, "LOCK TABLE subscribers IN SHARE ROW EXCLUSIVE MODE", e) < 0 ||
        load_query_bool(l, sql_empty, &l->direct, e) < 0)
        return STORE_ERR_DB;
    if (l->direct)
        log_debug("import: the subscribers table is empty: new rows go straight into it");
    return STORE_OK;
}

/*
 * store_import_load_begin - start an import on CONN as O says. Returns the
 * handle (the caller finishes or aborts it, and frees it), or NULL with E
 * (no such list, database error); then nothing is left open.
 */
struct store_import_load *store_import_load_begin(PGconn *conn, const struct import_load_opts *o,
                                                  struct store_err *e)
{
    struct store_import_load *l = xcalloc(1, sizeof(*l));
    l->conn = conn;
    l->o = *o;
    buf_init(&l->out);
    buf_init(&l->out_direct);
    /* Server memory for the temp tables; only possible before the session's first temp table. */
    (void)pg_command(conn, "SET temp_buffers = '512MB'", NULL, 0);
    if (load_command(l, "BEGIN", e) < 0)
        goto fail;
    l->in_tx = true;
    /* JIT compilation costs most of a second per statement here and gains nothing on these plans. */
    if (load_command(l, "SET LOCAL work_mem = '256MB'", e) < 0 || load_command(l, "SET LOCAL jit = off", e) < 0)
        goto fail;
    if (store_consent_context(conn, "import", o->actor, "", "", "") < 0) {
        store_fail_db(e, conn, NULL, "cannot start the import");
        goto fail;
    }
    if (o->list && load_resolve_list(l, e) < 0)
        goto fail;
    if (load_query_bool(l, "SELECT EXISTS (SELECT 1 FROM suppressions)", &l->suppressions, e) < 0)
        goto fail;
    /* suppressed addresses are taken out of the staged rows: none may go straight into subscribers */
    if (o->mode == IMPORT_SUBSCRIBE && !l->suppressions && load_check_empty(l, e) < 0)
        goto fail;
    if (load_command(l,
                     "CREATE TEMP TABLE import_stage (rn bigint NOT NULL, email text NOT NULL, name text,"
                     " attribs jsonb NOT NULL, lists bigint[]) ON COMMIT DROP",
                     e) < 0)
        goto fail;
    return l;
fail:
    store_import_load_free(l);
    return NULL;
}

/* store_import_load_lists - call CB once for every list, with its name and id; before the first add (no COPY yet). */
int store_import_load_lists(struct store_import_load *l, import_load_list_cb cb, void *arg, struct store_err *e)
{
    PGresult *res = pg_exec(l->conn, "SELECT id, name FROM lists", 0, NULL);
    int rc = STORE_OK;
    if (!pg_ok(res))
        rc = store_fail_db(e, l->conn, res, "cannot read the lists");
    else
        for (int i = 0; i < PQntuples(res); i++)
            cb(arg, PQgetvalue(res, i, 1), atoll(PQgetvalue(res, i, 0)));
    PQclear(res);
    return rc;
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

/* End the COPY in progress: done, or (ERRMSG) failed on purpose. */
static int load_end_copy(struct store_import_load *l, const char *errmsg, struct store_err *e)
{
    int rc = STORE_OK;
    l->copying = COPY_NONE;
    if (PQputCopyEnd(l->conn, errmsg) != 1)
        rc = store_fail_db(e, l->conn, NULL, "cannot finish loading");
    PGresult *res;
    while ((res = PQgetResult(l->conn)) != NULL) {
        if (rc == STORE_OK && !errmsg && PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = store_fail_db(e, l->conn, res, "cannot load the rows");
        PQclear(res);
    }
    return rc;
}

/* Send what B holds for TARGET, switching the COPY in progress to TARGET first. */
static int load_send(struct store_import_load *l, enum load_copy target, struct buf *b, struct store_err *e)
{
    if (!b->len)
        return STORE_OK;
    if (l->copying != target) {
        if (l->copying != COPY_NONE && load_end_copy(l, NULL, e) < 0)
            return STORE_ERR_DB;
        PGresult *res = PQexec(l->conn, copy_sql[target]);
        int rc = STORE_OK;
        if (PQresultStatus(res) != PGRES_COPY_IN)
            rc = store_fail_db(e, l->conn, res, "cannot start loading");
        PQclear(res);
        if (rc < 0)
            return rc;
        l->copying = target;
    }
    if (PQputCopyData(l->conn, b->data, (int)b->len) != 1)
        return store_fail_db(e, l->conn, NULL, "cannot send rows");
    buf_reset(b);
    return STORE_OK;
}

/* Send every buffered row and end the COPY. */
static int load_flush(struct store_import_load *l, struct store_err *e)
{
    if (load_send(l, COPY_DIRECT, &l->out_direct, e) < 0 || load_send(l, COPY_STAGE, &l->out, e) < 0)
        return STORE_ERR_DB;
    return l->copying != COPY_NONE ? load_end_copy(l, NULL, e) : STORE_OK;
}

/* A row for subscribers (email, name, attribs): ROW's address surely new in an empty table. */
static int load_add_direct(struct store_import_load *l, const struct import_load_row *row, struct store_err *e)
{
    struct buf *b = &l->out_direct;
    l->ndirect++;
    copy_text(b, row->email, strlen(row->email));
    buf_appendc(b, '\t');
    if (row->name)
        copy_text(b, row->name, row->name_len);
    buf_appendc(b, '\t');
    copy_text(b, row->attribs, row->attribs_len);
    buf_appendc(b, '\n');
    return b->len >= LOAD_CHUNK ? load_send(l, COPY_DIRECT, b, e) : STORE_OK;
}

/*
 * store_import_load_add - queue ROW; SURELY_NEW when its address surely
 * differs from that of every row before it. STORE_OK, or STORE_ERR_DB with E
 * when sending fails.
 */
int store_import_load_add(struct store_import_load *l, const struct import_load_row *row, bool surely_new,
                          struct store_err *e)
{
    if (!surely_new)
        l->repeats = true;
    if (l->direct && surely_new && row->nlists == 0)
        return load_add_direct(l, row, e);
    struct buf *b = &l->out;
    l->nstage++;
    buf_appendf(b, "%ld\t", row->line);
    copy_text(b, row->email, strlen(row->email));
    buf_appendc(b, '\t');
    if (row->name)
        copy_text(b, row->name, row->name_len);
    else
        buf_append(b, "\\N", 2);
    buf_appendc(b, '\t');
    copy_text(b, row->attribs, row->attribs_len);
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
    return b->len >= LOAD_CHUNK ? load_send(l, COPY_STAGE, b, e) : STORE_OK;
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
 * other than those of the foreign keys would be skipped on the two tables
 * (one enabled ALWAYS, as the list counts' are, fires under replica too; one
 * disabled, as a webhook trigger no endpoint wants, fires under neither):
 * the rows reference subscribers inserted by this very statement and a list
 * locked FOR SHARE since the start, so the checks could not fail.
 */
static bool load_can_skip_fk(struct store_import_load *l)
{
    PGresult *res = pg_exec(l->conn,
                            "SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
                            " AND NOT EXISTS (SELECT 1 FROM pg_trigger WHERE NOT tgisinternal AND tgenabled NOT IN ('A', 'D')"
                            "  AND tgrelid IN ('subscribers'::regclass, 'subscriptions'::regclass))",
                            0, NULL);
    bool ok = pg_ok(res) && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return ok;
}

/* Run SQL that subscribes this import's new subscribers, without the foreign key checks where that is safe. */
static int load_exec_subscribe(struct store_import_load *l, const char *sql, const char *const *p_list,
                               long long *tuples, struct store_err *e)
{
    bool fast = load_can_skip_fk(l);
    if (fast && load_command(l, "SET LOCAL session_replication_role = replica", e) < 0)
        return STORE_ERR_DB;
    int rc = load_exec(l, sql, 2, p_list, tuples, "cannot add subscribers", e);
    if (fast && rc == STORE_OK && load_command(l, "SET LOCAL session_replication_role = DEFAULT", e) < 0)
        return STORE_ERR_DB;
    return rc;
}

static int load_insert_new(struct store_import_load *l, const char *const *p_list, long long *added,
                           struct store_err *e)
{
    if (l->o.mode == IMPORT_BLOCKLIST)
        return load_exec(l, sql_block_new, 0, NULL, added, "cannot add subscribers", e);
    return load_exec_subscribe(l, sql_sub_new, p_list, added, e);
}

/* The subscribers table was empty and is locked: every subscriber in it now came straight from the file. */
static const char sql_sub_direct[] =
    "INSERT INTO subscriptions (subscriber_id, list_id, status) SELECT id, $1::bigint, $2 FROM subscribers";

/* ... so a staged row naming one of them repeats an earlier row of the file. */
static const char sql_drop_repeats[] =
    "DELETE FROM import_stage st USING subscribers s WHERE lower(s.email) = lower(st.email)";

/* Addresses erased earlier that stay suppressed: never subscribed again (skipped). */
static const char sql_drop_suppressed[] =
    "DELETE FROM import_stage st USING suppressions x WHERE x.hash = suppression_hash(st.email)";

/* Subscribe the rows copied straight into subscribers; drop the staged rows that repeat them. */
static int load_merge_direct(struct store_import_load *l, const char *const *p_list, struct store_err *e)
{
    if (l->ndirect && load_exec_subscribe(l, sql_sub_direct, p_list, NULL, e) < 0)
        return STORE_ERR_DB;
    if (l->ndirect && l->nstage && load_exec(l, sql_drop_repeats, 0, NULL, NULL, "cannot merge", e) < 0)
        return STORE_ERR_DB;
    return STORE_OK;
}

/* Unsubscribe the existing addresses of import_rows; C->not_found the unknown ones. */
static int load_merge_unsubscribe(struct store_import_load *l, bool once, long long existing,
                                  const char *const *p_list, struct import_load_counts *c, struct store_err *e)
{
    if (once)
        c->not_found = l->nstage - existing;
    else if (load_query_counts(l, sql_unsub_missing, &c->not_found, 1, "cannot merge", e) < 0)
        return STORE_ERR_DB;
    return load_exec(l, sql_unsub, 1, p_list, NULL, "cannot unsubscribe", e);
}

/* Subscribe or blocklist: add the new addresses (C->added), then change the existing ones of import_rows. */
static int load_merge_add(struct store_import_load *l, bool once, long long existing, const char *const *p_list,
                          struct import_load_counts *c, struct store_err *e)
{
    const char *p_extra[] = { l->o.status };
    const char *p_over[] = { l->o.mode == IMPORT_BLOCKLIST ? "true" : "false" };
    /* With each address once, every staged row named an existing subscriber: nothing new. */
    bool none_new = once && existing == l->nstage;
    if ((!none_new && load_insert_new(l, p_list, &c->added, e) < 0) ||
        (l->o.overwrite && load_exec(l, sql_overwrite, 1, p_over, NULL, "cannot update subscribers", e) < 0))
        return STORE_ERR_DB;
    if (l->o.mode == IMPORT_SUBSCRIBE &&
        (load_exec(l, sql_sub_existing, 2, p_list, NULL, "cannot subscribe", e) < 0 ||
         (l->extra_lists && load_exec(l, sql_sub_extra, 1, p_extra, NULL, "cannot subscribe", e) < 0)))
        return STORE_ERR_DB;
    if (l->o.mode == IMPORT_BLOCKLIST && load_exec(l, sql_block_existing, 0, NULL, NULL, "cannot blocklist", e) < 0)
        return STORE_ERR_DB;
    return STORE_OK;
}

static int load_merge(struct store_import_load *l, struct import_load_counts *c, struct store_err *e)
{
    const char *list_id = l->list_id[0] ? l->list_id : NULL;
    const char *p_rows[] = { list_id, l->o.overwrite ? "true" : "false" };
    const char *p_list[] = { list_id, l->status };
    long long existing = 0, outcomes[3], suppressed = 0;
    bool once = !l->repeats;    /* each address at most once in import_stage */
    if (l->direct && load_merge_direct(l, p_list, e) < 0)
        return STORE_ERR_DB;
    if (l->direct && l->nstage == 0) {
        c->added = l->ndirect;
        return STORE_OK;
    }
    if (l->suppressions && l->o.mode == IMPORT_SUBSCRIBE &&
        load_exec(l, sql_drop_suppressed, 0, NULL, &suppressed, "cannot merge", e) < 0)
        return STORE_ERR_DB;
    if (load_exec(l, once ? sql_rows_once : sql_rows, 2, p_rows, &existing, "cannot merge", e) < 0)
        return STORE_ERR_DB;
    int rc = l->o.mode == IMPORT_UNSUBSCRIBE ? load_merge_unsubscribe(l, once, existing, p_list, c, e)
                                             : load_merge_add(l, once, existing, p_list, c, e);
    const char *counts_sql = l->o.mode == IMPORT_SUBSCRIBE     ? sql_sub_counts
                             : l->o.mode == IMPORT_UNSUBSCRIBE ? sql_unsub_counts
                                                               : sql_block_counts;
    if (rc < 0 || load_query_counts(l, counts_sql, outcomes, 3, "cannot count", e) < 0)
        return STORE_ERR_DB;
    c->added += l->ndirect;
    c->updated = outcomes[0];
    c->unchanged = outcomes[1];
    c->skipped = outcomes[2] + suppressed;
    /* Every loaded row is suppressed, or the first of an existing address, a new one, an unknown one, or a repeat. */
    c->duplicates = c->staged - suppressed - existing - c->added - c->not_found;
    return STORE_OK;
}

/*
 * store_import_load_finish - end the COPY, merge, fill C and commit (dry run:
 * roll back). STORE_OK, or STORE_ERR_DB with E; then everything is rolled
 * back and nothing was written. Either way only the free is left to do.
 */
int store_import_load_finish(struct store_import_load *l, struct import_load_counts *c, struct store_err *e)
{
    double t0 = load_now();
    memset(c, 0, sizeof(*c));
    if (load_flush(l, e) < 0)
        goto fail;
    c->staged = l->nstage + l->ndirect;
    log_debug("import: %.2f s to end the COPY, %lld rows straight into subscribers, %lld staged", load_now() - t0,
              l->ndirect, l->nstage);
    if (load_merge(l, c, e) < 0)
        goto fail;
    if (!l->o.dry_run && l->o.mode == IMPORT_SUBSCRIBE && c->added > 0) {
        char n[32];
        const char *p_n[] = { n };
        snprintf(n, sizeof(n), "%lld", c->added);
        if (load_exec(l, DAILY_SUBSCRIBERS_SQL("$1::bigint"), 1, p_n, NULL, "cannot count the new subscribers", e) < 0)
            goto fail;
    }
    int rc = load_command(l, l->o.dry_run ? "ROLLBACK" : "COMMIT", e);
    l->in_tx = false;
    return rc;
fail:
    store_import_load_abort(l, NULL);
    return STORE_ERR_DB;
}

/* store_import_load_abort - stop the COPY with WHY and roll everything back; a finished import is left as it is. */
void store_import_load_abort(struct store_import_load *l, const char *why)
{
    struct store_err e;
    if (l->copying != COPY_NONE)
        load_end_copy(l, why ? why : "import aborted", &e);
    if (l->in_tx)
        pg_rollback(l->conn);
    l->in_tx = false;
}

/* store_import_load_free - release L, rolling back what was not finished; NULL is accepted. */
void store_import_load_free(struct store_import_load *l)
{
    if (!l)
        return;
    store_import_load_abort(l, NULL);
    buf_free(&l->out);
    buf_free(&l->out_direct);
    xfree(l);
}
