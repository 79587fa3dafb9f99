/*
 * request - what an API handler sees of its request, and how it answers.
 *
 * api_db           the request's database connection (borrowed from the pool on
 *                  first use); NULL with a 503 answer already set
 * api_db_renew     a new connection after the server dropped the one in use
 * api_param        the I-th {…} segment of the path
 * api_query        a query-string argument, or NULL
 * api_query_only   refuse (400) query arguments not in ALLOWED; 0 or -1
 * api_body         the body decoded and checked against FIELDS (an empty
 *                  optional body is {}); -1 with the 400 answer set
 * api_body_refs    the same where the named members may be ids (numbers) or names
 * api_reply_json   answer STATUS with J (the reference is taken)
 * api_reply_items  answer 200 with {"items": ARRAY}
 * api_reply_error  answer with the error envelope
 * api_reply_err    the same from a decoding error
 * api_reply_store  the same from a store error: 404, 409, 400, or 503 (the
 *                  database's own words are logged, never sent)
 * api_reply_stored a store call's outcome: its JSON with STATUS, or its error
 * api_reply_page   answer with an HTML page (the buffer is taken)
 * api_reply_text   answer with text of content type TYPE (the buffer is taken)
 * api_reply_empty  answer STATUS with no body (204)
 * api_reply_redirect  answer STATUS (302) with a Location header
 * api_reply_stream answer 200 with a body READ produces piece by piece while it
 *                  is sent (of unknown length: chunked), FREE called once after
 * api_token_key    the installation's token HMAC key; 0 or -1 (503 set)
 * api_login_check  is PASSWORD that of the user REF names (login.c, throttled);
 *                  0 with *USER, or -1 with 429 (Retry-After), 403 naming FIELD, or 503 set
 * api_peer         the client's address (NULL when unknown)
 * api_peer_text    the client's address as text ("" when unknown)
 * api_counts       the installation's totals for /metrics (store_counts), kept
 *                  [http] metrics_cache seconds; NULL when the database failed
 * api_link_token   the path's signed link token, of its route's kind, decoded; 0 or -1 (404 set)
 * api_http_metrics append the HTTP counters in Prometheus text format (metrics.c,
 *                  deadline.c)
 * api_conninfo     the database the server uses (for work that outlives a request)
 * api_previews     the server's rendered previews for the web admin (preview_cache.h)
 * api_now_ms       milliseconds of a clock that never goes back (CLOCK_MONOTONIC)
 * api_actor        who R's login is, as consent records name it: "user:EMAIL" or "token:ID"
 * api_consent      say how R's subscription changes are made (consent.h): VIA, or by the
 *                  login when NULL (admin for the web admin's session, api otherwise); a
 *                  public page's VIA names the subscriber with the client's address and
 *                  User-Agent. Set on R's connection until the answer; 0 or -1 (503 set)
 * api_consent_form the same for a public form's post, with the hash of the form's text
 * api_header       a request header's value, or NULL
 * api_same_site    does a public form's POST come from this site's own page (Origin, else Referer)?
 */
#ifndef POSTINO_API_REQUEST_H
#define POSTINO_API_REQUEST_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "api/json.h"
#include "api/router.h"
#include "api/settings_api.h"
#include "engine/mail/token.h"
#include "engine/store/store.h"
#include "engine/store/users.h"
#include "engine/util/buf.h"

struct api_server;
struct preview_cache;
struct MHD_Connection;
struct sockaddr;

#define API_SESSION_COOKIE "postino_session"   /* the web admin's login */
#define API_ITEMS 0   /* api_reply_stored's STATUS for a collection: 200 with {"items": …} */

/*
 * A streamed body's producer: up to MAX bytes into BUF, as libmicrohttpd's
 * content reader: the count, or API_STREAM_END, or API_STREAM_ERROR (the
 * connection is then closed, so the client sees the body cut short).
 */
typedef ssize_t (*api_stream_read)(void *arg, uint64_t pos, char *buf, size_t max);
typedef void (*api_stream_free)(void *arg);
#define API_STREAM_END ((ssize_t)-1)     /* MHD_CONTENT_READER_END_OF_STREAM */
#define API_STREAM_ERROR ((ssize_t)-2)   /* MHD_CONTENT_READER_END_WITH_ERROR */

