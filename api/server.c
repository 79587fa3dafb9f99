/*
 * server - libmicrohttpd glue: body accumulation with a limit (413) or,
 * for imports, spooling to a file under a larger limit,
 * content-type checks (415), routing (404/405), Bearer-token login
 * (401/403), dispatch to a handler, the answer, and the HTTP counters.
 *
 * Handlers run on MHD's worker threads and block on the database through
 * the connection pool. Failures to start are reported in ERR; failures while
 * serving are answered, and logged without secrets.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "api/auth.h"
#include "api/dbpool.h"
#include "api/request.h"
#include "api/server.h"
#include "engine/store/settings.h"
#include "engine/util/alloc.h"
#include "engine/util/conf.h"
#include "engine/util/file.h"
#include "engine/util/log.h"
#include "engine/util/str.h"

#define API_DB_WAIT_MS 5000

struct http_count {
    size_t route;              /* index in api_routes; nroutes: no route */
    int status;
    unsigned long long n;
};

/*
 * A token checked against the database is believed for auth_cache_ms
 * (default 1 s) without asking again: half the statements of a small
 * request. Changes made through this server (disable, delete, password,
 * token removed) empty the cache at once (api_auth_forget); changes made
 * elsewhere (the CLI, another server) take effect within auth_cache_ms.
 */
#define AUTH_CACHE_SLOTS 128

struct auth_slot {
    char hash[AUTH_TOKEN_HASH_LEN + 1];
    struct user_auth user;
    uint64_t until_ms;
};

struct api_server {
    struct MHD_Daemon *mhd;
    struct dbpool *pool;
    size_t max_body;
    size_t import_max_body;
    char *spool_dir;
    char *conninfo;
    size_t nroutes;
    pthread_mutex_t lock;      /* the counters and the token key */
    struct http_count *counts;
    size_t ncounts;
    bool key_ready;
    unsigned char key[TOKEN_KEY_LEN];
    struct buf tls_cert, tls_key;  /* PEM, kept while the daemon runs */
    unsigned auth_cache_ms;        /* how long a checked token is believed; 0: never */
    struct auth_slot auth_cache[AUTH_CACHE_SLOTS];
};

/* one request's state between MHD's calls */
struct req_state {
    struct api_match match;    /* the route, matched once on arrival */
    int matched;               /* api_router_match's answer */
    struct buf body;
    bool too_large;
    size_t limit;
    int spool_fd;              /* API_BODY_FILE: the body goes here, not in BODY */
    char *spool_path;
    size_t spooled;
    bool spool_failed;
};

/* api_server_config_from_conf - CFG from the defaults and the [http] and [api] sections. */
void api_server_config_from_conf(struct api_server_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->listen = conf_get("http", "listen", "127.0.0.1:8080");
    cfg->max_body = (size_t)conf_get_long("http", "max_body", 10L * 1024 * 1024, 1024, 1024L * 1024 * 1024);
    cfg->db_pool = (unsigned)conf_get_long("http", "db_pool", 8, 1, 1000);
    cfg->auth_cache_ms = (unsigned)conf_get_long("http", "auth_cache_ms", 1000, 0, 60000);
    cfg->threads = (unsigned)conf_get_long("http", "threads", 0, 0, 1024);
    cfg->tls_cert = conf_get("http", "tls_cert", NULL);
    cfg->tls_key = conf_get("http", "tls_key", NULL);
    cfg->import_max_body = (size_t)conf_get_long("api", "import_max_body", 1024L * 1024 * 1024, 1024,
                                                 64L * 1024 * 1024 * 1024);
    cfg->spool_dir = conf_get("api", "spool_dir", NULL);
}

/* api_conninfo - the conninfo of R's server. */
const char *api_conninfo(struct api_req *r)
{
    return r->srv->conninfo;
}

/* ---- what handlers call ---- */

