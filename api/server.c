/*
 * server - libmicrohttpd glue. When a request's headers arrive, before any
 * of its body is read: its route (404/405), the path (UTF-8), the
 * Bearer-token login (401/403, believed a while through login_cache.c) or a
 * public link's signed token (404), and a declared length over the limit
 * (413) are answered at once, so a body nobody may send is never taken in.
 * Then the body is gathered under its limit (413; a public route's is 4 KiB)
 * or, for imports, spooled to a file (spool.c) under a larger one; the
 * content type is checked (415), the route's handler runs, and the answer is
 * sent with its headers and counted (metrics.c). Each connection has at most
 * [http] header_timeout for a request's headers and must send its body at
 * [http] body_min_rate (deadline.c); one address holds at most [http]
 * max_connections_per_address connections. With [http] metrics_listen a
 * second daemon answers GET /metrics there without a login, and 404 to all
 * else.
 *
 * api_server_config_from_conf  the configuration from the [http] and [api] sections
 * api_server_start             listen and serve (HTTPS with https.c's certificate)
 * api_server_stop              stop and free
 *
 * Handlers run on MHD's worker threads and block on the database through
 * the connection pool. Failures to start are reported in ERR; failures while
 * serving are answered, and logged without secrets.
 */
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "api/auth.h"
#include "api/counts_cache.h"
#include "api/dbpool.h"
#include "api/deadline.h"
#include "api/login_cache.h"
#include "api/metrics.h"
#include "api/preview_cache.h"
#include "api/request.h"
#include "api/server.h"
#include "api/server_int.h"
#include "api/spool.h"
#include "engine/store/consent.h"
#include "engine/store/sessions.h"
#include "engine/util/alloc.h"
#include "engine/util/image.h"
#include "engine/util/log.h"
#include "engine/util/str.h"
#include "engine/util/throttle.h"

#define THROTTLE_KEYS 10000          /* accounts and addresses with wrong passwords kept, at most */
#define THROTTLE_FORGET_MS (24 * 3600 * 1000ULL)   /* a day without a wrong password forgets them */
#define METRICS_THREADS 2            /* the [http] metrics_listen daemon's */
#define METRICS_CONNECTIONS 64

#define API_STREAM_BLOCK (64 * 1024)   /* bytes a streamed answer's reader is asked for at a time */

/* bytes of a public route's body, at most (a one-click unsubscribe sends 26) */
#define API_PUBLIC_MAX_BODY 4096

/* one request's state between MHD's calls */
struct req_state {
    struct api_match match;    /* the route, matched once on arrival */
    int matched;               /* api_router_match's answer */
    struct user_auth user;     /* the login, checked when the headers arrived */
    char session_hash[65];     /* and when it was the web admin's session cookie, its hash */
    bool answered;             /* answered when the headers arrived: what follows is dropped */
    struct buf body;
    bool too_large;
    size_t limit;
    struct spool spool;        /* API_BODY_FILE: the body goes here, not in BODY */
    bool metrics_only;         /* came to [http] metrics_listen: no login, nothing but /metrics */
};

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

/*
 * the user a token's or a session's HASH stands for, in R->user: the login
 * cache, else the database (believed a while when the user is active); 0, or
 * -1 with 401 (GONE: there is no such token or session) or 503 set
 */
static int hash_login(struct api_req *r, const char *hash, bool session, const char *gone)
{
    struct store_err e;
    if (login_cache_get(r->srv->logins, hash, &r->user))
        return 0;
    PGconn *conn = api_db(r);
    if (!conn)
        return -1;
    int rc = session ? store_session_auth(conn, hash, &r->user, NULL, &e) : store_token_auth(conn, hash, &r->user, &e);
    if (rc < 0) {
        if (e.code == STORE_ERR_NOTFOUND)
            api_reply_error(r, 401, "unauthorized", NULL, "%s", gone);
        else
            api_reply_store(r, &e);
        return -1;
    }
    if (r->user.active)
        login_cache_put(r->srv->logins, hash, &r->user);
    return 0;
}

