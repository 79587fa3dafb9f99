/*
 * webhooks - the outbox's delivery: claim, sign, POST, record, on one libuv
 * loop (libpq asynchronous, libcurl's multi socket interface).
 *
 * One database connection: a claim or a record at a time. Outcomes wait in a
 * list while a query runs and are recorded together when it is done, so the
 * batches grow with the load. The lease of a claimed event is this
 * connection's backend pid: when the process dies the connection goes, and
 * another worker may take its events at once (the lease's time bounds the rest).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "engine/net/webhook_sign.h"
#include "engine/send/webhooks.h"
#include "engine/store/pg_async.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"
#include "engine/util/log.h"

#define WH_U(k, field, dflt, lo, hi, what) \
    SETTING_NUMBER_ENTRY("webhooks", k, SETTING_UNSIGNED, struct webhooks_settings, field, dflt, lo, hi, what)

const struct setting webhooks_table[] = {
    SETTING_TEXT_ENTRY("webhooks", "allow_private", struct webhooks_settings, allow_private, "false",
                       "true: endpoints may be on loopback, link-local or private addresses"),
    WH_U("connect_timeout", connect_timeout_s, 5, 1, 300, "seconds to connect to an endpoint, at most"),
    WH_U("timeout", timeout_s, 15, 1, 600, "seconds for a whole request, at most"),
    WH_U("concurrency", concurrency, 32, 1, 10000, "requests in flight per worker, at most"),
    WH_U("batch", batch, 200, 1, 10000, "events claimed at once, at most (claimed ahead of the requests)"),
    WH_U("backoff", backoff_s, 5, 1, 3600, "seconds before the first retry, doubling (an hour at most)"),
    WH_U("retry_window", retry_window_s, 86400, 1, 30 * 86400, "seconds an event is retried before it is dead"),
    WH_U("disable_after_failures", disable_after_failures, 1000, 1, 100000000,
         "failed attempts in a row that disable an endpoint"),
    WH_U("disable_after", disable_after_s, 86400, 1, 30 * 86400,
         "seconds of nothing but failures that disable an endpoint"),
    WH_U("poll_ms", poll_ms, 100, 5, 60000, "milliseconds between looks at an empty outbox"),
    WH_U("keep_days", keep_days, 7, 1, 3650, "days delivered and dead events and the log are kept"),
    SETTING_TEXT_ENTRY("webhooks", "ca_file", struct webhooks_settings, ca_file, NULL,
                       "the CAs endpoints' certificates are checked against (none: the system's)"),
    { 0 },
};

struct webhooks_settings webhooks_settings = {
    .allow_private = "false", .connect_timeout_s = 5, .timeout_s = 15, .concurrency = 32, .batch = 200,
    .backoff_s = 5, .retry_window_s = 86400, .disable_after_failures = 1000, .disable_after_s = 86400,
    .poll_ms = 100, .keep_days = 7,
};

/* webhooks_settings_check - see webhooks.h. */
int webhooks_settings_check(char *err, size_t errlen)
{
    const char *v = webhooks_settings.allow_private;
    if (v && strcasecmp(v, "true") && strcasecmp(v, "false") && strcmp(v, "1") && strcmp(v, "0") &&
        strcasecmp(v, "yes") && strcasecmp(v, "no")) {
        snprintf(err, errlen, "[webhooks] allow_private = \"%.40s\": not true or false", v);
        return -1;
    }
    return 0;
}

/* webhooks_allow_private - see webhooks.h. */
bool webhooks_allow_private(void)
{
    const char *v = webhooks_settings.allow_private;
    return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0);
}

static struct http_client_opts client_opts(void)
{
    return (struct http_client_opts){
        .connect_timeout_ms = (long)webhooks_settings.connect_timeout_s * 1000,
        .timeout_ms = (long)webhooks_settings.timeout_s * 1000,
        .body_cap = 64 * 1024,
        .allow_private = webhooks_allow_private(),
        .max_host_conns = webhooks_settings.concurrency,
        .ca_file = webhooks_settings.ca_file,
    };
}

