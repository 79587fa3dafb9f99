/*
 * smtp - the client side of an SMTP submission session, as a state machine
 * driven by libuv callbacks.
 *
 * Setup: resolve (a name; an address is connected to at once), connect,
 * (TLS for the wrapper mode), greeting, EHLO, STARTTLS, handshake, EHLO,
 * AUTH PLAIN or LOGIN, ready. A message: MAIL, RCPT, DATA (one write when
 * pipelining), the dot-stuffed body after 354, the
 * final reply; RSET when a transaction ended with MAIL accepted but no data
 * sent. When pipelining, the 354 also asks the owner for the next message
 * (room_cb): its MAIL, RCPT and DATA go in the write that carries this one's
 * content, and it becomes the message in flight when this one's final reply
 * is read. A queued message whose turn never comes is reported unsent. Replies are parsed by engine/mail/smtp_reply; TLS runs on memory BIOs
 * (engine/net/tls) between the socket and the parser. Every wait arms the
 * one timer. Failures go through conn_break, which reports to whoever waits:
 * the open callback during setup or while idle, the send callback during a
 * message. The structure lives until its handles are closed (smtp_conn_close).
 *
 * Closing: when the server's last word was a reply it can still hear an answer
 * to (idle, or a refused greeting, EHLO, STARTTLS or AUTH), QUIT goes first and
 * its reply is awaited; then close_notify (TLS), our FIN, and the server's end
 * of the connection awaited, each wait on the timer. A session that broke on a
 * timeout, a drop, a TLS error or a malformed reply is closed at once.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mail/smtp_reply.h"
#include "engine/net/smtp.h"
#include "engine/net/smtp_data.h"
#include "engine/net/tls.h"
#include "engine/util/alloc.h"
#include "engine/util/base64.h"
#include "engine/util/buf.h"
#include "engine/util/log.h"

enum cstate {
    CS_RESOLVING,
    CS_CONNECTING,
    CS_TLS_WRAP,   /* handshake before the greeting (wrapper mode) */
    CS_GREETING,
    CS_EHLO,
    CS_STARTTLS,
    CS_TLS,        /* handshake after STARTTLS */
    CS_AUTH_PLAIN,
    CS_AUTH_LOGIN,
    CS_AUTH_USER,
    CS_AUTH_PASS,
    CS_READY,
    CS_TXN,        /* replies to MAIL/RCPT/DATA expected */
    CS_BODY,       /* data sent, final reply expected */
    CS_ABORT,      /* a lone "." sent after an unwanted 354 */
    CS_RSET,
    CS_QUIT,
    CS_SHUTDOWN,   /* close_notify and FIN sent, the server's end awaited */
    CS_BROKEN,
    CS_CLOSED,
};

struct wreq {
    uv_write_t req;
    struct smtp_conn *c;
    char *data;
};

struct smtp_conn {
    uv_loop_t *loop;
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_connect_t connect_req;
    uv_shutdown_t shutdown_req;
    uv_getaddrinfo_t gai;
    bool gai_pending;
    int refs; /* open handles and pending requests */
    enum cstate state;
    bool closing;
    bool ready_once;
    bool exhausted; /* RSET failed: no more messages here */
    bool in_step;   /* broken on a reply or a local refusal: the stream is in step... */
    bool quit_ok;   /* ...and the server still listens for QUIT (not after a 421) */
    int write_error; /* a write (or an immediate connect) that failed: reported on the timer, not within the caller */

    /* The configuration, copied. */
    char *host;
    char *helo;
    char *server_name;
    char *username;
    char *password;
    int port;
    enum smtp_tls_mode tls_mode;
    bool allow_plain_auth;
    bool verify;
    SSL_CTX *ctx;
    unsigned connect_ms, command_ms, data_ms, max_messages;
    bool no_pipelining;

    smtp_conn_cb conn_cb;
    void *conn_arg;
    smtp_close_cb close_cb;
    void *close_arg;

    struct tls_conn *tls;
    bool tls_up;
    struct smtp_ext ext;

    char rbuf[65536];
    struct buf in;
    size_t in_off;
    struct buf out;
    struct smtp_reply reply;

    /* The message in flight. */
    smtp_send_cb send_cb;
    void *send_arg;
    struct buf body;   /* dot-stuffed, when the message could not be sent as it is */
    const char *raw;   /* else the caller's message, until it is written */
    size_t raw_len;
    enum smtp_stage expect[3];
    int nexpect, iexpect;
    bool pipelined;
    bool mail_ok;
    bool failed;
    enum smtp_stage fail_stage;
    int fail_code;
    char fail_enhanced[16];
    struct buf fail_text;
    char *rcpt; /* for RCPT TO when not pipelining */
    enum smtp_stage cancel_stage;
    unsigned sent;
    /* The message queued behind it, its envelope sent (pipelined), until its turn. */
    struct {
        smtp_send_cb cb;
        void *arg;
        const char *raw;
        size_t raw_len;
        struct buf body;
    } nx;
    smtp_room_cb room_cb;
    bool in_room; /* room_cb runs: an envelope queued now goes out with the content */
    bool cut;     /* the queued message was taken back after its envelope went: end after this one */
    unsigned lone_finals; /* final replies that came alone though the next envelope went with the content */
    char queue_id[128];
    char errtext[512];
};

/*
 * A server that answers the end of data on its own, before reading the
 * envelope that came with it, answers that envelope in a second small write
 * which its Nagle holds until our delayed ACK (40 ms on Linux). After this
 * many such lone answers a connection stops queueing the next message behind
 * the content (it waits for the final reply, then sends the envelope, whose
 * segment carries the ACK).
 */
#define LONE_FINALS_MAX 2

/* The waits of a closing session: for the reply to QUIT, then for the server's end. */
#define QUIT_WAIT_MS 10000
#define SHUTDOWN_WAIT_MS 5000

static void conn_break(struct smtp_conn *c, enum smtp_stage stage, int error, const char *why);
static void do_close(struct smtp_conn *c);
static void close_gently(struct smtp_conn *c);
static void tls_step(struct smtp_conn *c);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);

