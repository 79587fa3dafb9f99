/*
 * h_imports - imports over HTTP, through the same engine as postino import.
 *
 * api_imports_create   POST /api/v1/imports?list=…: the body (text/csv or
 *                      XML, spooled to a file by the server) imported at once
 *                      when small, else as a job run by a thread of this server
 *                      (at most [api] import_jobs at once, the others queued)
 * api_imports_preview  POST /api/v1/imports/preview: the body's start read as the import
 *                      would (import_preview): format, delimiter, encoding, what each
 *                      column becomes, the first rows checked; nothing is written
 * api_imports_get      GET /api/v1/imports/{import}: a job's state, progress and summary
 * api_imports_rejects  GET /api/v1/imports/{import}/rejects: its rejected rows (CSV, a download)
 *
 * Every import is a row of import_jobs. A body of at most [api]
 * import_inline_max bytes (default 1 MB) is answered 200 with the summary
 * `postino import --json` prints; a larger one 202 with {id, state,
 * location}. The body is never in memory: the server spooled it, the job
 * renames the file and removes it when done. A running job writes how far
 * it is (rows, bytes, phase) to its row about once a second, over a second
 * connection (the import's own is inside its transaction), so a poll from
 * any server sees it. A job whose server process is
 * gone before it ended (same host, no such process) is reported failed:
 * its transaction died with it, so nothing of it was imported.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "api/handlers.h"
#include "engine/store/import_jobs.h"
#include "engine/store/lists.h"
#include "engine/store/pg.h"
#include "engine/util/alloc.h"
#include "api/settings_api.h"
#include "engine/util/log.h"
#include "engine/util/str.h"
#include "importers/import.h"

#define IMPORT_MAPS_MAX 100
#define PREVIEW_ROWS 20         /* rows a preview shows unless asked */
#define PREVIEW_ROWS_MAX 200

/* one import's options as given, owning its strings (a job's thread keeps them) */
struct import_task {
    char id[32];
    char *conninfo;
    char *path;                 /* the spooled body */
    char *rejects_path;
    char *list, *status, *encoding;
    char actor[300];            /* who imports (api_actor) */
    char *maps[IMPORT_MAPS_MAX];
    size_t nmaps;
    char *lists[IMPORT_LISTS_MAX + 1];   /* every "list" argument, in order */
    size_t nlists;
    struct import_opts o;
    size_t rejects_max;
    struct import_task *next;   /* in the queue of jobs waiting for a thread */
};

/*
 * Jobs wait in a queue and run on at most [api] import_jobs threads at once
 * (default 2), each with one database connection: a burst of large imports
 * queues up instead of taking a thread, a connection and a merge's worth of
 * the database's work each. A job stays "queued" until a thread takes it.
 */
static pthread_mutex_t jobs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct import_task *jobs_head, *jobs_tail;
static unsigned jobs_threads;

static void task_free(struct import_task *t)
{
    xfree(t->conninfo);
    xfree(t->path);
    xfree(t->rejects_path);
    xfree(t->list);
    xfree(t->status);
    xfree(t->encoding);
    for (size_t i = 0; i < t->nmaps; i++)
        xfree(t->maps[i]);
    for (size_t i = 0; i < t->nlists; i++)
        xfree(t->lists[i]);
    xfree(t);
}

/* the repeatable arguments: each "map" and each "list" */
static enum MHD_Result map_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct import_task *t = cls;
    (void)kind;
    if (strcmp(key, "list") == 0) {
        if (t->nlists == IMPORT_LISTS_MAX + 1)
            return MHD_NO;
        t->lists[t->nlists++] = xstrdup(value ? value : "");
        return MHD_YES;
    }
    if (strcmp(key, "map") != 0)
        return MHD_YES;
    if (t->nmaps == IMPORT_MAPS_MAX)
        return MHD_NO;
    t->maps[t->nmaps++] = xstrdup(value ? value : "");
    return MHD_YES;
}

/* a boolean query argument NAME into *V; -1 with 400 set */
static int query_bool(struct api_req *r, const char *name, bool *v)
{
    const char *s = api_query(r, name);
    if (!s)
        return 0;
    if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0 || strcmp(s, "yes") == 0 || !*s)
        *v = true;
    else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0 || strcmp(s, "no") == 0)
        *v = false;
    else {
        api_reply_error(r, 400, "invalid_field", name, "\"%s\" must be true or false", name);
        return -1;
    }
    return 0;
}