/* api_db - R's database connection, borrowed on first use; NULL with 503 set. */
PGconn *api_db(struct api_req *r)
{
    if (!r->conn) {
        r->conn = dbpool_get(r->srv->pool, API_DB_WAIT_MS);
        if (!r->conn)
            api_reply_error(r, 503, "unavailable", NULL, "the database is not available; try again later");
    }
    return r->conn;
}

/*
 * api_db_renew - after a query failed on R's connection because the server
 * dropped it (a restart): that connection back, and a new one; NULL (with
 * 503 set) when the connection is fine or none can be made.
 */
PGconn *api_db_renew(struct api_req *r)
{
    if (!r->conn || PQstatus(r->conn) == CONNECTION_OK)
        return NULL;
    dbpool_put(r->srv->pool, r->conn);
    r->conn = NULL;
    return api_db(r);
}

/* api_param - the I-th {…} segment of R's path ("" past the last). */
const char *api_param(struct api_req *r, size_t i)
{
    return i < r->match.nparams ? r->match.params[i] : "";
}

/* api_query - query argument NAME of R, or NULL. */
const char *api_query(struct api_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->mc, MHD_GET_ARGUMENT_KIND, name);
}

struct query_check {
    const char *const *allowed;
    char bad[48];
    bool bad_utf8;
};

static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct query_check *q = cls;
    (void)kind;
    if (!str_utf8_valid(key, strlen(key), NULL) || (value && !str_utf8_valid(value, strlen(value), NULL))) {
        q->bad_utf8 = true;
        snprintf(q->bad, sizeof(q->bad), "%s", str_utf8_valid(key, strlen(key), NULL) ? key : "?");
        return MHD_NO;
    }
    for (size_t i = 0; q->allowed && q->allowed[i]; i++) {
        size_t n = strlen(q->allowed[i]);
        /* "prefix." allows any non-empty name after it */
        if (n && q->allowed[i][n - 1] == '.' ? strncmp(q->allowed[i], key, n) == 0 && key[n]
                                             : strcmp(q->allowed[i], key) == 0)
            return MHD_YES;
    }
    snprintf(q->bad, sizeof(q->bad), "%.40s", key);
    /* cut a partial UTF-8 character left by the truncation */
    size_t n = strlen(q->bad);
    if (n == 40)
        while (n > 0 && ((unsigned char)q->bad[n - 1] & 0xC0) == 0x80)
            q->bad[--n] = 0;
    return MHD_NO;
}

/* api_query_only - 0, or -1 with 400 set when R has a query argument not in ALLOWED ("p.": any p.NAME) or not UTF-8. */
int api_query_only(struct api_req *r, const char *const *allowed)
{
    struct query_check q = { .allowed = allowed };
    MHD_get_connection_values(r->mc, MHD_GET_ARGUMENT_KIND, query_arg, &q);
    if (q.bad_utf8) {
        api_reply_error(r, 400, "invalid_utf8", q.bad, "query argument \"%s\" is not valid UTF-8", q.bad);
        return -1;
    }
    if (q.bad[0]) {
        api_reply_error(r, 400, "unknown_field", q.bad, "unknown query argument \"%s\"", q.bad);
        return -1;
    }
    return 0;
}

/* api_body - R's body checked against FIELDS in *OUT (the caller's); -1 with 400 set. */
int api_body(struct api_req *r, const struct api_field *fields, json_t **out)
{
    struct api_err e;
    *out = NULL;
    if (r->body_len == 0 && r->match.route->body == API_BODY_OPT_JSON) {
        *out = json_object();
        return 0;
    }
    if (api_json_parse(r->body, r->body_len, out, &e) < 0 || api_json_check(*out, fields, &e) < 0) {
        json_decref(*out);
        *out = NULL;
        api_reply_err(r, &e);
        return -1;
    }
    return 0;
}

static void set_reply(struct api_req *r, int status, char *data, size_t len, const char *type)
{
    xfree(r->resp);
    r->status = status;
    r->resp = data;
    r->resp_len = len;
    r->resp_type = type;
}