/* smtp_stage_name - the stage as a word for logs and results. */
const char *smtp_stage_name(enum smtp_stage stage)
{
    static const char *names[] = { "connect", "greeting", "ehlo", "tls", "auth", "mail", "rcpt", "data" };
    return (unsigned)stage < sizeof(names) / sizeof(names[0]) ? names[stage] : "?";
}

static enum smtp_stage cur_stage(const struct smtp_conn *c)
{
    switch (c->state) {
    case CS_RESOLVING:
    case CS_CONNECTING:
        return SMTP_STAGE_CONNECT;
    case CS_GREETING:
        return SMTP_STAGE_GREETING;
    case CS_EHLO:
        return SMTP_STAGE_EHLO;
    case CS_TLS_WRAP:
    case CS_STARTTLS:
    case CS_TLS:
        return SMTP_STAGE_TLS;
    case CS_AUTH_PLAIN:
    case CS_AUTH_LOGIN:
    case CS_AUTH_USER:
    case CS_AUTH_PASS:
        return SMTP_STAGE_AUTH;
    case CS_TXN:
        return c->iexpect < c->nexpect ? c->expect[c->iexpect] : SMTP_STAGE_DATA;
    case CS_BODY:
    case CS_ABORT:
        return SMTP_STAGE_DATA;
    case CS_RSET:
        return c->fail_stage;
    default:
        return SMTP_STAGE_CONNECT;
    }
}

/* ---- handles, timer and freeing ---- */

/* give_back - the queued message, if any, never had its turn: report it unsent (ERROR, WHY). */
static void give_back(struct smtp_conn *c, int error, const char *why)
{
    if (!c->nx.cb)
        return;
    smtp_send_cb cb = c->nx.cb;
    void *arg = c->nx.arg;
    c->nx.cb = NULL;
    c->nx.raw = NULL;
    buf_reset(&c->nx.body);
    buf_reset(&c->out); /* its envelope, when it was queued after the content went */
    struct smtp_result res = { .stage = SMTP_STAGE_MAIL, .error = error, .enhanced = "", .text = why,
                               .queue_id = "", .unsent = true };
    cb(c, &res, arg);
}

static void maybe_free(struct smtp_conn *c)
{
    if (c->refs > 0 || c->state != CS_CLOSED)
        return;
    if (c->send_cb) {
        smtp_send_cb cb = c->send_cb;
        c->send_cb = NULL;
        struct smtp_result res = { .stage = c->cancel_stage,
                                   .error = UV_ECANCELED, .enhanced = "",
                                   .text = "the connection was closed", .queue_id = "" };
        cb(c, &res, c->send_arg);
    }
    give_back(c, UV_ECANCELED, "the connection was closed");
    tls_conn_free(c->tls);
    if (c->ctx)
        tls_ctx_free(c->ctx);
    if (c->password) {
        explicit_bzero(c->password, strlen(c->password));
        xfree(c->password);
    }
    xfree(c->host);
    xfree(c->helo);
    xfree(c->server_name);
    xfree(c->username);
    xfree(c->rcpt);
    buf_free(&c->in);
    if (c->out.data)
        explicit_bzero(c->out.data, c->out.cap);
    buf_free(&c->out);
    buf_free(&c->body);
    buf_free(&c->nx.body);
    buf_free(&c->fail_text);
    smtp_reply_free(&c->reply);
    smtp_close_cb cb = c->close_cb;
    void *arg = c->close_arg;
    xfree(c);
    if (cb)
        cb(arg);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct smtp_conn *c = h->data;
    c->refs--;
    maybe_free(c);
}

static void on_timeout(uv_timer_t *t)
{
    struct smtp_conn *c = t->data;
    if (c->state == CS_QUIT) {
        close_gently(c);
        return;
    }
    if (c->state == CS_SHUTDOWN) {
        do_close(c);
        return;
    }
    if (c->write_error) {
        int e = c->write_error;
        c->write_error = 0;
        conn_break(c, cur_stage(c), e, uv_strerror(e));
        return;
    }
    char why[96];
    snprintf(why, sizeof(why), "timed out in the %s stage", smtp_stage_name(cur_stage(c)));
    conn_break(c, cur_stage(c), UV_ETIMEDOUT, why);
}

static void arm(struct smtp_conn *c, unsigned ms)
{
    uv_timer_start(&c->timer, on_timeout, ms, 0);
}

/* ---- writing ---- */

static void on_written(uv_write_t *req, int status)
{
    struct wreq *w = req->data;
    struct smtp_conn *c = w->c;
    xfree(w->data);
    xfree(w);
    c->refs--;
    if (status < 0 && status != UV_ECANCELED && c->state != CS_CLOSED && c->state != CS_BROKEN) {
        /* Report from the timer, outside whatever is running now. */
        c->write_error = status;
        arm(c, 0);
    }
    maybe_free(c);
}

/* write_queued - queue DATA[OFF..LEN) (DATA taken over) behind the writes waiting. */
static void write_queued(struct smtp_conn *c, char *data, size_t off, size_t len)
{
    uv_buf_t b = uv_buf_init(data + off, (unsigned)(len - off));
    struct wreq *w = xmalloc(sizeof(*w));
    w->c = c;
    w->data = data;
    w->req.data = w;
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written);
    if (rc < 0) {
        xfree(data);
        xfree(w);
        c->write_error = rc;
        arm(c, 0);
        return;
    }
    c->refs++;
}

/*
 * write_raw - send LEN bytes of DATA (taken over) on the socket. What the
 * socket takes at once is written on the spot (uv_try_write, which refuses
 * while earlier writes wait, so the order holds); only the rest is queued.
 * A queued write costs the loop a change of the socket's epoll registration
 * and a callback; nearly every command and message fits the socket's buffer.
 */
static void write_raw(struct smtp_conn *c, char *data, size_t len)
{
    uv_buf_t b = uv_buf_init(data, (unsigned)len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n == (int)len) {
        xfree(data);
        return;
    }
    if (n < 0 && n != UV_EAGAIN) {
        xfree(data);
        c->write_error = n;
        arm(c, 0);
        return;
    }
    write_queued(c, data, n > 0 ? (size_t)n : 0, len);
}

static void flush_tls(struct smtp_conn *c);

/*
 * write_message - send the message in flight from where its caller keeps it,
 * then ".\r\n" and the commands waiting in c->out (the next message's
 * envelope), in one writev. What the socket does not take at once is copied
 * and queued, so nothing refers to the caller's bytes afterwards.
 */