/* the options of R's query string into T (ALLOWED: the arguments taken); -1 with 400 set */
static int task_options(struct api_req *r, struct import_task *t, const char *const *allowed)
{
    const char *status = api_query(r, "status");
    struct import_opts *o = &t->o;
    if (api_query_only(r, allowed) < 0)
        return -1;
    static const char *const named[] = { "format", "mode", "status", "delimiter", "encoding" };
    char why[128];
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
        const char *v = api_query(r, named[i]);
        if (v && import_option(o, named[i], v, why, sizeof(why)) < 0)
            return api_reply_error(r, 400, "invalid_field", named[i], "\"%s\" %s", named[i], why), -1;
    }
    if (query_bool(r, "overwrite", &o->load.overwrite) < 0 || query_bool(r, "dry_run", &o->load.dry_run) < 0)
        return -1;
    /* the format: as named, else as the content type says */
    if (!o->format_given)
        o->format = strncasecmp(r->content_type, "text/csv", 8) == 0 ? IMPORT_FORMAT_CSV : IMPORT_FORMAT_XML;
    o->format_given = true;
    if (MHD_get_connection_values(r->mc, MHD_GET_ARGUMENT_KIND, map_arg, t) < 0 || t->nmaps == IMPORT_MAPS_MAX)
        return api_reply_error(r, 400, "invalid_field", "map", "at most %d \"map\" arguments", IMPORT_MAPS_MAX - 1),
               -1;
    for (size_t i = 0; i < t->nlists; i++)
        if (import_option(o, "list", t->lists[i], why, sizeof(why)) < 0)
            return api_reply_error(r, 400, "invalid_field", "list", "\"list\" %s", why), -1;
    struct import_map m = { 0 };
    char err[512];
    for (size_t i = 0; i < t->nmaps; i++)
        if (import_map_add(&m, t->maps[i], err, sizeof(err)) < 0) {
            import_map_free(&m);
            return api_reply_error(r, 400, "invalid_field", "map", "\"map\": %s", err), -1;
        }
    import_map_free(&m);
    api_actor(r, t->actor, sizeof(t->actor));
    o->load.actor = t->actor;
    t->list = o->load.list ? xstrdup(o->load.list) : NULL;
    t->status = status ? xstrdup(status) : NULL;
    t->encoding = o->encoding ? xstrdup(o->encoding) : NULL;
    o->load.list = t->list;
    o->load.status = t->status;
    o->encoding = t->encoding;
    return 0;
}

/* the options of T as stored with the job */
static json_t *task_json(const struct import_task *t)
{
    const struct import_opts *o = &t->o;
    char delim[2] = { (char)o->delimiter, 0 };
    json_t *maps = json_array();
    for (size_t i = 0; i < t->nmaps; i++)
        json_array_append_new(maps, json_string(t->maps[i]));
    json_t *lists = json_array();
    for (size_t i = 0; i < t->nlists; i++)
        json_array_append_new(lists, json_string(t->lists[i]));
    return json_pack("{s:s?, s:o, s:s, s:s, s:b, s:s?, s:s?, s:s?, s:o, s:b}", "list", t->list, "lists", lists,
                     "mode", import_mode_name(o->load.mode), "format", o->format == IMPORT_FORMAT_XML ? "xml" : "csv",
                     "overwrite", o->load.overwrite, "status", t->status, "delimiter",
                     o->delimiter == '\t' ? "tab" : o->delimiter ? delim : NULL, "encoding", t->encoding, "map",
                     maps, "dry_run", o->load.dry_run);
}

/* read at most MAX bytes of PATH into OUT; *TRUNCATED when there was more */
static void rejects_read(const char *path, size_t max, struct buf *out, bool *truncated)
{
    FILE *f = fopen(path, "r");
    char chunk[65536];
    size_t n;
    *truncated = false;
    if (!f)
        return;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (out->len + n > max) {
            buf_append(out, chunk, max - out->len);
            *truncated = true;
            break;
        }
        buf_append(out, chunk, n);
    }
    fclose(f);
}

/*
 * run T's import on CONN and record its outcome: *SUMMARY (the caller's)
 * when it landed, else -1 with ERR. The spooled files are removed.
 */