/* api_reply_json - answer STATUS with J, whose reference is taken. */
void api_reply_json(struct api_req *r, int status, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    json_decref(j);
    if (!s)
        log_panic("api: cannot encode an answer");
    size_t n = strlen(s);
    char *copy = xmalloc(n + 2);
    memcpy(copy, s, n);
    copy[n] = '\n';
    copy[n + 1] = 0;
    free(s);
    set_reply(r, status, copy, n + 1, "application/json");
}

/* api_reply_items - answer 200 with {"items": ARRAY}, whose reference is taken. */
void api_reply_items(struct api_req *r, json_t *array)
{
    json_t *o = json_object();
    json_object_set_new(o, "items", array);
    api_reply_json(r, 200, o);
}

/* api_reply_err - answer with the envelope of a decoding error. */
void api_reply_err(struct api_req *r, const struct api_err *e)
{
    api_reply_json(r, e->status, api_error_json(e));
}

/* api_reply_error - answer STATUS with the error envelope (FIELD may be NULL). */
void api_reply_error(struct api_req *r, int status, const char *code, const char *field, const char *fmt, ...)
{
    struct api_err e;
    va_list ap;
    e.status = status;
    e.has_field = field != NULL;
    snprintf(e.code, sizeof(e.code), "%s", code);
    snprintf(e.field, sizeof(e.field), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof(e.message), fmt, ap);
    va_end(ap);
    api_reply_err(r, &e);
}

/* api_reply_store - answer a store error: 404, 409, 400, or 503 (the database's words only logged). */
void api_reply_store(struct api_req *r, const struct store_err *e)
{
    switch (e->code) {
    case STORE_ERR_NOTFOUND: api_reply_error(r, 404, "not_found", NULL, "%s", e->msg); break;
    case STORE_ERR_EXISTS: api_reply_error(r, 409, "exists", NULL, "%s", e->msg); break;
    case STORE_ERR_INVALID: api_reply_error(r, 400, "invalid", NULL, "%s", e->msg); break;
    default:
        log_error("api: %s %s: %s", r->method, r->match.route ? r->match.route->pattern : r->path, e->msg);
        api_reply_error(r, 503, "unavailable", NULL, "the database could not do this now; try again later");
    }
}

/* api_reply_text - answer STATUS with TEXT of content type TYPE (the buffer is emptied). */
void api_reply_text(struct api_req *r, int status, const char *type, struct buf *text)
{
    size_t n;
    char *s = buf_detach(text, &n);
    set_reply(r, status, s ? s : xstrdup(""), s ? n : 0, type);
}

/* api_reply_page - answer STATUS with an HTML page (the buffer is emptied). */
void api_reply_page(struct api_req *r, int status, struct buf *html)
{
    api_reply_text(r, status, "text/html; charset=utf-8", html);
}

/* api_reply_empty - answer STATUS with no body. */
void api_reply_empty(struct api_req *r, int status)
{
    set_reply(r, status, NULL, 0, NULL);
}

/* api_reply_redirect - answer STATUS with no body and "Location: URL" (URL copied). */
void api_reply_redirect(struct api_req *r, int status, const char *url)
{
    set_reply(r, status, NULL, 0, NULL);
    xfree(r->location);
    r->location = xstrdup(url);
}

