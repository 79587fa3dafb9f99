/*
 * request - what a handler calls to read its request and set its answer
 * (see request.h). The answer is only recorded here; server.c sends it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <microhttpd.h>

#include "api/counts_cache.h"
#include "api/dbpool.h"
#include "api/login.h"
#include "api/deadline.h"
#include "api/metrics.h"
#include "api/request.h"
#include "api/server_int.h"
#include "engine/store/consent.h"
#include "engine/store/counts.h"
#include "engine/send/settings_send.h"
#include "engine/store/settings.h"
#include "engine/util/alloc.h"
#include "engine/util/log.h"
#include "engine/util/str.h"

#define API_DB_WAIT_MS 5000

/* api_conninfo - the conninfo of R's server. */
const char *api_conninfo(struct api_req *r)
{
    return r->srv->conninfo;
}

/* api_previews - the rendered previews R's server keeps (preview_cache.h). */
struct preview_cache *api_previews(struct api_req *r)
{
    return r->srv->previews;
}

/* api_settings_of - the settings R's server was started with. */
const struct api_settings *api_settings_of(struct api_req *r)
{
    return &r->srv->set;
}

/* api_over_tls - true when R's server answers over HTTPS itself. */
bool api_over_tls(struct api_req *r)
{
    return r->srv->pem.cert.len > 0;
}

/* api_peer_text - R's client address as text ("" when unknown). */
const char *api_peer_text(struct api_req *r)
{
    const struct sockaddr *sa = api_peer(r);
    if (!r->peer[0] && sa) {
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, r->peer, sizeof(r->peer));
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, r->peer, sizeof(r->peer));
    }
    return r->peer;
}

/* api_session_token - the web admin session cookie R logged in with, or NULL (a token, or no login). */
const char *api_session_token(struct api_req *r)
{
    if (!r->session_hash[0])
        return NULL;
    return MHD_lookup_connection_value(r->mc, MHD_COOKIE_KIND, API_SESSION_COOKIE);
}

/* api_actor - see request.h. */
void api_actor(struct api_req *r, char *out, size_t len)
{
    if (r->user.token_id)
        snprintf(out, len, "token:%lld", r->user.token_id);
    else if (r->user.id)
        snprintf(out, len, "user:%s", r->user.email);
    else
        snprintf(out, len, "%s", "");
}

/* api_consent - see request.h. */
int api_consent(struct api_req *r, const char *via)
{
    return api_consent_form(r, via, "");
}

/* api_consent_form - see request.h. */
int api_consent_form(struct api_req *r, const char *via, const char *form_hash)
{
    char actor[300];
    PGconn *conn = api_db(r);
    if (!conn)
        return -1;
    int rc;
    if (via && (strcmp(via, "confirmation") == 0 || strcmp(via, "unsubscribe") == 0 || strcmp(via, "form") == 0 ||
                strcmp(via, "preferences") == 0)) {
        const char *ua = api_header(r, MHD_HTTP_HEADER_USER_AGENT);
        rc = store_consent_session(conn, via, "subscriber", api_peer_text(r), ua ? ua : "", form_hash);
    } else {
        api_actor(r, actor, sizeof(actor));
        rc = store_consent_session(conn, via ? via : r->session_hash[0] ? "admin" : "api", actor, "", "", "");
    }
    if (rc < 0) {
        api_reply_error(r, 503, "unavailable", NULL, "the database is not available; try again later");
        return -1;
    }
    r->consent_set = true;
    return 0;
}

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
    int rc;
    if (r->body_len == 0 && r->match.route->body == API_BODY_OPT_JSON)
        rc = api_json_check(*out = json_object(), fields, &e);   /* a required field is still missing */
    else
        rc = api_json_parse(r->body, r->body_len, out, &e) < 0 ? -1 : api_json_check(*out, fields, &e);
    if (rc < 0) {
        json_decref(*out);
        *out = NULL;
        api_reply_err(r, &e);
        return -1;
    }
    return 0;
}

/*
 * api_body_refs - R's body checked against FIELDS in *OUT (the caller's),
 * where the members named in REFS may also be non-negative integers (ids)
 * and are turned into strings first; -1 with 400 set.
 */
int api_body_refs(struct api_req *r, const struct api_field *fields, const char *const *refs, json_t **out)
{
    struct api_err e;
    if (api_json_parse(r->body, r->body_len, out, &e) == 0) {
        for (size_t i = 0; refs[i]; i++) {
            json_t *v = json_object_get(*out, refs[i]);
            if (json_is_integer(v) && json_integer_value(v) >= 0) {
                char id[32];
                snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(v));
                json_object_set_new(*out, refs[i], json_string(id));
            }
        }
        if (api_json_check(*out, fields, &e) == 0)
            return 0;
    }
    json_decref(*out);
    *out = NULL;
    api_reply_err(r, &e);
    return -1;
}