/* the login of R's session cookie, checked for its CSRF token when the request changes something; 0 or -1 */
static int session_login(struct api_req *r, const char *tok)
{
    char hash[AUTH_TOKEN_HASH_LEN + 1], csrf[AUTH_TOKEN_HASH_LEN + 1];
    size_t n = strlen(tok);
    if (n < 8 || n > AUTH_TOKEN_MAX || !str_has_prefix(tok, AUTH_SESSION_PREFIX)) {
        api_reply_error(r, 401, "unauthorized", NULL, "the session is not valid; log in again");
        return -1;
    }
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        /* a form another site makes the browser post carries the cookie, never this header */
        const char *h = MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, "X-CSRF-Token");
        auth_session_csrf(tok, csrf);
        if (!h || strlen(h) != AUTH_TOKEN_HASH_LEN || CRYPTO_memcmp(h, csrf, AUTH_TOKEN_HASH_LEN) != 0) {
            api_reply_error(r, 403, "csrf", NULL, "the request lacks the session's CSRF token (X-CSRF-Token)");
            return -1;
        }
    }
    auth_token_hash(tok, hash);
    snprintf(r->session_hash, sizeof(r->session_hash), "%s", hash);
    return hash_login(r, hash, true, "the session has ended; log in again");
}

/* the login of R's Bearer token TOK; 0, or -1 with 401/503 set */
static int bearer_login(struct api_req *r, const char *tok)
{
    char hash[AUTH_TOKEN_HASH_LEN + 1];
    while (*tok == ' ')
        tok++;
    size_t n = strlen(tok);
    if (n < 8 || n > AUTH_TOKEN_MAX || !str_has_prefix(tok, AUTH_TOKEN_PREFIX)) {
        api_reply_error(r, 401, "unauthorized", NULL, "the API token is not valid");
        return -1;
    }
    auth_token_hash(tok, hash);
    return hash_login(r, hash, false, "the API token is not valid");
}

/*
 * authenticate - R's login to R->user: a Bearer token, else the web admin's
 * session cookie (the cache, else the database); 0, or -1 with 401/403/503 set
 */
static int authenticate(struct api_req *r)
{
    const char *h = MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *cookie = MHD_lookup_connection_value(r->mc, MHD_COOKIE_KIND, API_SESSION_COOKIE);
    int rc;
    if (h && strncasecmp(h, "Bearer ", 7) == 0)
        rc = bearer_login(r, h + 7);
    else if (!h && cookie && *cookie)
        rc = session_login(r, cookie);
    else {
        api_reply_error(r, 401, "unauthorized", NULL, "an API token is required (Authorization: Bearer TOKEN)");
        return -1;
    }
    if (rc < 0)
        return -1;
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

/* refuse_path - 0, or -1 with 404, 405 or 400 set when R's path has no route for its method (MATCHED) or is not UTF-8 */
static int refuse_path(struct api_req *r, int matched)
{
    if (matched == API_ROUTE_NOT_FOUND) {
        api_reply_error(r, 404, "not_found", NULL, "no such resource");
        return -1;
    }
    if (matched == API_ROUTE_BAD_METHOD) {
        api_reply_error(r, 405, "method_not_allowed", NULL, "method %s is not allowed here",
                        strlen(r->method) < 16 ? r->method : "?");
        return -1;
    }
    for (size_t i = 0; i < r->match.nparams; i++)
        if (!str_utf8_valid(r->match.params[i], strlen(r->match.params[i]), NULL)) {
            api_reply_error(r, 400, "invalid_utf8", "id", "the path is not valid UTF-8");
            return -1;
        }
    return 0;
}

/*
 * on_headers - what R (its headers all there, none of its body read) is
 * answered at once: no route (404, 405), a path not UTF-8 (400), no valid
 * login (401, 403), a forged public link (404), a declared length over the
 * limit (413), an import or an image of the wrong type (415), an import
 * with nowhere to go (503). R->status is set when it is; else ST is ready for the body.
 */
static void on_headers(struct api_req *r, struct req_state *st)
{
    struct api_server *s = r->srv;
    uint64_t a, b;
    if (refuse_path(r, st->matched) < 0)
        return;
    const struct api_route *rt = r->match.route;
    if (rt->access != API_PUBLIC && !st->metrics_only) {
        if (authenticate(r) < 0)
            return;
        st->user = r->user;
        memcpy(st->session_hash, r->session_hash, sizeof(st->session_hash));
    } else if (rt->link && api_link_token(r, &a, &b) < 0) {
        return;
    }
    st->limit = rt->body == API_BODY_FILE ? s->import_max_body : rt->body == API_BODY_IMAGE ? s->set.media_max_bytes
                                                                                          : s->max_body;
    if (rt->access == API_PUBLIC && st->limit > API_PUBLIC_MAX_BODY)
        st->limit = API_PUBLIC_MAX_BODY;
    const char *cl = MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > st->limit) {
        api_reply_error(r, 413, "too_large", NULL, "the request body is larger than %zu bytes", st->limit);
        return;
    }
    if (rt->body == API_BODY_FILE) {
        /* a large body is stored only for someone allowed to send it, of a type that can be read */
        r->content_type = MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (!is_file_type(r->content_type))
            api_reply_error(r, 415, "unsupported_media_type", NULL,
                            "the request body must be text/csv, application/xml or text/xml");
        else if (spool_open(&st->spool, s->spool_dir) < 0)
            api_reply_error(r, 503, "unavailable", NULL, "the request body could not be stored; try again later");
    } else if (rt->body == API_BODY_IMAGE) {
        /* an image of a type never taken (SVG among them) is refused before its bytes come */
        char why[200];
        enum image_type t;
        r->content_type = MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (image_type_parse(r->content_type, &t, why, sizeof(why)) < 0)
            api_reply_error(r, 415, "unsupported_media_type", "body", "%s", why);
    }
}