/* the headers of message ID with BODY signed by SECRET now, in H (7 slots); -1 for a bad secret */
static int sign_headers(const char *id, const char *secret, const char *body, size_t len, struct buf *hb,
                        const char *h[7])
{
    long long now = (long long)time(NULL);
    struct buf sig = BUF_INIT;
    if (webhook_sign(secret, id, now, body, len, &sig) < 0) {
        buf_free(&sig);
        return -1;
    }
    size_t o1 = hb->len;
    buf_appendf(hb, "webhook-id: %s", id);
    buf_appendc(hb, '\0');
    size_t o2 = hb->len;
    buf_appendf(hb, "webhook-timestamp: %lld", now);
    buf_appendc(hb, '\0');
    size_t o3 = hb->len;
    buf_appendf(hb, "webhook-signature: %s", buf_cstr(&sig));
    buf_appendc(hb, '\0');
    buf_free(&sig);
    h[0] = "Content-Type: application/json";
    h[1] = hb->data + o1;
    h[2] = hb->data + o2;
    h[3] = hb->data + o3;
    h[4] = NULL;
    return 0;
}

/* what an attempt's log says of R: "" for a 2xx, else the status and the answer's first bytes, or the error */
static void outcome_text(const struct http_result *r, char *out, size_t len)
{
    if (r->status >= 200 && r->status <= 299 && !r->error[0]) {
        out[0] = '\0';
        return;
    }
    if (r->error[0] || r->status == 0) {
        snprintf(out, len, "%s", r->error[0] ? r->error : "no answer");
        return;
    }
    char body[121];
    size_t n = 0;
    for (size_t i = 0; r->body[i] && n < sizeof(body) - 1; i++)
        body[n++] = (unsigned char)r->body[i] >= 0x20 && (unsigned char)r->body[i] < 0x7f ? r->body[i] : ' ';
    body[n] = '\0';
    snprintf(out, len, n ? "HTTP %d: %s" : "HTTP %d", r->status, body);
}

/* ---- the worker ---- */

struct wh_worker {
    uv_loop_t *loop;
    char *conninfo;
    struct pg_async *db;
    bool db_ready, connecting;
    struct http_client *hc;
    uv_timer_t timer;
    uv_async_t wake;           /* webhooks_thread_stop */
    uv_signal_t sigint, sigterm;
    bool signals;
    bool stopping, closed;
    pid_t pid;
    /* outcomes not yet recorded */
    size_t n, cap;
    long long *ids;
    int *status, *latency;
    char **error;
    /* claimed, not yet sent (leased all the same) */
    struct wh_send *head, *tail;
    size_t waiting;
    bool sync_needed, analyze_needed;
    uint64_t pruned_at, analyzed_at, claim_started;
    unsigned long long sent, failed;
};

struct wh_send {
    struct wh_worker *w;
    long long id;
    char *url, *secret, *body;
    size_t len;
    struct wh_send *next;
};

static void tick(struct wh_worker *w);
static void on_sent(void *arg, const struct http_result *r);

static void send_free(struct wh_send *s)
{
    OPENSSL_cleanse(s->secret, strlen(s->secret));
    xfree(s->secret);
    xfree(s->url);
    xfree(s->body);
    xfree(s);
}

/* start the waiting requests while there is room */
static void pump(struct wh_worker *w)
{
    struct buf hb = BUF_INIT;
    while (w->head && !w->stopping && http_client_inflight(w->hc) < webhooks_settings.concurrency) {
        struct wh_send *s = w->head;
        w->head = s->next;
        if (!w->head)
            w->tail = NULL;
        w->waiting--;
        char msgid[40];
        snprintf(msgid, sizeof(msgid), "msg_%lld", s->id);
        const char *h[7];
        buf_reset(&hb);
        struct http_result bad = { 0 };
        if (sign_headers(msgid, s->secret, s->body, s->len, &hb, h) < 0) {
            snprintf(bad.error, sizeof(bad.error), "the endpoint's secret is not a whsec_ secret");
            on_sent(s, &bad);
        } else if (http_client_post(w->hc, s->url, h, s->body, s->len, on_sent, s) < 0) {
            snprintf(bad.error, sizeof(bad.error), "cannot start the request");
            on_sent(s, &bad);
        }
    }
    buf_free(&hb);
}