static void set_reply(struct api_req *r, int status, char *data, size_t len, const char *type)
{
    xfree(r->resp);
    if (r->stream_free)   /* a stream answered before is replaced: it is freed unsent */
        r->stream_free(r->stream_arg);
    r->stream_read = NULL;
    r->stream_free = NULL;
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

/* api_reply_store - answer a store error: 404, 409, 400 (naming its field when known), 409 (a limit, a state), or 503 (the database's words only logged). */
void api_reply_store(struct api_req *r, const struct store_err *e)
{
    switch (e->code) {
    case STORE_ERR_NOTFOUND: api_reply_error(r, 404, "not_found", NULL, "%s", e->msg); break;
    case STORE_ERR_EXISTS: api_reply_error(r, 409, "exists", NULL, "%s", e->msg); break;
    case STORE_ERR_INVALID:
        if (e->field)
            api_reply_error(r, 400, "invalid_field", e->field, "%s", e->msg);
        else
            api_reply_error(r, 400, "invalid", NULL, "%s", e->msg);
        break;
    case STORE_ERR_LIMIT: api_reply_error(r, 409, "limit_reached", NULL, "%s", e->msg); break;
    case STORE_ERR_CONFLICT: api_reply_error(r, 409, "conflict", e->field, "%s", e->msg); break;
    default:
        log_error("api: %s %s: %s", r->method, r->match.route ? r->match.route->pattern : r->path, e->msg);
        api_reply_error(r, 503, "unavailable", NULL, "the database could not do this now; try again later");
    }
}

/*
 * api_reply_stored - answer the outcome RC of a store call that yields JSON in
 * *JP: RC < 0 the store error E (api_reply_store), else STATUS with *JP, whose
 * reference is taken; STATUS API_ITEMS answers 200 with {"items": *JP}; JP
 * NULL answers STATUS with no body. JP is a pointer so that the store call
 * filling it can be an argument of this one.
 */
void api_reply_stored(struct api_req *r, int rc, json_t **jp, const struct store_err *e, int status)
{
    if (rc < 0)
        api_reply_store(r, e);
    else if (!jp)
        api_reply_empty(r, status);
    else if (status == API_ITEMS)
        api_reply_items(r, *jp);
    else
        api_reply_json(r, status, *jp);
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

/*
 * api_reply_stream - answer 200 of content type TYPE with the body READ gives
 * while it is sent; FREE_FN (ARG) is called once when the answer is done
 * with, sent whole or not (the server's, through libmicrohttpd).
 */
void api_reply_stream(struct api_req *r, const char *type, api_stream_read read, api_stream_free free_fn, void *arg)
{
    set_reply(r, 200, NULL, 0, type);
    r->stream_read = read;
    r->stream_free = free_fn;
    r->stream_arg = arg;
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
    pthread_mutex_lock(&s->key_lock);
    bool ready = s->key_ready;
    if (ready)
        memcpy(key, s->key, TOKEN_KEY_LEN);
    pthread_mutex_unlock(&s->key_lock);
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
    pthread_mutex_lock(&s->key_lock);
    memcpy(s->key, key, TOKEN_KEY_LEN);
    s->key_ready = true;
    pthread_mutex_unlock(&s->key_lock);
    return 0;
}

/* api_peer - the address R came from, or NULL when MHD does not say. */
const struct sockaddr *api_peer(struct api_req *r)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return ci ? ci->client_addr : NULL;
}

/*
 * api_login_check - is PASSWORD that of the user REF names, tried from R's
 * address (login_check: throttled per account and per address)? 0 with
 * *USER; -1 with the answer set: 429 with Retry-After while the account or
 * the address waits, 403 wrong_password naming FIELD (FIELD NULL, a login
 * form: 401, the same words for an unknown user and a wrong password), 403
 * for a disabled user, 503 when the database failed.
 */
int api_login_check(struct api_req *r, const char *ref, const char *password, const char *field,
                    struct user_auth *user)
{
    struct store_err e;
    unsigned wait = 0;
    if (!api_db(r))
        return -1;
    switch (login_check(r->srv->throttle, r->conn, ref, password, api_peer(r), user, &wait, &e)) {
    case LOGIN_OK:
        return 0;
    case LOGIN_WAIT:
        api_reply_error(r, 429, "too_many_attempts", field ? field : "password",
                        "too many wrong passwords; try again in %u second%s", wait, wait == 1 ? "" : "s");
        r->retry_after = wait;
        return -1;
    case LOGIN_WRONG:
        if (field)
            api_reply_error(r, 403, "wrong_password", field, "field \"%s\" does not match", field);
        else
            api_reply_error(r, 401, "unauthorized", NULL, "the email or the password is wrong");
        return -1;
    case LOGIN_DISABLED:
        api_reply_error(r, 403, "forbidden", NULL, "this user is disabled");
        return -1;
    case LOGIN_ERROR:
    default:
        api_reply_store(r, &e);
        return -1;
    }
}

/* api_now_ms - milliseconds of CLOCK_MONOTONIC (a clock that never goes back). */
uint64_t api_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * api_counts - the installation's totals (store_counts' JSON, the caller's
 * to json_decref), as kept by the server for [http] metrics_cache seconds,
 * read anew by this request when they are older (one request at a time: the
 * others meanwhile get the kept ones). *AGE_S is how old they are. NULL when
 * the database failed (then, or at the kept reading).
 */