/* decide and produce the answer for R, whose body is all there (on_headers let it in) */
static void handle(struct api_req *r, struct req_state *st)
{
    const struct api_route *rt = r->match.route;
    r->user = st->user;
    memcpy(r->session_hash, st->session_hash, sizeof(r->session_hash));
    if (st->too_large) {
        api_reply_error(r, 413, "too_large", NULL, "the request body is larger than %zu bytes", st->limit);
        return;
    }
    if (st->spool.failed) {
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
    } else if (rt->body == API_BODY_IMAGE) {
        char why[200];
        enum image_type t;
        if (image_type_parse(r->content_type, &t, why, sizeof(why)) < 0) {
            api_reply_error(r, 415, "unsupported_media_type", "body", "%s", why);
            return;
        }
    } else if (rt->body == API_BODY_NONE && r->body_len > 0) {
        api_reply_error(r, 415, "unsupported_media_type", NULL, "this request takes no body");
        return;
    }
    rt->fn(r);
    /* a user or a token changed here: no cached login may outlive it */
    if ((rt->flags & API_FORGET_LOGINS) && r->status < 300)
        login_cache_clear(r->srv->logins);
    if (!r->status) {
        log_error("api: %s %s gave no answer", r->method, rt->pattern);
        api_reply_error(r, 500, "internal", NULL, "internal error");
    }
}

