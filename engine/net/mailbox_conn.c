/*
 * mailbox_conn - the mailbox client's connection: one socket read with poll()
 * so that every wait is bounded, TLS through tls.c's memory BIOs (the same
 * verification as the SMTP client), lines and literals taken from what was
 * read (see mailbox_int.h).
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine/net/mailbox_int.h"
#include "engine/util/alloc.h"

/* mailbox__fail - see mailbox_int.h. */
int mailbox__fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* the server's words, printable and short, for an error line */
const char *mailbox__said(const char *s, size_t len, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < outlen && o < 200; i++)
        out[o++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    out[o] = 0;
    return out;
}

int mailbox__ms_left(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ms = (deadline->tv_sec - now.tv_sec) * 1000LL + (deadline->tv_nsec - now.tv_nsec) / 1000000LL;
    return ms < 0 ? 0 : ms > 86400000 ? 86400000 : (int)ms;
}

void mailbox__deadline(struct timespec *d, unsigned ms)
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
    mailbox__deadline(&dl, mb->timeout_ms);
    while (len > 0) {
        ssize_t n = send(mb->fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return mailbox__fail(err, errlen, "cannot write to the server: %s", strerror(errno));
        struct pollfd pf = { mb->fd, POLLOUT, 0 };
        int left = mailbox__ms_left(&dl);
        if (left == 0 || poll(&pf, 1, left) == 0)
            return mailbox__fail(err, errlen, "the server did not take what was sent within %u seconds", mb->o.timeout_s);
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
int mailbox__write(struct mailbox *mb, const char *p, size_t len, char *err, size_t errlen)
{
    if (!mb->tls)
        return sock_write_all(mb, p, len, err, errlen);
    if (tls_conn_write(mb->tls, p, len) < 0)
        return mailbox__fail(err, errlen, "%s", tls_conn_error(mb->tls));
    return flush_tls(mb, err, errlen);
}

/*
 * read what the socket has into the plaintext buffer, waiting until DEADLINE:
 * 0 something (maybe nothing decrypted yet), 1 timed out, 2 stop_fd readable, -1 with ERR
 */
int mailbox__fill(struct mailbox *mb, const struct timespec *deadline, char *err, size_t errlen)
{
    struct pollfd pf[2] = { { mb->fd, POLLIN, 0 }, { mb->o.stop_fd, POLLIN, 0 } };
    nfds_t n = mb->watch_stop && mb->o.stop_fd >= 0 ? 2 : 1;
    int left = mailbox__ms_left(deadline);
    int rc = poll(pf, n, left);
    if (rc < 0 && errno == EINTR)
        return 0;
    if (rc < 0)
        return mailbox__fail(err, errlen, "poll: %s", strerror(errno));
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
        return mailbox__fail(err, errlen, "cannot read from the server: %s", strerror(errno));
    if (got == 0)
        return mailbox__fail(err, errlen, "the server closed the connection");
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
        return mailbox__fail(err, errlen, "%s", tls_conn_error(mb->tls));
    return flush_tls(mb, err, errlen);
}

/* the next line (without CRLF) into *LINE, *LEN: 0, or -1 with ERR (a line longer than the limit is refused) */
int mailbox__line(struct mailbox *mb, const char **line, size_t *len, char *err, size_t errlen)
{
    struct timespec dl;
    mailbox__deadline(&dl, mb->timeout_ms);
    for (;;) {
        const char *p = mb->in.data + mb->off;
        size_t avail = mb->in.len - mb->off;
        const char *nl = avail ? memchr(p, '\n', avail) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - p);
            if (n > MAILBOX_LINE_MAX)
                return mailbox__fail(err, errlen, "the server sent a line longer than %d bytes", MAILBOX_LINE_MAX);
            mb->off += n + 1;
            if (n > 0 && p[n - 1] == '\r')
                n--;
            *line = p;
            *len = n;
            return 0;
        }
        if (avail > MAILBOX_LINE_MAX)
            return mailbox__fail(err, errlen, "the server sent a line longer than %d bytes", MAILBOX_LINE_MAX);
        int rc = mailbox__fill(mb, &dl, err, errlen);
        if (rc < 0)
            return -1;
        if (rc == 1)
            return mailbox__fail(err, errlen, "the server did not answer within %u seconds", mb->o.timeout_s);
        if (rc == 2)
            return mailbox__fail(err, errlen, "stopped");
    }
}

/* read N bytes, appending the first KEEP of them to OUT (NULL: none kept) */
int mailbox__bytes(struct mailbox *mb, uint64_t n, struct buf *out, size_t keep, char *err, size_t errlen)
{
    struct timespec dl;
    mailbox__deadline(&dl, mb->timeout_ms);
    uint64_t kept = 0;
    while (n > 0) {
        size_t avail = mb->in.len - mb->off;
        if (avail == 0) {
            int rc = mailbox__fill(mb, &dl, err, errlen);
            if (rc < 0)
                return -1;
            if (rc == 1)
                return mailbox__fail(err, errlen, "the server did not send the message within %u seconds", mb->o.timeout_s);
            if (rc == 0)
                mailbox__deadline(&dl, mb->timeout_ms);
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
int mailbox__tls(struct mailbox *mb, char *err, size_t errlen)
{
    if (mb->off != mb->in.len)
        return mailbox__fail(err, errlen, "the server sent data before the TLS handshake");
    mb->tls = tls_conn_new(mb->ctx, mb->o.url->host, true);
    if (!mb->tls)
        return mailbox__fail(err, errlen, "cannot start TLS for %s", mb->o.url->host);
    struct timespec dl;
    mailbox__deadline(&dl, mb->timeout_ms);
    for (;;) {
        int hs = tls_conn_handshake(mb->tls);
        if (flush_tls(mb, err, errlen) < 0)
            return -1;
        if (hs == 1)
            break;
        if (hs < 0)
            return mailbox__fail(err, errlen, "TLS with %s: %s", mb->o.url->host, tls_conn_error(mb->tls));
        struct pollfd pf = { mb->fd, POLLIN, 0 };
        int left = mailbox__ms_left(&dl);
        if (left == 0 || poll(&pf, 1, left) == 0)
            return mailbox__fail(err, errlen, "TLS with %s: no answer within %u seconds", mb->o.url->host, mb->o.timeout_s);
        char chunk[16384];
        ssize_t got = recv(mb->fd, chunk, sizeof(chunk), 0);
        if (got <= 0)
            return mailbox__fail(err, errlen, "TLS with %s: the connection closed", mb->o.url->host);
        if (tls_conn_feed(mb->tls, chunk, (size_t)got) < 0)
            return mailbox__fail(err, errlen, "%s", tls_conn_error(mb->tls));
    }
    buf_reset(&mb->in);
    mb->off = 0;
    return tls_conn_read(mb->tls, &mb->in) < 0 ? mailbox__fail(err, errlen, "%s", tls_conn_error(mb->tls)) : 0;
}

int mailbox__connect(struct mailbox *mb, char *err, size_t errlen)
{
    struct addrinfo hints = { 0 }, *res = NULL;
    char port[16];
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%u", mb->o.url->port);
    int rc = getaddrinfo(mb->o.url->host, port, &hints, &res);
    if (rc != 0)
        return mailbox__fail(err, errlen, "cannot resolve %s: %s", mb->o.url->host, gai_strerror(rc));
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
    return mailbox__fail(err, errlen, "cannot connect to %s port %u: %s", mb->o.url->host, mb->o.url->port,
                strerror(last ? last : ECONNREFUSED));
}
