/*
 * http_client - HTTP POSTs from a libuv loop through libcurl's multi socket
 * interface: libcurl's sockets sit on uv_poll_t handles and its timer on a
 * uv_timer_t, so the loop never blocks on the network.
 *
 * http_client_new      a client on LOOP with OPTS (copied); NULL when libcurl cannot start
 * http_client_post     send one POST; CB runs once with the outcome (never when this fails)
 * http_client_inflight how many requests are under way
 * http_client_close    cancel what is under way (its callbacks run, error "cancelled"),
 *                      close the handles; CLOSED (may be NULL) runs once they are freed
 *
 * Every request: TLS verified (the system's CAs or OPTS' ca_file), no
 * redirect followed, http and https only, no proxy from the environment, a
 * connect and a total timeout, the answer's body read up to a small cap (the
 * first bytes kept for the log). Unless OPTS allow them, a connection to a
 * loopback, link-local or private address (webhook_url.h) is refused at the
 * moment of connecting, whatever the name resolved to.
 */
#ifndef POSTINO_NET_HTTP_CLIENT_H
#define POSTINO_NET_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

struct http_client;

struct http_client_opts {
    long connect_timeout_ms;
    long timeout_ms;
    size_t body_cap;          /* bytes of an answer's body read at most */
    bool allow_private;
    long max_host_conns;      /* connections kept per host */
    const char *ca_file;      /* NULL: the system's */
};

struct http_result {
    int status;               /* the HTTP status; 0: no answer */
    long latency_ms;          /* from the start to the end of the request */
    char error[256];          /* "" when an answer came */
    char body[200];           /* the answer's first bytes, NUL-ended */
};

typedef void (*http_done_cb)(void *arg, const struct http_result *r);

struct http_client *http_client_new(uv_loop_t *loop, const struct http_client_opts *opts);
int http_client_post(struct http_client *hc, const char *url, const char *const *headers, const void *body,
                     size_t len, http_done_cb cb, void *arg);
size_t http_client_inflight(const struct http_client *hc);
void http_client_close(struct http_client *hc, void (*closed)(void *arg), void *arg);

#endif