static void write_message(struct smtp_conn *c)
{
    static const char eod[] = ".\r\n";
    const char *msg = c->raw;
    size_t len = c->raw_len;
    c->raw = NULL;
    if (c->tls_up) {
        /* the end-of-data mark and the next envelope in one TLS record: a
         * server that reads a record at a time and answers what it has read
         * would otherwise send "250 queued" alone, and its next small write
         * (250, 250, 354) would wait on Nagle for our delayed ACK (40 ms) */
        struct buf *tail = &c->body; /* unused: the message goes as it is */
        buf_reset(tail);
        buf_append(tail, eod, 3);
        buf_append(tail, c->out.data, c->out.len);
        buf_reset(&c->out);
        int rc = tls_conn_write(c->tls, msg, len) < 0 || tls_conn_write(c->tls, tail->data, tail->len) < 0;
        buf_reset(tail);
        if (rc) {
            c->write_error = UV_EPROTO;
            arm(c, 0);
            return;
        }
        flush_tls(c);
        return;
    }
    uv_buf_t b[3] = { uv_buf_init((char *)msg, (unsigned)len), uv_buf_init((char *)eod, 3),
                      uv_buf_init(c->out.data, (unsigned)c->out.len) };
    size_t total = len + 3 + c->out.len;
    int n = uv_try_write((uv_stream_t *)&c->tcp, b, c->out.len ? 3 : 2);
    if (n == (int)total) {
        buf_reset(&c->out);
        return;
    }
    if (n < 0 && n != UV_EAGAIN) {
        buf_reset(&c->out);
        c->write_error = n;
        arm(c, 0);
        return;
    }
    size_t done = n > 0 ? (size_t)n : 0;
    struct buf rest = BUF_INIT;
    buf_reserve(&rest, total - done);
    for (int i = 0; i < 3; i++) {
        if (done >= b[i].len) {
            done -= b[i].len;
            continue;
        }
        buf_append(&rest, b[i].base + done, b[i].len - done);
        done = 0;
    }
    buf_reset(&c->out);
    size_t rlen;
    char *data = buf_detach(&rest, &rlen);
    write_queued(c, data, 0, rlen);
}

static void flush_tls(struct smtp_conn *c)
{
    struct buf b = BUF_INIT;
    if (tls_conn_output(c->tls, &b) > 0) {
        size_t len;
        char *data = buf_detach(&b, &len);
        write_raw(c, data, len);
    }
    buf_free(&b);
}

/* send_buf - send the bytes in B (emptied), through TLS when it is up. */
static void send_buf(struct smtp_conn *c, struct buf *b)
{
    if (b->len == 0)
        return;
    if (c->tls_up) {
        if (tls_conn_write(c->tls, b->data, b->len) < 0) {
            explicit_bzero(b->data, b->len);
            buf_reset(b);
            c->write_error = UV_EPROTO;
            arm(c, 0);
            return;
        }
        explicit_bzero(b->data, b->len);
        buf_reset(b);
        flush_tls(c);
        return;
    }
    size_t len;
    char *data = buf_detach(b, &len);
    write_raw(c, data, len);
}