static enum MHD_Result send_reply(struct MHD_Connection *mc, struct api_req *r)
{
    struct MHD_Response *resp;
    if (r->stream_read) {
        /* a body produced while it is sent (api_reply_stream): MHD calls stream_free when done with it */
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, API_STREAM_BLOCK, r->stream_read, r->stream_arg,
                                                 r->stream_free);
        if (!resp) {
            r->stream_free(r->stream_arg);
            return MHD_NO;
        }
    } else {
        resp = MHD_create_response_from_buffer(r->resp_len, r->resp ? r->resp : (void *)"",
                                               r->resp ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    }
    r->resp = NULL;
    if (r->resp_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->resp_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, r->cache_control ? r->cache_control : "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (r->resp_type && str_has_prefix(r->resp_type, "text/html")) {
        /* never framed (clickjacking the unsubscribe button), and no token leaves in a Referer */
        MHD_add_response_header(resp, "Content-Security-Policy",
                                r->csp ? r->csp
                                       : "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                         "frame-ancestors 'none'");
        MHD_add_response_header(resp, "Referrer-Policy", r->referrer_policy ? r->referrer_policy : "no-referrer");
    } else if (r->csp) {
        MHD_add_response_header(resp, "Content-Security-Policy", r->csp);
    }
    if (r->cors_any)
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
    if (r->cors_any && r->cors_preflight) {
        MHD_add_response_header(resp, "Access-Control-Allow-Methods", "POST");
        MHD_add_response_header(resp, "Access-Control-Allow-Headers", "Content-Type");
        MHD_add_response_header(resp, "Access-Control-Max-Age", "86400");
    }
    if (r->disposition)
        MHD_add_response_header(resp, "Content-Disposition", r->disposition);
    xfree(r->disposition);
    r->disposition = NULL;
    if (r->set_cookie)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r->set_cookie);
    xfree(r->set_cookie);
    r->set_cookie = NULL;
    if (r->srv->pem.cert.len > 0) /* this daemon answers HTTPS only: browsers keep to it */
        MHD_add_response_header(resp, MHD_HTTP_HEADER_STRICT_TRANSPORT_SECURITY, HTTPS_HSTS);
    if (r->status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (r->retry_after) {
        char secs[16];
        snprintf(secs, sizeof(secs), "%u", r->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, secs);
    }
    if (r->location)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
    xfree(r->location);
    r->location = NULL;
    enum MHD_Result ok = MHD_queue_response(mc, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* the deadlines of MC (deadline.c), or NULL */
static struct deadline *conn_deadline(struct MHD_Connection *mc)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* count R's answer, log it (the route's pattern, never the path: /u/TOKEN is a capability) and queue it */
static enum MHD_Result answer(struct MHD_Connection *mc, struct api_req *r, const struct timespec *t0)
{
    struct timespec t1;
    if (r->conn && r->consent_set && PQstatus(r->conn) == CONNECTION_OK)
        store_consent_reset(r->conn);   /* the next request on the connection says its own */
    if (r->conn)
        dbpool_put(r->srv->pool, r->conn);
    r->conn = NULL;
    http_metrics_count(r->srv->metrics, r->match.route ? r->match.index : (size_t)-1, r->status);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    log_debug("api: %s %s %d %.1f ms", strlen(r->method) < 16 ? r->method : "?",
              r->match.route ? r->match.route->pattern : "-", r->status,
              (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6);
    return send_reply(mc, r);
}

/* serve - MHD's call for a request to S, on the main listener or (METRICS_ONLY) on [http] metrics_listen */
static enum MHD_Result serve(struct api_server *s, bool metrics_only, struct MHD_Connection *mc, const char *url,
                             const char *method, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    struct req_state *st = *con_cls;
    struct timespec t0;
    if (!st) {
        clock_gettime(CLOCK_MONOTONIC, &t0);
        deadline_headers(s->deadlines, conn_deadline(mc));
        st = xcalloc(1, sizeof(*st));
        st->spool = (struct spool)SPOOL_INIT;
        st->metrics_only = metrics_only;
        *con_cls = st;
        struct api_req r = { .srv = s, .mc = mc, .method = method, .path = url };
        st->matched = api_router_match(api_routes, method, url, &st->match);
        if (metrics_only && !(st->matched == 0 && (st->match.route->flags & API_METRICS_LISTEN))) {
            /* nothing else is there, not even a 405 telling what is elsewhere */
            api_match_free(&st->match);
            st->match.route = NULL;
            st->matched = API_ROUTE_NOT_FOUND;
        }
        r.match = st->match;
        on_headers(&r, st);
        if (!r.status) {
            if (r.conn)
                dbpool_put(s->pool, r.conn);
            return MHD_YES;   /* the match and the login stay in ST for the answer */
        }
        /* answered before the body: MHD sends no 100 Continue and closes the connection after the
           answer; should any of the body still come here, it is dropped */
        st->answered = true;
        return answer(mc, &r, &t0);
    }
    if (*upload_data_size) {
        deadline_body(s->deadlines, conn_deadline(mc), *upload_data_size);
        if (st->answered || st->too_large || st->spool.len + st->body.len + *upload_data_size > st->limit)
            st->too_large = true;
        else if (st->spool.fd >= 0)
            spool_write(&st->spool, upload_data, *upload_data_size);
        else
            buf_append(&st->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (st->answered)
        return MHD_YES;   /* the answer queued on arrival goes out */
    deadline_answer(s->deadlines, conn_deadline(mc));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct api_req r = { .srv = s, .mc = mc, .method = method, .path = url, .match = st->match };
    r.content_type = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    r.body = st->too_large ? "" : buf_cstr(&st->body);
    r.body_len = st->too_large ? 0 : st->body.len;
    if (st->spool.fd >= 0) {
        spool_close(&st->spool);
        r.body_path = st->spool.path;
        r.body_len = st->too_large ? 0 : st->spool.len;
    }
    handle(&r, st);
    return answer(mc, &r, &t0);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    return serve(cls, false, mc, url, method, upload_data, upload_data_size, con_cls);
}

static enum MHD_Result on_metrics_request(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
                                          const char *version, const char *upload_data, size_t *upload_data_size,
                                          void **con_cls)
{
    (void)version;
    return serve(cls, true, mc, url, method, upload_data, upload_data_size, con_cls);
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    struct api_server *s = cls;
    struct req_state *st = *con_cls;
    (void)toe;
    deadline_done(s->deadlines, conn_deadline(mc));
    if (st) {
        spool_drop(&st->spool);
        buf_free(&st->body);
        api_match_free(&st->match);
        xfree(st);
        *con_cls = NULL;
    }
}

/* a connection opened (watched from now on) or closed (its socket not yet) */
static void on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct api_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ci ? deadline_open(s->deadlines, ci->connect_fd) : NULL;
    } else {
        deadline_close(s->deadlines, *socket_context);
        *socket_context = NULL;
    }
}

/* a request line arrived (its headers have not) */
static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *mc)
{
    struct api_server *s = cls;
    (void)uri;
    deadline_request(s->deadlines, conn_deadline(mc));
    return NULL;
}

/*
 * libmicrohttpd's own warnings, the same one at most once a minute: each
 * connection refused over a limit has one, and a client opening them by the
 * thousand must not flood the log. How many were held back is told with the
 * next one that is written.
 */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct api_server *s = cls;
    char msg[sizeof(s->log_last)], prev[sizeof(s->log_last)];
    struct timespec now;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = 0;
    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&s->log_lock);
    if (strcmp(msg, s->log_last) == 0 && now.tv_sec - s->log_at < 60) {
        s->log_held++;
        pthread_mutex_unlock(&s->log_lock);
        return;
    }
    unsigned long held = s->log_held;
    memcpy(prev, s->log_last, sizeof(prev));
    memcpy(s->log_last, msg, sizeof(msg));
    s->log_at = now.tv_sec;
    s->log_held = 0;
    pthread_mutex_unlock(&s->log_lock);
    if (held)
        log_warn("api: http: %s (%lu more in the last minute)", prev, held);
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

/* what S holds, the key material wiped (the daemons are stopped or never started) */
static void server_free(struct api_server *s)
{
    dbpool_free(s->pool);
    login_cache_free(s->logins);
    http_metrics_free(s->metrics);
    counts_cache_free(s->counts);
    preview_cache_free(s->previews);
    throttle_free(s->throttle);
    deadlines_stop(s->deadlines);
    pthread_mutex_destroy(&s->key_lock);
    pthread_mutex_destroy(&s->log_lock);
    memset(s->key, 0, sizeof(s->key));
    https_forget(&s->pem);
    xfree(s->spool_dir);
    xfree(s->conninfo);
    xfree(s);
}

/* a daemon of S on LISTEN answering through HANDLER (HTTPS when S has a certificate); NULL with ERR */
static struct MHD_Daemon *daemon_start(struct api_server *s, const char *listen, MHD_AccessHandlerCallback handler,
                                       unsigned threads, unsigned connections, unsigned idle_s, char *err,
                                       size_t errlen)
{
    struct addrinfo *ai = resolve_listen(listen, err, errlen);
    if (!ai)
        return NULL;
    bool https = s->pem.cert.len > 0;
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (https)
        flags |= MHD_USE_TLS;
    /* the HTTPS options only with MHD_USE_TLS (MHD warns otherwise); NUL-terminated PEM;
     * TLS 1.2 and 1.3, forward secret, AEAD only (https.h) */
    struct MHD_OptionItem tls_opts[] = {
        { https ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, https ? (void *)buf_cstr(&s->pem.cert) : NULL },
        { MHD_OPTION_HTTPS_MEM_KEY, 0, https ? (void *)buf_cstr(&s->pem.key) : NULL },
        { MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)HTTPS_PRIORITIES },
        { MHD_OPTION_END, 0, NULL },
    };
    struct MHD_Daemon *d = MHD_start_daemon(flags, 0, NULL, NULL, handler, s,
                                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                                            MHD_OPTION_ARRAY, tls_opts,
                                            MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                                            MHD_OPTION_THREAD_POOL_SIZE, threads,
                                            MHD_OPTION_CONNECTION_TIMEOUT, idle_s,
                                            MHD_OPTION_CONNECTION_LIMIT, connections,
                                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->set.max_connections_per_address,
                                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
                                            MHD_OPTION_URI_LOG_CALLBACK, on_request_line, s,
                                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                            MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!d)
        snprintf(err, errlen, "cannot listen on %s (address in use or not available%s)", listen,
                 https ? ", or the TLS certificate refused" : "");
    return d;
}

