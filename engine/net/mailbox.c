/*
 * mailbox - the IMAP and POP3 client of the bounce mailbox (see mailbox.h).
 *
 * One socket, read with poll() so that every wait is bounded; TLS through
 * tls.c's memory BIOs (the same verification as the SMTP client). Lines are
 * split here and read by mailbox_proto.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine/net/mailbox.h"
#include "engine/net/tls.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"
#include "engine/util/str.h"

#define LITERAL_SKIP_MAX (1u << 20)   /* a literal nobody asked for, read and dropped, at most */

struct mailbox {
    struct mailbox_opts o;
    int fd;
    SSL_CTX *ctx;
    struct tls_conn *tls;
    struct buf in;        /* plaintext read and not yet taken */
    size_t off;           /* taken up to here */
    struct buf raw, out;  /* scratch for the socket's bytes */
    unsigned timeout_ms;  /* any one wait on the server */
    bool watch_stop;      /* a read also returns when stop_fd is readable */
    bool stopped, closed;
    /* IMAP */
    unsigned caps, tag;
    uint32_t exists, uidvalidity;
    bool uidvalidity_changed, new_mail;
    struct buf body;      /* the literal of the message being fetched */
    bool body_seen;
    uint64_t body_len;
    struct fetch_item {
        uint32_t uid;
        uint64_t size;
    } *items;
    size_t nitems;
    char code[32];        /* the tagged response's code, e.g. TRYCREATE */
};

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* the server's words, printable and short, for an error line */
static const char *said(const char *s, size_t len, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < outlen && o < 200; i++)
        out[o++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    out[o] = 0;
    return out;
}

static int ms_left(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ms = (deadline->tv_sec - now.tv_sec) * 1000LL + (deadline->tv_nsec - now.tv_nsec) / 1000000LL;
    return ms < 0 ? 0 : ms > 86400000 ? 86400000 : (int)ms;
}

static void deadline_in(struct timespec *d, unsigned ms)
{
    clock_gettime(CLOCK_MONOTONIC, d);
    d->tv_sec += ms / 1000;
    d->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (d->tv_nsec >= 1000000000L) {
        d->tv_sec++;
        d->tv_nsec -= 1000000000L;
    }
}

/* write LEN bytes of the socket's data, waiting at most the timeout */
static int sock_write_all(struct mailbox *mb, const char *p, size_t len, char *err, size_t errlen)
{
    struct timespec dl;
    deadline_in(&dl, mb->timeout_ms);
    while (len > 0) {
        ssize_t n = send(mb->fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return fail(err, errlen, "cannot write to the server: %s", strerror(errno));
        struct pollfd pf = { mb->fd, POLLOUT, 0 };
        int left = ms_left(&dl);
        if (left == 0 || poll(&pf, 1, left) == 0)
            return fail(err, errlen, "the server did not take what was sent within %u seconds", mb->o.timeout_s);
    }
    return 0;
}

static int flush_tls(struct mailbox *mb, char *err, size_t errlen)
{
    buf_reset(&mb->out);
    tls_conn_output(mb->tls, &mb->out);
    return mb->out.len ? sock_write_all(mb, mb->out.data, mb->out.len, err, errlen) : 0;
}

/* send LEN bytes of plaintext */
static int conn_write(struct mailbox *mb, const char *p, size_t len, char *err, size_t errlen)
{
    if (!mb->tls)
        return sock_write_all(mb, p, len, err, errlen);
    if (tls_conn_write(mb->tls, p, len) < 0)
        return fail(err, errlen, "%s", tls_conn_error(mb->tls));
    return flush_tls(mb, err, errlen);
}

/*
 * read what the socket has into the plaintext buffer, waiting until DEADLINE:
 * 0 something (maybe nothing decrypted yet), 1 timed out, 2 stop_fd readable, -1 with ERR
 */
static int conn_fill(struct mailbox *mb, const struct timespec *deadline, char *err, size_t errlen)
{
    struct pollfd pf[2] = { { mb->fd, POLLIN, 0 }, { mb->o.stop_fd, POLLIN, 0 } };
    nfds_t n = mb->watch_stop && mb->o.stop_fd >= 0 ? 2 : 1;
    int left = ms_left(deadline);
    int rc = poll(pf, n, left);
    if (rc < 0 && errno == EINTR)
        return 0;
    if (rc < 0)
        return fail(err, errlen, "poll: %s", strerror(errno));
    if (n == 2 && (pf[1].revents & POLLIN)) {
        mb->stopped = true;
        return 2;
    }
    if (rc == 0)
        return 1;
    char chunk[65536];
    ssize_t got = recv(mb->fd, chunk, sizeof(chunk), 0);
    if (got < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (got < 0)
        return fail(err, errlen, "cannot read from the server: %s", strerror(errno));
    if (got == 0)
        return fail(err, errlen, "the server closed the connection");
    if (mb->off > 0 && mb->off == mb->in.len) {
        buf_reset(&mb->in);
        mb->off = 0;
    } else if (mb->off > (1u << 20)) {
        memmove(mb->in.data, mb->in.data + mb->off, mb->in.len - mb->off);
        buf_truncate(&mb->in, mb->in.len - mb->off);
        mb->off = 0;
    }
    if (!mb->tls) {
        buf_append(&mb->in, chunk, (size_t)got);
        return 0;
    }
    if (tls_conn_feed(mb->tls, chunk, (size_t)got) < 0 || tls_conn_read(mb->tls, &mb->in) < 0)
        return fail(err, errlen, "%s", tls_conn_error(mb->tls));
    return flush_tls(mb, err, errlen);
}

/* the next line (without CRLF) into *LINE, *LEN: 0, or -1 with ERR (a line longer than the limit is refused) */
static int conn_line(struct mailbox *mb, const char **line, size_t *len, char *err, size_t errlen)
{
    struct timespec dl;
    deadline_in(&dl, mb->timeout_ms);
    for (;;) {
        const char *p = mb->in.data + mb->off;
        size_t avail = mb->in.len - mb->off;
        const char *nl = avail ? memchr(p, '\n', avail) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - p);
            if (n > MAILBOX_LINE_MAX)
                return fail(err, errlen, "the server sent a line longer than %d bytes", MAILBOX_LINE_MAX);
            mb->off += n + 1;
            if (n > 0 && p[n - 1] == '\r')
                n--;
            *line = p;
            *len = n;
            return 0;
        }
        if (avail > MAILBOX_LINE_MAX)
            return fail(err, errlen, "the server sent a line longer than %d bytes", MAILBOX_LINE_MAX);
        int rc = conn_fill(mb, &dl, err, errlen);
        if (rc < 0)
            return -1;
        if (rc == 1)
            return fail(err, errlen, "the server did not answer within %u seconds", mb->o.timeout_s);
        if (rc == 2)
            return fail(err, errlen, "stopped");
    }
}