static void on_timer(uv_timer_t *t)
{
    tick(t->data);
}

static void arm(struct wh_worker *w, uint64_t ms)
{
    if (!w->stopping)
        uv_timer_start(&w->timer, on_timer, ms, 0);
}

static void on_open(struct pg_async *pa, int status, void *arg)
{
    (void)pa;
    struct wh_worker *w = arg;
    w->connecting = false;
    if (status < 0) {
        log_error("webhooks: cannot reach the database: %s", pg_async_error(w->db));
        pg_async_close(w->db, NULL, NULL);
        w->db = NULL;
        if (w->stopping) {
            w->n = 0; /* nowhere to record them: their leases run out and they are sent again */
            tick(w);
        } else {
            arm(w, 1000);
        }
        return;
    }
    w->db_ready = true;
    tick(w);
}

/* the connection failed under a query: drop it and open another */
static void db_lost(struct wh_worker *w, PGresult *res, const char *what)
{
    if (res) {
        log_error("webhooks: %s: %s", what, PQresultErrorMessage(res));
        PQclear(res);
        return;
    }
    log_error("webhooks: %s: the database connection was lost", what);
    w->db_ready = false;
    pg_async_close(w->db, NULL, NULL);
    w->db = NULL;
    arm(w, 1000);
}

static void on_sent(void *arg, const struct http_result *r)
{
    struct wh_send *s = arg;
    struct wh_worker *w = s->w;
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 256;
        w->ids = xrealloc(w->ids, w->cap * sizeof(*w->ids));
        w->status = xrealloc(w->status, w->cap * sizeof(*w->status));
        w->latency = xrealloc(w->latency, w->cap * sizeof(*w->latency));
        w->error = xrealloc(w->error, w->cap * sizeof(*w->error));
    }
    char text[300];
    outcome_text(r, text, sizeof(text));
    w->ids[w->n] = s->id;
    w->status[w->n] = r->status;
    w->latency[w->n] = (int)(r->latency_ms > 2000000000 ? 2000000000 : r->latency_ms);
    w->error[w->n] = text[0] ? xstrdup(text) : NULL;
    w->n++;
    if (text[0])
        w->failed++;
    else
        w->sent++;
    send_free(s);
    pump(w);
    tick(w);
}

/* append TEXT to an array literal as one quoted element (NULL: NULL) */
static void array_text(struct buf *b, const char *text)
{
    if (b->len > 1)
        buf_appendc(b, ',');
    if (!text) {
        buf_appends(b, "NULL");
        return;
    }
    buf_appendc(b, '"');
    for (const char *p = text; *p; p++) {
        if (*p == '"' || *p == '\\')
            buf_appendc(b, '\\');
        buf_appendc(b, *p);
    }
    buf_appendc(b, '"');
}

static void on_recorded(struct pg_async *pa, PGresult *res, void *arg)
{
    (void)pa;
    struct wh_worker *w = arg;
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        db_lost(w, res, "cannot record deliveries");
    } else {
        long disabled = strtol(PQgetvalue(res, 0, 0), NULL, 10);
        if (disabled > 0) {
            log_warn("webhooks: %ld endpoint%s disabled: every attempt failing (postino webhook ls)", disabled,
                     disabled == 1 ? "" : "s");
            w->sync_needed = true;
        }
        PQclear(res);
    }
    tick(w);
}