/* api_server_start - see server.h. */
struct api_server *api_server_start(const struct api_server_config *cfg, char *err, size_t errlen)
{
    struct api_server *s = xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->key_lock, NULL);
    pthread_mutex_init(&s->log_lock, NULL);
    if (https_load(&s->pem, cfg->set.tls_cert, cfg->set.tls_key, err, errlen) < 0) {
        server_free(s);
        return NULL;
    }
    const char *scheme = s->pem.cert.len > 0 ? "https" : "http";
    s->set = cfg->set;
    s->max_body = cfg->set.max_body;
    s->logins = login_cache_new(cfg->set.auth_cache_ms);
    s->metrics = http_metrics_new(api_routes);
    s->counts = counts_cache_new(cfg->set.metrics_cache_s * 1000);
    s->previews = preview_cache_new(cfg->set.preview_seconds * 1000, cfg->set.preview_cache_bytes);
    struct throttle_limits tl = {
        .failures = cfg->set.login_failures,
        .delay_ms = cfg->set.login_delay_s * 1000ULL,
        .delay_max_ms = cfg->set.login_delay_max_s * 1000ULL,
        .forget_ms = THROTTLE_FORGET_MS,
        .max_keys = THROTTLE_KEYS,
    };
    s->throttle = throttle_new(&tl);
    struct deadline_limits lim = { cfg->set.header_timeout_s, cfg->set.idle_timeout_s, cfg->set.body_timeout_s,
                                   cfg->set.body_min_rate };
    s->deadlines = deadlines_start(&lim);
    s->import_max_body = cfg->set.import_max_body;
    s->conninfo = xstrdup(cfg->conninfo ? cfg->conninfo : "");
    s->spool_dir = xstrdup(cfg->set.spool_dir);
    spool_dir_make(s->spool_dir);
    s->pool = dbpool_new(cfg->conninfo, cfg->set.db_pool);
    /* handlers block on the database: by default a thread for each pooled connection */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned dbconns = cfg->set.db_pool;
    unsigned threads = cfg->set.threads ? cfg->set.threads : (unsigned)(cores > (long)dbconns ? cores : (long)dbconns);
    s->mhd = daemon_start(s, cfg->set.listen, on_request, threads, cfg->set.max_connections, cfg->set.idle_timeout_s,
                          err, errlen);
    if (!s->mhd) {
        server_free(s);
        return NULL;
    }
    if (cfg->set.metrics_listen) {
        s->metrics_mhd = daemon_start(s, cfg->set.metrics_listen, on_metrics_request, METRICS_THREADS,
                                      METRICS_CONNECTIONS, cfg->set.idle_timeout_s, err, errlen);
        if (!s->metrics_mhd) {
            MHD_stop_daemon(s->mhd);
            server_free(s);
            return NULL;
        }
        log_info("api: /metrics without a token on %s://%s", scheme, cfg->set.metrics_listen);
    }
    log_info("api: listening on %s://%s (%u threads, %u database connections)", scheme, cfg->set.listen, threads,
             cfg->set.db_pool);
    return s;
}

/* api_server_stop - stop S and free it (NULL is fine). */
void api_server_stop(struct api_server *s)
{
    if (!s)
        return;
    if (s->metrics_mhd)
        MHD_stop_daemon(s->metrics_mhd);
    MHD_stop_daemon(s->mhd);
    if (s->log_held)
        log_warn("api: http: %s (%lu more in the last minute)", s->log_last, s->log_held);
    server_free(s);
}