/* read N bytes, appending the first KEEP of them to OUT (NULL: none kept) */
static int conn_bytes(struct mailbox *mb, uint64_t n, struct buf *out, size_t keep, char *err, size_t errlen)
{
    struct timespec dl;
    deadline_in(&dl, mb->timeout_ms);
    uint64_t kept = 0;
    while (n > 0) {
        size_t avail = mb->in.len - mb->off;
        if (avail == 0) {
            int rc = conn_fill(mb, &dl, err, errlen);
            if (rc < 0)
                return -1;
            if (rc == 1)
                return fail(err, errlen, "the server did not send the message within %u seconds", mb->o.timeout_s);
            if (rc == 0)
                deadline_in(&dl, mb->timeout_ms);
            continue;
        }
        size_t take = avail < n ? avail : (size_t)n;
        if (out && kept < keep) {
            size_t k = take < keep - kept ? take : (size_t)(keep - kept);
            buf_append(out, mb->in.data + mb->off, k);
            kept += k;
        }
        mb->off += take;
        n -= take;
    }
    return 0;
}

/* the TLS handshake on the connected socket, verifying the certificate names the host */
static int conn_tls(struct mailbox *mb, char *err, size_t errlen)
{
    if (mb->off != mb->in.len)
        return fail(err, errlen, "the server sent data before the TLS handshake");
    mb->tls = tls_conn_new(mb->ctx, mb->o.url->host, true);
    if (!mb->tls)
        return fail(err, errlen, "cannot start TLS for %s", mb->o.url->host);
    struct timespec dl;
    deadline_in(&dl, mb->timeout_ms);
    for (;;) {
        int hs = tls_conn_handshake(mb->tls);
        if (flush_tls(mb, err, errlen) < 0)
            return -1;
        if (hs == 1)
            break;
        if (hs < 0)
            return fail(err, errlen, "TLS with %s: %s", mb->o.url->host, tls_conn_error(mb->tls));
        struct pollfd pf = { mb->fd, POLLIN, 0 };
        int left = ms_left(&dl);
        if (left == 0 || poll(&pf, 1, left) == 0)
            return fail(err, errlen, "TLS with %s: no answer within %u seconds", mb->o.url->host, mb->o.timeout_s);
        char chunk[16384];
        ssize_t got = recv(mb->fd, chunk, sizeof(chunk), 0);
        if (got <= 0)
            return fail(err, errlen, "TLS with %s: the connection closed", mb->o.url->host);
        if (tls_conn_feed(mb->tls, chunk, (size_t)got) < 0)
            return fail(err, errlen, "%s", tls_conn_error(mb->tls));
    }
    buf_reset(&mb->in);
    mb->off = 0;
    return tls_conn_read(mb->tls, &mb->in) < 0 ? fail(err, errlen, "%s", tls_conn_error(mb->tls)) : 0;
}

static int conn_connect(struct mailbox *mb, char *err, size_t errlen)
{
    struct addrinfo hints = { 0 }, *res = NULL;
    char port[16];
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%u", mb->o.url->port);
    int rc = getaddrinfo(mb->o.url->host, port, &hints, &res);
    if (rc != 0)
        return fail(err, errlen, "cannot resolve %s: %s", mb->o.url->host, gai_strerror(rc));
    int last = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) < 0 && errno != EINPROGRESS) {
            last = errno;
            close(fd);
            continue;
        }
        struct pollfd pf = { fd, POLLOUT, 0 };
        int so = 0;
        socklen_t sl = sizeof(so);
        if (poll(&pf, 1, (int)mb->timeout_ms) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl) < 0 ||
            so != 0) {
            last = so ? so : ETIMEDOUT;
            close(fd);
            continue;
        }
        mb->fd = fd;
        freeaddrinfo(res);
        return 0;
    }
    freeaddrinfo(res);
    return fail(err, errlen, "cannot connect to %s port %u: %s", mb->o.url->host, mb->o.url->port,
                strerror(last ? last : ECONNREFUSED));
}