/* cmd - queue one command line (CRLF added) in the output buffer. */
static void cmd(struct smtp_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cmd(struct smtp_conn *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vappendf(&c->out, fmt, ap);
    va_end(ap);
    buf_append(&c->out, "\r\n", 2);
}

static void flush_cmds(struct smtp_conn *c, unsigned timeout_ms)
{
    send_buf(c, &c->out);
    arm(c, timeout_ms);
}

/* ---- reporting ---- */

static void result_from_reply(const struct smtp_conn *c, struct smtp_result *res,
                              enum smtp_stage stage)
{
    res->stage = stage;
    res->accepted = false;
    res->code = c->reply.code;
    res->error = 0;
    res->enhanced = c->reply.enhanced;
    res->text = c->reply.text.data ? c->reply.text.data : "";
    res->queue_id = "";
    res->unsent = false;
}

/*
 * conn_end - the session is over: report STAGE and ERROR (0 when the current
 * reply says why) to whoever waits, and stop reading. IN_STEP: the stream is
 * still in step (the server replied, or we refused on our side), so closing
 * it may say goodbye; QUIT too unless the server said 421.
 */
static void conn_end(struct smtp_conn *c, enum smtp_stage stage, int error, const char *why, bool in_step)
{
    if (c->state == CS_CLOSED || c->state == CS_BROKEN || c->state == CS_SHUTDOWN)
        return;
    if (c->state == CS_QUIT) {
        do_close(c);
        return;
    }
    c->state = CS_BROKEN;
    c->in_step = in_step;
    c->quit_ok = in_step && (error || c->reply.code != 421);
    uv_timer_stop(&c->timer);
    uv_read_stop((uv_stream_t *)&c->tcp);
    struct smtp_result res;
    result_from_reply(c, &res, stage);
    if (error) {
        res.code = 0;
        res.error = error;
        res.enhanced = "";
        snprintf(c->errtext, sizeof(c->errtext), "%s", why);
        res.text = c->errtext;
    }
    log_debug("smtp %s:%d: %s stage: %s%d %s%s%s", c->host, c->port, smtp_stage_name(stage),
              error ? "" : "server replied ", res.code, res.enhanced, *res.enhanced ? " " : "", res.text);
    if (c->closing)
        return;
    if (c->send_cb) {
        smtp_send_cb cb = c->send_cb;
        c->send_cb = NULL;
        c->raw = NULL;
        cb(c, &res, c->send_arg);
        give_back(c, error ? error : UV_ECONNABORTED, "the connection ended before this message's turn");
    } else {
        c->conn_cb(c, error ? error : UV_ECONNABORTED, &res, c->conn_arg);
    }
}

/* conn_break - the session is over on a reply (ERROR 0) or a failure of the link (ERROR < 0). */
static void conn_break(struct smtp_conn *c, enum smtp_stage stage, int error, const char *why)
{
    conn_end(c, stage, error, why, error == 0);
}

/* conn_refuse - the session is over because we will not go on (ERROR, WHY); the server hears QUIT. */
static void conn_refuse(struct smtp_conn *c, enum smtp_stage stage, int error, const char *why)
{
    conn_end(c, stage, error, why, true);
}

static void become_ready(struct smtp_conn *c)
{
    c->state = CS_READY;
    uv_timer_stop(&c->timer);
    if (!c->ready_once) {
        c->ready_once = true;
        struct smtp_result res;
        result_from_reply(c, &res, SMTP_STAGE_AUTH);
        log_debug("smtp %s:%d: ready%s", c->host, c->port, c->tls_up ? " (TLS)" : "");
        c->conn_cb(c, 0, &res, c->conn_arg);
    }
}

/* begin - a new transaction's state, for a message whose MAIL, RCPT and DATA are pipelined (PIPELINED) */
static void begin(struct smtp_conn *c, bool pipelined)
{
    c->failed = false;
    c->mail_ok = false;
    c->fail_stage = SMTP_STAGE_MAIL;
    c->queue_id[0] = 0;
    c->nexpect = c->iexpect = 0;
    c->expect[c->nexpect++] = SMTP_STAGE_MAIL;
    if (pipelined) {
        c->expect[c->nexpect++] = SMTP_STAGE_RCPT;
        c->expect[c->nexpect++] = SMTP_STAGE_DATA;
    }
    c->pipelined = pipelined;
    buf_reset(&c->fail_text);
}

/*
 * deliver - the message in flight is done: report it, and be ready again or,
 * with a message queued, wait for the replies to its envelope (already sent).
 * RES may point into this message's state: the next one's is set afterwards.
 */
static void deliver(struct smtp_conn *c, const struct smtp_result *res)
{
    smtp_send_cb cb = c->send_cb;
    void *arg = c->send_arg;
    bool next = c->nx.cb != NULL;
    c->send_cb = NULL;
    c->raw = NULL;
    if (next) {
        c->send_cb = c->nx.cb;
        c->send_arg = c->nx.arg;
        c->raw = c->nx.raw;
        c->raw_len = c->nx.raw_len;
        c->nx.cb = NULL;
        c->nx.raw = NULL;
        struct buf t = c->body;
        c->body = c->nx.body;
        c->nx.body = t;
        buf_reset(&c->nx.body);
        c->state = CS_TXN;
        if (c->out.len)
            send_buf(c, &c->out); /* queued after the content went */
        arm(c, c->command_ms);
    } else if (c->cut) {
        /* the server waits for content that will not come: only closing ends that */
        c->state = CS_BROKEN;
        c->in_step = false;
        c->quit_ok = false;
        uv_timer_stop(&c->timer);
        uv_read_stop((uv_stream_t *)&c->tcp);
    } else {
        c->state = CS_READY;
        uv_timer_stop(&c->timer);
    }
    cb(c, res, arg);
    if (next && c->state == CS_TXN)
        begin(c, true);
}

static void deliver_failure(struct smtp_conn *c)
{
    struct smtp_result res = { .stage = c->fail_stage, .code = c->fail_code,
                               .enhanced = c->fail_enhanced, .text = c->fail_text.data ? c->fail_text.data : "",
                               .queue_id = "" };
    deliver(c, &res);
}

/* ---- session setup ---- */

static void send_ehlo(struct smtp_conn *c)
{
    cmd(c, "EHLO %s", c->helo);
    c->state = CS_EHLO;
    flush_cmds(c, c->command_ms);
}

static void start_auth(struct smtp_conn *c)
{
    if (c->ext.auth & SMTP_AUTH_PLAIN) {
        struct buf secret = BUF_INIT;
        buf_appendc(&secret, 0);
        buf_appends(&secret, c->username);
        buf_appendc(&secret, 0);
        buf_appends(&secret, c->password);
        buf_appends(&c->out, "AUTH PLAIN ");
        base64_encode(&c->out, secret.data, secret.len);
        buf_append(&c->out, "\r\n", 2);
        explicit_bzero(secret.data, secret.len);
        buf_free(&secret);
        c->state = CS_AUTH_PLAIN;
    } else if (c->ext.auth & SMTP_AUTH_LOGIN) {
        cmd(c, "AUTH LOGIN");
        c->state = CS_AUTH_LOGIN;
    } else {
        conn_refuse(c, SMTP_STAGE_AUTH, UV_ENOTSUP,
                    (c->ext.flags & SMTP_EXT_AUTH) ? "the server offers neither AUTH PLAIN nor LOGIN"
                                                   : "the server does not offer AUTH");
        return;
    }
    flush_cmds(c, c->command_ms);
}

/* is the server this session talks to on a loopback address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104) */
static bool peer_is_loopback(struct smtp_conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) < 0)
        return false;
    if (ss.ss_family == AF_INET)
        return (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
    if (ss.ss_family != AF_INET6)
        return false;
    const struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

static void after_ehlo(struct smtp_conn *c)
{
    smtp_ehlo_parse(&c->reply, &c->ext);
    if (!c->tls_up && (c->tls_mode == SMTP_TLS_REQUIRE || c->tls_mode == SMTP_TLS_MAY)) {
        if (c->ext.flags & SMTP_EXT_STARTTLS) {
            cmd(c, "STARTTLS");
            c->state = CS_STARTTLS;
            flush_cmds(c, c->command_ms);
            return;
        }
        if (c->tls_mode == SMTP_TLS_REQUIRE) {
            conn_refuse(c, SMTP_STAGE_TLS, UV_ENOTSUP, "the server does not offer STARTTLS");
            return;
        }
    }
    if (c->username && !c->tls_up && !(c->allow_plain_auth && peer_is_loopback(c))) {
        /* a stripped STARTTLS must not get the password: refused before AUTH is sent */
        conn_refuse(c, SMTP_STAGE_AUTH, UV_EACCES,
                    c->tls_mode == SMTP_TLS_NONE ? "the password is never sent without TLS (tls is none)"
                                                 : "the password is never sent without TLS, and the server did not "
                                                   "offer STARTTLS");
        return;
    }
    if (c->username) {
        start_auth(c);
        return;
    }
    become_ready(c);
}

static void start_tls(struct smtp_conn *c, enum cstate state)
{
    c->tls = tls_conn_new(c->ctx, c->server_name, c->verify);
    if (!c->tls) {
        conn_break(c, SMTP_STAGE_TLS, UV_EPROTO, "cannot set up a TLS session for this server name");
        return;
    }
    c->state = state;
    arm(c, c->command_ms);
    tls_step(c);
}

static void tls_step(struct smtp_conn *c)
{
    int rc = tls_conn_handshake(c->tls);
    flush_tls(c);
    if (rc == 0)
        return;
    if (rc < 0) {
        conn_break(c, SMTP_STAGE_TLS, UV_EPROTO, tls_conn_error(c->tls));
        return;
    }
    c->tls_up = true;
    char d[128];
    log_debug("smtp %s:%d: %s", c->host, c->port, tls_conn_describe(c->tls, d, sizeof(d)));
    if (c->state == CS_TLS_WRAP) {
        c->state = CS_GREETING;
        arm(c, c->command_ms);
    } else {
        /* RFC 3207: forget what was learnt before TLS and say EHLO again. */
        memset(&c->ext, 0, sizeof(c->ext));
        send_ehlo(c);
    }
}

static void on_auth_reply(struct smtp_conn *c)
{
    int code = c->reply.code;
    struct buf *o = &c->out;
    switch (c->state) {
    case CS_AUTH_LOGIN:
    case CS_AUTH_USER:
        if (code != 334)
            break;
        base64_encode(o, c->state == CS_AUTH_LOGIN ? c->username : c->password,
                      strlen(c->state == CS_AUTH_LOGIN ? c->username : c->password));
        buf_append(o, "\r\n", 2);
        c->state = c->state == CS_AUTH_LOGIN ? CS_AUTH_USER : CS_AUTH_PASS;
        flush_cmds(c, c->command_ms);
        return;
    default:
        if (code != 235)
            break;
        become_ready(c);
        return;
    }
    conn_break(c, SMTP_STAGE_AUTH, 0, NULL);
}

/* ---- a message ---- */

static void record_fail(struct smtp_conn *c, enum smtp_stage stage)
{
    if (c->failed)
        return;
    c->failed = true;
    c->fail_stage = stage;
    c->fail_code = c->reply.code;
    snprintf(c->fail_enhanced, sizeof(c->fail_enhanced), "%s", c->reply.enhanced);
    buf_reset(&c->fail_text);
    buf_appends(&c->fail_text, c->reply.text.data ? c->reply.text.data : "");
}

/* txn_over - the transaction ended without an accepted message. */
static void txn_over(struct smtp_conn *c, bool need_rset)
{
    buf_reset(&c->body);
    if (need_rset) {
        cmd(c, "RSET");
        c->state = CS_RSET;
        flush_cmds(c, c->command_ms);
        return;
    }
    deliver_failure(c);
}

/*
 * send_body - the content and the end-of-data mark; when pipelining, the
 * owner may queue the next message first (room_cb), whose envelope then
 * goes in the same write.
 */
static void send_body(struct smtp_conn *c)
{
    c->state = CS_BODY;
    if (c->room_cb && smtp_conn_can_queue(c)) {
        c->in_room = true;
        c->room_cb(c, c->conn_arg);
        c->in_room = false;
        if (c->state != CS_BODY)
            return; /* closed meanwhile */
    }
    if (c->raw) {
        write_message(c);
    } else {
        buf_append(&c->body, c->out.data, c->out.len);
        buf_reset(&c->out);
        send_buf(c, &c->body);
    }
    arm(c, c->data_ms);
}

static void on_txn_reply(struct smtp_conn *c)
{
    enum smtp_stage st = c->expect[c->iexpect++];
    int code = c->reply.code;
    bool ok = code / 100 == 2;
    switch (st) {
    case SMTP_STAGE_MAIL:
    case SMTP_STAGE_RCPT:
        if (st == SMTP_STAGE_MAIL && ok)
            c->mail_ok = true;
        if (!ok)
            record_fail(c, st);
        if (!c->pipelined) {
            if (!ok) {
                txn_over(c, c->mail_ok);
                return;
            }
            if (st == SMTP_STAGE_MAIL) {
                cmd(c, "RCPT TO:<%s>", c->rcpt);
                c->expect[c->nexpect++] = SMTP_STAGE_RCPT;
            } else {
                cmd(c, "DATA");
                c->expect[c->nexpect++] = SMTP_STAGE_DATA;
            }
            flush_cmds(c, c->command_ms);
            return;
        }
        arm(c, c->command_ms);
        return;
    default:
        if (code == 354) {
            if (c->failed) {
                /* RFC 2920: no valid recipient, yet the server wants data. */
                cmd(c, ".");
                c->state = CS_ABORT;
                flush_cmds(c, c->command_ms);
                return;
            }
            send_body(c);
            return;
        }
        record_fail(c, SMTP_STAGE_DATA);
        txn_over(c, c->mail_ok);
        return;
    }
}

static void on_body_reply(struct smtp_conn *c)
{
    buf_reset(&c->body);
    if (c->nx.cb && !c->out.len && c->in_off == c->in.len && ++c->lone_finals == LONE_FINALS_MAX)
        log_debug("smtp %s:%d: the server answers the end of data alone: the next message waits for "
                  "that answer on this connection", c->host, c->port);
    if (c->reply.code / 100 != 2) {
        record_fail(c, SMTP_STAGE_DATA);
        deliver_failure(c);
        return;
    }
    struct smtp_result res;
    result_from_reply(c, &res, SMTP_STAGE_DATA);
    res.accepted = true;
    smtp_reply_queue_id(res.text, c->queue_id, sizeof(c->queue_id));
    res.queue_id = c->queue_id;
    deliver(c, &res);
}

/* ---- replies ---- */

static void on_reply(struct smtp_conn *c)
{
    int code = c->reply.code;
    if (code == 421 && c->state != CS_QUIT) {
        conn_break(c, cur_stage(c), 0, NULL);
        return;
    }
    switch (c->state) {
    case CS_GREETING:
        if (code == 220)
            send_ehlo(c);
        else
            conn_break(c, SMTP_STAGE_GREETING, 0, NULL);
        return;
    case CS_EHLO:
        if (code == 250)
            after_ehlo(c);
        else
            conn_break(c, SMTP_STAGE_EHLO, 0, NULL);
        return;
    case CS_STARTTLS:
        if (code == 220)
            start_tls(c, CS_TLS);
        else
            conn_break(c, SMTP_STAGE_TLS, 0, NULL);
        return;
    case CS_AUTH_PLAIN:
    case CS_AUTH_LOGIN:
    case CS_AUTH_USER:
    case CS_AUTH_PASS:
        on_auth_reply(c);
        return;
    case CS_TXN:
        on_txn_reply(c);
        return;
    case CS_BODY:
        on_body_reply(c);
        return;
    case CS_ABORT:
        txn_over(c, false);
        return;
    case CS_RSET:
        if (code / 100 != 2)
            c->exhausted = true;
        deliver_failure(c);
        return;
    case CS_QUIT:
        close_gently(c);
        return;
    default:
        conn_break(c, cur_stage(c), UV_EPROTO, "unexpected reply from the server");
        return;
    }
}

static void process_input(struct smtp_conn *c)
{
    while (c->state != CS_BROKEN && c->state != CS_CLOSED && c->in_off < c->in.len) {
        if (c->state == CS_TLS || c->state == CS_TLS_WRAP) {
            /* Plain text after "220 Ready to start TLS" would be an injection. */
            conn_break(c, SMTP_STAGE_TLS, UV_EPROTO, "the server sent data before the TLS handshake");
            return;
        }
        size_t used;
        int rc = smtp_reply_parse(c->in.data + c->in_off, c->in.len - c->in_off, &c->reply, &used);
        if (rc == 0)
            break;
        if (rc < 0) {
            conn_break(c, cur_stage(c), UV_EPROTO, "malformed reply from the server");
            return;
        }
        c->in_off += used;
        on_reply(c);
    }
    if (c->in_off == c->in.len) {
        buf_reset(&c->in);
        c->in_off = 0;
    } else if (c->in_off > 0) {
        memmove(c->in.data, c->in.data + c->in_off, c->in.len - c->in_off);
        buf_truncate(&c->in, c->in.len - c->in_off);
        c->in_off = 0;
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)suggested;
    struct smtp_conn *c = h->data;
    b->base = c->rbuf;
    b->len = sizeof(c->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct smtp_conn *c = s->data;
    if (c->state == CS_SHUTDOWN) {
        /* what the server sends now (its close_notify) is not read: only its end */
        if (n < 0)
            do_close(c);
        return;
    }
    if (n == 0 || c->state == CS_CLOSED || c->state == CS_BROKEN)
        return;
    if (n < 0) {
        conn_break(c, cur_stage(c), (int)n,
                   n == UV_EOF ? "the server closed the connection" : uv_strerror((int)n));
        return;
    }
    if (!c->tls) {
        buf_append(&c->in, b->base, (size_t)n);
        process_input(c);
        return;
    }
    if (tls_conn_feed(c->tls, b->base, (size_t)n) < 0) {
        conn_break(c, cur_stage(c), UV_EPROTO, tls_conn_error(c->tls));
        return;
    }
    if (!c->tls_up) {
        tls_step(c);
        if (!c->tls_up)
            return;
    }
    int rc = tls_conn_read(c->tls, &c->in);
    flush_tls(c);
    process_input(c);
    if (rc < 0)
        conn_break(c, cur_stage(c), UV_EPROTO, tls_conn_error(c->tls));
    else if (rc > 0)
        conn_break(c, cur_stage(c), UV_EOF, "the server closed the TLS session");
}

static void on_connect(uv_connect_t *req, int status)
{
    struct smtp_conn *c = req->data;
    if (c->state == CS_CLOSED || c->state == CS_BROKEN)
        return;
    if (status < 0) {
        snprintf(c->errtext, sizeof(c->errtext), "cannot connect to %s:%d: %s", c->host, c->port,
                 uv_strerror(status));
        char why[sizeof(c->errtext)];
        memcpy(why, c->errtext, sizeof(why));
        conn_break(c, SMTP_STAGE_CONNECT, status, why);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (c->tls_mode == SMTP_TLS_WRAPPER) {
        start_tls(c, CS_TLS_WRAP);
        return;
    }
    c->state = CS_GREETING;
    arm(c, c->command_ms);
}

/* connect_to - connect to SA; a connection refused at once breaks on the timer (never within the caller) */
static void connect_to(struct smtp_conn *c, const struct sockaddr *sa)
{
    c->state = CS_CONNECTING;
    c->connect_req.data = c;
    int rc = uv_tcp_connect(&c->connect_req, &c->tcp, sa, on_connect);
    if (rc < 0) {
        c->write_error = rc;
        arm(c, 0);
    }
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct smtp_conn *c = req->data;
    c->gai_pending = false;
    c->refs--;
    if (c->state == CS_CLOSED || c->state == CS_BROKEN) {
        uv_freeaddrinfo(res);
        maybe_free(c);
        return;
    }
    if (status < 0 || !res) {
        char why[300];
        snprintf(why, sizeof(why), "cannot resolve %s: %s", c->host, uv_strerror(status));
        uv_freeaddrinfo(res);
        conn_break(c, SMTP_STAGE_CONNECT, status < 0 ? status : UV_EAI_NONAME, why);
        return;
    }
    connect_to(c, res->ai_addr);
    uv_freeaddrinfo(res);
}

/*
 * numeric_host - HOST as an IPv4 or IPv6 address with PORT in *SA, true;
 * false for a name. An address needs no lookup: it is connected to at once,
 * rather than after the worker threads' queue (where uv_getaddrinfo waits
 * behind the messages being composed).
 */
static bool numeric_host(const char *host, int port, struct sockaddr_storage *sa)
{
    memset(sa, 0, sizeof(*sa));
    return uv_ip4_addr(host, port, (struct sockaddr_in *)sa) == 0 ||
           uv_ip6_addr(host, port, (struct sockaddr_in6 *)sa) == 0;
}

/* ---- the public functions ---- */

static void conn_copy_config(struct smtp_conn *c, const struct smtp_config *cfg)
{
    c->host = xstrdup(cfg->host);
    c->port = cfg->port ? cfg->port : 587;
    c->helo = xstrdup(cfg->helo_name ? cfg->helo_name : "localhost");
    c->tls_mode = cfg->tls;
    c->allow_plain_auth = cfg->allow_plain_auth;
    c->server_name = xstrdup(cfg->tls_server_name ? cfg->tls_server_name : cfg->host);
    c->verify = !cfg->tls_no_verify;
    c->username = cfg->username ? xstrdup(cfg->username) : NULL;
    c->password = cfg->username ? xstrdup(cfg->password ? cfg->password : "") : NULL;
    c->connect_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms : 30000;
    c->command_ms = cfg->command_timeout_ms ? cfg->command_timeout_ms : 120000;
    c->data_ms = cfg->data_timeout_ms ? cfg->data_timeout_ms : 600000;
    c->max_messages = cfg->max_messages ? cfg->max_messages : 100;
    c->no_pipelining = cfg->no_pipelining;
}

/*
 * smtp_conn_open - start a session with the server CFG names; *OUT is set at
 * once. Returns 0, and CB is called later with 0 (ready for smtp_conn_send)
 * or a negative status and a result saying where setup failed; CB is called
 * again, negative, if the connection breaks while idle. Returns a negative
 * error (UV_EINVAL: no host, or the CA file cannot be loaded) with *OUT NULL
 * and CB never called. The connection is freed by smtp_conn_close.
 */
/* smtp_tls_ctx_get - see smtp.h. */
int smtp_tls_ctx_get(const struct smtp_config *cfg, SSL_CTX **out)
{
    char err[300];
    *out = NULL;
    if (cfg->tls == SMTP_TLS_NONE)
        return 0;
    if (cfg->tls_ctx) {
        SSL_CTX_up_ref(cfg->tls_ctx);
        *out = cfg->tls_ctx;
        return 0;
    }
    if (!(*out = tls_ctx_new(cfg->tls_ca_file, err, sizeof(err)))) {
        log_warn("smtp %s: %s", cfg->host, err);
        return UV_EINVAL;
    }
    return 0;
}

int smtp_conn_open(uv_loop_t *loop, const struct smtp_config *cfg, smtp_conn_cb cb, void *arg,
                   struct smtp_conn **out)
{
    *out = NULL;
    if (!cfg->host || !*cfg->host || !cb)
        return UV_EINVAL;
    SSL_CTX *ctx;
    if (smtp_tls_ctx_get(cfg, &ctx) < 0)
        return UV_EINVAL;
    struct smtp_conn *c = xcalloc(1, sizeof(*c));
    c->loop = loop;
    c->ctx = ctx;
    c->conn_cb = cb;
    c->conn_arg = arg;
    conn_copy_config(c, cfg);
    smtp_reply_init(&c->reply);
    c->state = CS_RESOLVING;

    struct sockaddr_storage addr;
    bool numeric = numeric_host(c->host, c->port, &addr);
    if (!numeric) {
        char port[16];
        snprintf(port, sizeof(port), "%d", c->port);
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                                  .ai_flags = AI_NUMERICSERV };
        c->gai.data = c;
        int rc = uv_getaddrinfo(loop, &c->gai, on_resolved, c->host, port, &hints);
        if (rc < 0) {
            c->state = CS_CLOSED;
            c->close_cb = NULL;
            maybe_free(c);
            return rc;
        }
        c->gai_pending = true;
    }
    uv_tcp_init(loop, &c->tcp);
    uv_timer_init(loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->refs = numeric ? 2 : 3;
    arm(c, c->connect_ms);
    if (numeric)
        connect_to(c, (const struct sockaddr *)&addr);
    *out = c;
    return 0;
}

static bool envelope_ok(const char *s)
{
    return s && !strpbrk(s, "\r\n<>");
}

static bool has_8bit(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return true;
    return false;
}

/*
 * smtp_conn_send - send DATA[0..LEN), a complete message with CRLF line ends,
 * from ENV_FROM (may be "" for the null sender) to RCPT. Returns 0, and CB gets
 * the result once the server answered (or the connection broke). The caller
 * keeps DATA unchanged until CB is called: a message that needs no
 * dot-stuffing (every composed one) is written from there, without a copy.
 * With SMTP_SEND_READY in FLAGS, DATA is taken as smtp_data_ready made it
 * and is not read through again here.
 * Returns, without calling CB:
 * UV_ENOTCONN when the connection is not ready (setup, broken, closing),
 * UV_EBUSY when a message is in flight and no next one may be queued behind
 * it (smtp_conn_can_queue), UV_EAGAIN when it has carried its
 * max_messages (close it, open another), UV_EINVAL for an address with CR, LF
 * or angle brackets, UV_E2BIG when LEN exceeds the server's SIZE.
 */
int smtp_conn_send(struct smtp_conn *c, const char *env_from, const char *rcpt, const void *data,
                   size_t len, unsigned flags, smtp_send_cb cb, void *arg)
{
    bool queue = c->send_cb != NULL;
    if (queue && !smtp_conn_can_queue(c))
        return c->closing || c->state == CS_BROKEN || c->state == CS_CLOSED ? UV_ENOTCONN : UV_EBUSY;
    if (c->closing || (!queue && c->state != CS_READY))
        return UV_ENOTCONN;
    if (c->sent >= c->max_messages || c->exhausted)
        return UV_EAGAIN;
    if (!envelope_ok(env_from) || !envelope_ok(rcpt) || !*rcpt || !cb)
        return UV_EINVAL;
    if (c->ext.size && len > c->ext.size)
        return UV_E2BIG;
    c->sent++;
    bool pipelined = (c->ext.flags & SMTP_EXT_PIPELINING) && !c->no_pipelining;
    struct buf *body = queue ? &c->nx.body : &c->body;
    const char **raw = queue ? &c->nx.raw : &c->raw;
    buf_reset(body);
    *raw = NULL;
    if ((flags & SMTP_SEND_READY) || smtp_data_as_is(data, len)) {
        *raw = data;
        if (queue)
            c->nx.raw_len = len;
        else
            c->raw_len = len;
    } else {
        smtp_data_stuff(body, data, len);
    }
    if (queue) {
        c->nx.cb = cb;
        c->nx.arg = arg;
    } else {
        c->send_cb = cb;
        c->send_arg = arg;
        begin(c, pipelined);
    }

    buf_appends(&c->out, "MAIL FROM:<");
    buf_appends(&c->out, env_from);
    buf_appendc(&c->out, '>');
    if (c->ext.flags & SMTP_EXT_SIZE) {
        buf_append(&c->out, " SIZE=", 6);
        buf_appendu(&c->out, len);
    }
    if (c->ext.flags & SMTP_EXT_8BITMIME)
        buf_appends(&c->out, " BODY=8BITMIME");
    if ((c->ext.flags & SMTP_EXT_SMTPUTF8) && (has_8bit(env_from) || has_8bit(rcpt)))
        buf_appends(&c->out, " SMTPUTF8");
    buf_append(&c->out, "\r\n", 2);
    if (pipelined) {
        buf_appends(&c->out, "RCPT TO:<");
        buf_appends(&c->out, rcpt);
        buf_appends(&c->out, ">\r\nDATA\r\n");
    } else {
        xfree(c->rcpt);
        c->rcpt = xstrdup(rcpt);
    }
    if (queue) {
        /* behind the content when the owner answers the 354's call; given
         * later, it waits in c->out for the final reply (deliver): written
         * alone now, a server's answer to it could wait on its Nagle for our
         * delayed ACK of the final reply */
        return 0;
    }
    c->state = CS_TXN;
    flush_cmds(c, c->command_ms);
    return 0;
}

/* smtp_conn_ready - true when smtp_conn_send would accept a message now. */
bool smtp_conn_ready(const struct smtp_conn *c)
{
    return c->state == CS_READY && !c->closing && !c->send_cb && !c->exhausted &&
           c->sent < c->max_messages;
}

/*
 * smtp_conn_can_queue - may a next message be given now, to go behind the
 * one in flight: pipelining, that one's content on its way (after its 354)
 * and nothing queued yet.
 */
bool smtp_conn_can_queue(const struct smtp_conn *c)
{
    return c->state == CS_BODY && c->send_cb && !c->nx.cb && !c->cut && c->pipelined && !c->closing &&
           !c->exhausted && c->sent < c->max_messages && c->lone_finals < LONE_FINALS_MAX;
}

/*
 * smtp_conn_unqueue - take back the message queued behind the one in flight,
 * without calling its callback; false when there is none. When its envelope
 * went out with the content before it (its content never does), the
 * connection is broken off once the message in flight has its result
 * (closed without QUIT, which the server would read as content), so the
 * server drops the transaction.
 */
bool smtp_conn_unqueue(struct smtp_conn *c)
{
    if (!c->nx.cb)
        return false;
    c->nx.cb = NULL;
    c->nx.raw = NULL;
    buf_reset(&c->nx.body);
    if (c->out.len)
        buf_reset(&c->out); /* queued after the content went: its envelope is still here */
    else
        c->cut = true;
    return true;
}

/*
 * smtp_conn_on_room - CB (with the open callback's argument) when the
 * message in flight has its 354 and a next one may be queued; what CB gives
 * to smtp_conn_send then goes out in the same write as the content.
 */
void smtp_conn_on_room(struct smtp_conn *c, smtp_room_cb cb)
{
    c->room_cb = cb;
}

/* smtp_conn_sent - how many messages were given to this connection. */
unsigned smtp_conn_sent(const struct smtp_conn *c)
{
    return c->sent;
}

/* smtp_conn_ext - the extensions of the last EHLO reply (after STARTTLS, the second one). */
const struct smtp_ext *smtp_conn_ext(const struct smtp_conn *c)
{
    return &c->ext;
}

/* smtp_conn_tls - is the session encrypted. */
bool smtp_conn_tls(const struct smtp_conn *c)
{
    return c->tls_up;
}

static void do_close(struct smtp_conn *c)
{
    if (c->state == CS_CLOSED)
        return;
    c->cancel_stage = cur_stage(c);
    c->state = CS_CLOSED;
    if (c->gai_pending)
        uv_cancel((uv_req_t *)&c->gai);
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    struct smtp_conn *c = req->data;
    c->refs--;
    maybe_free(c);
}

/*
 * close_gently - end a session whose stream is in step: close_notify when TLS
 * is up, then our FIN once everything before it is written; the socket is
 * closed when the server ends its side too, or after SHUTDOWN_WAIT_MS.
 */
static void close_gently(struct smtp_conn *c)
{
    if (!c->write_error && c->tls_up) {
        tls_conn_shutdown(c->tls);
        flush_tls(c);
    }
    c->shutdown_req.data = c;
    if (c->write_error || uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown) < 0) {
        do_close(c);
        return;
    }
    c->refs++;
    c->state = CS_SHUTDOWN;
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read); /* UV_EALREADY when still reading */
    arm(c, c->command_ms < SHUTDOWN_WAIT_MS ? c->command_ms : SHUTDOWN_WAIT_MS);
}

/* send_quit - say QUIT and wait (QUIT_WAIT_MS at most) for the reply; close_gently follows. */
static void send_quit(struct smtp_conn *c)
{
    if (c->write_error) {
        do_close(c);
        return;
    }
    buf_reset(&c->in); /* a reply still unread answered something else */
    c->in_off = 0;
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    cmd(c, "QUIT");
    c->state = CS_QUIT;
    flush_cmds(c, c->command_ms < QUIT_WAIT_MS ? c->command_ms : QUIT_WAIT_MS);
}

/*
 * smtp_conn_close - end the session. When the server can still hear it (idle,
 * or setup refused by a reply or by us), QUIT goes first and its reply is
 * awaited; with TLS a close_notify follows; then our end of the connection,
 * and the socket is closed when the server has closed its end. After a 421
 * only the last part; after a timeout, a drop or a TLS error the socket is
 * closed at once. Every wait is bounded. A message in flight gets its result
 * with UV_ECANCELED; the open callback is not called again. CB (may be NULL)
 * runs with ARG once the connection is freed. Call it once per connection.
 */
void smtp_conn_close(struct smtp_conn *c, smtp_close_cb cb, void *arg)
{
    if (c->closing)
        log_panic("smtp_conn_close called twice");
    c->closing = true;
    c->close_cb = cb;
    c->close_arg = arg;
    c->raw = NULL; /* the caller may free the message in flight, and the one queued, now */
    c->nx.raw = NULL;
    if (c->state == CS_READY || (c->state == CS_BROKEN && c->quit_ok))
        send_quit(c);
    else if (c->state == CS_BROKEN && c->in_step)
        close_gently(c);
    else
        do_close(c);
}
