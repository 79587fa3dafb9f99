/*
 * http_client - libcurl's multi socket interface on a libuv loop (after
 * libcurl's own multi-uv example): one uv_poll_t per socket libcurl wants
 * watched, one uv_timer_t for its timeouts; finished transfers are collected
 * after each action and reported to their callers.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <curl/curl.h>

#include "engine/net/http_client.h"
#include "engine/net/webhook_url.h"
#include "engine/util/alloc.h"

struct http_client {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    struct http_client_opts opts;
    char *ca_file;
    size_t inflight;
    int open_handles;          /* the timer and the polls not yet closed */
    bool closing;
    struct http_req *reqs;     /* under way */
    struct http_sock *socks;   /* watched */
    void (*closed)(void *arg);
    void *closed_arg;
};

struct http_sock {
    uv_poll_t poll;
    curl_socket_t fd;
    struct http_client *hc;
    struct http_sock *prev, *next;
};

struct http_req {
    struct http_client *hc;
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    size_t read;               /* bytes of the answer's body seen */
    struct http_result res;
    size_t kept;
    bool refused;              /* a private address was refused at connect time */
    uint64_t started;
    http_done_cb cb;
    void *arg;
    struct http_req *prev, *next;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static bool curl_ready;

static void curl_start(void)
{
    curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

static void handle_closed(uv_handle_t *h)
{
    struct http_client *hc;
    if (h->type == UV_POLL) {
        struct http_sock *s = h->data;
        hc = s->hc;
        xfree(s);
    } else {
        hc = h->data;
    }
    if (--hc->open_handles == 0 && hc->closing) {
        void (*closed)(void *) = hc->closed;
        void *arg = hc->closed_arg;
        xfree(hc->ca_file);
        xfree(hc);
        if (closed)
            closed(arg);
    }
}

/* report REQ's outcome to its caller and free it */
static void req_finish(struct http_req *req, CURLcode code)
{
    struct http_client *hc = req->hc;
    long status = 0;
    curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
    req->res.status = (int)status;
    req->res.latency_ms = (long)((uv_hrtime() - req->started) / 1000000);
    if (req->refused)
        snprintf(req->res.error, sizeof(req->res.error),
                 "refused: the host resolves to a loopback, link-local or private address ([webhooks] allow_private)");
    else if (code == CURLE_WRITE_ERROR && status > 0)
        req->res.error[0] = '\0';  /* the body went over the cap: the status stands */
    else if (code != CURLE_OK && !req->res.error[0])
        snprintf(req->res.error, sizeof(req->res.error), "%s", curl_easy_strerror(code));
    else if (code == CURLE_OK)
        req->res.error[0] = '\0';
    req->res.body[req->kept] = '\0';
    if (req->prev)
        req->prev->next = req->next;
    else
        hc->reqs = req->next;
    if (req->next)
        req->next->prev = req->prev;
    curl_multi_remove_handle(hc->multi, req->easy);
    curl_easy_cleanup(req->easy);
    curl_slist_free_all(req->headers);
    xfree(req->body);
    hc->inflight--;
    req->cb(req->arg, &req->res);
    xfree(req);
}

static void check_done(struct http_client *hc)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(hc->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct http_req *req = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&req);
        req_finish(req, m->data.result);
    }
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    struct http_sock *s = p->data;
    struct http_client *hc = s->hc;
    int flags = 0, running;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(hc->multi, s->fd, flags, &running);
    check_done(hc);
}

static void on_timer(uv_timer_t *t)
{
    struct http_client *hc = t->data;
    int running;
    curl_multi_socket_action(hc->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(hc);
}

/* stop watching S and close its handle */
static void sock_close(struct http_sock *s)
{
    struct http_client *hc = s->hc;
    if (s->prev)
        s->prev->next = s->next;
    else
        hc->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, handle_closed);
}