/* record the outcomes waiting, in one transaction */
static void flush(struct wh_worker *w)
{
    struct buf ids = BUF_INIT, st = BUF_INIT, lat = BUF_INIT, err = BUF_INIT;
    buf_appendc(&ids, '{');
    buf_appendc(&st, '{');
    buf_appendc(&lat, '{');
    buf_appendc(&err, '{');
    for (size_t i = 0; i < w->n; i++) {
        buf_appendf(&ids, "%s%lld", i ? "," : "", w->ids[i]);
        if (w->status[i])
            buf_appendf(&st, "%s%d", i ? "," : "", w->status[i]);
        else
            buf_appendf(&st, "%sNULL", i ? "," : "");
        buf_appendf(&lat, "%s%d", i ? "," : "", w->latency[i]);
        array_text(&err, w->error[i]);
        xfree(w->error[i]);
    }
    buf_appendc(&ids, '}');
    buf_appendc(&st, '}');
    buf_appendc(&lat, '}');
    buf_appendc(&err, '}');
    w->n = 0;
    char base[32], win[32], maxf[32], failwin[32];
    snprintf(base, sizeof(base), "%u seconds", webhooks_settings.backoff_s);
    snprintf(win, sizeof(win), "%u seconds", webhooks_settings.retry_window_s);
    snprintf(maxf, sizeof(maxf), "%u", webhooks_settings.disable_after_failures);
    snprintf(failwin, sizeof(failwin), "%u seconds", webhooks_settings.disable_after_s);
    const char *p[] = { buf_cstr(&ids), buf_cstr(&st), buf_cstr(&lat), buf_cstr(&err), base, win, maxf, failwin };
    if (pg_async_query_prepared(w->db, "wh_record",
                                "SELECT webhook_record($1::bigint[], $2::int[], $3::int[], $4::text[],"
                                " $5::interval, $6::interval, $7::int, $8::interval)",
                                8, p, on_recorded, w) < 0)
        log_error("webhooks: cannot record deliveries: %s", pg_async_error(w->db));
    buf_free(&ids);
    buf_free(&st);
    buf_free(&lat);
    buf_free(&err);
}

static void on_claimed(struct pg_async *pa, PGresult *res, void *arg)
{
    (void)pa;
    struct wh_worker *w = arg;
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        db_lost(w, res, "cannot claim events");
        arm(w, 1000);
        return;
    }
    int rows = PQntuples(res);
    /* a slow claim: the planner's idea of the outbox is stale (it was empty when last analyzed) */
    uint64_t ms = (uv_hrtime() - w->claim_started) / 1000000;
    if (ms > 100 && uv_now(w->loop) - w->analyzed_at > 30000) {
        log_debug("webhooks: a claim took %llu ms: analyzing the outbox", (unsigned long long)ms);
        w->analyze_needed = true;
    }
    for (int i = 0; i < rows; i++) {
        struct wh_send *s = xcalloc(1, sizeof(*s));
        s->w = w;
        s->id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        s->url = xstrdup(PQgetvalue(res, i, 2));
        s->secret = xstrdup(PQgetvalue(res, i, 3));
        s->len = (size_t)PQgetlength(res, i, 4);
        s->body = xmemdup(PQgetvalue(res, i, 4), s->len + 1);
        if (w->tail)
            w->tail->next = s;
        else
            w->head = s;
        w->tail = s;
        w->waiting++;
    }
    PQclear(res);
    if (rows == 0)
        arm(w, webhooks_settings.poll_ms);
    pump(w);
    tick(w);
}

static void on_plain(struct pg_async *pa, PGresult *res, void *arg)
{
    (void)pa;
    struct wh_worker *w = arg;
    if (!res || (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK))
        db_lost(w, res, "housekeeping");
    else
        PQclear(res);
    tick(w);
}

static void handle_closed(uv_handle_t *h)
{
    (void)h;
}

static void client_closed(void *arg)
{
    (void)arg;
}

/* everything is recorded and nothing is in flight: close every handle (the loop then ends) */
static void finish(struct wh_worker *w)
{
    if (w->closed)
        return;
    w->closed = true;
    log_info("webhooks: stopped (%llu delivered, %llu failed attempts)", w->sent, w->failed);
    http_client_close(w->hc, client_closed, NULL);
    if (w->db)
        pg_async_close(w->db, NULL, NULL);
    w->db = NULL;
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->timer, handle_closed);
    uv_close((uv_handle_t *)&w->wake, handle_closed);
    if (w->signals) {
        uv_close((uv_handle_t *)&w->sigint, handle_closed);
        uv_close((uv_handle_t *)&w->sigterm, handle_closed);
    }
}