/* api_token_key - the token HMAC key in KEY (read once, then cached); -1 with 503 set. */
int api_token_key(struct api_req *r, unsigned char key[TOKEN_KEY_LEN])
{
    struct api_server *s = r->srv;
    pthread_mutex_lock(&s->lock);
    bool ready = s->key_ready;
    if (ready)
        memcpy(key, s->key, TOKEN_KEY_LEN);
    pthread_mutex_unlock(&s->lock);
    if (ready)
        return 0;
    struct store_err e;
    PGconn *conn = api_db(r);
    if (!conn)
        return -1;
    if (store_secret(conn, "token_key", key, TOKEN_KEY_LEN, &e) < 0) {
        api_reply_store(r, &e);
        return -1;
    }
    pthread_mutex_lock(&s->lock);
    memcpy(s->key, key, TOKEN_KEY_LEN);
    s->key_ready = true;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

/* ---- counters ---- */

static void count_request(struct api_server *s, size_t route, int status)
{
    pthread_mutex_lock(&s->lock);
    size_t i;
    for (i = 0; i < s->ncounts; i++)
        if (s->counts[i].route == route && s->counts[i].status == status)
            break;
    if (i == s->ncounts) {
        s->counts = xrealloc(s->counts, (s->ncounts + 1) * sizeof(*s->counts));
        s->counts[i] = (struct http_count){ route, status, 0 };
        s->ncounts++;
    }
    s->counts[i].n++;
    pthread_mutex_unlock(&s->lock);
}

/* api_http_metrics - append S's request counters to OUT in Prometheus text format. */
void api_http_metrics(struct api_server *s, struct buf *out)
{
    buf_appends(out, "# HELP postino_http_requests_total HTTP requests answered, by route and status.\n"
                     "# TYPE postino_http_requests_total counter\n");
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->ncounts; i++) {
        const struct http_count *c = &s->counts[i];
        if (c->route < s->nroutes)
            buf_appendf(out, "postino_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"} %llu\n",
                        api_routes[c->route].method, api_routes[c->route].pattern, c->status, c->n);
        else
            buf_appendf(out, "postino_http_requests_total{method=\"\",route=\"\",status=\"%d\"} %llu\n", c->status,
                        c->n);
    }
    pthread_mutex_unlock(&s->lock);
}

/* ---- one request ---- */

static bool is_json_type(const char *ct)
{
    if (!ct)
        return false;
    size_t n = strlen("application/json");
    if (strncasecmp(ct, "application/json", n) != 0)
        return false;
    const char *p = ct + n;
    while (*p == ' ')
        p++;
    if (!*p)
        return true;
    if (*p != ';')
        return false;
    p++;
    while (*p == ' ')
        p++;
    return strcasecmp(p, "charset=utf-8") == 0 || strcasecmp(p, "charset=\"utf-8\"") == 0;
}

/* is CT one a spooled body may have: text/csv, application/xml, text/xml (any parameters) */
static bool is_file_type(const char *ct)
{
    static const char *const types[] = { "text/csv", "application/xml", "text/xml", NULL };
    if (!ct)
        return false;
    for (size_t i = 0; types[i]; i++) {
        size_t n = strlen(types[i]);
        if (strncasecmp(ct, types[i], n) == 0 && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' '))
            return true;
    }
    return false;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* the slot of the token HASH (hex SHA-256: its first octets are as good as any) */
static struct auth_slot *auth_slot_of(struct api_server *s, const char *hash)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++)
        v = v * 16 + (unsigned)(hash[i] <= '9' ? hash[i] - '0' : hash[i] - 'a' + 10);
    return &s->auth_cache[v % AUTH_CACHE_SLOTS];
}

/* auth_cached - true with *USER when the token HASH was checked less than auth_cache_ms ago */
static bool auth_cached(struct api_server *s, const char *hash, struct user_auth *user)
{
    if (!s->auth_cache_ms)
        return false;
    pthread_mutex_lock(&s->lock);
    struct auth_slot *a = auth_slot_of(s, hash);
    bool hit = a->until_ms > now_ms() && strcmp(a->hash, hash) == 0;
    if (hit)
        *user = a->user;
    pthread_mutex_unlock(&s->lock);
    return hit;
}

/* auth_remember - believe the token HASH to be USER's for auth_cache_ms */
static void auth_remember(struct api_server *s, const char *hash, const struct user_auth *user)
{
    if (!s->auth_cache_ms)
        return;
    pthread_mutex_lock(&s->lock);
    struct auth_slot *a = auth_slot_of(s, hash);
    memcpy(a->hash, hash, sizeof(a->hash));
    a->user = *user;
    a->until_ms = now_ms() + s->auth_cache_ms;
    pthread_mutex_unlock(&s->lock);
}

/* auth_forget - forget the tokens checked (a user or token changed: the next request of each asks again) */
static void auth_forget(struct api_req *r)
{
    pthread_mutex_lock(&r->srv->lock);
    memset(r->srv->auth_cache, 0, sizeof(r->srv->auth_cache));
    pthread_mutex_unlock(&r->srv->lock);
}