json_t *api_counts(struct api_req *r, double *age_s)
{
    json_t *counts = NULL;
    uint64_t age = 0, now = api_now_ms();
    if (!counts_cache_get(r->srv->counts, now, &counts, &age)) {
        struct store_err e;
        if (!api_db(r) || store_counts(r->conn, &counts, &e) < 0)
            counts = NULL;
        counts_cache_put(r->srv->counts, json_incref(counts), now);
        age = api_now_ms() - now;
    }
    *age_s = (double)age / 1000.0;
    return counts;
}

/*
 * api_link_token - R's {token} as a signed link of the kind its route takes
 * (api_route.link), its two ids in A and B; -1 with 404 set when it is
 * malformed, tampered with or of another kind (503 when the key cannot be read).
 */
int api_link_token(struct api_req *r, uint64_t *a, uint64_t *b)
{
    unsigned char key[TOKEN_KEY_LEN];
    const char *tok = api_param(r, 0);
    char kind = 0;
    if (strlen(tok) > TOKEN_MAX) {
        api_reply_error(r, 404, "not_found", NULL, "this link is not valid");
        return -1;
    }
    if (api_token_key(r, key) < 0)
        return -1;
    if (token_parse(key, tok, &kind, a, b) < 0 || !r->match.route || kind != r->match.route->link) {
        api_reply_error(r, 404, "not_found", NULL, "this link is not valid");
        return -1;
    }
    return 0;
}

/* api_http_metrics - append S's request counters to OUT in Prometheus text format. */
void api_http_metrics(struct api_server *s, struct buf *out)
{
    http_metrics_print(s->metrics, out);
    deadlines_metrics(s->deadlines, out);
}

/* api_header - the value of R's header NAME, or NULL. */
const char *api_header(struct api_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, name);
}

/* origin_len - the length of URL's scheme://authority part, or 0 when it has none */
static size_t origin_len(const char *url)
{
    const char *p = strstr(url, "://");
    if (!p || p == url)
        return 0;
    p += 3;
    size_t n = strcspn(p, "/?#");
    return n ? (size_t)(p - url) + n : 0;
}

/* same_origin - does URL (an Origin, or a Referer) name the origin of [http] public_url or of R's Host? */
static bool same_origin(struct api_req *r, const char *url)
{
    size_t n = origin_len(url);
    if (!n)
        return false;
    const char *pub = mail_settings.public_url ? mail_settings.public_url : "";
    size_t pn = origin_len(pub);
    if (pn == n && strncasecmp(url, pub, n) == 0)
        return true;
    const char *host = api_header(r, MHD_HTTP_HEADER_HOST);
    const char *authority = strstr(url, "://") + 3;
    return host && *host && strlen(host) == (size_t)(url + n - authority) &&
           strncasecmp(authority, host, strlen(host)) == 0;
}

/*
 * api_same_site - whether R, a POST of a public form, comes from a page of
 * this site: its Origin names [http] public_url's origin or the Host asked
 * for; with no Origin (or "null"), its Referer does. Neither: false.
 */
bool api_same_site(struct api_req *r)
{
    const char *origin = api_header(r, "Origin");
    if (origin && strcmp(origin, "null") != 0)
        return same_origin(r, origin);
    const char *referer = api_header(r, "Referer");
    return referer && same_origin(r, referer);
}