/* the next thing to do: record outcomes, keep the triggers in step, prune, claim; or stop */
static void tick(struct wh_worker *w)
{
    if (w->closed)
        return;
    if (!w->db) {
        if (w->stopping && http_client_inflight(w->hc) == 0 && w->n == 0)
            finish(w);
        else if (!w->connecting && !uv_is_active((uv_handle_t *)&w->timer)) {
            w->connecting = true;
            if (pg_async_open(w->loop, w->conninfo, on_open, w, &w->db) < 0) {
                w->connecting = false;
                w->db = NULL;
                arm(w, 1000);
            }
        }
        return;
    }
    if (!w->db_ready || pg_async_busy(w->db))
        return;
    if (w->n) {
        flush(w);
        return;
    }
    if (w->stopping) {
        if (http_client_inflight(w->hc) == 0)
            finish(w);
        return;
    }
    if (w->sync_needed) {
        w->sync_needed = false;
        pg_async_query(w->db, "SELECT webhook_triggers_sync()", 0, NULL, on_plain, w);
        return;
    }
    if (w->analyze_needed) {
        w->analyze_needed = false;
        w->analyzed_at = uv_now(w->loop);
        pg_async_query(w->db, "ANALYZE webhook_events", 0, NULL, on_plain, w);
        return;
    }
    uint64_t now = uv_now(w->loop);
    if (now - w->pruned_at > 3600 * 1000) {
        w->pruned_at = now;
        char keep[32];
        snprintf(keep, sizeof(keep), "%u days", webhooks_settings.keep_days);
        const char *p[] = { keep };
        pg_async_query(w->db, "SELECT webhook_prune($1::interval)", 1, p, on_plain, w);
        return;
    }
    /* claim ahead: a batch while fewer than a round of requests wait */
    if (w->waiting >= webhooks_settings.concurrency || uv_is_active((uv_handle_t *)&w->timer))
        return;
    char n[16], lease[32];
    snprintf(n, sizeof(n), "%u", webhooks_settings.batch);
    snprintf(lease, sizeof(lease), "%u seconds", webhooks_settings.timeout_s * 2 + 30);
    const char *p[] = { n, lease };
    w->claim_started = uv_hrtime();
    if (pg_async_query_prepared(w->db, "wh_claim",
                                "SELECT id, endpoint_id, url, secret, body FROM webhook_claim($1::int, $2::interval)",
                                2, p, on_claimed, w) < 0)
        arm(w, 1000);
}

/* stop: what was claimed and not sent is let go (its lease ends with this connection) */
static void drop_waiting(struct wh_worker *w)
{
    while (w->head) {
        struct wh_send *s = w->head;
        w->head = s->next;
        send_free(s);
    }
    w->tail = NULL;
    w->waiting = 0;
}

static void on_wake(uv_async_t *a)
{
    struct wh_worker *w = a->data;
    w->stopping = true;
    drop_waiting(w);
    uv_timer_stop(&w->timer);
    tick(w);
}

static void on_signal(uv_signal_t *s, int sig)
{
    struct wh_worker *w = s->data;
    log_info("webhooks: signal %d: finishing what is in flight", sig);
    w->stopping = true;
    drop_waiting(w);
    uv_timer_stop(&w->timer);
    tick(w);
}

static int worker_init(struct wh_worker *w, uv_loop_t *loop, const char *conninfo)
{
    memset(w, 0, sizeof(*w));
    w->loop = loop;
    w->conninfo = xstrdup(conninfo);
    struct http_client_opts o = client_opts();
    w->hc = http_client_new(loop, &o);
    if (!w->hc) {
        log_error("webhooks: libcurl cannot start");
        xfree(w->conninfo);
        return -1;
    }
    uv_timer_init(loop, &w->timer);
    w->timer.data = w;
    uv_async_init(loop, &w->wake, on_wake);
    w->wake.data = w;
    w->pruned_at = uv_now(loop);
    return 0;
}

static void worker_free(struct wh_worker *w)
{
    xfree(w->ids);
    xfree(w->status);
    xfree(w->latency);
    xfree(w->error);
    xfree(w->conninfo);
}

