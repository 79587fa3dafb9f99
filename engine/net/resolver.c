/*
 * resolver - c-ares on a libuv loop (see resolver.h): c-ares says through
 * its socket-state callback which sockets to watch; each gets a uv_poll_t,
 * readiness is handed back with ares_process_fd, and one uv_timer_t is set to
 * ares_timeout() after every step so that retransmissions and timeouts happen.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <ares.h>

#include "engine/net/resolver.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"

struct resolver {
    uv_loop_t *loop;
    ares_channel ch;
    uv_timer_t timer;
    struct rsock *socks;
    int open_handles;
    int closing;
    void (*closed)(void *arg);
    void *closed_arg;
};

struct rsock {
    uv_poll_t poll;
    ares_socket_t fd;
    struct resolver *r;
    struct rsock *next;
};

struct rquery {
    struct resolver *r;
    char name[DNS_NAME_MAX + 1];
    int type;
    resolver_cb cb;
    void *arg;
};

static pthread_once_t ares_once = PTHREAD_ONCE_INIT;
static int ares_ready = -1;

static void ares_start(void)
{
    ares_ready = ares_library_init(ARES_LIB_INIT_ALL);
}

static void handle_closed(uv_handle_t *h)
{
    struct resolver *r = h->data;
    if (h != (uv_handle_t *)&r->timer)
        xfree(h);   /* an rsock, whose poll handle comes first */
    if (--r->open_handles == 0) {
        if (r->closed)
            r->closed(r->closed_arg);
        xfree(r);
    }
}

static void timer_reset(struct resolver *r);

static void on_timer(uv_timer_t *t)
{
    struct resolver *r = t->data;
    ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    timer_reset(r);
}

/* the timer set to c-ares's next timeout, or stopped when nothing waits */
static void timer_reset(struct resolver *r)
{
    struct timeval tv, *tvp;
    if (r->closing)
        return;
    tvp = ares_timeout(r->ch, NULL, &tv);
    if (!tvp) {
        uv_timer_stop(&r->timer);
        return;
    }
    uint64_t ms = (uint64_t)tvp->tv_sec * 1000 + (uint64_t)tvp->tv_usec / 1000;
    uv_timer_start(&r->timer, on_timer, ms ? ms : 1, 0);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    struct rsock *s = (struct rsock *)p;
    struct resolver *r = s->r;
    ares_socket_t fd = s->fd;
    ares_socket_t rfd = status < 0 || (events & UV_READABLE) ? fd : ARES_SOCKET_BAD;
    ares_socket_t wfd = status < 0 || (events & UV_WRITABLE) ? fd : ARES_SOCKET_BAD;
    ares_process_fd(r->ch, rfd, wfd);
    timer_reset(r);
}

/* c-ares wants FD watched for reading and/or writing, or (both 0) no more */
static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct resolver *r = data;
    struct rsock **pp = &r->socks, *s;
    while (*pp && (*pp)->fd != fd)
        pp = &(*pp)->next;
    s = *pp;
    if (!readable && !writable) {
        if (s) {
            *pp = s->next;
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, handle_closed);
        }
        return;
    }
    if (!s) {
        s = xcalloc(1, sizeof(*s));
        if (uv_poll_init_socket(r->loop, &s->poll, fd) < 0) {
            xfree(s);
            return;   /* c-ares times the query out */
        }
        s->fd = fd, s->r = r;
        s->poll.data = r;
        s->next = r->socks;
        r->socks = s;
        r->open_handles++;
    }
    uv_poll_start(&s->poll, (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0), on_poll);
}

/* resolver_new - see resolver.h. */
struct resolver *resolver_new(uv_loop_t *loop, const char *servers, unsigned try_ms, char *err, size_t errlen)
{
    pthread_once(&ares_once, ares_start);
    if (ares_ready != ARES_SUCCESS) {
        snprintf(err, errlen, "c-ares cannot start");
        return NULL;
    }
    struct resolver *r = xcalloc(1, sizeof(*r));
    struct ares_options o = { 0 };
    o.sock_state_cb = on_sock_state;
    o.sock_state_cb_data = r;
    o.timeout = (int)(try_ms ? try_ms : 2000);
    o.tries = 2;
    o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_EDNS;
    o.ednspsz = 1232;
    int rc = ares_init_options(&r->ch, &o,
                               ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS |
                                   ARES_OPT_EDNSPSZ);
    if (rc != ARES_SUCCESS) {
        snprintf(err, errlen, "c-ares cannot start: %s", ares_strerror(rc));
        xfree(r);
        return NULL;
    }
    if (servers && *servers && (rc = ares_set_servers_ports_csv(r->ch, servers)) != ARES_SUCCESS) {
        snprintf(err, errlen, "[dns] servers = \"%.100s\": not a list of addresses with optional ports (%s)", servers,
                 ares_strerror(rc));
        ares_destroy(r->ch);
        xfree(r);
        return NULL;
    }
    r->loop = loop;
    uv_timer_init(loop, &r->timer);
    r->timer.data = r;
    r->open_handles = 1;
    return r;
}

static enum dns_status status_of(int st)
{
    switch (st) {
    case ARES_SUCCESS: return DNS_OK;
    case ARES_ENOTFOUND: return DNS_NXDOMAIN;
    case ARES_ENODATA: return DNS_NODATA;
    case ARES_ETIMEOUT: return DNS_TIMEOUT;
    default: return DNS_SERVFAIL;
    }
}