/* ---- IMAP ---- */

/* handle one untagged response R (its literal, if any, read here) */
static int imap_untagged(struct mailbox *mb, const struct imap_resp *r, char *err, size_t errlen)
{
    if (r->status == IMAP_BYE)
        return fail(err, errlen, "the server closed the session: %s", r->text);
    if (strcmp(r->code, "CAPABILITY") == 0)
        mb->caps = imap_caps_parse(r->code_args, r->code_args_len);
    if (strcmp(r->code, "UIDVALIDITY") == 0) {
        if (mb->uidvalidity && r->code_number != mb->uidvalidity)
            mb->uidvalidity_changed = true;
        mb->uidvalidity = r->code_number;
    }
    if (r->status == IMAP_NONE && strcmp(r->word, "CAPABILITY") == 0)
        mb->caps = imap_caps_parse(r->text, strlen(r->text));
    if (r->has_number && strcmp(r->word, "EXISTS") == 0) {
        if (r->number > mb->exists)
            mb->new_mail = true;
        mb->exists = r->number;
    }
    if (r->has_number && strcmp(r->word, "EXPUNGE") == 0 && mb->exists > 0)
        mb->exists--;
    if (r->has_number && strcmp(r->word, "FETCH") == 0) {
        struct imap_fetch f;
        if (imap_fetch_parse(r->text, strlen(r->text), r->has_literal, r->literal, &f) < 0)
            return fail(err, errlen, "the server sent a FETCH response postino cannot read");
        if (f.has_body) {
            uint64_t limit = mb->o.max_size + 1024;
            if (f.literal > limit)
                return fail(err, errlen, "the server sent %llu bytes for a message it said was smaller",
                            (unsigned long long)f.literal);
            buf_reset(&mb->body);
            if (conn_bytes(mb, f.literal, &mb->body, (size_t)f.literal, err, errlen) < 0)
                return -1;
            mb->body_seen = true;
            mb->body_len = f.literal;
            return 1;   /* the literal is taken */
        }
        if (f.has_uid && f.has_size && mb->items && mb->nitems < MAILBOX_PASS_MAX) {
            mb->items[mb->nitems].uid = f.uid;
            mb->items[mb->nitems].size = f.size;
            mb->nitems++;
        }
    }
    return 0;
}

/*
 * send one tagged command (FMT, arguments) and read responses up to its
 * tagged answer: 0 OK, 1 NO or BAD (the server's words in ERR, its code in
 * mb->code), -1 on a connection or protocol error. SHOW is the command as it
 * may appear in an error (never the LOGIN line).
 */