static int task_run(PGconn *conn, struct import_task *t, json_t **summary, char *err, size_t errlen)
{
    struct import_map map = { 0 };
    struct import_counts counts;
    struct store_err e;
    struct buf rejects = BUF_INIT;
    bool truncated = false;
    *summary = NULL;
    for (size_t i = 0; i < t->nmaps; i++)
        import_map_add(&map, t->maps[i], err, errlen);   /* checked when the request came */
    t->o.map = &map;
    t->o.path = t->path;
    t->o.rejects_path = t->rejects_path;
    int rc = import_run(conn, &t->o, &counts, err, errlen);
    import_map_free(&map);
    if (rc == 0) {
        *summary = import_summary_json(&t->o, "body", &counts);
        json_object_set_new(*summary, "id", json_integer(strtoll(t->id, NULL, 10)));
        rejects_read(t->rejects_path, t->rejects_max, &rejects, &truncated);
    }
    if (store_import_job_finish(conn, t->id, *summary, rc == 0 ? NULL : err, rejects.data, rejects.len, truncated,
                                &e) < 0)
        log_error("api: import %s: %s", t->id, e.msg);
    buf_free(&rejects);
    unlink(t->path);
    unlink(t->rejects_path);
    return rc;
}

/* a job's progress, written to its row over a connection of its own */
struct job_progress {
    const struct import_task *t;
    PGconn *conn;
    bool failed;        /* no connection: progress is not told, the import goes on */
    struct timespec last;
    char phase[16];
};

/* write P to the job's row: at most once a second while reading, at once when the phase changes */
static void job_progress(void *arg, const struct import_progress *p)
{
    struct job_progress *jp = arg;
    struct timespec now;
    struct store_err e;
    char err[512];
    clock_gettime(CLOCK_MONOTONIC, &now);
    bool changed = strcmp(jp->phase, p->phase) != 0;
    if (jp->failed || (!changed && now.tv_sec - jp->last.tv_sec < 1))
        return;
    if (!jp->conn && !(jp->conn = pg_connect(jp->t->conninfo, err, sizeof(err)))) {
        log_warn("api: import %s: its progress will not be shown: %s", jp->t->id, err);
        jp->failed = true;
        return;
    }
    jp->last = now;
    snprintf(jp->phase, sizeof(jp->phase), "%s", p->phase);
    if (store_import_job_progress(jp->conn, jp->t->id, p->rows, p->rejected, p->bytes_read, p->phase, &e) < 0)
        log_warn("api: import %s: %s", jp->t->id, e.msg);
}

/* one job: its own connection, the import, the outcome recorded */
static void job_run(struct import_task *t)
{
    char err[1024];
    struct store_err e;
    json_t *summary = NULL;
    struct job_progress jp = { .t = t };
    t->o.on_progress = job_progress;
    t->o.progress_arg = &jp;
    PGconn *conn = pg_connect(t->conninfo, err, sizeof(err));
    if (!conn) {
        log_error("api: import %s cannot start: %s", t->id, err);
        unlink(t->path);
    } else if (store_import_job_start(conn, t->id, &e) < 0) {
        log_error("api: import %s cannot start: %s", t->id, e.msg);
        unlink(t->path);
    } else {
        log_info("api: import %s started", t->id);
        if (task_run(conn, t, &summary, err, sizeof(err)) == 0)
            log_info("api: import %s done", t->id);
        else
            log_warn("api: import %s failed: %s", t->id, err);
    }
    json_decref(summary);
    if (conn)
        PQfinish(conn);
    if (jp.conn)
        PQfinish(jp.conn);
    task_free(t);
}

/* a job thread: the queue's jobs one after another, until it is empty */
static void *job_thread(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&jobs_lock);
        struct import_task *t = jobs_head;
        if (!t) {
            jobs_threads--;
            pthread_mutex_unlock(&jobs_lock);
            return NULL;
        }
        jobs_head = t->next;
        if (!jobs_head)
            jobs_tail = NULL;
        pthread_mutex_unlock(&jobs_lock);
        job_run(t);
    }
}