/* the records of ABUF for Q's type into *RR; the status of the parse */
static enum dns_status parse(struct rquery *q, const unsigned char *abuf, int alen, struct dns_rr **rr, size_t *n)
{
    *rr = NULL, *n = 0;
    size_t cap = 0;
    int st;
#define PUSH()                                                 \
    do {                                                       \
        if (*n == cap) {                                       \
            cap = cap ? 2 * cap : 8;                           \
            *rr = xrealloc(*rr, cap * sizeof(**rr));           \
        }                                                      \
        memset(&(*rr)[*n], 0, sizeof(**rr));                   \
    } while (0)
    if (q->type == DNS_T_TXT) {
        struct ares_txt_ext *txt = NULL;
        if ((st = ares_parse_txt_reply_ext(abuf, alen, &txt)) != ARES_SUCCESS)
            return status_of(st);
        struct buf cur = BUF_INIT;
        for (struct ares_txt_ext *t = txt; t; t = t->next) {
            if (t->record_start && t != txt) {
                PUSH();
                (*rr)[(*n)++].text = buf_detach(&cur, NULL);
            }
            buf_append(&cur, t->txt, t->length);
            buf_cstr(&cur);
        }
        if (txt) {
            PUSH();
            (*rr)[*n].text = buf_detach(&cur, NULL);
            if (!(*rr)[*n].text)
                (*rr)[*n].text = xstrdup("");
            (*n)++;
        }
        buf_free(&cur);
        ares_free_data(txt);
    } else if (q->type == DNS_T_MX) {
        struct ares_mx_reply *mx = NULL;
        if ((st = ares_parse_mx_reply(abuf, alen, &mx)) != ARES_SUCCESS)
            return status_of(st);
        for (struct ares_mx_reply *m = mx; m; m = m->next) {
            PUSH();
            (*rr)[*n].text = xstrdup(m->host);
            (*rr)[(*n)++].pref = m->priority;
        }
        ares_free_data(mx);
    } else if (q->type == DNS_T_A || q->type == DNS_T_AAAA) {
        struct hostent *h = NULL;
        st = q->type == DNS_T_A ? ares_parse_a_reply(abuf, alen, &h, NULL, NULL)
                                : ares_parse_aaaa_reply(abuf, alen, &h, NULL, NULL);
        if (st != ARES_SUCCESS)
            return status_of(st);
        for (char **a = h->h_addr_list; a && *a; a++) {
            char txt[64];
            PUSH();
            struct dns_rr *x = &(*rr)[*n];
            x->family = q->type == DNS_T_A ? 4 : 6;
            memcpy(x->addr, *a, x->family == 4 ? 4 : 16);
            inet_ntop(x->family == 4 ? AF_INET : AF_INET6, x->addr, txt, sizeof(txt));
            x->text = xstrdup(txt);
            (*n)++;
        }
        ares_free_hostent(h);
    } else if (q->type == DNS_T_PTR) {
        struct hostent *h = NULL;
        /* the address is not checked against the question: give the parser a dummy one */
        unsigned char addr[16] = { 0 };
        if ((st = ares_parse_ptr_reply(abuf, alen, addr, 4, AF_INET, &h)) != ARES_SUCCESS)
            return status_of(st);
        if (h->h_name) {
            PUSH();
            (*rr)[(*n)++].text = xstrdup(h->h_name);
        }
        for (char **a = h->h_aliases; a && *a; a++) {
            PUSH();
            (*rr)[(*n)++].text = xstrdup(*a);
        }
        ares_free_hostent(h);
    }
#undef PUSH
    return *n ? DNS_OK : DNS_NODATA;
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    struct rquery *q = arg;
    struct dns_rr *rr = NULL;
    size_t n = 0;
    enum dns_status st = status_of(status);
    (void)timeouts;
    if (st == DNS_OK)
        st = parse(q, abuf, alen, &rr, &n);
    q->cb(q->arg, q->name, q->type, st, rr, n);
    for (size_t i = 0; i < n; i++)
        xfree(rr[i].text);
    xfree(rr);
    xfree(q);
}

/* resolver_query - see resolver.h. */
int resolver_query(struct resolver *r, const char *name, int type, resolver_cb cb, void *arg)
{
    if (r->closing)
        return -1;
    struct rquery *q = xcalloc(1, sizeof(*q));
    if (dns_name_norm(name, q->name) < 0) {
        xfree(q);
        return -1;
    }
    q->r = r, q->type = type, q->cb = cb, q->arg = arg;
    ares_query(r->ch, q->name, 1 /* C_IN */, type, on_answer, q);
    timer_reset(r);
    return 0;
}

/* resolver_close - see resolver.h. */
void resolver_close(struct resolver *r, void (*closed)(void *arg), void *arg)
{
    r->closed = closed, r->closed_arg = arg;
    ares_cancel(r->ch);
    r->closing = 1;
    ares_destroy(r->ch);
    while (r->socks) {
        struct rsock *s = r->socks;
        r->socks = s->next;
        uv_poll_stop(&s->poll);
        uv_close((uv_handle_t *)&s->poll, handle_closed);
    }
    uv_timer_stop(&r->timer);
    uv_close((uv_handle_t *)&r->timer, handle_closed);
}