static int imap_cmd(struct mailbox *mb, const char *show, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int imap_cmd(struct mailbox *mb, const char *show, char *err, size_t errlen, const char *fmt, ...)
{
    struct buf cmd = BUF_INIT;
    char tag[16], w[256];
    va_list ap;
    snprintf(tag, sizeof(tag), "p%u", ++mb->tag);
    buf_appendf(&cmd, "%s ", tag);
    va_start(ap, fmt);
    buf_vappendf(&cmd, fmt, ap);
    va_end(ap);
    buf_appends(&cmd, "\r\n");
    int rc = conn_write(mb, cmd.data, cmd.len, err, errlen);
    explicit_bzero(cmd.data, cmd.len);
    buf_free(&cmd);
    if (rc < 0)
        return -1;
    for (;;) {
        const char *line;
        size_t len;
        struct imap_resp r;
        if (conn_line(mb, &line, &len, err, errlen) < 0)
            return -1;
        char copy[MAILBOX_LINE_MAX + 1];
        memcpy(copy, line, len);
        copy[len] = 0;
        if (imap_resp_parse(copy, len, &r) < 0)
            return fail(err, errlen, "the server's answer to %s is not IMAP: %s", show, said(line, len, w, sizeof(w)));
        if (r.kind == IMAP_TAGGED) {
            if (strcmp(r.tag, tag) != 0)
                return fail(err, errlen, "the server answered a command never sent (%s)", r.tag);
            snprintf(mb->code, sizeof(mb->code), "%s", r.code);
            if (r.status == IMAP_OK)
                return 0;
            snprintf(err, errlen, "%s", said(r.text, strlen(r.text), w, sizeof(w)));
            return 1;
        }
        if (r.kind == IMAP_CONTINUE)
            return fail(err, errlen, "the server asked for more of %s", show);
        int took = imap_untagged(mb, &r, err, errlen);
        if (took < 0)
            return -1;
        /* a literal this code did not ask for is read and dropped, then the rest of its line */
        bool lit = r.has_literal && took == 0;
        uint64_t n = r.literal;
        for (;;) {
            if (lit) {
                if (n > LITERAL_SKIP_MAX)
                    return fail(err, errlen, "the server sent an unexpected literal of %llu bytes",
                                (unsigned long long)n);
                if (conn_bytes(mb, n, NULL, 0, err, errlen) < 0)
                    return -1;
            } else if (!r.has_literal) {
                break;
            }
            if (conn_line(mb, &line, &len, err, errlen) < 0)
                return -1;
            struct imap_resp rest = { 0 };
            memcpy(copy, line, len);
            copy[len] = 0;
            if (len >= 3 && copy[len - 1] == '}') {
                imap_resp_parse(copy, len, &rest);
                lit = rest.has_literal;
                n = rest.literal;
                if (lit)
                    continue;
            }
            break;
        }
    }
}

static int imap_open(struct mailbox *mb, char *err, size_t errlen)
{
    const char *line;
    size_t len;
    struct imap_resp r;
    char w[256], msg[300];
    if (conn_line(mb, &line, &len, err, errlen) < 0)
        return -1;
    char copy[MAILBOX_LINE_MAX + 1];
    memcpy(copy, line, len);
    copy[len] = 0;
    if (imap_resp_parse(copy, len, &r) < 0 || r.kind != IMAP_UNTAGGED || (r.status != IMAP_OK && r.status != IMAP_PREAUTH))
        return fail(err, errlen, "not an IMAP server's greeting: %s", said(line, len, w, sizeof(w)));
    int rc = imap_cmd(mb, "CAPABILITY", msg, sizeof(msg), "CAPABILITY");
    if (rc != 0)
        return fail(err, errlen, "CAPABILITY: %s", msg);
    if (!mb->o.url->implicit_tls) {
        if (!(mb->caps & IMAP_CAP_STARTTLS))
            return fail(err, errlen, "the server does not offer STARTTLS (and the password is never sent in clear)");
        if ((rc = imap_cmd(mb, "STARTTLS", msg, sizeof(msg), "STARTTLS")) != 0)
            return fail(err, errlen, "STARTTLS refused: %s", msg);
        if (conn_tls(mb, err, errlen) < 0)
            return -1;
        mb->caps = 0;
        if (imap_cmd(mb, "CAPABILITY", msg, sizeof(msg), "CAPABILITY") != 0)
            return fail(err, errlen, "CAPABILITY: %s", msg);
    }
    if (r.status != IMAP_PREAUTH) {
        struct buf login = BUF_INIT;
        if (imap_quote(&login, mb->o.url->user) < 0 || (buf_appendc(&login, ' '), imap_quote(&login, mb->o.password)) < 0) {
            buf_free(&login);
            return fail(err, errlen, "the user or the password has a line break");
        }
        rc = imap_cmd(mb, "LOGIN", msg, sizeof(msg), "LOGIN %s", buf_cstr(&login));
        explicit_bzero(login.data, login.len);
        buf_free(&login);
        if (rc != 0)
            return rc < 0 ? fail(err, errlen, "LOGIN: %s", msg) : fail(err, errlen, "login refused: %s", msg);
        if (!(mb->caps & (IMAP_CAP_IDLE | IMAP_CAP_MOVE | IMAP_CAP_UIDPLUS)) &&
            imap_cmd(mb, "CAPABILITY", msg, sizeof(msg), "CAPABILITY") != 0)
            return fail(err, errlen, "CAPABILITY: %s", msg);
    }
    struct buf folder = BUF_INIT;
    imap_quote(&folder, mb->o.url->folder);
    mb->uidvalidity = 0;
    rc = imap_cmd(mb, "SELECT", msg, sizeof(msg), "SELECT %s", buf_cstr(&folder));
    buf_free(&folder);
    if (rc != 0)
        return fail(err, errlen, "cannot select %s: %s", mb->o.url->folder, msg);
    mb->uidvalidity_changed = false;
    return 0;
}

/* move or delete the done messages in SET ("4,7,9") */
static int imap_remove(struct mailbox *mb, const char *set, char *err, size_t errlen)
{
    char msg[300];
    int rc;
    if (mb->o.move_to) {
        struct buf to = BUF_INIT;
        imap_quote(&to, mb->o.move_to);
        for (int attempt = 0; attempt < 2; attempt++) {
            rc = (mb->caps & IMAP_CAP_MOVE) ? imap_cmd(mb, "UID MOVE", msg, sizeof(msg), "UID MOVE %s %s", set, buf_cstr(&to))
                                            : imap_cmd(mb, "UID COPY", msg, sizeof(msg), "UID COPY %s %s", set, buf_cstr(&to));
            if (rc == 1 && attempt == 0 && strcmp(mb->code, "TRYCREATE") == 0) {
                if (imap_cmd(mb, "CREATE", msg, sizeof(msg), "CREATE %s", buf_cstr(&to)) != 0)
                    break;
                continue;
            }
            break;
        }
        buf_free(&to);
        if (rc != 0)
            return fail(err, errlen, "cannot move messages to %s: %s", mb->o.move_to, msg);
        if (mb->caps & IMAP_CAP_MOVE)
            return 0;
    }
    if (imap_cmd(mb, "UID STORE", msg, sizeof(msg), "UID STORE %s +FLAGS.SILENT (\\Deleted)", set) != 0)
        return fail(err, errlen, "cannot mark messages deleted: %s", msg);
    rc = (mb->caps & IMAP_CAP_UIDPLUS) ? imap_cmd(mb, "UID EXPUNGE", msg, sizeof(msg), "UID EXPUNGE %s", set)
                                       : imap_cmd(mb, "EXPUNGE", msg, sizeof(msg), "EXPUNGE");
    return rc != 0 ? fail(err, errlen, "cannot expunge: %s", msg) : 0;
}

static int imap_pass(struct mailbox *mb, mailbox_msg_fn fn, void *arg, unsigned *nread, unsigned *removed, char *err,
                     size_t errlen)
{
    char msg[300];
    if (imap_cmd(mb, "NOOP", msg, sizeof(msg), "NOOP") != 0)
        return fail(err, errlen, "NOOP: %s", msg);
    mb->new_mail = false;
    if (mb->exists == 0)
        return 0;
    uint32_t n = mb->exists < MAILBOX_PASS_MAX ? mb->exists : MAILBOX_PASS_MAX;
    bool more = mb->exists > MAILBOX_PASS_MAX;
    mb->items = xcalloc(MAILBOX_PASS_MAX, sizeof(*mb->items));
    mb->nitems = 0;
    int rc = imap_cmd(mb, "FETCH", msg, sizeof(msg), "FETCH 1:%u (UID RFC822.SIZE)", n);
    struct fetch_item *items = mb->items;
    size_t nitems = mb->nitems;
    mb->items = NULL;
    if (rc != 0) {
        xfree(items);
        return fail(err, errlen, "FETCH: %s", msg);
    }
    struct buf set = BUF_INIT;
    unsigned in_set = 0;
    int result = more ? 1 : 0;
    for (size_t i = 0; i < nitems && result >= 0; i++) {
        bool big = items[i].size > mb->o.max_size;
        mb->body_seen = false;
        rc = big ? imap_cmd(mb, "UID FETCH", msg, sizeof(msg), "UID FETCH %u (UID BODY.PEEK[]<0.%zu>)", items[i].uid,
                            mb->o.head_bytes)
                 : imap_cmd(mb, "UID FETCH", msg, sizeof(msg), "UID FETCH %u (UID BODY.PEEK[])", items[i].uid);
        if (rc != 0) {
            result = rc < 0 ? fail(err, errlen, "%s", msg) : fail(err, errlen, "UID FETCH %u: %s", items[i].uid, msg);
            break;
        }
        if (mb->uidvalidity_changed) {
            result = fail(err, errlen, "the folder's UIDVALIDITY changed: its messages are read again");
            break;
        }
        if (!mb->body_seen)
            continue;   /* gone meanwhile */
        struct mailbox_msg m = { .data = buf_cstr(&mb->body), .len = mb->body.len, .size = items[i].size,
                                 .too_large = big };
        snprintf(m.id, sizeof(m.id), "%u/%u", mb->uidvalidity, items[i].uid);
        (*nread)++;
        int x = fn(arg, &m);
        if (x < 0) {
            result = -2;
            break;
        }
        if (x == 0) {
            buf_appendf(&set, "%s%u", in_set ? "," : "", items[i].uid);
            if (++in_set == MAILBOX_REMOVE_GROUP) {
                if (imap_remove(mb, buf_cstr(&set), err, errlen) < 0) {
                    result = -1;
                    in_set = 0;
                    break;
                }
                *removed += in_set;
                buf_reset(&set);
                in_set = 0;
            }
        }
    }
    if (in_set > 0) {
        char err2[300];
        if (imap_remove(mb, buf_cstr(&set), result == -1 ? err2 : err, result == -1 ? sizeof(err2) : errlen) < 0) {
            if (result != -1)
                result = -1;
        } else {
            *removed += in_set;
        }
    }
    buf_free(&set);
    buf_free(&mb->body);
    xfree(items);
    return result;
}

/* mailbox_idle - see mailbox.h. */
int mailbox_idle(struct mailbox *mb, unsigned seconds, char *err, size_t errlen)
{
    char tag[16], w[256];
    if (!mailbox_can_idle(mb))
        return fail(err, errlen, "the server does not offer IDLE");
    if (mb->new_mail)
        return 1;
    snprintf(tag, sizeof(tag), "p%u", ++mb->tag);
    char cmd[32];
    snprintf(cmd, sizeof(cmd), "%s IDLE\r\n", tag);
    if (conn_write(mb, cmd, strlen(cmd), err, errlen) < 0)
        return -1;
    const char *line;
    size_t len;
    struct imap_resp r;
    char copy[MAILBOX_LINE_MAX + 1];
    for (;;) {   /* up to "+ idling" */
        if (conn_line(mb, &line, &len, err, errlen) < 0)
            return -1;
        memcpy(copy, line, len);
        copy[len] = 0;
        if (imap_resp_parse(copy, len, &r) < 0)
            return fail(err, errlen, "the server's answer to IDLE is not IMAP: %s", said(line, len, w, sizeof(w)));
        if (r.kind == IMAP_CONTINUE)
            break;
        if (r.kind == IMAP_TAGGED)
            return fail(err, errlen, "IDLE refused: %s", said(r.text, strlen(r.text), w, sizeof(w)));
        if (r.has_literal || imap_untagged(mb, &r, err, errlen) < 0)
            return -1;
    }
    struct timespec dl;
    deadline_in(&dl, seconds * 1000);
    int result = 0;
    mb->watch_stop = true;
    for (;;) {
        size_t avail = mb->in.len - mb->off;
        const char *nl = avail ? memchr(mb->in.data + mb->off, '\n', avail) : NULL;
        if (nl) {
            if (conn_line(mb, &line, &len, err, errlen) < 0) {
                result = -1;
                break;
            }
            memcpy(copy, line, len);
            copy[len] = 0;
            if (imap_resp_parse(copy, len, &r) < 0 || r.kind != IMAP_UNTAGGED || r.has_literal) {
                result = fail(err, errlen, "unexpected while idle: %s", said(line, len, w, sizeof(w)));
                break;
            }
            if (imap_untagged(mb, &r, err, errlen) < 0) {
                result = -1;
                break;
            }
            if (mb->new_mail) {
                result = 1;
                break;
            }
            continue;
        }
        if (avail > MAILBOX_LINE_MAX) {
            result = fail(err, errlen, "the server sent a line longer than %d bytes", MAILBOX_LINE_MAX);
            break;
        }
        int rc = conn_fill(mb, &dl, err, errlen);
        if (rc < 0) {
            result = -1;
            break;
        }
        if (rc == 1)
            break;
        if (rc == 2) {
            result = 2;
            break;
        }
    }
    mb->watch_stop = false;
    if (result < 0)
        return -1;
    if (conn_write(mb, "DONE\r\n", 6, err, errlen) < 0)
        return -1;
    for (;;) {
        if (conn_line(mb, &line, &len, err, errlen) < 0)
            return -1;
        memcpy(copy, line, len);
        copy[len] = 0;
        if (imap_resp_parse(copy, len, &r) < 0 || r.has_literal)
            return fail(err, errlen, "the server's answer to DONE is not IMAP: %s", said(line, len, w, sizeof(w)));
        if (r.kind == IMAP_TAGGED) {
            if (strcmp(r.tag, tag) != 0 || r.status != IMAP_OK)
                return fail(err, errlen, "IDLE ended badly: %s", said(r.text, strlen(r.text), w, sizeof(w)));
            break;
        }
        if (imap_untagged(mb, &r, err, errlen) < 0)
            return -1;
    }
    return result == 0 && mb->new_mail ? 1 : result;
}

/* ---- POP3 ---- */

/* send LINE (CRLF added) and read the status line: 1 +OK, 0 -ERR (its text in ERR), -1 error */
static int pop3_cmd(struct mailbox *mb, const char *show, const char *line, char *err, size_t errlen)
{
    struct buf cmd = BUF_INIT;
    char w[256];
    buf_appendf(&cmd, "%s\r\n", line);
    int rc = conn_write(mb, cmd.data, cmd.len, err, errlen);
    explicit_bzero(cmd.data, cmd.len);
    buf_free(&cmd);
    if (rc < 0)
        return -1;
    const char *l, *text;
    size_t len;
    if (conn_line(mb, &l, &len, err, errlen) < 0)
        return -1;
    rc = pop3_status_parse(l, len, &text);
    if (rc < 0)
        return fail(err, errlen, "the server's answer to %s is not POP3: %s", show, said(l, len, w, sizeof(w)));
    if (rc == 0)
        snprintf(err, errlen, "%s", said(text, len - (size_t)(text - l), w, sizeof(w)));
    return rc;
}

/*
 * read a multi-line response's data up to its final ".", unstuffed with CRLF
 * line ends, into OUT (at most KEEP bytes kept; NULL: dropped); *TOTAL the
 * bytes it had. A line longer than the line limit is taken in pieces.
 */
static int pop3_multiline(struct mailbox *mb, struct buf *out, size_t keep, uint64_t *total, char *err,
                          size_t errlen)
{
    struct timespec dl;
    bool line_start = true;
    *total = 0;
    deadline_in(&dl, mb->timeout_ms);
    for (;;) {
        const char *p = mb->in.data + mb->off;
        size_t avail = mb->in.len - mb->off;
        const char *nl = avail ? memchr(p, '\n', avail) : NULL;
        if (!nl && avail <= MAILBOX_LINE_MAX) {
            int rc = conn_fill(mb, &dl, err, errlen);
            if (rc < 0)
                return -1;
            if (rc == 1)
                return fail(err, errlen, "the server did not send the message within %u seconds", mb->o.timeout_s);
            if (rc == 0)
                deadline_in(&dl, mb->timeout_ms);
            continue;
        }
        size_t n = nl ? (size_t)(nl - p) + 1 : avail;
        const char *data = p;
        size_t dlen = n;
        mb->off += n;
        if (line_start && nl) {
            size_t ln = n - 1;
            if (ln > 0 && p[ln - 1] == '\r')
                ln--;
            if (pop3_unstuff(p, ln, &data, &dlen) == 1)
                return 0;
            dlen = (size_t)(nl + 1 - data);
        } else if (line_start && n > 0 && p[0] == '.') {
            data++;
            dlen--;
        }
        line_start = nl != NULL;
        *total += dlen;
        if (out && out->len < keep)
            buf_append(out, data, dlen < keep - out->len ? dlen : keep - out->len);
    }
}

static int pop3_open(struct mailbox *mb, char *err, size_t errlen)
{
    const char *l, *text;
    size_t len;
    char w[256], msg[300];
    if (conn_line(mb, &l, &len, err, errlen) < 0)
        return -1;
    if (pop3_status_parse(l, len, &text) != 1)
        return fail(err, errlen, "not a POP3 server's greeting: %s", said(l, len, w, sizeof(w)));
    if (!mb->o.url->implicit_tls) {
        int rc = pop3_cmd(mb, "STLS", "STLS", msg, sizeof(msg));
        if (rc != 1)
            return fail(err, errlen, "STLS refused (and the password is never sent in clear): %s", msg);
        if (conn_tls(mb, err, errlen) < 0)
            return -1;
    }
    if (strpbrk(mb->o.url->user, "\r\n") || strpbrk(mb->o.password, "\r\n"))
        return fail(err, errlen, "the user or the password has a line break");
    char *cmd = xasprintf("USER %s", mb->o.url->user);
    int rc = pop3_cmd(mb, "USER", cmd, msg, sizeof(msg));
    xfree(cmd);
    if (rc == 1) {
        cmd = xasprintf("PASS %s", mb->o.password);
        rc = pop3_cmd(mb, "PASS", cmd, msg, sizeof(msg));
        explicit_bzero(cmd, strlen(cmd));
        xfree(cmd);
    }
    if (rc != 1)
        return rc < 0 ? fail(err, errlen, "%s", msg) : fail(err, errlen, "login refused: %s", msg);
    return 0;
}

struct pop3_item {
    uint32_t n;
    char uidl[72];
    uint64_t size;
};

/* a listing (UIDL or LIST) into ITEMS: UIDL fills them, LIST their sizes */
static int pop3_listing(struct mailbox *mb, bool uidl, struct pop3_item *items, size_t *nitems, char *err,
                        size_t errlen)
{
    char msg[300];
    int rc = pop3_cmd(mb, uidl ? "UIDL" : "LIST", uidl ? "UIDL" : "LIST", msg, sizeof(msg));
    if (rc != 1)
        return rc < 0 ? fail(err, errlen, "%s", msg) : fail(err, errlen, "%s refused: %s", uidl ? "UIDL" : "LIST", msg);
    for (;;) {
        const char *l, *data;
        size_t len, dlen;
        if (conn_line(mb, &l, &len, err, errlen) < 0)
            return -1;
        if (pop3_unstuff(l, len, &data, &dlen) == 1)
            return 0;
        uint32_t n;
        char word[72];
        if (pop3_pair_parse(data, dlen, &n, word, sizeof(word)) < 0)
            return fail(err, errlen, "the server's %s listing has a line postino cannot read", uidl ? "UIDL" : "LIST");
        if (uidl) {
            if (*nitems < MAILBOX_PASS_MAX) {
                items[*nitems].n = n;
                snprintf(items[*nitems].uidl, sizeof(items[*nitems].uidl), "%s", word);
                items[*nitems].size = UINT64_MAX;
                (*nitems)++;
            }
        } else {
            long v;
            if (str_parse_long(word, 0, LONG_MAX, &v) == 0)
                for (size_t i = 0; i < *nitems; i++)
                    if (items[i].n == n)
                        items[i].size = (uint64_t)v;
        }
    }
}

static int pop3_pass(struct mailbox *mb, mailbox_msg_fn fn, void *arg, unsigned *nread, unsigned *removed, char *err,
                     size_t errlen)
{
    char msg[300], cmd[64];
    if (mb->closed)
        return fail(err, errlen, "a POP3 session reads its mailbox once");
    struct pop3_item *items = xcalloc(MAILBOX_PASS_MAX, sizeof(*items));
    size_t nitems = 0;
    int result = 0;
    if (pop3_listing(mb, true, items, &nitems, err, errlen) < 0 ||
        pop3_listing(mb, false, items, &nitems, err, errlen) < 0) {
        xfree(items);
        return -1;
    }
    if (nitems == MAILBOX_PASS_MAX)
        result = 1;
    unsigned marked = 0;
    for (size_t i = 0; i < nitems; i++) {
        snprintf(cmd, sizeof(cmd), "RETR %u", items[i].n);
        int rc = pop3_cmd(mb, "RETR", cmd, msg, sizeof(msg));
        if (rc == 0)
            continue;   /* gone meanwhile */
        if (rc < 0) {
            snprintf(err, errlen, "%s", msg);
            result = -1;
            break;
        }
        bool big = items[i].size > mb->o.max_size;
        uint64_t total;
        buf_reset(&mb->body);
        if (pop3_multiline(mb, &mb->body, big ? mb->o.head_bytes : mb->o.max_size, &total, err, errlen) < 0) {
            result = -1;
            break;
        }
        big = big || total > mb->o.max_size;
        struct mailbox_msg m = { .data = buf_cstr(&mb->body), .len = mb->body.len,
                                 .size = items[i].size == UINT64_MAX ? total : items[i].size, .too_large = big };
        if (big && m.len > mb->o.head_bytes)
            m.len = mb->o.head_bytes;
        snprintf(m.id, sizeof(m.id), "%s", items[i].uidl);
        (*nread)++;
        int x = fn(arg, &m);
        if (x < 0) {
            result = -2;
            break;
        }
        if (x == 0) {
            snprintf(cmd, sizeof(cmd), "DELE %u", items[i].n);
            if ((rc = pop3_cmd(mb, "DELE", cmd, msg, sizeof(msg))) != 1) {
                result = rc < 0 ? fail(err, errlen, "%s", msg) : fail(err, errlen, "DELE refused: %s", msg);
                break;
            }
            marked++;
        }
    }
    xfree(items);
    buf_free(&mb->body);
    if (result == -1)
        return -1;
    /* the deletions take effect at QUIT, after every row they follow was committed */
    int rc = pop3_cmd(mb, "QUIT", "QUIT", msg, sizeof(msg));
    mb->closed = true;
    if (rc != 1)
        return rc < 0 ? fail(err, errlen, "QUIT: %s", msg) : fail(err, errlen, "QUIT refused: %s", msg);
    *removed += marked;
    return result;
}

/* ---- both ---- */

static struct mailbox *mailbox_new(const struct mailbox_opts *o)
{
    struct mailbox *mb = xcalloc(1, sizeof(*mb));
    mb->o = *o;
    mb->fd = -1;
    if (!mb->o.timeout_s)
        mb->o.timeout_s = 60;
    mb->timeout_ms = mb->o.timeout_s * 1000;
    if (!mb->o.head_bytes || mb->o.head_bytes > mb->o.max_size)
        mb->o.head_bytes = mb->o.max_size;
    return mb;
}

static struct mailbox *mailbox_greet(struct mailbox *mb, int rc, char *err, size_t errlen)
{
    if (rc == 0)
        rc = mb->o.url->proto == MAILBOX_IMAP ? imap_open(mb, err, errlen) : pop3_open(mb, err, errlen);
    if (rc < 0) {
        mb->closed = true;
        mailbox_close(mb);
        return NULL;
    }
    return mb;
}

/* mailbox_open - see mailbox.h. */
struct mailbox *mailbox_open(const struct mailbox_opts *o, char *err, size_t errlen)
{
    struct mailbox *mb = mailbox_new(o);
    char why[300];
    mb->ctx = tls_ctx_new(o->ca_file, why, sizeof(why));
    int rc = mb->ctx ? conn_connect(mb, err, errlen) : fail(err, errlen, "%s", why);
    if (rc == 0 && o->url->implicit_tls)
        rc = conn_tls(mb, err, errlen);
    return mailbox_greet(mb, rc, err, errlen);
}

/* mailbox__open_fd - see mailbox.h. */
struct mailbox *mailbox__open_fd(const struct mailbox_opts *o, int fd, unsigned timeout_ms, char *err, size_t errlen)
{
    struct mailbox *mb = mailbox_new(o);
    mb->fd = fd;
    mb->timeout_ms = timeout_ms;
    return mailbox_greet(mb, 0, err, errlen);
}

/* mailbox_pass - see mailbox.h. */
int mailbox_pass(struct mailbox *mb, mailbox_msg_fn fn, void *arg, unsigned *nread, unsigned *removed, char *err,
                 size_t errlen)
{
    *nread = *removed = 0;
    return mb->o.url->proto == MAILBOX_IMAP ? imap_pass(mb, fn, arg, nread, removed, err, errlen)
                                            : pop3_pass(mb, fn, arg, nread, removed, err, errlen);
}

/* mailbox_can_idle - see mailbox.h. */
bool mailbox_can_idle(const struct mailbox *mb)
{
    return mb->o.url->proto == MAILBOX_IMAP && (mb->caps & IMAP_CAP_IDLE);
}

/* mailbox_uidvalidity - see mailbox.h. */
uint32_t mailbox_uidvalidity(const struct mailbox *mb)
{
    return mb->uidvalidity;
}

/* mailbox_close - see mailbox.h. */
void mailbox_close(struct mailbox *mb)
{
    if (!mb)
        return;
    if (!mb->closed && mb->fd >= 0) {
        char msg[300];
        mb->timeout_ms = mb->timeout_ms < 5000 ? mb->timeout_ms : 5000;
        if (mb->o.url->proto == MAILBOX_IMAP)
            imap_cmd(mb, "LOGOUT", msg, sizeof(msg), "LOGOUT");
        /* POP3 without its pass: no QUIT, so that nothing marked is removed */
    }
    if (mb->tls) {
        tls_conn_shutdown(mb->tls);
        buf_reset(&mb->out);
        tls_conn_output(mb->tls, &mb->out);
        if (mb->out.len && mb->fd >= 0)
            (void)!send(mb->fd, mb->out.data, mb->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
        tls_conn_free(mb->tls);
    }
    if (mb->fd >= 0)
        close(mb->fd);
    if (mb->ctx)
        tls_ctx_free(mb->ctx);
    buf_free(&mb->in);
    buf_free(&mb->raw);
    buf_free(&mb->out);
    buf_free(&mb->body);
    xfree(mb->items);
    xfree(mb);
}