static int authenticate(struct api_req *r)
{
    const char *h = MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    char hash[AUTH_TOKEN_HASH_LEN + 1];
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
        api_reply_error(r, 401, "unauthorized", NULL, "an API token is required (Authorization: Bearer TOKEN)");
        return -1;
    }
    const char *tok = h + 7;
    while (*tok == ' ')
        tok++;
    size_t n = strlen(tok);
    if (n < 8 || n > AUTH_TOKEN_MAX || !str_has_prefix(tok, AUTH_TOKEN_PREFIX)) {
        api_reply_error(r, 401, "unauthorized", NULL, "the API token is not valid");
        return -1;
    }
    auth_token_hash(tok, hash);
    if (!auth_cached(r->srv, hash, &r->user)) {
        PGconn *conn = api_db(r);
        if (!conn)
            return -1;
        struct store_err e;
        if (store_token_auth(conn, hash, &r->user, &e) < 0) {
            if (e.code == STORE_ERR_NOTFOUND)
                api_reply_error(r, 401, "unauthorized", NULL, "the API token is not valid");
            else
                api_reply_store(r, &e);
            return -1;
        }
        if (r->user.active)
            auth_remember(r->srv, hash, &r->user);
    }
    if (!r->user.active) {
        api_reply_error(r, 401, "unauthorized", NULL, "this user is disabled");
        return -1;
    }
    if (r->match.route->access == API_ADMIN && strcmp(r->user.role, "admin") != 0) {
        api_reply_error(r, 403, "forbidden", NULL, "this needs the admin role");
        return -1;
    }
    return 0;
}

/* decide and produce the answer for R */
static void handle(struct api_req *r, struct req_state *st)
{
    int m = st->matched;
    if (m == API_ROUTE_NOT_FOUND) {
        api_reply_error(r, 404, "not_found", NULL, "no such resource");
        return;
    }
    if (m == API_ROUTE_BAD_METHOD) {
        api_reply_error(r, 405, "method_not_allowed", NULL, "method %s is not allowed here",
                        strlen(r->method) < 16 ? r->method : "?");
        return;
    }
    for (size_t i = 0; i < r->match.nparams; i++)
        if (!str_utf8_valid(r->match.params[i], strlen(r->match.params[i]), NULL)) {
            api_reply_error(r, 400, "invalid_utf8", "id", "the path is not valid UTF-8");
            return;
        }
    const struct api_route *rt = r->match.route;
    if (rt->access != API_PUBLIC && authenticate(r) < 0)
        return;
    if (st->too_large) {
        api_reply_error(r, 413, "too_large", NULL, "the request body is larger than %zu bytes", st->limit);
        return;
    }
    if (st->spool_failed) {
        api_reply_error(r, 503, "unavailable", NULL, "the request body could not be stored; try again later");
        return;
    }
    if (rt->body == API_BODY_JSON || (rt->body == API_BODY_OPT_JSON && r->body_len > 0)) {
        if (!is_json_type(r->content_type)) {
            api_reply_error(r, 415, "unsupported_media_type", NULL, "the request body must be application/json");
            return;
        }
    } else if (rt->body == API_BODY_FILE) {
        if (!is_file_type(r->content_type)) {
            api_reply_error(r, 415, "unsupported_media_type", NULL,
                            "the request body must be text/csv, application/xml or text/xml");
            return;
        }
    } else if (rt->body == API_BODY_NONE && r->body_len > 0) {
        api_reply_error(r, 415, "unsupported_media_type", NULL, "this request takes no body");
        return;
    }
    rt->fn(r);
    /* a user or a token changed here: no cached login may outlive it */
    if (strcmp(r->method, "GET") != 0 && r->status < 300 &&
        (str_has_prefix(rt->pattern, "/api/v1/users") || str_has_prefix(rt->pattern, "/api/v1/me")))
        auth_forget(r);
    if (!r->status) {
        log_error("api: %s %s gave no answer", r->method, rt->pattern);
        api_reply_error(r, 500, "internal", NULL, "internal error");
    }
}