/* libcurl: watch socket FD for ACTION */
static int socket_cb(CURL *easy, curl_socket_t fd, int action, void *userp, void *socketp)
{
    (void)easy;
    struct http_client *hc = userp;
    struct http_sock *s = socketp;
    if (action == CURL_POLL_REMOVE) {
        if (s) {
            sock_close(s);
            curl_multi_assign(hc->multi, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        s = xcalloc(1, sizeof(*s));
        s->fd = fd;
        s->hc = hc;
        if (uv_poll_init_socket(hc->loop, &s->poll, fd) < 0) {
            xfree(s);
            return -1;
        }
        s->poll.data = s;
        s->next = hc->socks;
        if (hc->socks)
            hc->socks->prev = s;
        hc->socks = s;
        hc->open_handles++;
        curl_multi_assign(hc->multi, fd, s);
    }
    int ev = (action == CURL_POLL_IN ? UV_READABLE : 0) | (action == CURL_POLL_OUT ? UV_WRITABLE : 0) |
             (action == CURL_POLL_INOUT ? UV_READABLE | UV_WRITABLE : 0);
    uv_poll_start(&s->poll, ev, on_poll);
    return 0;
}

/* libcurl: call back in TIMEOUT_MS (-1: no timer) */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct http_client *hc = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&hc->timer);
    else
        uv_timer_start(&hc->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* libcurl: a socket to connect to ADDR; none when the address is private and not allowed */
static curl_socket_t open_cb(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
    struct http_req *req = clientp;
    if (purpose != CURLSOCKTYPE_IPCXN)
        return CURL_SOCKET_BAD;
    if (!req->hc->opts.allow_private && webhook_addr_private(&addr->addr)) {
        req->refused = true;
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

/* libcurl: the answer's body; keep its first bytes, stop past the cap */
static size_t write_cb(char *data, size_t size, size_t n, void *userp)
{
    struct http_req *req = userp;
    size_t len = size * n;
    size_t room = sizeof(req->res.body) - 1 - req->kept;
    size_t take = len < room ? len : room;
    memcpy(req->res.body + req->kept, data, take);
    req->kept += take;
    req->read += len;
    return req->read > req->hc->opts.body_cap ? 0 : len;
}

/* http_client_new - see http_client.h. */
struct http_client *http_client_new(uv_loop_t *loop, const struct http_client_opts *opts)
{
    pthread_once(&curl_once, curl_start);
    if (!curl_ready)
        return NULL;
    struct http_client *hc = xcalloc(1, sizeof(*hc));
    hc->loop = loop;
    hc->opts = *opts;
    hc->ca_file = opts->ca_file ? xstrdup(opts->ca_file) : NULL;
    hc->opts.ca_file = hc->ca_file;
    hc->multi = curl_multi_init();
    if (!hc->multi) {
        xfree(hc->ca_file);
        xfree(hc);
        return NULL;
    }
    uv_timer_init(loop, &hc->timer);
    hc->timer.data = hc;
    hc->open_handles = 1;
    curl_multi_setopt(hc->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(hc->multi, CURLMOPT_SOCKETDATA, hc);
    curl_multi_setopt(hc->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(hc->multi, CURLMOPT_TIMERDATA, hc);
    curl_multi_setopt(hc->multi, CURLMOPT_MAX_HOST_CONNECTIONS, opts->max_host_conns > 0 ? opts->max_host_conns : 8L);
    return hc;
}

/* http_client_post - POST BODY (LEN bytes, copied) to URL with HEADERS (NULL-ended "Name: value"). */
int http_client_post(struct http_client *hc, const char *url, const char *const *headers, const void *body,
                     size_t len, http_done_cb cb, void *arg)
{
    if (hc->closing)
        return UV_ECANCELED;
    struct http_req *req = xcalloc(1, sizeof(*req));
    req->hc = hc;
    req->cb = cb;
    req->arg = arg;
    req->body = xmemdup(body, len ? len : 1);
    req->easy = curl_easy_init();
    if (!req->easy) {
        xfree(req->body);
        xfree(req);
        return UV_ENOMEM;
    }
    for (size_t i = 0; headers && headers[i]; i++)
        req->headers = curl_slist_append(req->headers, headers[i]);
    req->headers = curl_slist_append(req->headers, "Expect:"); /* no 100-continue round trip */
    CURL *e = req->easy;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, req);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, req->headers);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "postino-webhooks/0.1");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (hc->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, hc->ca_file);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, hc->opts.connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, hc->opts.timeout_ms);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_cb);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, req);
    req->started = uv_hrtime();
    if (curl_multi_add_handle(hc->multi, e) != CURLM_OK) {
        curl_easy_cleanup(e);
        curl_slist_free_all(req->headers);
        xfree(req->body);
        xfree(req);
        return UV_EINVAL;
    }
    req->next = hc->reqs;
    if (hc->reqs)
        hc->reqs->prev = req;
    hc->reqs = req;
    hc->inflight++;
    return 0;
}

/* http_client_inflight - see http_client.h. */
size_t http_client_inflight(const struct http_client *hc)
{
    return hc->inflight;
}

/* http_client_close - see http_client.h. */
void http_client_close(struct http_client *hc, void (*closed)(void *arg), void *arg)
{
    hc->closing = true;
    hc->closed = closed;
    hc->closed_arg = arg;
    while (hc->reqs) {
        snprintf(hc->reqs->res.error, sizeof(hc->reqs->res.error), "cancelled");
        req_finish(hc->reqs, CURLE_ABORTED_BY_CALLBACK);
    }
    curl_multi_cleanup(hc->multi); /* closes the connections kept for reuse */
    hc->multi = NULL;
    while (hc->socks)
        sock_close(hc->socks);
    uv_timer_stop(&hc->timer);
    uv_close((uv_handle_t *)&hc->timer, handle_closed);
}
