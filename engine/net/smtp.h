/*
 * smtp - an SMTP submission client connection on a libuv loop.
 *
 * smtp_conn_open    connect, read the greeting, EHLO, STARTTLS, EHLO, AUTH
 * smtp_conn_send    send one message to one recipient; CB gets the result
 * smtp_conn_ready   can a message be sent now
 * smtp_conn_on_room CB whenever a next message may be queued behind the one in flight
 * smtp_conn_can_queue may a next message be queued behind the one in flight now
 * smtp_conn_unqueue take the queued message back; the connection ends after the one in flight
 * smtp_conn_sent    how many messages this connection has carried
 * smtp_conn_ext     the extensions the server announced (after the last EHLO)
 * smtp_conn_tls     is the session encrypted
 * smtp_conn_close   QUIT when the server still listens, close_notify, close; CLOSE_CB when freed
 * smtp_stage_name   "connect", "greeting", "ehlo", "tls", "auth", "mail", "rcpt", "data"
 * smtp_tls_ctx_get  the TLS context a configuration asks for (shared or made)
 *
 * One message is in flight at a time; with PIPELINING, MAIL, RCPT and DATA go
 * in one write (RFC 2920), and one more message may be queued once the first
 * has its 354: its MAIL, RCPT and DATA go in the same write as the first's
 * content and end-of-data mark (the content may be the first command of a
 * group, RFC 2920 section 3.1), so a message costs one round trip and one
 * write and read on each side, not two. Every wait has a timer. A 421 reply, a dropped link,
 * a timeout or a malformed reply breaks the connection: the message in flight
 * gets a result saying where and why, and the connection must be closed. A
 * connection that breaks while idle calls the open callback again with a
 * negative status. The result reports the server's reply as it came (code,
 * enhanced code, text, queue id); it says nothing about bounce or defer.
 * Secrets (the password) are never logged or put in a result.
 */
#ifndef POSTINO_NET_SMTP_H
#define POSTINO_NET_SMTP_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>
#include <uv.h>

#include "engine/mail/smtp_reply.h"

enum smtp_tls_mode {
    SMTP_TLS_REQUIRE = 0, /* STARTTLS, and fail when the server does not offer it */
    SMTP_TLS_MAY,         /* STARTTLS when the server offers it */
    SMTP_TLS_NONE,        /* plain text */
    SMTP_TLS_WRAPPER,     /* TLS from the first byte (port 465) */
};

struct smtp_config {
    const char *host;            /* address or name of the server */
    int port;                    /* 0: 587 */
    const char *helo_name;       /* the EHLO argument; NULL: "localhost" */
    enum smtp_tls_mode tls;
    const char *tls_server_name; /* the name verified and sent as SNI; NULL: host */
    const char *tls_ca_file;     /* trusted CAs (PEM); NULL: the system's */
    bool tls_no_verify;          /* accept any certificate: tests only */
    SSL_CTX *tls_ctx;            /* a shared context (overrides tls_ca_file); NULL: make one */
    const char *username;        /* NULL: no AUTH; never sent unless the session is encrypted... */
    bool allow_plain_auth;       /* ...or this is set and the server is on a loopback address */
    const char *password;
    unsigned connect_timeout_ms; /* resolving and connecting; 0: 30 s */
    unsigned command_timeout_ms; /* each reply; 0: 120 s */
    unsigned data_timeout_ms;    /* the reply to the end of data; 0: 600 s */
    unsigned max_messages;       /* per connection; 0: 100 */
    bool no_pipelining;          /* do not pipeline even when offered */
};

enum smtp_stage {
    SMTP_STAGE_CONNECT,
    SMTP_STAGE_GREETING,
    SMTP_STAGE_EHLO,
    SMTP_STAGE_TLS,
    SMTP_STAGE_AUTH,
    SMTP_STAGE_MAIL,
    SMTP_STAGE_RCPT,
    SMTP_STAGE_DATA,
};

/* The outcome of a session setup or of one message. The strings are valid
 * only during the callback. */
struct smtp_result {
    enum smtp_stage stage; /* where it ended; SMTP_STAGE_DATA when accepted */
    bool accepted;         /* the server took the message (2xx to the end of data) */
    int code;              /* the server's reply code; 0 when there was no reply */
    int error;             /* 0, or a negative libuv error when there was no usable reply:
                              UV_ETIMEDOUT, UV_EOF, UV_ECONNRESET, UV_ECONNREFUSED,
                              UV_EPROTO (TLS or malformed reply), UV_ENOTSUP (the server
                              lacks STARTTLS or AUTH), UV_EACCES (the password
                              would go without TLS), UV_E2BIG (over its SIZE),
                              UV_ECANCELED (closed by us) */
    const char *enhanced;  /* "5.1.1" or "" */
    const char *text;      /* the reply text, or what went wrong locally; never NULL */
    const char *queue_id;  /* the server's queue id for an accepted message, or "" */
    bool unsent;           /* a queued message whose turn never came (the connection broke
                              or closed first): nothing of its content went out */
};

struct smtp_conn;

/* STATUS is 0 when the session is ready for messages; negative when it failed
 * (during setup, or later while idle), RES saying where and why. */
typedef void (*smtp_conn_cb)(struct smtp_conn *c, int status, const struct smtp_result *res,
                             void *arg);
typedef void (*smtp_send_cb)(struct smtp_conn *c, const struct smtp_result *res, void *arg);
typedef void (*smtp_close_cb)(void *arg);

/*
 * smtp_tls_ctx_get - the TLS client context CFG asks for: NULL with TLS off,
 * else cfg->tls_ctx with one more reference, else a new one trusting
 * cfg->tls_ca_file (the system's CAs when NULL). 0, or UV_EINVAL when the CA
 * file cannot be loaded (one warning logged). The caller frees *OUT.
 */
int smtp_tls_ctx_get(const struct smtp_config *cfg, SSL_CTX **out);

int smtp_conn_open(uv_loop_t *loop, const struct smtp_config *cfg, smtp_conn_cb cb, void *arg,
                   struct smtp_conn **out);
/* smtp_conn_send's FLAGS: DATA is already what the DATA phase sends before ".\r\n" (smtp_data_ready) */
#define SMTP_SEND_READY 1u
int smtp_conn_send(struct smtp_conn *c, const char *env_from, const char *rcpt, const void *data,
                   size_t len, unsigned flags, smtp_send_cb cb, void *arg);
bool smtp_conn_ready(const struct smtp_conn *c);
typedef void (*smtp_room_cb)(struct smtp_conn *c, void *arg);
void smtp_conn_on_room(struct smtp_conn *c, smtp_room_cb cb);
bool smtp_conn_can_queue(const struct smtp_conn *c);
bool smtp_conn_unqueue(struct smtp_conn *c);
unsigned smtp_conn_sent(const struct smtp_conn *c);
const struct smtp_ext *smtp_conn_ext(const struct smtp_conn *c);
bool smtp_conn_tls(const struct smtp_conn *c);
void smtp_conn_close(struct smtp_conn *c, smtp_close_cb cb, void *arg);
const char *smtp_stage_name(enum smtp_stage stage);

#endif