static enum MHD_Result send_reply(struct MHD_Connection *mc, struct api_req *r)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r->resp_len, r->resp ? r->resp : (void *)"", r->resp ? MHD_RESPMEM_MUST_FREE
                                                                                             : MHD_RESPMEM_PERSISTENT);
    r->resp = NULL;
    if (r->resp_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->resp_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (r->resp_type && str_has_prefix(r->resp_type, "text/html"))
        MHD_add_response_header(resp, "Content-Security-Policy",
                                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
    if (r->status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (r->location)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
    xfree(r->location);
    r->location = NULL;
    enum MHD_Result ok = MHD_queue_response(mc, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* a new spool file for ST's body in S's spool folder; 0 or -1 (logged) */
static int spool_open(struct api_server *s, struct req_state *st)
{
    char *path = xasprintf("%s/body-XXXXXX", s->spool_dir);
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0) {
        log_error("api: cannot create a file in %s: %s", s->spool_dir, strerror(errno));
        xfree(path);
        return -1;
    }
    st->spool_fd = fd;
    st->spool_path = path;
    return 0;
}

/* append DATA to ST's spool file; a failure is answered 503 at the end */
static void spool_write(struct req_state *st, const char *data, size_t len)
{
    while (len > 0 && !st->spool_failed) {
        ssize_t n = write(st->spool_fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            log_error("api: cannot write %s: %s", st->spool_path, n < 0 ? strerror(errno) : "no space");
            st->spool_failed = true;
            break;
        }
        data += n, len -= (size_t)n, st->spooled += (size_t)n;
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct api_server *s = cls;
    struct req_state *st = *con_cls;
    (void)version;
    if (!st) {
        st = xcalloc(1, sizeof(*st));
        st->spool_fd = -1;
        *con_cls = st;
        struct api_req r = { .srv = s, .mc = mc, .method = method, .path = url };
        st->matched = api_router_match(api_routes, method, url, &st->match);
        r.match = st->match;
        bool spool = r.match.route && r.match.route->body == API_BODY_FILE;
        st->limit = spool ? s->import_max_body : s->max_body;
        const char *cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > st->limit) {
            /* refuse before reading the body (no 100 Continue); MHD closes the connection after */
            st->too_large = true;
            api_reply_error(&r, 413, "too_large", NULL, "the request body is larger than %zu bytes", st->limit);
        } else if (spool) {
            /* a large body is stored only for someone allowed to send it, of a type that can be read */
            r.content_type = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
            if (authenticate(&r) == 0 && !is_file_type(r.content_type))
                api_reply_error(&r, 415, "unsupported_media_type", NULL,
                                "the request body must be text/csv, application/xml or text/xml");
            if (!r.status && spool_open(s, st) < 0)
                api_reply_error(&r, 503, "unavailable", NULL, "the request body could not be stored; try again later");
            if (r.conn)
                dbpool_put(s->pool, r.conn);
            if (r.status)
                st->too_large = true;   /* whatever comes is dropped */
        }
        if (!r.status)
            return MHD_YES;   /* the match stays in ST for the answer */
        count_request(s, r.match.route ? r.match.index : s->nroutes, r.status);
        return send_reply(mc, &r);
    }
    if (*upload_data_size) {
        if (st->too_large || st->spooled + st->body.len + *upload_data_size > st->limit)
            st->too_large = true;
        else if (st->spool_fd >= 0)
            spool_write(st, upload_data, *upload_data_size);
        else
            buf_append(&st->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct api_req r = { .srv = s, .mc = mc, .method = method, .path = url, .match = st->match };
    r.content_type = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    r.body = st->too_large ? "" : buf_cstr(&st->body);
    r.body_len = st->too_large ? 0 : st->body.len;
    if (st->spool_fd >= 0) {
        close(st->spool_fd);
        st->spool_fd = -1;
        r.body_path = st->spool_path;
        r.body_len = st->too_large ? 0 : st->spooled;
    }
    handle(&r, st);
    if (r.conn)
        dbpool_put(s->pool, r.conn);
    count_request(s, r.match.route ? r.match.index : s->nroutes, r.status);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* the route's pattern, never the path: /u/TOKEN is a capability */
    log_debug("api: %s %s %d %.1f ms", strlen(method) < 16 ? method : "?", r.match.route ? r.match.route->pattern : "-",
              r.status, (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    return send_reply(mc, &r);
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    struct req_state *st = *con_cls;
    (void)cls, (void)mc, (void)toe;
    if (st) {
        if (st->spool_fd >= 0)
            close(st->spool_fd);
        if (st->spool_path) {
            unlink(st->spool_path);   /* gone already when a handler moved it */
            xfree(st->spool_path);
        }
        buf_free(&st->body);
        api_match_free(&st->match);
        xfree(st);
        *con_cls = NULL;
    }
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = 0;
    log_warn("api: http: %s", msg);
}

/* split ADDR:PORT or [ADDR]:PORT and resolve it */
static struct addrinfo *resolve_listen(const char *listen, char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || !colon[1] || (size_t)(colon - listen) >= sizeof(host)) {
        snprintf(err, errlen, "cannot listen on \"%s\": give ADDRESS:PORT", listen);
        return NULL;
    }
    const char *h = listen;
    size_t hl = (size_t)(colon - listen);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']')
        h++, hl -= 2;
    memcpy(host, h, hl);
    host[hl] = 0;
    long port;
    if (str_parse_long(colon + 1, 1, 65535, &port) < 0) {
        snprintf(err, errlen, "cannot listen on \"%s\": the port must be from 1 to 65535", listen);
        return NULL;
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *ai;
    int rc = getaddrinfo(host, colon + 1, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "cannot listen on \"%s\": %s", listen, gai_strerror(rc));
        return NULL;
    }
    return ai;
}

#define TLS_FILE_MAX (1024 * 1024)

/*
 * tls_load - read CFG's certificate and key into S, checked with OpenSSL so
 * that a wrong file is named here rather than as a failed start: a PEM
 * certificate, a PEM private key, and the key matching the certificate.
 * 0 when both are unset or both load; -1 with the reason in ERR.
 */
static int tls_load(struct api_server *s, const struct api_server_config *cfg, char *err, size_t errlen)
{
    if (!cfg->tls_cert && !cfg->tls_key)
        return 0;
    if (!cfg->tls_cert || !cfg->tls_key) {
        snprintf(err, errlen, "HTTPS needs both a certificate and a key (--tls-cert and --tls-key)");
        return -1;
    }
    if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
        snprintf(err, errlen, "this libmicrohttpd has no TLS support: serve behind a TLS proxy instead");
        return -1;
    }
    if (file_read(cfg->tls_cert, TLS_FILE_MAX, &s->tls_cert, err, errlen) < 0 ||
        file_read(cfg->tls_key, TLS_FILE_MAX, &s->tls_key, err, errlen) < 0)
        return -1;
    BIO *cb = BIO_new_mem_buf(s->tls_cert.data, (int)s->tls_cert.len);
    BIO *kb = BIO_new_mem_buf(s->tls_key.data, (int)s->tls_key.len);
    X509 *x = PEM_read_bio_X509(cb, NULL, NULL, NULL);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
    int rc = -1;
    if (!x)
        snprintf(err, errlen, "%s: not a PEM certificate", cfg->tls_cert);
    else if (!k)
        snprintf(err, errlen, "%s: not a PEM private key (or it is encrypted)", cfg->tls_key);
    else if (X509_check_private_key(x, k) != 1)
        snprintf(err, errlen, "%s does not match the certificate %s", cfg->tls_key, cfg->tls_cert);
    else
        rc = 0;
    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(cb);
    BIO_free(kb);
    return rc;
}

/* tls_forget - wipe and free the key material S holds. */
static void tls_forget(struct api_server *s)
{
    if (s->tls_key.data)
        OPENSSL_cleanse(s->tls_key.data, s->tls_key.len);
    buf_free(&s->tls_key);
    buf_free(&s->tls_cert);
}

/* api_server_start - see server.h. */
struct api_server *api_server_start(const struct api_server_config *cfg, char *err, size_t errlen)
{
    struct addrinfo *ai = resolve_listen(cfg->listen ? cfg->listen : "127.0.0.1:8080", err, errlen);
    if (!ai)
        return NULL;
    struct api_server *s = xcalloc(1, sizeof(*s));
    if (tls_load(s, cfg, err, errlen) < 0) {
        freeaddrinfo(ai);
        tls_forget(s);
        xfree(s);
        return NULL;
    }
    bool https = s->tls_cert.len > 0;
    pthread_mutex_init(&s->lock, NULL);
    s->max_body = cfg->max_body ? cfg->max_body : 10 * 1024 * 1024;
    s->auth_cache_ms = cfg->auth_cache_ms;
    s->import_max_body = cfg->import_max_body ? cfg->import_max_body : 1024UL * 1024 * 1024;
    s->conninfo = xstrdup(cfg->conninfo ? cfg->conninfo : "");
    s->spool_dir = cfg->spool_dir ? xstrdup(cfg->spool_dir) : xasprintf("%s/spool", conf_get("db", "dir", "var"));
    /* the folder and its parents, as mkdir -p */
    for (char *p = s->spool_dir + 1;; p++) {
        if (*p && *p != '/')
            continue;
        char c = *p;
        *p = 0;
        int rc = mkdir(s->spool_dir, 0700);
        *p = c;
        if (rc < 0 && errno != EEXIST) {
            log_warn("api: cannot create %s: %s (imports over HTTP will fail)", s->spool_dir, strerror(errno));
            break;
        }
        if (!c)
            break;
    }
    while (api_routes[s->nroutes].method)
        s->nroutes++;
    s->pool = dbpool_new(cfg->conninfo, cfg->db_pool ? cfg->db_pool : 8);
    /* handlers block on the database: by default a thread for each pooled connection */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned dbconns = cfg->db_pool ? cfg->db_pool : 8;
    unsigned threads = cfg->threads ? cfg->threads : (unsigned)(cores > (long)dbconns ? cores : (long)dbconns);
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (https)
        flags |= MHD_USE_TLS;
    /* the HTTPS options only with MHD_USE_TLS (MHD warns otherwise); NUL-terminated PEM */
    struct MHD_OptionItem tls_opts[] = {
        { https ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, https ? (void *)buf_cstr(&s->tls_cert) : NULL },
        { MHD_OPTION_HTTPS_MEM_KEY, 0, https ? (void *)buf_cstr(&s->tls_key) : NULL },
        { MHD_OPTION_END, 0, NULL },
    };
    s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                              MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                              MHD_OPTION_ARRAY, tls_opts,
                              MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                              MHD_OPTION_THREAD_POOL_SIZE, threads,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)512,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                              MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!s->mhd) {
        snprintf(err, errlen, "cannot listen on %s (address in use or not available%s)", cfg->listen,
                 https ? ", or the TLS certificate refused" : "");
        tls_forget(s);
        dbpool_free(s->pool);
        pthread_mutex_destroy(&s->lock);
        xfree(s->spool_dir);
        xfree(s->conninfo);
        xfree(s);
        return NULL;
    }
    log_info("api: listening on %s://%s (%u threads, %u database connections)", https ? "https" : "http",
             cfg->listen, threads,
             cfg->db_pool ? cfg->db_pool : 8);
    return s;
}

/* api_server_stop - stop S and free it (NULL is fine). */
void api_server_stop(struct api_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->mhd);
    dbpool_free(s->pool);
    pthread_mutex_destroy(&s->lock);
    memset(s->key, 0, sizeof(s->key));
    tls_forget(s);
    xfree(s->counts);
    xfree(s->spool_dir);
    xfree(s->conninfo);
    xfree(s);
}