struct api_req {
    struct api_server *srv;
    struct MHD_Connection *mc;
    const char *method;
    const char *path;
    struct api_match match;
    const char *content_type;
    const char *body;
    size_t body_len;
    const char *body_path;       /* API_BODY_FILE: the spooled body (removed after the
                                    answer unless the handler moved it) */
    struct user_auth user;       /* when the route needs a login */
    char session_hash[65];       /* the login was the web admin's session cookie: its hash */
    char peer[64];               /* api_peer_text's answer, once asked */
    PGconn *conn;
    /* the answer */
    int status;
    char *resp;                  /* malloc'd */
    size_t resp_len;
    const char *resp_type;
    char *location;              /* malloc'd; a Location header */
    char *set_cookie;            /* malloc'd; a Set-Cookie header */
    const char *csp;             /* an HTML answer's Content-Security-Policy, when not the default;
                                    any other answer's, when set */
    char *disposition;           /* malloc'd; a Content-Disposition header */
    const char *cache_control;   /* when not "no-store" */
    const char *referrer_policy; /* an HTML answer's Referrer-Policy, when not "no-referrer" */
    bool cors_any;               /* Access-Control-Allow-Origin: * (a signup form on any site) */
    bool cors_preflight;         /* with cors_any: the answer to a preflight (POST with Content-Type) */
    unsigned retry_after;        /* seconds; a Retry-After header when not 0 */
    bool consent_set;            /* api_consent set the connection's postino.* settings */
    api_stream_read stream_read; /* api_reply_stream's: the body is produced while it is sent */
    api_stream_free stream_free;
    void *stream_arg;
};

PGconn *api_db(struct api_req *r);
PGconn *api_db_renew(struct api_req *r);
const char *api_param(struct api_req *r, size_t i);
const char *api_query(struct api_req *r, const char *name);
int api_query_only(struct api_req *r, const char *const *allowed);
int api_body(struct api_req *r, const struct api_field *fields, json_t **out);
int api_body_refs(struct api_req *r, const struct api_field *fields, const char *const *refs, json_t **out);

void api_reply_json(struct api_req *r, int status, json_t *j);
void api_reply_items(struct api_req *r, json_t *array);
void api_reply_error(struct api_req *r, int status, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void api_reply_err(struct api_req *r, const struct api_err *e);
void api_reply_store(struct api_req *r, const struct store_err *e);
void api_reply_stored(struct api_req *r, int rc, json_t **jp, const struct store_err *e, int status);
void api_reply_page(struct api_req *r, int status, struct buf *html);
void api_reply_text(struct api_req *r, int status, const char *type, struct buf *text);
void api_reply_empty(struct api_req *r, int status);
void api_reply_redirect(struct api_req *r, int status, const char *url);
void api_reply_stream(struct api_req *r, const char *type, api_stream_read read, api_stream_free free_fn, void *arg);
int api_token_key(struct api_req *r, unsigned char key[TOKEN_KEY_LEN]);
int api_login_check(struct api_req *r, const char *ref, const char *password, const char *field,
                    struct user_auth *user);
const struct sockaddr *api_peer(struct api_req *r);
json_t *api_counts(struct api_req *r, double *age_s);
int api_link_token(struct api_req *r, uint64_t *a, uint64_t *b);
void api_http_metrics(struct api_server *s, struct buf *out);
const char *api_conninfo(struct api_req *r);
struct preview_cache *api_previews(struct api_req *r);
uint64_t api_now_ms(void);
const struct api_settings *api_settings_of(struct api_req *r);
bool api_over_tls(struct api_req *r);
const char *api_peer_text(struct api_req *r);
const char *api_session_token(struct api_req *r);
void api_actor(struct api_req *r, char *out, size_t len);
int api_consent(struct api_req *r, const char *via);
int api_consent_form(struct api_req *r, const char *via, const char *form_hash);
const char *api_header(struct api_req *r, const char *name);
bool api_same_site(struct api_req *r);

#endif