/* queue T as a job, with a thread for it when fewer than [api] import_jobs run; 0 or -1 */
static int job_start(struct import_task *t)
{
    unsigned max = api_settings.import_jobs;
    int rc = 0;
    pthread_mutex_lock(&jobs_lock);
    if (jobs_threads < max) {
        pthread_t th;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        rc = pthread_create(&th, &attr, job_thread, NULL);
        pthread_attr_destroy(&attr);
        if (rc == 0)
            jobs_threads++;
    }
    if (rc == 0 || jobs_threads > 0) {
        /* queued: a running thread takes it when its current job ends */
        t->next = NULL;
        if (jobs_tail)
            jobs_tail->next = t;
        else
            jobs_head = t;
        jobs_tail = t;
        rc = 0;
    }
    pthread_mutex_unlock(&jobs_lock);
    return rc == 0 ? 0 : -1;
}

/* api_imports_create - POST /api/v1/imports */
void api_imports_create(struct api_req *r)
{
    struct import_task *t = xcalloc(1, sizeof(*t));
    struct store_err e;
    char err[1024], server[300], host[256] = "";
    json_t *j = NULL, *l = NULL;
    size_t inline_max = api_settings.import_inline_max;
    static const char *const allowed[] = { "list", "mode", "overwrite", "status", "delimiter", "encoding",
                                           "map", "format", "dry_run", NULL };
    char why[128];
    t->rejects_max = api_settings.import_rejects_max;
    if (task_options(r, t, allowed) < 0)
        goto out;
    if (import_opts_check(&t->o, why, sizeof(why)) < 0) {
        api_reply_error(r, 400, t->list ? "invalid_field" : "missing_field", "list", "\"list\": %s", why);
        goto out;
    }
    if (!r->body_path || r->body_len == 0) {
        api_reply_error(r, 400, "invalid_field", "body", "the request body is empty");
        goto out;
    }
    if (!api_db(r))
        goto out;
    for (size_t i = 0; i < t->nlists; i++) {
        if (store_list_get(r->conn, t->lists[i], &l, &e) < 0) {
            api_reply_store(r, &e);
            goto out;
        }
        json_decref(l);
        l = NULL;
    }
    bool now = r->body_len <= inline_max;
    gethostname(host, sizeof(host) - 1);
    snprintf(server, sizeof(server), "%s:%d", host, (int)getpid());
    json_t *opts = task_json(t);
    int rc = store_import_job_create(r->conn, opts, (long long)r->body_len, r->user.id, now, server, t->id, &e);
    json_decref(opts);
    if (rc < 0) {
        api_reply_store(r, &e);
        goto out;
    }
    if (now) {
        t->path = xstrdup(r->body_path);
        t->rejects_path = xasprintf("%s.rejects", r->body_path);
        if (task_run(r->conn, t, &j, err, sizeof(err)) == 0)
            api_reply_json(r, 200, j);
        else
            api_reply_error(r, 400, "invalid_import", "body", "nothing was imported: %s", err);
        goto out;
    }
    /* the spooled file becomes the job's: the server removes the old name only */
    char *dir = xstrdup(r->body_path), *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    t->path = xasprintf("%s/import-%s.data", slash ? dir : ".", t->id);
    t->rejects_path = xasprintf("%s/import-%s.rejects", slash ? dir : ".", t->id);
    xfree(dir);
    t->conninfo = xstrdup(api_conninfo(r));
    if (rename(r->body_path, t->path) < 0 || job_start(t) < 0) {
        log_error("api: import %s cannot start: %s", t->id, strerror(errno));
        unlink(t->path);
        store_import_job_finish(r->conn, t->id, NULL, "the import could not be started", NULL, 0, false, &e);
        api_reply_error(r, 503, "unavailable", NULL, "the import could not be started; try again later");
        goto out;
    }
    api_reply_json(r, 202, json_pack("{s:I, s:s, s:s+}", "id", (json_int_t)strtoll(t->id, NULL, 10), "state",
                                     "queued", "location", "/api/v1/imports/", t->id));
    t = NULL;   /* the thread's now */
out:
    json_decref(l);
    if (t)
        task_free(t);
}

/* the lists' names and ids into L; 0, or -1 with the answer set */
static int lists_known(struct api_req *r, struct import_lists *l)
{
    struct store_err e;
    json_t *all = NULL, *x;
    size_t i;
    if (store_list_names(r->conn, &all, &e) < 0) {
        api_reply_store(r, &e);
        return -1;
    }
    json_array_foreach(all, i, x)
        import_lists_add(l, json_string_value(json_object_get(x, "name")),
                         (long long)json_integer_value(json_object_get(x, "id")));
    json_decref(all);
    return 0;
}