/* webhooks_run - see webhooks.h. */
int webhooks_run(const char *conninfo)
{
    uv_loop_t loop;
    struct wh_worker w;
    uv_loop_init(&loop);
    if (worker_init(&w, &loop, conninfo) < 0) {
        uv_loop_close(&loop);
        return -1;
    }
    w.signals = true;
    uv_signal_init(&loop, &w.sigint);
    uv_signal_init(&loop, &w.sigterm);
    w.sigint.data = w.sigterm.data = &w;
    uv_signal_start(&w.sigint, on_signal, SIGINT);
    uv_signal_start(&w.sigterm, on_signal, SIGTERM);
    log_info("webhooks: delivering (%u requests at once)", webhooks_settings.concurrency);
    tick(&w);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    worker_free(&w);
    return 0;
}

struct webhooks_thread {
    pthread_t tid;
    uv_loop_t loop;
    struct wh_worker w;
};

static void *thread_main(void *arg)
{
    struct webhooks_thread *t = arg;
    tick(&t->w);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    return NULL;
}

/* webhooks_thread_start - see webhooks.h. */
struct webhooks_thread *webhooks_thread_start(const char *conninfo)
{
    struct webhooks_thread *t = xcalloc(1, sizeof(*t));
    uv_loop_init(&t->loop);
    if (worker_init(&t->w, &t->loop, conninfo) < 0) {
        uv_loop_close(&t->loop);
        xfree(t);
        return NULL;
    }
    if (pthread_create(&t->tid, NULL, thread_main, t) != 0) {
        log_error("webhooks: cannot start a thread");
        finish(&t->w);
        uv_run(&t->loop, UV_RUN_DEFAULT);
        uv_loop_close(&t->loop);
        worker_free(&t->w);
        xfree(t);
        return NULL;
    }
    log_info("webhooks: delivering (%u requests at once)", webhooks_settings.concurrency);
    return t;
}

/* webhooks_thread_stop - see webhooks.h. */
void webhooks_thread_stop(struct webhooks_thread *t)
{
    if (!t)
        return;
    uv_async_send(&t->w.wake);
    pthread_join(t->tid, NULL);
    uv_loop_close(&t->loop);
    worker_free(&t->w);
    xfree(t);
}

/* ---- a test sending ---- */

static void probe_done(void *arg, const struct http_result *r)
{
    *(struct http_result *)arg = *r;
}

/*
 * webhook_probe - POST a "webhook.test" event for endpoint ENDPOINT_ID to URL,
 * signed with SECRET, on a loop of its own; *RES the outcome. 0 when the
 * endpoint answered 2xx, -1 otherwise (RES says why).
 */
int webhook_probe(long long endpoint_id, const char *url, const char *secret, struct http_result *res)
{
    memset(res, 0, sizeof(*res));
    unsigned char rnd[8];
    char msgid[40];
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        memset(rnd, 0, sizeof(rnd));
    snprintf(msgid, sizeof(msgid), "msg_test_%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3],
             rnd[4], rnd[5], rnd[6], rnd[7]);
    time_t now = time(NULL);
    struct tm tm;
    char ts[40];
    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    struct buf body = BUF_INIT, hb = BUF_INIT;
    buf_appendf(&body, "{\"type\":\"webhook.test\",\"timestamp\":\"%s\",\"data\":{\"endpoint_id\":%lld}}", ts,
                endpoint_id);
    const char *h[7];
    if (sign_headers(msgid, secret, body.data, body.len, &hb, h) < 0) {
        snprintf(res->error, sizeof(res->error), "the endpoint's secret is not a whsec_ secret");
        buf_free(&body);
        buf_free(&hb);
        return -1;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct http_client_opts o = client_opts();
    struct http_client *hc = http_client_new(&loop, &o);
    int rc = -1;
    if (!hc) {
        snprintf(res->error, sizeof(res->error), "libcurl cannot start");
    } else if (http_client_post(hc, url, h, body.data, body.len, probe_done, res) < 0) {
        snprintf(res->error, sizeof(res->error), "cannot start the request");
        http_client_close(hc, NULL, NULL);
    } else {
        while (http_client_inflight(hc) > 0 && uv_run(&loop, UV_RUN_ONCE))
            ;
        http_client_close(hc, NULL, NULL);
        rc = res->status >= 200 && res->status <= 299 && !res->error[0] ? 0 : -1;
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    buf_free(&body);
    buf_free(&hb);
    return rc;
}