/* api_imports_preview - POST /api/v1/imports/preview: what importing the body would read; nothing is written */
void api_imports_preview(struct api_req *r)
{
    static const char *const allowed[] = { "list", "mode", "overwrite", "status", "delimiter", "encoding",
                                           "map", "format", "dry_run", "rows", "partial", NULL };
    struct import_task *t = xcalloc(1, sizeof(*t));
    struct import_map map = { 0 };
    struct import_lists lists = { 0 };
    const char *rows_arg = api_query(r, "rows");
    long rows = PREVIEW_ROWS;
    char err[1024];
    bool partial = false;
    if (task_options(r, t, allowed) < 0 || query_bool(r, "partial", &partial) < 0)
        goto out;
    if (rows_arg && str_parse_long(rows_arg, 1, PREVIEW_ROWS_MAX, &rows) < 0) {
        api_reply_error(r, 400, "invalid_field", "rows", "\"rows\" must be a number from 1 to %d", PREVIEW_ROWS_MAX);
        goto out;
    }
    if (!r->body_path || r->body_len == 0) {
        api_reply_error(r, 400, "invalid_field", "body", "the request body is empty");
        goto out;
    }
    if (t->o.format == IMPORT_FORMAT_XML && (!api_db(r) || lists_known(r, &lists) < 0))
        goto out;
    for (size_t i = 0; i < t->nmaps; i++)
        import_map_add(&map, t->maps[i], err, sizeof(err));   /* checked in task_options */
    t->o.map = &map;
    t->o.path = r->body_path;
    json_t *j = import_preview(&t->o, &lists, (size_t)rows, partial, err, sizeof(err));
    if (!j)
        api_reply_error(r, 400, "invalid_field", strstr(err, "encoding") ? "encoding" : "body", "%s", err);
    else
        api_reply_json(r, 200, j);
out:
    import_map_free(&map);
    import_lists_free(&lists);
    task_free(t);
}

/* did job J's server (HOST:PID) run on this host and end before the job did */
static bool job_orphaned(json_t *j)
{
    const char *state = json_string_value(json_object_get(j, "state"));
    const char *server = json_string_value(json_object_get(j, "server"));
    char host[256] = "";
    const char *colon = server ? strrchr(server, ':') : NULL;
    if (!state || (strcmp(state, "queued") != 0 && strcmp(state, "running") != 0) || !colon)
        return false;
    gethostname(host, sizeof(host) - 1);
    long pid = strtol(colon + 1, NULL, 10);
    return strlen(host) == (size_t)(colon - server) && strncmp(server, host, strlen(host)) == 0 && pid > 0 &&
           pid != (long)getpid() && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* api_imports_get - GET /api/v1/imports/{import} */
void api_imports_get(struct api_req *r)
{
    struct store_err e;
    json_t *j = NULL;
    if (!api_db(r))
        return;
    if (store_import_job_get(r->conn, api_param(r, 0), &j, &e) < 0)
        return api_reply_store(r, &e);
    if (job_orphaned(j)) {
        json_decref(j);
        j = NULL;
        if (store_import_job_finish(r->conn, api_param(r, 0), NULL,
                                    "the server running the import stopped before it ended; nothing was imported",
                                    NULL, 0, false, &e) < 0 ||
            store_import_job_get(r->conn, api_param(r, 0), &j, &e) < 0)
            return api_reply_store(r, &e);
    }
    api_reply_json(r, 200, j);
}

/* api_imports_rejects - GET /api/v1/imports/{import}/rejects: line,reason,row as CSV */
void api_imports_rejects(struct api_req *r)
{
    struct store_err e;
    struct buf csv = BUF_INIT;
    if (!api_db(r))
        return;
    if (store_import_job_rejects(r->conn, api_param(r, 0), &csv, &e) < 0) {
        buf_free(&csv);
        return api_reply_store(r, &e);
    }
    if (csv.len == 0)
        buf_appends(&csv, "line,reason,row\n");
    /* a download, named by the import: the id is digits (the store found the job by it) */
    r->disposition = xasprintf("attachment; filename=\"import-%s-rejects.csv\"", api_param(r, 0));
    api_reply_text(r, 200, "text/csv; charset=utf-8", &csv);
    buf_free(&csv);
}
